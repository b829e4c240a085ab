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

// Never lose a draft: a form with unsaved changes asks before the page is
// left; meanwhile what is typed is kept on the server every 30 seconds and
// when the page is hidden, and the form brings it back next time.
for (const form of document.querySelectorAll("form[data-autosave]")) {
  const status = document.getElementById("autosave-status");
  let unsaved = false;   // typed since the page opened, not yet submitted
  let unkept = false;    // typed since the last kept draft
  let leaving = false;   // the form itself is being submitted
  const mark = () => { unsaved = true; unkept = true; };
  form.addEventListener("input", mark);
  form.addEventListener("change", mark);
  form.addEventListener("submit", () => { leaving = true; });
  const body = () => {
    const data = new URLSearchParams();
    for (const [name, value] of new FormData(form)) {
      if (typeof value === "string" && name !== "intent") data.append(name, value);
    }
    return data;
  };
  const keep = async () => {
    if (!unkept || leaving) return;
    unkept = false;
    try {
      const response = await fetch(form.dataset.autosave, { method: "POST", body: body(), credentials: "same-origin" });
      if (response.ok) {
        status.textContent = await response.text();
        if (!unkept) unsaved = false;
      } else {
        unkept = true;
        status.textContent = "Could not keep a draft just now; it is tried again shortly.";
      }
    } catch (error) {
      unkept = true;
    }
  };
  setInterval(keep, 30000);
  const keepNow = () => {
    if (unkept && !leaving) {
      navigator.sendBeacon(form.dataset.autosave, body());
      unkept = false;
    }
  };
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "hidden") keepNow();
  });
  window.addEventListener("pagehide", keepNow);
  window.addEventListener("beforeunload", (event) => {
    if (unsaved && !leaving) {
      event.preventDefault();
      event.returnValue = "";
    }
  });
}

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

// The embed preview on a group's page: the framed page says how high it is.
addEventListener("message", (event) => {
  const height = event.data && event.data.type === "newsfeed:height" && Number(event.data.height);
  if (event.origin !== location.origin || !(height > 0)) return;
  for (const frame of document.querySelectorAll(".embed-preview iframe")) {
    if (frame.contentWindow !== event.source) continue;
    // Its content box takes the page's height, whatever its border and padding.
    const style = getComputedStyle(frame);
    const content = frame.clientHeight - parseFloat(style.paddingTop) - parseFloat(style.paddingBottom);
    frame.style.height = `${parseFloat(style.height) + Math.min(height, 4000) - content}px`;
  }
});

// The entry form's translations: one tab per language instead of stacked
// fieldsets, and "Add a translation" and "Remove" done here instead of
// sending the form (which does the same without this script).
for (const part of document.querySelectorAll("[data-translations]")) {
  const list = part.querySelector(".translation-list");
  const template = part.querySelector("template");
  const choice = part.querySelector("select");
  const tablist = document.createElement("div");
  tablist.className = "tabs";
  tablist.setAttribute("role", "tablist");
  tablist.setAttribute("aria-label", "Translations");
  list.before(tablist);
  const panels = () => Array.from(list.children);
  const tabOf = (panel) => document.getElementById("tab-" + panel.id);
  const offer = (code, offered) => {
    for (const option of choice.options) {
      if (option.value === code) { option.hidden = !offered; option.disabled = !offered; }
    }
  };
  const show = (panel, focus) => {
    for (const other of panels()) {
      const tab = tabOf(other);
      other.hidden = other !== panel;
      tab.setAttribute("aria-selected", String(other === panel));
      tab.tabIndex = other === panel ? 0 : -1;
    }
    tablist.hidden = !panel;
    if (panel && focus) tabOf(panel).focus();
  };
  const adopt = (panel) => {
    const legend = panel.querySelector("legend");
    legend.classList.add("visually-hidden");
    const tab = document.createElement("button");
    tab.type = "button";
    tab.id = "tab-" + panel.id;
    tab.setAttribute("role", "tab");
    tab.setAttribute("aria-controls", panel.id);
    tab.textContent = legend.textContent;
    if (panel.classList.contains("invalid")) {
      tab.classList.add("invalid");
      tab.insertAdjacentHTML("beforeend", '<span class="visually-hidden">: needs attention</span>');
    }
    tab.addEventListener("click", () => show(panel, false));
    panel.setAttribute("role", "tabpanel");
    panel.setAttribute("aria-labelledby", tab.id);
    tablist.append(tab);
    offer(panel.dataset.language, false);
  };
  panels().forEach(adopt);
  const focused = list.querySelector("[autofocus]");
  show((focused && focused.closest(".translation")) || list.querySelector(".translation.invalid") || panels()[0], false);
  tablist.addEventListener("keydown", (event) => {
    const tabs = Array.from(tablist.children);
    const at = tabs.indexOf(document.activeElement);
    const to = { ArrowLeft: at - 1, ArrowRight: at + 1, Home: 0, End: tabs.length - 1 }[event.key];
    if (at < 0 || to === undefined) return;
    event.preventDefault();
    const tab = tabs[(to + tabs.length) % tabs.length];
    show(document.getElementById(tab.getAttribute("aria-controls")), true);
  });
  const changed = () => part.dispatchEvent(new Event("change", { bubbles: true }));
  part.querySelector('button[value="translate"]').addEventListener("click", (event) => {
    const code = choice.value;
    if (!code) return; // the form says what to choose
    event.preventDefault();
    const label = choice.selectedOptions[0].textContent;
    const fresh = template.content.firstElementChild.cloneNode(true);
    for (const node of [fresh, ...fresh.querySelectorAll("*")]) {
      for (const attribute of node.attributes) {
        attribute.value = attribute.value.replaceAll("__code__", code).replaceAll("__label__", label);
      }
    }
    const texts = document.createTreeWalker(fresh, NodeFilter.SHOW_TEXT);
    while (texts.nextNode()) texts.currentNode.data = texts.currentNode.data.replaceAll("__label__", label);
    list.append(fresh);
    adopt(fresh);
    show(fresh, false);
    choice.value = "";
    fresh.querySelector("input").focus();
    changed();
  });
  list.addEventListener("click", (event) => {
    const remove = event.target.closest('button[name="translation_remove"]');
    if (!remove) return;
    event.preventDefault();
    const panel = remove.closest(".translation");
    const rest = panels().filter((other) => other !== panel);
    const next = rest[Math.min(panels().indexOf(panel), rest.length - 1)];
    tabOf(panel).remove();
    panel.remove();
    offer(remove.value, true);
    show(next, true);
    if (!next) choice.focus();
    changed();
  });
  // A link of the error summary to a field of a hidden tab shows the tab first.
  for (const link of document.querySelectorAll("#error-summary a")) {
    link.addEventListener("click", () => {
      const field = document.getElementById(decodeURIComponent(link.hash.slice(1)));
      const panel = field && field.closest(".translation");
      if (panel && list.contains(panel)) show(panel, false);
    });
  }
}
