// The content calendar: drag a post to another day (month) or day and hour (week) to reschedule it. The drop
// posts to the same endpoint as each post's "Move" form (which works without JavaScript), and the answer is the
// calendar region again, refusals included: their message lands in the region's alert (role="alert").
(function () {
  "use strict";
  var dragged = null;

  function region() { return document.getElementById("calendar-region"); }

  function csrfToken() {
    var input = document.querySelector("#calendar-region input[name=csrfmiddlewaretoken]");
    if (input) return input.value;
    try {  // base.html hands htmx the token on <body hx-headers>; the cookie is HttpOnly in production
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "";
    } catch (e) { return ""; }
  }

  function showAlert(text) {
    var alert = document.getElementById("calendar-alert");
    if (!alert) return;
    var p = document.createElement("p");
    p.className = "error";
    p.textContent = text;
    alert.replaceChildren(p);
    alert.focus();
  }

  function send(body) {
    var current = region();
    if (!current) return;
    var fallback = current.getAttribute("data-error");
    current.setAttribute("aria-busy", "true");
    fetch(current.getAttribute("data-move-url"), {
      method: "POST", body: body, credentials: "same-origin",
      headers: {"X-CSRFToken": csrfToken(), "HX-Request": "true"}
    }).then(function (response) {
      return response.text().then(function (html) { return {ok: response.ok, html: html}; });
    }).then(function (answer) {
      var template = document.createElement("template");
      template.innerHTML = answer.html;
      var fresh = template.content.querySelector("#calendar-region");
      current.removeAttribute("aria-busy");
      if (!fresh) { showAlert(fallback); return; }
      current.replaceWith(fresh);
      if (window.htmx) window.htmx.process(fresh);
      // The form or chip that was used is gone: focus what the answer says (a refusal, or where it went).
      var said = document.getElementById(answer.ok ? "calendar-notice" : "calendar-alert");
      if (said && said.textContent.trim()) said.focus();
    }).catch(function () {
      current.removeAttribute("aria-busy");
      showAlert(fallback);
    });
  }

  function dropTarget(event) {
    return event.target.closest ? event.target.closest("#calendar-region [data-drop-date]") : null;
  }

  function clearOver() {
    document.querySelectorAll("#calendar-region .is-drop-over").forEach(function (el) {
      el.classList.remove("is-drop-over");
    });
  }

  document.addEventListener("dragstart", function (event) {
    var chip = event.target.closest ? event.target.closest("#calendar-region [data-post][draggable=true]") : null;
    if (!chip) return;
    dragged = chip;
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", chip.getAttribute("data-post"));
    chip.classList.add("is-dragging");
  });

  document.addEventListener("dragend", function () {
    if (dragged) dragged.classList.remove("is-dragging");
    dragged = null;
    clearOver();
  });

  document.addEventListener("dragover", function (event) {
    var cell = dropTarget(event);
    if (!cell || !dragged) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    if (!cell.classList.contains("is-drop-over")) { clearOver(); cell.classList.add("is-drop-over"); }
  });

  document.addEventListener("drop", function (event) {
    var cell = dropTarget(event);
    if (!cell || !dragged) return;
    event.preventDefault();
    var chip = dragged;
    clearOver();
    var body = new FormData();
    body.append("post", chip.getAttribute("data-post"));
    body.append("date", cell.getAttribute("data-drop-date"));
    var hour = cell.getAttribute("data-drop-hour");
    if (hour) {  // the week view: the slot's hour, the post's own minutes
      var minutes = (chip.getAttribute("data-time") || "00:00").split(":")[1] || "00";
      body.append("time", hour + ":" + minutes);
    }  // the month view sends no time: the server keeps the post's time of day
    if (chip.getAttribute("data-day") === body.get("date") && !hour) return;
    send(body);
  });

  // The keyboard alternative: each post's "Move" form, sent the same way when JavaScript runs.
  document.addEventListener("submit", function (event) {
    var form = event.target.closest ? event.target.closest("#calendar-region .cal-move-form") : null;
    if (!form) return;
    event.preventDefault();
    send(new FormData(form));
  });
})();
