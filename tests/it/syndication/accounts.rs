//! Accounts: admins connect site-wide ones and any group's, owners their
//! group's; credentials go in and never come out; bad input is a 4xx problem.

use newsfeed::entities::syndication_account;
use sea_orm::EntityTrait;
use serde_json::json;

use super::fakes::{MASTODON_TOKEN, TELEGRAM_CHAT, TELEGRAM_TOKEN};
use super::*;
use crate::common::TestApp;

const ACCOUNTS: &str = "/api/v1/syndication/accounts";

db_test!(
    admins_and_owners_connect_accounts_whose_credentials_never_come_back,
    World::builder(),
    |app: TestApp| async move {
        let world = World::new(app).await;
        let app = &world.app;
        let mastodon = json!({"network": "mastodon", "server": "https://mastodon.example/",
                              "credentials": {"access_token": MASTODON_TOKEN}});
        let site = app
            .post(ACCOUNTS, Some(&world.admin), mastodon.clone())
            .await;
        site.expect(201);
        assert_no_secret(&site.text);
        let site = site.json();
        assert_eq!(site["network"], "mastodon");
        assert_eq!(site["group"], Value::Null);
        assert_eq!(site["server"], "https://mastodon.example");

        let telegram = json!({"network": "telegram", "group": "alpha",
                              "credentials": {"bot_token": TELEGRAM_TOKEN, "chat_id": TELEGRAM_CHAT}});
        let own = app
            .post(ACCOUNTS, Some(&world.owner), telegram.clone())
            .await;
        own.expect(201);
        assert_no_secret(&own.text);
        let own = own.json();
        assert_eq!(own["group"], "alpha");
        assert_eq!(own["server"], "https://api.telegram.org");

        // Owners connect only their group's; editors and others none.
        app.post(ACCOUNTS, Some(&world.owner), mastodon.clone())
            .await
            .expect_problem(403, "forbidden");
        let mut beta = telegram.clone();
        beta["group"] = json!("beta");
        app.post(ACCOUNTS, Some(&world.owner), beta.clone())
            .await
            .expect_problem(403, "forbidden");
        for token in [
            &world.editor,
            &world.other_editor,
            &world.moderator,
            &world.outsider,
        ] {
            app.post(ACCOUNTS, Some(token), telegram.clone())
                .await
                .expect_problem(403, "forbidden");
        }
        app.post(ACCOUNTS, Some(&world.other_editor), beta)
            .await
            .expect_problem(403, "forbidden");
        app.get(ACCOUNTS, Some(&world.editor))
            .await
            .expect_problem(403, "forbidden");

        // Each sees what they manage; nobody sees credentials.
        let all = app.get(ACCOUNTS, Some(&world.admin)).await;
        assert_no_secret(&all.expect(200).text);
        assert_eq!(all.json().as_array().unwrap().len(), 2);
        let owned = app
            .get(ACCOUNTS, Some(&world.owner))
            .await
            .expect(200)
            .json();
        assert_eq!(owned.as_array().unwrap().len(), 1);
        assert_eq!(owned[0]["id"], own["id"]);
        // Stored sealed.
        for row in syndication_account::Entity::find()
            .all(&app.state.services.db)
            .await
            .unwrap()
        {
            assert_no_secret(&row.credentials);
            assert_no_secret(&format!("{row:?}"));
            assert!(!row.credentials.contains(TELEGRAM_CHAT));
        }

        // An owner cannot remove the site's account; removing one's own works.
        let site_path = format!("{ACCOUNTS}/{}", site["id"]);
        app.delete(&site_path, Some(&world.owner))
            .await
            .expect_problem(404, "not-found");
        app.delete(&site_path, Some(&world.other_editor))
            .await
            .expect_problem(404, "not-found");
        app.delete(&format!("{ACCOUNTS}/{}", own["id"]), Some(&world.owner))
            .await
            .expect(204);
        app.delete(&site_path, Some(&world.admin)).await.expect(204);
        let left = app
            .get(ACCOUNTS, Some(&world.admin))
            .await
            .expect(200)
            .json();
        assert_eq!(left, json!([]));
    }
);

db_test!(
    bad_accounts_are_refused_with_the_field_at_fault,
    World::builder(),
    |app: TestApp| async move {
        let world = World::new(app).await;
        let post = |body: Value| {
            let (app, admin) = (&world.app, world.admin.clone());
            async move { app.post(ACCOUNTS, Some(&admin), body).await }
        };
        let mastodon = |server: &str, credentials: Value| json!({"network": "mastodon", "server": server, "credentials": credentials});
        let token = json!({"access_token": MASTODON_TOKEN});
        for server in [
            "http://mastodon.example",
            "mastodon.example",
            "https://mastodon.example/api?x=1",
            "https://user:pw@mastodon.example",
            "https://mastodon.example\u{0}x",
        ] {
            let reply = post(mastodon(server, token.clone())).await;
            assert_no_secret(&reply.text);
            reply.expect_field_error("server");
        }
        post(json!({"network": "mastodon", "credentials": token.clone()}))
            .await
            .expect_field_error("server");
        post(mastodon("https://m.example", json!({})))
            .await
            .expect_field_error("credentials.access_token");
        post(mastodon(
            "https://m.example",
            json!({"access_token": "   "}),
        ))
        .await
        .expect_field_error("credentials.access_token");
        let reply = post(mastodon(
            "https://m.example",
            json!({"access_token": format!("{MASTODON_TOKEN}\r\nX-Evil: 1")}),
        ))
        .await;
        assert_no_secret(&reply.text);
        reply.expect_field_error("credentials.access_token");
        post(mastodon(
            "https://m.example",
            json!({"access_token": "t", "bot_token": "1:x"}),
        ))
        .await
        .expect_field_error("credentials.bot_token");
        post(json!({"network": "telegram", "credentials": {"bot_token": "1:a/../getMe", "chat_id": "1"}}))
            .await
            .expect_field_error("credentials.bot_token");
        post(json!({"network": "bluesky", "credentials": {"handle": "me.example"}}))
            .await
            .expect_field_error("credentials.app_password");
        for body in [
            json!({"network": "myspace", "server": "https://m.example", "credentials": token.clone()}),
            json!({"network": "mastodon", "server": "https://m.example", "credentials": token.clone(), "admin": true}),
            json!({"network": "mastodon", "server": "https://m.example", "credentials": {"password": "x"}}),
        ] {
            let reply = post(body).await;
            assert!(
                matches!(reply.status.as_u16(), 400 | 422),
                "{} {}",
                reply.status,
                reply.text
            );
            assert_eq!(
                reply.header("content-type"),
                Some("application/problem+json")
            );
        }
        post(json!({"network": "telegram", "group": "nowhere",
                    "credentials": {"bot_token": TELEGRAM_TOKEN, "chat_id": TELEGRAM_CHAT}}))
        .await
        .expect_problem(404, "not-found");
    }
);
