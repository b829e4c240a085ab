//! The entry life cycle of DESIGN.md: every transition, every refusal, the
//! comments decisions need, the history they leave, and edits of live entries.

use serde_json::{Value, json};

use crate::api::support::{STATUSES, act, entry, entry_in, group_token, id_of};
use crate::common::{self, World};

/// What a client sends for `action`, as whom: (actor is a moderator, body).
fn request(world: &World, action: &str, version: &Value) -> (String, Value) {
    let reason = json!({"comment": "a reason"});
    match action {
        "submit" | "withdraw" => (world.editor.clone(), json!({})),
        "edit" => (
            world.editor.clone(),
            json!({"version": version, "title": "Edited title"}),
        ),
        "delete" => (world.editor.clone(), Value::Null),
        // Admins moderate like moderators, and also see drafts, so a refused
        // decision on a draft shows as 409 rather than 404.
        "approve" => (world.admin.clone(), json!({})),
        _ => (world.admin.clone(), reason),
    }
}

const ACTIONS: [&str; 8] = [
    "submit",
    "withdraw",
    "approve",
    "reject",
    "request-changes",
    "unpublish",
    "edit",
    "delete",
];

/// The status an action leads to from each status, `None` for 409, `Some("gone")` for deleted.
fn expected(status: &str, action: &str) -> Option<&'static str> {
    match (status, action) {
        ("draft", "submit") => Some("pending"),
        ("draft", "withdraw") => Some("withdrawn"),
        ("draft", "edit") => Some("draft"),
        ("draft", "delete") => Some("gone"),
        ("pending", "withdraw") => Some("withdrawn"),
        ("pending", "approve") => Some("approved"),
        ("pending", "reject") => Some("rejected"),
        ("pending", "request-changes") => Some("changes_requested"),
        ("pending", "edit") => Some("pending"),
        ("changes_requested", "submit") => Some("pending"),
        ("changes_requested", "withdraw") => Some("withdrawn"),
        ("changes_requested", "edit") => Some("changes_requested"),
        ("approved", "unpublish") => Some("unpublished"),
        // The group may take its own live entry offline.
        ("approved", "withdraw") => Some("withdrawn"),
        ("approved", "edit") => Some("pending"),
        ("withdrawn", "delete") => Some("gone"),
        _ => None,
    }
}

db_test!(
    every_transition_and_every_refusal,
    |app: common::TestApp| async move {
        let w = World::new(app).await;
        let app = &w.app;
        let mut mismatches = Vec::new();
        for status in STATUSES {
            for action in ACTIONS {
                let id = entry_in(&w, status, &format!("{status} {action}")).await;
                let before = entry(app, &w.admin, id).await;
                let (token, body) = request(&w, action, &before["version"]);
                let path = format!("/api/v1/entries/{id}");
                let reply = match action {
                    "edit" => app.patch(&path, Some(&token), body).await,
                    "delete" => app.delete(&path, Some(&token)).await,
                    _ => act(app, &token, id, action, body).await,
                };
                let after = app.get(&path, Some(&w.admin)).await;
                match expected(status, action) {
                    Some("gone") => {
                        if reply.status != 204 || after.status != 404 {
                            mismatches.push(format!(
                                "{action} from {status}: {} then GET {}",
                                reply.status, after.status
                            ));
                        }
                    }
                    Some(to) => {
                        let body = reply.json();
                        let stored = after.json();
                        if reply.status != 200 || body["status"] != to || stored["status"] != to {
                            mismatches.push(format!(
                                "{action} from {status}: {} {}, expected 200 {to}",
                                reply.status, reply.text
                            ));
                        } else if stored["version"].as_i64() <= before["version"].as_i64() {
                            mismatches.push(format!("{action} from {status}: version not bumped"));
                        }
                    }
                    None => {
                        let problem_json =
                            reply.header("content-type") == Some("application/problem+json");
                        let invalid_transition = problem_json
                            && reply.json()["type"]
                                .as_str()
                                .is_some_and(|kind| kind.ends_with("/problems/invalid-transition"));
                        if reply.status != 409 || !invalid_transition {
                            mismatches.push(format!(
                                "{action} from {status}: {} {:?} {}, expected 409 invalid-transition",
                                reply.status,
                                reply.header("content-type"),
                                reply.text
                            ));
                        } else if after.json() != before {
                            mismatches.push(format!("{action} from {status}: refused but changed"));
                        }
                    }
                }
            }
        }
        assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
    }
);

db_test!(
    approval_and_unpublishing_switch_live,
    |app: common::TestApp| async move {
        let w = World::new(app).await;
        let app = &w.app;
        let id = entry_in(&w, "pending", "going live").await;
        assert_eq!(entry(app, &w.editor, id).await["live"], false);
        let approved = act(app, &w.moderator, id, "approve", json!({"sticky": true}))
            .await
            .expect(200)
            .json();
        assert_eq!(approved["status"], "approved");
        assert_eq!(approved["live"], true);
        assert_eq!(approved["sticky"], true);
        let gone = act(
            app,
            &w.moderator,
            id,
            "unpublish",
            json!({"comment": "outdated"}),
        )
        .await
        .expect(200)
        .json();
        assert_eq!(gone["status"], "unpublished");
        assert_eq!(gone["live"], false);
    }
);

db_test!(
    decisions_that_take_away_need_a_comment,
    |app: common::TestApp| async move {
        let w = World::new(app).await;
        let app = &w.app;
        let pending = entry_in(&w, "pending", "needs reasons").await;
        let approved = entry_in(&w, "approved", "live one").await;
        for (id, action) in [
            (pending, "reject"),
            (pending, "request-changes"),
            (pending, "comment"),
            (approved, "unpublish"),
        ] {
            for body in [
                json!({}),
                json!({"comment": "   "}),
                json!({"comment": null}),
            ] {
                let reply = act(app, &w.moderator, id, action, body.clone()).await;
                let problem = reply.expect_field_error("comment");
                assert!(
                    problem["detail"]
                        .as_str()
                        .is_some_and(|detail| detail.contains("comment: is required")),
                    "{action} {body}: {problem}"
                );
            }
        }
        assert_eq!(entry(app, &w.admin, pending).await["status"], "pending");
        assert_eq!(entry(app, &w.admin, approved).await["status"], "approved");
        // A comment that is too long is refused too.
        let long = "x".repeat(4001);
        let reply = act(
            app,
            &w.moderator,
            pending,
            "reject",
            json!({"comment": long}),
        )
        .await;
        reply.expect_field_error("comment");
        // Approval options belong to approve only.
        let reply = act(
            app,
            &w.moderator,
            pending,
            "reject",
            json!({"comment": "no", "sticky": true}),
        )
        .await;
        reply.expect_field_error("sticky");
        // Approving needs no comment, but keeps one when given.
        act(
            app,
            &w.moderator,
            pending,
            "approve",
            json!({"comment": "nice"}),
        )
        .await
        .expect(200);
    }
);

/// Unix seconds of an RFC 3339 date-time in a response.
fn instant(value: &Value) -> i64 {
    chrono::DateTime::parse_from_rfc3339(
        value
            .as_str()
            .unwrap_or_else(|| panic!("not a date: {value}")),
    )
    .expect("RFC 3339")
    .timestamp()
}

fn event<'a>(history: &'a [Value], action: &str, nth: usize) -> &'a Value {
    history
        .iter()
        .filter(|event| event["action"] == action)
        .nth(nth)
        .unwrap_or_else(|| panic!("no {action} #{nth} in {history:?}"))
}

db_test!(
    history_records_who_what_when_and_diffs,
    |app: common::TestApp| async move {
        let w = World::new(app).await;
        let app = &w.app;
        let started = chrono::Utc::now().timestamp();
        let created = app.draft(&w.editor, "alpha", "First title").await;
        let id = id_of(&created);
        let path = format!("/api/v1/entries/{id}");
        let edited = app
        .patch(
            &path,
            Some(&w.editor),
            json!({"version": created["version"], "title": "Second title", "url": "https://qgis.org/"}),
        )
        .await
        .expect(200)
        .json();
        assert_eq!(edited["title"], "Second title");
        act(app, &w.editor, id, "submit", json!({}))
            .await
            .expect(200);
        act(
            app,
            &w.moderator,
            id,
            "request-changes",
            json!({"comment": "Please add a picture"}),
        )
        .await
        .expect(200);
        let (_, token) = group_token(app, &w.owner, "alpha", "ci").await;
        let current = entry(app, &w.editor, id).await;
        app.patch(
            &path,
            Some(&token),
            json!({"version": current["version"], "url": "https://qgis.org/x.html"}),
        )
        .await
        .expect(200);
        act(app, &token, id, "submit", json!({})).await.expect(200);
        act(
            app,
            &w.moderator,
            id,
            "comment",
            json!({"comment": "looks good"}),
        )
        .await
        .expect(200);
        act(app, &w.moderator, id, "approve", json!({"sticky": true}))
            .await
            .expect(200);

        let history = app
            .get(&format!("{path}/history"), Some(&w.editor))
            .await
            .expect(200)
            .json();
        let history = history.as_array().expect("history array").clone();
        let actions: Vec<&str> = history
            .iter()
            .map(|event| event["action"].as_str().unwrap_or("?"))
            .collect();
        assert_eq!(
            actions,
            [
                "create",
                "edit",
                "submit",
                "request_changes",
                "edit",
                "submit",
                "comment",
                "approve"
            ]
        );
        let ended = chrono::Utc::now().timestamp();
        for event in &history {
            let at = instant(&event["at"]);
            assert!((started - 1..=ended + 1).contains(&at), "{event}");
            assert!(
                event["actor"].is_string() && event["actor_user_id"].is_i64(),
                "{event}"
            );
        }
        let create = event(&history, "create", 0);
        assert_eq!(create["actor"], "editor");
        assert_eq!(create["from_status"], Value::Null);
        assert_eq!(create["to_status"], "draft");

        let first_edit = event(&history, "edit", 0);
        assert_eq!(first_edit["actor"], "editor");
        assert_eq!(first_edit["from_status"], "draft");
        assert_eq!(first_edit["to_status"], "draft");
        assert_eq!(
            first_edit["changes"],
            json!({"title": ["First title", "Second title"], "url": ["", "https://qgis.org/"]})
        );

        let submit = event(&history, "submit", 0);
        assert_eq!(
            (&submit["from_status"], &submit["to_status"]),
            (&json!("draft"), &json!("pending"))
        );

        let changes = event(&history, "request_changes", 0);
        assert_eq!(changes["actor"], "mod");
        assert_eq!(changes["comment"], "Please add a picture");
        assert_eq!(changes["from_status"], "pending");
        assert_eq!(changes["to_status"], "changes_requested");

        // The token's edit is attributed to the token.
        let token_edit = event(&history, "edit", 1);
        assert_eq!(token_edit["actor"], "token ci");
        assert_eq!(token_edit["from_status"], "changes_requested");
        assert_eq!(token_edit["to_status"], "changes_requested");
        assert_eq!(
            token_edit["changes"],
            json!({"url": ["https://qgis.org/", "https://qgis.org/x.html"]})
        );
        assert_eq!(event(&history, "submit", 1)["actor"], "token ci");

        let comment = event(&history, "comment", 0);
        assert_eq!(comment["comment"], "looks good");
        assert_eq!(comment["from_status"], comment["to_status"]);

        // The approval records what the moderator changed: the entry became sticky.
        let approve = event(&history, "approve", 0);
        assert_eq!(approve["actor"], "mod");
        assert_eq!(approve["from_status"], "pending");
        assert_eq!(approve["to_status"], "approved");
        assert_eq!(
            approve["changes"]["sticky"],
            json!([false, true]),
            "{approve}"
        );
    }
);

db_test!(
    approval_can_set_the_publication_window,
    |app: common::TestApp| async move {
        let w = World::new(app).await;
        let app = &w.app;
        let id = entry_in(&w, "pending", "windowed").await;
        let approved = act(
        app,
        &w.moderator,
        id,
        "approve",
        json!({"publish_from": "2030-01-01T00:00:00Z", "publish_to": "2030-02-01T00:00:00Z", "priority": 5}),
    )
    .await
    .expect(200)
    .json();
        assert_eq!(instant(&approved["publish_from"]), 1_893_456_000);
        assert_eq!(instant(&approved["publish_to"]), 1_896_134_400);
        assert_eq!(approved["priority"], 5);
        let history = app
            .get(&format!("/api/v1/entries/{id}/history"), Some(&w.moderator))
            .await
            .expect(200)
            .json();
        let approve = event(history.as_array().expect("array"), "approve", 0);
        assert_eq!(approve["changes"]["priority"], json!([0, 5]), "{approve}");
        assert!(approve["changes"]["publish_to"].is_array(), "{approve}");
        // A window that ends before it starts is refused.
        let other = entry_in(&w, "pending", "bad window").await;
        let reply = act(
            app,
            &w.moderator,
            other,
            "approve",
            json!({"publish_from": "2030-02-01T00:00:00Z", "publish_to": "2030-01-01T00:00:00Z"}),
        )
        .await;
        reply.expect_field_error("publish_to");
        assert_eq!(entry(app, &w.admin, other).await["status"], "pending");
    }
);

/// The title the public QGIS JSON feed shows for entry `pk`, if it is in it.
async fn feed_title(app: &common::TestApp, pk: i64) -> Option<String> {
    let feed = app.get("/?json=1", None).await.expect(200).json();
    feed.as_array()
        .unwrap_or_else(|| panic!("the feed is an array: {feed}"))
        .iter()
        .find(|item| item["pk"] == pk)
        .map(|item| item["title"].as_str().unwrap_or_default().to_string())
}

db_test!(
    editing_a_live_entry_sends_it_to_review_while_it_stays_live,
    |app: common::TestApp| async move {
        let w = World::new(app).await;
        let app = &w.app;
        let id = entry_in(&w, "approved", "Live title").await;
        let live = entry(app, &w.editor, id).await;
        assert_eq!(
            (&live["status"], &live["live"]),
            (&json!("approved"), &json!(true))
        );
        let path = format!("/api/v1/entries/{id}");
        let edited = app
            .patch(
                &path,
                Some(&w.editor),
                json!({"version": live["version"], "title": "Better title"}),
            )
            .await
            .expect(200)
            .json();
        assert_eq!(edited["status"], "pending");
        assert_eq!(edited["live"], true, "the approved revision stays live");
        assert_eq!(edited["title"], "Better title");
        assert!(edited["version"].as_i64() > live["version"].as_i64());
        // The edit is in the moderation queue.
        let queue = app
            .get("/api/v1/moderation/queue", Some(&w.moderator))
            .await
            .expect(200)
            .json();
        assert!(
            queue["items"]
                .as_array()
                .expect("items")
                .iter()
                .any(|item| item["id"] == id),
            "{queue}"
        );
        let history = app
            .get(&format!("{path}/history"), Some(&w.editor))
            .await
            .expect(200)
            .json();
        let edit = event(history.as_array().expect("array"), "edit", 0);
        assert_eq!(
            (&edit["from_status"], &edit["to_status"]),
            (&json!("approved"), &json!("pending"))
        );
        // The public feed still shows the approved revision, not the edit in review.
        assert_eq!(feed_title(app, id).await.as_deref(), Some("Live title"));
        // Approving the edit publishes it.
        let approved = act(app, &w.moderator, id, "approve", json!({}))
            .await
            .expect(200)
            .json();
        assert_eq!(
            (&approved["status"], &approved["live"]),
            (&json!("approved"), &json!(true))
        );
        assert_eq!(approved["title"], "Better title");
        assert_eq!(feed_title(app, id).await.as_deref(), Some("Better title"));
    }
);

db_test!(
    decisions_on_an_edit_of_a_live_entry,
    |app: common::TestApp| async move {
        let w = World::new(app).await;
        let app = &w.app;
        // Each case: a live entry gets an edit, then one decision on that edit.
        for (actor_is_moderator, action, body, status, live) in [
            (
                true,
                "request-changes",
                json!({"comment": "fix"}),
                "changes_requested",
                true,
            ),
            // A rejected edit leaves the entry approved, with its live revision.
            (true, "reject", json!({"comment": "no"}), "approved", true),
            (
                true,
                "unpublish",
                json!({"comment": "off"}),
                "unpublished",
                false,
            ),
            (false, "withdraw", json!({}), "withdrawn", false),
        ] {
            let id = entry_in(&w, "approved", action).await;
            let current = entry(app, &w.editor, id).await;
            app.patch(
                &format!("/api/v1/entries/{id}"),
                Some(&w.editor),
                json!({"version": current["version"], "content": "<p>changed</p>"}),
            )
            .await
            .expect(200);
            let actor = if actor_is_moderator {
                &w.moderator
            } else {
                &w.editor
            };
            let after = act(app, actor, id, action, body).await.expect(200).json();
            assert_eq!(after["status"], status, "{action}");
            assert_eq!(after["live"], live, "{action}: {after}");
            if action == "reject" {
                // The refused edit is undone: the group sees the live revision again.
                assert_ne!(after["content"], "<p>changed</p>", "{after}");
                assert_eq!(after["content"], current["content"], "{after}");
            }
            // Live entries keep their approved revision in the feed; the others leave it.
            let in_feed = feed_title(app, id).await;
            if live {
                assert_eq!(in_feed.as_deref(), Some(action), "{action}");
            } else {
                assert_eq!(in_feed, None, "{action}");
            }
            // What was once published can never be deleted by the group.
            app.delete(&format!("/api/v1/entries/{id}"), Some(&w.editor))
                .await
                .expect_problem(409, "invalid-transition");
        }
    }
);

db_test!(
    a_group_takes_its_own_live_entry_offline,
    |app: common::TestApp| async move {
        let w = World::new(app).await;
        let app = &w.app;
        let start = common::now() - 5;
        let id = entry_in(&w, "approved", "Cancelled talk").await;
        assert_eq!(feed_title(app, id).await.as_deref(), Some("Cancelled talk"));
        let withdrawn = act(app, &w.editor, id, "withdraw", json!({}))
            .await
            .expect(200)
            .json();
        assert_eq!(withdrawn["status"], "withdrawn");
        assert_eq!(withdrawn["live"], false);
        assert_eq!(feed_title(app, id).await, None);
        let history = app
            .get(&format!("/api/v1/entries/{id}/history"), Some(&w.editor))
            .await
            .expect(200)
            .json();
        let last = history
            .as_array()
            .and_then(|h| h.last())
            .cloned()
            .expect("event");
        assert_eq!(last["action"], "withdraw");
        assert_eq!(last["from_status"], "approved");
        assert_eq!(last["actor"], "editor");
        // QGIS 3.36 is told to drop it.
        let items = app
            .client
            .get(format!("/?after={start}"))
            .header("user-agent", "Mozilla/5.0 QGIS/33600/Linux")
            .send()
            .await;
        let items = common::Reply::from(items.0).await.json();
        let gone = items
            .as_array()
            .and_then(|items| items.iter().find(|item| item["pk"] == id))
            .cloned()
            .expect("a retraction");
        assert!(
            gone["publish_to"]
                .as_f64()
                .is_some_and(|to| to <= common::now() as f64)
        );
    }
);
