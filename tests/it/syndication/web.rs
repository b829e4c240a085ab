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
