//! The editor's entry page says where a published entry shows: since when
//! and until when, its public page, the feeds and calendars, QGIS's answer.

use serde_json::json;

use crate::common::{TestApp, World};
use crate::web::support::Browser;

const EDITOR: &str = "editor@example.org";

db_test!(
    a_live_entry_links_where_it_appears,
    World::builder(),
    |app: TestApp| async move {
        let world = World::new(app).await;
        let id = world
            .publish(
                json!({"kind": "event", "title": "QGIS Day Bonn",
                       "starts_at": "2030-04-25T07:00:00Z", "ends_at": "2030-04-25T15:00:00+00:00",
                       "timezone": "Europe/Berlin", "location_name": "Bonn"}),
                json!({}),
            )
            .await;
        let api = world
            .app
            .get(&format!("/api/v1/entries/{id}"), Some(&world.editor))
            .await
            .json();
        assert_eq!(api["publication"], "live");
        assert_eq!(api["published_until"], "2030-04-25T15:00:00+00:00");
        let browser = Browser::signed_in(&world.app, EDITOR).await;
        let page = browser.get(&format!("/my/entries/{id}")).await;
        page.expect(200)
            .expect_text("Where it appears")
            .expect_text(" UTC until 2030-04-25 15:00 UTC.")
            .expect_text(&format!("<a href=\"/entries/{id}\">Public page</a>"))
            .expect_text("<a href=\"/?json=1\">")
            .expect_text("<a href=\"/groups/alpha/feed.rss\">")
            .expect_text(&format!("<a href=\"/entries/{id}.ics\">"))
            .expect_text("<a href=\"/groups/alpha/feed.ics\">")
            .expect_text("<a href=\"#preview-heading\">");
        // Published from its approval, a moment ago.
        let start = page.text.find("Live since ").expect("since when") + "Live since ".len();
        let since =
            chrono::NaiveDateTime::parse_from_str(&page.text[start..start + 16], "%Y-%m-%d %H:%M")
                .unwrap()
                .and_utc()
                .timestamp();
        assert!((crate::common::now() - since).abs() < 120, "{since}");
        // Each link answers.
        for path in [
            format!("/entries/{id}"),
            format!("/entries/{id}.ics"),
            "/groups/alpha/feed.ics".to_string(),
            "/?json=1".to_string(),
        ] {
            let answer = Browser::new(&world.app).get(&path).await;
            answer.expect(200);
            assert!(answer.has("QGIS Day Bonn"), "{path}");
        }
        // A draft appears nowhere yet.
        let draft = world.app.draft(&world.editor, "alpha", "Not yet").await["id"]
            .as_i64()
            .unwrap();
        let page = browser.get(&format!("/my/entries/{draft}")).await;
        page.expect(200);
        assert!(!page.has("Where it appears"));
    }
);
