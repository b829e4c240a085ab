// The whole life of an entry in a real browser: an admin invites an editor
// and a moderator, the editor sets a password and submits an event, the
// moderator asks for changes, the editor fixes and resubmits, the moderator
// approves, and the entry is in /?json=1, /feed.rss and on its public page.
// A moderator saves a named area, which the editor's form then offers.
// Then one form is filled in by keyboard only. With a screenshot directory,
// every main page is saved at desktop and phone width.
//
//   node flow.mjs BASE_URL [SCREENSHOT_DIR]
import { chromium } from "playwright-core";
import { mkdtempSync, rmSync, mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { deflateSync } from "node:zlib";
import { createServer } from "node:http";

const [base, shots] = process.argv.slice(2);
if (!base) throw new Error("usage: node flow.mjs BASE_URL [SCREENSHOT_DIR]");
const ADMIN = { email: "admin@example.org", password: "e2e admin password" };
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };
const started = Date.now();
// axe-core, run in every page the flow looks at (evaluated through the
// DevTools protocol, which the pages' CSP does not apply to).
const AXE = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
// A 1 x 1 grey PNG.
const BLANK_TILE = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAAAAAA6fptVAAAACklEQVR4nGP4DwABAQEAWk1v8QAAAABJRU5ErkJggg==", "base64");
const profiles = [];
let errorPagesExpected = false;
const contexts = [];

function step(text) {
  console.log(`[${((Date.now() - started) / 1000).toFixed(1)} s] ${text}`);
}

function check(condition, message) {
  if (!condition) throw new Error(`check failed: ${message}`);
}

/** A browser of one person: Debian's chromium with a profile of its own. */
async function person() {
  const dir = mkdtempSync(join(tmpdir(), "newsfeed-e2e-"));
  profiles.push(dir);
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: "/usr/bin/chromium",
    headless: true,
    viewport: DESKTOP,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  contexts.push(context);
  // Map tiles come from OpenStreetMap; here a blank tile stands in (no network in CI).
  await context.route(/^https:\/\/tile\.openstreetmap\.org\//, (route) =>
    route.fulfill({ status: 200, contentType: "image/png", body: BLANK_TILE }));
  const page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(15000);
  // A page error or a refused script (CSP) fails the run.
  page.on("pageerror", (error) => { throw error; });
  page.on("console", (message) => {
    // An error page's own status is reported as a failed load: expected there.
    if (errorPagesExpected && /status of 40[34]/.test(message.text())) return;
    if (message.type() === "error") throw new Error(`console error on ${page.url()}: ${message.text()}`);
  });
  return { context, page };
}

async function go(page, path) {
  const response = await page.goto(base + path);
  check(response.ok(), `${path} answered ${response.status()}`);
  return response;
}

/** Fails on any accessibility violation axe-core finds on the page as it is. */
async function accessible(page, name) {
  await page.evaluate(`${AXE}\n;true`);
  const { violations } = await page.evaluate(() => window.axe.run(document, { resultTypes: ["violations"] }));
  const problems = violations.map((violation) => `${violation.id} (${violation.impact}): ${violation.help}: ` +
    violation.nodes.slice(0, 3).map((node) => node.target.join(" ")).join("; "));
  check(problems.length === 0, `axe-core on ${name} (${page.url()}):\n  ${problems.join("\n  ")}`);
}

async function shot(page, name) {
  await accessible(page, name);
  if (!shots) return;
  await page.screenshot({ path: join(shots, `${name}-desktop.png`), fullPage: true });
  await page.setViewportSize(PHONE);
  await page.screenshot({ path: join(shots, `${name}-phone.png`), fullPage: true });
  await page.setViewportSize(DESKTOP);
}

/** Fails when `path` is wider than the window at phone or desktop width. */
async function noSidewaysScroll(page, path) {
  await go(page, path);
  for (const size of [PHONE, DESKTOP]) {
    await page.setViewportSize(size);
    const [scroll, width] = await page.evaluate(() =>
      [document.documentElement.scrollWidth, document.documentElement.clientWidth]);
    check(scroll <= width, `${path} scrolls sideways at ${size.width} px: ${scroll} px wide in ${width}`);
  }
  await page.setViewportSize(DESKTOP);
}

async function signIn(page, who) {
  await go(page, "/login");
  await page.getByLabel("Email address").fill(who.email);
  await page.getByLabel("Password").fill(who.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForLoadState();
}

async function invite(admin, email, name, role, group) {
  await go(admin, "/admin/users");
  await admin.getByLabel("Email address").fill(email);
  await admin.getByLabel("Name", { exact: true }).fill(name);
  await admin.getByLabel("Role", { exact: true }).selectOption(role);
  await admin.getByLabel("Group (optional)").selectOption(group);
  await admin.getByRole("button", { name: "Invite" }).click();
  const link = await admin.locator(".flash input.share").inputValue();
  check(link && link.includes("/invite/"), "the invitation link is shown");
  return link;
}

async function setPassword(page, link, password) {
  await page.goto(link);
  await page.getByLabel("New password", { exact: true }).fill(password);
  await page.getByLabel("New password again").fill(password);
  await page.getByRole("button", { name: "Set password and sign in" }).click();
  await page.waitForLoadState();
}

/** Presses Tab until `selector` has the focus: proves it is reachable by keyboard. */
/** Searches the start page with its search box, as a visitor does. */
async function search(page, words, title) {
  step(`searching "${words}" on the start page finds the entry`);
  await go(page, "/");
  await page.getByLabel("Search", { exact: true }).fill(words);
  await page.getByRole("button", { name: "Search", exact: true }).click();
  await page.waitForLoadState();
  await page.getByRole("link", { name: title }).waitFor();
  await page.getByText(`1 result for “${words}”`).waitFor();
  check(new URL(page.url()).searchParams.get("q") === words, "the query is in the address");
  await shot(page, "home-search");
  await page.getByLabel("Search", { exact: true }).fill("nothing like this");
  await page.getByRole("button", { name: "Search", exact: true }).click();
  await page.getByText("Nothing matches “nothing like this”.").waitFor();
}

async function tabTo(page, selector) {
  for (let presses = 0; presses < 80; presses++) {
    if (await page.evaluate((s) => document.activeElement?.matches(s) ?? false, selector)) return;
    await page.keyboard.press("Tab");
  }
  throw new Error(`${selector} cannot be reached with Tab`);
}

/** Without a mail server, approving a request shows the admin the new
 *  owner's invitation link, in the message and in the person's row. */
async function approveWithoutMail(admin, group, contact) {
  step("without a mail server, the admin approves a request and passes its link on");
  await go(admin, "/admin/access-requests");
  await admin.getByLabel(`Create the group ${group}`).check();
  await admin.getByRole("button", { name: "Approve" }).click();
  await admin.getByText(`${contact} is invited to own it`).waitFor();
  const link = await admin.locator(".flash input.share").inputValue();
  check(link.includes("/invite/"), "the approval shows the invitation link");
  await go(admin, "/admin/users");
  const row = admin.locator("tr", { hasText: contact });
  check((await row.locator("input.share").inputValue()) === link, "the row shows the same link");
  await row.getByRole("button", { name: "Copy link" }).click();
  await row.getByRole("button", { name: /^(Copied|Selected)/ }).waitFor();
  await shot(admin, "admin-users-links");
  await noSidewaysScroll(admin, "/admin/users");
  await go(admin, "/admin/outbox");
  await shot(admin, "admin-outbox");
  await noSidewaysScroll(admin, "/admin/outbox");
}

/** A PNG made here: `width` x `height`, green above, white below. */
function png(width, height) {
  const table = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (bytes) => {
    let c = 0xffffffff;
    for (const byte of bytes) c = table[(c ^ byte) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type, data) => {
    const body = Buffer.concat([Buffer.from(type, "ascii"), data]);
    const out = Buffer.alloc(body.length + 8);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc(body), body.length + 4);
    return out;
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8); // 8-bit RGB
  const rows = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) {
    const colour = y < height / 2 ? [88, 150, 49] : [250, 250, 245];
    for (let x = 0; x < width; x++) rows.set(colour, y * (width * 3 + 1) + 1 + x * 3);
  }
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk("IHDR", header),
    chunk("IDAT", deflateSync(rows)), chunk("IEND", Buffer.alloc(0))]);
}

/** The editor uploads a picture with the form (seen at once, then as the
 * stored 500x354 crop in the preview), submits, the moderator approves,
 * and the picture is on the start page and in the JSON feed. */
async function picture(editor, moderator, visitor) {
  step("the editor adds a picture to an announcement; it is on / and in /feed.json once approved");
  const alt = "The QGIS logo colours in two bands";
  await go(editor, "/my/entries/new?kind=announcement");
  await editor.getByLabel("Title", { exact: true }).fill("Map night with a picture");
  await editor.getByLabel("Text", { exact: true }).fill("Bring your maps; we print the best one.");
  await editor.getByLabel("Picture", { exact: true }).setInputFiles({ name: "bands.png", mimeType: "image/png", buffer: png(900, 600) });
  const chosen = editor.locator("#picture-now img");
  await chosen.waitFor();
  check((await chosen.getAttribute("src")).startsWith("blob:"), "the chosen file shows before it is sent");
  await editor.getByLabel("What the image shows", { exact: true }).fill(alt);
  await shot(editor, "entry-picture-chosen");
  await editor.getByRole("button", { name: "Preview" }).click();
  await editor.getByText("QGIS 3 welcome page").waitFor();
  const previewed = await editor.locator(".q4-image img").getAttribute("src");
  check(previewed.startsWith("/media/"), `the preview shows the stored picture, not ${previewed}`);
  await shot(editor, "entry-picture-preview");
  await editor.getByRole("button", { name: "Save and submit for review" }).click();
  await editor.getByText("Submitted for review").waitFor();
  const id = editor.url().split("/").pop();
  await go(moderator, `/moderation/${id}`);
  await moderator.getByRole("button", { name: "Approve and publish" }).click();
  await moderator.getByText("Approved: it is published").waitFor();
  await go(visitor, "/");
  const card = visitor.locator(`img[alt="${alt}"]`).first();
  await card.waitFor();
  check((await card.getAttribute("src")).endsWith(previewed), "the start page shows the picture");
  const feed = await (await visitor.request.get(`${base}/feed.json`)).json();
  const item = feed.items.find((one) => one.url.endsWith(`/entries/${id}`) || one.id.endsWith(`/${id}`));
  check(item && item.image.endsWith(previewed), "the JSON feed has the picture");
  check(item._newsfeed.image_alt === alt, "the JSON feed says what it shows");
}

async function main() {
  if (shots) mkdirSync(shots, { recursive: true });
  const title = "QGIS-Treffen Bonn";

  step("a group asks for access, anonymously");
  const visitor = await person();
  await go(visitor.page, "/");
  await shot(visitor.page, "home-empty");
  await go(visitor.page, "/request-access");
  await visitor.page.getByLabel("Group name").fill("QGIS Chile");
  await visitor.page.getByLabel("Your email address").fill("chile@example.org");
  await visitor.page.getByLabel("Country").selectOption("CL");
  await shot(visitor.page, "request-access");
  await visitor.page.getByRole("button", { name: "Send the request" }).click();
  await visitor.page.getByText("your request for").waitFor();

  step("the admin signs in, creates a group and invites an editor and a moderator");
  const admin = await person();
  await go(admin.page, "/login");
  await shot(admin.page, "login");
  await signIn(admin.page, ADMIN);
  await go(admin.page, "/admin/groups");
  await admin.page.getByLabel("Name", { exact: true }).fill("QGIS Deutschland");
  await admin.page.getByLabel("Short name").fill("qgis-de");
  await admin.page.getByLabel("Country").selectOption("DE");
  await admin.page.getByRole("button", { name: "Create group" }).click();
  await admin.page.getByText("Group QGIS Deutschland created").waitFor();
  await go(admin.page, "/admin/groups");
  await shot(admin.page, "admin-groups");
  const editorLink = await invite(admin.page, "ed@example.org", "Eda Editor", "member", "qgis-de");
  await shot(admin.page, "admin-users");
  const moderatorLink = await invite(admin.page, "mo@example.org", "Mo Moderator", "moderator", "");
  await go(admin.page, "/admin/access-requests");
  await shot(admin.page, "admin-access-requests");
  await approveWithoutMail(admin.page, "qgis-chile", "chile@example.org");

  step("the editor sets a password and submits an event");
  const editor = await person();
  await editor.page.goto(editorLink);
  await shot(editor.page, "set-password");
  await setPassword(editor.page, editorLink, "eda's own password");
  check(editor.page.url().endsWith("/my/entries"), `the editor lands on their entries, not ${editor.page.url()}`);
  await go(editor.page, "/my/entries/new");
  await shot(editor.page, "new-entry");
  await editor.page.getByRole("link", { name: /^Meetup/ }).click();
  const form = editor.page;
  await form.getByLabel("Title", { exact: true }).fill(title);
  await form.getByLabel("Text", { exact: true }).fill("Everyone who uses QGIS is welcome: talks, questions, coffee.\n\nBring a laptop if you like.");
  await form.getByLabel("Link (URL)", { exact: true }).fill("https://qgis.de/treffen");
  await form.getByLabel("Call to action", { exact: true }).fill("Sign up on qgis.de");
  check((await form.getByLabel("Time zone of the venue").inputValue()) === "Europe/Berlin", "the group's zone comes first");
  await form.getByLabel("Starts", { exact: true }).fill("2030-05-04T18:00");
  await form.getByLabel("Ends", { exact: true }).fill("2030-05-04T21:00");
  await form.getByLabel("Venue", { exact: true }).fill("Universität Bonn");
  await form.getByLabel("Latitude", { exact: true }).fill("50.7339");
  await form.getByLabel("Longitude", { exact: true }).fill("7.1022");
  await form.getByLabel("Language", { exact: true }).selectOption("de");
  check((await form.locator("#content-count").textContent()).includes("of 500 characters"), "the counter counts");
  await form.getByRole("button", { name: "Preview" }).click();
  await form.getByText("QGIS 3 welcome page").waitFor();
  await shot(form, "entry-form");
  await form.getByRole("button", { name: "Save and submit for review" }).click();
  await form.getByText("Submitted for review").waitFor();
  const entryUrl = form.url();
  const id = entryUrl.split("/").pop();
  await go(editor.page, "/my/entries");
  await shot(editor.page, "my-entries");

  step("the moderator asks for changes");
  const moderator = await person();
  await setPassword(moderator.page, moderatorLink, "mo's own password");
  check(moderator.page.url().endsWith("/moderation"), "the moderator lands on the queue");
  await shot(moderator.page, "moderation-queue");
  await moderator.page.getByRole("link", { name: title }).click();
  await moderator.page.getByLabel("What should change (required)").fill("Please add the room number to the venue.");
  await shot(moderator.page, "moderation-entry");
  await moderator.page.getByRole("button", { name: "Request changes" }).click();
  await moderator.page.getByText("Sent back to the group").waitFor();

  step("the editor fixes and resubmits");
  await editor.page.goto(entryUrl);
  await editor.page.getByText("Please add the room number").first().waitFor();
  await shot(editor.page, "entry-changes-requested");
  await editor.page.getByRole("link", { name: "Make the changes" }).click();
  await editor.page.getByLabel("Venue", { exact: true }).fill("Universität Bonn, Hörsaal 1");
  await editor.page.getByRole("button", { name: "Save and resubmit" }).click();
  await editor.page.getByText("Submitted for review").waitFor();

  step("the moderator approves");
  await go(moderator.page, `/moderation/${id}`);
  await moderator.page.getByRole("button", { name: "Approve and publish" }).click();
  await moderator.page.getByText("Approved: it is published").waitFor();

  step("the entry is in the QGIS JSON, the RSS feed and on its public page");
  const json = await (await visitor.page.request.get(`${base}/?json=1`)).json();
  check(json.some((item) => String(item.pk) === id && item.title.startsWith("QGIS-Treffen Bonn")), "in /?json=1");
  const rss = await (await visitor.page.request.get(`${base}/feed.rss`)).text();
  check(rss.includes(title), "in /feed.rss");
  await go(visitor.page, `/entries/${id}`);
  await visitor.page.getByText("Hörsaal 1").waitFor();
  await visitor.page.getByRole("link", { name: "Google Calendar" }).waitFor();
  await shot(visitor.page, "public-entry");

  step("the public calendar lists it under its month");
  await go(visitor.page, "/events");
  await visitor.page.getByRole("heading", { name: "May 2030" }).waitFor();
  await visitor.page.getByRole("link", { name: title }).waitFor();
  await shot(visitor.page, "events");
  await go(visitor.page, "/archive");
  await shot(visitor.page, "archive");
  await go(visitor.page, "/");
  await visitor.page.getByRole("link", { name: title }).waitFor();
  await shot(visitor.page, "home");
  await search(visitor.page, "treffen bonn", title);
  await go(visitor.page, "/groups");
  await shot(visitor.page, "groups");
  await go(visitor.page, "/groups/qgis-de");
  await shot(visitor.page, "group");
  await go(editor.page, new URL(entryUrl).pathname);
  await shot(editor.page, "entry-published");
  await go(admin.page, "/admin/groups/qgis-de");
  await shot(admin.page, "admin-group");

  step("the moderator saves an area, and the editor's form offers it");
  await go(moderator.page, "/moderation/areas");
  await moderator.page.getByLabel("Name", { exact: true }).fill("Bonn region");
  await moderator.page.getByLabel("Outline").fill("[[6.9, 50.6], [7.3, 50.6], [7.3, 50.85], [6.9, 50.85]]");
  await moderator.page.getByRole("button", { name: "Save area" }).click();
  await moderator.page.getByText("Area Bonn region saved").waitFor();
  await shot(moderator.page, "moderation-areas");
  await go(editor.page, "/my/entries/new?kind=announcement");
  await editor.page.getByLabel("Saved area (optional)").selectOption({ label: "Bonn region" });

  step("keyboard only: the editor writes and submits an announcement");
  const keys = editor.page;
  await go(keys, "/my/entries/new?kind=announcement");
  await tabTo(keys, "#title");
  await keys.keyboard.type("Keyboard news");
  await tabTo(keys, "#content");
  await keys.keyboard.type("Written without a mouse.");
  await tabTo(keys, "#language");
  await keys.keyboard.press("End");
  await tabTo(keys, 'button[value="submit"]');
  await keys.keyboard.press("Enter");
  await keys.getByText("Submitted for review").waitFor();
  const keyboardId = keys.url().split("/").pop();
  await go(moderator.page, `/moderation/${keyboardId}`);
  await tabTo(moderator.page, 'form[action$="/approve"] button');
  await moderator.page.keyboard.press("Enter");
  await moderator.page.getByText("Approved: it is published").waitFor();
  const again = await (await visitor.page.request.get(`${base}/?json=1`)).json();
  check(again.some((item) => String(item.pk) === keyboardId), "the keyboard entry is published");

  await picture(editor.page, moderator.page, visitor.page);

  step("the longest unbroken values make no page scroll sideways, at phone or desktop width");
  const longWord = "Ü".repeat(100) + "x".repeat(155);
  const longUrl = `https://example.org/${"a".repeat(400)}`;
  await go(editor.page, "/my/entries/new?kind=announcement");
  await editor.page.getByLabel("Title", { exact: true }).fill(longWord);
  await editor.page.getByLabel("Text", { exact: true }).fill(longWord);
  await editor.page.getByLabel("Link (URL)", { exact: true }).fill(longUrl);
  await editor.page.getByLabel("Call to action", { exact: true }).fill(longWord.slice(0, 80));
  await editor.page.getByRole("button", { name: "Save and submit for review" }).click();
  await editor.page.getByText("Submitted for review").waitFor();
  const longId = editor.page.url().split("/").pop();
  await noSidewaysScroll(editor.page, "/my/entries");
  await noSidewaysScroll(editor.page, `/my/entries/${longId}`);
  await noSidewaysScroll(moderator.page, "/moderation");
  await noSidewaysScroll(moderator.page, `/moderation/${longId}`);
  await moderator.page.getByRole("button", { name: "Approve and publish" }).click();
  await moderator.page.getByText("Approved: it is published").waitFor();
  for (const path of ["/", `/entries/${longId}`, "/groups/qgis-de", "/archive"]) {
    await noSidewaysScroll(visitor.page, path);
  }
  await go(visitor.page, "/");
  await shot(visitor.page, "home-long-title");

  step("error pages are accessible too, and show who is signed in");
  errorPagesExpected = true;
  await visitor.page.goto(base + "/no/such/page");
  await visitor.page.getByRole("heading", { name: /not found/i }).waitFor();
  await shot(visitor.page, "error-not-found");
  const refused = await editor.page.goto(base + "/moderation");
  check(refused.status() === 403, `an editor gets 403 on /moderation, not ${refused.status()}`);
  await shot(editor.page, "error-forbidden");
  errorPagesExpected = false;

  await moderatorFixesATypo(moderator.page, editor.page, id);
  await aDraftSurvivesLeaving(editor.page);
  await translations(editor.page, moderator.page, visitor.page);
  await groupCalendars(admin.page);

  step("done");
}

/** The moderator fixes a typo in the live entry themselves and publishes it as a correction. */
async function moderatorFixesATypo(moderator, editor, id) {
  step("the moderator fixes a typo themselves; the history says it was them");
  await go(moderator, `/moderation/${id}`);
  await moderator.getByText("Everything it will publish").waitFor();
  check(await moderator.locator(".map-frame svg .venue").count() === 1, "the map marks the venue");
  await moderator.getByRole("link", { name: "Fix it yourself" }).click();
  await moderator.getByText("as a moderator").waitFor();
  await moderator.getByLabel("Call to action", { exact: true }).fill("Sign up at qgis.de");
  await moderator.getByRole("button", { name: "Save", exact: true }).click();
  await moderator.getByText("recorded as yours").waitFor();
  await shot(moderator, "moderation-fixed-by-moderator");
  check(await moderator.getByLabel(/^Correction/).isChecked(), "a typo fix is a correction by default");
  await moderator.getByRole("button", { name: "Approve and publish" }).click();
  await moderator.getByText("Approved: it is published").waitFor();
  await go(editor, `/my/entries/${id}`);
  await editor.getByText("Sign up at qgis.de").first().waitFor();
  await editor.getByText("Mo Moderator").first().waitFor();
}

/** Typed text is kept when the editor leaves the form, and comes back. */
async function aDraftSurvivesLeaving(editor) {
  step("a half-written entry is kept when the editor leaves, and comes back");
  await go(editor, "/my/entries/new?kind=announcement");
  await editor.getByLabel("Title", { exact: true }).fill("Half-written news");
  let warned = "";
  editor.once("dialog", (dialog) => { warned = dialog.type(); dialog.accept(); });
  await editor.goto(base + "/my/entries");
  check(warned === "beforeunload", `leaving with unsaved changes asks first (${warned || "no dialog"})`);
  for (let tries = 0; tries < 20; tries++) {
    await go(editor, "/my/entries/new?kind=announcement");
    if (await editor.getByText("Your unsaved changes are back").count()) break;
    await editor.waitForTimeout(250);
  }
  await editor.getByText("Your unsaved changes are back").waitFor();
  check(await editor.getByLabel("Title", { exact: true }).inputValue() === "Half-written news", "the title is back");
  await shot(editor, "entry-form-draft-restored");
  editor.once("dialog", (dialog) => dialog.accept());
  await editor.getByRole("button", { name: "Discard the unsaved changes" }).click();
  await editor.getByText("The unsaved changes are discarded").waitFor();
}

/** The editor writes an announcement in German with a French and an
 *  Italian translation, each in its tab; the moderator sees both, and a
 *  French reader gets the French text. */
async function translations(editor, moderator, visitor) {
  step("the editor adds French and Italian translations in tabs");
  await go(editor, "/my/entries/new?kind=announcement");
  await editor.getByLabel("Title", { exact: true }).fill("Kartenabend in Bonn");
  await editor.getByLabel("Text", { exact: true }).fill("Wir zeichnen Karten von Bonn, mit QGIS und Kaffee.");
  await editor.getByLabel("Call to action", { exact: true }).fill("Jetzt anmelden");
  await editor.getByLabel("Language", { exact: true }).selectOption("de");
  const choice = editor.getByLabel("Language of a new translation");
  for (const [code, name] of [["it", "Italian (it)"], ["fr", "French (fr)"]]) {
    await choice.selectOption(code);
    await editor.getByRole("button", { name: "Add a translation" }).click();
    await editor.getByRole("tab", { name }).waitFor();
    check(await editor.getByRole("tab", { name }).getAttribute("aria-selected") === "true", `the ${name} tab is chosen`);
    check(await editor.locator(`#translations\\.${code}\\.title`).evaluate((field) => field === document.activeElement),
      `its title has the focus`);
  }
  await editor.getByLabel("Title in French (fr)").fill("Soirée cartes à Bonn");
  await editor.getByLabel("Text in French (fr)").fill("Nous dessinons des cartes de Bonn, avec QGIS et du café.");
  await editor.getByLabel("Call to action in French (fr)").fill("S'inscrire");
  // The keyboard moves between the tabs.
  await editor.getByRole("tab", { name: "French (fr)" }).focus();
  await editor.keyboard.press("ArrowLeft");
  check(await editor.getByRole("tab", { name: "Italian (it)" }).getAttribute("aria-selected") === "true", "ArrowLeft chooses Italian");
  check(await editor.getByLabel("Title in French (fr)").isHidden(), "one tab shows at a time");
  await editor.getByLabel("Title in Italian (it)").fill("Serata di mappe a Bonn");
  await editor.keyboard.press("Shift+Tab");
  await editor.keyboard.press("End");
  check(await editor.getByRole("tab", { name: "French (fr)" }).getAttribute("aria-selected") === "true", "End chooses the last tab");
  await editor.getByRole("tab", { name: "French (fr)" }).scrollIntoViewIfNeeded();
  await shot(editor, "entry-translations");
  await noSidewaysScrollHere(editor, "the entry form with translations");
  // A third one, removed again: French and Italian stay.
  await choice.selectOption("es");
  await editor.getByRole("button", { name: "Add a translation" }).click();
  await editor.getByRole("button", { name: "Remove the Spanish (es) translation" }).click();
  check(await editor.getByRole("tab").count() === 2, "the Spanish tab is gone");
  // Enter in a field saves, as before (not the first "Remove" button).
  await editor.getByLabel("Title in French (fr)").press("Enter");
  await editor.getByText("Draft saved").waitFor();
  const id = editor.url().split("/").pop();
  await go(editor, `/my/entries/${id}/edit`);
  check(await editor.getByRole("tab").count() === 2, "the saved translations come back as tabs");
  check(await editor.getByLabel("Title in Italian (it)").inputValue() === "Serata di mappe a Bonn", "with their texts");
  await editor.getByRole("button", { name: "Save and submit for review" }).click();
  await editor.getByText("Submitted for review").waitFor();
  await go(moderator, `/moderation/${id}`);
  await moderator.getByRole("heading", { name: "In other languages" }).waitFor();
  await moderator.getByText("Soirée cartes à Bonn").waitFor();
  await moderator.getByRole("button", { name: "Approve and publish" }).click();
  await moderator.getByText("Approved: it is published").waitFor();
  await go(visitor, `/entries/${id}?lang=fr`);
  await visitor.getByRole("heading", { name: "Soirée cartes à Bonn" }).waitFor();
}

/** Fails when the page as it is now is wider than the window at phone or desktop width. */
async function noSidewaysScrollHere(page, what) {
  for (const size of [PHONE, DESKTOP]) {
    await page.setViewportSize(size);
    const [scroll, width] = await page.evaluate(() =>
      [document.documentElement.scrollWidth, document.documentElement.clientWidth]);
    check(scroll <= width, `${what} scrolls sideways at ${size.width} px: ${scroll} px wide in ${width}`);
  }
  await page.setViewportSize(DESKTOP);
}

/** A group's Meetup calendar as its export link serves it: events a month
 *  and two months from now; `changed`: the first renamed, the second gone. */
function meetupCalendar(changed) {
  const day = (days) => new Date(Date.now() + days * 86400000).toISOString().slice(0, 10).replaceAll("-", "");
  const event = (uid, days, title) => ["BEGIN:VEVENT", `UID:${uid}@meetup.com`, `DTSTAMP:${day(0)}T120000Z`,
    `DTSTART;TZID=Europe/Berlin:${day(days)}T183000`, `DTEND;TZID=Europe/Berlin:${day(days)}T210000`,
    `SUMMARY:${title}`, "DESCRIPTION:Talks\\, questions and coffee. Everyone who uses QGIS is welcome.",
    "LOCATION:Universität Bonn (Regina-Pacis-Weg 3\\, Bonn)", `URL:https://www.meetup.com/qgis-de/events/${uid}/`,
    "END:VEVENT"];
  const lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Meetup//RemoteApi//EN",
    ...event("e2e-1", 30, changed ? "QGIS-Stammtisch Bonn (neuer Raum)" : "QGIS-Stammtisch Bonn"),
    ...(changed ? [] : event("e2e-2", 60, "QGIS-Anwendertreffen")), "END:VCALENDAR"];
  return lines.join("\r\n") + "\r\n";
}

/** The admin subscribes the group to its Meetup calendar (served here on
 *  loopback, which the server is allowed to fetch in this run), syncs it
 *  twice as it changes, and imports a file once. */
async function groupCalendars(admin) {
  step("the admin subscribes a group to its calendar, syncs it as it changes, and imports a file");
  let changed = false;
  const server = createServer((request, response) => {
    response.writeHead(200, { "content-type": "text/calendar; charset=utf-8" });
    response.end(meetupCalendar(changed));
  });
  await new Promise((done) => server.listen(0, "127.0.0.1", done));
  try {
    const url = `http://127.0.0.1:${server.address().port}/qgis-de.ics`;
    await go(admin, "/admin/groups/qgis-de");
    await admin.getByRole("link", { name: "Calendar subscriptions and imports" }).click();
    await admin.getByLabel("Link (URL) of the calendar").fill(url);
    await admin.getByLabel("Its events become").first().selectOption("meetup");
    await admin.getByRole("button", { name: "Subscribe" }).click();
    await admin.getByText("Subscribed:").waitFor();
    await admin.getByRole("button", { name: "Sync now" }).click();
    await admin.getByText("Fetched: 2 new, 0 updated, 0 cancelled.").waitFor();
    changed = true;
    await admin.getByRole("button", { name: "Sync now" }).click();
    await admin.getByText("Fetched: 0 new, 1 updated, 1 cancelled.").waitFor();
    await shot(admin, "group-calendars");
    await noSidewaysScrollHere(admin, "a calendar subscription's page");
    await admin.getByRole("link", { name: "Calendars of QGIS Deutschland" }).click();
    await admin.getByLabel("Calendar file").setInputFiles({ name: "treffen.ics", mimeType: "text/calendar",
      buffer: Buffer.from(meetupCalendar(false).replaceAll("@meetup.com", "@file")) });
    await admin.getByRole("button", { name: "Import" }).click();
    await admin.getByText("Imported: 2 new").waitFor();
    await noSidewaysScroll(admin, "/admin/groups/qgis-de/calendars");
  } finally {
    server.close();
  }
}

try {
  await main();
} finally {
  for (const context of contexts) await context.close().catch(() => {});
  for (const dir of profiles) rmSync(dir, { recursive: true, force: true, maxRetries: 5 });
}
