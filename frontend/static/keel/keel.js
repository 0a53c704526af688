// Page behaviour shared by every page. No inline scripts anywhere: the CSP forbids them.
(function () {
  "use strict";
  // Confirm-before-submit for forms that ask for it (data-confirm="…").
  document.addEventListener("submit", function (event) {
    var message = event.target.getAttribute && event.target.getAttribute("data-confirm");
    if (message && !window.confirm(message)) { event.preventDefault(); }
  });
  // The bell: refresh the unread count now and then. Background polls do not keep a session alive.
  var bell = document.querySelector(".bell");
  function refreshBell() {
    fetch("/api/v1/notifications/", {headers: {"X-Keel-Background": "1", "Accept": "application/json"},
                                     credentials: "same-origin"})
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (body) {
        if (!body) { return; }
        bell.setAttribute("data-unread", String(body.unread));
        bell.querySelector(".bell-count").textContent = body.unread ? ": " + body.unread + " unread" : "";
      })
      .catch(function () { /* offline: keep the last count */ });
  }
  if (bell) { window.setInterval(refreshBell, 60000); }
})();
