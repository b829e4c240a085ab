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

// The entry form's picture: a chosen file shows at once, cropped as the
// feeds crop it (CSS object-fit), before anything is sent. Preview then
// shows the stored result.
for (const input of document.querySelectorAll("input[type=file][data-picture-input]")) {
  const figure = document.getElementById("picture-now");
  const image = figure && figure.querySelector("img");
  if (!image) continue;
  let shown = null;
  input.addEventListener("change", () => {
    const file = input.files && input.files[0];
    if (shown) URL.revokeObjectURL(shown);
    shown = null;
    if (!file || !file.type.startsWith("image/")) return;
    shown = URL.createObjectURL(file);
    image.src = shown;
    figure.hidden = false;
    const caption = figure.querySelector("figcaption");
    if (caption) caption.textContent = "The file you chose, cropped as QGIS and the feeds will show it; Preview or Save sends it.";
    const remove = document.getElementById("image_remove");
    if (remove) remove.checked = false;
  });
}
