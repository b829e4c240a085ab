//! Optimistic locking and moderators acting at once: exactly one wins.
//! Submissions at once: written together, each answered with its own.

use sea_orm::{ActiveValue::NotSet, ColumnTrait, EntityTrait, QueryFilter, Set};
use serde_json::{Value, json};

use crate::api::support::{act, entry, entry_in, group_token, id_of};
use crate::common::{self, Reply, World};
use newsfeed::domain::Role;
use newsfeed::entities::{entry as entry_row, entry_event};

#[track_caller]
fn one_wins(first: &Reply, second: &Reply, what: &str) {
    let mut statuses = [first.status.as_u16(), second.status.as_u16()];
    statuses.sort();
    assert_eq!(
        statuses,
        [200, 409],
        "{what}: {} / {}",
        first.text,
        second.text
    );
    let loser = if first.status == 409 { first } else { second };
    // The loser either read the old version (stale) or the new status.
    loser.expect_problem_among(409, &["stale-version", "invalid-transition"]);
}

db_test!(
    stale_version_on_patch_is_409_with_the_current_version,
    |app: common::TestApp| async move {
        let w = World::new(app).await;
        let app = &w.app;
        let id = entry_in(&w, "draft", "versioned").await;
        let path = format!("/api/v1/entries/{id}");
        let v1 = entry(app, &w.editor, id).await["version"]
            .as_i64()
            .expect("version");
        let saved = app
            .patch(
                &path,
                Some(&w.editor),
                json!({"version": v1, "title": "first edit"}),
            )
            .await
            .expect(200)
            .json();
        let v2 = saved["version"].as_i64().expect("version");
        assert!(v2 > v1);
        // Someone still holding v1 edits: refused, told the current version, nothing changed.
        let reply = app
            .patch(
                &path,
                Some(&w.owner),
                json!({"version": v1, "title": "lost update"}),
            )
            .await;
        let problem = reply.expect_problem(409, "stale-version");
        assert_eq!(problem["current_version"], v2, "{problem}");
        assert_eq!(entry(app, &w.editor, id).await["title"], "first edit");
        // A version from the future is just as stale.
        let problem = app
            .patch(
                &path,
                Some(&w.owner),
                json!({"version": v2 + 5, "title": "x"}),
            )
            .await
            .expect_problem(409, "stale-version");
        assert_eq!(problem["current_version"], v2);
        // Retrying with the current version works.
        app.patch(
            &path,
            Some(&w.owner),
            json!({"version": v2, "title": "second edit"}),
        )
        .await
        .expect(200);
    }
);

db_test!(
    stale_version_on_an_action_is_409,
    |app: common::TestApp| async move {
        let w = World::new(app).await;
        let app = &w.app;
        let id = entry_in(&w, "pending", "acted on").await;
        let current = entry(app, &w.moderator, id).await["version"]
            .as_i64()
            .expect("version");
        let problem = act(
            app,
            &w.moderator,
            id,
            "approve",
            json!({"version": current - 1}),
        )
        .await
        .expect_problem(409, "stale-version");
        assert_eq!(problem["current_version"], current);
        assert_eq!(entry(app, &w.moderator, id).await["status"], "pending");
        act(
            app,
            &w.moderator,
            id,
            "approve",
            json!({"version": current}),
        )
        .await
        .expect(200);
    }
);

db_test!(
    two_moderators_deciding_at_once_exactly_one_wins,
    |app: common::TestApp| async move {
        let w = World::new(app).await;
        let app = &w.app;
        let second = app.user("mod2@example.org", Role::Moderator).await;
        let decisions = [
            ("approve", "approve"),
            ("approve", "reject"),
            ("reject", "request-changes"),
            ("request-changes", "approve"),
            ("reject", "reject"),
        ];
        for round in 0..3 {
            for (a, b) in decisions {
                let id = entry_in(&w, "pending", &format!("race {round} {a} {b}")).await;
                let body = |action: &str| {
                    if action == "approve" {
                        json!({})
                    } else {
                        json!({"comment": "race"})
                    }
                };
                let (first, second) = tokio::join!(
                    act(app, &w.moderator, id, a, body(a)),
                    act(app, &second, id, b, body(b)),
                );
                one_wins(&first, &second, &format!("{a} vs {b}"));
                // The stored status is the winner's, and the history has one decision.
                let winner = if first.status == 200 { &first } else { &second };
                let stored = entry(app, &w.admin, id).await;
                assert_eq!(stored["status"], winner.json()["status"]);
                let history = app
                    .get(&format!("/api/v1/entries/{id}/history"), Some(&w.admin))
                    .await
                    .expect(200)
                    .json();
                let decided = history
                    .as_array()
                    .expect("history")
                    .iter()
                    .filter(|event| event["from_status"] == "pending")
                    .count();
                assert_eq!(decided, 1, "{history}");
            }
        }
    }
);

db_test!(
    two_editors_saving_the_same_version_exactly_one_wins,
    |app: common::TestApp| async move {
        let w = World::new(app).await;
        let app = &w.app;
        for round in 0..3 {
            let id = entry_in(&w, "draft", &format!("edit race {round}")).await;
            let version = entry(app, &w.editor, id).await["version"].clone();
            let path = format!("/api/v1/entries/{id}");
            let (first, second) = tokio::join!(
                app.patch(
                    &path,
                    Some(&w.editor),
                    json!({"version": version, "title": "by editor"})
                ),
                app.patch(
                    &path,
                    Some(&w.owner),
                    json!({"version": version, "title": "by owner"})
                ),
            );
            one_wins(&first, &second, "concurrent edits");
            let winner = if first.status == 200 { &first } else { &second };
            assert_eq!(
                entry(app, &w.editor, id).await["title"],
                winner.json()["title"]
            );
        }
    }
);

db_test!(
    two_admins_deciding_an_access_request_at_once,
    |app: common::TestApp| async move {
        let w = World::new(app).await;
        let app = &w.app;
        let second = app.user("admin2@example.org", Role::Admin).await;
        for round in 0..3 {
            let request = app
            .post(
                "/api/v1/access-requests",
                None,
                json!({"group_name": format!("Race group {round}"), "contact_email": "x@example.org"}),
            )
            .await
            .expect(201)
            .json();
            let id = request["id"].as_i64().expect("id");
            let (approve, reject) = (
                format!("/api/v1/access-requests/{id}/approve"),
                format!("/api/v1/access-requests/{id}/reject"),
            );
            let (first, second) = tokio::join!(
                app.post(&approve, Some(&w.admin), json!({})),
                app.post(&reject, Some(&second), json!({"comment": "no"})),
            );
            one_wins(&first, &second, "access request decisions");
            let group = app
                .get(&format!("/api/v1/groups/race-group-{round}"), None)
                .await;
            let expected = if first.status == 200 { 200 } else { 404 };
            assert_eq!(group.status, expected, "{}", group.text);
        }
    }
);

db_test!(
    submissions_at_once_each_get_their_own_entry_and_history,
    |app: common::TestApp| async move {
        let w = World::new(app).await;
        let app = &w.app;
        let (_, token) = group_token(app, &w.owner, "alpha", "ci").await;
        let sent: Vec<(String, &str, &str)> = (0..40)
            .map(|n| {
                let (who, actor) = if n % 2 == 0 {
                    (w.editor.as_str(), "editor")
                } else {
                    (token.as_str(), "token ci")
                };
                (format!("At once {n}"), who, actor)
            })
            .collect();
        let replies = futures_util::future::join_all(sent.iter().map(|(title, who, _)| {
            app.post(
                "/api/v1/entries",
                Some(who),
                json!({"group": "alpha", "kind": "announcement", "title": title,
                       "content": format!("<p>{title}</p>"), "language": "en"}),
            )
        }))
        .await;
        let mut ids = std::collections::HashSet::new();
        for ((title, _, actor), reply) in sent.iter().zip(replies) {
            let created = reply.expect(201).json();
            assert_eq!(&created["title"], title, "{created}");
            let id = id_of(&created);
            assert!(ids.insert(id), "id {id} answered twice");
            let stored = entry(app, &w.editor, id).await;
            assert_eq!(
                (&stored["title"], &stored["content"]),
                (&created["title"], &json!(format!("<p>{title}</p>"))),
            );
            let history = app
                .get(&format!("/api/v1/entries/{id}/history"), Some(&w.editor))
                .await
                .expect(200)
                .json();
            let lines: Vec<(&Value, &Value)> = history
                .as_array()
                .expect("history")
                .iter()
                .map(|line| (&line["action"], &line["actor"]))
                .collect();
            assert_eq!(lines, [(&json!("create"), &json!(actor))], "{title}");
        }
    }
);

db_test!(
    a_row_the_database_refuses_fails_only_its_own_submission,
    |app: common::TestApp| async move {
        let w = World::new(app).await;
        let id = id_of(&w.app.draft(&w.editor, "alpha", "Template").await);
        let services = &w.app.state.services;
        let mut template: entry_row::ActiveModel = entry_row::Entity::find_by_id(id)
            .one(&services.db)
            .await
            .expect("read")
            .expect("the draft")
            .into();
        template.id = NotSet;
        let mut line: entry_event::ActiveModel = entry_event::Entity::find()
            .filter(entry_event::Column::EntryId.eq(id))
            .one(&services.db)
            .await
            .expect("read")
            .expect("its creation")
            .into();
        line.id = NotSet;
        // Every other row names a group that does not exist.
        let rows = (0..8).map(|n| {
            let mut row = template.clone();
            row.title = Set(format!("Row {n}"));
            if n % 2 == 1 {
                row.group_id = Set(i64::from(i32::MAX));
            }
            services.entry_inserts.insert(row, line.clone())
        });
        let results = futures_util::future::join_all(rows).await;
        for (n, result) in results.into_iter().enumerate() {
            match result {
                Ok(stored) => {
                    assert_eq!(n % 2, 0, "row {n} was stored");
                    assert_eq!(stored.title, format!("Row {n}"));
                    let read = entry(&w.app, &w.editor, stored.id).await;
                    assert_eq!(read["title"], format!("Row {n}"));
                }
                Err(error) => assert!(n % 2 == 1 && error.is_internal(), "row {n}: {error}"),
            }
        }
    }
);
