//! Search (`q`) on the public lists, the moderation queue and the admin
//! lists, through the databases' full-text indexes: what matches, who
//! sees what, pages that keep the query, and queries meant to break it.

use serde_json::{Value, json};

use crate::common::{TestApp, World};
use crate::web::support::{Browser, Page};

/// A future meetup (2 hours) in group `group`.
fn meetup(title: &str, group: &str, place: &str) -> Value {
    let starts = chrono::Utc::now() + chrono::Duration::days(20);
    let ends = starts + chrono::Duration::hours(2);
    json!({"group": group, "kind": "meetup", "title": title,
           "content": "<p>Maps and beer</p>", "location_name": place,
           "starts_at": starts.to_rfc3339(), "ends_at": ends.to_rfc3339(),
           "timezone": "Europe/Amsterdam"})
}

/// A group `zeeland` named "Zeeland Mappers" whose editor is alpha's.
async fn zeeland(world: &World) {
    world
        .app
        .post(
            "/api/v1/groups",
            Some(&world.admin),
            json!({"slug": "zeeland", "name": "Zeeland Mappers", "country": "NL"}),
        )
        .await
        .expect(201);
    world
        .app
        .post(
            "/api/v1/groups/zeeland/members",
            Some(&world.admin),
            json!({"email": "editor@example.org", "role": "editor"}),
        )
        .await
        .expect(201);
}

/// The ids of the entries `/api/v1/entries?q=` lists for `token`.
async fn api_ids(app: &TestApp, token: &str, q: &str) -> Vec<i64> {
    let reply = app
        .get(&format!("/api/v1/entries?q={q}"), Some(token))
        .await;
    reply.expect(200);
    reply.json()["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|item| item["id"].as_i64().expect("id"))
        .collect()
}

db_test!(
    public_lists_find_title_text_group_and_venue,
    World::builder(),
    |app: TestApp| async move {
        let world = World::new(app).await;
        zeeland(&world).await;
        let workshop = world
            .publish(
                json!({"title": "Orthophoto workshop",
                       "content": "<p>Learn <strong>georeferencing</strong></p><p>today</p>"}),
                json!({}),
            )
            .await;
        let meetup = world
            .publish(
                meetup("Monthly meetup", "zeeland", "Café Vlissingen"),
                json!({}),
            )
            .await;
        let pending = world.pending_entry("Orthophoto secrets").await;
        let draft = world
            .app
            .draft(&world.editor, "alpha", "Orthophoto draft")
            .await["id"]
            .as_i64()
            .unwrap();
        let browser = Browser::new(&world.app);
        let found = browser.get("/?q=Orthophoto").await;
        found
            .expect(200)
            .expect_text(&format!("href=\"/entries/{workshop}\""))
            .expect_text("1 result for “Orthophoto”.")
            .expect_text("value=\"Orthophoto\"");
        assert!(!found.has("Orthophoto secrets") && !found.has("Orthophoto draft"));
        // The text (without markup, the last word a prefix), the group's name, the venue.
        for (q, id) in [
            ("georef", workshop),
            ("learn%20georeferencing%20today", workshop),
            ("zeeland", meetup),
            ("mappers%20monthly", meetup),
            ("vlissingen", meetup),
        ] {
            let page = browser.get(&format!("/?q={q}")).await;
            page.expect(200)
                .expect_text(&format!("href=\"/entries/{id}\""));
            assert_eq!(page.text.matches("href=\"/entries/").count(), 1, "{q}");
            browser.get(&format!("/events?q={q}")).await.expect(200);
        }
        let events = browser.get("/events?q=vlissingen").await;
        events
            .expect_text(&format!("href=\"/entries/{meetup}\""))
            .expect_text("1 result for “vlissingen”.");
        assert!(!browser.get("/events?q=orthophoto").await.has("/entries/"));
        browser
            .get("/?q=secrets")
            .await
            .expect(200)
            .expect_text("Nothing matches “secrets”.");
        // Without q the start page is what it was: everything live.
        let home = browser.get("/").await;
        assert!(home.has("Orthophoto workshop") && home.has("Monthly meetup"));
        // QGIS gets its array whatever q says.
        let qgis = world.app.get("/?json=1&q=secrets", None).await;
        assert_eq!(qgis.json().as_array().map(Vec::len), Some(2));

        // The moderation queue searches what waits, for moderators.
        let moderator = Browser::signed_in(&world.app, "mod@example.org").await;
        let queue = moderator.get("/moderation?q=orthophoto").await;
        queue
            .expect(200)
            .expect_text(&format!("href=\"/moderation/{pending}\""))
            .expect_text("1 result for “orthophoto”.");
        assert!(!queue.has(&format!("/moderation/{workshop}\"")));
        moderator
            .get("/moderation?q=workshop")
            .await
            .expect(200)
            .expect_text("No pending entry matches.");
        let anonymous = Browser::new(&world.app)
            .get("/moderation?q=orthophoto")
            .await;
        assert_ne!(anonymous.status.as_u16(), 200);

        // The API's list searches the working revision of what one may see.
        let mut seen = api_ids(&world.app, &world.moderator, "orthophoto").await;
        seen.sort_unstable();
        assert_eq!(seen, [workshop, pending]);
        let mut mine = api_ids(&world.app, &world.editor, "ORTHO").await;
        mine.sort_unstable();
        assert_eq!(mine, [workshop, pending, draft]);
        assert!(
            api_ids(&world.app, &world.other_editor, "orthophoto")
                .await
                .is_empty()
        );
    }
);

db_test!(
    admins_search_people_and_groups,
    World::builder(),
    |app: TestApp| async move {
        let world = World::new(app).await;
        zeeland(&world).await;
        let admin = Browser::signed_in(&world.app, "admin@example.org").await;
        let rows = |page: &Page| page.text.matches("<td data-label=\"Email\">").count();
        let people = admin.get("/admin/users?q=outsider").await;
        people
            .expect(200)
            .expect_text("outsider@example.org")
            .expect_text("1 result for “outsider”.");
        assert_eq!(rows(&people), 1);
        // By the whole address, by its start, by name.
        for q in ["other%40example.org", "other%40exa", "Other"] {
            let page = admin.get(&format!("/admin/users?q={q}")).await;
            page.expect(200).expect_text("other@example.org");
            assert_eq!(rows(&page), 1, "{q}");
        }
        assert_eq!(
            rows(&admin.get("/admin/users?q=example.org").await),
            rows(&admin.get("/admin/users").await)
        );
        admin
            .get("/admin/users?q=nobody")
            .await
            .expect(200)
            .expect_text("Nothing matches “nobody”.");
        let groups = admin.get("/admin/groups?q=mappers").await;
        groups
            .expect(200)
            .expect_text("Zeeland Mappers")
            .expect_text("1 result for “mappers”.");
        assert!(!groups.has("Group alpha"));
        // By slug and country.
        assert!(admin.get("/admin/groups?q=beta").await.has("Group beta"));
        let dutch = admin.get("/admin/groups?q=nl").await;
        assert!(dutch.has("Zeeland Mappers") && !dutch.has("Group beta"));
        // Others are refused, as without a search.
        let moderator = Browser::signed_in(&world.app, "mod@example.org").await;
        moderator.get("/admin/users?q=editor").await.expect(403);
        moderator.get("/admin/groups?q=alpha").await.expect(403);
    }
);

db_test!(
    hostile_queries_answer_without_failing,
    World::builder(),
    |app: TestApp| async move {
        let world = World::new(app).await;
        world
            .publish(json!({"title": "Plain news"}), json!({}))
            .await;
        let admin = Browser::signed_in(&world.app, "admin@example.org").await;
        let long = "a".repeat(201);
        let hostile = [
            "%22",
            "%22%22",
            "*",
            "NEAR(a%20b)",
            "a:b",
            "-a",
            "(a",
            "a%20OR%20b",
            "AND",
            "'",
            "%5C",
            "%25",
            "_",
            ":*",
            "!a%20%26%20b%20%7C%20c%20%3C-%3E%20d",
            "%7Blive_search%7D%20:%20x",
            "%C3%A9t%C3%A9",
            "%E6%9D%B1%E4%BA%AC",
            "%F0%9F%99%82",
            "plain%22%20OR%20%22x",
            "%2A%2A%2A",
            "%FF",
            long.as_str(),
            "a%00b",
            "a%0Ab",
            "a%20b%20c%20d%20e%20f%20g%20h%20i%20j%20k",
        ];
        for path in [
            "/",
            "/events",
            "/archive",
            "/moderation",
            "/admin/users",
            "/admin/groups",
        ] {
            for q in hostile {
                let page = admin.get(&format!("{path}?q={q}")).await;
                let status = page.status.as_u16();
                assert!(
                    status == 200 || (status == 400 && page.has("search")),
                    "{path}?q={q}: {status} {}",
                    page.text
                );
            }
            let refused = admin.get(&format!("{path}?q={long}")).await;
            refused.expect(400).expect_text("at most 200 characters");
            admin
                .get(&format!("{path}?q=a%0Ab"))
                .await
                .expect(400)
                .expect_text("control characters");
        }
        for q in hostile {
            let reply = world
                .app
                .get(&format!("/api/v1/entries?q={q}"), Some(&world.editor))
                .await;
            let status = reply.status.as_u16();
            assert!(
                status == 200 || status == 400,
                "api q={q}: {status} {}",
                reply.text
            );
        }
        // Punctuation alone matches nothing; the title still matches.
        assert!(admin.get("/?q=%22*%22").await.has("Nothing matches"));
        assert!(admin.get("/?q=%22plain%22").await.has("Plain news"));
    }
);

db_test!(
    pages_of_results_keep_the_search,
    World::builder(),
    |app: TestApp| async move {
        let world = World::new(app).await;
        for index in 0..31 {
            world
                .publish(json!({"title": format!("Release note {index}")}), json!({}))
                .await;
        }
        world
            .publish(meetup("Release party", "alpha", "Berlin"), json!({}))
            .await;
        world
            .publish(meetup("Another party", "alpha", "Berlin"), json!({}))
            .await;
        let browser = Browser::new(&world.app);
        let first = browser.get("/?q=release").await;
        first
            .expect(200)
            .expect_text("1–30 of 32")
            .expect_text("href=\"?q=release&#38;offset=30\" rel=\"next\"");
        let second = browser.get("/?q=release&offset=30").await;
        second
            .expect(200)
            .expect_text("31–32 of 32")
            .expect_text("href=\"?q=release&#38;offset=0\" rel=\"prev\"");
        assert_eq!(second.text.matches("href=\"/entries/").count(), 2);
        let events = browser.get("/events?q=party&limit=1").await;
        events
            .expect(200)
            .expect_text("1–1 of 2")
            .expect_text("href=\"?q=party&#38;limit=1&#38;offset=1\" rel=\"next\"");
        let moderator = Browser::signed_in(&world.app, "mod@example.org").await;
        for index in 0..26 {
            world.pending_entry(&format!("Waiting {index}")).await;
        }
        moderator
            .get("/moderation?q=waiting")
            .await
            .expect(200)
            .expect_text("href=\"?q=waiting&#38;offset=25\" rel=\"next\"");
    }
);
