//! Helpers for feed tests: publishing entries with chosen fields and
//! requests with chosen headers.

use crate::common::now;
use serde_json::{Value, json};

use crate::common::{Reply, TestApp, World};

pub const NEW_QGIS: &str = "Mozilla/5.0 QGIS/33600/Linux";
pub const OLD_QGIS: &str = "Mozilla/5.0 QGIS/32216";

/// GET `path` with `headers`.
pub async fn fetch(app: &TestApp, path: &str, headers: &[(&str, &str)]) -> Reply {
    let mut request = app.client.get(path);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    Reply::from(request.send().await.0).await
}

/// The QGIS array `path` answers to `agent`, checked to be one.
pub async fn qgis(app: &TestApp, path: &str, agent: &str) -> Vec<Value> {
    let reply = fetch(app, path, &[("user-agent", agent)]).await;
    reply.expect(200);
    assert_eq!(reply.header("content-type"), Some("application/json"));
    reply.json().as_array().cloned().expect("a top-level array")
}

/// The `pk`s of a QGIS array, in order.
pub fn pks(items: &[Value]) -> Vec<i64> {
    items
        .iter()
        .map(|item| item["pk"].as_i64().expect("pk"))
        .collect()
}

pub fn rfc3339(seconds: i64) -> String {
    chrono::DateTime::from_timestamp(seconds, 0)
        .expect("instant")
        .to_rfc3339()
}

/// Creates an entry in `alpha` with `fields` over announcement defaults,
/// submits it and approves it with `approval`; returns its id.
pub async fn publish(world: &World, fields: Value, approval: Value) -> i64 {
    world.publish(fields, approval).await
}

pub async fn unpublish(world: &World, id: i64) {
    world
        .app
        .post(
            &format!("/api/v1/moderation/entries/{id}/unpublish"),
            Some(&world.moderator),
            json!({"comment": "outdated"}),
        )
        .await
        .expect(200);
}

/// An event in `alpha` starting in `starts_in` seconds, lasting two hours.
pub async fn event(world: &World, title: &str, starts_in: i64) -> i64 {
    let starts = now() + starts_in;
    publish(
        world,
        json!({"kind": "event", "title": title, "starts_at": rfc3339(starts),
               "ends_at": rfc3339(starts + 7200), "timezone": "Europe/Berlin",
               "location_name": "Hall 1, Bonn", "latitude": 50.7, "longitude": 7.1,
               "url": "https://example.org/event"}),
        json!({}),
    )
    .await
}

/// What a client saw, body as bytes (gzip bodies are not text).
pub struct RawReply {
    pub status: u16,
    pub headers: poem::http::HeaderMap,
    pub body: Vec<u8>,
}

impl RawReply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// `method` (GET or HEAD) `path` with `headers`, the body as bytes.
pub async fn fetch_raw(
    app: &TestApp,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
) -> RawReply {
    let mut request = match method {
        "HEAD" => app.client.head(path),
        _ => app.client.get(path),
    };
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.0;
    RawReply {
        status: response.status().as_u16(),
        headers: response.headers().clone(),
        body: response
            .into_body()
            .into_vec()
            .await
            .expect("body")
            .to_vec(),
    }
}
