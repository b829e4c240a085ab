//! Every format parses with an independent parser and carries the fields it promises.

use std::str::FromStr;

use icalendar::{Calendar, Component, EventLike};
use serde_json::{Value, json};

use crate::common::{self, World};
use crate::feeds::support::{event, fetch, publish, unpublish};

async fn parsed(app: &common::TestApp, path: &str, content_type: &str) -> feed_rs::model::Feed {
    let reply = fetch(app, path, &[]).await;
    reply.expect(200);
    assert_eq!(reply.header("content-type"), Some(content_type), "{path}");
    feed_rs::parser::parse(reply.text.as_bytes())
        .unwrap_or_else(|e| panic!("{path}: {e}\n{}", reply.text))
}

db_test!(
    rss_atom_and_json_feed_parse,
    |app: common::TestApp| async move {
        let world = World::new(app).await;
        let app = &world.app;
        let news = publish(
            &world,
            json!({"title": "Tom & Jerry <3", "url": "https://example.org/n", "language": "en"}),
            json!({}),
        )
        .await;
        let meetup = event(&world, "Meetup", 86_400).await;
        let other = app
        .post(
            "/api/v1/entries",
            Some(&world.other_editor),
            json!({"group": "beta", "kind": "announcement", "title": "Beta news", "content": "<p>x</p>"}),
        )
        .await
        .expect(201)
        .json()["id"]
        .as_i64()
        .expect("id");
        app.submit_and_approve(&world.other_editor, &world.moderator, other, json!({}))
            .await;

        for (path, content_type) in [
            ("/feed.rss", "application/rss+xml; charset=utf-8"),
            ("/feed.atom", "application/atom+xml; charset=utf-8"),
            ("/feed.json", "application/feed+json; charset=utf-8"),
        ] {
            let feed = parsed(app, path, content_type).await;
            assert_eq!(feed.entries.len(), 3, "{path}");
            let titles: Vec<String> = feed
                .entries
                .iter()
                .filter_map(|entry| entry.title.as_ref().map(|t| t.content.clone()))
                .collect();
            assert!(
                titles.contains(&"Tom & Jerry <3".to_string()),
                "{path}: {titles:?}"
            );
            let ids: Vec<&str> = feed.entries.iter().map(|entry| entry.id.as_str()).collect();
            assert!(
                ids.contains(&format!("tag:127.0.0.1,2026:entry/{news}").as_str()),
                "{path}: {ids:?}"
            );
            let alpha = parsed(
                app,
                &path.replace("/feed", "/groups/alpha/feed"),
                content_type,
            )
            .await;
            assert_eq!(alpha.entries.len(), 2, "{path} for alpha");
            let events = parsed(
                app,
                &format!("{path}?group=alpha,beta&kind=event"),
                content_type,
            )
            .await;
            assert_eq!(events.entries.len(), 1, "{path} events");
            // feed-rs does not read JSON Feed tags: read them from the JSON itself.
            let categories: Vec<String> = if path == "/feed.json" {
                let raw = fetch(app, &format!("{path}?group=alpha,beta&kind=event"), &[])
                    .await
                    .json();
                raw["items"][0]["tags"]
                    .as_array()
                    .expect("tags")
                    .iter()
                    .filter_map(|tag| tag.as_str().map(str::to_string))
                    .collect()
            } else {
                events.entries[0]
                    .categories
                    .iter()
                    .map(|c| c.term.clone())
                    .collect()
            };
            assert!(
                categories.iter().any(|c| c == "event") && categories.iter().any(|c| c == "alpha"),
                "{path}: {categories:?}"
            );
        }

        let rss = fetch(app, "/feed.rss", &[]).await.text;
        assert!(
            rss.contains("<atom:link href=\"http://127.0.0.1:8080/feed.rss\" rel=\"self\""),
            "{rss}"
        );
        assert!(rss.contains("isPermaLink=\"false\""));
        let atom = fetch(app, "/groups/alpha/feed.atom", &[]).await.text;
        assert!(atom.contains("rel=\"self\""));

        let feed: Value = fetch(app, "/feed.json?kind=event", &[]).await.json();
        check_json_feed(&feed);
        let item = &feed["items"][0];
        assert_eq!(
            item["id"],
            json!(format!("tag:127.0.0.1,2026:entry/{meetup}"))
        );
        assert_eq!(item["_newsfeed"]["kind"], "event");
        assert_eq!(item["_newsfeed"]["group"], "alpha");
        assert_eq!(item["_newsfeed"]["location_name"], "Hall 1, Bonn");
        assert_eq!(item["_newsfeed"]["timezone"], "Europe/Berlin");
        assert!(item["_newsfeed"]["starts_at"].is_string());
        assert_eq!(
            feed["feed_url"],
            "http://127.0.0.1:8080/feed.json?kind=event"
        );
    }
);

/// The rules of the JSON Feed 1.1 specification (https://www.jsonfeed.org/version/1.1/)
/// that a schema would check: required members, their types, and URLs.
fn check_json_feed(feed: &Value) {
    assert_eq!(feed["version"], "https://jsonfeed.org/version/1.1");
    assert!(feed["title"].is_string());
    for key in ["home_page_url", "feed_url"] {
        let url = feed[key].as_str().expect(key);
        assert!(url::Url::parse(url).is_ok(), "{key}: {url}");
    }
    for item in feed["items"].as_array().expect("items") {
        assert!(item["id"].is_string(), "id is a string: {item}");
        assert!(item["content_html"].is_string() || item["content_text"].is_string());
        for key in ["url", "image"] {
            if let Some(value) = item.get(key) {
                assert!(url::Url::parse(value.as_str().expect(key)).is_ok(), "{key}");
            }
        }
        for key in ["date_published", "date_modified"] {
            let date = item[key].as_str().expect(key);
            assert!(
                chrono::DateTime::parse_from_rfc3339(date).is_ok(),
                "{key}: {date}"
            );
        }
        assert!(
            item["tags"]
                .as_array()
                .is_some_and(|tags| tags.iter().all(Value::is_string))
        );
        assert!(item["authors"][0]["name"].is_string());
        for key in item.as_object().expect("item").keys() {
            let known = [
                "id",
                "url",
                "external_url",
                "title",
                "content_html",
                "content_text",
                "summary",
                "image",
                "banner_image",
                "date_published",
                "date_modified",
                "authors",
                "tags",
                "language",
                "attachments",
            ];
            assert!(
                known.contains(&key.as_str()) || key.starts_with('_'),
                "unknown member {key}"
            );
        }
    }
}

db_test!(
    calendar_of_upcoming_events,
    // Calendars hold every event, however many the news feeds show.
    World::builder().config(|config| config.feed_max_items = 1),
    |app: common::TestApp| async move {
        let world = World::new(app).await;
        let app = &world.app;
        let soon = event(&world, "Soon; with, specials", 3600).await;
        let cancelled = event(&world, "Cancelled", 7200).await;
        unpublish(&world, cancelled).await;
        publish(&world, json!({"title": "Not an event"}), json!({})).await;
        let reply = fetch(app, "/feed.ics", &[]).await;
        reply.expect(200);
        assert_eq!(
            reply.header("content-type"),
            Some("text/calendar; charset=utf-8")
        );
        assert!(reply.text.starts_with("BEGIN:VCALENDAR\r\n"));
        // RFC 5545: VERSION and PRODID exactly once each.
        for property in ["\r\nVERSION:2.0\r\n", "\r\nPRODID:"] {
            assert_eq!(reply.text.matches(property).count(), 1, "{}", reply.text);
        }
        let calendar =
            Calendar::from_str(&reply.text).unwrap_or_else(|e| panic!("{e}\n{}", reply.text));
        let events: Vec<_> = calendar.events().collect();
        assert_eq!(events.len(), 2, "{}", reply.text);
        let uid = |id: i64| format!("entry-{id}@127.0.0.1");
        let find = |id: i64| {
            events
                .iter()
                .find(|e| e.get_uid() == Some(uid(id).as_str()))
                .expect("event")
        };
        let upcoming = find(soon);
        assert_eq!(upcoming.get_summary(), Some("Soon; with, specials"));
        assert_eq!(upcoming.get_location(), Some("Hall 1, Bonn"));
        assert_eq!(upcoming.property_value("GEO"), Some("50.7;7.1"));
        assert_eq!(upcoming.get_url(), Some("https://example.org/event"));
        assert_eq!(upcoming.property_value("STATUS"), Some("CONFIRMED"));
        assert_eq!(upcoming.property_value("SEQUENCE"), Some("1"));
        // Times as the clock at the venue reads them, with the zone's VTIMEZONE.
        let entry = app
            .get(&format!("/api/v1/entries/{soon}"), Some(&world.editor))
            .await
            .json();
        let berlin: chrono_tz::Tz = "Europe/Berlin".parse().unwrap();
        for (property, field) in [("DTSTART", "starts_at"), ("DTEND", "ends_at")] {
            let local = chrono::DateTime::parse_from_rfc3339(entry[field].as_str().unwrap())
                .unwrap()
                .with_timezone(&berlin)
                .format("%Y%m%dT%H%M%S")
                .to_string();
            assert!(
                reply
                    .text
                    .contains(&format!("\r\n{property};TZID=Europe/Berlin:{local}\r\n")),
                "{property} {local}: {}",
                reply.text
            );
        }
        assert_eq!(
            reply
                .text
                .matches("BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\n")
                .count(),
            1,
            "{}",
            reply.text
        );
        // A retracted event shows as cancelled, one change later.
        assert_eq!(find(cancelled).property_value("STATUS"), Some("CANCELLED"));
        assert_eq!(find(cancelled).property_value("SEQUENCE"), Some("2"));
        // UIDs do not change between renderings.
        let again = fetch(app, "/groups/alpha/feed.ics?kind=event", &[])
            .await
            .text;
        assert!(again.contains(&format!("UID:{}", uid(soon))));
    }
);

/// What feedparser reads of the feed on stdin: for each entry its title,
/// description, pictures (`media:content`) and enclosures.
const FEEDPARSER: &str = r#"
import sys, json, feedparser
feed = feedparser.parse(sys.stdin.buffer.read())
print(json.dumps({
    "bozo": bool(feed.bozo), "version": feed.version,
    "entries": [{
        "title": entry.get("title"),
        "summary": entry.get("summary"),
        "media": [content.get("url") for content in entry.get("media_content", [])],
        "enclosures": [[enclosure.get("href"), enclosure.get("type")] for enclosure in entry.get("enclosures", [])],
    } for entry in feed.entries],
}))
"#;

db_test!(
    feeds_carry_the_picture_and_the_event_at_the_top,
    |app: common::TestApp| async move {
        let world = World::new(app).await;
        let app = &world.app;
        let starts = common::now() + 86_400;
        let image = "https://example.org/pictures/map.png";
        publish(
            &world,
            json!({"kind": "meetup", "title": "Map & pizza", "content": "<p>Bring a laptop</p>",
                   "image": image, "starts_at": crate::feeds::support::rfc3339(starts),
                   "ends_at": crate::feeds::support::rfc3339(starts + 7200),
                   "timezone": "Europe/Berlin", "location_name": "Café <Karte>, Bonn",
                   "attendance": "in_person"}),
            json!({}),
        )
        .await;
        publish(&world, json!({"title": "No picture"}), json!({})).await;
        let in_words =
            |text: &str| text.contains("Café &lt;Karte&gt;, Bonn") && text.contains("CET");

        let rss = fetch(app, "/feed.rss", &[]).await.text;
        assert!(
            rss.contains("xmlns:media=\"http://search.yahoo.com/mrss/\""),
            "{rss}"
        );
        for (path, version) in [("/feed.rss", "rss20"), ("/feed.atom", "atom10")] {
            let text = fetch(app, path, &[]).await.text;
            let read = common::python_reads(FEEDPARSER, text.as_bytes());
            assert_eq!(read["bozo"], false, "{path}: {text}");
            assert_eq!(read["version"], version, "{path}");
            let entries = read["entries"].as_array().unwrap();
            let meetup = entries
                .iter()
                .find(|entry| entry["title"] == "Map & pizza")
                .unwrap_or_else(|| panic!("{path}: {read}"));
            assert_eq!(
                meetup["enclosures"],
                json!([[image, "image/png"]]),
                "{path}: {read}"
            );
            if path == "/feed.rss" {
                // What QField reads.
                assert_eq!(meetup["media"], json!([image]), "{read}");
            }
            // When and where lead the text; the content follows.
            let summary = meetup["summary"].as_str().unwrap();
            assert!(summary.starts_with("<p>"), "{path}: {summary}");
            let first = summary.split("</p>").next().unwrap();
            assert!(in_words(first), "{path}: {summary}");
            assert!(summary.contains("Bring a laptop"), "{path}: {summary}");
            let news = entries
                .iter()
                .find(|entry| entry["title"] == "No picture")
                .unwrap();
            assert_eq!(news["enclosures"], json!([]), "{path}");
            assert_eq!(news["media"], json!([]), "{path}");
        }

        let feed = fetch(app, "/feed.json", &[]).await.json();
        let meetup = feed["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|item| item["title"] == "Map & pizza")
            .unwrap();
        assert_eq!(meetup["image"], image);
        assert!(
            meetup["summary"]
                .as_str()
                .unwrap()
                .contains("Café <Karte>, Bonn"),
            "{meetup}"
        );
        assert!(
            in_words(meetup["content_html"].as_str().unwrap()),
            "{meetup}"
        );
        let extension = &meetup["_newsfeed"];
        assert_eq!(extension["event_status"], "confirmed");
        assert_eq!(extension["attendance"], "in_person");
        assert_eq!(extension["recurrence"], Value::Null);
        assert_eq!(
            extension["next_occurrence"],
            json!(crate::feeds::support::rfc3339(starts))
        );
        assert!(extension["sequence"].as_i64().unwrap() >= 1);
        check_json_feed(&feed);
    }
);
