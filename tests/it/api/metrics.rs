//! `/metrics`: what an operator's Prometheus scrapes.

use serde_json::json;

use crate::api::support::entry_in;
use crate::common::{self, World};

/// The value of the sample `line` starts with (`name{labels}`), if any.
fn sample(text: &str, line: &str) -> Option<f64> {
    text.lines()
        .find(|l| l.starts_with(line) && l[line.len()..].starts_with(' '))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|value| value.parse().ok())
}

db_test!(
    metrics_count_requests_by_template_and_read_the_service,
    |app: common::TestApp| async move {
        let w = World::new(app).await;
        let app = &w.app;
        entry_in(&w, "pending", "waiting").await;
        for id in [1, 2, 3, 999] {
            app.get(&format!("/api/v1/entries/{id}"), Some(&w.admin))
                .await;
        }
        // Feeds count under their templates too (they are answered ahead of
        // the route tree).
        app.get("/feed.rss", None).await.expect(200);
        app.get("/groups/alpha/feed.ics", None).await.expect(200);
        app.get("/groups/beta/feed.ics", None).await.expect(200);
        app.get("/?json=1", None).await.expect(200);
        app.get("/no/such/page/1", None).await;
        app.get("/no/such/page/2", None).await;
        app.post(
            "/api/v1/auth/login",
            None,
            json!({"email": "editor@example.org", "password": "wrong"}),
        )
        .await
        .expect_problem(401, "unauthorized");
        let reply = app.get("/metrics", None).await;
        reply.expect(200);
        let text = &reply.text;
        // One label set per template, however many ids were asked for.
        assert_eq!(
            // entry_in read it once too.
            sample(
                text,
                r#"newsfeed_http_requests_total{route="/api/v1/entries/{id}",method="GET",status="200"}"#
            ),
            Some(2.0),
            "{text}"
        );
        assert_eq!(
            sample(
                text,
                r#"newsfeed_http_requests_total{route="/api/v1/entries/{id}",method="GET",status="404"}"#
            ),
            Some(3.0),
            "{text}"
        );
        assert_eq!(
            sample(
                text,
                r#"newsfeed_http_requests_total{route="other",method="GET",status="404"}"#
            ),
            Some(2.0),
            "{text}"
        );
        assert!(
            !text.contains("/no/such/page"),
            "raw paths never become labels"
        );
        assert!(
            sample(
                text,
                r#"newsfeed_http_request_duration_seconds_count{route="/api/v1/entries/{id}"}"#
            ) == Some(5.0),
            "{text}"
        );
        assert_eq!(
            sample(text, "newsfeed_moderation_pending"),
            Some(1.0),
            "{text}"
        );
        assert_eq!(
            sample(text, "newsfeed_login_failures_total"),
            Some(1.0),
            "{text}"
        );
        assert_eq!(
            sample(text, "newsfeed_rate_limited_total"),
            Some(0.0),
            "{text}"
        );
        assert_eq!(
            sample(text, "newsfeed_password_checks_queued"),
            Some(0.0),
            "{text}"
        );
        assert!(
            sample(text, "newsfeed_feed_rebuilds_total").is_some_and(|n| n >= 1.0),
            "{text}"
        );
        assert_eq!(
            sample(text, "newsfeed_feed_live_entries"),
            Some(0.0),
            "{text}"
        );
        assert!(sample(text, "newsfeed_feed_snapshot_age_seconds").is_some_and(|age| age >= 0.0));
        for (line, count) in [
            (
                r#"newsfeed_http_requests_total{route="/feed.rss",method="GET",status="200"}"#,
                1.0,
            ),
            (
                r#"newsfeed_http_requests_total{route="/groups/{slug}/feed.ics",method="GET",status="200"}"#,
                2.0,
            ),
            (
                r#"newsfeed_http_requests_total{route="/",method="GET",status="200"}"#,
                1.0,
            ),
        ] {
            assert_eq!(sample(text, line), Some(count), "{line}\n{text}");
        }
        // The submission's digest to the moderators waits in the outbox.
        assert!(
            sample(text, "newsfeed_mail_waiting").is_some_and(|n| n >= 1.0),
            "{text}"
        );
        assert_eq!(sample(text, "newsfeed_mail_failed"), Some(0.0), "{text}");
    }
);

db_test!(
    concurrent_approvals_share_snapshot_rebuilds,
    |app: common::TestApp| async move {
        let w = World::new(app).await;
        let app = &w.app;
        let mut ids = Vec::new();
        for n in 0..100 {
            ids.push(w.pending_entry(&format!("At once {n}")).await);
        }
        let rebuilds = || async {
            let text = app.get("/metrics", None).await.text;
            sample(&text, "newsfeed_feed_rebuilds_total").expect("rebuild counter")
        };
        let before = rebuilds().await;
        let paths: Vec<String> = ids
            .iter()
            .map(|id| format!("/api/v1/moderation/entries/{id}/approve"))
            .collect();
        let approvals = paths
            .iter()
            .map(|path| app.post(path, Some(&w.moderator), serde_json::json!({})));
        for reply in futures_util::future::join_all(approvals).await {
            reply.expect(200);
        }
        // Each approval returned once its entry was published: all are live now.
        let live = app.get("/feed.json", None).await.json();
        let titles = live["items"].as_array().expect("items").len();
        assert_eq!(titles, 20, "the feed is full of them (--feed-max-items)");
        let home = app.get("/?json=1", None).await.json();
        assert_eq!(home.as_array().expect("array").len(), 20);
        let shared = rebuilds().await - before;
        assert!(
            (1.0..=50.0).contains(&shared),
            "100 concurrent approvals caused {shared} rebuilds"
        );
    }
);
