/* The inbox list: keyboard shortcuts (j/k move, Enter open, x select,
   e resolve, a assign to me, ? the shortcut overlay), the bulk bar, the
   live list (HTMX polling with If-None-Match; the state a person has in the
   list survives each update), saved-reply insertion and the "replying"
   presence state. Loaded with defer; no inline script anywhere (strict CSP). */
(function () {
  "use strict";

  function rows() {
    return Array.prototype.slice.call(document.querySelectorAll("[data-row]"));
  }

  function rowId(row) { return row ? row.getAttribute("data-conversation") : null; }

  function rowById(id) {
    return id ? document.querySelector("[data-row][data-conversation='" + id + "']") : null;
  }

  /* --- the cursor (j/k), kept by conversation id so a live update keeps it --- */

  var selectedId = null;
  (function initSelection() {
    var current = document.querySelector("[data-row].current");
    if (current) { selectedId = rowId(current); }
  })();

  function indexOfSelected() {
    var all = rows();
    for (var i = 0; i < all.length; i++) { if (rowId(all[i]) === selectedId) { return i; } }
    return -1;
  }

  function select(index, focus) {
    var all = rows();
    if (!all.length) { return; }
    index = Math.max(0, Math.min(all.length - 1, index));
    all.forEach(function (row) { row.classList.remove("selected"); });
    var row = all[index];
    selectedId = rowId(row);
    row.classList.add("selected");
    if (focus !== false) {
      var link = row.querySelector("a");
      if (link) { link.focus({ preventScroll: true }); }
      row.scrollIntoView({ block: "nearest" });
    }
  }

  /* The row under the cursor, or else the conversation on screen. */
  function target() {
    var focusedRow = document.activeElement && document.activeElement.closest ?
      document.activeElement.closest("[data-row]") : null;
    if (focusedRow) { return focusedRow; }
    var row = rowById(selectedId);
    if (row && row.classList.contains("selected")) { return row; }
    return document.querySelector("article[data-conversation]") || row;
  }

  function post(url, status) {
    var form = document.getElementById("inbox-kbd-form");
    if (!form || !url) { return; }
    form.action = url;
    form.querySelector("input[name=status]").value = status || "resolved";
    form.querySelector("input[name=next]").value = window.location.pathname + window.location.search;
    form.submit();
  }

  var NOT_TYPED = ["checkbox", "radio", "button", "submit", "reset"];

  /* A field that takes keys; a box or a button does not (x, e, ? keep working after a click on a box). */
  function isTyping(element) {
    if (!element) { return false; }
    var tag = element.tagName;
    if (tag === "INPUT") { return NOT_TYPED.indexOf((element.type || "").toLowerCase()) < 0; }
    return tag === "TEXTAREA" || tag === "SELECT" || element.isContentEditable;
  }

  /* --- selection for the bulk bar: a set of ids, the boxes follow it --- */

  var picked = new Set();
  var lastPicked = null;
  var bulkForm = document.getElementById("bulk-form");

  function boxes() {
    return Array.prototype.slice.call(document.querySelectorAll("input.pick[form=bulk-form]"));
  }

  function syncBoxes() {
    var present = new Set();
    boxes().forEach(function (box) {
      present.add(box.value);
      box.checked = picked.has(box.value);
      var row = box.closest("[data-row]");
      if (row) { row.classList.toggle("picked", box.checked); }
    });
    // A conversation that left the list (resolved or moved by someone else) is no longer acted on.
    picked.forEach(function (id) { if (!present.has(id)) { picked.delete(id); } });
    updateBulkBar();
  }

  function updateBulkBar() {
    if (!bulkForm) { return; }
    var count = bulkForm.querySelector("[data-bulk-count]");
    if (count) {
      count.textContent = picked.size ?
        count.getAttribute("data-some-text").replace("%(n)s", String(picked.size)) :
        count.getAttribute("data-empty-text");
    }
    bulkForm.classList.toggle("has-picked", picked.size > 0);
    var all = bulkForm.querySelector("[data-pick-all]");
    if (all) {
      var total = boxes().length;
      all.checked = total > 0 && picked.size === total;
      all.indeterminate = picked.size > 0 && picked.size < total;
    }
  }

  function setPicked(id, on) {
    if (on) { picked.add(id); } else { picked.delete(id); }
  }

  function toggleRow(row) {
    var id = rowId(row);
    if (!id) { return; }
    setPicked(id, !picked.has(id));
    lastPicked = id;
    syncBoxes();
  }

  document.addEventListener("click", function (event) {
    var box = event.target.closest ? event.target.closest("input.pick[form=bulk-form]") : null;
    if (!box) { return; }
    var ids = boxes().map(function (b) { return b.value; });
    if (event.shiftKey && lastPicked !== null && ids.indexOf(lastPicked) >= 0) {
      var from = ids.indexOf(lastPicked), to = ids.indexOf(box.value);
      var lo = Math.min(from, to), hi = Math.max(from, to);
      for (var i = lo; i <= hi; i++) { setPicked(ids[i], box.checked); }
    } else {
      setPicked(box.value, box.checked);
    }
    lastPicked = box.value;
    syncBoxes();
  });

  if (bulkForm) {
    bulkForm.classList.add("js-on");
    var pickAll = bulkForm.querySelector("[data-pick-all]");
    if (pickAll) {
      pickAll.addEventListener("change", function () {
        boxes().forEach(function (b) { setPicked(b.value, pickAll.checked); });
        syncBoxes();
      });
    }
    /* Only the field the chosen action needs is shown (without JavaScript, all are). */
    var action = bulkForm.querySelector("select[name=action]");
    var showFields = function () {
      bulkForm.querySelectorAll("[data-bulk-for]").forEach(function (field) {
        field.hidden = !action || field.getAttribute("data-bulk-for") !== action.value;
      });
    };
    if (action) { action.addEventListener("change", showFields); showFields(); }
    bulkForm.addEventListener("submit", function (event) {
      syncBoxes();
      if (!picked.size) {
        event.preventDefault();
        var count = bulkForm.querySelector("[data-bulk-count]");
        if (count) { count.setAttribute("role", "alert"); }
      }
    });
    syncBoxes();
  }

  function bulkSubmit(actionName) {
    if (!bulkForm || !picked.size) { return false; }
    var action = bulkForm.querySelector("select[name=action]");
    action.value = actionName;
    if (actionName === "assign") {
      var assignee = bulkForm.querySelector("select[name=assignee]");
      if (assignee) { assignee.value = bulkForm.getAttribute("data-me"); }
    }
    action.dispatchEvent(new Event("change"));
    if (bulkForm.requestSubmit) { bulkForm.requestSubmit(); } else { bulkForm.submit(); }
    return true;
  }

  /* --- the sort select applies itself --- */

  document.querySelectorAll("form.sort-bar").forEach(function (form) {
    var sortSelect = form.querySelector("select[name=sort]");
    var button = form.querySelector("[data-sort-submit]");
    if (sortSelect && button) {
      button.hidden = true;
      sortSelect.addEventListener("change", function () { form.submit(); });
    }
  });

  /* --- the "?" overlay: the list's shortcuts and every [data-shortcut] on the page --- */

  var help = document.getElementById("shortcut-help");
  var helpFilled = false;

  function fillHelp() {
    if (!help || helpFilled) { return; }
    helpFilled = true;
    var list = help.querySelector("[data-shortcut-list]");
    var seen = {};
    document.querySelectorAll("[data-shortcut]").forEach(function (element) {
      var key = element.getAttribute("data-shortcut");
      var label = element.getAttribute("data-shortcut-label") || element.getAttribute("aria-label") ||
        (element.labels && element.labels[0] ? element.labels[0].textContent.trim() : "");
      if (!key || seen[key]) { return; }
      seen[key] = true;
      var dt = document.createElement("dt");
      var kbd = document.createElement("kbd");
      kbd.textContent = key;
      dt.appendChild(kbd);
      var dd = document.createElement("dd");
      dd.textContent = label;
      list.appendChild(dt);
      list.appendChild(dd);
    });
  }

  function openHelp() {
    if (!help || help.open) { return; }
    fillHelp();
    if (help.showModal) { help.showModal(); } else { help.setAttribute("open", ""); }
  }

  document.querySelectorAll("[data-shortcut-open]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", openHelp);
  });

  /* --- the keys --- */

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || event.defaultPrevented || isTyping(event.target)) {
      return;
    }
    if (help && help.open) { return; }  // the dialog has the keyboard; Esc closes it
    var key = event.key;
    if (key === "?") { event.preventDefault(); openHelp(); }
    else if (key === "j") { event.preventDefault(); select(indexOfSelected() + 1); }
    else if (key === "k") { event.preventDefault(); var i = indexOfSelected(); select(i < 0 ? 0 : i - 1); }
    else if (key === "x") {
      var row = target();
      if (row && row.hasAttribute("data-row")) { event.preventDefault(); toggleRow(row); }
    } else if (key === "e") {
      if (bulkSubmit("resolve")) { event.preventDefault(); return; }
      var t = target();
      if (t) { event.preventDefault(); post(t.getAttribute("data-status-url"), "resolved"); }
    } else if (key === "a") {
      if (bulkSubmit("assign")) { event.preventDefault(); return; }
      var c = target();
      if (c) { event.preventDefault(); post(c.getAttribute("data-claim-url")); }
    } else if (key.length === 1) {
      /* Any other element that names a shortcut and that no other script took: focus a field, press a button. */
      var element = document.querySelector("[data-shortcut='" + (key === "'" ? "\\'" : key) + "']");
      if (!element || element.disabled) { return; }
      event.preventDefault();
      if (isTyping(element)) { element.focus(); } else { element.click(); }
    }
  });

  /* --- live updates: poll with the last ETag, swap only on a change, keep what the person had --- */

  var live = document.getElementById("inbox-live");
  var saved = null;

  function rememberState() {
    var active = document.activeElement;
    var focusedRow = active && active.closest ? active.closest("[data-row]") : null;
    saved = {
      scrollY: window.scrollY,
      focusedId: focusedRow ? rowId(focusedRow) : null,
      focusedPick: !!(active && active.classList && active.classList.contains("pick")),
      selectedIndex: indexOfSelected(),
      selectedShown: !!document.querySelector("[data-row].selected")
    };
  }

  function restoreState() {
    if (!saved) { return; }
    var state = saved;
    saved = null;
    syncBoxes();
    var all = rows();
    if (selectedId && !rowById(selectedId) && state.selectedIndex >= 0 && all.length) {
      selectedId = rowId(all[Math.min(state.selectedIndex, all.length - 1)]);  // it left: the next one
    }
    var row = rowById(selectedId);
    if (row && (state.selectedShown || state.focusedId)) { row.classList.add("selected"); }
    if (state.focusedId) {
      var focused = rowById(state.focusedId) || row;
      var element = focused && (state.focusedPick ? focused.querySelector("input.pick") : focused.querySelector("a"));
      if (element) { element.focus({ preventScroll: true }); }
    }
    if (Math.abs(window.scrollY - state.scrollY) > 1) { window.scrollTo(window.scrollX, state.scrollY); }
  }

  document.body.addEventListener("htmx:configRequest", function (event) {
    var elt = event.detail.elt;
    if (elt && elt.hasAttribute && elt.hasAttribute("data-live-etag") && elt.getAttribute("data-live-etag")) {
      event.detail.headers["If-None-Match"] = '"' + elt.getAttribute("data-live-etag") + '"';
    }
    if (elt && elt.id === "presence" && replying) {
      event.detail.parameters.state = "replying";
    }
  });

  document.body.addEventListener("htmx:beforeSwap", function (event) {
    var xhr = event.detail.xhr;
    if (xhr && xhr.status === 304) { event.detail.shouldSwap = false; return; }
    var elt = event.detail.requestConfig && event.detail.requestConfig.elt;
    if (elt && elt === live && xhr && xhr.status === 200) {
      var tag = (xhr.getResponseHeader("ETag") || "").replace(/^W\//, "").replace(/"/g, "");
      if (tag) { live.setAttribute("data-live-etag", tag); }
      rememberState();
    }
  });

  document.body.addEventListener("htmx:afterSettle", function (event) {
    if (saved && event.detail.elt === live) { restoreState(); }
  });
  document.body.addEventListener("htmx:oobAfterSwap", function () {
    if (saved) { window.setTimeout(restoreState, 0); }
  });

  /* Saved replies: "Insert" copies the saved text into the composer; without
     JavaScript the same button reloads the page with ?saved=<id>. */
  function composer() { return document.querySelector("textarea[data-composer]"); }

  document.querySelectorAll("form[data-saved-pick]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      var savedSelect = form.querySelector("select[name=saved]");
      var textarea = composer();
      var option = savedSelect && savedSelect.options[savedSelect.selectedIndex];
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
})();
