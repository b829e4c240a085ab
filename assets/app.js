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

// The moderation page's map: OpenStreetMap tiles beneath the drawn area and
// venue (positions in percent of the 384 x 256 frame, so it scales).
for (const frame of document.querySelectorAll(".map-frame[data-tiles]")) {
  const svg = frame.querySelector("svg");
  for (const spec of frame.dataset.tiles.split(",")) {
    const [url, left, top] = spec.trim().split(" ");
    if (!url) continue;
    const tile = document.createElement("img");
    tile.src = url;
    tile.alt = "";
    tile.loading = "lazy";
    tile.referrerPolicy = "strict-origin";
    tile.style.left = (Number(left) / 384 * 100) + "%";
    tile.style.top = (Number(top) / 256 * 100) + "%";
    frame.insertBefore(tile, svg);
  }
  frame.classList.add("with-tiles");
}
