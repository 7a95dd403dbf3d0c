/* Mawa — roll call by head count, one-handed (issue 21). Own code, no library.
 * The − and + beside each shelter's count change it by one and announce the change, so
 * htmx saves it (the form's hx-trigger is "change") and the counters above update.
 */
(function () {
  "use strict";

  function digits(text) {  // Arabic-Indic and Eastern Arabic digits count as digits too
    return String(text || "").replace(/[\u0660-\u0669]/g, function (d) {
      return String(d.charCodeAt(0) - 0x0660);
    }).replace(/[\u06F0-\u06F9]/g, function (d) { return String(d.charCodeAt(0) - 0x06F0); });
  }

  function init() {
    document.querySelectorAll("[data-counter]").forEach(function (row) {
      var input = row.querySelector("input");
      row.querySelectorAll("[data-step]").forEach(function (button) {
        button.addEventListener("click", function () {
          var now = parseInt(digits(input.value), 10);
          if (isNaN(now)) now = 0;
          input.value = String(Math.max(0, now + parseInt(button.dataset.step, 10)));
          input.dispatchEvent(new Event("change", {bubbles: true}));
        });
      });
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
