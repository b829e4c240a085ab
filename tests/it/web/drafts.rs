//! Never lose a draft (issue 24, item 9): the page's script posts the form
//! to `/my/drafts` while someone types; the form brings it back until it is
//! saved or discarded. A kept draft is not an edit: the entry and its
//! history stay as they were.

use crate::common::{TestApp, World};
use crate::web::support::Browser;

const EDITOR: &str = "editor@example.org";

async fn history_len(world: &World, id: i64) -> usize {
    world
        .app
        .get(
            &format!("/api/v1/entries/{id}/history"),
            Some(&world.editor),
        )
        .await
        .expect(200)
        .json()
        .as_array()
        .map_or(0, Vec::len)
}

db_test!(
    a_new_entry_typed_halfway_comes_back_until_it_is_saved,
    World::builder(),
    |app: TestApp| async move {
        let world = World::new(app).await;
        let browser = Browser::signed_in(&world.app, EDITOR).await;
        browser
            .get("/my/entries/new?kind=announcement")
            .await
            .expect(200)
            .expect_text("data-autosave=\"/my/drafts\"")
            .expect_text("name=\"draft_key\" value=\"new:announcement\"");
        let kept = browser
            .post(
                "/my/drafts",
                &[
                    ("draft_key", "new:announcement"),
                    ("group", "alpha"),
                    ("title", "Half <typed>"),
                    ("content", "Some words"),
                    ("status", "approved"),
                ],
            )
            .await;
        kept.expect(200).expect_text("Draft kept at");
        // Nothing was created.
        let mine = world
            .app
            .get("/api/v1/entries", Some(&world.editor))
            .await
            .expect(200)
            .json();
        assert_eq!(mine["items"].as_array().map(Vec::len), Some(0), "{mine}");

        let again = browser.get("/my/entries/new?kind=announcement").await;
        again
            .expect(200)
            .expect_text("Your unsaved changes are back")
            .expect_text("value=\"Half &#60;typed&#62;\"")
            .expect_text("Discard the unsaved changes");
        // Saving the form forgets the draft.
        let created = browser
            .post(
                "/my/entries/new?kind=announcement",
                &[
                    ("kind", "announcement"),
                    ("group", "alpha"),
                    ("title", "Whole title"),
                    ("content", "Some words"),
                    ("language", "en"),
                    ("draft_key", "new:announcement"),
                    ("intent", "save"),
                ],
            )
            .await;
        created.expect(303);
        let fresh = browser.get("/my/entries/new?kind=announcement").await;
        fresh.expect(200);
        assert!(
            !fresh.has("Half &#60;typed"),
            "the draft is gone once saved"
        );
        assert!(!fresh.has("Your unsaved changes are back"));
    }
);

db_test!(
    an_edit_kept_as_a_draft_leaves_the_entry_and_its_history_alone,
    World::builder(),
    |app: TestApp| async move {
        let world = World::new(app).await;
        let id = world.app.draft(&world.editor, "alpha", "Original").await["id"]
            .as_i64()
            .unwrap();
        let before = history_len(&world, id).await;
        let browser = Browser::signed_in(&world.app, EDITOR).await;
        browser
            .get(&format!("/my/entries/{id}/edit"))
            .await
            .expect(200);
        let key = format!("entry:{id}");
        for title in ["Chang", "Changed title"] {
            browser
                .post(
                    "/my/drafts",
                    &[("draft_key", &key), ("title", title), ("version", "99")],
                )
                .await
                .expect(200);
        }
        let entry = world
            .app
            .get(&format!("/api/v1/entries/{id}"), Some(&world.editor))
            .await
            .json();
        assert_eq!(entry["title"], "Original");
        assert_eq!(history_len(&world, id).await, before, "no history line");

        let edit = browser.get(&format!("/my/entries/{id}/edit")).await;
        edit.expect(200)
            .expect_text("Your unsaved changes are back")
            .expect_text("value=\"Changed title\"");
        // The version is the entry's, not the draft's.
        assert_eq!(
            edit.input_value("version").as_deref(),
            Some(entry["version"].to_string().as_str())
        );
        browser
            .post("/my/drafts/discard", &[("draft_key", &key)])
            .await
            .expect(303);
        let edit = browser.get(&format!("/my/entries/{id}/edit")).await;
        edit.expect(200).expect_text("value=\"Original\"");
        assert!(!edit.has("Your unsaved changes are back"));
    }
);

db_test!(
    drafts_are_kept_only_for_forms_one_may_fill,
    World::builder(),
    |app: TestApp| async move {
        let world = World::new(app).await;
        let theirs = world.app.draft(&world.other_editor, "beta", "Beta's").await["id"]
            .as_i64()
            .unwrap();
        let browser = Browser::signed_in(&world.app, EDITOR).await;
        browser.get("/my/entries").await.expect(200);
        let theirs_key = format!("entry:{theirs}");
        for (key, status) in [
            (theirs_key.as_str(), 404),
            ("entry:2147483647", 404),
            ("entry:99999999999", 422),
            ("new:party", 422),
            ("../etc", 422),
            ("", 422),
        ] {
            let page = browser
                .post("/my/drafts", &[("draft_key", key), ("title", "x")])
                .await;
            assert_eq!(page.status.as_u16(), status, "{key}: {}", page.text);
        }
        // Without the CSRF token, or signed out: refused.
        browser
            .post_raw("/my/drafts", &[("draft_key", "new:event"), ("title", "x")])
            .await
            .expect(403);
        let stranger = Browser::new(&world.app);
        stranger.get("/login").await.expect(200);
        let anonymous = stranger
            .post("/my/drafts", &[("draft_key", "new:event"), ("title", "x")])
            .await;
        assert!(
            [303, 401, 403].contains(&anonymous.status.as_u16()),
            "{}",
            anonymous.status
        );
        // A moderator cannot keep a draft of a group's draft entry.
        let own = world.app.draft(&world.editor, "alpha", "Ours").await["id"]
            .as_i64()
            .unwrap();
        let moderator = Browser::signed_in(&world.app, "mod@example.org").await;
        moderator.get("/moderation").await.expect(200);
        moderator
            .post(
                "/my/drafts",
                &[("draft_key", &format!("entry:{own}")), ("title", "x")],
            )
            .await
            .expect(404);
    }
);
