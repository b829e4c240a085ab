//! Saved areas in the pages: moderators keep them, editors pick them.

use crate::common::{TestApp, World};
use crate::web::support::Browser;

const MODERATOR: &str = "mod@example.org";
const EDITOR: &str = "editor@example.org";
const SQUARE: &str = "[[0,0],[10,0],[10,10],[0,10]]";

db_test!(
    moderators_keep_areas_with_errors_next_to_fields,
    World::builder(),
    |app: TestApp| async move {
        let world = World::new(app).await;
        let editor = Browser::signed_in(&world.app, EDITOR).await;
        editor.get("/moderation/areas").await.expect(403);
        let browser = Browser::signed_in(&world.app, MODERATOR).await;
        browser
            .get("/moderation/areas")
            .await
            .expect(200)
            .expect_text("No saved area yet");
        let bad = browser
            .post(
                "/moderation/areas",
                &[("name", ""), ("description", ""), ("polygon", "not json")],
            )
            .await;
        bad.expect(422);
        assert!(bad.field_error("name").is_some() && bad.field_error("polygon").is_some());
        let out_of_range = browser
            .post(
                "/moderation/areas",
                &[
                    ("name", "Far"),
                    ("description", ""),
                    ("polygon", "[[0,0],[1,1],[500,0]]"),
                ],
            )
            .await;
        assert!(
            out_of_range
                .field_error("polygon")
                .unwrap()
                .contains("lon in -180..180")
        );
        // The text typed stays in the form.
        out_of_range.expect_text("value=\"Far\"");
        let saved = browser
            .post(
                "/moderation/areas",
                &[
                    ("name", "Square <one>"),
                    ("description", "Test"),
                    ("polygon", SQUARE),
                ],
            )
            .await;
        saved.expect(303);
        let list = browser.follow(&saved).await;
        list.expect(200).expect_text("Square &#60;one&#62;");
        let taken = browser
            .post(
                "/moderation/areas",
                &[
                    ("name", "Square <one>"),
                    ("description", ""),
                    ("polygon", SQUARE),
                ],
            )
            .await;
        assert!(
            taken
                .field_error("name")
                .unwrap()
                .contains("already exists")
        );
        let id = world
            .app
            .get("/api/v1/areas", Some(&world.editor))
            .await
            .json()["areas"][0]["id"]
            .as_i64()
            .unwrap();
        let page_path = format!("/moderation/areas/{id}");
        browser
            .get(&page_path)
            .await
            .expect(200)
            .expect_text("Delete area");
        browser.get("/moderation/areas/999999").await.expect(404);
        let renamed = browser
            .post(
                &page_path,
                &[
                    ("name", "Square"),
                    ("description", ""),
                    ("polygon", SQUARE),
                    ("version", "1"),
                ],
            )
            .await;
        renamed.expect(303);
        browser
            .follow(&renamed)
            .await
            .expect_text("Area Square saved");
        // A second save from the old page: someone else changed it first.
        let stale = browser
            .post(
                &page_path,
                &[
                    ("name", "Other"),
                    ("description", ""),
                    ("polygon", SQUARE),
                    ("version", "1"),
                ],
            )
            .await;
        stale
            .expect(409)
            .expect_text("Someone else changed this area");
        stale.expect_text("value=\"Other\"");
        // Deleting needs the box ticked.
        let delete_path = format!("{page_path}/delete");
        assert!(
            browser
                .post(&delete_path, &[])
                .await
                .field_error("confirm")
                .is_some()
        );
        let deleted = browser.post(&delete_path, &[("confirm", "on")]).await;
        deleted.expect(303);
        browser.follow(&deleted).await.expect_text("Area deleted");
    }
);

db_test!(
    editors_pick_a_saved_area_in_the_form,
    World::builder(),
    |app: TestApp| async move {
        let world = World::new(app).await;
        let form_path = "/my/entries/new?kind=announcement";
        let editor = Browser::signed_in(&world.app, EDITOR).await;
        // No saved area: no choice to make.
        assert!(!editor.get(form_path).await.has("target_area_id"));
        let area = world
            .app
            .post(
                "/api/v1/areas",
                Some(&world.moderator),
                serde_json::json!({"name": "Lake", "polygon": [[0, 0], [10, 0], [10, 10]]}),
            )
            .await
            .expect(201)
            .json();
        let id = area["id"].as_i64().unwrap().to_string();
        editor
            .get(form_path)
            .await
            .expect(200)
            .expect_text(&format!("<option value=\"{id}\">Lake</option>"));
        let fields = [
            ("group", "alpha"),
            ("title", "By the lake"),
            ("content", "Come along."),
            ("url", ""),
            ("language", ""),
            ("target_area", ""),
            ("publish_from", ""),
            ("publish_to", ""),
            ("intent", "save"),
        ];
        let mut bad = fields.to_vec();
        bad.push(("target_area_id", "lake"));
        let refused = editor.post(form_path, &bad).await;
        refused.expect(422);
        assert!(refused.field_error("target_area_id").is_some());
        let mut chosen = fields.to_vec();
        chosen.push(("target_area_id", &id));
        let saved = editor.post(form_path, &chosen).await;
        let entry_id = saved
            .expect(303)
            .location()
            .trim_start_matches("/my/entries/")
            .to_string();
        let stored = world
            .app
            .get(&format!("/api/v1/entries/{entry_id}"), Some(&world.editor))
            .await
            .json();
        assert_eq!(stored["target_area_id"], area["id"]);
        editor
            .get(&format!("/my/entries/{entry_id}/edit"))
            .await
            .expect(200)
            .expect_text(&format!("<option value=\"{id}\" selected>Lake</option>"));
    }
);
