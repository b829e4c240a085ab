//! Links that set a password go only to the account's own address or to an
//! admin; credentials and sessions end when the password changes.

use std::collections::BTreeMap;

use newsfeed::service::sessions;
use newsfeed::web::session::DbSessions;
use poem::session::SessionStorage;
use serde_json::{Value, json};

use crate::common::{PASSWORD, TestApp, World};
use crate::web::support::{Browser, Page};

const OWNER: &str = "owner@example.org";
const EDITOR: &str = "editor@example.org";

/// The link a page shows, as a path.
fn shown_link(page: &Page) -> Option<String> {
    let start = page.text.find("/invite/")?;
    Some(
        page.text[start..]
            .chars()
            .take_while(|c| *c != '"' && *c != '<')
            .collect(),
    )
}

/// What the flash of an owner's "add a person" says, with the address cut out.
async fn owner_adds(owner: &Browser<'_>, email: &str) -> Page {
    let added = owner
        .post(
            "/admin/groups/alpha/people",
            &[("email", email), ("role", "editor")],
        )
        .await;
    added.expect(303);
    owner.follow(&added).await
}

fn notice(page: &Page, email: &str) -> String {
    let start = page.text.find(email).expect("the notice names the address");
    page.text[start + email.len()..]
        .chars()
        .take_while(|c| *c != '<')
        .collect()
}

db_test!(
    an_owner_cannot_get_a_link_for_an_existing_account,
    World::builder(),
    |app: TestApp| async move {
        let world = World::new(app).await;
        let admin = Browser::signed_in(&world.app, "admin@example.org").await;
        // An admin invites a future admin, who has not answered yet.
        let invited = admin
            .submit(
                "/admin/users",
                "/admin/users",
                &[
                    ("email", "boss@example.org"),
                    ("role", "admin"),
                    ("group", ""),
                ],
            )
            .await;
        let pending_link = shown_link(&admin.follow(&invited).await).expect("the admin's link");
        // The owner of alpha "invites" that address: it only joins the group.
        let owner = Browser::signed_in(&world.app, OWNER).await;
        owner.get("/admin/groups/alpha").await.expect(200);
        let page = owner_adds(&owner, "boss@example.org").await;
        page.expect_text("boss@example.org is editor of the group");
        assert_eq!(
            shown_link(&page),
            None,
            "no link for someone else's account"
        );
        // The admin's link was not cancelled, and no other link works.
        Browser::new(&world.app)
            .get(&pending_link)
            .await
            .expect(200)
            .expect_text("boss@example.org");
        let outbox = world
            .app
            .get("/api/v1/outbox", Some(&world.admin))
            .await
            .expect(200)
            .json();
        let to_boss: Vec<&Value> = outbox["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|mail| mail["recipient"] == "boss@example.org")
            .collect();
        let kinds: Vec<&str> = to_boss
            .iter()
            .map(|mail| mail["kind"].as_str().unwrap())
            .collect();
        assert_eq!(kinds, ["membership", "invitation"], "{outbox}");
        let members = world
            .app
            .get("/api/v1/groups/alpha/members", Some(&world.owner))
            .await
            .json();
        assert!(
            members
                .as_array()
                .unwrap()
                .iter()
                .any(|m| m["email"] == "boss@example.org" && m["role"] == "editor"),
            "{members}"
        );
        // The owner's answer is the same for an account with a password.
        let with_password = owner_adds(&owner, "outsider@example.org").await;
        assert_eq!(shown_link(&with_password), None);
        assert_eq!(
            notice(&with_password, "outsider@example.org"),
            notice(&page, "boss@example.org")
        );
        // An admin may still renew a link for an account that never chose a password.
        admin.get("/admin/groups/alpha").await.expect(200);
        let renewed = admin
            .post(
                "/admin/groups/alpha/people",
                &[("email", "boss@example.org"), ("role", "editor")],
            )
            .await;
        let renewed = shown_link(&admin.follow(&renewed).await).expect("an admin's new link");
        assert_ne!(renewed, pending_link);
        Browser::new(&world.app)
            .get(&pending_link)
            .await
            .expect(404);
    }
);

async fn login_token(app: &TestApp, email: &str, password: &str) -> String {
    app.post(
        "/api/v1/auth/login",
        None,
        json!({"email": email, "password": password}),
    )
    .await
    .expect(200)
    .json()["access_token"]
        .as_str()
        .unwrap()
        .to_string()
}

db_test!(
    login_tokens_end_with_a_password_change_or_reset,
    World::builder(),
    |app: TestApp| async move {
        let world = World::new(app).await;
        let app = &world.app;
        let before = login_token(app, EDITOR, PASSWORD).await;
        app.get("/api/v1/me", Some(&before)).await.expect(200);
        let browser = Browser::signed_in(app, EDITOR).await;
        browser
            .submit(
                "/account",
                "/account",
                &[
                    ("current_password", PASSWORD),
                    ("password", "a changed password"),
                    ("password_confirmation", "a changed password"),
                ],
            )
            .await
            .expect(303);
        app.get("/api/v1/me", Some(&before))
            .await
            .expect_problem(401, "unauthorized");
        // A reset ends the tokens issued since, too.
        let changed = login_token(app, EDITOR, "a changed password").await;
        app.get("/api/v1/me", Some(&changed)).await.expect(200);
        let issued = newsfeed::service::accounts::request_reset(&app.state.services, EDITOR, "t")
            .await
            .unwrap()
            .unwrap();
        let link = issued.link.replace(&app.state.config.public_base_url(), "");
        Browser::new(app)
            .submit(
                &link,
                &link,
                &[
                    ("password", "a reset password"),
                    ("password_confirmation", "a reset password"),
                ],
            )
            .await
            .expect(303);
        app.get("/api/v1/me", Some(&changed))
            .await
            .expect_problem(401, "unauthorized");
        let fresh = login_token(app, EDITOR, "a reset password").await;
        app.get("/api/v1/me", Some(&fresh)).await.expect(200);
    }
);

db_test!(
    a_revoked_session_stays_dead_when_a_late_request_writes_it,
    World::builder(),
    |app: TestApp| async move {
        let world = World::new(app).await;
        let storage = DbSessions::new(world.app.state.services.clone());
        let ttl = Some(std::time::Duration::from_secs(3600));
        let user_id = world
            .app
            .get("/api/v1/me", Some(&world.editor))
            .await
            .json()["id"]
            .as_i64()
            .unwrap();
        let signed_in = BTreeMap::from([(sessions::USER_KEY.to_string(), json!(user_id))]);
        // Sign-in writes a new session.
        storage
            .update_session("session-a", &signed_in, ttl)
            .await
            .unwrap();
        // A request loads it, a password change ends it, then the request
        // writes a flash into it.
        let mut loaded = storage.load_session("session-a").await.unwrap().unwrap();
        sessions::revoke_user(&world.app.state.services.db, user_id)
            .await
            .unwrap();
        loaded.insert("flash".into(), json!("saved"));
        storage
            .update_session("session-a", &loaded, ttl)
            .await
            .unwrap();
        assert_eq!(storage.load_session("session-a").await.unwrap(), None);
        // A live session is still updated, and a renewal (the entries of one
        // id written under a new one) creates the new session.
        storage
            .update_session("session-b", &signed_in, ttl)
            .await
            .unwrap();
        let mut loaded = storage.load_session("session-b").await.unwrap().unwrap();
        loaded.insert("flash".into(), json!("saved"));
        storage
            .update_session("session-b", &loaded, ttl)
            .await
            .unwrap();
        let again = storage.load_session("session-b").await.unwrap().unwrap();
        assert_eq!(again["flash"], "saved");
        storage
            .update_session("session-c", &again, ttl)
            .await
            .unwrap();
        assert_eq!(
            storage.load_session("session-c").await.unwrap().unwrap()["flash"],
            "saved"
        );
        // Through the pages: a flash written by a page after sign-out elsewhere
        // does not sign the browser back in.
        let browser = Browser::signed_in(&world.app, EDITOR).await;
        browser.get("/account").await.expect(200);
        sessions::revoke_user(&world.app.state.services.db, user_id)
            .await
            .unwrap();
        browser.get("/account").await.expect(303);
        browser.get("/my/entries").await.expect(303);
    }
);

/// The status of asking for a reset of `email`'s password from `browser`.
async fn ask(browser: &Browser<'_>, email: &str) -> u16 {
    browser
        .submit("/reset", "/reset", &[("email", email)])
        .await
        .status
        .as_u16()
}

db_test!(
    strangers_cannot_use_up_a_persons_resets,
    World::builder().config(|c| c.trust_proxy = true),
    |app: TestApp| async move {
        let world = World::new(app).await;
        let from = |address: &str| Browser::new(&world.app).with_header("x-forwarded-for", address);
        let stranger = from("203.0.113.9");
        for _ in 0..5 {
            assert_eq!(ask(&stranger, EDITOR).await, 200);
        }
        assert_eq!(ask(&stranger, EDITOR).await, 429, "per account and address");
        // The account's owner, from their own address, still gets a link.
        let owner = from("198.51.100.7");
        assert_eq!(ask(&owner, EDITOR).await, 200);
        // One address cannot go on through every account either.
        for n in 0..15 {
            assert_eq!(ask(&stranger, &format!("p{n}@example.org")).await, 200);
        }
        assert_eq!(
            ask(&stranger, "another@example.org").await,
            429,
            "per address"
        );
    }
);

db_test!(
    a_strangers_reset_request_cancels_nothing_and_a_new_password_ends_every_link,
    World::builder(),
    |app: TestApp| async move {
        let world = World::new(app).await;
        let app = &world.app;
        let services = &app.state.services;
        let path = |link: &str| link.replace(&app.state.config.public_base_url(), "");
        let reset = |email: &'static str| async move {
            let issued = newsfeed::service::accounts::request_reset(services, email, "t")
                .await
                .unwrap()
                .unwrap();
            path(&issued.link)
        };
        // The owner asks; then a stranger asks again for the same account.
        let owners = reset(EDITOR).await;
        let strangers = reset(EDITOR).await;
        let browser = Browser::new(app);
        browser.get(&owners).await.expect(200);
        browser.get(&strangers).await.expect(200);
        browser
            .post(
                &owners,
                &[
                    ("password", "the owner's choice"),
                    ("password_confirmation", "the owner's choice"),
                ],
            )
            .await
            .expect(303);
        Browser::new(app).get(&strangers).await.expect(404);
        // An invitation ends too once a reset set the password.
        let admin = Browser::signed_in(app, "admin@example.org").await;
        let invited = admin
            .submit(
                "/admin/users",
                "/admin/users",
                &[
                    ("email", "late@example.org"),
                    ("role", "member"),
                    ("group", ""),
                ],
            )
            .await;
        let invitation = shown_link(&admin.follow(&invited).await).unwrap();
        let own_reset = reset("late@example.org").await;
        let late = Browser::new(app);
        late.get(&own_reset).await.expect(200);
        late.post(
            &own_reset,
            &[
                ("password", "set by a reset"),
                ("password_confirmation", "set by a reset"),
            ],
        )
        .await
        .expect(303);
        Browser::new(app).get(&invitation).await.expect(404);
    }
);
