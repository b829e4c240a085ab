//! Cross-posting to a real Bluesky PDS: the local AT Protocol network of
//! `tests/peers/atproto` (`@atproto/pds` with an in-memory PLC directory,
//! from npm) holds the post with its picture and link card, and loses it
//! when the entry is unpublished.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use serde_json::{Value, json};

use super::*;
use crate::common::TestApp;

/// The local network's process, stopped with the test, and its account.
struct Pds {
    child: Child,
    /// The PDS's SQLite databases and blobs, removed after the process ends.
    _data: tempfile::TempDir,
    url: String,
    handle: String,
    did: String,
    app_password: String,
    http: reqwest::Client,
}

impl Drop for Pds {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Pds {
    fn start() -> Self {
        let data = tempfile::tempdir().expect("a temp dir for the PDS");
        let mut child = Command::new("node")
            .arg(crate::common::node_peer("atproto", "pds.mjs"))
            .arg(data.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("node starts the PDS");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("the PDS says it is ready");
        let ready: Value = serde_json::from_str(&line).expect("a JSON ready line");
        let text = |key: &str| ready[key].as_str().expect(key).to_string();
        Self {
            url: text("pds"),
            handle: text("handle"),
            did: text("did"),
            app_password: text("appPassword"),
            child,
            _data: data,
            http: reqwest::Client::new(),
        }
    }

    /// GETs an XRPC query; its status and body.
    async fn query(&self, method: &str, params: &[(&str, &str)]) -> (u16, Vec<u8>) {
        let reply = self
            .http
            .get(format!("{}/xrpc/{method}", self.url))
            .query(params)
            .send()
            .await
            .expect("the PDS answers");
        let status = reply.status().as_u16();
        (status, reply.bytes().await.expect("body").to_vec())
    }

    async fn post_record(&self, rkey: &str) -> (u16, Value) {
        let params = [
            ("repo", self.did.as_str()),
            ("collection", "app.bsky.feed.post"),
            ("rkey", rkey),
        ];
        let (status, body) = self.query("com.atproto.repo.getRecord", &params).await;
        (status, serde_json::from_slice(&body).expect("JSON"))
    }
}

db_test!(
    a_post_with_its_picture_and_link_card_appears_on_a_real_pds_and_goes_on_unpublish,
    world_builder(),
    |app: TestApp| async move {
        let logs = captured_logs();
        let pds = Pds::start();
        let world = World::new(app).await;
        world
            .app
            .post(
                "/api/v1/syndication/accounts",
                Some(&world.admin),
                json!({"network": "bluesky", "server": pds.url, "credentials":
                       {"handle": pds.handle, "app_password": pds.app_password}}),
            )
            .await
            .expect(201);
        let id = publish_pictured_event(&world, "QGIS Day Bonn").await;
        let post = first_post_with_status(&world, id, "posted").await;
        let rkey = post["url"]
            .as_str()
            .and_then(|url| {
                url.strip_prefix(&format!("https://bsky.app/profile/{}/post/", pds.did))
            })
            .expect("the post's address on bsky.app")
            .to_string();

        let (status, record) = pds.post_record(&rkey).await;
        assert_eq!(status, 200, "{record}");
        let value = &record["value"];
        let text = value["text"].as_str().unwrap();
        assert_eq!(text, post["text"].as_str().unwrap());
        assert!(text.starts_with("QGIS Day Bonn\n\n"), "{text}");
        let link = format!("/entries/{id}");
        assert!(text.ends_with(&link), "{text}");
        let facet = &value["facets"][0];
        let uri = facet["features"][0]["uri"].as_str().unwrap();
        assert_eq!(
            facet["features"][0]["$type"],
            "app.bsky.richtext.facet#link"
        );
        assert!(uri.ends_with(&link), "{value}");
        let start = facet["index"]["byteStart"].as_u64().unwrap() as usize;
        let end = facet["index"]["byteEnd"].as_u64().unwrap() as usize;
        assert_eq!(&text.as_bytes()[start..end], uri.as_bytes());
        assert_eq!(value["langs"], json!(["en"]));
        assert_eq!(value["embed"]["$type"], "app.bsky.embed.external");
        let external = &value["embed"]["external"];
        assert_eq!(external["uri"], uri);
        assert_eq!(external["title"], "QGIS Day Bonn");
        assert_eq!(external["thumb"]["mimeType"], "image/jpeg");
        let cid = external["thumb"]["ref"]["$link"]
            .as_str()
            .expect("the thumb's CID");
        let blob = [("did", pds.did.as_str()), ("cid", cid)];
        let (status, bytes) = pds.query("com.atproto.sync.getBlob", &blob).await;
        assert_eq!(status, 200);
        assert!(bytes.starts_with(&[0xff, 0xd8]), "a JPEG");
        assert_eq!(external["thumb"]["size"], bytes.len());

        unpublish(&world, id).await;
        first_post_with_status(&world, id, "deleted").await;
        let (status, answer) = pds.post_record(&rkey).await;
        assert_eq!(status, 400, "{answer}");
        assert_eq!(answer["error"], "RecordNotFound");
        let logged = String::from_utf8_lossy(&logs.lock().unwrap()).into_owned();
        assert!(
            !logged.contains(&pds.app_password),
            "the app password was logged"
        );
    }
);
