// An independent ActivityPub server built on Fedify: one Person, alice, who
// follows newsfeed groups the way a Mastodon user would. The integration
// tests drive it through a JSON control API under /control/ and read what
// arrived in alice's inboxes. See README.md.
import { createServer } from "node:http";
import { AsyncLocalStorage } from "node:async_hooks";
import { randomUUID } from "node:crypto";
import { inspect } from "node:util";
import {
  Accept,
  Activity,
  Announce,
  Create,
  Delete,
  Endpoints,
  Follow,
  Person,
  Reject,
  Undo,
  Update,
  Object as APObject,
  PUBLIC_COLLECTION,
  createFederation,
  getDocumentLoader,
  isActor,
  MemoryKvStore,
} from "@fedify/fedify";
import { configure, getLogger, getTextFormatter } from "@logtape/logtape";

const LOCAL = "alice";
const INBOX_PATH = /^\/(users\/[^/]+\/)?inbox$/;
const log = getLogger(["peer"]);

// The inbox POST being handled: its body (Fedify hands listeners the activity
// without its Linked Data signature; the tests get it as sent) and why Fedify
// refused it, gathered from Fedify's debug log (it says which check failed).
const inboxRequest = new AsyncLocalStorage();

/** An error's message with its causes (jsonld keeps the loader's error in details.cause). */
function describe(error) {
  const parts = [];
  for (let e = error; e != null && parts.length < 4; e = e.details?.cause ?? e.cause) {
    parts.push(String(e.message ?? e));
  }
  return parts.join(", caused by: ");
}

function collectWhy(record) {
  const store = inboxRequest.getStore();
  if (store == null) return;
  const text = record.message
    .map((part, i) =>
      i % 2 === 0 || typeof part === "string"
        ? part
        : part instanceof Error
          ? describe(part)
          : inspect(part, { breakLength: Infinity, depth: 3 })
    )
    .join("");
  if (/^Failed|^The signer/.test(text)) store.why.push(text);
}

// Fedify keeps the contexts it preloads in a module its package does not
// export; read the same object so that "preloaded" means exactly what the
// pinned Fedify serves without a network.
const { default: preloadedContexts } = await import(
  new URL("./node_modules/@fedify/fedify/esm/runtime/contexts.js", import.meta.url).href
);

const stderrFormat = getTextFormatter({ timestamp: "time" });
await configure({
  contextLocalStorage: new AsyncLocalStorage(),
  sinks: {
    // stdout carries only the ready line; every log line goes to stderr.
    stderr: (record) => process.stderr.write(stderrFormat(record).trimEnd() + "\n"),
    why: collectWhy,
  },
  loggers: [
    { category: ["peer"], sinks: ["stderr"], lowestLevel: "info" },
    { category: ["fedify"], sinks: ["stderr"], lowestLevel: process.env.PEER_LOG ?? "warning" },
    // Without PEER_LOG, mute the warning on every send that alice has no
    // Ed25519 key for Object Integrity Proofs (she has RSA only, on purpose).
    ...(process.env.PEER_LOG == null
      ? [{ category: ["fedify", "federation", "outbox"], sinks: [], lowestLevel: "error" }]
      : []),
    { category: ["fedify", "sig"], sinks: ["why"], lowestLevel: "debug" },
    { category: ["fedify", "federation", "inbox"], sinks: ["why"], lowestLevel: "debug" },
    { category: ["logtape", "meta"], sinks: ["stderr"], lowestLevel: "warning" },
  ],
});

class PeerError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/** The machine has no network but its own: only loopback is ever fetched. */
function isLoopback(url) {
  const host = new URL(url).hostname;
  return host === "localhost" || host === "[::1]" || /^127\.\d+\.\d+\.\d+$/.test(host);
}

function requireLoopback(url, what) {
  let parsed;
  try {
    parsed = new URL(url);
  } catch {
    throw new PeerError(400, `${what} is not a URL: ${url}`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new PeerError(400, `${what} is not http(s): ${url}`);
  }
  if (!isLoopback(parsed)) {
    throw new PeerError(400, `${what} is not on this machine (loopback only): ${url}`);
  }
  return parsed;
}

// Fedify's own loader answers preloaded contexts from memory and fetches the
// rest; these wrappers let through only what needs no network.
const builtinLoader = getDocumentLoader({ allowPrivateAddress: true });

async function contextLoader(url) {
  if (!(url in preloadedContexts)) {
    throw new Error(`JSON-LD context ${url} is not preloaded; the peer fetches no contexts`);
  }
  return await builtinLoader(url);
}

function loopbackOnly(loader) {
  return async (url) => {
    if (url in preloadedContexts) return await builtinLoader(url);
    if (!isLoopback(url)) {
      throw new Error(`${url} is not on this machine; the peer fetches loopback only`);
    }
    return await loader(url);
  };
}

const documentLoader = loopbackOnly(builtinLoader);

// The peer's memory: whom alice follows, who follows her, what arrived.
const following = new Map(); // actor id -> { actor, followId }
const followers = new Map(); // actor id -> actor
const received = [];
const refused = []; // inbox requests Fedify answered with an error
let gone = false;

// Fedify's generateCryptoKeyPair makes the same key with 4096 bits, which
// takes seconds on a busy machine; 2048 (what Mastodon uses) is the default
// here, PEER_RSA_BITS=4096 gives Fedify's size.
const keyPair = await crypto.subtle.generateKey(
  {
    name: "RSASSA-PKCS1-v1_5",
    modulusLength: Number(process.env.PEER_RSA_BITS ?? 2048),
    publicExponent: new Uint8Array([0x01, 0x00, 0x01]),
    hash: "SHA-256",
  },
  true,
  ["sign", "verify"]
);

const server = createServer((req, res) => {
  handle(req, res).catch((error) => {
    log.error("{method} {url} failed: {error}", { method: req.method, url: req.url, error });
    if (!res.headersSent) sendJson(res, 500, { error: String(error?.message ?? error) });
    else res.end();
  });
});
const port = Number(process.env.PEER_PORT ?? 0);
await new Promise((resolve) => server.listen(port, "127.0.0.1", resolve));
const origin = `http://127.0.0.1:${server.address().port}`;

const federation = createFederation({
  kv: new MemoryKvStore(),
  origin,
  allowPrivateAddress: true,
  documentLoaderFactory: () => documentLoader,
  contextLoaderFactory: () => contextLoader,
});

federation
  .setActorDispatcher("/users/{identifier}", async (ctx, identifier) => {
    if (identifier !== LOCAL) return null;
    const keys = await ctx.getActorKeyPairs(identifier);
    return new Person({
      id: ctx.getActorUri(identifier),
      preferredUsername: identifier,
      name: "Alice",
      summary: "A Fedify peer of the newsfeed tests",
      url: ctx.getActorUri(identifier),
      inbox: ctx.getInboxUri(identifier),
      outbox: ctx.getOutboxUri(identifier),
      followers: ctx.getFollowersUri(identifier),
      endpoints: new Endpoints({ sharedInbox: ctx.getInboxUri() }),
      publicKey: keys[0].cryptographicKey,
      assertionMethods: keys.map((key) => key.multikey),
    });
  })
  .mapHandle((_ctx, username) => (username === LOCAL ? LOCAL : null))
  .setKeyPairsDispatcher((_ctx, identifier) => (identifier === LOCAL ? [keyPair] : []));

federation.setFollowersDispatcher("/users/{identifier}/followers", (_ctx, identifier) =>
  identifier === LOCAL ? { items: [...followers.values()] } : null
);
federation.setOutboxDispatcher("/users/{identifier}/outbox", (_ctx, identifier) =>
  identifier === LOCAL ? { items: [] } : null
);

/** What arrived, as the tests read it: Fedify's parse of the object and the raw activity. */
async function record(ctx, activity) {
  const body = inboxRequest.getStore()?.body;
  const raw = body == null ? await activity.toJsonLd() : JSON.parse(body.toString("utf8"));
  const entry = {
    type: activity.constructor.name,
    id: activity.id?.href ?? null,
    actor: activity.actorId?.href ?? null,
    object: null,
    raw,
  };
  const rawObject = Array.isArray(raw?.object) ? raw.object[0] : raw?.object;
  if (typeof rawObject === "string") {
    // A bare URL (a Delete of a gone Note, an Accept naming the Follow by
    // id): record it as sent rather than dereference it.
    entry.object = rawObject;
  } else {
    try {
      const object = await activity.getObject(ctx);
      entry.object = object == null ? null : await object.toJsonLd({ format: "compact", contextLoader });
    } catch (error) {
      entry.objectError = String(error?.message ?? error);
    }
  }
  received.push(entry);
  log.info("received {type} {id} from {actor}", entry);
  return entry;
}

federation
  .setInboxListeners("/users/{identifier}/inbox", "/inbox")
  .on(Follow, async (ctx, follow) => {
    await record(ctx, follow);
    const alice = ctx.getActorUri(LOCAL);
    if (follow.objectId?.href !== alice.href || follow.id == null) return;
    const follower = await follow.getActor(ctx);
    if (follower == null || follower.id == null) return;
    followers.set(follower.id.href, follower);
    await ctx.sendActivity(
      { identifier: LOCAL },
      follower,
      new Accept({ id: new URL(`/users/${LOCAL}/accepts/${randomUUID()}`, ctx.origin), actor: alice, object: follow })
    );
  })
  .on(Undo, async (ctx, undo) => {
    const entry = await record(ctx, undo);
    if (entry.object?.type === "Follow" && undo.actorId != null) followers.delete(undo.actorId.href);
  })
  .on(Accept, record)
  .on(Reject, record)
  .on(Create, record)
  .on(Update, record)
  .on(Delete, record)
  .on(Announce, record)
  .on(Activity, record)
  .onError((_ctx, error) => {
    inboxRequest.getStore()?.why.push(describe(error));
    log.error("inbox refused an activity: {error}", { error: describe(error) });
  });

// ---- the HTTP side: control API, then Fedify ----

async function handle(req, res) {
  const body = await readBody(req);
  const url = new URL(req.url, origin);
  if (url.pathname.startsWith("/control/")) {
    let reply;
    try {
      reply = await control(req.method, url, body);
    } catch (error) {
      const status = error instanceof PeerError ? error.status : 502;
      log.error("{method} {path}: {error}", {
        method: req.method,
        path: url.pathname,
        error: error instanceof PeerError ? error.message : error,
      });
      reply = { status, json: { error: String(error?.message ?? error) } };
    }
    sendJson(res, reply.status ?? 200, reply.json);
    return;
  }
  if (gone && url.pathname.startsWith(`/users/${LOCAL}`)) {
    // Like Mastodon after an account is deleted.
    res.writeHead(410, { "content-type": "text/plain" }).end("Gone");
    return;
  }
  const headers = new Headers();
  for (let i = 0; i < req.rawHeaders.length; i += 2) headers.append(req.rawHeaders[i], req.rawHeaders[i + 1]);
  const request = new Request(new URL(req.url, `http://${req.headers.host ?? url.host}`), {
    method: req.method,
    headers,
    body: req.method === "GET" || req.method === "HEAD" ? undefined : body,
  });
  const isInboxPost = req.method === "POST" && INBOX_PATH.test(url.pathname);
  const store = isInboxPost ? { body, why: [] } : undefined;
  const response = await inboxRequest.run(store, () => federation.fetch(request, { contextData: undefined }));
  const responseBody = Buffer.from(await response.arrayBuffer());
  if (isInboxPost && response.status >= 400) {
    refused.push({ path: url.pathname, status: response.status, reason: responseBody.toString("utf8"), why: store.why });
  }
  log.info("{method} {path} -> {status}", { method: req.method, path: url.pathname, status: response.status });
  res.writeHead(response.status, Object.fromEntries(response.headers));
  res.end(responseBody);
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on("data", (chunk) => chunks.push(chunk));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

function sendJson(res, status, json) {
  res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(json));
}

function parseJson(body) {
  if (body.length === 0) return {};
  try {
    return JSON.parse(body.toString("utf8"));
  } catch (error) {
    throw new PeerError(400, `body is not JSON: ${error.message}`);
  }
}

async function control(method, url, body) {
  const ctx = federation.createContext(new URL(origin), undefined);
  const route = `${method} ${url.pathname}`;
  switch (route) {
    case "POST /control/follow":
      return { json: await follow(ctx, parseJson(body)) };
    case "POST /control/unfollow":
      return { json: await unfollow(ctx, parseJson(body)) };
    case "POST /control/delete-self":
      return { json: await deleteSelf(ctx, parseJson(body)) };
    case "GET /control/received":
      return { json: { activities: received, refused, unverified: refused.filter((r) => r.status === 401).length } };
    case "GET /control/lookup": {
      const target = url.searchParams.get("url");
      if (target == null) throw new PeerError(400, "missing ?url=");
      const object = await lookup(ctx, target);
      return { json: await object.toJsonLd({ format: "compact", contextLoader }) };
    }
    default:
      throw new PeerError(404, `no control route ${route}`);
  }
}

/** Fetches (signed as alice) and parses an object, with errors that say which step failed. */
async function lookup(ctx, target) {
  requireLoopback(target, "url");
  const loader = loopbackOnly(await ctx.getDocumentLoader({ identifier: LOCAL }));
  let document;
  try {
    document = (await loader(target)).document;
  } catch (error) {
    throw new PeerError(502, `fetching ${target} failed: ${error.message}`);
  }
  try {
    return await APObject.fromJsonLd(document, { documentLoader: loader, contextLoader });
  } catch (error) {
    throw new PeerError(502, `Fedify cannot parse ${target}: ${error.message}`);
  }
}

/** WebFinger over plain http: Fedify's lookupWebFinger always uses https for acct: URIs. */
async function webfinger(handle) {
  const match = /^@?([^@]+)@([^@]+)$/.exec(handle);
  if (match == null) throw new PeerError(400, `handle is not user@host: ${handle}`);
  const resource = `acct:${match[1]}@${match[2]}`;
  const url = requireLoopback(`http://${match[2]}/.well-known/webfinger`, "handle host");
  url.searchParams.set("resource", resource);
  let response;
  try {
    response = await fetch(url, { headers: { accept: "application/jrd+json" }, redirect: "error" });
  } catch (error) {
    throw new PeerError(502, `WebFinger ${url} failed: ${error.message}`);
  }
  if (!response.ok) throw new PeerError(502, `WebFinger ${url} answered ${response.status}`);
  const jrd = await response.json().catch((error) => {
    throw new PeerError(502, `WebFinger ${url} is not JSON: ${error.message}`);
  });
  const self = jrd.links?.find(
    (link) =>
      link.rel === "self" &&
      (link.type === "application/activity+json" || /^application\/ld\+json/.test(link.type ?? ""))
  );
  if (self?.href == null) throw new PeerError(502, `WebFinger ${url} has no self link to an ActivityPub actor`);
  return self.href;
}

async function lookupActor(ctx, target) {
  const actor = await lookup(ctx, target);
  if (!isActor(actor)) throw new PeerError(422, `${target} is a ${actor.constructor.name}, not an actor`);
  if (actor.id == null || actor.inboxId == null) throw new PeerError(422, `${target} has no id or no inbox`);
  requireLoopback(actor.inboxId, "the actor's inbox");
  if (actor.endpoints?.sharedInbox != null) requireLoopback(actor.endpoints.sharedInbox, "the actor's shared inbox");
  return actor;
}

async function follow(ctx, { actor: actorUrl, handle }) {
  if (actorUrl == null && handle == null) throw new PeerError(400, 'give "actor" (a URL) or "handle" (user@host)');
  const target = actorUrl ?? (await webfinger(handle));
  const actor = await lookupActor(ctx, target);
  const followId = new URL(`/users/${LOCAL}/follows/${randomUUID()}`, origin);
  await ctx.sendActivity(
    { identifier: LOCAL },
    actor,
    new Follow({ id: followId, actor: ctx.getActorUri(LOCAL), object: actor.id, to: actor.id })
  );
  following.set(actor.id.href, { actor, followId });
  return {
    actor: actor.id.href,
    follow: followId.href,
    inbox: actor.inboxId.href,
    sharedInbox: actor.endpoints?.sharedInbox?.href ?? null,
  };
}

async function unfollow(ctx, { actor: actorUrl }) {
  const followed = following.get(actorUrl);
  if (followed == null) throw new PeerError(404, `alice does not follow ${actorUrl}`);
  const alice = ctx.getActorUri(LOCAL);
  const undoId = new URL(`/users/${LOCAL}/undos/${randomUUID()}`, origin);
  await ctx.sendActivity(
    { identifier: LOCAL },
    followed.actor,
    new Undo({
      id: undoId,
      actor: alice,
      object: new Follow({ id: followed.followId, actor: alice, object: followed.actor.id }),
      to: followed.actor.id,
    })
  );
  following.delete(actorUrl);
  return { actor: actorUrl, undo: undoId.href, follow: followed.followId.href };
}

/** Deletes alice as Mastodon does: Delete(actor) to the shared inboxes; {"gone": true} also makes her 410. */
async function deleteSelf(ctx, { gone: becomeGone = false }) {
  const alice = ctx.getActorUri(LOCAL);
  const deleteId = new URL(`/users/${LOCAL}#delete-${randomUUID()}`, origin);
  const recipients = [...following.values()].map((f) => f.actor);
  if (recipients.length > 0) {
    await ctx.sendActivity(
      { identifier: LOCAL },
      recipients,
      new Delete({ id: deleteId, actor: alice, object: alice, to: PUBLIC_COLLECTION }),
      { preferSharedInbox: true }
    );
  }
  gone = Boolean(becomeGone);
  return { delete: deleteId.href, sentTo: recipients.map((a) => a.id.href), gone };
}

log.info("preloaded JSON-LD contexts: {urls}", { urls: Object.keys(preloadedContexts).join(" ") });
process.stdout.write(JSON.stringify({ ready: true, origin }) + "\n");

for (const signal of ["SIGTERM", "SIGINT"]) {
  process.on(signal, () => {
    server.close();
    process.exit(0);
  });
}
