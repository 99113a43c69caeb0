/* The conversation page: the composer's per-platform character counter
   (a warning past the channel's limit, and no sending until it is short
   enough; the server refuses it too), and the shortcuts r (reply) and n
   (note). Fields that take a shortcut carry data-shortcut and
   data-shortcut-label, which the "?" overlay lists. Loaded with defer; no
   inline script (strict CSP). */
(function () {
  "use strict";

  /* Characters as the server counts them: code points, line breaks as one, ends trimmed. */
  function length(text) {
    return Array.from(text.replace(/\r\n/g, "\n").trim()).length;
  }

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (all, name) {
      return Object.prototype.hasOwnProperty.call(values, name) ? String(values[name]) : all;
    });
  }

  var composer = document.querySelector("textarea[data-composer][data-limit]");
  var counter = document.getElementById("reply-counter");
  if (composer && counter) {
    var limit = parseInt(composer.getAttribute("data-limit"), 10);
    var update = function () {
      var count = length(composer.value);
      var over = count - limit;
      var template = counter.getAttribute(over > 0 ? "data-over-template" : "data-template");
      counter.textContent = fill(template, { count: count, limit: limit, over: over });
      counter.classList.toggle("over", over > 0);
      counter.classList.toggle("near", over <= 0 && count >= limit * 0.9);
      composer.setAttribute("aria-invalid", over > 0 ? "true" : "false");
    };
    composer.addEventListener("input", update);
    update();
    var form = composer.form;
    if (form) {
      form.addEventListener("submit", function (event) {
        if (length(composer.value) > limit) {
          event.preventDefault();
          update();
          counter.setAttribute("role", "alert");
          composer.focus();
        }
      });
    }
  }

  function isTyping(element) {
    if (!element) { return false; }
    var tag = element.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || element.isContentEditable;
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || event.defaultPrevented || isTyping(event.target)) {
      return;
    }
    if (event.key !== "r" && event.key !== "n") { return; }
    if (document.querySelector("dialog[open]")) { return; }  // an open dialog (the "?" help) has the keyboard
    var field = document.querySelector("[data-shortcut='" + event.key + "']");
    if (!field || field.disabled) { return; }
    event.preventDefault();
    field.scrollIntoView({ block: "center" });
    field.focus();
  });
})();
