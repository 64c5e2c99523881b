/* NRM web: small progressive enhancements; every page works without them. */
(function () {
  "use strict";
  // A form sends once: its submit button is disabled while the request is under way
  // (the server also answers a second press with the first answer: idempotency keys).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.hasAttribute("data-download")) { return; } // the page stays: no navigation to wait for
    if (form.dataset.sent === "1") { event.preventDefault(); return; }
    form.dataset.sent = "1";
    var buttons = form.querySelectorAll("button[type=submit]");
    for (var i = 0; i < buttons.length; i++) { buttons[i].setAttribute("aria-disabled", "true"); }
    window.setTimeout(function () { form.dataset.sent = ""; }, 8000);
  });
  // Errors after a submit: move the focus to their summary, so that it is read out.
  document.addEventListener("DOMContentLoaded", function () {
    var summary = document.getElementById("error-summary");
    if (summary) { summary.focus(); }
  });
})();
