// The report's period form: only the inputs the chosen period uses are shown
// (without JavaScript all of them are, and the server ignores the others).
(function () {
  var period = document.getElementById("id_period");
  if (!period) return;
  function field(id) { var el = document.getElementById(id); return el ? el.closest("p") : null; }
  function sync() {
    var month = field("id_month"), start = field("id_start"), end = field("id_end");
    // Hidden and disabled: a disabled input is not sent, so the report's URL carries only what it uses.
    [[month, "month"], [start, "custom"], [end, "custom"]].forEach(function (pair) {
      if (!pair[0]) return;
      var off = period.value !== pair[1];
      pair[0].hidden = off;
      pair[0].querySelector("input").disabled = off;
    });
  }
  period.addEventListener("change", sync);
  sync();
})();
