/* A refused form is seen where the eye is: on load the error summary at the
   top of the page (includes/form_errors.html) takes the focus, or else the
   first invalid field; a link in the summary moves the focus to its field,
   opening the <details> it may sit in. Loaded from base.html; no inline
   script (the Content-Security-Policy forbids it). */
(function () {
  "use strict";

  function openEnclosingDetails(element) {
    for (var d = element.closest("details"); d; d = d.parentElement ? d.parentElement.closest("details") : null) {
      d.open = true;
    }
  }

  function focusable(target) {
    if (target.matches("input, select, textarea, button, a[href], [tabindex]")) return target;
    var inner = target.querySelector("input:not([type=hidden]), select, textarea, button");
    if (inner) return inner;
    target.setAttribute("tabindex", "-1");
    return target;
  }

  function focusField(id) {
    var target = document.getElementById(id);
    if (!target) return false;
    openEnclosingDetails(target);
    var element = focusable(target);
    element.scrollIntoView({block: "center"});
    element.focus({preventScroll: true});
    return true;
  }

  function focusFirstProblem(root) {
    var summary = root.querySelector("[data-error-summary]");
    if (summary) {
      summary.scrollIntoView({block: "start"});
      summary.focus({preventScroll: true});
      return;
    }
    var invalid = root.querySelector("[aria-invalid='true']");
    if (invalid) {
      openEnclosingDetails(invalid);
      invalid.focus();
    }
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest("[data-error-summary] a[href^='#']");
    if (!link) return;
    if (focusField(decodeURIComponent(link.hash.slice(1)))) event.preventDefault();
  });

  // A refusal swapped in by HTMX after a form was sent gets the same treatment; a poll or any other GET
  // never moves the focus (live lists refresh while people type).
  document.addEventListener("htmx:afterSwap", function (event) {
    var detail = event.detail || {};
    var verb = detail.requestConfig && detail.requestConfig.verb;
    var target = detail.target;
    if (!verb || verb.toLowerCase() === "get" || !target || !target.querySelector) return;
    focusFirstProblem(target);
  });

  function start() { focusFirstProblem(document); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
