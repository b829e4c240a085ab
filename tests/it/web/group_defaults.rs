//! Defaults that do not mislead (issue 24, item 2): a group writes in its
//! languages (its country's unless an admin sets them), new entries start in
//! the first one and campaigns in the country's currency, "every language"
//! is pointed out to moderators, and countries are named.

use newsfeed::domain::GroupRole;
use serde_json::json;

use crate::common::{TestApp, World};
use crate::web::support::Browser;

const EDITOR: &str = "editor@example.org";
const MODERATOR: &str = "mod@example.org";

/// A Swiss group with `alpha`'s editor in it.
async fn swiss_group(world: &World) {
    world
        .app
        .post(
            "/api/v1/groups",
            Some(&world.admin),
            json!({"slug": "qgis-ch", "name": "QGIS Switzerland", "country": "CH"}),
        )
        .await
        .expect(201);
    world
        .app
        .member(&world.admin, "qgis-ch", EDITOR, GroupRole::Editor)
        .await;
}

db_test!(
    a_group_speaks_its_countrys_languages_unless_told_otherwise,
    World::builder(),
    |app: TestApp| async move {
        let world = World::new(app).await;
        swiss_group(&world).await;
        let group = world
            .app
            .get("/api/v1/groups/qgis-ch", None)
            .await
            .expect(200)
            .json();
        assert_eq!(group["languages"], json!(["de", "fr", "it", "rm"]));
        assert_eq!(group["languages_set"], false);

        let set = world
            .app
            .patch(
                "/api/v1/groups/qgis-ch",
                Some(&world.admin),
                json!({"languages": ["FR", " de", "fr"]}),
            )
            .await
            .expect(200)
            .json();
        assert_eq!(set["languages"], json!(["fr", "de"]));
        assert_eq!(set["languages_set"], true);

        let refused = world
            .app
            .patch(
                "/api/v1/groups/qgis-ch",
                Some(&world.admin),
                json!({"languages": ["xx", "<b>"]}),
            )
            .await;
        refused.expect(422);
        let problem = refused.json();
        assert_eq!(problem["errors"][0]["field"], "languages", "{problem}");
        assert!(
            problem["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains("\"xx\" is not an ISO 639-1"),
            "{problem}"
        );
        // Editors do not change a group's languages.
        world
            .app
            .patch(
                "/api/v1/groups/qgis-ch",
                Some(&world.editor),
                json!({"languages": ["en"]}),
            )
            .await
            .expect(403);

        let reset = world
            .app
            .patch(
                "/api/v1/groups/qgis-ch",
                Some(&world.admin),
                json!({"languages": []}),
            )
            .await
            .expect(200)
            .json();
        assert_eq!(reset["languages"], json!(["de", "fr", "it", "rm"]));

        // The admin page sets them too, and says what empty means.
        let admin = Browser::signed_in(&world.app, "admin@example.org").await;
        let page = admin.get("/admin/groups/qgis-ch").await;
        page.expect(200)
            .expect_text("Empty: the country’s (Switzerland’s: de, fr, it, rm)")
            .expect_text("<option value=\"CH\" selected>Switzerland (CH)</option>");
        admin
            .post(
                "/admin/groups/qgis-ch",
                &[
                    ("name", "QGIS Switzerland"),
                    ("country", "CH"),
                    ("languages", "it, de"),
                    ("website", ""),
                    ("contact", ""),
                ],
            )
            .await
            .expect(303);
        let group = world.app.get("/api/v1/groups/qgis-ch", None).await.json();
        assert_eq!(group["languages"], json!(["it", "de"]));
    }
);

db_test!(
    new_entries_start_in_the_groups_language_and_currency,
    World::builder(),
    |app: TestApp| async move {
        let world = World::new(app).await;
        swiss_group(&world).await;
        let browser = Browser::signed_in(&world.app, EDITOR).await;
        let meetup = browser
            .get("/my/entries/new?kind=meetup&group=qgis-ch")
            .await;
        meetup
            .expect(200)
            .expect_text("<option value=\"de\" selected>German (de)</option>")
            .expect_text("<option value=\"Europe/Zurich\" selected>");
        assert!(!meetup.has("<option value=\"\" selected>Every language"));
        let campaign = browser
            .get("/my/entries/new?kind=crowdfunding&group=qgis-ch")
            .await;
        campaign
            .expect(200)
            .expect_text("<option value=\"CHF\" selected>CHF</option>");
        // An international group has no language of its own.
        world
            .app
            .post(
                "/api/v1/groups",
                Some(&world.admin),
                json!({"slug": "qgis-world", "name": "QGIS World", "country": ""}),
            )
            .await
            .expect(201);
        world
            .app
            .member(&world.admin, "qgis-world", EDITOR, GroupRole::Editor)
            .await;
        browser
            .get("/my/entries/new?kind=announcement&group=qgis-world")
            .await
            .expect(200)
            .expect_text("<option value=\"\" selected>Every language</option>");
    }
);

db_test!(
    moderators_see_when_an_entry_goes_to_everyone,
    World::builder(),
    |app: TestApp| async move {
        let world = World::new(app).await;
        let everyone = world
            .app
            .post(
                "/api/v1/entries",
                Some(&world.editor),
                json!({"group": "alpha", "kind": "announcement", "title": "For the world",
                       "content": "<p>Hi</p>"}),
            )
            .await
            .expect(201)
            .json()["id"]
            .as_i64()
            .unwrap();
        world
            .app
            .post(
                &format!("/api/v1/entries/{everyone}/submit"),
                Some(&world.editor),
                json!({}),
            )
            .await
            .expect(200);
        let german = world.pending_entry("Nur auf Englisch").await;
        let browser = Browser::signed_in(&world.app, MODERATOR).await;
        browser
            .get(&format!("/moderation/{everyone}"))
            .await
            .expect(200)
            .expect_text("Every language, no area:");
        let page = browser.get(&format!("/moderation/{german}")).await;
        page.expect(200);
        assert!(!page.has("Every language, no area:"));
    }
);

db_test!(
    countries_are_named,
    World::builder(),
    |app: TestApp| async move {
        let world = World::new(app).await;
        swiss_group(&world).await;
        let browser = Browser::new(&world.app);
        browser
            .get("/groups")
            .await
            .expect(200)
            .expect_text("Switzerland")
            .expect_text("Germany");
        browser
            .get("/groups/qgis-ch")
            .await
            .expect(200)
            .expect_text("Switzerland");
        browser
            .get("/request-access")
            .await
            .expect(200)
            .expect_text("<option value=\"CH\">Switzerland (CH)</option>");
    }
);
