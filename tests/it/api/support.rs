//! Small helpers shared by the API test modules: entries in a given status,
//! group tokens, and the cast of actors used by permission tables.
#![allow(dead_code)]

use serde_json::{Value, json};

use crate::common::{Reply, TestApp, World};

/// Every status an entry can be in, as the API names it.
pub const STATUSES: [&str; 7] = [
    "draft",
    "pending",
    "changes_requested",
    "approved",
    "rejected",
    "withdrawn",
    "unpublished",
];

pub fn id_of(value: &Value) -> i64 {
    value["id"].as_i64().expect("entry id")
}

/// Fetches an entry as `token` and returns its JSON (asserting 200).
pub async fn entry(app: &TestApp, token: &str, id: i64) -> Value {
    app.get(&format!("/api/v1/entries/{id}"), Some(token))
        .await
        .expect(200)
        .json()
}

/// Runs a life-cycle action (`submit`, `withdraw` as an editor; `approve`,
/// `reject`, `request-changes`, `unpublish`, `comment` as a moderator).
pub async fn act(app: &TestApp, token: &str, id: i64, action: &str, body: Value) -> Reply {
    let path = match action {
        "submit" | "withdraw" => format!("/api/v1/entries/{id}/{action}"),
        _ => format!("/api/v1/moderation/entries/{id}/{action}"),
    };
    app.post(&path, Some(token), body).await
}

/// An announcement of `alpha`, written by `world.editor`, brought into `status`
/// through the API. Returns its id.
pub async fn entry_in(world: &World, status: &str, title: &str) -> i64 {
    let app = &world.app;
    let (editor, moderator) = (world.editor.as_str(), world.moderator.as_str());
    let id = id_of(&app.draft(editor, "alpha", title).await);
    let reason = json!({"comment": "a reason"});
    match status {
        "draft" => {}
        "pending" | "changes_requested" | "rejected" => {
            act(app, editor, id, "submit", json!({})).await.expect(200);
            match status {
                "changes_requested" => {
                    act(app, moderator, id, "request-changes", reason)
                        .await
                        .expect(200);
                }
                "rejected" => {
                    act(app, moderator, id, "reject", reason).await.expect(200);
                }
                _ => {}
            }
        }
        "approved" | "unpublished" => {
            act(app, editor, id, "submit", json!({})).await.expect(200);
            act(app, moderator, id, "approve", json!({}))
                .await
                .expect(200);
            if status == "unpublished" {
                act(app, moderator, id, "unpublish", reason)
                    .await
                    .expect(200);
            }
        }
        "withdrawn" => {
            act(app, editor, id, "withdraw", json!({}))
                .await
                .expect(200);
        }
        other => panic!("unknown status {other}"),
    }
    let got = entry(app, &world.admin, id).await;
    assert_eq!(got["status"], status, "setting up an entry in {status}");
    id
}

/// Issues an API token for `group` as `manager`; returns `(id, secret)`.
pub async fn group_token(app: &TestApp, manager: &str, group: &str, name: &str) -> (i64, String) {
    let body = app
        .post(
            &format!("/api/v1/groups/{group}/tokens"),
            Some(manager),
            json!({"name": name}),
        )
        .await
        .expect(201)
        .json();
    (
        body["id"].as_i64().expect("token id"),
        body["token"].as_str().expect("token secret").to_string(),
    )
}
