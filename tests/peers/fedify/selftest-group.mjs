// The second half of selftest.sh: a stand-in for a newsfeed group (no
// Fedify, plain node:crypto) that signs the way the Rust server does --
// draft-cavage rsa-sha256 over "(request-target) host date digest" -- and
// sends what it sends: Accept, Create/Update of a Note, Delete with a
// Tombstone. Checks what the peer at argv[2] recorded and refused.
// Prints "ok"/"FAIL" lines and the closing count; exits 1 on a failure.
import { createServer } from "node:http";
import { createHash, createSign, generateKeyPairSync } from "node:crypto";

const peer = process.argv[2];
const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
const inbox = [];

const server = createServer((req, res) => {
  let body = "";
  req.on("data", (chunk) => (body += chunk));
  req.on("end", () => {
    const url = new URL(req.url, group.origin);
    if (req.method === "GET" && url.pathname === "/groups/qgis-ch") {
      res.writeHead(200, { "content-type": "application/activity+json" }).end(JSON.stringify(group.actor()));
    } else if (req.method === "GET" && url.pathname === "/.well-known/webfinger") {
      const ok = url.searchParams.get("resource") === `acct:qgis-ch@${new URL(group.origin).host}`;
      res.writeHead(ok ? 200 : 404, { "content-type": "application/jrd+json" }).end(
        JSON.stringify({
          subject: url.searchParams.get("resource"),
          links: [{ rel: "self", type: "application/activity+json", href: group.id }],
        })
      );
    } else if (req.method === "POST" && url.pathname === "/groups/qgis-ch/inbox") {
      inbox.push(JSON.parse(body));
      res.writeHead(202).end();
    } else {
      res.writeHead(404).end();
    }
  });
});
await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));

const group = {
  origin: `http://127.0.0.1:${server.address().port}`,
  get id() {
    return `${this.origin}/groups/qgis-ch`;
  },
  actor() {
    return {
      "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
      id: this.id,
      type: "Group",
      preferredUsername: "qgis-ch",
      name: "QGIS Switzerland",
      summary: "<p>User group news</p>",
      inbox: `${this.id}/inbox`,
      outbox: `${this.id}/outbox`,
      followers: `${this.id}/followers`,
      endpoints: { sharedInbox: `${this.origin}/inbox` },
      publicKey: {
        id: `${this.id}#main-key`,
        owner: this.id,
        publicKeyPem: publicKey.export({ type: "spki", format: "pem" }),
      },
    };
  },
};

/** POSTs `activity` to `target` signed as the group; `tamper` changes the body after signing. */
async function deliver(target, activity, { tamper = false } = {}) {
  const body = JSON.stringify(activity);
  const url = new URL(target);
  const date = new Date().toUTCString();
  const digest = `SHA-256=${createHash("sha256").update(body).digest("base64")}`;
  const signed = `(request-target): post ${url.pathname}\nhost: ${url.host}\ndate: ${date}\ndigest: ${digest}`;
  const signature = createSign("RSA-SHA256").update(signed).sign(privateKey, "base64");
  const response = await fetch(url, {
    method: "POST",
    headers: {
      "content-type": "application/activity+json",
      date,
      digest,
      signature: `keyId="${group.id}#main-key",algorithm="rsa-sha256",headers="(request-target) host date digest",signature="${signature}"`,
    },
    body: tamper ? body.replace("Grüezi", "Hello") : body,
  });
  return response.status;
}

let passed = 0;
let failed = 0;
function check(what, actual, expected) {
  if (JSON.stringify(actual) === JSON.stringify(expected)) {
    passed++;
    console.log(`ok   ${what}`);
  } else {
    failed++;
    console.log(`FAIL ${what}: got ${JSON.stringify(actual)}, want ${JSON.stringify(expected)}`);
  }
}

async function control(path, body) {
  const response = await fetch(`${peer}/control/${path}`, body == null ? {} : { method: "POST", body: JSON.stringify(body) });
  return await response.json();
}

const contexts = [
  "https://www.w3.org/ns/activitystreams",
  "https://w3id.org/security/v1",
  { sensitive: "as:sensitive", Hashtag: "as:Hashtag" },
];
const alice = `${peer}/users/alice`;
const note = {
  id: `${group.origin}/entries/7`,
  type: "Note",
  attributedTo: group.id,
  name: "QGIS user meeting",
  content: "<p>Grüezi! Bern, 12 May</p>",
  url: `${group.origin}/entries/7`,
  published: "2026-05-01T10:00:00Z",
  to: ["https://www.w3.org/ns/activitystreams#Public"],
  cc: [`${group.id}/followers`],
  sensitive: false,
  tag: [{ type: "Hashtag", name: "#QGIS", href: `${group.origin}/tags/qgis` }],
};

try {
  const followed = await control("follow", { handle: `qgis-ch@${new URL(group.origin).host}` });
  check("follow by handle names the group", followed.actor, group.id);
  check("Follow reached the group inbox", inbox.map((a) => [a.type, a.actor, a.object]), [["Follow", alice, group.id]]);

  const activities = [
    { "@context": contexts, id: `${group.id}#accepts/1`, type: "Accept", actor: group.id, object: inbox[0] },
    { "@context": contexts, id: `${note.id}#create`, type: "Create", actor: group.id, to: note.to, cc: note.cc, object: note },
    {
      "@context": contexts,
      id: `${note.id}#update-1`,
      type: "Update",
      actor: group.id,
      to: note.to,
      object: { ...note, content: "<p>Grüezi! Bern, 13 May</p>", updated: "2026-05-02T10:00:00Z" },
    },
    {
      "@context": contexts,
      id: `${note.id}#delete`,
      type: "Delete",
      actor: group.id,
      to: note.to,
      object: { id: note.id, type: "Tombstone" },
    },
  ];
  const statuses = [];
  for (const activity of activities) statuses.push(await deliver(`${alice}/inbox`, activity));
  check("signed deliveries accepted", statuses, [202, 202, 202, 202]);

  const { activities: got, refused } = await control("received");
  check("recorded in order", got.map((a) => [a.type, a.id, a.actor]), activities.map((a) => [a.type, a.id, group.id]));
  check("Accept's object is alice's Follow", [got[0].object.type, got[0].object.id], ["Follow", followed.follow]);
  const created = got[1].object;
  check("Create: Fedify read a Note", [created.type, created.id, created.name], ["Note", note.id, note.name]);
  check("Create: content and sensitive", [created.content, created.sensitive], [note.content, false]);
  check("Create: hashtag", created.tag?.type, "Hashtag");
  check("Create: raw is the body as sent", got[1].raw, activities[1]);
  check("Update: new content", [got[2].object.content, got[2].object.updated], ["<p>Grüezi! Bern, 13 May</p>", "2026-05-02T10:00:00Z"]);
  check("Delete: a Tombstone", [got[3].object.type, got[3].object.id], ["Tombstone", note.id]);
  check("nothing refused", refused, []);

  const tampered = await deliver(`${alice}/inbox`, { ...activities[1], id: `${note.id}#create-2` }, { tamper: true });
  check("body changed after signing: 401", tampered, 401);

  const started = Date.now();
  const foreign = await deliver(`${peer}/inbox`, {
    ...activities[1],
    "@context": [...contexts, "https://example.org/ns/not-preloaded"],
    id: `${note.id}#create-3`,
  });
  check("context not preloaded: refused", foreign, 400);
  check("context not preloaded: refused at once, nothing fetched", Date.now() - started < 2000, true);

  const after = await control("received");
  check("refusals counted", after.refused.map((r) => r.status), [401, 400]);
  check("401 says why", after.refused[0].why.some((line) => line.includes("digest mismatch")), true);
  check("400 says why", after.refused[1].why.some((line) => line.includes("is not preloaded")), true);
  check("unverified counts the 401", after.unverified, 1);
  check("refusals not recorded", after.activities.length, activities.length);

  const lookedUp = await control(`lookup?url=${encodeURIComponent(group.id)}`);
  check("lookup: Fedify reads the Group", [lookedUp.type, lookedUp.name, lookedUp.inbox], ["Group", "QGIS Switzerland", `${group.id}/inbox`]);
  check("lookup: key and shared inbox", [lookedUp.publicKey?.id, lookedUp.endpoints?.sharedInbox], [`${group.id}#main-key`, `${group.origin}/inbox`]);
} catch (error) {
  failed++;
  console.log(`FAIL stopped: ${error?.stack ?? error}`);
} finally {
  server.close();
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
