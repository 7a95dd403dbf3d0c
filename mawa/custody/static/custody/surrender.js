/* Mawa — the surrender page's item form (issue 21). Own code, no library.
 * - The catalogue lists only the models of the kind chosen (options carry data-kind).
 * - The reason for refusal is asked only when "refused" is chosen.
 * Runs after mawa.js (which shows the fields each kind needs), so its choice wins.
 */
(function () {
  "use strict";

  function setup(form) {
    var kind = form.querySelector("select[name=kind]");
    var catalogue = form.querySelector("select[name=catalogue]");
    var accepted = form.querySelector("select[name=accepted]");
    var reason = form.querySelector("[data-field=refusal_reason]");

    function filterModels() {
      if (!kind || !catalogue) return;
      Array.prototype.forEach.call(catalogue.options, function (o) {
        if (!o.dataset.kind) return;  // the empty choice
        var other = o.dataset.kind !== kind.value;
        o.hidden = other;
        o.disabled = other;
        if (other && o.selected) catalogue.value = "";
      });
    }

    function showReason() {
      if (reason && accepted) reason.hidden = accepted.value !== "0";
    }

    if (kind) kind.addEventListener("change", function () { filterModels(); showReason(); });
    if (accepted) accepted.addEventListener("change", showReason);
    filterModels();
    showReason();
  }

  function init() {
    Array.prototype.forEach.call(document.querySelectorAll("form[data-item-form]"), setup);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
