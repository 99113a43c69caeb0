/* Inbox keyboard shortcuts (j/k move, Enter open, e resolve, a assign to me),
   saved-reply insertion and the "replying" presence state. Loaded with
   defer; no inline script anywhere (strict CSP). */
(function () {
  "use strict";

  function rows() {
    return Array.prototype.slice.call(document.querySelectorAll("[data-row]"));
  }

  var selected = -1;
  (function initSelection() {
    var all = rows();
    for (var i = 0; i < all.length; i++) {
      if (all[i].classList.contains("current")) { selected = i; }
    }
  })();

  function select(index) {
    var all = rows();
    if (!all.length) { return; }
    index = Math.max(0, Math.min(all.length - 1, index));
    all.forEach(function (row) { row.classList.remove("selected"); });
    selected = index;
    var row = all[index];
    row.classList.add("selected");
    var link = row.querySelector("a");
    if (link) { link.focus({ preventScroll: true }); }
    row.scrollIntoView({ block: "nearest" });
  }

  /* The row picked with j/k, or else the conversation on screen. */
  function target() {
    var all = rows();
    var focusedRow = document.activeElement && document.activeElement.closest ? document.activeElement.closest("[data-row]") : null;
    if (focusedRow) { return focusedRow; }
    if (selected >= 0 && all[selected] && all[selected].classList.contains("selected")) { return all[selected]; }
    return document.querySelector("article[data-conversation]") || (selected >= 0 ? all[selected] : null);
  }

  function post(url, status) {
    var form = document.getElementById("inbox-kbd-form");
    if (!form || !url) { return; }
    form.action = url;
    form.querySelector("input[name=status]").value = status || "resolved";
    form.querySelector("input[name=next]").value = window.location.pathname + window.location.search;
    form.submit();
  }

  function isTyping(element) {
    if (!element) { return false; }
    var tag = element.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || element.isContentEditable;
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || isTyping(event.target)) { return; }
    var key = event.key;
    if (key === "j") { event.preventDefault(); select(selected + 1); }
    else if (key === "k") { event.preventDefault(); select(selected < 0 ? 0 : selected - 1); }
    else if (key === "e") {
      var t = target();
      if (t) { event.preventDefault(); post(t.getAttribute("data-status-url"), "resolved"); }
    } else if (key === "a") {
      var c = target();
      if (c) { event.preventDefault(); post(c.getAttribute("data-claim-url")); }
    }
  });

  /* Saved replies: "Insert" copies the saved text into the composer; without
     JavaScript the same button reloads the page with ?saved=<id>. */
  function composer() { return document.querySelector("textarea[data-composer]"); }

  document.querySelectorAll("form[data-saved-pick]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      var select = form.querySelector("select[name=saved]");
      var textarea = composer();
      var option = select && select.options[select.selectedIndex];
      if (!option || !textarea) { return; }
      event.preventDefault();
      var text = option.getAttribute("data-body") || "";
      var start = textarea.selectionStart, end = textarea.selectionEnd;
      if (textarea.value && typeof start === "number" && textarea === document.activeElement) {
        textarea.value = textarea.value.slice(0, start) + text + textarea.value.slice(end);
      } else if (textarea.value.trim()) {
        textarea.value = textarea.value.replace(/\s*$/, "") + "\n\n" + text;
      } else {
        textarea.value = text;
      }
      textarea.dispatchEvent(new Event("input", { bubbles: true }));
      textarea.focus();
    });
  });

  /* Presence: say "replying" while the composer has focus or holds text. */
  var replying = false;
  document.addEventListener("focusin", function (event) {
    if (event.target.matches && event.target.matches("textarea[data-composer]")) { replying = true; }
  });
  document.addEventListener("focusout", function (event) {
    if (event.target.matches && event.target.matches("textarea[data-composer]")) {
      replying = !!event.target.value.trim();
    }
  });
  document.body.addEventListener("htmx:configRequest", function (event) {
    if (event.detail.elt && event.detail.elt.id === "presence" && replying) {
      event.detail.parameters.state = "replying";
    }
  });
})();
