// A group's own site on another origin (a second loopback port, served
// here) with CSS that breaks whatever it can reach, showing the group's news
// through all three embeds: the custom elements of /embed.js (the snippet
// copied from the group page, and a filtered list and one entry), the frame
// (snippet from the group page) and an oEmbed answer's HTML, fetched as a
// CMS fetches it. Checks what renders, the links, that the frames take
// their height by postMessage, the script's size budget, that no cookie is
// set on either origin and that axe-core finds nothing. With a screenshot
// directory, saves the host page and the group page's Embed section.
//
//   node embed.mjs BASE_URL [SCREENSHOT_DIR]
import { chromium } from "playwright-core";
import { readFileSync } from "node:fs";
import { createServer, get } from "node:http";
import { createRequire } from "node:module";
import { join } from "node:path";

const [base, shots] = process.argv.slice(2);
if (!base) throw new Error("usage: node embed.mjs BASE_URL [SCREENSHOT_DIR]");
const ADMIN = { email: "admin@example.org", password: "e2e admin password" };
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };
const BUDGET_BYTES = 10 * 1024;
const AXE = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
const HOSTILE_TITLE = `Grüezi <img src=x onerror="window.alerted=1"> & "willkommen"`;
// What a careless theme does to everything it can reach.
const HOSTILE_CSS = `
  * { display: block !important; color: #8b0000 !important; font-size: 40px; font-family: Georgia, serif !important;
      line-height: 2.2 !important; letter-spacing: .08em !important; text-transform: uppercase !important; }
  head, script, style, title { display: none !important; }
  li { display: none !important; }
  ul, p, div, article, a, img { margin: 40px !important; padding: 20px !important; border: 4px dashed #8b0000 !important; }
  img { width: 12px !important; height: 12px !important; }
  .w, .t, .m, .x, .entry, .entries, .meta, .text, .one, .list { display: none !important; visibility: hidden !important; }
  newsfeed-entries, newsfeed-entry { font-size: 60px !important; background: #ffe4e1 !important; }
  iframe { border: 3px solid #8b0000; }`;
const started = Date.now();

function step(text) {
  console.log(`[${((Date.now() - started) / 1000).toFixed(1)} s] ${text}`);
}

function check(condition, message) {
  if (!condition) throw new Error(`check failed: ${message}`);
}

/** A JSON API call as the admin; returns the parsed body. */
async function api(token, method, path, body) {
  const response = await fetch(base + path, {
    method,
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  check(response.ok || response.status === 409, `${method} ${path} answered ${response.status}: ${text}`);
  return text ? JSON.parse(text) : null;
}

/** Creates, submits and approves an entry of qgis-ch; `picture` (PNG bytes) is uploaded first. */
async function publish(token, fields, picture) {
  const entry = await api(token, "POST", "/api/v1/entries", { group: "qgis-ch", ...fields });
  if (picture) {
    const form = new FormData();
    form.append("file", new Blob([picture], { type: "image/png" }), "zurich.png");
    form.append("version", String(entry.version));
    const uploaded = await fetch(`${base}/api/v1/entries/${entry.id}/image`, {
      method: "POST", headers: { authorization: `Bearer ${token}` }, body: form,
    });
    check(uploaded.ok, `the picture upload answered ${uploaded.status}`);
  }
  await api(token, "POST", `/api/v1/entries/${entry.id}/submit`, {});
  await api(token, "POST", `/api/v1/moderation/entries/${entry.id}/approve`, {});
  return entry.id;
}

/** `YYYY-MM-DDT18:00:00Z` `days` from now. */
function inDays(days, hour) {
  const date = new Date(Date.now() + days * 86_400_000);
  date.setUTCHours(hour, 0, 0, 0);
  return date.toISOString().replace(".000", "");
}

/** `/embed.js` as a browser gets it gzip-coded: its size on the wire and headers. */
function scriptOnTheWire() {
  return new Promise((resolve, reject) => {
    get(`${base}/embed.js`, { headers: { "accept-encoding": "gzip" } }, (response) => {
      const chunks = [];
      response.on("data", (chunk) => chunks.push(chunk));
      response.on("end", () => resolve({ headers: response.headers, bytes: Buffer.concat(chunks).length }));
    }).on("error", reject);
  });
}

/** The host site: one page, on a port of its own. */
async function hostSite(page) {
  const server = createServer((request, response) => {
    response.writeHead(request.url === "/" ? 200 : 404, { "content-type": "text/html; charset=utf-8" });
    response.end(request.url === "/" ? page : "not here");
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, origin: `http://127.0.0.1:${server.address().port}` };
}

/** A browser window of its own; a page error or console error fails the run. */
async function visitor(browser) {
  const context = await browser.newContext({ viewport: DESKTOP });
  const page = await context.newPage();
  page.setDefaultTimeout(15000);
  page.on("pageerror", (error) => { throw error; });
  page.on("console", (message) => {
    if (message.type() === "error") throw new Error(`console error on ${page.url()}: ${message.text()}`);
  });
  return { context, page };
}

/** Fails on any accessibility violation in the page and the frames in it. */
async function accessible(page, name) {
  for (const frame of page.frames()) await frame.evaluate(`${AXE}\n;true`);
  const { violations } = await page.evaluate(() => window.axe.run(document, { resultTypes: ["violations"] }));
  const problems = violations.map((violation) => `${violation.id} (${violation.impact}): ${violation.help}: ` +
    violation.nodes.slice(0, 3).map((node) => JSON.stringify(node.target)).join("; "));
  check(problems.length === 0, `axe-core on ${name}:\n  ${problems.join("\n  ")}`);
}

/** Waits until the frame whose address ends with `path` is as high as its page, and returns it. */
async function sizedFrame(page, path, initialHeight) {
  const element = page.locator(`iframe[src$="${path}"]`);
  await element.waitFor();
  // Browsers hold back the rendering of other sites' frames out of view.
  await element.scrollIntoViewIfNeeded();
  const frame = page.frames().find((one) => one.url().endsWith(path));
  check(frame, `the frame of ${path} loaded`);
  await frame.locator("main").waitFor();
  let heights = [];
  for (let tries = 0; tries < 50; tries++) {
    heights = [
      await element.evaluate((node) => node.clientHeight),
      await frame.evaluate(() => document.documentElement.getBoundingClientRect().height),
    ];
    if (heights[0] !== initialHeight && Math.abs(heights[0] - Math.ceil(heights[1])) <= 1) break;
    await page.waitForTimeout(100);
  }
  check(heights[0] !== initialHeight && Math.abs(heights[0] - Math.ceil(heights[1])) <= 1,
    `${path}: the frame is ${heights[0]} px high for a page of ${heights[1]} px`);
  const scrolls = await frame.evaluate(() => document.documentElement.scrollHeight > innerHeight + 1);
  check(!scrolls, `${path}: the frame needs no scrollbar`);
  return frame;
}

async function main() {
  step("the admin publishes three entries of qgis-ch through the API");
  const { access_token: token } = await api(null, "POST", "/api/v1/auth/login", ADMIN);
  await api(token, "POST", "/api/v1/groups", { slug: "qgis-ch", name: "QGIS Schweiz", country: "CH" });
  const browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync"],
  });
  // The group's webmaster on our site (with its cookies), and a reader of
  // the group's own site in a browser of their own.
  const [webmaster, reader] = [await visitor(browser), await visitor(browser)];
  const page = webmaster.page;
  // A picture drawn by the browser: the Zürich meetup's.
  const picture = Buffer.from((await page.evaluate(() => {
    const canvas = Object.assign(document.createElement("canvas"), { width: 900, height: 600 });
    const draw = canvas.getContext("2d");
    draw.fillStyle = "#1f3b57"; draw.fillRect(0, 0, 900, 600);
    draw.fillStyle = "#f0c419"; draw.beginPath(); draw.arc(650, 180, 90, 0, 7); draw.fill();
    draw.fillStyle = "#589632"; draw.fillRect(0, 420, 900, 180);
    return canvas.toDataURL("image/png");
  })).split(",")[1], "base64");
  const alt = "A full moon over green hills, drawn for the meetup";
  const meetup = await publish(token, {
    kind: "meetup", title: "QGIS-Treffen Zürich", language: "de",
    content: "<p>Wir zeigen Projekte, beantworten Fragen und trinken Kaffee.</p><p>Bring deinen Laptop mit.</p>",
    starts_at: inDays(9, 16), ends_at: inDays(9, 19), timezone: "Europe/Zurich",
    location_name: "ETH Zürich, HG E 41", recurrence: "FREQ=MONTHLY;COUNT=6", image_alt: alt,
  }, picture);
  const event = await publish(token, {
    kind: "event", title: "Rencontre QGIS Lausanne", language: "fr",
    content: "<p>Une journée de présentations et d'ateliers.</p>",
    starts_at: inDays(20, 7), ends_at: inDays(20, 15), timezone: "Europe/Zurich", location_name: "EPFL",
  });
  const hostile = await publish(token, {
    kind: "announcement", title: HOSTILE_TITLE, language: "de",
    content: "<p>Neu: unsere Karten der Woche, jeden Montag.</p>",
  });
  const titles = { [meetup]: "QGIS-Treffen Zürich", [event]: "Rencontre QGIS Lausanne", [hostile]: HOSTILE_TITLE };

  step("the group page offers the three snippets and a preview that takes its height");
  await page.goto(`${base}/groups/qgis-ch`);
  const section = page.locator("section.embed");
  await section.scrollIntoViewIfNeeded();
  const scriptSnippet = await page.locator("#embed-script").inputValue();
  const frameSnippet = await page.locator("#embed-frame").inputValue();
  const pageUrl = await page.locator("#embed-link").inputValue();
  check(scriptSnippet.includes(`${base}/embed.js`) && scriptSnippet.includes('group="qgis-ch"'), scriptSnippet);
  check(frameSnippet.includes(`${base}/embed/groups/qgis-ch`) && frameSnippet.includes("newsfeed:height"), frameSnippet);
  check(pageUrl === `${base}/groups/qgis-ch`, pageUrl);
  await section.getByRole("button", { name: "Copy" }).first().click();
  await section.getByRole("button", { name: /^(Copied|Selected)/ }).first().waitFor();
  const preview = await sizedFrame(page, "/embed/groups/qgis-ch", 640);
  check(await preview.getByRole("link", { name: "QGIS-Treffen Zürich" }).count() === 1, "the preview lists the meetup");
  if (shots) {
    await section.screenshot({ path: join(shots, "group-embed-section-desktop.png") });
    await page.setViewportSize(PHONE);
    await sizedFrame(page, "/embed/groups/qgis-ch", -1);
    await section.screenshot({ path: join(shots, "group-embed-section-phone.png") });
    await page.setViewportSize(DESKTOP);
  }

  step("a CMS asks for the oEmbed of the hostile entry's page and inserts its HTML");
  const answer = await (await fetch(`${base}/oembed?url=${encodeURIComponent(`${base}/entries/${hostile}`)}&format=json`)).json();
  check(answer.type === "rich" && answer.title === HOSTILE_TITLE, JSON.stringify(answer));
  check(!/<img|<script/i.test(answer.html), `the oEmbed HTML is one frame: ${answer.html}`);

  const host = await hostSite(`<!doctype html>
<html lang="de">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>QGIS Schweiz: our own site</title>
<link rel="icon" href="data:,">
<style>${HOSTILE_CSS}</style>
</head>
<body>
<header><h1>QGIS Schweiz</h1><p>Our own site, on another origin, with a theme that breaks everything it reaches.</p></header>
<main>
<h2>Our meetups in German (the element, filtered)</h2>
<newsfeed-entries group="qgis-ch" kind="meetup" lang="de" limit="3" theme="light"></newsfeed-entries>
<h2>All our news (the snippet from the group page)</h2>
${scriptSnippet}
<h2>One entry, dark</h2>
<newsfeed-entry id="${hostile}" theme="dark"></newsfeed-entry>
<h2>The frame (the snippet from the group page)</h2>
${frameSnippet}
<h2>A pasted link (oEmbed)</h2>
${answer.html}
</main>
</body>
</html>`);
  try {
    step(`the host page at ${host.origin} shows the embeds`);
    const { context, page } = reader;
    check(new URL(host.origin).origin !== new URL(base).origin, "another origin");
    const sent = [];
    page.on("request", (request) => { if (request.url().startsWith(base)) sent.push(request); });
    await page.goto(host.origin);

    const filtered = page.locator('newsfeed-entries[kind="meetup"]');
    await filtered.locator("li").first().waitFor();
    check(await filtered.locator("li").count() === 1, "only the German meetup");
    const link = filtered.getByRole("link", { name: "QGIS-Treffen Zürich" });
    check(await link.getAttribute("href") === `${base}/entries/${meetup}`, "the title links to its page");
    check(await link.isVisible(), "the host's CSS does not hide it");
    const style = await link.evaluate((node) => {
      const computed = getComputedStyle(node);
      return { size: parseFloat(computed.fontSize), color: computed.color, transform: computed.textTransform };
    });
    check(style.size < 20 && style.color !== "rgb(139, 0, 0)" && style.transform === "none",
      `the host's CSS does not reach inside: ${JSON.stringify(style)}`);
    const image = filtered.locator("img");
    check(await image.getAttribute("alt") === alt, "the picture says what it shows");
    check((await image.boundingBox()).width > 100, "the host's img rule does not shrink it");
    const meta = await filtered.locator(".m").first().textContent();
    check(meta.startsWith("Meetup · Next: ") && meta.includes("ETH Zürich"), `the next occurrence and place: ${meta}`);
    check(await filtered.getByText("Bring deinen Laptop mit.").count() === 1, "the text, without the summary");

    const all = page.locator("newsfeed-entries:not([kind])");
    await all.locator("li").nth(2).waitFor();
    const listed = await all.locator("li .t a").evaluateAll((links) => links.map((one) => [one.textContent, one.href]));
    check(listed.length === 3, `three entries: ${JSON.stringify(listed)}`);
    for (const [text, href] of listed) {
      const id = href.split("/").pop();
      check(titles[id] === text && href === `${base}/entries/${id}`, `${text} -> ${href}`);
    }
    check(await all.locator("ul").getAttribute("aria-label") === "News from QGIS Schweiz", "the list is named");

    const one = page.locator("newsfeed-entry");
    await one.locator(".t a").waitFor();
    check(await one.locator(".t a").textContent() === HOSTILE_TITLE, "a hostile title is text");
    check(await one.locator('img[src="x"]').count() === 0, "and no element");

    const frame = await sizedFrame(page, "/embed/groups/qgis-ch", 640);
    const framed = await frame.locator("h2 a").evaluateAll((links) => links.map((one) => [one.textContent, one.href]));
    check(framed.length === 3 && framed.every(([text, href]) => titles[href.split("/").pop()] === text
      && href === `${base}/entries/${href.split("/").pop()}`), `the frame's links: ${JSON.stringify(framed)}`);
    const pasted = await sizedFrame(page, `/embed/entries/${hostile}`, 480);
    check(await pasted.locator("h1 a").textContent() === HOSTILE_TITLE, "the oEmbed frame shows the entry");
    check(!(await page.evaluate(() => window.alerted)), "nothing ran from a title");

    step("no cookie, no referrer, the script within its budget, nothing for axe-core");
    check((await context.cookies()).length === 0, `no cookies: ${JSON.stringify(await context.cookies())}`);
    for (const request of sent.filter((one) => one.resourceType() === "fetch")) {
      const headers = await request.allHeaders();
      check(!headers.cookie && !headers.referer, `${request.url()} carries no cookie or referrer`);
    }
    check(sent.some((one) => one.resourceType() === "fetch"), "the elements read the feeds");
    const wire = await scriptOnTheWire();
    check(wire.headers["content-encoding"] === "gzip" && wire.headers["access-control-allow-origin"] === "*", JSON.stringify(wire.headers));
    check(wire.bytes <= BUDGET_BYTES, `/embed.js is ${wire.bytes} bytes gzipped, over ${BUDGET_BYTES}`);
    step(`/embed.js: ${wire.bytes} bytes gzipped (budget ${BUDGET_BYTES})`);
    await accessible(page, "the host page with the embeds");
    if (shots) {
      await page.screenshot({ path: join(shots, "embed-host-desktop.png"), fullPage: true });
      await page.setViewportSize(PHONE);
      await sizedFrame(page, "/embed/groups/qgis-ch", -1);
      await page.screenshot({ path: join(shots, "embed-host-phone.png"), fullPage: true });
    }
    step("done");
  } finally {
    host.server.close();
    await browser.close();
  }
}

await main();
