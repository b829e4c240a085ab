//! The public pages: the start page from the snapshot, entry and group pages, the access form.

use serde_json::json;

use crate::common::{TestApp, World};
use crate::web::support::Browser;

db_test!(
    the_start_page_is_cached_and_cookie_free,
    World::builder(),
    |app: TestApp| async move {
        let world = World::new(app).await;
        let id = world.publish(json!({"title": "Hello <world>", "url": "https://qgis.org/", "call_to_action": "Join us"}), json!({})).await;
        let first = world.app.get("/", None).await;
        first.expect(200);
        assert!(
            first.text.contains("Hello &#60;world&#62;"),
            "{}",
            first.text
        );
        assert!(first.text.contains(&format!("href=\"/entries/{id}\"")));
        assert!(
            first
                .text
                .contains("rel=\"alternate\" type=\"application/rss+xml\"")
        );
        assert!(first.text.contains(">Join us</a>"));
        assert!(
            first.header("set-cookie").is_none(),
            "no session for the start page"
        );
        assert!(first.header("content-security-policy").is_some());
        let second = world.app.get("/", None).await;
        assert_eq!(first.header("etag"), second.header("etag"));
        // QGIS still gets its array from the same path.
        let qgis = world
            .app
            .call(poem::http::Method::GET, "/", None, None)
            .await;
        assert!(qgis.text.starts_with("<!doctype html>"));
        let json = world.app.get("/?json=1", None).await.json();
        assert_eq!(json[0]["pk"], id);
    }
);

db_test!(
    an_entry_page_exists_while_it_is_live,
    World::builder(),
    |app: TestApp| async move {
        let world = World::new(app).await;
        let id = world
        .publish(
            json!({"kind": "meetup", "title": "Treffen", "starts_at": "2031-03-04T17:00:00Z", "ends_at": "2031-03-04T20:00:00Z",
                   "timezone": "Europe/Berlin", "location_name": "Bonn", "latitude": 50.73, "longitude": 7.1}),
            json!({}),
        )
        .await;
        let browser = Browser::new(&world.app);
        let page = browser.get(&format!("/entries/{id}")).await;
        page.expect(200)
            .expect_text("Tue 4 March 2031, 18:00–21:00 CET")
            .expect_text("https://www.openstreetmap.org/?mlat=50.73&#38;mlon=7.1")
            .expect_text("/groups/alpha/feed.ics");
        let draft = world.app.draft(&world.editor, "alpha", "Not yet").await["id"]
            .as_i64()
            .unwrap();
        browser.get(&format!("/entries/{draft}")).await.expect(404);
        browser.get("/entries/nonsense").await.expect(404);
        world
            .app
            .post(
                &format!("/api/v1/moderation/entries/{id}/unpublish"),
                Some(&world.moderator),
                json!({"comment": "gone"}),
            )
            .await
            .expect(200);
        browser.get(&format!("/entries/{id}")).await.expect(404);
    }
);

db_test!(
    the_directory_and_a_groups_page_link_its_feeds,
    World::builder(),
    |app: TestApp| async move {
        let world = World::new(app).await;
        world
            .publish(json!({"title": "Alpha news"}), json!({}))
            .await;
        let browser = Browser::new(&world.app);
        browser
            .get("/groups")
            .await
            .expect(200)
            .expect_text("href=\"/groups/alpha\"")
            .expect_text("href=\"/groups/beta\"");
        let page = browser.get("/groups/alpha").await;
        page.expect(200).expect_text("Alpha news");
        for format in ["rss", "atom", "json", "ics"] {
            page.expect_text(&format!("href=\"/groups/alpha/feed.{format}\""));
        }
        page.expect_text("<link rel=\"alternate\" type=\"application/atom+xml\"");
        browser
            .get("/groups/beta")
            .await
            .expect(200)
            .expect_text("Nothing from this group");
        browser.get("/groups/nope").await.expect(404);
        // The group's feed is still the API's, under the same prefix.
        world
            .app
            .get("/groups/alpha/feed.rss", None)
            .await
            .expect(200);
    }
);

db_test!(
    a_group_asks_for_access,
    TestApp::builder().with_admin(),
    |app: TestApp| async move {
        let browser = Browser::new(&app);
        let bad = browser
            .submit(
                "/request-access",
                "/request-access",
                &[
                    ("group_name", ""),
                    ("contact_email", "nope"),
                    ("country", "DE"),
                ],
            )
            .await;
        bad.expect(422);
        assert!(
            bad.field_error("group_name").is_some() && bad.field_error("contact_email").is_some()
        );
        browser
            .post(
                "/request-access",
                &[
                    ("group_name", "QGIS Brasil"),
                    ("contact_email", "ana@example.org"),
                    ("country", "BR"),
                    ("message", "Olá"),
                ],
            )
            .await
            .expect(200)
            .expect_text("your request for <strong>QGIS Brasil</strong>");
        let requests = app
            .get("/api/v1/access-requests", Some(app.token("admin")))
            .await
            .json();
        assert_eq!(requests[0]["slug"], "qgis-brasil");
        browser
            .post_raw(
                "/request-access",
                &[
                    ("group_name", "No token"),
                    ("contact_email", "a@example.org"),
                ],
            )
            .await
            .expect(403);
    }
);

db_test!(
    the_start_page_shows_an_approval_at_once,
    World::builder(),
    |app: TestApp| async move {
        let world = World::new(app).await;
        let before = world.app.get("/", None).await;
        assert_eq!(before.header("cache-control"), Some("public, max-age=0"));
        world
            .publish(json!({"title": "Fresh news"}), json!({}))
            .await;
        let after = world.app.get("/", None).await;
        assert!(after.text.contains("Fresh news"));
        assert_ne!(before.header("etag"), after.header("etag"));
    }
);

db_test!(
    pages_carry_the_sites_name,
    World::builder().config(|c| c.site_name = Some("QGIS <News>".into())),
    |app: TestApp| async move {
        let world = World::new(app).await;
        world
            .app
            .published(&world.editor, &world.moderator, "alpha", "Hello")
            .await;
        let browser = Browser::new(&world.app).with_header("accept", "text/html");
        for path in ["/", "/groups", "/no/such/page"] {
            let page = browser.get(path).await;
            page.expect_text(" · QGIS &#60;News&#62;</title>")
                .expect_text("class=\"brand\" href=\"/\">QGIS &#60;News&#62;</a>");
        }
        Browser::signed_in(&world.app, "editor@example.org")
            .await
            .get("/my/entries")
            .await
            .expect(200)
            .expect_text("<title>My entries · QGIS &#60;News&#62;</title>");
    }
);
