//! Reviewers: moderators assign moderators to an entry; those get its
//! submission mail, and their queue filters by "assigned to me".

use std::collections::BTreeSet;

use newsfeed::domain::Role;
use serde_json::json;

use crate::common::{TestApp, World};

const SECOND: &str = "mod2@example.org";

async fn id_of(app: &TestApp, token: &str) -> i64 {
    app.get("/api/v1/me", Some(token)).await.expect(200).json()["id"]
        .as_i64()
        .expect("id")
}

/// Who the pending submission mail is addressed to.
async fn submission_recipients(world: &World) -> BTreeSet<String> {
    let page = world
        .app
        .get("/api/v1/outbox", Some(&world.admin))
        .await
        .expect(200)
        .json();
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|mail| mail["kind"] == "submission")
        .map(|mail| mail["recipient"].as_str().expect("recipient").to_string())
        .collect()
}

async fn queue(world: &World, token: &str, query: &str) -> Vec<i64> {
    world
        .app
        .get(&format!("/api/v1/moderation/queue{query}"), Some(token))
        .await
        .expect(200)
        .json()["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|entry| entry["id"].as_i64().expect("id"))
        .collect()
}

db_test!(
    assigned_reviewers_get_the_mail_and_their_queue,
    World::builder()
        .with_user(SECOND, Role::Moderator)
        .config(|c| c.mail_worker = false),
    |app: TestApp| async move {
        let second = app.token(SECOND).to_string();
        let world = World::new(app).await;
        let app = &world.app;
        let second_id = id_of(app, &second).await;
        let editor_id = id_of(app, &world.editor).await;
        let id = app.draft(&world.editor, "alpha", "Review me").await["id"]
            .as_i64()
            .expect("id");
        let path = format!("/api/v1/entries/{id}/reviewers");
        let put = |token: &str, ids: Vec<i64>| {
            let (path, token) = (path.clone(), token.to_string());
            async move {
                app.call(
                    poem::http::Method::PUT,
                    &path,
                    Some(&token),
                    Some(json!({"reviewers": ids})),
                )
                .await
            }
        };
        put(&world.editor, vec![second_id]).await.expect(403);
        put(&world.moderator, vec![editor_id])
            .await
            .expect_field_error("reviewers");
        put(&world.moderator, vec![second_id, 999_999])
            .await
            .expect_field_error("reviewers");
        app.call(
            poem::http::Method::PUT,
            "/api/v1/entries/999999/reviewers",
            Some(&world.moderator),
            Some(json!({"reviewers": []})),
        )
        .await
        .expect(404);
        let assigned = put(&world.moderator, vec![second_id, second_id]).await;
        assigned.expect(200);
        assert_eq!(assigned.json()["reviewers"][0]["email"], SECOND);
        assert_eq!(
            app.get(&path, Some(&world.admin)).await.expect(200).json()["reviewers"]
                .as_array()
                .map(Vec::len),
            Some(1)
        );

        // Its submission goes to the reviewer only.
        app.post(
            &format!("/api/v1/entries/{id}/submit"),
            Some(&world.editor),
            json!({}),
        )
        .await
        .expect(200);
        assert_eq!(
            submission_recipients(&world).await,
            BTreeSet::from([SECOND.to_string()])
        );
        // One without reviewers goes to every moderator and admin.
        let other = app.draft(&world.editor, "alpha", "Anyone").await["id"]
            .as_i64()
            .expect("id");
        app.post(
            &format!("/api/v1/entries/{other}/submit"),
            Some(&world.editor),
            json!({}),
        )
        .await
        .expect(200);
        let everyone = submission_recipients(&world).await;
        assert!(
            everyone.contains("mod@example.org") && everyone.contains("admin@example.org"),
            "{everyone:?}"
        );

        assert_eq!(queue(&world, &second, "?assigned_to_me=true").await, [id]);
        assert!(
            queue(&world, &world.moderator, "?assigned_to_me=true")
                .await
                .is_empty()
        );
        assert_eq!(queue(&world, &world.moderator, "").await, [id, other]);

        put(&world.moderator, vec![]).await.expect(200);
        assert!(
            queue(&world, &second, "?assigned_to_me=true")
                .await
                .is_empty()
        );
    }
);
