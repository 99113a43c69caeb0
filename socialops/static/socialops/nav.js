/* The top bar on a phone and wide tables everywhere. Loaded from base.html's
   <head> (no inline script: the Content-Security-Policy forbids it).

   - The menu button (shown by portal.css below 720 px once this script runs)
     opens and closes the side navigation, the search and the user menu; it
     says so with aria-expanded, and Escape closes the menu and gives the
     focus back to the button. Without JavaScript everything stays visible.
   - Every table in <main> sits in a box that scrolls sideways by itself, so a
     wide table never makes the whole page scroll. When the table is wider
     than its box, the box becomes a named, focusable region so that keyboard
     users can scroll it too. */
(function () {
  "use strict";

  var root = document.documentElement;
  root.classList.add("nav-js");

  function setMenu(button, open) {
    button.setAttribute("aria-expanded", open ? "true" : "false");
    root.classList.toggle("menu-open", open);
  }

  function bindMenu() {
    var button = document.querySelector(".menu-toggle");
    if (!button || button.dataset.bound) return;
    button.dataset.bound = "1";
    button.addEventListener("click", function () {
      setMenu(button, button.getAttribute("aria-expanded") !== "true");
    });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && button.getAttribute("aria-expanded") === "true") {
        setMenu(button, false);
        button.focus();
      }
    });
  }

  function headingsBefore(element) {
    // The headings above an element, nearest first, each of a higher level than the one before.
    var found = [];
    var level = 7;
    var probe = element;
    for (var node = element.parentElement; node && node !== document.body; probe = node, node = node.parentElement) {
      for (var sibling = probe.previousElementSibling; sibling; sibling = sibling.previousElementSibling) {
        var candidates = sibling.matches("h1, h2, h3, h4") ? [sibling] : sibling.querySelectorAll("h1, h2, h3, h4");
        var heading = candidates.length ? candidates[candidates.length - 1] : null;
        var headingLevel = heading ? Number(heading.tagName.charAt(1)) : 7;
        if (heading && headingLevel < level && heading.textContent.trim()) {
          found.push(heading.textContent.trim().replace(/\s+/g, " "));
          level = headingLevel;
        }
      }
    }
    return found;
  }

  function labelFor(table) {
    if (table.getAttribute("aria-label")) return table.getAttribute("aria-label");
    if (table.caption && table.caption.textContent.trim()) return table.caption.textContent.trim();
    // The nearest heading names what the table lists; where two tables share it (a section per
    // channel), the heading above it makes the name unique.
    var headings = headingsBefore(table);
    if (!headings.length) return document.title;
    var label = headings[0];
    var taken = Array.prototype.some.call(document.querySelectorAll(".table-scroll[aria-label]"), function (box) {
      return box.getAttribute("aria-label") === label && !box.contains(table);
    });
    return taken && headings.length > 1 ? label + " · " + headings[1] : label;
  }

  function markScrollable(box) {
    var table = box.querySelector("table");
    if (table && box.scrollWidth > box.clientWidth + 1) {
      box.setAttribute("tabindex", "0");
      box.setAttribute("role", "region");
      box.setAttribute("aria-label", labelFor(table));
    } else {
      box.removeAttribute("tabindex");
      box.removeAttribute("role");
      box.removeAttribute("aria-label");
    }
  }

  function wrapTables(scope) {
    var main = document.querySelector("main");
    if (!main || !scope || !scope.querySelectorAll) return;
    var tables = scope.matches && scope.matches("table") ? [scope] : scope.querySelectorAll("table");
    Array.prototype.forEach.call(tables, function (table) {
      if (!main.contains(table)) return;
      var parent = table.parentElement;
      if (parent.classList.contains("table-scroll")) return;
      var box = document.createElement("div");
      box.className = "table-scroll";
      parent.insertBefore(box, table);
      box.appendChild(table);
      markScrollable(box);
    });
  }

  function remarkAll() {
    Array.prototype.forEach.call(document.querySelectorAll(".table-scroll"), markScrollable);
  }

  var resizeTimer = null;
  function onResize() {
    window.clearTimeout(resizeTimer);
    resizeTimer = window.setTimeout(remarkAll, 150);
  }

  function start() {
    bindMenu();
    wrapTables(document.body);
    window.addEventListener("resize", onResize);
    // Content that htmx swaps in later gets the same treatment.
    document.addEventListener("htmx:load", function (event) { wrapTables(event.target); });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
