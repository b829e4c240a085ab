//! No text, whatever field it sits in and however it got into the database,
//! can change the structure of a feed: control characters are refused on
//! the way in, and every format escapes (or drops) what it cannot carry.
//! Each feed is read back with a parser that is not ours.

use std::collections::BTreeMap;
use std::str::FromStr;

use icalendar::{Calendar, Component};
use newsfeed::entities::{entry, group};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, Set};
use serde_json::{Value, json};

use crate::common::{self, World};
use crate::support::{event, fetch};

/// What a stranger would put in a field to break out of it.
const HOSTILE: [&str; 9] = [
    "\r\nBEGIN:VEVENT\r\nSUMMARY:phish\r\nURL:https://evil.example\r\nEND:VEVENT\r\n",
    "\rLOCATION:elsewhere",
    "\nX-INJECTED:1",
    "\u{0}nul",
    "\u{7}bell",
    "\u{b}tab",
    "\u{1b}[31mred",
    "\u{85}next line",
    "\u{202e}txt.exe",
];

db_test!(
    single_line_fields_refuse_control_characters,
    |app: common::TestApp| async move {
        let world = World::new(app).await;
        let app = &world.app;
        for hostile in HOSTILE {
            let text = format!("Name{hostile}");
            for (field, extra) in [
                ("title", json!({})),
                ("call_to_action", json!({})),
                (
                    "location_name",
                    json!({"kind": "meetup", "starts_at": "2031-01-01T10:00:00Z",
                    "ends_at": "2031-01-01T12:00:00Z", "timezone": "Europe/Berlin"}),
                ),
            ] {
                let mut body = json!({"group": "alpha", "kind": "announcement", "title": "t",
                                      "content": "<p>c</p>"});
                for (key, value) in extra.as_object().expect("object") {
                    body[key] = value.clone();
                }
                body[field] = json!(text);
                let reply = app.post("/api/v1/entries", Some(&world.editor), body).await;
                reply.expect_field_error(field);
            }
            let group = app
                .post(
                    "/api/v1/groups",
                    Some(&world.admin),
                    json!({"slug": "evil", "name": text}),
                )
                .await;
            group.expect_field_error("name");
            let request = app
                .post(
                    "/api/v1/access-requests",
                    None,
                    json!({"group_name": text, "slug": "evil", "contact_email": "e@example.org"}),
                )
                .await;
            request.expect_field_error("group_name");
            let token = app
                .post(
                    "/api/v1/groups/alpha/tokens",
                    Some(&world.owner),
                    json!({"name": text}),
                )
                .await;
            token.expect_field_error("name");
        }
        // Content keeps its newlines (it is HTML), not other controls.
        let body = json!({"group": "alpha", "kind": "announcement", "title": "t",
                          "content": "<p>one\r\ntwo</p>"});
        app.post("/api/v1/entries", Some(&world.editor), body)
            .await
            .expect(201);
        let body = json!({"group": "alpha", "kind": "announcement", "title": "t",
                          "content": "<p>bell\u{7}</p>"});
        let reply = app.post("/api/v1/entries", Some(&world.editor), body).await;
        reply.expect_field_error("content");
    }
);

/// Writes `hostile` into every text field of entry `id`'s live revision and
/// into its group's name, straight into the database, as an older version or
/// an import might have left them.
async fn poison(app: &common::TestApp, id: i64, hostile: &str) {
    let db = &app.state.services.db;
    let row = entry::Entity::find_by_id(id)
        .one(db)
        .await
        .expect("read")
        .expect("entry");
    let mut live: Value =
        serde_json::from_str(row.live_revision.as_deref().expect("live")).expect("live revision");
    for field in ["title", "location_name", "call_to_action", "timezone"] {
        live[field] = json!(format!("{}{hostile}", live[field].as_str().unwrap_or("x")));
    }
    live["content"] = json!(format!("<p>Body{hostile}</p>"));
    live["url"] = json!(format!("https://example.org/{hostile}"));
    live["online_url"] = json!(format!("https://meet.example.org/{hostile}"));
    let mut active: entry::ActiveModel = row.into();
    active.live_revision = Set(Some(live.to_string()));
    entry::Entity::update(active)
        .exec(db)
        .await
        .expect("poison entry");
    // PostgreSQL cannot store NUL in a text column at all.
    let name = if app.backend == "postgres" {
        format!("Alpha{}", hostile.replace('\0', ""))
    } else {
        format!("Alpha{hostile}")
    };
    group::Entity::update_many()
        .col_expr(group::Column::Name, sea_orm::sea_query::Expr::value(name))
        .filter(group::Column::Slug.eq("alpha"))
        .exec(db)
        .await
        .expect("poison group");
    app.state.feeds.refresh().await.expect("refresh");
}

/// Property names of a calendar's components, with their counts.
fn property_counts(properties: &BTreeMap<String, icalendar::Property>) -> Vec<String> {
    properties.keys().cloned().collect()
}

db_test!(
    stored_control_characters_never_reach_a_feed,
    |app: common::TestApp| async move {
        let world = World::new(app).await;
        let app = &world.app;
        let id = event(&world, "Meetup", 86_400).await;
        for hostile in HOSTILE {
            poison(app, id, hostile).await;
            for path in ["/feed.ics", "/groups/alpha/feed.ics"] {
                let text = fetch(app, path, &[]).await.expect(200).text.clone();
                // Every line ends with CRLF; no bare CR or LF anywhere else.
                let lines = text.strip_suffix("\r\n").expect("ends with CRLF");
                for line in lines.split("\r\n") {
                    assert!(
                        !line.contains(['\r', '\n']) && !line.chars().any(char::is_control),
                        "{hostile:?} {path}: {line:?}"
                    );
                }
                let calendar = Calendar::from_str(&text)
                    .unwrap_or_else(|e| panic!("{hostile:?} {path}: {e}\n{text}"));
                let events: Vec<&icalendar::Event> = calendar
                    .components
                    .iter()
                    .filter_map(|c| c.as_event())
                    .collect();
                assert_eq!(events.len(), 1, "{hostile:?} {path}: {text}");
                assert_eq!(calendar.components.len(), 1, "{hostile:?} {path}");
                let names = property_counts(events[0].properties());
                assert_eq!(
                    names,
                    [
                        "DESCRIPTION",
                        "DTEND",
                        "DTSTAMP",
                        "DTSTART",
                        "GEO",
                        "LAST-MODIFIED",
                        "LOCATION",
                        "STATUS",
                        "SUMMARY",
                        "UID",
                        "URL",
                        "X-NEWSFEED-TIMEZONE",
                    ],
                    "{hostile:?} {path}"
                );
                assert!(
                    events[0].multi_properties().is_empty(),
                    "{hostile:?} {path}"
                );
                let summary = events[0].get_summary().unwrap_or_default();
                assert!(summary.starts_with("Meetup"), "{hostile:?}: {summary:?}");
                assert!(
                    !summary.chars().any(char::is_control),
                    "{hostile:?}: {summary:?}"
                );
            }
            for path in ["/feed.rss", "/feed.atom", "/groups/alpha/feed.rss"] {
                let text = fetch(app, path, &[]).await.expect(200).text.clone();
                let feed = feed_rs::parser::parse(text.as_bytes())
                    .unwrap_or_else(|e| panic!("{hostile:?} {path}: {e}\n{text}"));
                assert_eq!(feed.entries.len(), 1, "{hostile:?} {path}");
                let title = feed.entries[0].title.as_ref().map(|t| t.content.clone());
                assert!(
                    title.is_some_and(
                        |t| t.starts_with("Meetup") && !t.chars().any(char::is_control)
                    ),
                    "{hostile:?} {path}"
                );
            }
            for path in ["/feed.json", "/?json=1"] {
                let reply = fetch(app, path, &[]).await;
                reply.expect(200);
                let text = &reply.text;
                assert!(
                    !text.chars().any(char::is_control),
                    "{hostile:?} {path}: {text}"
                );
                let parsed: Value = serde_json::from_str(text).expect("JSON");
                let first = parsed.get("items").unwrap_or(&parsed)[0].clone();
                let title = first["title"].as_str().unwrap_or_default();
                assert!(title.starts_with("Meetup"), "{hostile:?} {path}: {title}");
                assert!(!title.contains('\u{202e}'), "{hostile:?} {path}");
            }
            let page = fetch(app, "/", &[]).await.expect(200).text.clone();
            assert!(
                !page.chars().any(|c| c.is_control() && c != '\n'),
                "{hostile:?} /"
            );
        }
    }
);
