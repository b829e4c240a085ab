// Progressive enhancement only: everything works without this file.
"use strict";

function plainLength(html) {
  const scratch = document.createElement("template");
  scratch.innerHTML = html;
  return scratch.content.textContent.trim().length;
}

// A live character counter for fields with a limit.
for (const field of document.querySelectorAll("textarea[data-max]")) {
  const max = Number(field.dataset.max);
  const counter = document.getElementById(field.id + "-count");
  if (!counter) continue;
  const update = () => {
    const used = plainLength(field.value);
    counter.textContent = used + " of " + max + " characters" + (used > max ? ": " + (used - max) + " too many" : "");
    counter.classList.toggle("over", used > max);
  };
  field.addEventListener("input", update);
  update();
}

// The preview follows the title and call to action as they are typed.
for (const source of document.querySelectorAll("[data-live-source]")) {
  const name = source.dataset.liveSource;
  source.addEventListener("input", () => {
    for (const target of document.querySelectorAll('[data-live="' + name + '"]')) {
      target.textContent = source.value;
    }
  });
}

// Errors: move focus to their summary so screen readers hear it first.
const summary = document.getElementById("error-summary");
if (summary) summary.focus();

// Copy buttons next to links to pass on (the link stays selectable text
// in its read-only field without this).
for (const button of document.querySelectorAll("button.copy[data-copy]")) {
  const field = document.getElementById(button.dataset.copy);
  if (!field) continue;
  button.hidden = false;
  button.addEventListener("click", async () => {
    field.select();
    try {
      await navigator.clipboard.writeText(field.value);
      button.textContent = "Copied";
    } catch {
      button.textContent = "Selected: press Ctrl+C";
    }
  });
}
