// Progressive enhancement: a live character count under each comment box
// (textarea[data-max-length]). The box has no maxlength, so a long paste stays
// whole; past the limit the count turns into a warning, and the server refuses
// the text with a message saying by how much, keeping it in the box.
// Boxes added later (thread.js clones the form for inline replies) count too:
// everything hangs on document-level events.
(function () {
  "use strict";
  var BOXES = "textarea[data-max-length]";
  // Screen readers hear the count once typing pauses, not at every key.
  var ANNOUNCE_AFTER_MS = 1000;
  // "10,240": digits grouped by hand, because the first Intl.NumberFormat of a
  // page loads the locale data, a 25-30 ms task (110 ms on Lighthouse's
  // throttled phone) on every page, form or not.
  var number = {
    format: function (value) {
      return String(value).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    },
  };
  var timers = new WeakMap();

  // Count as forum/services.py does: a line break is one character, leading
  // and trailing white space none, and characters are code points.
  function length(text) {
    return Array.from(text.replace(/\r\n?/g, "\n").trim()).length;
  }

  // The count is "<box id>_count", named in the box's aria-describedby; a
  // count cloned with its form is taken over and renamed after its box.
  function partsOf(box) {
    var count = box.form.querySelector(".char-count");
    if (!count) {
      count = document.createElement("p");
      count.className = "char-count";
      var live = document.createElement("p");
      live.className = "visually-hidden char-count__live";
      live.setAttribute("aria-live", "polite");
      box.after(count, live);
    }
    var id = box.id + "_count";
    if (count.id !== id) {
      var old = count.id;
      var names = (box.getAttribute("aria-describedby") || "")
        .split(/\s+/)
        .filter(function (name) { return name && name !== old && name !== id; });
      count.id = id;
      names.push(id);
      box.setAttribute("aria-describedby", names.join(" "));
    }
    return { count: count, live: box.form.querySelector(".char-count__live") };
  }

  function update(box, announce) {
    var parts = partsOf(box);
    var limit = Number(box.dataset.maxLength);
    var used = length(box.value);
    var over = used - limit;
    var tail = over > 0 ? ": " + number.format(over) + " too many" : "";
    parts.count.textContent =
      number.format(used) + " / " + number.format(limit) + " characters" + tail;
    parts.count.classList.toggle("char-count--over", over > 0);
    if (!announce || !parts.live) return;
    clearTimeout(timers.get(box));
    timers.set(box, setTimeout(function () {
      parts.live.textContent =
        number.format(used) + " of " + number.format(limit) + " characters" + tail;
    }, ANNOUNCE_AFTER_MS));
  }

  function isBox(node) {
    return node instanceof HTMLTextAreaElement && node.matches(BOXES) && node.form;
  }

  document.addEventListener("input", function (event) {
    if (isBox(event.target)) update(event.target, true);
  });
  // A cloned box arrives emptied, with its model's count; thread.js focuses it.
  document.addEventListener("focusin", function (event) {
    if (isBox(event.target)) update(event.target, false);
  });
  document.querySelectorAll(BOXES).forEach(function (box) {
    if (isBox(box)) update(box, false);
  });
})();
