// Warns two minutes before the staff session expires and lets the user extend it (WCAG 2.2.1).
(function () {
  "use strict";
  var box = document.getElementById("session-warning");
  if (!box) { return; }
  var minutes = parseInt(box.getAttribute("data-minutes"), 10) || 30;
  var warnAfter = Math.max(minutes * 60 - 120, 30) * 1000;
  var timer;
  function arm() {
    clearTimeout(timer);
    timer = setTimeout(function () {
      box.hidden = false;
      document.getElementById("session-continue").focus();
    }, warnAfter);
  }
  document.getElementById("session-continue").addEventListener("click", function () {
    fetch("/team/keepalive", {
      method: "POST",
      headers: { "X-CSRF-Token": box.getAttribute("data-csrf") },
      credentials: "same-origin"
    }).then(function (r) {
      if (r.ok) { box.hidden = true; arm(); } else { window.location = "/team/login"; }
    });
  });
  arm();
})();
