// Referral form: hides the person's identity fields when "skyddade personuppgifter" is ticked
// (and shows the birth year instead). Hidden fields are disabled, so they are not sent.
// Without JavaScript every field stays visible and the server explains what to leave empty.
(function () {
  "use strict";
  var box = document.getElementById("protected_identity");
  if (!box) { return; }
  function show(selector, visible) {
    document.querySelectorAll(selector).forEach(function (block) {
      block.hidden = !visible;
      block.querySelectorAll("input, select, textarea").forEach(function (field) {
        field.disabled = !visible;
      });
    });
  }
  function sync() {
    show("[data-identity]", !box.checked);
    show("[data-protected-only]", box.checked);
  }
  box.setAttribute("aria-controls", "identity-fields protected-fields");
  box.addEventListener("change", sync);
  sync();
})();

// Error summary (GOV.UK pattern): focus it when the page loads, and let each link move focus
// to its field, not just scroll there.
(function () {
  "use strict";
  var summary = document.getElementById("error-summary");
  if (!summary) { return; }
  summary.focus();
  summary.addEventListener("click", function (event) {
    var link = event.target.closest("a[href^='#']");
    var field = link && document.getElementById(link.getAttribute("href").slice(1));
    if (!field) { return; }
    event.preventDefault();
    field.focus();
    var group = field.closest("fieldset") || field.closest(".field");
    if (group) { group.scrollIntoView(); }
  });
})();
