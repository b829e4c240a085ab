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
import { mkdtempSync, rmSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const [base, shots] = process.argv.slice(2);
if (!base) throw new Error("usage: node flow.mjs BASE_URL [SCREENSHOT_DIR]");
const ADMIN = { email: "admin@example.org", password: "e2e admin password" };
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };
const started = Date.now();
const profiles = [];
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
  const page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(15000);
  // A page error or a refused script (CSP) fails the run.
  page.on("pageerror", (error) => { throw error; });
  page.on("console", (message) => {
    if (message.type() === "error") throw new Error(`console error on ${page.url()}: ${message.text()}`);
  });
  return { context, page };
}

async function go(page, path) {
  const response = await page.goto(base + path);
  check(response.ok(), `${path} answered ${response.status()}`);
  return response;
}

async function shot(page, name) {
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
  const link = await admin.locator(".flash a.share").getAttribute("href");
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

  step("done");
}

try {
  await main();
} finally {
  for (const context of contexts) await context.close().catch(() => {});
  for (const dir of profiles) rmSync(dir, { recursive: true, force: true, maxRetries: 5 });
}
