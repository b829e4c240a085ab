//! Mail goes out once, with the right recipient, subject and link, survives
//! a server that is down and a process that dies between commit and send.

use std::time::Duration;

use newsfeed::clock::Clock;
use serde_json::{Value, json};

use crate::common::{self, TestApp, World};
use crate::mail::smtp::SmtpSink;

const START: i64 = 1_900_000_000;

fn world_with_mail(url: String) -> common::TestAppBuilder {
    World::builder()
        .clock(Clock::manual(START))
        .config(move |c| c.smtp_url = Some(url))
}

/// The outbox as the admin sees it, once `done` holds (waits up to 15 s).
pub async fn outbox_when(app: &TestApp, admin: &str, done: impl Fn(&Value) -> bool) -> Value {
    for _ in 0..300 {
        let page = app
            .get("/api/v1/outbox", Some(admin))
            .await
            .expect(200)
            .json();
        if done(&page) {
            return page;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!(
        "the outbox never got there: {}",
        app.get("/api/v1/outbox", Some(admin)).await.text
    );
}

/// Returns once the mail worker has finished two rounds that started after
/// this call: whatever it would send now, it has sent.
pub async fn worker_looked(app: &TestApp) {
    let rounds = || {
        app.state
            .services
            .counters
            .mail_rounds
            .load(std::sync::atomic::Ordering::Relaxed)
    };
    let start = rounds();
    for _ in 0..300 {
        if rounds() >= start + 2 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the mail worker did not look for mail");
}

/// A moderator's `action` on entry `id` with `comment`.
async fn moderate(world: &World, id: i64, action: &str, comment: Option<&str>) {
    world
        .app
        .post(
            &format!("/api/v1/moderation/entries/{id}/{action}"),
            Some(&world.moderator),
            comment.map_or(json!({}), |comment| json!({"comment": comment})),
        )
        .await
        .expect(200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_decision_reaches_the_author_with_the_comment_and_a_link() {
    let sink = SmtpSink::running();
    let world = World::new(world_with_mail(sink.url()).sqlite().await).await;
    let id = world.pending_entry("Spring meetup").await;
    moderate(&world, id, "request-changes", Some("Please add the venue.")).await;
    let received = sink.wait_for(1).await;
    let mail = &received[0];
    assert_eq!(mail.to, ["editor@example.org"]);
    assert_eq!(mail.topic(), "Asked for changes to: Spring meetup");
    assert!(mail.data.contains("Please add the venue."), "{}", mail.data);
    let link = format!(
        "{}/my/entries/{id}",
        newsfeed::Config::default().public_base_url()
    );
    assert!(mail.data.contains(&link), "{}", mail.data);
    assert!(mail.data.contains("text/plain") && mail.data.contains("text/html"));
    assert!(mail.data.contains("Message-ID: <outbox-"));
    let page = outbox_when(&world.app, &world.admin, |page| page["counts"]["sent"] == 1).await;
    let row = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|row| row["kind"] == "decision")
        .unwrap();
    assert_eq!(row["attempts"], 1);
    assert_eq!(row["status"], "sent");
    assert_eq!(row["recipient"], "editor@example.org");
}

db_test!(
    submissions_within_minutes_make_one_digest_per_moderator,
    World::builder().clock(Clock::manual(START)),
    |app: TestApp| async move {
        let sink = SmtpSink::running();
        let app = app.restart(|c| c.smtp_url = Some(sink.url())).await;
        let world = World::new(app).await;
        // The admin does not want submissions; the moderator does.
        world
            .app
            .patch(
                "/api/v1/me/mail-preferences",
                Some(&world.admin),
                json!({"submissions": false}),
            )
            .await
            .expect(200);
        let mut ids = Vec::new();
        for title in ["First", "Second", "Third"] {
            ids.push(world.pending_entry(title).await);
            world.app.clock.advance(60);
        }
        // Nothing goes out while the window collects.
        worker_looked(&world.app).await;
        assert!(sink.received().is_empty(), "{:?}", sink.received());
        world.app.clock.advance(5 * 60);
        let received = sink.wait_for(1).await;
        worker_looked(&world.app).await;
        assert_eq!(
            sink.received().len(),
            1,
            "one digest: {:?}",
            sink.received()
        );
        let digest = &received[0];
        assert_eq!(digest.to, ["mod@example.org"]);
        assert_eq!(digest.topic(), "3 entries to review");
        for id in ids {
            let link = format!("/moderation/{id}");
            assert!(digest.data.contains(&link), "{link} in {}", digest.data);
        }
        let page = outbox_when(&world.app, &world.admin, |page| page["counts"]["sent"] == 3).await;
        assert_eq!(page["counts"]["pending"], 0);
    }
);

db_test!(
    a_server_that_is_down_gets_the_mail_when_it_is_back,
    World::builder().clock(Clock::manual(START)),
    |app: TestApp| async move {
        let mut sink = SmtpSink::down();
        let app = app.restart(|c| c.smtp_url = Some(sink.url())).await;
        let world = World::new(app).await;
        let id = world.pending_entry("Down").await;
        moderate(&world, id, "reject", Some("Duplicate.")).await;
        let decision = |page: &Value| {
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .find(|row| row["kind"] == "decision")
                .cloned()
                .unwrap_or_default()
        };
        let page = outbox_when(&world.app, &world.admin, |page| {
            decision(page)["attempts"] == 1
        })
        .await;
        let row = decision(&page);
        assert_eq!(row["status"], "pending");
        assert!(
            row["last_error"].as_str().is_some_and(|e| !e.is_empty()),
            "{row}"
        );
        // Back-off: not retried before its time, even with the server back.
        sink.start(None);
        worker_looked(&world.app).await;
        assert!(sink.received().is_empty());
        world.app.clock.advance(60);
        let received = sink.wait_for(1).await;
        assert_eq!(received[0].to, ["editor@example.org"]);
        assert_eq!(received[0].topic(), "Rejected: Down");
        let page = outbox_when(&world.app, &world.admin, |page| {
            decision(page)["status"] == "sent"
        })
        .await;
        assert_eq!(decision(&page)["attempts"], 2);
        assert_eq!(decision(&page)["last_error"], Value::Null);
    }
);

db_test!(
    mail_committed_before_a_crash_is_sent_after_the_restart_once,
    World::builder()
        .clock(Clock::manual(START))
        .config(|c| c.mail_worker = false),
    |app: TestApp| async move {
        let sink = SmtpSink::running();
        // The first process commits the mail and dies before its worker sends it.
        let app = app
            .restart(|c| {
                c.mail_worker = false;
                c.smtp_url = Some(sink.url());
            })
            .await;
        let world = World::new(app).await;
        let id = world.pending_entry("Crash").await;
        moderate(&world, id, "approve", None).await;
        let admin = world.admin.clone();
        let page = outbox_when(&world.app, &admin, |page| page["counts"]["pending"] == 3).await;
        assert_eq!(page["counts"]["sent"], 0);
        // The next process finds it and sends it.
        let restarted = world.app.restart(|c| c.mail_worker = true).await;
        let received = sink.wait_for(1).await;
        assert_eq!(received[0].topic(), "Approved: Crash");
        outbox_when(&restarted, &admin, |page| page["counts"]["sent"] == 1).await;
        // Another restart sends nothing twice; the digests of the submission
        // (moderator, admin) go when their window closes.
        let third = restarted.restart(|c| c.mail_worker = true).await;
        third.clock.advance(5 * 60);
        sink.wait_for(3).await;
        worker_looked(&third).await;
        let received = sink.received();
        assert_eq!(received.len(), 3, "each mail exactly once: {received:?}");
        let page = outbox_when(&third, &admin, |page| page["counts"]["sent"] == 3).await;
        assert!(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .all(|row| row["attempts"] == 1)
        );
    }
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_in_the_url_authenticate() {
    let mut sink = SmtpSink::down();
    sink.start(Some(("newsfeed", "s3cret")));
    let url = format!("smtp://newsfeed:s3cret@127.0.0.1:{}", sink.port);
    let world = World::new(world_with_mail(url).sqlite().await).await;
    let id = world.pending_entry("Auth").await;
    moderate(&world, id, "comment", Some("Looks good so far.")).await;
    let received = sink.wait_for(1).await;
    assert_eq!(received[0].topic(), "Commented on: Auth");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_an_smtp_server_mail_is_logged_and_kept() {
    let world = World::new(World::builder().clock(Clock::manual(START)).sqlite().await).await;
    let id = world.pending_entry("Logged").await;
    moderate(&world, id, "approve", None).await;
    let page = outbox_when(&world.app, &world.admin, |page| {
        page["counts"]["logged"] == 1
    })
    .await;
    let row = &page["items"][0];
    assert_eq!(
        row["subject"], "[127.0.0.1] Approved: Logged",
        "the site, by its host"
    );
    assert_eq!(row["status"], "logged");
    // Only admins read the outbox.
    world
        .app
        .get("/api/v1/outbox", Some(&world.moderator))
        .await
        .expect_problem(403, "forbidden");
}
