//! No text, whatever field it sits in and however it got into the database,
//! can change the structure of a feed: control characters are refused on
//! the way in, and every format escapes (or drops) what it cannot carry.
//! Each feed is read back with a parser that is not ours.

use std::collections::BTreeMap;
use std::str::FromStr;

use icalendar::{Calendar, Component, EventLike};
use newsfeed::entities::{entry, group};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, Set};
use serde_json::{Value, json};

use crate::common::{self, World};
use crate::feeds::support::{event, fetch};

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

/// Changes entry `id`'s live revision straight in the database, as an
/// older version or an import might have left it.
async fn rewrite_live(app: &common::TestApp, id: i64, change: impl FnOnce(&mut Value)) {
    let db = &app.state.services.db;
    let row = entry::Entity::find_by_id(id)
        .one(db)
        .await
        .expect("read")
        .expect("entry");
    let mut live: Value =
        serde_json::from_str(row.live_revision.as_deref().expect("live")).expect("live revision");
    change(&mut live);
    let mut active: entry::ActiveModel = row.into();
    active.live_revision = Set(Some(live.to_string()));
    entry::Entity::update(active)
        .exec(db)
        .await
        .expect("rewrite entry");
}

/// Writes `hostile` into every text field of entry `id`'s live revision and
/// into its group's name, straight into the database.
async fn poison(app: &common::TestApp, id: i64, hostile: &str) {
    rewrite_live(app, id, |live| {
        for field in [
            "title",
            "location_name",
            "call_to_action",
            "timezone",
            "recurrence",
        ] {
            live[field] = json!(format!("{}{hostile}", live[field].as_str().unwrap_or("x")));
        }
        live["content"] = json!(format!("<p>Body{hostile}</p>"));
        live["url"] = json!(format!("https://example.org/{hostile}"));
        live["online_url"] = json!(format!("https://meet.example.org/{hostile}"));
        live["attendance"] = json!("hybrid");
        live["exdates"] = json!([format!("2030-01-01T10:00{hostile}")]);
        live["moved_occurrences"] = json!({format!("2030-01-08T10:00{hostile}"): hostile});
    })
    .await;
    let db = &app.state.services.db;
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
                        "CONFERENCE",
                        "DESCRIPTION",
                        "DTEND",
                        "DTSTAMP",
                        "DTSTART",
                        "GEO",
                        "LAST-MODIFIED",
                        "LOCATION",
                        "SEQUENCE",
                        "STATUS",
                        "SUMMARY",
                        "UID",
                        "URL",
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

/// Markup a stranger would put in a name to have a reader run it.
const MARKUP: [&str; 2] = [
    "<img src=x onerror=alert(1)>",
    "</description><script>alert(1)</script>",
];

/// Whether `html`, rendered by a reader, holds an element that runs.
fn live_markup(html: &str) -> bool {
    let lower = html.to_ascii_lowercase();
    lower.contains("<img") || lower.contains("<script")
}

/// The HTML a reader renders for `text`: HTML as it is, plain text escaped.
fn rendered(text: &feed_rs::model::Text, html: bool) -> String {
    if html || text.content_type.essence().to_string() == "text/html" {
        text.content.clone()
    } else {
        text.content
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    }
}

/// What a reader that does not clean feeds shows of `text` (an RSS or Atom
/// body): every text element as the HTML it renders. RSS readers render
/// descriptions as HTML whatever they hold; Atom says so with `type`.
fn rendered_feed(text: &str) -> Vec<String> {
    let feed = feed_rs::parser::Builder::new()
        .sanitize_content(false)
        .build()
        .parse(text.as_bytes())
        .unwrap_or_else(|e| panic!("{e}\n{text}"));
    let rss = feed.feed_type == feed_rs::model::FeedType::RSS2;
    let mut shown: Vec<String> = [(&feed.title, false), (&feed.description, rss)]
        .into_iter()
        .filter_map(|(text, html)| text.as_ref().map(|text| rendered(text, html)))
        .collect();
    for entry in &feed.entries {
        shown.extend(entry.title.as_ref().map(|t| rendered(t, false)));
        shown.extend(entry.summary.as_ref().map(|t| rendered(t, rss)));
        shown.extend(entry.content.iter().filter_map(|content| {
            let html = content.content_type.essence().to_string() == "text/html";
            content.body.clone().filter(|_| html)
        }));
        shown.extend(entry.authors.iter().map(|a| rendered_plain(&a.name)));
        shown.extend(
            entry
                .categories
                .iter()
                .filter_map(|c| c.label.as_deref().map(rendered_plain)),
        );
    }
    shown
}

fn rendered_plain(text: &str) -> String {
    newsfeed::domain::sanitize::escape_html(text)
}

db_test!(
    markup_in_names_titles_and_venues_shows_as_text_in_every_feed,
    |app: common::TestApp| async move {
        let world = World::new(app).await;
        let app = &world.app;
        let me = app.get("/api/v1/me", Some(&world.editor)).await.json();
        for (index, markup) in MARKUP.into_iter().enumerate() {
            // An admin creates the group through the API; the name may hold `<`.
            let slug = format!("evil{index}");
            app.post(
                "/api/v1/groups",
                Some(&world.admin),
                json!({"slug": slug, "name": format!("Evil {markup}"), "country": "DE"}),
            )
            .await
            .expect(201);
            app.post(
                &format!("/api/v1/groups/{slug}/members"),
                Some(&world.admin),
                json!({"email": "editor@example.org", "role": "editor"}),
            )
            .await
            .expect(201);
            app.patch(
                &format!("/api/v1/users/{}", me["id"]),
                Some(&world.admin),
                json!({"display_name": format!("Ed {markup}")}),
            )
            .await
            .expect(200);
            let starts = common::now() + 86_400;
            world
                .publish(
                    json!({"group": slug, "kind": "meetup", "title": format!("Meetup {markup}"),
                           "content": "<p>Come along</p>",
                           "call_to_action": format!("Join {markup}"),
                           "starts_at": crate::feeds::support::rfc3339(starts),
                           "ends_at": crate::feeds::support::rfc3339(starts + 3600),
                           "timezone": "Europe/Berlin",
                           "location_name": format!("Hall {markup}")}),
                    json!({}),
                )
                .await;
            let escaped = rendered_plain(markup);
            for path in [
                format!("/groups/{slug}/feed.rss"),
                format!("/feed.rss?group={slug}"),
                "/feed.rss".into(),
                format!("/groups/{slug}/feed.atom"),
                "/feed.atom".into(),
            ] {
                let text = fetch(app, &path, &[]).await.expect(200).text.clone();
                let shown = rendered_feed(&text);
                for html in &shown {
                    assert!(!live_markup(html), "{path}: {html}\n{text}");
                }
                // The markup is there, as text.
                assert!(
                    shown.iter().any(|html| html.contains(&escaped)),
                    "{path}: {shown:?}"
                );
            }
            for path in [format!("/groups/{slug}/feed.json"), "/feed.json".into()] {
                let feed = fetch(app, &path, &[]).await.expect(200).json();
                if let Some(title) = feed["title"].as_str().filter(|t| t.contains("Evil")) {
                    assert_eq!(title, format!("News from Evil {markup}"), "{path}");
                }
                for item in feed["items"].as_array().expect("items") {
                    let html = item["content_html"].as_str().expect("content_html");
                    assert!(!live_markup(html), "{path}: {html}");
                    // Plain-text fields keep the text as written; readers escape them.
                    if item["_newsfeed"]["group"] == slug.as_str() {
                        assert_eq!(item["title"], format!("Meetup {markup}"), "{path}");
                        assert_eq!(item["_newsfeed"]["location_name"], format!("Hall {markup}"));
                    }
                }
            }
            for agent in [
                crate::feeds::support::NEW_QGIS,
                crate::feeds::support::OLD_QGIS,
            ] {
                for item in crate::feeds::support::qgis(app, "/?json=1", agent).await {
                    for field in ["title", "content"] {
                        let html = item[field].as_str().expect(field);
                        assert!(!live_markup(html), "{agent} {field}: {html}");
                    }
                    let title = item["title"].as_str().unwrap_or_default();
                    if title.starts_with("Meetup") {
                        let escaped = |markup| format!("Meetup {}", rendered_plain(markup));
                        assert!(MARKUP.into_iter().any(|m| title == escaped(m)), "{title}");
                    }
                }
            }
            // iCalendar is plain text: the calendar shows the text as written.
            let text = fetch(app, &format!("/groups/{slug}/feed.ics"), &[])
                .await
                .expect(200)
                .text
                .clone();
            let calendar = Calendar::from_str(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
            let event = calendar
                .components
                .iter()
                .find_map(|c| c.as_event())
                .expect("the meetup");
            assert_eq!(
                event.get_summary(),
                Some(format!("Meetup {markup}").as_str())
            );
            assert_eq!(
                event.get_location(),
                Some(format!("Hall {markup}").as_str())
            );
            assert!(
                event.property_value("X-ALT-DESC").is_none(),
                "no HTML description"
            );
            assert!(!text.contains("X-ALT-DESC"), "{text}");
        }
    }
);

db_test!(
    stored_markup_in_content_is_cleaned_again,
    |app: common::TestApp| async move {
        let world = World::new(app).await;
        let app = &world.app;
        let id = event(&world, "Meetup", 86_400).await;
        rewrite_live(app, id, |live| {
            live["content"] = json!(format!("<p>Body</p>{}", MARKUP.concat()));
        })
        .await;
        app.state.feeds.refresh().await.expect("refresh");
        for path in ["/feed.rss", "/feed.atom"] {
            let text = fetch(app, path, &[]).await.expect(200).text.clone();
            let shown = rendered_feed(&text);
            assert!(shown.iter().any(|html| html.contains("Body")), "{path}");
            for html in &shown {
                assert!(!live_markup(html), "{path}: {html}");
            }
        }
        let feed = fetch(app, "/feed.json", &[]).await.expect(200).json();
        let html = feed["items"][0]["content_html"].as_str().expect("content");
        assert!(html.contains("Body") && !live_markup(html), "{html}");
        let items =
            crate::feeds::support::qgis(app, "/?json=1", crate::feeds::support::NEW_QGIS).await;
        let html = items[0]["content"].as_str().expect("content");
        assert!(html.contains("Body") && !live_markup(html), "{html}");
    }
);
