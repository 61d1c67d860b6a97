// Progressive enhancement: "Reply" opens a form under the comment instead of
// leading to the reply page. Without JavaScript the link still works.
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var link = event.target.closest("a.reply-link");
    if (!link) return;
    var template = document.querySelector(".discussion > form.comment-form");
    if (!template) return; // not logged in: follow the link to log in
    event.preventDefault();
    var article = link.closest("article.comment");
    var existing = article.parentNode.querySelector(":scope > form.comment-form--inline");
    if (existing) {
      existing.querySelector("textarea").focus();
      return;
    }
    var form = template.cloneNode(true);
    form.classList.add("comment-form--inline");
    form.removeAttribute("id");
    form.action = link.href;
    form.querySelectorAll(".form-errors").forEach(function (node) { node.remove(); });
    var legend = form.querySelector("legend");
    if (legend) legend.textContent = "Your reply";
    var textarea = form.querySelector("textarea");
    var id = "reply-body-" + link.dataset.comment;
    textarea.id = id;
    textarea.value = "";
    var label = form.querySelector("label");
    if (label) label.htmlFor = id;
    var cancel = document.createElement("button");
    cancel.type = "button";
    cancel.className = "link-button";
    cancel.textContent = "Cancel";
    cancel.addEventListener("click", function () { form.remove(); link.focus(); });
    form.querySelector("button[type=submit]").after(cancel);
    form.querySelector("button[type=submit]").textContent = "Post reply";
    article.after(form);
    textarea.focus();
  });
})();
