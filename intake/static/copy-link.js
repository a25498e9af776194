// "Kopiera" buttons beside links shown to staff (team/_copy.html). Without JavaScript, or where
// the browser gives no clipboard, the buttons stay hidden and the link is plain, selectable text.
(function () {
  "use strict";
  if (!navigator.clipboard || !window.isSecureContext) { return; }
  var buttons = document.querySelectorAll("button.copy-button[data-copy]");
  Array.prototype.forEach.call(buttons, function (button) {
    var status = button.parentNode.querySelector(".copy-status");
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(button.getAttribute("data-copy")).then(function () {
        if (status) { status.textContent = button.getAttribute("data-copied"); }
        window.setTimeout(function () { if (status) { status.textContent = ""; } }, 4000);
      });
    });
  });
})();
