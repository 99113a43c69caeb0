// Counts down a revealed secret's visibility window and removes the secret
// from the page when it ends. The server sends the seconds left (not a clock
// time), so a wrong clock on the viewer's machine cannot stretch the window.
(function () {
  "use strict";

  function format(seconds) {
    var m = Math.floor(seconds / 60);
    var s = seconds % 60;
    return m + ":" + (s < 10 ? "0" : "") + s;
  }

  function removeSecret(box) {
    var secret = box.querySelector("[data-secret]");
    if (secret) {
      secret.textContent = "";
      secret.remove();
    }
    var notice = box.querySelector("[data-secret-expired]");
    if (notice) {
      notice.hidden = false;
    }
    var clock = box.querySelector("[data-countdown]");
    if (clock) {
      clock.textContent = format(0);
    }
  }

  function start(box) {
    var remaining = parseInt(box.getAttribute("data-remaining-seconds"), 10);
    if (isNaN(remaining)) {
      return;
    }
    var deadline = Date.now() + remaining * 1000;
    var clock = box.querySelector("[data-countdown]");
    var timer = null;

    function tick() {
      var left = Math.max(0, Math.round((deadline - Date.now()) / 1000));
      if (clock) {
        clock.textContent = format(left);
      }
      if (left <= 0) {
        if (timer !== null) {
          clearInterval(timer);
        }
        removeSecret(box);
      }
    }

    var copy = box.querySelector("[data-copy-secret]");
    var value = box.querySelector("[data-testid='secret']");
    if (copy && value && navigator.clipboard) {
      copy.addEventListener("click", function () {
        navigator.clipboard.writeText(value.textContent).then(function () {
          copy.textContent = copy.getAttribute("data-copied-label") || "Copied";
        });
      });
    } else if (copy) {
      copy.remove();
    }

    tick();
    if (remaining > 0) {
      timer = setInterval(tick, 1000);
    }
  }

  var boxes = document.querySelectorAll("[data-reveal-box]");
  boxes.forEach(start);

  // A page restored from the back/forward cache must not show the secret again.
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) {
      boxes.forEach(removeSecret);
    }
  });
})();
