// Referral form: hides the person's identity fields when "skyddade personuppgifter" is ticked
// (and shows the birth year instead), and the case worker's fields in a self-referral.
// Hidden fields are disabled, so they are not sent. Without JavaScript every field stays
// visible and the server explains what to leave empty (or ignores it, in a self-referral).
(function () {
  "use strict";
  var box = document.getElementById("protected_identity");
  if (!box) { return; }
  var selfReferral = document.getElementById("referrer_type-egen");
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
    show("[data-referrer-only]", !(selfReferral && selfReferral.checked));
  }
  box.setAttribute("aria-controls", "identity-fields protected-fields");
  box.addEventListener("change", sync);
  document.querySelectorAll("input[name=referrer_type]").forEach(function (choice) {
    choice.setAttribute("aria-controls", "referrer-fields");
    choice.addEventListener("change", sync);
  });
  sync();
})();

// Length counters: the page says "Högst 3000 tecken" under the field; this adds a count that
// follows the typing ("123 av 3000 tecken"). The visible count is hidden from screen readers;
// a polite live region says the count once typing has paused, not at every keystroke.
(function () {
  "use strict";
  document.querySelectorAll("textarea[data-max-length]").forEach(function (field) {
    var limitText = document.getElementById(field.id + "-limit");
    if (!limitText) { return; }
    var limit = parseInt(field.getAttribute("data-max-length"), 10);
    var visible = document.createElement("p");
    visible.className = "hint character-count";
    visible.setAttribute("aria-hidden", "true");
    var spoken = document.createElement("p");
    spoken.className = "visually-hidden";
    spoken.setAttribute("aria-live", "polite");
    spoken.id = field.id + "-count";
    limitText.after(visible, spoken);
    var pause = null;
    function text() {
      var count = field.value.length;
      var over = count - limit;
      var template = over > 0 ? limitText.getAttribute("data-over-text")
                              : limitText.getAttribute("data-count-text");
      visible.classList.toggle("over", over > 0);
      return template.replace("{count}", count).replace("{limit}", limit)
                     .replace("{over}", over);
    }
    function update() {
      visible.textContent = text();
      clearTimeout(pause);
      pause = setTimeout(function () { spoken.textContent = text(); }, 1000);
    }
    field.addEventListener("input", update);
    visible.textContent = text();
  });
})();

// Receipt: a button to print the copy of what was sent (the text says Ctrl+P without it).
(function () {
  "use strict";
  var button = document.getElementById("print-copy");
  if (!button) { return; }
  button.hidden = false;
  document.querySelectorAll(".print-hint").forEach(function (hint) { hint.hidden = true; });
  button.addEventListener("click", function () { window.print(); });
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
