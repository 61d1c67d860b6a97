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
    // What describes the box (help text, character count) has the id
    // "<box id>_<part>": rename it with the box, which is described by what is
    // left (the errors were removed above).
    var described = [];
    form.querySelectorAll("[id^='" + textarea.id + "_']").forEach(function (node) {
      node.id = id + node.id.slice(textarea.id.length);
      described.push(node.id);
    });
    textarea.setAttribute("aria-describedby", described.join(" "));
    textarea.removeAttribute("aria-invalid");
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

// The viewer's own controls. Pages are assembled from fragments stored for any
// reader; the server lists (in #thread-controls) which comments this viewer may
// edit or delete and, for moderators, which actions each comment state offers.
// Without JavaScript, each comment's own page (its timestamp link) has them all.
(function () {
  "use strict";

  function readControls(root) {
    var node = root.querySelector("#thread-controls");
    return node ? JSON.parse(node.textContent) : null;
  }

  function addLink(footer, href, label, extraClass) {
    var link = document.createElement("a");
    link.className = "comment__action" + (extraClass ? " " + extraClass : "");
    link.href = href;
    link.textContent = label;
    footer.appendChild(link);
  }

  function decorate(scope, controls) {
    if (!controls) return;
    var edit = new Set(controls.edit || []);
    var del = new Set(controls["delete"] || []);
    var exclude = new Set(controls.exclude || []);
    scope.querySelectorAll("article.comment[data-comment]").forEach(function (article) {
      if (article.dataset.decorated) return;
      article.dataset.decorated = "1";
      var pk = Number(article.dataset.comment);
      var footer = article.querySelector(".comment__actions");
      var permalink = article.querySelector("a.comment__time");
      if (!footer || !permalink || exclude.has(pk)) return;
      var base = permalink.getAttribute("href");
      if (edit.has(pk)) addLink(footer, base + "edit/", "Edit");
      if (del.has(pk)) {
        addLink(footer, base + "delete/", "Delete");
        // One's own comment: nothing to report.
        var report = footer.querySelector('a[href$="/report/"]');
        if (report) report.remove();
      }
      var actions = controls.moderate && controls.moderate[article.dataset.mod];
      (actions || []).forEach(function (action) {
        addLink(footer, base + action[0] + "/", action[1], "comment__action--mod");
      });
    });
  }

  // "Show N more replies": load them in place from the parent's own page.
  document.addEventListener("click", function (event) {
    var link = event.target.closest("a.thread__more-link");
    if (!link) return;
    event.preventDefault();
    var item = link.closest("li");
    link.setAttribute("aria-busy", "true");
    fetch(link.href, { credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) throw new Error(response.status);
        return response.text();
      })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        var list = doc.querySelector(
          "#comment-" + link.dataset.parent + " > details > ol.replies");
        if (!list) throw new Error("no replies");
        var added = Array.prototype.slice.call(list.children);
        added.forEach(function (child) {
          item.parentNode.insertBefore(document.importNode(child, true), item);
        });
        decorate(item.parentNode, readControls(doc));
        var first = added.length && document.getElementById(added[0].id);
        item.remove();
        if (first) {
          var focusable = first.querySelector("a.comment__time");
          if (focusable) focusable.focus();
        }
      })
      .catch(function () { window.location.href = link.href; });
  });

  // Links to #comment-N from before pagination: if that comment is not on this
  // page, ask the server for the page that holds it.
  function followOldAnchor() {
    var match = /^#comment-(\d+)$/.exec(window.location.hash);
    if (!match || document.getElementById("comment-" + match[1])) return;
    if (!document.getElementById("comments")) return;
    var params = new URLSearchParams(window.location.search);
    if (params.get("comment") === match[1]) return;
    params.set("comment", match[1]);
    params.delete("page");
    window.location.replace(window.location.pathname + "?" + params + window.location.hash);
  }

  function start() {
    decorate(document, readControls(document));
    followOldAnchor();
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
