// Page behaviour shared by every page. No inline scripts anywhere: the CSP forbids them.
(function () {
  "use strict";
  // Confirm-before-submit for forms that ask for it (data-confirm="…").
  document.addEventListener("submit", function (event) {
    var message = event.target.getAttribute && event.target.getAttribute("data-confirm");
    if (message && !window.confirm(message)) { event.preventDefault(); }
  });
})();
