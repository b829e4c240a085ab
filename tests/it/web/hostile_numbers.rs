//! Numbers a stranger sends: past `i64`, negative, in exponent form, not a
//! number, ten thousand digits. Every page and API parameter that takes a
//! number answers them with a 2xx/3xx or a 4xx, never a 500 or a dropped
//! connection.

use serde_json::json;

use crate::common::{TestApp, World};
use crate::web::support::Browser;

fn hostile() -> Vec<String> {
    vec![
        "9223372036854775808".into(),
        "18446744073709551616".into(),
        "-1".into(),
        "1e3".into(),
        "NaN".into(),
        "9".repeat(10_000),
    ]
}

/// Paths of pages and API reads with `{}` where the number goes.
const PAGES: &[&str] = &[
    "/my/entries?offset={}",
    "/my/entries?status=draft&offset={}",
    "/moderation?offset={}",
    "/moderation?kind=event&offset={}",
    "/my/entries/{}",
    "/my/entries/{}/edit",
    "/moderation/{}",
    "/moderation/areas/{}",
    "/entries/{}",
    "/{}/",
    "/?offset={}",
    "/?json=1&after={}",
    "/?json=1&lat={}&lon=7",
    "/?json=1&lat=46&lon={}",
    "/feed.rss?limit={}",
    "/feed.json?limit={}",
    "/feed.atom?after={}",
];

const API: &[&str] = &[
    "/api/v1/entries?limit={}",
    "/api/v1/entries?offset={}",
    "/api/v1/moderation/queue?offset={}",
    "/api/v1/moderation/queue?limit={}",
    "/api/v1/outbox?offset={}",
    "/api/v1/outbox?limit={}",
    "/api/v1/entries/{}",
    "/api/v1/entries/{}/history",
    "/api/v1/areas/{}",
    "/api/v1/stats/feed?from={}",
];

db_test!(
    numbers_out_of_range_never_reach_the_database,
    World::builder(),
    |app: TestApp| async move {
        let world = World::new(app).await;
        world.pending_entry("Something to list").await;
        let admin = Browser::signed_in(&world.app, "admin@example.org").await;
        for value in hostile() {
            for path in PAGES {
                let path = path.replace("{}", &value);
                let page = admin.get(&path).await;
                let status = page.status.as_u16();
                assert!(status < 500, "{status} for {}", &path[..path.len().min(80)]);
            }
            for path in API {
                let path = path.replace("{}", &value);
                let reply = world.app.get(&path, Some(&world.admin)).await;
                let status = reply.status.as_u16();
                assert!(
                    (200..500).contains(&status),
                    "{status} for {}",
                    &path[..path.len().min(80)]
                );
            }
            // Numbers in JSON bodies and forms.
            let reply = world
                .app
                .patch(
                    &format!("/api/v1/users/{value}"),
                    Some(&world.admin),
                    json!({"disabled": false}),
                )
                .await;
            assert!(reply.status.is_client_error(), "{}", reply.status);
            admin.get("/moderation/areas").await.expect(200);
            let form = admin
                .post(
                    "/moderation/areas",
                    &[
                        ("name", "Somewhere"),
                        ("polygon", &format!("[[{value},0],[1,0],[1,1]]")),
                    ],
                )
                .await;
            assert!(form.status.as_u16() < 500, "{}", form.status);
        }
        // A number past the last page shows an empty page, not an error.
        admin
            .get("/moderation?offset=9223372036854775808")
            .await
            .expect(200);
    }
);
