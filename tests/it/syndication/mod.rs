//! Cross-posting from outside: accounts connected through the API
//! (`accounts.rs`), entries posted to fakes of Mastodon, Bluesky and
//! Telegram and deleted there when unpublished (`posting.rs`), and each
//! network's error paths (`errors.rs`), the group's entry page
//! (`web.rs`), and a real Bluesky PDS from npm (`bluesky_pds.rs`). The fakes are in `fakes.rs`.

mod accounts;
mod bluesky_pds;
mod errors;
mod fakes;
mod posting;
mod web;

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use serde_json::{Value, json};

use crate::common::{TestAppBuilder, World};
use crate::federation::eventually;
use crate::media::{images, pictures};
use fakes::{Fake, Network};

/// A world that may post to fakes on loopback.
pub fn world_builder() -> TestAppBuilder {
    World::builder().config(|config| config.federation_allow_private = true)
}

/// Connects an account of `network` on `fake` as the admin (site-wide); returns its id.
pub async fn connect(world: &World, network: Network, fake: &Fake) -> i64 {
    world
        .app
        .post(
            "/api/v1/syndication/accounts",
            Some(&world.admin),
            fakes::account(network, fake, None),
        )
        .await
        .expect(201)
        .json()["id"]
        .as_i64()
        .unwrap()
}

/// Publishes an event in `alpha` with an uploaded picture and its alt text; returns its id.
pub async fn publish_pictured_event(world: &World, title: &str) -> i64 {
    let starts = chrono::Utc::now() + chrono::Duration::days(10);
    let at = |time: chrono::DateTime<chrono::Utc>| time.to_rfc3339();
    let created = world
        .app
        .post(
            "/api/v1/entries",
            Some(&world.editor),
            json!({"group": "alpha", "kind": "event", "title": title, "language": "en",
                   "content": "<p>A day of talks and workshops about QGIS.</p>",
                   "starts_at": at(starts), "ends_at": at(starts + chrono::Duration::hours(8)),
                   "timezone": "Europe/Berlin", "location_name": "Bonn",
                   "image_alt": "People around a map"}),
        )
        .await
        .expect(201)
        .json();
    let id = created["id"].as_i64().unwrap();
    let jpeg = images::encode(&images::halves(640, 480), image::ImageFormat::Jpeg);
    pictures::upload(
        &world.app,
        &world.editor,
        id,
        created["version"].as_i64().unwrap(),
        jpeg,
        "map.jpg",
    )
    .await
    .expect(200);
    world
        .app
        .submit_and_approve(&world.editor, &world.moderator, id, json!({}))
        .await;
    id
}

/// The entry's posts as its moderator sees them.
pub async fn posts(world: &World, id: i64) -> Value {
    world
        .app
        .get(
            &format!("/api/v1/entries/{id}/syndication"),
            Some(&world.moderator),
        )
        .await
        .expect(200)
        .json()
}

/// Waits until the entry's first post has `status`, and returns the post.
pub async fn first_post_with_status(world: &World, id: i64, status: &str) -> Value {
    eventually(
        &format!("a post {status}"),
        || async { posts(world, id).await[0].clone() },
        |post| post["status"] == status,
    )
    .await
}

/// Unpublishes entry `id` as the moderator.
pub async fn unpublish(world: &World, id: i64) {
    world
        .app
        .post(
            &format!("/api/v1/moderation/entries/{id}/unpublish"),
            Some(&world.moderator),
            json!({"comment": "cancelled"}),
        )
        .await
        .expect(200);
}

/// What every test of this binary logs, kept to check that no secret is
/// ever written (installed once, as the process's subscriber).
pub fn captured_logs() -> Arc<Mutex<Vec<u8>>> {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let logs = Arc::new(Mutex::new(Vec::new()));
        let writer = CapturedWriter(logs.clone());
        let subscriber = tracing_subscriber::fmt()
            .with_env_filter("newsfeed=trace,reqwest=trace,poem=debug")
            .with_writer(move || writer.clone())
            .finish();
        let _ = tracing::subscriber::set_global_default(subscriber);
        logs
    })
    .clone()
}

#[derive(Clone)]
struct CapturedWriter(Arc<Mutex<Vec<u8>>>);

impl Write for CapturedWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let mut logs = self.0.lock().unwrap();
        // A bound, should the whole suite run with it installed.
        if logs.len() < 64 << 20 {
            logs.extend_from_slice(bytes);
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Asserts that no secret of the fakes' accounts is in `text`.
#[track_caller]
pub fn assert_no_secret(text: &str) {
    for secret in fakes::SECRETS {
        assert!(!text.contains(secret), "a secret leaked: {text}");
    }
}
