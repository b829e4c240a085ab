//! An entry that goes live is posted once to each connected account, with
//! its picture, and deleted there when it is unpublished.

use serde_json::Value;

use super::fakes::{self, Fake, Network, Recorded};
use super::*;
use crate::common::TestApp;

/// Publishes a pictured event with an account of `network` connected,
/// waits for its post, unpublishes it and waits for the deletion; returns
/// the requests the fake saw after publication and after unpublication, and the post.
async fn post_and_delete(
    app: TestApp,
    network: Network,
) -> (Vec<Recorded>, Vec<Recorded>, Value, i64) {
    let logs = captured_logs();
    let fake = Fake::start(network).await;
    let world = World::new(app).await;
    connect(&world, network, &fake).await;
    let id = publish_pictured_event(&world, "QGIS Day Bonn").await;
    let post = first_post_with_status(&world, id, "posted").await;
    let created = fake.recorded();
    unpublish(&world, id).await;
    first_post_with_status(&world, id, "deleted").await;
    let all = fake.recorded();
    fake.assert_no_violations();
    // Nothing more is sent for the same changes.
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert_eq!(fake.recorded().len(), all.len());
    let listing = posts(&world, id).await;
    assert_no_secret(&listing.to_string());
    assert_no_secret(&String::from_utf8_lossy(&logs.lock().unwrap()));
    (created.clone(), all[created.len()..].to_vec(), post, id)
}

fn assert_text(post: &Value, id: i64) {
    let text = post["text"].as_str().unwrap();
    assert!(text.starts_with("QGIS Day Bonn\n\n"), "{text}");
    assert!(
        text.contains("(CET) · Bonn") || text.contains("(CEST) · Bonn"),
        "{text}"
    );
    assert!(text.contains("A day of talks"), "{text}");
    assert!(text.ends_with(&format!("/entries/{id}")), "{text}");
}

fn field<'a>(request: &'a Recorded, name: &str) -> &'a str {
    request
        .fields
        .iter()
        .find(|(key, _)| key == name)
        .map_or("", |(_, value)| value.as_str())
}

db_test!(
    mastodon_gets_the_picture_then_the_status_and_loses_it_on_unpublish,
    world_builder(),
    |app: TestApp| async move {
        let (created, deleted, post, id) = post_and_delete(app, Network::Mastodon).await;
        assert_eq!(fakes::method_of(&created), ["POST media", "POST statuses"]);
        assert_eq!(field(&created[0], "description"), "People around a map");
        let status = &created[1];
        assert_eq!(field(status, "media_ids[]"), "22348641");
        assert_eq!(field(status, "visibility"), "public");
        assert_eq!(field(status, "language"), "en");
        assert_eq!(field(status, "status"), post["text"].as_str().unwrap());
        assert_text(&post, id);
        assert_eq!(
            post["url"],
            "https://mastodon.example/@group/103270115826048975"
        );
        assert_eq!(fakes::method_of(&deleted), ["DELETE 103270115826048975"]);
    }
);

db_test!(
    telegram_gets_a_photo_with_its_caption_and_loses_it_on_unpublish,
    world_builder(),
    |app: TestApp| async move {
        let (created, deleted, post, id) = post_and_delete(app, Network::Telegram).await;
        assert_eq!(fakes::method_of(&created), ["POST sendPhoto"]);
        assert_eq!(
            field(&created[0], "caption"),
            post["text"].as_str().unwrap()
        );
        assert_text(&post, id);
        assert_eq!(post["url"], "https://t.me/qgisnews/4242");
        assert_eq!(fakes::method_of(&deleted), ["POST deleteMessage"]);
        assert_eq!(deleted[0].json["message_id"], 4242);
    }
);

db_test!(
    bluesky_gets_a_post_with_link_facets_and_a_card_and_loses_it_on_unpublish,
    world_builder(),
    |app: TestApp| async move {
        let (created, deleted, post, id) = post_and_delete(app, Network::Bluesky).await;
        assert_eq!(
            fakes::method_of(&created),
            [
                "POST com.atproto.server.createSession",
                "POST com.atproto.repo.uploadBlob",
                "POST com.atproto.repo.createRecord"
            ]
        );
        let record = &created[2].json["record"];
        let text = record["text"].as_str().unwrap();
        assert_eq!(text, post["text"].as_str().unwrap());
        assert_text(&post, id);
        let link = &record["facets"][0]["features"][0]["uri"];
        assert!(
            link.as_str().unwrap().ends_with(&format!("/entries/{id}")),
            "{record}"
        );
        let external = &record["embed"]["external"];
        assert_eq!(external["uri"], *link);
        assert_eq!(external["title"], "QGIS Day Bonn");
        assert_eq!(external["thumb"]["ref"]["$link"], "bafkreifakeblob");
        assert_eq!(record["langs"][0], "en");
        assert_eq!(
            post["url"],
            "https://bsky.app/profile/did:plc:fakegroup/post/3kfakerkey"
        );
        assert_eq!(
            fakes::method_of(&deleted),
            [
                "POST com.atproto.server.createSession",
                "POST com.atproto.repo.deleteRecord"
            ]
        );
    }
);

db_test!(
    moderators_choose_a_text_per_network_and_accounts_get_only_their_entries,
    world_builder(),
    |app: TestApp| async move {
        let logs = captured_logs();
        let fake = Fake::start(Network::Bluesky).await;
        let world = World::new(app).await;
        let live_before = world
            .publish(
                serde_json::json!({"title": "Old news"}),
                serde_json::json!({}),
            )
            .await;
        // alpha's own account: beta's entries do not go there.
        world
            .app
            .post(
                "/api/v1/syndication/accounts",
                Some(&world.owner),
                fakes::account(Network::Bluesky, &fake, Some("alpha")),
            )
            .await
            .expect(201);
        let id = world.pending_entry("Chosen words").await;
        let planned = posts(&world, id).await;
        assert_eq!(planned[0]["status"], Value::Null);
        assert_eq!(planned[0]["chosen"], false);
        assert!(
            planned[0]["text"]
                .as_str()
                .unwrap()
                .starts_with("Chosen words")
        );

        let path = format!("/api/v1/entries/{id}/syndication/bluesky");
        let too_long = "é".repeat(301);
        world
            .app
            .call(
                poem::http::Method::PUT,
                &path,
                Some(&world.moderator),
                Some(serde_json::json!({"text": too_long})),
            )
            .await
            .expect_field_error("text");
        world
            .app
            .call(
                poem::http::Method::PUT,
                &path,
                Some(&world.editor),
                Some(serde_json::json!({"text": "Mine"})),
            )
            .await
            .expect_problem(403, "forbidden");
        let chosen = "Bonn, 12 May: https://qgis.example/day 🎉";
        let planned = world
            .app
            .call(
                poem::http::Method::PUT,
                &path,
                Some(&world.moderator),
                Some(serde_json::json!({"text": chosen})),
            )
            .await
            .expect(200)
            .json();
        assert_eq!(planned[0]["text"], chosen);
        assert_eq!(planned[0]["chosen"], true);

        world
            .app
            .post(
                &format!("/api/v1/moderation/entries/{id}/approve"),
                Some(&world.moderator),
                serde_json::json!({}),
            )
            .await
            .expect(200);
        let post = first_post_with_status(&world, id, "posted").await;
        assert_eq!(post["text"], chosen);
        let record = fake
            .recorded()
            .into_iter()
            .find(|request| request.path.ends_with("createRecord"))
            .unwrap()
            .json["record"]
            .clone();
        assert_eq!(record["text"], chosen);
        assert_eq!(
            record["facets"][0]["features"][0]["uri"],
            "https://qgis.example/day"
        );
        fake.assert_no_violations();

        // Published before the account was connected, or another group's: not posted.
        let beta = world
            .app
            .published(&world.other_editor, &world.moderator, "beta", "Beta news")
            .await;
        tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
        assert_eq!(posts(&world, live_before).await[0]["status"], "skipped");
        let beta_posts = world
            .app
            .get(
                &format!("/api/v1/entries/{beta}/syndication"),
                Some(&world.moderator),
            )
            .await
            .expect(200)
            .json();
        assert_eq!(beta_posts, serde_json::json!([]));
        let creates = fake
            .recorded()
            .into_iter()
            .filter(|request| request.path.ends_with("createRecord"))
            .count();
        assert_eq!(creates, 1);
        // The logs speak of the post, never of its credentials.
        let logged = String::from_utf8_lossy(&logs.lock().unwrap()).to_string();
        assert!(logged.contains("cross-posted"), "the logs are captured");
        assert_no_secret(&logged);
    }
);

db_test!(
    a_post_is_deleted_when_its_entry_expires,
    world_builder(),
    |app: TestApp| async move {
        let fake = Fake::start(Network::Telegram).await;
        let world = World::new(app).await;
        connect(&world, Network::Telegram, &fake).await;
        let ends = chrono::Utc::now() + chrono::Duration::seconds(4);
        let id = world
            .publish(
                serde_json::json!({"title": "Short-lived", "publish_to": ends.to_rfc3339()}),
                serde_json::json!({}),
            )
            .await;
        first_post_with_status(&world, id, "posted").await;
        first_post_with_status(&world, id, "deleted").await;
        assert_eq!(
            fakes::method_of(&fake.recorded()),
            ["POST sendMessage", "POST deleteMessage"]
        );
        fake.assert_no_violations();
    }
);
