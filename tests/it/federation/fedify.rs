//! A group followed from an independent ActivityPub implementation: the
//! Fedify peer (`tests/peers/fedify`, Fedify from npm) looks the group up by
//! its handle, follows it, and verifies and records what we send.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use serde_json::{Value, json};

use super::*;
use crate::common::TestApp;

/// The peer's process, stopped with the test.
struct Peer {
    child: Child,
    origin: String,
    http: reqwest::Client,
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Peer {
    fn start() -> Self {
        let log = std::fs::File::create(std::env::temp_dir().join(format!(
            "fedify-peer-{}-{}.log",
            std::process::id(),
            free_address().replace([':', '.'], "-")
        )))
        .expect("peer log");
        let mut child = Command::new("node")
            .arg(crate::common::node_peer("fedify", "peer.mjs"))
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .expect("node starts the peer");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("the peer says it is ready");
        let ready: Value = serde_json::from_str(&line).expect("a JSON ready line");
        Self {
            child,
            origin: ready["origin"].as_str().expect("origin").to_string(),
            http: reqwest::Client::new(),
        }
    }

    async fn control(&self, path: &str, body: Value) -> Value {
        let reply = self
            .http
            .post(format!("{}{path}", self.origin))
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .expect("the peer answers");
        let status = reply.status();
        let answer: Value = serde_json::from_str(&reply.text().await.expect("body")).expect("JSON");
        assert!(status.is_success(), "{path}: {status} {answer}");
        answer
    }

    async fn activities(&self) -> Vec<Value> {
        let received: Value = self
            .http
            .get(format!("{}/control/received", self.origin))
            .send()
            .await
            .expect("the peer answers")
            .text()
            .await
            .map(|text| serde_json::from_str(&text).expect("JSON"))
            .expect("body");
        received["activities"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    async fn lookup(&self, url: &str) -> Value {
        self.http
            .get(format!("{}/control/lookup", self.origin))
            .query(&[("url", url)])
            .send()
            .await
            .expect("the peer answers")
            .text()
            .await
            .map(|text| serde_json::from_str(&text).expect("JSON"))
            .expect("body")
    }

    async fn wait_for(&self, kind: &str, object: &str) -> Value {
        let found = eventually(
            &format!("{kind} of {object} at the peer"),
            || self.activities(),
            |got| {
                got.iter()
                    .any(|a| a["type"] == kind && a["raw"].to_string().contains(object))
            },
        )
        .await;
        found
            .into_iter()
            .find(|a| a["type"] == kind && a["raw"].to_string().contains(object))
            .unwrap()
    }
}

db_test!(
    a_group_followed_from_fedify_receives_create_update_and_delete,
    world_at_free_address(),
    |app: TestApp| async move {
        let peer = Peer::start();
        let (world, base) = serve(app).await;
        federate_alpha(&world).await;
        let handle = format!("alpha@{}", base.trim_start_matches("http://"));

        // Fedify reads our actor as a Group with what Mastodon needs.
        let group = peer.lookup(&format!("{base}/groups/alpha")).await;
        assert_eq!(group["type"], "Group", "{group}");
        assert_eq!(group["inbox"], format!("{base}/groups/alpha/inbox"));
        assert!(group.to_string().contains("#main-key"), "{group}");

        let followed = peer
            .control("/control/follow", json!({"handle": handle}))
            .await;
        assert_eq!(followed["actor"], format!("{base}/groups/alpha"));
        peer.wait_for("Accept", &format!("{base}/groups/alpha"))
            .await;
        let count = world
            .app
            .get("/groups/alpha/followers", None)
            .await
            .expect(200)
            .json();
        assert_eq!(count["totalItems"], 1);
        assert!(
            count.get("orderedItems").is_none(),
            "who follows stays private"
        );

        // Approved: Create of a Note with the title, the date and place, the link.
        let id = world
            .publish(
                json!({"kind": "meetup", "title": "QGIS Stammtisch <Bern>",
                       "starts_at": "2031-03-18T17:30:00Z", "ends_at": "2031-03-18T19:30:00Z",
                       "timezone": "Europe/Zurich", "location_name": "Bern",
                       "url": "https://example.org/stammtisch"}),
                json!({}),
            )
            .await;
        let note = format!("{base}/entries/{id}");
        let create = peer.wait_for("Create", &note).await;
        let raw = &create["raw"];
        assert_eq!(raw["object"]["type"], "Note");
        let content = raw["object"]["content"].as_str().unwrap();
        assert!(
            content.contains("QGIS Stammtisch &lt;Bern&gt;"),
            "{content}"
        );
        assert!(
            content.contains("https://example.org/stammtisch"),
            "{content}"
        );
        assert!(content.contains("Bern"), "{content}");
        assert_eq!(raw["object"]["startTime"], "2031-03-18T17:30:00Z");
        assert_eq!(raw["object"]["location"]["name"], "Bern");

        // A published change: Update.
        let version = world
            .app
            .get(&format!("/api/v1/entries/{id}"), Some(&world.editor))
            .await
            .json()["version"]
            .clone();
        world
            .app
            .post(
                &format!("/api/v1/entries/{id}/event-status"),
                Some(&world.editor),
                json!({"event_status": "cancelled", "version": version}),
            )
            .await
            .expect(200);
        let update = peer.wait_for("Update", &note).await;
        assert!(
            update["raw"]["object"]["content"]
                .as_str()
                .unwrap()
                .contains("Cancelled"),
            "{update}"
        );

        // Unpublished: Delete of a Tombstone.
        world
            .app
            .post(
                &format!("/api/v1/moderation/entries/{id}/unpublish"),
                Some(&world.moderator),
                json!({"comment": "wrong group"}),
            )
            .await
            .expect(200);
        let delete = peer.wait_for("Delete", &note).await;
        assert_eq!(delete["raw"]["object"]["type"], "Tombstone");

        // Each once: nothing was sent twice.
        let activities = peer.activities().await;
        for kind in ["Create", "Update", "Delete"] {
            assert_eq!(
                activities.iter().filter(|a| a["type"] == kind).count(),
                1,
                "{kind}: {activities:?}"
            );
        }

        // Unfollowed: the follower is gone.
        peer.control(
            "/control/unfollow",
            json!({"actor": format!("{base}/groups/alpha")}),
        )
        .await;
        eventually(
            "the unfollow",
            || async {
                world.app.get("/groups/alpha/followers", None).await.json()["totalItems"].clone()
            },
            |total| *total == 0,
        )
        .await;
    }
);
