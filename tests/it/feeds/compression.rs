//! gzip of feed bodies: compressed once per variant, decoded to exactly the
//! identity bytes, with its own ETag, `Vary: Accept-Encoding`, 304 and HEAD.

use std::io::Read as _;

use crate::common::now;
use flate2::read::GzDecoder;
use serde_json::json;

use crate::common::{self, World};
use crate::feeds::support::{NEW_QGIS, OLD_QGIS, RawReply, event, fetch_raw, publish};

const GZIP: (&str, &str) = ("accept-encoding", "gzip, deflate, br");

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .expect("a gzip body");
    out
}

/// Enough entries that every feed is well over the gzip threshold.
async fn seed(world: &World) {
    let long = "<p>".to_string() + &"QGIS user group news, meetups and events. ".repeat(8) + "</p>";
    for n in 0..3 {
        publish(
            world,
            json!({"title": format!("Entry {n}"), "language": "en", "content": long,
                   "url": "https://example.org/news"}),
            json!({}),
        )
        .await;
    }
    event(world, "Meetup", 86_400).await;
}

fn assert_vary(reply: &RawReply, route: &str) {
    let vary = reply.header("vary").unwrap_or_default();
    assert!(
        vary.split(',').any(|v| v.trim() == "Accept-Encoding"),
        "{route}: vary {vary:?}"
    );
}

db_test!(
    gzip_decodes_to_the_identity_body,
    |app: common::TestApp| async move {
        let world = World::new(app).await;
        let app = &world.app;
        seed(&world).await;
        let after = (now() - 3600).to_string();
        let qgis_after = format!("/?lang=en&after={after}");
        let routes: [(&str, &[(&str, &str)]); 10] = [
            ("/?lang=en", &[("user-agent", NEW_QGIS)]),
            (&qgis_after, &[("user-agent", NEW_QGIS)]),
            (&qgis_after, &[("user-agent", OLD_QGIS)]),
            ("/?json=1&lang=en", &[]),
            ("/", &[("user-agent", "Mozilla/5.0 Firefox/140.0")]),
            ("/feed.json", &[]),
            ("/feed.rss", &[]),
            ("/feed.atom", &[]),
            ("/feed.ics", &[]),
            ("/groups/alpha/feed.rss?lang=en", &[]),
        ];
        for (route, headers) in routes {
            let plain = fetch_raw(app, "GET", route, headers).await;
            assert_eq!(plain.status, 200, "{route}");
            assert_eq!(plain.header("content-encoding"), None, "{route}");
            assert_vary(&plain, route);
            let etag = plain.header("etag").expect("etag").to_string();

            let mut with_gzip = headers.to_vec();
            with_gzip.push(GZIP);
            let gzip = fetch_raw(app, "GET", route, &with_gzip).await;
            assert_eq!(gzip.status, 200, "{route}");
            assert_eq!(gzip.header("content-encoding"), Some("gzip"), "{route}");
            assert_vary(&gzip, route);
            assert_eq!(
                gzip.header("content-type"),
                plain.header("content-type"),
                "{route}"
            );
            assert_eq!(gunzip(&gzip.body), plain.body, "{route}");
            assert!(gzip.body.len() < plain.body.len(), "{route}");
            let gzip_etag = gzip.header("etag").expect("etag").to_string();
            assert_eq!(
                gzip_etag,
                format!("{}-gzip\"", etag.trim_end_matches('"')),
                "{route}"
            );
            assert_eq!(
                gzip.header("last-modified"),
                plain.header("last-modified"),
                "{route}"
            );
            // Compressed once: the same bytes again.
            assert_eq!(
                fetch_raw(app, "GET", route, &with_gzip).await.body,
                gzip.body,
                "{route}"
            );

            // Each representation revalidates with its own ETag.
            let mut revalidate = with_gzip.clone();
            revalidate.push(("if-none-match", &gzip_etag));
            let not_modified = fetch_raw(app, "GET", route, &revalidate).await;
            assert_eq!(not_modified.status, 304, "{route}");
            assert!(not_modified.body.is_empty(), "{route}");
            assert_eq!(not_modified.header("etag"), Some(gzip_etag.as_str()));
            assert_vary(&not_modified, route);
            let mut revalidate = headers.to_vec();
            revalidate.push(("if-none-match", &etag));
            let not_modified = fetch_raw(app, "GET", route, &revalidate).await;
            assert_eq!(not_modified.status, 304, "{route}");
            assert_eq!(not_modified.header("etag"), Some(etag.as_str()));
            // A list holding the gzip tag matches too.
            let list = format!("\"other\", W/{gzip_etag}");
            let mut revalidate = with_gzip.clone();
            revalidate.push(("if-none-match", &list));
            assert_eq!(
                fetch_raw(app, "GET", route, &revalidate).await.status,
                304,
                "{route}"
            );
            // A tag of the other representation is not this one.
            let mut revalidate = headers.to_vec();
            revalidate.push(("if-none-match", &gzip_etag));
            let full = fetch_raw(app, "GET", route, &revalidate).await;
            assert_eq!(full.status, 200, "{route}");
            assert_eq!(full.body, plain.body, "{route}");

            // HEAD says what GET would send, without a body.
            let head = fetch_raw(app, "HEAD", route, &with_gzip).await;
            assert_eq!(head.status, 200, "HEAD {route}");
            assert_eq!(head.header("content-encoding"), Some("gzip"));
            assert_eq!(head.header("etag"), Some(gzip_etag.as_str()));
            assert!(head.body.is_empty(), "HEAD {route}");
        }
        // `/` keeps varying by agent too.
        let home = fetch_raw(app, "GET", "/", &[("user-agent", NEW_QGIS), GZIP]).await;
        assert_eq!(home.header("vary"), Some("User-Agent, Accept-Encoding"));
        assert_eq!(
            fetch_raw(app, "GET", "/feed.rss", &[GZIP])
                .await
                .header("vary"),
            Some("Accept-Encoding")
        );
    }
);

db_test!(gzip_only_when_accepted, |app: common::TestApp| async move {
    let world = World::new(app).await;
    let app = &world.app;
    seed(&world).await;
    for (accept, gzip) in [
        ("gzip", true),
        ("GZIP", true),
        ("x-gzip", true),
        ("deflate, gzip;q=0.5", true),
        ("br;q=1.0, gzip; q=0.001", true),
        ("*", true),
        ("identity, *;q=0.1", true),
        ("gzip;q=0", false),
        ("gzip; q=0.000, deflate", false),
        ("*, gzip;q=0", false),
        ("gzip;q=0, *", false),
        ("*;q=0", false),
        ("identity", false),
        ("deflate, br", false),
        ("", false),
    ] {
        for route in ["/feed.atom", "/?json=1"] {
            let reply = fetch_raw(app, "GET", route, &[("accept-encoding", accept)]).await;
            assert_eq!(reply.status, 200, "{route} {accept:?}");
            assert_eq!(
                reply.header("content-encoding"),
                gzip.then_some("gzip"),
                "{route} {accept:?}"
            );
            assert_vary(&reply, route);
            if !gzip {
                assert!(
                    !reply.header("etag").expect("etag").ends_with("-gzip\""),
                    "{route} {accept:?}"
                );
                std::str::from_utf8(&reply.body).expect("plain text");
            }
        }
    }
});

db_test!(
    tiny_bodies_and_refusals_stay_plain,
    |app: common::TestApp| async move {
        let world = World::new(app).await;
        let app = &world.app;
        seed(&world).await;
        // Nothing changed since a minute from now: `[]`, not worth compressing.
        let route = format!("/?lang=en&after={}", now() + 60);
        let empty = fetch_raw(app, "GET", &route, &[("user-agent", NEW_QGIS), GZIP]).await;
        assert_eq!(empty.status, 200);
        assert_eq!(empty.body, b"[]");
        assert_eq!(empty.header("content-encoding"), None);
        assert_vary(&empty, &route);
        let etag = empty.header("etag").expect("etag").to_string();
        assert!(!etag.ends_with("-gzip\""));
        let not_modified = fetch_raw(
            app,
            "GET",
            &route,
            &[("user-agent", NEW_QGIS), GZIP, ("if-none-match", &etag)],
        )
        .await;
        assert_eq!(not_modified.status, 304);
        // Errors are short plain text.
        for route in ["/?lang=1", "/feed.rss?group=nope"] {
            let refused = fetch_raw(app, "GET", route, &[GZIP]).await;
            assert!(refused.status >= 400, "{route}");
            assert_eq!(refused.header("content-encoding"), None, "{route}");
        }
    }
);
