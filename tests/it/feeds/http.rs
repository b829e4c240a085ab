//! Caching, CORS, HEAD and refusals on every feed route.

use serde_json::json;

use crate::common::now;
use crate::common::{self, World};

use crate::feeds::support::{NEW_QGIS, OLD_QGIS, RawReply, fetch, fetch_raw, pks, publish, qgis};

const ROUTES: [&str; 9] = [
    "/?json=1&lang=en",
    "/feed.json",
    "/feed.rss",
    "/feed.atom",
    "/feed.ics",
    "/groups/alpha/feed.json",
    "/groups/alpha/feed.rss",
    "/groups/alpha/feed.atom",
    "/groups/alpha/feed.ics",
];

db_test!(
    conditional_requests_cors_and_head,
    |app: common::TestApp| async move {
        let world = World::new(app).await;
        let app = &world.app;
        publish(&world, json!({"title": "Cached"}), json!({})).await;
        for route in ROUTES {
            let first = fetch(app, route, &[]).await;
            first.expect(200);
            let etag = first.header("etag").expect("etag").to_string();
            let modified = first
                .header("last-modified")
                .expect("last-modified")
                .to_string();
            assert_eq!(
                first.header("cache-control"),
                Some("public, max-age=60, stale-while-revalidate=600, stale-if-error=86400"),
                "{route}"
            );
            assert_eq!(
                first.header("access-control-allow-origin"),
                Some("*"),
                "{route}"
            );
            let again = fetch(app, route, &[("if-none-match", &etag)]).await;
            again.expect(304);
            assert!(again.text.is_empty());
            assert_eq!(again.header("etag"), Some(etag.as_str()));
            fetch(app, route, &[("if-modified-since", &modified)])
                .await
                .expect(304);
            fetch(app, route, &[("if-none-match", "\"other\"")])
                .await
                .expect(200);
            let head = app.client.head(route).send().await.0;
            assert_eq!(head.status().as_u16(), 200, "HEAD {route}");
            assert_eq!(
                head.headers().get("etag").and_then(|v| v.to_str().ok()),
                Some(etag.as_str())
            );
            assert!(
                head.into_body()
                    .into_bytes()
                    .await
                    .expect("body")
                    .is_empty()
            );
        }
        // A change gives every feed a new ETag.
        let before = fetch(app, "/feed.rss", &[]).await;
        publish(&world, json!({"title": "Newer"}), json!({})).await;
        let after = fetch(
            app,
            "/feed.rss",
            &[("if-none-match", before.header("etag").expect("etag"))],
        )
        .await;
        after.expect(200);
        assert_ne!(after.header("etag"), before.header("etag"));
        // `/` varies by agent (and, like every feed, by encoding); the API
        // is not opened to other sites.
        assert_eq!(
            fetch(app, "/", &[("user-agent", NEW_QGIS)])
                .await
                .header("vary"),
            Some("User-Agent, Accept-Encoding")
        );
        assert_eq!(
            fetch(app, "/api/v1/groups", &[])
                .await
                .header("access-control-allow-origin"),
            None
        );
    }
);

db_test!(
    unknown_groups_and_bad_filters_are_refused,
    |app: common::TestApp| async move {
        let world = World::new(app).await;
        let app = &world.app;
        for route in [
            "/feed.rss?group=nope",
            "/feed.json?group=alpha,nope",
            "/groups/nope/feed.atom",
            "/groups/nope/feed.ics",
        ] {
            let reply = fetch(app, route, &[]).await;
            reply.expect(404);
            assert_eq!(
                reply.header("content-type"),
                Some("text/plain; charset=utf-8")
            );
            assert!(reply.text.contains("nope"), "{route}: {}", reply.text);
        }
        for route in [
            "/feed.rss?kind=party",
            "/feed.ics?lang=x",
            "/groups/alpha/feed.json?lang=1",
        ] {
            fetch(app, route, &[]).await.expect(400);
        }
        fetch(
            app,
            "/feed.rss?group=alpha&group=beta&kind=event,meetup&lang=en",
            &[],
        )
        .await
        .expect(200);
    }
);

db_test!(
    removing_a_group_takes_its_entries_out_at_once,
    |app: common::TestApp| async move {
        let world = World::new(app).await;
        let app = &world.app;
        let id = publish(&world, json!({"title": "Alpha news"}), json!({})).await;
        let before = qgis(app, "/?json=1", NEW_QGIS).await;
        assert_eq!(pks(&before), [id]);
        fetch(app, "/groups/alpha/feed.rss", &[]).await.expect(200);
        let fetched_at = now() - 1;

        app.patch(
            "/api/v1/groups/alpha",
            Some(&world.admin),
            json!({"status": "removed"}),
        )
        .await
        .expect(200);
        assert!(qgis(app, "/?json=1", NEW_QGIS).await.is_empty());
        fetch(app, "/groups/alpha/feed.rss", &[]).await.expect(404);
        // QGIS 3.36+ that already shows the entry is told to drop it...
        let since = format!("/?json=1&after={fetched_at}");
        let retractions = qgis(app, &since, NEW_QGIS).await;
        assert_eq!(pks(&retractions), [id]);
        let dropped_at = retractions[0]["publish_to"]
            .as_f64()
            .expect("past publish_to");
        assert!(dropped_at <= now() as f64);
        // ...older QGIS gets no retractions, and the entry's history says why.
        assert!(qgis(app, &since, OLD_QGIS).await.is_empty());
        let history = app
            .get(&format!("/api/v1/entries/{id}/history"), Some(&world.admin))
            .await
            .expect(200)
            .json();
        let last = history.as_array().and_then(|events| events.last()).cloned();
        let last = last.expect("an event");
        assert_eq!(
            (&last["action"], &last["to_status"], &last["comment"]),
            (
                &json!("unpublish"),
                &json!("unpublished"),
                &json!("the group was removed")
            )
        );

        // A group created through the API has its feeds at once.
        app.group(&world.admin, "gamma").await;
        fetch(app, "/groups/gamma/feed.json", &[]).await.expect(200);
    }
);

/// The headers a client relies on, as one comparable list.
fn client_headers(reply: &RawReply) -> Vec<(String, Option<String>)> {
    [
        "content-type",
        "content-encoding",
        "content-length",
        "etag",
        "last-modified",
        "cache-control",
        "vary",
        "access-control-allow-origin",
        "content-disposition",
    ]
    .into_iter()
    .map(|name| (name.to_string(), reply.header(name).map(str::to_string)))
    .collect()
}

db_test!(
    the_fast_path_and_the_documented_operations_answer_alike,
    |app: common::TestApp| async move {
        // `/groups/alpha/…` goes the fast way; `/groups/%61lpha/…` (the same
        // slug, escaped) and every HEAD go through the documented operations.
        let world = World::new(app).await;
        let app = &world.app;
        publish(
            &world,
            json!({"title": "News", "language": "en"}),
            json!({}),
        )
        .await;
        crate::feeds::support::event(&world, "Meetup", 86_400).await;
        for extension in ["json", "rss", "atom", "ics"] {
            for query in [
                "",
                "?kind=event",
                "?lang=de,en",
                "?kind=meetup&lang=de",
                "?limit=x",
            ] {
                for encoding in ["identity", "gzip"] {
                    let headers = [("accept-encoding", encoding)];
                    let path = format!("/groups/alpha/feed.{extension}{query}");
                    let escaped = format!("/groups/%61lpha/feed.{extension}{query}");
                    let fast = fetch_raw(app, "GET", &path, &headers).await;
                    let documented = fetch_raw(app, "GET", &escaped, &headers).await;
                    let head = fetch_raw(app, "HEAD", &path, &headers).await;
                    let what = format!("{path} {encoding}");
                    assert_eq!(fast.status, documented.status, "{what}");
                    assert_eq!(fast.body, documented.body, "{what}");
                    assert_eq!(client_headers(&fast), client_headers(&documented), "{what}");
                    assert_eq!(head.status, fast.status, "HEAD {what}");
                    assert_eq!(client_headers(&head), client_headers(&fast), "HEAD {what}");
                }
            }
        }
    }
);
