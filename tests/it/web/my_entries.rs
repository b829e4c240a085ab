//! "My entries": list, forms per kind, preview, actions, the role matrix.

use serde_json::json;

use crate::common::{TestApp, World};
use crate::web::support::Browser;

const EDITOR: &str = "editor@example.org";
const OTHER: &str = "other@example.org";

fn meetup_fields(title: &str) -> Vec<(&str, &str)> {
    vec![
        ("kind", "meetup"),
        ("group", "alpha"),
        ("title", title),
        ("content", "Everyone welcome.\n\nBring a laptop."),
        ("timezone", "Europe/Berlin"),
        ("starts_at", "2030-03-04T18:00"),
        ("ends_at", "2030-03-04T21:00"),
        ("location_name", "Bonn"),
        ("latitude", "50.73"),
        ("longitude", "7.1"),
        ("language", "de"),
        ("publish_from", ""),
        ("publish_to", ""),
    ]
}

/// Creates a meetup through the form; returns its id.
async fn create_meetup(browser: &Browser<'_>, title: &str, intent: &str) -> i64 {
    let mut fields = meetup_fields(title);
    fields.push(("intent", intent));
    let page = browser
        .submit(
            "/my/entries/new?kind=meetup",
            "/my/entries/new?kind=meetup",
            &fields,
        )
        .await;
    let location = page.expect(303).location().to_string();
    location.trim_start_matches("/my/entries/").parse().unwrap()
}

db_test!(
    an_editor_creates_a_meetup_in_the_venues_time,
    World::builder(),
    |app: TestApp| async move {
        let world = World::new(app).await;
        let browser = Browser::signed_in(&world.app, EDITOR).await;
        let chooser = browser.get("/my/entries/new").await;
        chooser
            .expect(200)
            .expect_text("/my/entries/new?kind=meetup");
        let form = browser.get("/my/entries/new?kind=meetup").await;
        form.expect(200);
        for field in [
            "title",
            "content",
            "starts_at",
            "ends_at",
            "timezone",
            "location_name",
            "latitude",
            "longitude",
            "online_url",
            "language",
            "publish_from",
            "publish_to",
        ] {
            assert!(
                form.has(&format!("<label for=\"{field}\"")),
                "label for {field}"
            );
            assert!(form.has(&format!("name=\"{field}\"")), "field {field}");
        }
        assert!(
            !form.has("name=\"goal_amount\""),
            "no crowdfunding fields on a meetup"
        );
        // The group's country (DE) decides the first time zone.
        assert!(
            form.has("<option value=\"Europe/Berlin\" selected>"),
            "Berlin first and chosen"
        );
        let id = create_meetup(&browser, "QGIS-Treffen Bonn", "save").await;
        let page = browser.get(&format!("/my/entries/{id}")).await;
        page.expect(200)
            .expect_text("Draft saved")
            .expect_text("Draft")
            .expect_text("Mon 4 March 2030, 18:00–21:00 CET");
        let entry = world
            .app
            .get(&format!("/api/v1/entries/{id}"), Some(&world.editor))
            .await
            .json();
        assert_eq!(entry["starts_at"], "2030-03-04T17:00:00+00:00");
        assert_eq!(
            entry["content"],
            "<p>Everyone welcome.</p><p>Bring a laptop.</p>"
        );
        assert_eq!(entry["language"], "de");
        // The list shows it with its status.
        browser
            .get("/my/entries")
            .await
            .expect(200)
            .expect_text("QGIS-Treffen Bonn")
            .expect_text("badge draft");
    }
);

db_test!(
    errors_are_shown_next_to_their_fields,
    World::builder(),
    |app: TestApp| async move {
        let world = World::new(app).await;
        let browser = Browser::signed_in(&world.app, EDITOR).await;
        let mut fields = meetup_fields("");
        fields.retain(|(name, _)| *name != "latitude");
        fields.push(("latitude", "north"));
        fields.push(("intent", "save"));
        let page = browser
            .submit(
                "/my/entries/new?kind=meetup",
                "/my/entries/new?kind=meetup",
                &fields,
            )
            .await;
        page.expect(422);
        assert_eq!(
            page.field_error("title").as_deref(),
            Some("must not be empty")
        );
        assert_eq!(
            page.field_error("latitude").as_deref(),
            Some("must be a number such as 50.7339")
        );
        assert!(
            page.has("aria-describedby=\"title-error"),
            "tied to the field"
        );
        assert!(page.has("id=\"error-summary\""), "summarised at the top");
        assert!(page.has("value=\"north\""), "what was typed stays");
        let too_long = "x".repeat(501);
        let mut fields = meetup_fields("Fine");
        fields.retain(|(name, _)| *name != "content");
        fields.push(("content", &too_long));
        fields.push(("intent", "save"));
        let page = browser.post("/my/entries/new?kind=meetup", &fields).await;
        page.expect(422);
        assert!(
            page.field_error("content")
                .unwrap()
                .contains("at most 500 characters")
        );
        let none = world
            .app
            .get("/api/v1/entries", Some(&world.editor))
            .await
            .json();
        assert_eq!(none["total"], 0);
    }
);

db_test!(
    the_preview_shows_what_qgis_will_show,
    World::builder(),
    |app: TestApp| async move {
        let world = World::new(app).await;
        let browser = Browser::signed_in(&world.app, EDITOR).await;
        let mut fields = meetup_fields("<script>alert(1)</script> Treffen");
        fields.retain(|(name, _)| *name != "content");
        fields.push((
            "content",
            "<p onclick=\"x()\">Hello <b>all</b></p><script>alert(2)</script>",
        ));
        fields.push(("call_to_action", "Register now"));
        fields.push(("url", "https://qgis.de/treffen"));
        // Pictures in the preview: tests/it/web/pictures.rs (editors upload them).
        fields.push(("intent", "preview"));
        let page = browser
            .submit(
                "/my/entries/new?kind=meetup",
                "/my/entries/new?kind=meetup",
                &fields,
            )
            .await;
        page.expect(200)
            .expect_text("QGIS 3 welcome page")
            .expect_text("QGIS 4 start page")
            .expect_text("<p><strong data-live=\"call_to_action\">Register now</strong></p>")
            .expect_text("<p>Hello <b>all</b></p>")
            .expect_text("Read more...")
            .expect_text("&#60;script&#62;alert(1)&#60;/script&#62; Treffen");
        assert!(!page.has("<script>alert"), "no script reaches the page");
        assert!(!page.has("<p onclick"), "no handler reaches the preview");
        // Nothing was stored.
        assert_eq!(
            world
                .app
                .get("/api/v1/entries", Some(&world.editor))
                .await
                .json()["total"],
            0
        );
    }
);

db_test!(
    changes_requested_are_shown_at_the_top_and_resubmitted,
    World::builder(),
    |app: TestApp| async move {
        let world = World::new(app).await;
        let browser = Browser::signed_in(&world.app, EDITOR).await;
        let id = create_meetup(&browser, "Treffen", "submit").await;
        browser
            .get(&format!("/my/entries/{id}"))
            .await
            .expect(200)
            .expect_text("Submitted for review")
            .expect_text("badge pending");
        world
            .app
            .post(
                &format!("/api/v1/moderation/entries/{id}/request-changes"),
                Some(&world.moderator),
                json!({"comment": "Please <add> the room number"}),
            )
            .await
            .expect(200);
        let page = browser.get(&format!("/my/entries/{id}")).await;
        page.expect(200)
            .expect_text("asked for changes")
            .expect_text("Please &#60;add&#62; the room number");
        let edit = browser.get(&format!("/my/entries/{id}/edit")).await;
        edit.expect(200)
            .expect_text("Please &#60;add&#62; the room number")
            .expect_text("Save and resubmit");
        let version = edit.input_value("version").unwrap();
        let mut fields = meetup_fields("Treffen");
        fields.retain(|(name, _)| *name != "location_name");
        fields.push(("location_name", "Bonn, room 1.23"));
        fields.push(("version", &version));
        fields.push(("intent", "submit"));
        let page = browser
            .post(&format!("/my/entries/{id}/edit"), &fields)
            .await;
        page.expect(303);
        let entry = world
            .app
            .get(&format!("/api/v1/entries/{id}"), Some(&world.editor))
            .await
            .json();
        assert_eq!(entry["status"], "pending");
        assert_eq!(entry["location_name"], "Bonn, room 1.23");
        // The timeline names the change.
        let page = browser.get(&format!("/my/entries/{id}")).await;
        page.expect_text("location_name")
            .expect_text("Bonn, room 1.23")
            .expect_text("asked for changes");
    }
);

db_test!(
    a_stale_edit_says_so_and_keeps_the_text,
    World::builder(),
    |app: TestApp| async move {
        let world = World::new(app).await;
        let browser = Browser::signed_in(&world.app, EDITOR).await;
        let id = create_meetup(&browser, "Treffen", "save").await;
        let edit = browser.get(&format!("/my/entries/{id}/edit")).await;
        let version = edit.input_value("version").unwrap();
        world
            .app
            .patch(
                &format!("/api/v1/entries/{id}"),
                Some(&world.editor),
                json!({"version": version.parse::<i32>().unwrap(), "title": "Changed elsewhere"}),
            )
            .await
            .expect(200);
        let mut fields = meetup_fields("My title");
        fields.push(("version", &version));
        fields.push(("intent", "save"));
        let page = browser
            .post(&format!("/my/entries/{id}/edit"), &fields)
            .await;
        page.expect(409)
            .expect_text("Someone else changed this entry")
            .expect_text("value=\"My title\"");
    }
);

db_test!(
    withdrawing_needs_a_confirmation,
    World::builder(),
    |app: TestApp| async move {
        let world = World::new(app).await;
        let browser = Browser::signed_in(&world.app, EDITOR).await;
        let id = create_meetup(&browser, "Treffen", "submit").await;
        let page = browser
            .submit(
                &format!("/my/entries/{id}"),
                &format!("/my/entries/{id}/withdraw"),
                &[],
            )
            .await;
        page.expect(422);
        assert!(page.field_error("confirm").is_some());
        let page = browser
            .submit(
                &format!("/my/entries/{id}"),
                &format!("/my/entries/{id}/withdraw"),
                &[("confirm", "on")],
            )
            .await;
        page.expect(303);
        browser.follow(&page).await.expect_text("badge withdrawn");
        // Clone makes a new draft to start over.
        let page = browser
            .submit(
                &format!("/my/entries/{id}"),
                &format!("/my/entries/{id}/clone"),
                &[],
            )
            .await;
        let edit = browser.follow(&page).await;
        edit.expect(200).expect_text("value=\"Copy of Treffen\"");
        // A withdrawn entry that was never published can be deleted.
        let page = browser
            .submit(
                &format!("/my/entries/{id}"),
                &format!("/my/entries/{id}/delete"),
                &[("confirm", "on")],
            )
            .await;
        assert_eq!(page.expect(303).location(), "/my/entries");
        browser.get(&format!("/my/entries/{id}")).await.expect(404);
    }
);

db_test!(
    an_editor_of_another_group_gets_nothing,
    World::builder(),
    |app: TestApp| async move {
        let world = World::new(app).await;
        let editor = Browser::signed_in(&world.app, EDITOR).await;
        let id = create_meetup(&editor, "Alpha only", "save").await;
        let other = Browser::signed_in(&world.app, OTHER).await;
        other.get(&format!("/my/entries/{id}")).await.expect(404);
        other
            .get(&format!("/my/entries/{id}/edit"))
            .await
            .expect(404);
        other.get("/my/entries").await.expect(200);
        assert!(!other.get("/my/entries").await.has("Alpha only"));
        let mut fields = meetup_fields("Hijack");
        fields.push(("version", "2"));
        fields.push(("intent", "save"));
        other
            .submit("/my/entries", &format!("/my/entries/{id}/edit"), &fields)
            .await
            .expect(404);
        other
            .post(&format!("/my/entries/{id}/submit"), &[("version", "1")])
            .await
            .expect(404);
        // Its form offers only its own group, and posting for alpha is refused.
        let form = other.get("/my/entries/new?kind=meetup").await;
        assert!(form.has("value=\"beta\"") && !form.has("value=\"alpha\""));
        let mut fields = meetup_fields("Into alpha");
        fields.push(("intent", "save"));
        other
            .post("/my/entries/new?kind=meetup", &fields)
            .await
            .expect(403);
        // Someone in no group has no entries to write.
        let outsider = Browser::signed_in(&world.app, "outsider@example.org").await;
        outsider.get("/my/entries/new").await.expect(403);
        // And nobody signed in is sent to sign in.
        let anonymous = Browser::new(&world.app);
        assert_eq!(
            anonymous.get(&format!("/my/entries/{id}")).await.location(),
            format!("/login?next=%2Fmy%2Fentries%2F{id}")
        );
    }
);

db_test!(
    the_list_filters_and_pages,
    World::builder(),
    |app: TestApp| async move {
        let world = World::new(app).await;
        for index in 0..23 {
            world
                .app
                .draft(&world.editor, "alpha", &format!("Note {index:02}"))
                .await;
        }
        world
            .app
            .draft(&world.other_editor, "beta", "Beta note")
            .await;
        let browser = Browser::signed_in(&world.app, EDITOR).await;
        let first = browser.get("/my/entries").await;
        first
            .expect(200)
            .expect_text("1–20 of 23")
            .expect_text("Note 22")
            .expect_text("?offset=20");
        assert!(!first.has("Beta note"));
        browser
            .get("/my/entries?offset=20")
            .await
            .expect_text("21–23 of 23")
            .expect_text("Note 00");
        browser
            .get("/my/entries?status=pending")
            .await
            .expect_text("Nothing to show");
        browser
            .get("/my/entries?kind=announcement&group=alpha")
            .await
            .expect_text("of 23");
    }
);

/// The meetup's fields, held from `starts_at` to `ends_at`.
fn meetup_at<'a>(title: &'a str, starts_at: &'a str, ends_at: &'a str) -> Vec<(&'a str, &'a str)> {
    let mut fields = meetup_fields(title);
    fields.retain(|(name, _)| !matches!(*name, "starts_at" | "ends_at"));
    fields.extend([("starts_at", starts_at), ("ends_at", ends_at)]);
    fields
}

db_test!(
    save_and_submit_is_one_step_that_stores_nothing_when_refused,
    World::builder(),
    |app: TestApp| async move {
        let world = World::new(app).await;
        let browser = Browser::signed_in(&world.app, EDITOR).await;
        let over = "the event is over: past events are not published";
        // A new meetup that is over may be kept as a draft, not submitted:
        // the form comes back with why, and no draft was made.
        let mut fields = meetup_at("Last year", "2020-03-04T18:00", "2020-03-04T21:00");
        fields.push(("intent", "submit"));
        let page = browser.post("/my/entries/new?kind=meetup", &fields).await;
        page.expect(422).expect_text("value=\"Last year\"");
        assert_eq!(page.field_error("ends_at").as_deref(), Some(over));
        let entries = world
            .app
            .get("/api/v1/entries", Some(&world.editor))
            .await
            .json();
        assert_eq!(entries["total"], 0, "nothing saved: {entries}");
        fields.retain(|(name, _)| *name != "intent");
        fields.push(("intent", "save"));
        let page = browser.post("/my/entries/new?kind=meetup", &fields).await;
        let id = page
            .expect(303)
            .location()
            .trim_start_matches("/my/entries/")
            .to_string();
        let entry = format!("/api/v1/entries/{id}");
        // Its edit, submitted while still over: neither the edit nor the
        // submission is stored.
        let mut edit = meetup_at("Renamed", "2020-03-04T18:00", "2020-03-04T21:00");
        edit.extend([("version", "1"), ("intent", "submit")]);
        let page = browser.post(&format!("/my/entries/{id}/edit"), &edit).await;
        page.expect(422).expect_text("value=\"Renamed\"");
        assert_eq!(page.field_error("ends_at").as_deref(), Some(over));
        let stored = world.app.get(&entry, Some(&world.editor)).await.json();
        assert_eq!(stored["title"], "Last year");
        assert_eq!(stored["status"], "draft");
        assert_eq!(stored["version"], 1);
        // Moved ahead, it is saved and in review at once.
        let mut edit = meetup_at("Next year", "2030-03-04T18:00", "2030-03-04T21:00");
        edit.extend([("version", "1"), ("intent", "submit")]);
        let page = browser.post(&format!("/my/entries/{id}/edit"), &edit).await;
        browser
            .follow(page.expect(303))
            .await
            .expect_text("Submitted for review")
            .expect_text("badge pending");
        let stored = world.app.get(&entry, Some(&world.editor)).await.json();
        assert_eq!(stored["title"], "Next year");
        assert_eq!(stored["status"], "pending");
        let history = world
            .app
            .get(&format!("{entry}/history"), Some(&world.editor))
            .await
            .json();
        let actions: Vec<&str> = history
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|event| event["action"].as_str())
            .collect();
        assert_eq!(actions, ["create", "edit", "submit"], "{history}");
    }
);
