//! Each network's error paths: a refused token (401) and a refused post
//! (422) fail the post at once with the error shown, and retry sends it
//! again; a rate limit (429) is retried after the `Retry-After` asked for;
//! a server that does not answer times out and is retried.

use newsfeed::entities::delivery;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;

use super::fakes::{Answer, Fake, Network};
use super::*;
use crate::common::TestApp;

async fn publish(world: &World, title: &str) -> i64 {
    world.publish(json!({"title": title}), json!({})).await
}

/// A post that failed for good says why.
async fn fails_with(world: &World, fake: &Fake, answer: Answer, code: &str) -> Value {
    fake.answer(answer);
    let id = publish(world, &format!("Refused {code}")).await;
    let mut post = first_post_with_status(world, id, "failed").await;
    let error = post["error"].as_str().unwrap();
    assert!(error.contains(code), "{post}");
    assert_no_secret(error);
    post["entry"] = json!(id);
    post
}

async fn error_paths(app: TestApp, network: Network) {
    let logs = captured_logs();
    let fake = Fake::start(network).await;
    let world = World::new(app).await;
    connect(&world, network, &fake).await;

    let refused = fails_with(&world, &fake, Answer::Error(401, None), "401").await;
    fails_with(&world, &fake, Answer::Error(422, None), "422").await;

    // Retried by hand once the network takes it.
    fake.answer(Answer::Success);
    let entry = refused["entry"].as_i64().unwrap();
    let retry = format!(
        "/api/v1/entries/{entry}/syndication/{}/retry",
        refused["post"]
    );
    world
        .app
        .post(&retry, Some(&world.outsider), json!({}))
        .await
        .expect_problem(404, "not-found");
    world
        .app
        .post(&retry, Some(&world.editor), json!({}))
        .await
        .expect(200);
    first_post_with_status(&world, entry, "posted").await;
    world
        .app
        .post(&retry, Some(&world.editor), json!({}))
        .await
        .expect_problem(409, "conflict");

    // A rate limit: tried again no sooner than asked.
    fake.answer(Answer::Error(429, Some(600)));
    let limited = publish(&world, "Rate limited").await;
    let post = eventually(
        "a rate-limited attempt",
        || async { posts(&world, limited).await[0].clone() },
        |post| {
            post["error"]
                .as_str()
                .is_some_and(|error| error.contains("429"))
        },
    )
    .await;
    assert_eq!(post["status"], "pending");
    let queued = delivery::Entity::find()
        .filter(delivery::Column::EntryId.eq(limited))
        .one(&world.app.state.services.db)
        .await
        .unwrap()
        .unwrap();
    assert!(
        queued.next_attempt_at >= crate::common::now() + 590,
        "retried after {} s",
        queued.next_attempt_at - crate::common::now()
    );

    // No answer: the attempt times out and waits for the next.
    fake.answer(Answer::Hang);
    let silent = publish(&world, "Unanswered").await;
    let post = eventually(
        "a timed-out attempt",
        || async { posts(&world, silent).await[0].clone() },
        |post| {
            post["error"]
                .as_str()
                .is_some_and(|error| !error.is_empty())
        },
    )
    .await;
    assert_eq!(post["status"], "pending");
    assert!(
        post["error"].as_str().unwrap().contains("timed out"),
        "{post}"
    );
    assert_no_secret(&post.to_string());
    assert_no_secret(&String::from_utf8_lossy(&logs.lock().unwrap()));
}

db_test!(
    mastodon_errors,
    world_builder(),
    |app: TestApp| async move {
        error_paths(app, Network::Mastodon).await;
    }
);

db_test!(bluesky_errors, world_builder(), |app: TestApp| async move {
    error_paths(app, Network::Bluesky).await;
});

db_test!(
    telegram_errors,
    world_builder(),
    |app: TestApp| async move {
        error_paths(app, Network::Telegram).await;
    }
);
