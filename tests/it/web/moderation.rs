//! The queue and decisions, including two moderators deciding at once.

use serde_json::json;

use crate::common::{TestApp, World};
use crate::web::support::Browser;

const MODERATOR: &str = "mod@example.org";
const ADMIN: &str = "admin@example.org";

db_test!(
    the_queue_counts_and_filters,
    World::builder(),
    |app: TestApp| async move {
        let world = World::new(app).await;
        let first = world.pending_entry("First <em>in</em>").await;
        world.pending_entry("Second").await;
        world
            .app
            .draft(&world.editor, "alpha", "Still a draft")
            .await;
        let browser = Browser::signed_in(&world.app, MODERATOR).await;
        let queue = browser.get("/moderation").await;
        queue
            .expect(200)
            .expect_text("2 pending")
            .expect_text("<span class=\"count\">2<");
        assert!(
            queue.text.find("First &#60;em&#62;in").unwrap() < queue.text.find("Second").unwrap(),
            "oldest first"
        );
        assert!(!queue.has("Still a draft"));
        assert!(queue.has(&format!("/moderation/{first}")));
        browser
            .get("/moderation?kind=event")
            .await
            .expect_text("Nothing waits");
        browser
            .get("/moderation?group=beta")
            .await
            .expect_text("Nothing waits");
        browser
            .get("/moderation?lang=en")
            .await
            .expect_text("Second");
        // Nothing is assigned to this moderator yet.
        browser
            .get("/moderation?assigned=me")
            .await
            .expect_text("Nothing waits");
        // The pending count is in the header of every page.
        browser
            .get("/account")
            .await
            .expect_text("<span class=\"count\">2<");
        // Editors have no queue.
        Browser::signed_in(&world.app, "editor@example.org")
            .await
            .get("/moderation")
            .await
            .expect(403);
        Browser::signed_in(&world.app, "editor@example.org")
            .await
            .get(&format!("/moderation/{first}"))
            .await
            .expect(403);
    }
);

db_test!(
    approving_publishes_with_the_moderators_settings,
    World::builder(),
    |app: TestApp| async move {
        let world = World::new(app).await;
        let id = world.pending_entry("Big news").await;
        let browser = Browser::signed_in(&world.app, MODERATOR).await;
        let page = browser.get(&format!("/moderation/{id}")).await;
        page.expect(200)
            .expect_text("QGIS 3 welcome page")
            .expect_text("Approve and publish");
        let version = page.input_value("version").unwrap();
        let done = browser
            .post(
                &format!("/moderation/{id}/approve"),
                &[
                    ("version", &version),
                    ("sticky", "on"),
                    ("priority", "5"),
                    ("publish_from", ""),
                    ("publish_to", "2099-01-01T00:00"),
                ],
            )
            .await;
        assert_eq!(done.expect(303).location(), "/moderation");
        browser.follow(&done).await.expect_text("Approved");
        let entry = world
            .app
            .get(&format!("/api/v1/entries/{id}"), Some(&world.editor))
            .await
            .json();
        assert_eq!(
            (
                entry["status"].as_str(),
                entry["sticky"].as_bool(),
                entry["priority"].as_i64()
            ),
            (Some("approved"), Some(true), Some(5))
        );
        assert_eq!(entry["publish_to"], "2099-01-01T00:00:00+00:00");
        let feed = world.app.get("/?json=1", None).await.json();
        assert_eq!(feed[0]["pk"], id);
    }
);

db_test!(
    a_request_for_changes_needs_a_comment,
    World::builder(),
    |app: TestApp| async move {
        let world = World::new(app).await;
        let id = world.pending_entry("Vague").await;
        let browser = Browser::signed_in(&world.app, MODERATOR).await;
        let version = browser
            .get(&format!("/moderation/{id}"))
            .await
            .input_value("version")
            .unwrap();
        let page = browser
            .post(
                &format!("/moderation/{id}/request-changes"),
                &[("version", &version), ("comment", "  ")],
            )
            .await;
        page.expect(422);
        assert_eq!(
            page.field_error("comment").as_deref(),
            Some("is required for this action")
        );
        let page = browser
            .post(
                &format!("/moderation/{id}/reject"),
                &[("version", &version), ("comment", "spam")],
            )
            .await;
        page.expect(422);
        assert!(
            page.field_error("confirm").is_some(),
            "rejecting is confirmed"
        );
        browser
            .post(
                &format!("/moderation/{id}/request-changes"),
                &[("version", &version), ("comment", "Say when")],
            )
            .await
            .expect(303);
        let entry = world
            .app
            .get(&format!("/api/v1/entries/{id}"), Some(&world.editor))
            .await
            .json();
        assert_eq!(entry["status"], "changes_requested");
    }
);

db_test!(
    the_second_moderator_is_told_who_decided_first,
    World::builder(),
    |app: TestApp| async move {
        let world = World::new(app).await;
        let id = world.pending_entry("Contested").await;
        let first = Browser::signed_in(&world.app, MODERATOR).await;
        let second = Browser::signed_in(&world.app, ADMIN).await;
        let version = first
            .get(&format!("/moderation/{id}"))
            .await
            .input_value("version")
            .unwrap();
        second.get(&format!("/moderation/{id}")).await.expect(200);
        first
            .post(
                &format!("/moderation/{id}/approve"),
                &[("version", &version)],
            )
            .await
            .expect(303);
        let page = second
            .post(
                &format!("/moderation/{id}/request-changes"),
                &[("version", &version), ("comment", "Too late")],
            )
            .await;
        page.expect(409)
            .expect_text("Someone else decided first")
            .expect_text("mod approved this entry");
        let entry = world
            .app
            .get(&format!("/api/v1/entries/{id}"), Some(&world.editor))
            .await
            .json();
        assert_eq!(entry["status"], "approved");
    }
);

db_test!(
    an_edit_of_a_live_entry_is_shown_against_the_live_one,
    World::builder(),
    |app: TestApp| async move {
        let world = World::new(app).await;
        let id = world
            .publish(json!({"title": "Original title"}), json!({}))
            .await;
        let version = world
            .app
            .get(&format!("/api/v1/entries/{id}"), Some(&world.editor))
            .await
            .json()["version"]
            .as_i64()
            .unwrap();
        world
            .app
            .patch(
                &format!("/api/v1/entries/{id}"),
                Some(&world.editor),
                json!({"version": version, "title": "Better title"}),
            )
            .await
            .expect(200);
        let browser = Browser::signed_in(&world.app, MODERATOR).await;
        browser
            .get("/moderation")
            .await
            .expect_text("edit of a live entry");
        let page = browser.get(&format!("/moderation/{id}")).await;
        page.expect(200)
            .expect_text("What this edit changes in the live entry")
            .expect_text("<del>Original title</del>")
            .expect_text("<ins>Better title</ins>")
            .expect_text("Unpublish");
    }
);

db_test!(
    an_edit_of_a_live_entry_is_approved_as_a_correction_or_an_update,
    World::builder().clock(newsfeed::clock::Clock::manual(1_900_000_000)),
    |app: TestApp| async move {
        let world = World::new(app).await;
        let id = world
            .publish(
                json!({"title": "Meetnig", "content": "<p>Teh agenda</p>"}),
                json!({}),
            )
            .await;
        let fetched = world.app.clock.now() + 50;
        world.app.clock.advance(100);
        let edit = |patch: serde_json::Value| {
            let world = &world;
            async move {
                let path = format!("/api/v1/entries/{id}");
                let mut patch = patch;
                patch["version"] =
                    world.app.get(&path, Some(&world.editor)).await.json()["version"].clone();
                world
                    .app
                    .patch(&path, Some(&world.editor), patch)
                    .await
                    .expect(200);
            }
        };
        let browser = Browser::signed_in(&world.app, MODERATOR).await;
        let checked = |page: &crate::web::support::Page, value: &str| {
            page.has(&format!(
                "name=\"notify_clients\" type=\"radio\" value=\"{value}\" checked"
            ))
        };
        // Only the text changed: a correction is preselected.
        edit(json!({"content": "<p>The agenda</p>"})).await;
        let page = browser.get(&format!("/moderation/{id}")).await;
        page.expect(200)
            .expect_text("Update (QGIS clients show it again)")
            .expect_text("Correction (QGIS clients are not told again)");
        assert!(checked(&page, "false") && !checked(&page, "true"));
        // A new title: an update is preselected; the moderator posts a correction.
        edit(json!({"title": "Meeting"})).await;
        let page = browser.get(&format!("/moderation/{id}")).await;
        assert!(checked(&page, "true") && !checked(&page, "false"));
        let version = page.input_value("version").unwrap();
        let done = browser
            .post(
                &format!("/moderation/{id}/approve"),
                &[
                    ("version", &version),
                    ("priority", "0"),
                    ("notify_clients", "false"),
                ],
            )
            .await;
        assert_eq!(done.expect(303).location(), "/moderation");
        let news = |after: i64| {
            let world = &world;
            async move {
                world
                    .app
                    .client
                    .get(format!("/?after={after}"))
                    .header("user-agent", "Mozilla/5.0 QGIS/33600/Linux")
                    .send()
                    .await
                    .0
                    .into_body()
                    .into_string()
                    .await
                    .expect("body")
            }
        };
        assert_eq!(news(fetched).await, "[]");
        assert!(
            world
                .app
                .get("/feed.rss", None)
                .await
                .text
                .contains("Meeting")
        );
        // The same as an update.
        world.app.clock.advance(100);
        edit(json!({"content": "<p>New agenda</p>"})).await;
        let page = browser.get(&format!("/moderation/{id}")).await;
        let version = page.input_value("version").unwrap();
        browser
            .post(
                &format!("/moderation/{id}/approve"),
                &[
                    ("version", &version),
                    ("priority", "0"),
                    ("notify_clients", "true"),
                ],
            )
            .await
            .expect(303);
        assert!(news(fetched).await.contains(&format!("\"pk\":{id}")));
        // A first approval offers no choice.
        let pending = world.pending_entry("Fresh").await;
        assert!(
            !browser
                .get(&format!("/moderation/{pending}"))
                .await
                .has("notify_clients")
        );
    }
);
