// The report's period form: only the inputs the chosen period uses are shown
// (without JavaScript all of them are, and the server ignores the others).
(function () {
  var period = document.getElementById("id_period");
  if (!period) return;
  function field(id) { var el = document.getElementById(id); return el ? el.closest("p") : null; }
  function sync() {
    var month = field("id_month"), start = field("id_start"), end = field("id_end");
    if (month) month.hidden = period.value !== "month";
    if (start) start.hidden = period.value !== "custom";
    if (end) end.hidden = period.value !== "custom";
  }
  period.addEventListener("change", sync);
  sync();
})();
