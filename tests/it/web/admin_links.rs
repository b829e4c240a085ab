//! Links an admin passes on without a mail server: shown after the action
//! and in the person's row while they work, sent again or withdrawn; the
//! outbox page with its retry; the count of waiting access requests. Only
//! admins ever see a link meant for someone else.

use std::sync::atomic::Ordering;

use newsfeed::service::outbox::queue;
use serde_json::{Value, json};

use crate::common::{TestApp, World};
use crate::mail::smtp::SmtpSink;
use crate::web::support::{Browser, Page};

const ADMIN: &str = "admin@example.org";
const OWNER: &str = "owner@example.org";

/// Every link of `kind` (`invite` or `reset`) on a page, as paths.
fn links(page: &Page, kind: &str) -> Vec<String> {
    let marker = format!("/{kind}/");
    page.text
        .match_indices(&marker)
        .map(|(start, _)| {
            page.text[start..]
                .chars()
                .take_while(|c| *c != '"' && *c != '<')
                .collect()
        })
        .collect()
}

/// The one link of `kind` on a page (in the flash and in the row alike).
#[track_caller]
fn the_link(page: &Page, kind: &str) -> String {
    let mut found = links(page, kind);
    found.dedup();
    assert_eq!(found.len(), 1, "one {kind} link expected: {}", page.text);
    found[0].clone()
}

/// Asks for access for `group` from `contact`; returns the request's id.
async fn request_access(app: &TestApp, group: &str, contact: &str) -> i64 {
    app.post(
        "/api/v1/access-requests",
        None,
        json!({"group_name": group, "contact_email": contact, "country": "FR"}),
    )
    .await
    .expect(201)
    .json()["id"]
        .as_i64()
        .unwrap()
}

/// Approves request `id` on its page; returns the page after it.
async fn approve(admin: &Browser<'_>, id: i64) -> Page {
    let done = admin
        .submit(
            "/admin/access-requests",
            &format!("/admin/access-requests/{id}/approve"),
            &[("confirm", "on")],
        )
        .await;
    done.expect(303);
    admin.follow(&done).await
}

/// Posts a new password to `link` with the token of the page last seen.
async fn post_password(browser: &Browser<'_>, link: &str) -> Page {
    let password = "a new password";
    let fields = [("password", password), ("password_confirmation", password)];
    browser.post(link, &fields).await
}

/// Sets a password through `link` as a stranger would; the reply.
async fn set_password(app: &TestApp, link: &str) -> Page {
    let browser = Browser::new(app);
    browser.get(link).await;
    post_password(&browser, link).await
}

/// A link that was replaced, withdrawn or used: a clear page, not a 500.
async fn expect_refused(app: &TestApp, link: &str) {
    let browser = Browser::new(app);
    browser
        .get(link)
        .await
        .expect(404)
        .expect_text("link is no longer valid");
    // Posting to it (with the token of another page) is refused alike.
    browser.get("/login").await.expect(200);
    post_password(&browser, link)
        .await
        .expect(404)
        .expect_text("link is no longer valid");
}

/// The id of the account with `email`.
async fn user_id(world: &World, email: &str) -> i64 {
    let people = world
        .app
        .get("/api/v1/users", Some(&world.admin))
        .await
        .expect(200)
        .json();
    people
        .as_array()
        .unwrap()
        .iter()
        .find(|person| person["email"] == email)
        .and_then(|person| person["id"].as_i64())
        .unwrap()
}

/// Does `change` to the person `id` on the People page; the page after it.
async fn change(admin: &Browser<'_>, id: i64, change: &str) -> Page {
    let done = admin
        .submit(
            "/admin/users",
            &format!("/admin/users/{id}"),
            &[("change", change)],
        )
        .await;
    done.expect(303);
    admin.follow(&done).await
}

db_test!(
    approving_a_request_without_a_mail_server_shows_the_owners_link,
    World::builder(),
    |app: TestApp| async move {
        let world = World::new(app).await;
        let id = request_access(&world.app, "QGIS Lyon", "lyon@example.org").await;
        let admin = Browser::signed_in(&world.app, ADMIN).await;
        let page = approve(&admin, id).await;
        page.expect_text(
            "Approved: group qgis-lyon exists now, and lyon@example.org is invited to own it",
        )
        .expect_text("No mail server is configured: give them this link")
        .expect_text("valid until ");
        let link = the_link(&page, "invite");
        // The link stays in the person's row, with its expiry in words.
        let people = admin.get("/admin/users").await;
        assert_eq!(the_link(&people, "invite"), link);
        people
            .expect_text("Invitation link, valid until ")
            .expect_text("readonly");
        // Following it lets the new owner set a password.
        set_password(&world.app, &link).await.expect(303);
        let owner = Browser::new(&world.app);
        owner
            .sign_in("lyon@example.org", "a new password")
            .await
            .expect(303);
        owner
            .get("/admin/groups/qgis-lyon")
            .await
            .expect(200)
            .expect_text("QGIS Lyon");
        // Used, it leaves the row.
        assert!(links(&admin.get("/admin/users").await, "invite").is_empty());
        expect_refused(&world.app, &link).await;
    }
);

db_test!(
    a_new_link_replaces_the_old_and_a_withdrawn_one_stops_working,
    World::builder(),
    |app: TestApp| async move {
        let world = World::new(app).await;
        let admin = Browser::signed_in(&world.app, ADMIN).await;
        let invite = || async {
            let done = admin
                .submit(
                    "/admin/users",
                    "/admin/users",
                    &[
                        ("email", "new@example.org"),
                        ("role", "member"),
                        ("group", "alpha"),
                        ("group_role", "editor"),
                    ],
                )
                .await;
            admin.follow(&done).await
        };
        let first = invite().await;
        assert!(!first.has("replaces the earlier"));
        let first = the_link(&first, "invite");
        // Inviting again says that it replaces the earlier link.
        let again = invite().await;
        again.expect_text("It replaces the earlier invitation link, which no longer works.");
        let second = the_link(&again, "invite");
        assert_ne!(first, second);
        expect_refused(&world.app, &first).await;
        // Sent again from the row: a new link, the old one refused.
        let id = user_id(&world, "new@example.org").await;
        let resent = change(&admin, id, "resend").await;
        resent
            .expect_text("A new invitation link for new@example.org is issued")
            .expect_text("It replaces the earlier invitation link, which no longer works.");
        let third = the_link(&resent, "invite");
        assert_ne!(third, second);
        expect_refused(&world.app, &second).await;
        assert_eq!(the_link(&admin.get("/admin/users").await, "invite"), third);
        Browser::new(&world.app).get(&third).await.expect(200);
        // Withdrawn: refused, and gone from the row.
        change(&admin, id, "revoke").await.expect_text(
            "The invitation of new@example.org is withdrawn: its link no longer works.",
        );
        expect_refused(&world.app, &third).await;
        let people = admin.get("/admin/users").await;
        assert!(links(&people, "invite").is_empty());
        // Nothing left to withdraw: said so, nothing breaks.
        admin
            .post(&format!("/admin/users/{id}"), &[("change", "revoke")])
            .await
            .expect(409)
            .expect_text("There is no unused invitation link to withdraw");
        // A password reset an admin sends is shown alike, and works.
        let editor = user_id(&world, "editor@example.org").await;
        let reset = change(&admin, editor, "reset").await;
        reset.expect_text("A password reset link for editor@example.org is issued");
        let link = the_link(&reset, "reset");
        let people = admin.get("/admin/users").await;
        assert_eq!(the_link(&people, "reset"), link);
        people.expect_text("Password reset link, valid until ");
        set_password(&world.app, &link).await.expect(303);
        assert!(links(&admin.get("/admin/users").await, "reset").is_empty());
        // An invited person gets a new invitation, not a reset.
        admin
            .post(&format!("/admin/users/{id}"), &[("change", "reset")])
            .await
            .expect(409)
            .expect_text("send a new invitation instead");
    }
);

db_test!(
    only_admins_see_links_meant_for_someone_else,
    World::builder(),
    |app: TestApp| async move {
        let world = World::new(app).await;
        let owner = Browser::signed_in(&world.app, OWNER).await;
        let added = owner
            .submit(
                "/admin/groups/alpha",
                "/admin/groups/alpha/people",
                &[("email", "friend@example.org"), ("role", "editor")],
            )
            .await;
        let page = owner.follow(&added).await;
        page.expect_text("friend@example.org is editor of the group")
            .expect_text("an admin can give them their invitation link");
        assert!(links(&page, "invite").is_empty(), "{}", page.text);
        // The admin has it, in the row.
        let admin = Browser::signed_in(&world.app, ADMIN).await;
        let link = the_link(&admin.get("/admin/users").await, "invite");
        // A reset the person asks for themselves is theirs alone.
        Browser::new(&world.app)
            .submit("/reset", "/reset", &[("email", "editor@example.org")])
            .await
            .expect(200);
        assert!(links(&admin.get("/admin/users").await, "reset").is_empty());
        // Owners and moderators never see it, on any page or API.
        let moderator = Browser::signed_in(&world.app, "mod@example.org").await;
        for browser in [&owner, &moderator] {
            for path in ["/admin/users", "/admin/outbox", "/admin/access-requests"] {
                browser.get(path).await.expect(403);
            }
            for path in [
                "/",
                "/groups",
                "/account",
                "/my/entries",
                "/admin/groups/alpha",
            ] {
                let page = browser.get(path).await;
                assert!(!page.has(&link), "{path}: {}", page.text);
                assert!(links(&page, "invite").is_empty(), "{path}");
            }
        }
        moderator.get("/moderation").await.expect(200);
        owner.post("/admin/outbox/1/retry", &[]).await.expect(403);
        for token in [&world.owner, &world.moderator] {
            world
                .app
                .get("/api/v1/outbox", Some(token))
                .await
                .expect(403);
            world
                .app
                .get("/api/v1/users", Some(token))
                .await
                .expect(403);
            let me = world
                .app
                .get("/api/v1/me", Some(token))
                .await
                .expect(200)
                .text
                .clone();
            assert!(!me.contains("/invite/"));
        }
        let members = world
            .app
            .get("/api/v1/groups/alpha/members", Some(&world.owner))
            .await
            .expect(200)
            .text
            .clone();
        assert!(!members.contains("/invite/"), "{members}");
    }
);

db_test!(
    the_outbox_lists_mail_and_retries_what_failed,
    World::builder().config(|config| {
        // The test plays the worker.
        config.mail_worker = false;
    }),
    |app: TestApp| async move {
        let world = World::new(app).await;
        request_access(&world.app, "QGIS Lyon", "lyon@example.org").await;
        let services = &world.app.state.services;
        let messages = queue::claim_due(services).await.unwrap();
        let message = messages
            .into_iter()
            .find(|message| message.recipient == ADMIN)
            .unwrap();
        for _ in 0..10 {
            queue::attempt_failed(services, &message, "550 mailbox unavailable")
                .await
                .unwrap();
        }
        let admin = Browser::signed_in(&world.app, ADMIN).await;
        let page = admin.get("/admin/outbox").await;
        page.expect(200)
            .expect_text(ADMIN)
            .expect_text("Access request: QGIS Lyon")
            .expect_text(">failed<")
            .expect_text("Last error: 550 mailbox unavailable")
            .expect_text("<td data-label=\"Attempts\">10</td>")
            .expect_text("1 failed")
            .expect_text(&format!(
                "action=\"/admin/outbox/{}/retry\"",
                message.ids[0]
            ))
            .expect_text("Retry");
        admin
            .get("/admin/outbox?status=sent")
            .await
            .expect(200)
            .expect_text("No mail.");
        let failed = admin.get("/admin/outbox?status=failed").await;
        failed.expect_text("1–1 of 1");
        // Retry puts it back in line.
        let retry = format!("/admin/outbox/{}/retry", message.ids[0]);
        let done = admin.post(&retry, &[]).await;
        done.expect(303);
        admin
            .follow(&done)
            .await
            .expect_text("The mail to admin@example.org waits to be sent again.")
            .expect_text(">waiting<");
        let pending = world
            .app
            .get("/api/v1/outbox?status=pending", Some(&world.admin))
            .await
            .json();
        assert!(
            pending["items"]
                .as_array()
                .unwrap()
                .iter()
                .any(|mail: &Value| mail["id"] == message.ids[0]),
            "{pending}"
        );
        // Only failed mail is retried; a mail that is not there is not found.
        admin.get("/admin/outbox").await;
        admin
            .post(&retry, &[])
            .await
            .expect(409)
            .expect_text("nly failed mail can be retried");
        admin
            .post("/admin/outbox/999999/retry", &[])
            .await
            .expect(404);
        // Without the form's token, nothing happens.
        admin.post_raw(&retry, &[]).await.expect(403);
    }
);

db_test!(
    the_admin_header_counts_waiting_access_requests,
    World::builder().config(|config| {
        config.mail_worker = false;
        config.stats_flush_secs = 0;
    }),
    |app: TestApp| async move {
        let world = World::new(app).await;
        let first = request_access(&world.app, "QGIS Lyon", "lyon@example.org").await;
        request_access(&world.app, "QGIS Nice", "nice@example.org").await;
        let admin = Browser::signed_in(&world.app, ADMIN).await;
        admin
            .get("/admin/groups")
            .await
            .expect_text("Access requests (2)")
            .expect_text("2<span class=\"visually-hidden\"> access requests waiting");
        let moderator = Browser::signed_in(&world.app, "mod@example.org").await;
        let page = moderator.get("/groups").await;
        assert!(!page.has("access requests waiting"));
        // Counted inside the statement that reads the viewer: an admin's
        // page costs what an editor's does.
        let editor = Browser::signed_in(&world.app, "editor@example.org").await;
        let counter = &world.app.state.services.counters.db_statements;
        let mut costs = Vec::new();
        for browser in [&editor, &admin] {
            browser.get("/groups").await.expect(200);
            let before = counter.load(Ordering::Relaxed);
            browser.get("/groups").await.expect(200);
            costs.push(counter.load(Ordering::Relaxed) - before);
        }
        assert_eq!(costs[0], costs[1], "{costs:?}");
        approve(&admin, first).await;
        admin
            .get("/admin/users")
            .await
            .expect_text("Access requests (1)");
    }
);

db_test!(
    with_a_mail_server_the_link_goes_by_mail_not_to_the_admin,
    |app: TestApp| async move {
        let sink = SmtpSink::running();
        let app = app.restart(|c| c.smtp_url = Some(sink.url())).await;
        let world = World::new(app).await;
        let id = request_access(&world.app, "QGIS Lyon", "lyon@example.org").await;
        let admin = Browser::signed_in(&world.app, ADMIN).await;
        let page = approve(&admin, id).await;
        page.expect_text("lyon@example.org is invited to own it: a mail tells them how to start");
        assert!(links(&page, "invite").is_empty(), "{}", page.text);
        assert!(links(&admin.get("/admin/users").await, "invite").is_empty());
        let received = sink.wait_for(3).await;
        let invitation = received
            .iter()
            .find(|mail| mail.to == ["lyon@example.org"] && mail.topic().contains("invites you"))
            .expect("the invitation mail");
        assert!(invitation.data.contains("/invite/"));
        // A reset an admin sends goes by mail too.
        let editor = user_id(&world, "editor@example.org").await;
        let reset = change(&admin, editor, "reset").await;
        reset.expect_text("a mail with the link is on its way");
        assert!(links(&reset, "reset").is_empty());
    }
);
