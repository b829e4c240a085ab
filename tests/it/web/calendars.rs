//! A group's calendar pages: subscribing, "Sync now" and its runs, the
//! settings, a one-off `.ics` import, ending a subscription, and who may
//! do what (as the API says). Calendars are served by the test over loopback.

use newsfeed::domain::{GroupRole, Role};

use crate::calendars::{CalendarServer, NOW, fixture, subscribed, world_at};
use crate::common::{TestApp, TestAppBuilder, World};
use crate::web::support::Browser;

const OWNER: &str = "owner@example.org";
const LIST: &str = "/admin/groups/alpha/calendars";

/// The calendars world, with an owner of the other group.
fn with_beta_owner(builder: TestAppBuilder) -> TestAppBuilder {
    builder
        .with_user("beta-owner@example.org", Role::Member)
        .with_member("beta", "beta-owner@example.org", GroupRole::Owner)
}

db_test!(
    an_owner_subscribes_syncs_imports_and_ends,
    world_at(NOW, false),
    |app: TestApp| async move {
        let world = World::new(app).await;
        let server = CalendarServer::start().await;
        server.put("meetup", &fixture("meetup.ics"));
        let owner = Browser::signed_in(&world.app, OWNER).await;
        owner
            .get("/admin/groups/alpha")
            .await
            .expect(200)
            .expect_text("href=\"/admin/groups/alpha/calendars\"");
        let list = owner.get(LIST).await;
        list.expect(200)
            .expect_text("Subscribe to a calendar")
            .expect_text("No calendar yet.")
            .expect_text(
                "changes from the source are offered as an edit for review. Events removed from the source are cancelled here, not deleted.",
            );

        let bad = owner
            .post(LIST, &[("url", "not a url"), ("kind", "meetup")])
            .await;
        bad.expect(422);
        assert_eq!(bad.field_error("url").as_deref(), Some("is not a URL"));
        bad.expect_text("name=\"url\" type=\"url\" value=\"not a url\"");
        let wrong_kind = owner
            .post(
                LIST,
                &[
                    ("url", "https://example.org/x.ics"),
                    ("kind", "announcement"),
                ],
            )
            .await;
        wrong_kind.expect(422);
        assert!(wrong_kind.field_error("kind").is_some());

        let url = server.url("/cal/meetup");
        let added = owner
            .post(LIST, &[("url", url.as_str()), ("kind", "meetup")])
            .await;
        let page = added.expect(303).location().to_string();
        let id: i64 = page.rsplit('/').next().unwrap().parse().unwrap();
        owner
            .follow(&added)
            .await
            .expect(200)
            .expect_text("Subscribed: the calendar is fetched in a moment")
            .expect_text("Not fetched yet")
            .expect_text("Sync now");

        let synced = owner.post(&format!("{page}/sync"), &[]).await;
        let shown = owner.follow(&synced).await;
        shown
            .expect(200)
            .expect_text("Fetched: 2 new, 0 updated, 0 cancelled.")
            .expect_text("<td data-label=\"Fetched\">yes</td>")
            .expect_text("<td data-label=\"New\">2</td>")
            .expect_text("<td data-label=\"Problems\">none</td>");
        let queue = world
            .app
            .get(
                "/api/v1/moderation/queue?group=alpha",
                Some(&world.moderator),
            )
            .await
            .json();
        assert_eq!(queue["items"].as_array().map(Vec::len), Some(2));
        // Unchanged since: the next run says so.
        let again = owner.post(&format!("{page}/sync"), &[]).await;
        owner
            .follow(&again)
            .await
            .expect_text("has not changed since the last run")
            .expect_text("<td data-label=\"Fetched\">unchanged since the last run</td>");
        owner
            .get(LIST)
            .await
            .expect_text(&format!("<a href=\"{page}\">{url}</a>"));

        // Settings: the kind of new events.
        let saved = owner.post(&page, &[("kind", "event")]).await;
        owner
            .follow(&saved)
            .await
            .expect_text("<dt>Its events become</dt><dd>Event</dd>");
        let shown = world
            .app
            .get(
                &format!("/api/v1/groups/alpha/calendars/{id}"),
                Some(&world.owner),
            )
            .await
            .json();
        assert_eq!(shown["kind"], "event");

        // A one-off import of a file.
        owner.get(LIST).await.expect(200);
        let nothing = owner
            .post_multipart(
                &format!("{LIST}/import"),
                &[("kind", "meetup")],
                "file",
                None,
            )
            .await;
        nothing.expect(422);
        assert!(nothing.field_error("file").is_some());
        let imported = owner
            .post_multipart(
                &format!("{LIST}/import"),
                &[("kind", "meetup")],
                "file",
                Some(("nextcloud.ics", fixture("nextcloud.ics").into_bytes())),
            )
            .await;
        let record = imported.expect(303).location().to_string();
        assert_ne!(record, page);
        owner
            .follow(&imported)
            .await
            .expect(200)
            .expect_text("Imported: 3 new, 0 updated, 0 cancelled, 1 problem (see below).")
            .expect_text("<h1 class=\"source\">Files imported once</h1>")
            .expect_text("<td data-label=\"New\">3</td>")
            .expect_text("only its first occurrence is kept");

        // Ending a subscription asks for the box first; its entries stay.
        let unconfirmed = owner.post(&format!("{page}/delete"), &[]).await;
        unconfirmed.expect(422);
        assert!(unconfirmed.field_error("confirm").is_some());
        let ended = owner
            .post(&format!("{page}/delete"), &[("confirm", "on")])
            .await;
        assert_eq!(ended.expect(303).location(), LIST);
        let list = owner.get(LIST).await;
        list.expect(200).expect_text("Files imported once");
        assert!(!list.has(&url));
        owner.get(&page).await.expect(404);
        let queue = world
            .app
            .get(
                "/api/v1/moderation/queue?group=alpha",
                Some(&world.moderator),
            )
            .await
            .json();
        assert_eq!(queue["items"].as_array().map(Vec::len), Some(5));
    }
);

db_test!(
    a_private_address_is_refused_next_to_the_url,
    // Without --fetch-allow-private, as in production.
    World::builder().config(|config| config.calendar_worker = false),
    |app: TestApp| async move {
        let world = World::new(app).await;
        let owner = Browser::signed_in(&world.app, OWNER).await;
        owner.get(LIST).await.expect(200);
        for url in ["https://127.0.0.1/cal.ics", "https://localhost/cal.ics"] {
            let refused = owner.post(LIST, &[("url", url), ("kind", "event")]).await;
            refused.expect(422);
            let error = refused.field_error("url").unwrap_or_default();
            assert!(error.contains("not a public address"), "{url}: {error}");
        }
        let plain = owner
            .post(
                LIST,
                &[("url", "http://example.org/cal.ics"), ("kind", "event")],
            )
            .await;
        plain.expect(422);
        let error = plain.field_error("url").unwrap_or_default();
        assert!(error.contains("https only"), "{error}");
    }
);

db_test!(
    only_owners_and_admins_change_calendars,
    with_beta_owner(world_at(NOW, false)),
    |app: TestApp| async move {
        let world = World::new(app).await;
        let id = subscribed(&world, "https://calendar.example.org/qgis.ics").await;
        let page = format!("{LIST}/{id}");

        // The group's editors and the moderators see them, and nothing to change.
        for reader in ["editor@example.org", "mod@example.org"] {
            let browser = Browser::signed_in(&world.app, reader).await;
            let list = browser.get(LIST).await;
            list.expect(200)
                .expect_text("https://calendar.example.org/qgis.ics");
            assert!(!list.has("Subscribe to a calendar"), "{reader}");
            let one = browser.get(&page).await;
            one.expect(200);
            assert!(!one.has("/sync\"") && !one.has("/delete\""), "{reader}");
        }
        let editor = Browser::signed_in(&world.app, "editor@example.org").await;
        editor.get(&page).await.expect(200);
        let url = [("url", "https://example.org/x.ics"), ("kind", "event")];
        editor.post(LIST, &url).await.expect(403);
        editor.post(&format!("{page}/sync"), &[]).await.expect(403);
        editor.post(&page, &[("kind", "event")]).await.expect(403);
        editor
            .post(&format!("{page}/delete"), &[("confirm", "on")])
            .await
            .expect(403);
        editor
            .post_multipart(
                &format!("{LIST}/import"),
                &[("kind", "event")],
                "file",
                Some(("x.ics", fixture("meetup.ics").into_bytes())),
            )
            .await
            .expect(403);

        // Strangers and another group's owner see nothing of them.
        for stranger in ["outsider@example.org", "beta-owner@example.org"] {
            let browser = Browser::signed_in(&world.app, stranger).await;
            browser.get(LIST).await.expect(403);
            browser.get(&page).await.expect(403);
            browser.post(LIST, &url).await.expect(403);
            browser.post(&format!("{page}/sync"), &[]).await.expect(403);
        }
        // The other group's owner finds no such calendar in their own group.
        let beta_owner = Browser::signed_in(&world.app, "beta-owner@example.org").await;
        beta_owner
            .get(&format!("/admin/groups/beta/calendars/{id}"))
            .await
            .expect(404);
        let anonymous = Browser::new(&world.app).get(LIST).await;
        assert!(anonymous.expect(303).location().starts_with("/login"));

        // The owner, but without the form's token: refused.
        let owner = Browser::signed_in(&world.app, OWNER).await;
        owner.get(LIST).await.expect(200);
        owner.post_raw(LIST, &url).await.expect(403);
        owner
            .post_raw(&format!("{page}/delete"), &[("confirm", "on")])
            .await
            .expect(403);
        let still = world
            .app
            .get("/api/v1/groups/alpha/calendars", Some(&world.owner))
            .await
            .json();
        assert_eq!(still.as_array().map(Vec::len), Some(1));
    }
);

/// `meetup.ics` padded with a calendar property to about `bytes` bytes.
fn padded_calendar(bytes: usize) -> Vec<u8> {
    let line = format!("\r\nX-PADDING:{}", "x".repeat(1000));
    let padding = line.repeat(bytes / line.len());
    fixture("meetup.ics")
        .replacen("BEGIN:VCALENDAR", &format!("BEGIN:VCALENDAR{padding}"), 1)
        .into_bytes()
}

db_test!(
    calendar_files_are_taken_up_to_five_mib,
    world_at(NOW, false),
    |app: TestApp| async move {
        let world = World::new(app).await;
        let owner = Browser::signed_in(&world.app, OWNER).await;
        let import = format!("{LIST}/import");
        // Larger than any other form, as the API takes it.
        owner.get(LIST).await.expect(200);
        let big = padded_calendar(2 * 1024 * 1024);
        assert!(big.len() > 2_000_000);
        let imported = owner
            .post_multipart(
                &import,
                &[("kind", "meetup")],
                "file",
                Some(("big.ics", big)),
            )
            .await;
        owner
            .follow(&imported)
            .await
            .expect(200)
            .expect_text("Imported: 2 new");
        // Over 5 MiB: refused, next to the file.
        owner.get(LIST).await.expect(200);
        let mut huge = padded_calendar(5 * 1024 * 1024);
        huge.resize(5 * 1024 * 1024 + 1, b'\n');
        let refused = owner
            .post_multipart(
                &import,
                &[("kind", "meetup")],
                "file",
                Some(("huge.ics", huge)),
            )
            .await;
        refused.expect(413);
        assert!(
            refused
                .field_error("file")
                .unwrap_or_default()
                .contains("5 MiB")
        );
        // The API takes the same.
        let run = crate::calendars::import_file(&world, padded_calendar(1024 * 1024), "meetup")
            .await
            .expect(200)
            .json();
        assert_eq!(run["new"], 0, "the same events again: {run}");
    }
);
