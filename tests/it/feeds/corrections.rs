//! Approving an edit of a live entry as a correction (QGIS clients are not
//! sent it again) or an update (they are, and QGIS 3.36+ shows it again).

use newsfeed::clock::Clock;
use serde_json::{Value, json};

use crate::common::{self, World};
use crate::feeds::support::{NEW_QGIS, OLD_QGIS, fetch, pks, publish, qgis};

const START: i64 = 1_900_000_000;

/// The group edits live entry `id` with `patch`; a moderator approves the
/// edit with `approval`; the approval's reply.
async fn edit_and_approve(world: &World, id: i64, patch: Value, approval: Value) -> common::Reply {
    let path = format!("/api/v1/entries/{id}");
    let version = world
        .app
        .get(&path, Some(&world.editor))
        .await
        .expect(200)
        .json()["version"]
        .clone();
    let mut patch = patch;
    patch["version"] = version;
    world
        .app
        .patch(&path, Some(&world.editor), patch)
        .await
        .expect(200);
    world
        .app
        .post(
            &format!("/api/v1/moderation/entries/{id}/approve"),
            Some(&world.moderator),
            approval,
        )
        .await
}

/// The pks a QGIS `agent` that last fetched at `after` gets.
async fn news_since(world: &World, after: i64, agent: &str) -> Vec<i64> {
    pks(&qgis(&world.app, &format!("/?after={after}"), agent).await)
}

db_test!(
    corrections_are_not_sent_again_updates_are,
    World::builder().clock(Clock::manual(START)),
    |app: common::TestApp| async move {
        let world = World::new(app).await;
        let clock = world.app.clock.clone();
        let id = publish(
            &world,
            json!({"title": "Meetnig in Bonn", "content": "<p>Teh agenda</p>"}),
            json!({}),
        )
        .await;
        clock.advance(100);
        let fetched = START + 50;
        // A typo in the title, fixed as a correction.
        edit_and_approve(
            &world,
            id,
            json!({"title": "Meeting in Bonn"}),
            json!({"notify_clients": false}),
        )
        .await
        .expect(200);
        let rss = fetch(&world.app, "/feed.rss", &[])
            .await
            .expect(200)
            .text
            .clone();
        assert!(
            rss.contains("Meeting in Bonn") && !rss.contains("Meetnig"),
            "{rss}"
        );
        for agent in [NEW_QGIS, OLD_QGIS] {
            assert!(
                news_since(&world, fetched, agent).await.is_empty(),
                "{agent}"
            );
        }
        // A client fetching for the first time gets the corrected entry.
        let first = qgis(&world.app, "/", NEW_QGIS).await;
        assert_eq!(first[0]["title"], "Meeting in Bonn");
        assert_eq!(first[0]["publish_from"].as_f64(), Some(START as f64));

        // Default: only the text changed, so a correction.
        clock.advance(100);
        edit_and_approve(
            &world,
            id,
            json!({"content": "<p>The agenda</p>"}),
            json!({}),
        )
        .await
        .expect(200);
        assert!(news_since(&world, fetched, NEW_QGIS).await.is_empty());
        let history = world
            .app
            .get(
                &format!("/api/v1/entries/{id}/history"),
                Some(&world.editor),
            )
            .await
            .expect(200)
            .json();
        assert!(history.to_string().contains("The agenda"));

        // An update: clients are sent it again, old ones too (it is new to them).
        clock.advance(100);
        let before_update = clock.now() - 1;
        edit_and_approve(
            &world,
            id,
            json!({"content": "<p>New agenda</p>"}),
            json!({"notify_clients": true}),
        )
        .await
        .expect(200);
        for agent in [NEW_QGIS, OLD_QGIS] {
            assert_eq!(
                news_since(&world, before_update, agent).await,
                [id],
                "{agent}"
            );
        }
        assert_eq!(news_since(&world, fetched, NEW_QGIS).await, [id]);

        // Default: a new title is news.
        clock.advance(100);
        let before_retitle = clock.now() - 1;
        edit_and_approve(&world, id, json!({"title": "Meeting moved"}), json!({}))
            .await
            .expect(200);
        assert_eq!(news_since(&world, before_retitle, NEW_QGIS).await, [id]);
    }
);

db_test!(
    a_first_publication_always_reaches_clients,
    |app: common::TestApp| async move {
        let world = World::new(app).await;
        let id = world.pending_entry("New").await;
        let path = format!("/api/v1/moderation/entries/{id}/approve");
        world
            .app
            .post(
                &path,
                Some(&world.moderator),
                json!({"notify_clients": false}),
            )
            .await
            .expect_field_error("notify_clients");
        // Only approvals take it.
        world
            .app
            .post(
                &format!("/api/v1/moderation/entries/{id}/reject"),
                Some(&world.moderator),
                json!({"comment": "no", "notify_clients": true}),
            )
            .await
            .expect_field_error("notify_clients");
        world
            .app
            .post(
                &path,
                Some(&world.moderator),
                json!({"notify_clients": true}),
            )
            .await
            .expect(200);
    }
);
