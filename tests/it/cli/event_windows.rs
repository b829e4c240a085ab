//! The migration that gives events published with the form's default window
//! (ten days from its start), or none, their event's end; windows an editor
//! chose, and announcements, stay as they were.

use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectionTrait, Database, Statement};

use super::{databases, run, text};

/// The migrations before events became events (up to email skeletons).
const BEFORE_EVENTS: u32 = 7;
const DAY: i64 = 86_400;
const FROM: i64 = 1_900_000_000;

#[tokio::test]
async fn defaulted_event_windows_end_with_their_event() {
    let (urls, _guards) = databases().await;
    for url in urls {
        let db = Database::connect(&url).await.unwrap();
        Migrator::up(&db, Some(BEFORE_EVENTS)).await.unwrap();
        for statement in [
            "INSERT INTO users (id, email, display_name, password_hash, role, created_at, updated_at) \
             VALUES (1, 'old@example.org', 'Old', '', 'member', 0, 0)",
            "INSERT INTO groups (id, slug, name, country, website, contact, status, created_at, updated_at) \
             VALUES (1, 'old', 'Old', 'DE', '', '', 'active', 0, 0)",
        ] {
            db.execute_unprepared(statement).await.unwrap();
        }
        let ends = FROM + 200 * DAY;
        let live = |to: &str| {
            format!(
                r#"{{"kind":"event","sticky":false,"priority":0,"title":"T","content":"<p>x</p>","url":"","image":"","publish_from":{FROM},"publish_to":{to},"starts_at":{},"ends_at":{ends},"timezone":"Europe/Berlin"}}"#,
                ends - 7200
            )
        };
        // id, kind, publish_to, live revision, live_publish_to
        let rows = [
            // The form's default: ten days, long before the event.
            (
                1,
                "event",
                Some(FROM + 10 * DAY),
                Some(live(&(FROM + 10 * DAY).to_string())),
                Some(FROM + 10 * DAY),
            ),
            // No window at all: it used to stay forever.
            (2, "meetup", None, Some(live("null")), None),
            // An editor's own earlier end: kept.
            (
                3,
                "event",
                Some(FROM + 3 * DAY),
                Some(live(&(FROM + 3 * DAY).to_string())),
                Some(FROM + 3 * DAY),
            ),
            // A draft with the default window: its stored end is cleared.
            (4, "event", Some(FROM + 10 * DAY), None, None),
            // An announcement with ten days: untouched.
            (5, "announcement", Some(FROM + 10 * DAY), None, None),
        ];
        for (id, kind, publish_to, live, live_publish_to) in &rows {
            let (starts, ends) = if *kind == "announcement" {
                ("NULL".to_string(), "NULL".to_string())
            } else {
                ((ends - 7200).to_string(), ends.to_string())
            };
            let sql_text = |value: &Option<String>| {
                value
                    .as_ref()
                    .map_or("NULL".to_string(), |text| format!("'{text}'"))
            };
            let sql_number =
                |value: &Option<i64>| value.map_or("NULL".to_string(), |n| n.to_string());
            db.execute_unprepared(&format!(
                "INSERT INTO entries (id, group_id, author_id, kind, status, version, title, content, url, image, \
                 sticky, priority, publish_from, publish_to, starts_at, ends_at, timezone, live, in_feed, \
                 live_publish_to, created_at, updated_at) VALUES ({id}, 1, 1, '{kind}', '{}', 1, 'T', '<p>x</p>', '', '', \
                 false, 0, {FROM}, {}, {starts}, {ends}, 'Europe/Berlin', {}, {}, {}, 0, 0)",
                if live.is_some() { "approved" } else { "draft" },
                sql_number(publish_to),
                sql_text(live),
                live.is_some(),
                sql_number(live_publish_to),
            ))
            .await
            .unwrap();
        }
        db.close().await.ok();

        // The next command migrates and says how many rows it touched.
        let migrated = run(&["export", "--database-url", &url], "");
        let log = text(&migrated.stderr);
        assert!(log.contains("entries=3"), "{log}");

        let db = Database::connect(&url).await.unwrap();
        let read = |id: i64| {
            let db = &db;
            async move {
                let row = db
                    .query_one_raw(Statement::from_string(
                        db.get_database_backend(),
                        format!(
                            "SELECT publish_to, live_publish_to, live FROM entries WHERE id = {id}"
                        ),
                    ))
                    .await
                    .unwrap()
                    .unwrap();
                let live: Option<String> = row.try_get("", "live").unwrap();
                (
                    row.try_get::<Option<i64>>("", "publish_to").unwrap(),
                    row.try_get::<Option<i64>>("", "live_publish_to").unwrap(),
                    live.map(|live| {
                        serde_json::from_str::<serde_json::Value>(&live).unwrap()["publish_to"]
                            .clone()
                    }),
                )
            }
        };
        assert_eq!(
            read(1).await,
            (None, Some(ends), Some(serde_json::Value::Null))
        );
        assert_eq!(
            read(2).await,
            (None, Some(ends), Some(serde_json::Value::Null))
        );
        assert_eq!(
            read(3).await,
            (
                Some(FROM + 3 * DAY),
                Some(FROM + 3 * DAY),
                Some(serde_json::json!(FROM + 3 * DAY))
            )
        );
        assert_eq!(read(4).await, (None, None, None));
        assert_eq!(read(5).await, (Some(FROM + 10 * DAY), None, None));
        // Published revisions get their search text (the words of title,
        // text without markup and place), as do working revisions.
        let row = db
            .query_one_raw(Statement::from_string(
                db.get_database_backend(),
                "SELECT live_search, working_search FROM entries WHERE id = 1",
            ))
            .await
            .unwrap()
            .unwrap();
        let search = |column: &str| row.try_get::<Option<String>>("", column).unwrap();
        assert_eq!(search("live_search").as_deref(), Some("t x"));
        assert_eq!(search("working_search").as_deref(), Some("t x"));
        db.close().await.ok();
    }
}
