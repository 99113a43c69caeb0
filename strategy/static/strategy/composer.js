/* The post composer's live preview (strategy/posts/composer.html) and the publish-by-hand queue's copy
   buttons (strategy/posts/by_hand.html). The counts mirror strategy/platforms.py text_length: on Mastodon and
   X a web address counts 23 and a Mastodon mention "@ana@example.social" counts as "@ana"; X weighs characters
   outside Latin, general punctuation and the common symbol ranges (CJK, emoji) as 2; elsewhere every
   character counts 1. The server counts again on save. No inline script: the CSP forbids it. */
(function () {
  "use strict";

  var URL = /https?:\/\/\S+/gi;
  var MENTION = /(?<![\p{L}\p{N}_@])(@[\p{L}\p{N}_]+)@[\p{L}\p{N}_.-]+[\p{L}\p{N}_]/gu;

  function xWeight(code) {
    var light = code <= 0x10FF || (code >= 0x2000 && code <= 0x200D) || (code >= 0x2010 && code <= 0x201F) ||
      (code >= 0x2032 && code <= 0x2037);
    return light ? 1 : 2;
  }

  function textLength(text, platform) {
    text = text || "";
    if (platform !== "mastodon" && platform !== "x") return Array.from(text).length;
    var urls = (text.match(URL) || []).length;
    text = text.replace(URL, "");
    if (platform === "mastodon") {
      return Array.from(text.replace(MENTION, "$1")).length + urls * 23;
    }
    var total = 0;
    for (var ch of text) total += xWeight(ch.codePointAt(0));
    return total + urls * 23;
  }

  function setUpComposer(form) {
    var textarea = form.querySelector("[data-composer-text]");
    var cards = form.querySelectorAll("[data-preview]");
    var empty = form.querySelector("[data-preview-empty]");
    if (!textarea || !cards.length) return;

    function update() {
      var text = textarea.value.trim();
      var shown = 0;
      cards.forEach(function (card) {
        var box = form.querySelector("input[data-account='" + card.dataset.preview + "']");
        card.hidden = !(box && box.checked);
        if (!card.hidden) shown += 1;
        var length = textLength(text, card.dataset.platform);
        var limit = parseInt(card.dataset.limit, 10);
        var over = !isNaN(limit) && length > limit;
        card.querySelector("[data-count]").textContent = String(length);
        card.querySelector("[data-preview-text]").textContent = text;
        card.querySelector("[data-over]").hidden = !over;
        card.classList.toggle("over", over);
      });
      if (empty) empty.hidden = shown > 0;
    }

    textarea.addEventListener("input", update);
    form.addEventListener("change", update);
    update();
  }

  function setUpCopy(button) {
    var source = document.getElementById(button.dataset.copy);
    if (!source || !navigator.clipboard) return;  // the text stays selectable in its box
    button.hidden = false;
    var label = button.textContent;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(source.value).then(function () {
        button.textContent = button.dataset.copied;
        setTimeout(function () { button.textContent = label; }, 2000);
      }, function () {
        source.focus();
        source.select();
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form.composer").forEach(setUpComposer);
    document.querySelectorAll("button[data-copy]").forEach(setUpCopy);
  });
})();
