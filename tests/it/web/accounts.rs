//! Signing in and out, sessions, invitations, resets, password changes.

use std::sync::atomic::Ordering;

use newsfeed::clock::Clock;
use newsfeed::domain::{Role, TokenPurpose};
use newsfeed::service::accounts::{self, Invitation, Invited};
use serde_json::json;

use crate::common::{PASSWORD, TestApp, World};
use crate::web::support::{Browser, Page};

const EDITOR: &str = "ed@example.org";

fn editor_app() -> crate::common::TestAppBuilder {
    TestApp::builder()
        .with_group("alpha")
        .with_editor("alpha", EDITOR)
}

db_test!(
    signing_in_sets_a_fresh_session_cookie,
    editor_app(),
    |app: TestApp| async move {
        let browser = Browser::new(&app);
        browser
            .get("/login")
            .await
            .expect(200)
            .expect_text("name=\"csrf_token\"");
        // A session id planted before signing in is worth nothing after.
        browser.set_cookie("newsfeed_session", "planted-by-an-attacker");
        let page = browser.sign_in(EDITOR, PASSWORD).await;
        assert_eq!(page.expect(303).location(), "/my/entries");
        let cookie = page
            .headers
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_string())
            .find(|v| v.starts_with("newsfeed_session="))
            .expect("session cookie");
        assert!(cookie.contains("HttpOnly"), "{cookie}");
        assert!(cookie.contains("SameSite=Lax"), "{cookie}");
        assert!(!cookie.contains("Secure"), "plain http: {cookie}");
        assert_ne!(
            browser.cookie("newsfeed_session").unwrap(),
            "planted-by-an-attacker"
        );
        browser
            .get("/account")
            .await
            .expect(200)
            .expect_text(EDITOR);
    }
);

db_test!(
    cookies_are_secure_behind_https,
    editor_app().config(|c| c.public_url = Some("https://news.example.org".into())),
    |app: TestApp| async move {
        let page = Browser::new(&app).sign_in(EDITOR, PASSWORD).await;
        let cookies: Vec<String> = page
            .headers
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_string())
            .collect();
        assert!(
            cookies.iter().any(|c| c.starts_with("newsfeed_session=")),
            "{cookies:?}"
        );
        assert!(cookies.iter().all(|c| c.contains("Secure")), "{cookies:?}");
    }
);

db_test!(
    a_wrong_password_is_shown_next_to_it,
    editor_app(),
    |app: TestApp| async move {
        let browser = Browser::new(&app);
        let page = browser.sign_in(EDITOR, "not the password").await;
        page.expect(401);
        assert_eq!(
            page.field_error("password").as_deref(),
            Some("The email address or the password is wrong.")
        );
        assert!(page.has("aria-describedby=\"password-error\""));
        page.expect_text(&format!("value=\"{EDITOR}\""));
        browser.get("/account").await.expect(303);
    }
);

db_test!(
    a_form_without_its_csrf_token_is_refused,
    editor_app(),
    |app: TestApp| async move {
        let browser = Browser::new(&app);
        browser.get("/login").await.expect(200);
        let page = browser
            .post_raw("/login", &[("email", EDITOR), ("password", PASSWORD)])
            .await;
        page.expect(403).expect_text("Form expired");
        let forged = browser
            .post_raw(
                "/login",
                &[
                    ("csrf_token", "forged"),
                    ("email", EDITOR),
                    ("password", PASSWORD),
                ],
            )
            .await;
        forged.expect(403);
        // Another browser's token does not fit this browser's cookie.
        let other = Browser::new(&app);
        let token = other.get("/login").await.input_value("csrf_token").unwrap();
        browser
            .post_raw(
                "/login",
                &[
                    ("csrf_token", &token),
                    ("email", EDITOR),
                    ("password", PASSWORD),
                ],
            )
            .await
            .expect(403);
        browser.get("/account").await.expect(303);
    }
);

db_test!(
    signing_out_ends_the_session_for_every_copy,
    editor_app(),
    |app: TestApp| async move {
        let browser = Browser::signed_in(&app, EDITOR).await;
        let copied = browser.cookie("newsfeed_session").unwrap();
        browser.submit("/account", "/logout", &[]).await.expect(303);
        browser.get("/account").await.expect(303);
        let thief = Browser::new(&app);
        thief.set_cookie("newsfeed_session", &copied);
        let page = thief.get("/account").await;
        assert_eq!(page.expect(303).location(), "/login?next=%2Faccount");
    }
);

db_test!(
    sessions_expire_by_the_clock,
    editor_app()
        .clock(Clock::manual(1_900_000_000))
        .config(|c| c.session_ttl = 600),
    |app: TestApp| async move {
        let browser = Browser::signed_in(&app, EDITOR).await;
        app.clock.advance(599);
        browser.get("/account").await.expect(200);
        app.clock.advance(1);
        browser.get("/account").await.expect(303);
    }
);

db_test!(
    disabling_a_person_ends_their_sessions,
    editor_app(),
    |app: TestApp| async move {
        let browser = Browser::signed_in(&app, EDITOR).await;
        let me = app.get("/api/v1/me", Some(app.token(EDITOR))).await.json();
        app.patch(
            &format!("/api/v1/users/{}", me["id"]),
            Some(app.token("admin")),
            json!({"disabled": true}),
        )
        .await
        .expect(200);
        browser.get("/account").await.expect(303);
        browser.sign_in(EDITOR, PASSWORD).await.expect(401);
    }
);

db_test!(
    after_signing_in_only_our_own_pages_are_next,
    editor_app(),
    |app: TestApp| async move {
        for (next, lands) in [
            ("/groups?x=1", "/groups?x=1"),
            ("https://evil.example/", "/my/entries"),
            ("//evil.example/", "/my/entries"),
            ("/\\evil.example", "/my/entries"),
        ] {
            let browser = Browser::new(&app);
            browser
                .get(&format!("/login?next={}", url_encode(next)))
                .await
                .expect(200);
            let page = browser
                .post(
                    "/login",
                    &[("email", EDITOR), ("password", PASSWORD), ("next", next)],
                )
                .await;
            assert_eq!(page.expect(303).location(), lands, "next={next}");
        }
    }
);

fn url_encode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

db_test!(
    an_invitation_link_sets_the_password_once,
    TestApp::builder().with_admin().with_group("alpha"),
    |app: TestApp| async move {
        let services = &app.state.services;
        let admin = newsfeed::service::auth::authenticate(services, app.token("admin"))
            .await
            .unwrap();
        let Invited::Link(issued) = accounts::invite(
            services,
            &admin,
            Invitation {
                email: "New@Example.org".into(),
                display_name: String::new(),
                role: Role::Member,
                group: Some(("alpha".into(), newsfeed::domain::GroupRole::Editor)),
            },
        )
        .await
        .unwrap() else {
            panic!("a new address gets a link")
        };
        // No password yet: nobody can sign in with any.
        Browser::new(&app)
            .sign_in("new@example.org", "")
            .await
            .expect(401);
        let link = issued.link.replace(&app.state.config.public_base_url(), "");
        assert!(link.starts_with("/invite/"), "{link}");
        let browser = Browser::new(&app);
        browser
            .get(&link)
            .await
            .expect(200)
            .expect_text("new@example.org");
        let mismatch = browser
            .post(
                &link,
                &[
                    ("password", "a new password"),
                    ("password_confirmation", "another"),
                ],
            )
            .await;
        mismatch.expect(422);
        assert!(mismatch.field_error("password_confirmation").is_some());
        let short = browser
            .post(
                &link,
                &[("password", "short"), ("password_confirmation", "short")],
            )
            .await;
        short.expect(422);
        assert_eq!(
            short.field_error("password").as_deref(),
            Some("must be 8 to 1024 characters")
        );
        let done = browser
            .post(
                &link,
                &[
                    ("password", "a new password"),
                    ("password_confirmation", "a new password"),
                ],
            )
            .await;
        assert_eq!(done.expect(303).location(), "/my/entries");
        browser
            .get("/account")
            .await
            .expect(200)
            .expect_text("alpha");
        // Used once: the link is gone.
        Browser::new(&app).get(&link).await.expect(404);
        app.post(
            "/api/v1/auth/login",
            None,
            json!({"email": "new@example.org", "password": "a new password"}),
        )
        .await
        .expect(200);
    }
);

db_test!(
    a_reset_link_sets_a_new_password_and_ends_other_sessions,
    editor_app(),
    |app: TestApp| async move {
        let elsewhere = Browser::signed_in(&app, EDITOR).await;
        // The form says the same whether or not the address has an account.
        let browser = Browser::new(&app);
        for email in [EDITOR, "nobody@example.org"] {
            browser
                .submit("/reset", "/reset", &[("email", email)])
                .await
                .expect(200)
                .expect_text("If an account exists");
        }
        let issued = accounts::request_reset(&app.state.services, EDITOR, "test")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(issued.purpose, TokenPurpose::PasswordReset);
        let link = issued.link.replace(&app.state.config.public_base_url(), "");
        assert!(link.starts_with("/reset/"), "{link}");
        let page = browser
            .submit(
                &link,
                &link,
                &[
                    ("password", "brand new secret"),
                    ("password_confirmation", "brand new secret"),
                ],
            )
            .await;
        page.expect(303);
        elsewhere.get("/account").await.expect(303);
        browser.get("/account").await.expect(200);
        Browser::new(&app)
            .sign_in(EDITOR, PASSWORD)
            .await
            .expect(401);
        Browser::new(&app)
            .sign_in(EDITOR, "brand new secret")
            .await
            .expect(303);
        Browser::new(&app).get(&link).await.expect(404);
    }
);

db_test!(
    reset_requests_are_limited,
    editor_app(),
    |app: TestApp| async move {
        let browser = Browser::new(&app);
        for _ in 0..5 {
            browser
                .submit("/reset", "/reset", &[("email", EDITOR)])
                .await
                .expect(200);
        }
        let page = browser
            .submit("/reset", "/reset", &[("email", EDITOR)])
            .await;
        page.expect(429);
        assert!(
            page.field_error("email")
                .unwrap()
                .contains("too many requests")
        );
    }
);

db_test!(
    changing_the_password_keeps_this_session_only,
    editor_app(),
    |app: TestApp| async move {
        let browser = Browser::signed_in(&app, EDITOR).await;
        let elsewhere = Browser::signed_in(&app, EDITOR).await;
        let wrong = browser
            .submit(
                "/account",
                "/account",
                &[
                    ("current_password", "nope"),
                    ("password", "another password"),
                    ("password_confirmation", "another password"),
                ],
            )
            .await;
        wrong.expect(422);
        assert_eq!(
            wrong.field_error("current_password").as_deref(),
            Some("is not your current password")
        );
        let done = browser
            .submit(
                "/account",
                "/account",
                &[
                    ("current_password", PASSWORD),
                    ("password", "another password"),
                    ("password_confirmation", "another password"),
                ],
            )
            .await;
        done.expect(303);
        browser
            .follow(&done)
            .await
            .expect(200)
            .expect_text("Your password is changed");
        elsewhere.get("/account").await.expect(303);
        Browser::new(&app)
            .sign_in(EDITOR, "another password")
            .await
            .expect(303);
    }
);

db_test!(
    pages_carry_the_security_headers,
    editor_app(),
    |app: TestApp| async move {
        let page = Browser::new(&app).get("/login").await;
        let csp = page.header("content-security-policy").unwrap();
        assert!(
            csp.contains("frame-ancestors 'none'") && csp.contains("script-src 'self'"),
            "{csp}"
        );
        assert!(!csp.contains("unsafe-inline"), "{csp}");
        assert_eq!(page.header("x-content-type-options"), Some("nosniff"));
        assert_eq!(page.header("x-frame-options"), Some("DENY"));
        assert_eq!(page.header("referrer-policy"), Some("same-origin"));
    }
);

/// What a second visit of `path` costs the database, and the page.
async fn statements_of(world: &World, browser: &Browser<'_>, path: &str) -> (u64, Page) {
    let counter = &world.app.state.services.counters.db_statements;
    // The first visit takes what the sign-in left (a flash message).
    browser.get(path).await.expect(200);
    let before = counter.load(Ordering::Relaxed);
    let page = browser.get(path).await;
    (counter.load(Ordering::Relaxed) - before, page)
}

db_test!(
    a_signed_in_page_reads_its_viewer_in_one_statement,
    World::builder().config(|config| {
        // Nothing else reads the database meanwhile.
        config.mail_worker = false;
        config.stats_flush_secs = 0;
    }),
    |app: TestApp| async move {
        let world = World::new(app).await;
        world.pending_entry("Waiting").await;
        let anonymous = Browser::new(&world.app);
        let editor = Browser::signed_in(&world.app, "editor@example.org").await;
        let moderator = Browser::signed_in(&world.app, "mod@example.org").await;
        let (page_alone, _) = statements_of(&world, &anonymous, "/groups").await;
        let (for_editor, _) = statements_of(&world, &editor, "/groups").await;
        assert_eq!(
            for_editor - page_alone,
            2,
            "the session, then the viewer with their groups"
        );
        let (for_moderator, page) = statements_of(&world, &moderator, "/groups").await;
        assert_eq!(
            for_moderator - page_alone,
            2,
            "the moderation queue is counted with the viewer"
        );
        page.expect_text("<span class=\"count\">1<");
        // A removed group's entries leave the count.
        world
            .app
            .patch(
                "/api/v1/groups/alpha",
                Some(&world.admin),
                json!({"status": "removed"}),
            )
            .await
            .expect(200);
        moderator
            .get("/groups")
            .await
            .expect_text("<span class=\"count\">0<");
    }
);
