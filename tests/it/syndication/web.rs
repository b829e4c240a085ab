//! The group's entry page shows each post's text, link or error, and sends
//! a failed one again; never a credential.

use super::fakes::{Answer, Fake, Network};
use super::*;
use crate::common::TestApp;
use crate::web::support::Browser;

db_test!(
    the_entry_page_shows_the_posts_and_sends_a_failed_one_again,
    world_builder(),
    |app: TestApp| async move {
        let fake = Fake::start(Network::Telegram).await;
        let world = World::new(app).await;
        connect(&world, Network::Telegram, &fake).await;
        fake.answer(Answer::Error(401, None));
        let id = world.publish(json!({"title": "Shown"}), json!({})).await;
        first_post_with_status(&world, id, "failed").await;

        let browser = Browser::signed_in(&world.app, "editor@example.org").await;
        let page_path = format!("/my/entries/{id}");
        let page = browser.get(&page_path).await;
        page.expect(200)
            .expect_text("On social networks")
            .expect_text("Telegram")
            .expect_text("failed")
            .expect_text("401")
            .expect_text("Send it again");
        assert_no_secret(&page.text);
        let post = posts(&world, id).await[0]["post"].to_string();

        fake.answer(Answer::Success);
        let action = format!("/my/entries/{id}/retry-post");
        browser
            .submit(&page_path, &action, &[("post", &post)])
            .await
            .expect(303);
        first_post_with_status(&world, id, "posted").await;
        let page = browser.get(&page_path).await;
        page.expect(200)
            .expect_text("posted")
            .expect_text("https://t.me/qgisnews/4242");
        assert!(!page.has("Send it again"));
        assert_no_secret(&page.text);

        // Another group's editor cannot send it.
        let other = Browser::signed_in(&world.app, "other@example.org").await;
        let refused = other
            .submit("/my/entries", &action, &[("post", &post)])
            .await;
        assert!(
            matches!(refused.status.as_u16(), 403 | 404),
            "{}",
            refused.status
        );
    }
);

db_test!(
    moderators_see_and_choose_what_each_network_gets_before_approving,
    world_builder(),
    |app: TestApp| async move {
        let fake = Fake::start(Network::Bluesky).await;
        let world = World::new(app).await;
        connect(&world, Network::Bluesky, &fake).await;
        let id = world.pending_entry("Reviewed words").await;
        let browser = Browser::signed_in(&world.app, "mod@example.org").await;
        let page_path = format!("/moderation/{id}");
        let page = browser.get(&page_path).await;
        page.expect(200)
            .expect_text("What the social networks get")
            .expect_text("name=\"syndication_bluesky\"")
            .expect_text("Reviewed words")
            .expect_text("at most 300 graphemes");
        assert_no_secret(&page.text);

        let action = format!("/moderation/{id}/network-text");
        let too_long = "x".repeat(301);
        let refused = browser
            .post(
                &action,
                &[("network", "bluesky"), ("syndication_bluesky", &too_long)],
            )
            .await;
        refused.expect(422);
        assert!(
            refused
                .field_error("syndication_bluesky")
                .is_some_and(|error| error.contains("300")),
            "{}",
            refused.text
        );
        browser
            .submit(
                &page_path,
                &action,
                &[
                    ("network", "bluesky"),
                    ("syndication_bluesky", "Short and chosen"),
                ],
            )
            .await
            .expect(303);
        let planned = posts(&world, id).await;
        assert_eq!(planned[0]["text"], "Short and chosen");
        assert_eq!(planned[0]["chosen"], true);
        browser
            .get(&page_path)
            .await
            .expect(200)
            .expect_text("Chosen by a moderator");
    }
);
