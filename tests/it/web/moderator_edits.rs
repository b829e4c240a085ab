//! Moderators fix a typo themselves (issue 24, item 3): the edit is theirs
//! in the history, the author is told, and the decision page shows every
//! field the entry will publish with a map of its venue and area.

use serde_json::{Value, json};

use crate::common::{TestApp, World};
use crate::web::support::Browser;

const MODERATOR: &str = "mod@example.org";

/// A meetup with a link, a venue and a target area, submitted by `alpha`'s
/// editor; returns its id.
async fn pending_meetup(world: &World) -> i64 {
    let created = world
        .app
        .post(
            "/api/v1/entries",
            Some(&world.editor),
            json!({"group": "alpha", "kind": "meetup", "title": "Meetup in Bonn, with a tpyo",
                   "content": "<p>Everyone welcome.</p>", "url": "https://example.org/meet?room=1",
                   "timezone": "Europe/Berlin", "starts_at": "2030-03-04T17:00:00Z",
                   "location_name": "Bonn", "latitude": 50.73, "longitude": 7.1,
                   "language": "de",
                   "target_area": [[6.0, 50.0], [8.0, 50.0], [8.0, 51.5], [6.0, 51.5]]}),
        )
        .await
        .expect(201)
        .json();
    let id = created["id"].as_i64().unwrap();
    world
        .app
        .post(
            &format!("/api/v1/entries/{id}/submit"),
            Some(&world.editor),
            json!({}),
        )
        .await
        .expect(200);
    id
}

async fn outbox(app: &TestApp, admin: &str) -> Vec<Value> {
    app.get("/api/v1/outbox", Some(admin))
        .await
        .expect(200)
        .json()["items"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

db_test!(
    the_decision_page_shows_every_field_and_a_map,
    World::builder(),
    |app: TestApp| async move {
        let world = World::new(app).await;
        let id = pending_meetup(&world).await;
        let browser = Browser::signed_in(&world.app, MODERATOR).await;
        let page = browser.get(&format!("/moderation/{id}")).await;
        page.expect(200)
            .expect_text("Everything it will publish")
            // Links and coordinates as text, not only behind a link.
            .expect_text("https://example.org/meet?room=1")
            .expect_text("<dt>Latitude</dt><dd>50.73</dd>")
            .expect_text("<dt>Longitude</dt><dd>7.1</dd>")
            .expect_text("4 corners: lat 50.0, lon 6.0; lat 50.0, lon 8.0")
            .expect_text("<dt>Venue</dt><dd>Bonn</dd>")
            // The map: the area and the venue drawn, tiles for the script.
            .expect_text("<svg viewBox=\"0 0 384 256\"")
            .expect_text("<polygon class=\"area\" points=\"")
            .expect_text("<circle class=\"venue\"")
            .expect_text("https://tile.openstreetmap.org/")
            .expect_text("Open in OpenStreetMap")
            .expect_text(&format!("href=\"/my/entries/{id}/edit\">Fix it yourself"));

        // Without a place there is no map.
        let plain = world.pending_entry("Only news").await;
        let page = browser.get(&format!("/moderation/{plain}")).await;
        page.expect(200).expect_text("Everything it will publish");
        assert!(!page.has("<svg viewBox"), "no map without a place");
    }
);

db_test!(
    a_moderator_fixes_a_typo_and_the_author_is_told,
    World::builder(),
    |app: TestApp| async move {
        let world = World::new(app).await;
        let id = pending_meetup(&world).await;
        let browser = Browser::signed_in(&world.app, MODERATOR).await;
        let form = browser.get(&format!("/my/entries/{id}/edit")).await;
        form.expect(200)
            .expect_text("as a moderator")
            .expect_text(&format!("href=\"/moderation/{id}\">Cancel"));
        // Submitting is the group's: a moderator only saves.
        assert!(!form.has("value=\"submit\""));
        let version = form.input_value("version").unwrap();
        let saved = browser
            .post(
                &format!("/my/entries/{id}/edit"),
                &[
                    ("kind", "meetup"),
                    ("title", "Meetup in Bonn, with a typo fixed"),
                    ("content", "<p>Everyone welcome.</p>"),
                    ("url", "https://example.org/meet?room=1"),
                    ("timezone", "Europe/Berlin"),
                    ("starts_at", "2030-03-04T18:00"),
                    ("location_name", "Bonn"),
                    ("latitude", "50.73"),
                    ("longitude", "7.1"),
                    ("language", "de"),
                    ("target_area", "[[6,50],[8,50],[8,51.5],[6,51.5]]"),
                    ("version", &version),
                    ("intent", "save"),
                ],
            )
            .await;
        saved.expect(303);
        assert_eq!(saved.location(), format!("/moderation/{id}"));
        let page = browser.follow(&saved).await;
        page.expect(200)
            .expect_text("recorded as yours")
            .expect_text("Meetup in Bonn, with a typo fixed");

        let entry = world
            .app
            .get(&format!("/api/v1/entries/{id}"), Some(&world.editor))
            .await
            .expect(200)
            .json();
        assert_eq!(entry["title"], "Meetup in Bonn, with a typo fixed");
        assert_eq!(entry["status"], "pending", "still waits for a decision");
        let history = world
            .app
            .get(
                &format!("/api/v1/entries/{id}/history"),
                Some(&world.editor),
            )
            .await
            .expect(200)
            .json();
        let edit = history
            .as_array()
            .unwrap()
            .iter()
            .rev()
            .find(|line| line["action"] == "edit")
            .unwrap_or_else(|| panic!("an edit in {history}"));
        assert_eq!(edit["actor"], "mod", "{edit}");
        assert_eq!(
            edit["changes"]["title"],
            json!([
                "Meetup in Bonn, with a tpyo",
                "Meetup in Bonn, with a typo fixed"
            ]),
            "{edit}"
        );

        let mails = outbox(&world.app, &world.admin).await;
        let told = mails.iter().find(|mail| {
            mail["recipient"] == "editor@example.org"
                && mail["subject"]
                    .as_str()
                    .is_some_and(|subject| subject.contains("] Edited: Meetup in Bonn"))
        });
        assert!(told.is_some(), "the author is told: {mails:?}");
    }
);

db_test!(
    moderators_edit_only_what_is_in_review_or_live,
    World::builder(),
    |app: TestApp| async move {
        let world = World::new(app).await;
        let draft = world.app.draft(&world.editor, "alpha", "A draft").await;
        let id = draft["id"].as_i64().unwrap();
        let browser = Browser::signed_in(&world.app, MODERATOR).await;
        // A group's draft is its own: not even visible to moderators.
        browser
            .get(&format!("/my/entries/{id}/edit"))
            .await
            .expect(404);
        world
            .app
            .patch(
                &format!("/api/v1/entries/{id}"),
                Some(&world.moderator),
                json!({"version": 1, "title": "Mine now"}),
            )
            .await
            .expect(404);
        // Once published, a moderator's edit goes to review like any other.
        let live = world
            .app
            .published(&world.editor, &world.moderator, "alpha", "Live news")
            .await;
        let current = world
            .app
            .get(&format!("/api/v1/entries/{live}"), Some(&world.moderator))
            .await
            .json();
        let edited = world
            .app
            .patch(
                &format!("/api/v1/entries/{live}"),
                Some(&world.moderator),
                json!({"version": current["version"], "title": "Live news, fixed"}),
            )
            .await
            .expect(200)
            .json();
        assert_eq!(edited["status"], "pending", "{edited}");
        // Other groups' editors still cannot.
        world
            .app
            .patch(
                &format!("/api/v1/entries/{live}"),
                Some(&world.other_editor),
                json!({"version": edited["version"], "title": "Hijacked"}),
            )
            .await
            .expect(404);
    }
);
