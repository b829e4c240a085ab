// A group's news on any site, without a frame:
//   <script src="https://HOST/embed.js" async></script>
//   <newsfeed-entries group="qgis-ch" kind="event" lang="de" limit="5" theme="light|dark|auto"></newsfeed-entries>
//   <newsfeed-entry id="42"></newsfeed-entry>
// Each draws into its own shadow DOM, so the page's CSS and ours stay apart.
// It reads the public JSON Feeds (CORS) without cookies or referrer, at most
// once per address every 5 minutes, and sets the height of our /embed/
// frames on the page when they post it.
(() => {
  "use strict";
  if (customElements.get("newsfeed-entries")) return;
  const BASE = new URL(".", (document.currentScript && document.currentScript.src) || location.href);
  const FRESH_MS = 5 * 60 * 1000;
  const KINDS = { event: "Event", meetup: "Meetup", crowdfunding: "Crowdfunding", announcement: "Announcement" };
  const CSS = `:host{display:block!important}:host([hidden]){display:none!important}
.w{all:initial;display:block;color:var(--i);background:var(--p);padding:.25em .5em;font:var(--newsfeed-font,15px/1.5 system-ui,sans-serif);overflow-wrap:anywhere;
--p:#fff;--i:#1d1f1c;--m:#545b52;--l:var(--newsfeed-link,#3f6e23);--r:#d3d8d0}
.dark{--p:#161a14;--i:#eef2ea;--m:#b9c2b2;--l:var(--newsfeed-link,#9fd47a);--r:#3a4335}
@media(prefers-color-scheme:dark){.auto{--p:#161a14;--i:#eef2ea;--m:#b9c2b2;--l:var(--newsfeed-link,#9fd47a);--r:#3a4335}}
ul{list-style:none;margin:0;padding:0}li{border-top:1px solid var(--r);padding:.75em 0}li:first-child{border-top:0}
article{display:flow-root}a{color:var(--l)}a:focus-visible{outline:3px solid var(--l);outline-offset:2px}
img{float:right;width:38%;max-width:180px;height:auto;margin:.2em 0 .4em .8em;border-radius:4px}
.one img{float:none;display:block;width:100%;max-width:500px;margin:0 0 .6em}
p{margin:0 0 .4em}.t{font-weight:700;font-size:1.05em;line-height:1.3;margin-bottom:.2em}.m{color:var(--m);font-size:.9em}
ul .x{display:-webkit-box;-webkit-box-orient:vertical;-webkit-line-clamp:3;overflow:hidden}`;

  const cache = new Map();
  /** The JSON at `url`, fetched at most once every FRESH_MS. */
  function load(url) {
    const hit = cache.get(url);
    if (hit && Date.now() - hit.at < FRESH_MS) return hit.json;
    const json = fetch(url, { credentials: "omit", referrerPolicy: "no-referrer", mode: "cors" })
      .then((response) => { if (!response.ok) throw new Error(`${url}: ${response.status}`); return response.json(); });
    cache.set(url, { at: Date.now(), json });
    json.catch(() => cache.delete(url));
    return json;
  }

  function el(name, attributes, ...children) {
    const node = document.createElement(name);
    for (const [key, value] of Object.entries(attributes || {})) if (value != null) node.setAttribute(key, value);
    node.append(...children.filter((child) => child != null));
    return node;
  }

  /** `Sat, 4 May 2030, 18:00 – 21:00 CEST` in the reader's language, in the venue's zone. */
  function when(start, end, zone) {
    const options = { weekday: "short", day: "numeric", month: "short", year: "numeric", hour: "numeric", minute: "2-digit", timeZoneName: "short" };
    let format;
    try { format = new Intl.DateTimeFormat(undefined, { ...options, timeZone: zone || undefined }); }
    catch { format = new Intl.DateTimeFormat(undefined, options); }
    return end > start ? format.formatRange(start, end) : format.format(start);
  }

  /** The meta line: kind, when (the next time, for a series), where. */
  function meta(item) {
    const x = item._newsfeed || {};
    const parts = [KINDS[x.kind] || x.kind];
    const first = x.starts_at && new Date(x.starts_at);
    if (first) {
      const start = new Date(x.next_occurrence || x.starts_at);
      const end = x.ends_at ? new Date(start.getTime() + (new Date(x.ends_at) - first)) : start;
      parts.push((x.recurrence ? "Next: " : "") + when(start, end, x.timezone));
      if (x.event_status === "tentative") parts.push("Tentative");
      if (x.location_name) parts.push(x.location_name);
      if (x.attendance === "online") parts.push("online");
      if (x.attendance === "hybrid") parts.push("in person and online");
    } else {
      parts.push(new Intl.DateTimeFormat(undefined, { dateStyle: "medium" }).format(new Date(item.date_published)));
    }
    return parts.filter(Boolean).join(" · ");
  }

  /** The text as plain paragraphs, without the summary feeds put first (the meta line says it). */
  function paragraphs(item) {
    const body = new DOMParser().parseFromString(item.content_html || "", "text/html").body;
    const blocks = [...body.children].map((block) => block.textContent.trim()).filter(Boolean);
    if (!blocks.length && body.textContent.trim()) blocks.push(body.textContent.trim());
    if (item.summary && blocks[0] === item.summary) blocks.shift();
    return blocks.map((text) => el("p", null, text));
  }

  function card(item) {
    const page = new URL(`entries/${String(item.id).split("/").pop()}`, BASE).href;
    const picture = item.image && el("img", {
      src: item.image, alt: (item._newsfeed && item._newsfeed.image_alt) || "",
      width: 500, height: 354, loading: "lazy", referrerpolicy: "no-referrer",
    });
    const lang = item.language;
    return el("article", null, picture, el("p", { class: "t", lang }, el("a", { href: page }, item.title)),
      el("p", { class: "m" }, meta(item)), el("div", { class: "x", lang }, ...paragraphs(item)));
  }

  class Embed extends HTMLElement {
    connectedCallback() {
      if (!this.shadowRoot) this.attachShadow({ mode: "open" });
      clearInterval(this.timer);
      this.timer = setInterval(() => this.refresh(), FRESH_MS);
      this.refresh();
    }
    disconnectedCallback() { clearInterval(this.timer); }
    attributeChangedCallback() { if (this.shadowRoot) this.refresh(); }
    show(...content) {
      const theme = ["dark", "auto"].includes(this.getAttribute("theme")) ? this.getAttribute("theme") : "light";
      this.shadowRoot.replaceChildren(el("style", null, CSS), el("div", { class: `w ${theme} ${this.layout}` }, ...content));
    }
    async refresh() {
      const asked = this.url();
      if (!this.shadowRoot.childElementCount) this.show(el("p", { class: "m" }, "Loading the news…"));
      try {
        const feed = await load(asked);
        if (asked === this.url()) this.show(...this.render(feed));
      } catch {
        this.show(el("p", { class: "m" }, "The news could not be loaded. ", el("a", { href: this.page() }, "Read it on the site")));
      }
    }
  }

  class Entries extends Embed {
    static get observedAttributes() { return ["group", "kind", "lang", "limit", "theme"]; }
    get layout() { return "list"; }
    limit() { return Math.min(Math.max(parseInt(this.getAttribute("limit"), 10) || 10, 1), 100); }
    url() {
      const query = new URLSearchParams();
      for (const name of ["kind", "lang"]) if (this.getAttribute(name)) query.set(name, this.getAttribute(name));
      query.set("limit", this.limit());
      // Once /feed.json takes `group` and `limit`: `feed.json?group=${group}&${query}`.
      return new URL(`groups/${encodeURIComponent(this.getAttribute("group") || "")}/feed.json?${query}`, BASE).href;
    }
    page() { return new URL(`groups/${encodeURIComponent(this.getAttribute("group") || "")}`, BASE).href; }
    render(feed) {
      const items = feed.items.slice(0, this.limit());
      if (!items.length) return [el("p", { class: "m" }, "Nothing is published right now. ", el("a", { href: this.page() }, "See the group's page"))];
      return [el("ul", { "aria-label": feed.title }, ...items.map((item) => el("li", null, card(item))))];
    }
  }

  class Entry extends Embed {
    static get observedAttributes() { return ["id", "theme"]; }
    get layout() { return "one"; }
    url() { return new URL(`entries/${encodeURIComponent(this.getAttribute("id") || "")}.json`, BASE).href; }
    page() { return new URL(`entries/${encodeURIComponent(this.getAttribute("id") || "")}`, BASE).href; }
    render(feed) { return feed.items.map(card); }
  }

  customElements.define("newsfeed-entries", Entries);
  customElements.define("newsfeed-entry", Entry);

  // Our /embed/ frames post their height: the frame that sent it gets it.
  addEventListener("message", (event) => {
    const height = event.data && event.data.type === "newsfeed:height" && Number(event.data.height);
    if (event.origin !== BASE.origin || !(height > 0)) return;
    for (const frame of document.querySelectorAll("iframe")) {
      if (frame.contentWindow !== event.source) continue;
      // Its content box takes the page's height, whatever its border and padding.
      const style = getComputedStyle(frame);
      const content = frame.clientHeight - parseFloat(style.paddingTop) - parseFloat(style.paddingBottom);
      frame.style.height = `${parseFloat(style.height) + Math.min(height, 20000) - content}px`;
    }
  });
})();
