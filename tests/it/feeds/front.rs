//! The feeds the server answers from a request's head (`server::Front`,
//! before any poem request is built) are exactly what the application
//! answers: status, body bytes and every header a client or cache reads.

use std::time::Duration;

use serde_json::json;

use super::support::{RawReply, fetch_raw};
use crate::common::{TestApp, World};

const QGIS: &str = "Mozilla/5.0 QGIS/33600/Linux";

/// Serves `app` with the real server on a free loopback port, on the
/// test's runtime (`threads` 0) or on threads of its own; its address.
async fn serve(app: &TestApp, threads: usize) -> String {
    let state = app.state.clone();
    let (limits, stats) = (state.config.connection_limits(), state.connections.clone());
    let (app, stop, grace) = (
        newsfeed::app(state),
        std::future::pending(),
        Duration::from_secs(1),
    );
    if threads == 0 {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let address = listener.local_addr().expect("address").to_string();
        tokio::spawn(newsfeed::server::serve(
            listener, app, limits, stats, stop, grace,
        ));
        address
    } else {
        let listeners = newsfeed::server::bind_shared("127.0.0.1:0", threads)
            .await
            .expect("bind");
        let address = listeners[0].local_addr().expect("address").to_string();
        tokio::spawn(newsfeed::server::serve_on_threads(
            listeners, app, limits, stats, stop, grace,
        ));
        address
    }
}

/// `path` with `headers` from the real server, the body as bytes.
async fn fetch_served(address: &str, path: &str, headers: &[(&str, &str)]) -> RawReply {
    let client = reqwest::Client::new();
    let mut request = client.get(format!("http://{address}{path}"));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.expect("served");
    let status = response.status().as_u16();
    let mut headers = poem::http::HeaderMap::new();
    for (name, value) in response.headers() {
        headers.append(name.clone(), value.clone());
    }
    let body = response.bytes().await.expect("body").to_vec();
    RawReply {
        status,
        headers,
        body,
    }
}

const COMPARED_HEADERS: [&str; 10] = [
    "content-type",
    "content-encoding",
    "etag",
    "last-modified",
    "cache-control",
    "vary",
    "link",
    "access-control-allow-origin",
    "x-content-type-options",
    "content-length",
];

db_test!(
    the_server_front_answers_the_feeds_as_the_app_does,
    |app: TestApp| async move {
        let world = World::new(app).await;
        let app = &world.app;
        world
            .publish(
                json!({"kind": "event", "title": "Front row", "starts_at": "2031-05-04T18:00:00Z",
                   "ends_at": "2031-05-04T20:00:00Z", "timezone": "Europe/Zurich"}),
                json!({}),
            )
            .await;
        app.published(&world.editor, &world.moderator, "alpha", "Plain news")
            .await;
        // On the test's runtime, and on two threads of their own that hand
        // what is not a feed to the test's runtime.
        let addresses = [serve(app, 0).await, serve(app, 2).await];
        let etag = fetch_raw(app, "GET", "/feed.rss", &[])
            .await
            .headers
            .get("etag")
            .and_then(|value| value.to_str().ok())
            .expect("etag")
            .to_string();

        let requests: Vec<(&str, Vec<(&str, &str)>)> = vec![
            ("/?lang=en", vec![("user-agent", QGIS)]),
            (
                "/?lang=de&json=1",
                vec![("user-agent", QGIS), ("accept-encoding", "gzip")],
            ),
            ("/?json=1", vec![]),
            ("/?json=1&group=alpha&limit=1", vec![]),
            ("/?json=1&group=nobody", vec![]),
            ("/?lang=xx-", vec![("user-agent", QGIS)]),
            ("/feed.rss", vec![]),
            ("/feed.rss", vec![("accept-encoding", "gzip")]),
            ("/feed.rss", vec![("if-none-match", &etag)]),
            ("/feed.json?kind=event&limit=5", vec![]),
            ("/feed.atom?limit=abc", vec![]),
            ("/groups/alpha/feed.ics", vec![]),
            ("/groups/nobody/feed.rss", vec![]),
            ("/feed.ics", vec![("accept-encoding", "gzip;q=0")]),
            ("/api/v1/groups", vec![]),
        ];
        for (address, (path, headers)) in addresses
            .iter()
            .flat_map(|address| requests.iter().map(move |request| (address, request)))
        {
            let expected = fetch_raw(app, "GET", path, headers).await;
            let served = fetch_served(address, path, headers).await;
            assert_eq!(served.status, expected.status, "{path} {headers:?}");
            assert_eq!(
                served.body,
                expected.body,
                "{path} {headers:?}: {}",
                String::from_utf8_lossy(&served.body)
            );
            assert_eq!(
                served
                    .headers
                    .get("x-content-type-options")
                    .map(|v| v.as_bytes()),
                Some(&b"nosniff"[..]),
                "{path}"
            );
            for name in COMPARED_HEADERS {
                let values = |reply: &RawReply| -> Vec<String> {
                    reply
                        .headers
                        .get_all(name)
                        .iter()
                        .map(|value| value.to_str().unwrap_or_default().to_string())
                        .collect()
                };
                if name == "content-length" && expected.headers.get(name).is_none() {
                    continue; // the test client does not say it; hyper does
                }
                assert_eq!(
                    values(&served),
                    values(&expected),
                    "{name} of {path} {headers:?}"
                );
            }
        }
        // The answers from the head are counted like any other.
        let metrics = app.get("/metrics", None).await;
        assert!(
            metrics
                .text
                .lines()
                .any(|line| line.starts_with("newsfeed_http_requests_total{")
                    && line.contains("route=\"/feed.rss\"")
                    && line.contains("status=\"304\"")),
            "{}",
            metrics.text
        );
    }
);
