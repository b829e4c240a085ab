//! The audience of `/`, counted in memory, added to `feed_daily_stats` by
//! the flush, read by moderators; and GeoIP for countries and positions.

use futures_util::future::join_all;
use serde_json::json;

use crate::common::{self, TestApp, World};
use crate::feeds::mmdb;
use crate::feeds::support::{fetch, pks, publish, qgis};

fn today() -> String {
    chrono::Utc::now().format("%Y-%m-%d").to_string()
}

/// `(value, requests)` of today's rows by `by`, as the moderator reads them.
async fn sums(app: &TestApp, token: &str, by: &str) -> Vec<(String, i64)> {
    let reply = app
        .get(&format!("/api/v1/stats/feed?by={by}"), Some(token))
        .await;
    reply.expect(200);
    let body = reply.json();
    assert_eq!(body["by"], by);
    assert_eq!(body["to"], today());
    body["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .inspect(|row| assert_eq!(row["day"], today()))
        .map(|row| {
            (
                row["value"].as_str().expect("value").to_string(),
                row["requests"].as_i64().expect("requests"),
            )
        })
        .collect()
}

fn pairs(expected: &[(&str, i64)]) -> Vec<(String, i64)> {
    expected
        .iter()
        .map(|(value, count)| (value.to_string(), *count))
        .collect()
}

/// The value of the metric line starting with `name` (labels included).
async fn metric(app: &TestApp, name: &str) -> u64 {
    let text = app.get("/metrics", None).await.text;
    text.lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' '))
        .and_then(|value| value.parse::<f64>().ok())
        .map_or(0, |value| value as u64)
}

const AGENTS: [(&str, &str); 5] = [
    ("Mozilla/5.0 QGIS/33600/Windows 10", "/?lang=de"),
    (
        "Mozilla/5.0 QGIS/33404/Ubuntu 22.04.3 LTS",
        "/?lang=pt_BR,en",
    ),
    ("Mozilla/5.0 QGIS/33410/Ubuntu 22.04.3 LTS", "/?lang="),
    ("Mozilla/5.0 QGIS/32216", "/"),
    (
        "Mozilla/5.0 QGIS/40000/macOS Sequoia (15.1)",
        "/?json=1&lang=xx_YY",
    ),
];

async fn send_agents(app: &TestApp) {
    for (agent, path) in AGENTS {
        fetch(app, path, &[("user-agent", agent)]).await.expect(200);
    }
    // A browser's page and a script's array are not QGIS: not counted.
    fetch(app, "/", &[("user-agent", "Mozilla/5.0 Firefox/133.0")])
        .await
        .expect(200);
    fetch(app, "/?json=1", &[]).await.expect(200);
}

db_test!(
    counts_survive_a_restart_and_add_up,
    TestApp::builder().config(|c| c.stats_flush_secs = 0),
    |app: common::TestApp| async move {
        let World {
            app,
            moderator,
            editor,
            admin,
            ..
        } = World::new(app).await;
        send_agents(&app).await;
        // Nothing is written while the server runs without a flush.
        assert!(sums(&app, &moderator, "version").await.is_empty());
        let app = app.restart(|_| {}).await;
        assert_eq!(
            sums(&app, &moderator, "version").await,
            pairs(&[("3.34", 2), ("3.22", 1), ("3.36", 1), ("4.0", 1)])
        );
        assert_eq!(
            sums(&app, &admin, "os").await,
            pairs(&[("linux", 2), ("macos", 1), ("unknown", 1), ("windows", 1)])
        );
        assert_eq!(
            sums(&app, &moderator, "lang").await,
            // `xx` is no ISO 639-1 language: counted as `other`, not as itself.
            pairs(&[("any", 2), ("de", 1), ("other", 1), ("pt", 1)])
        );
        assert_eq!(
            sums(&app, &moderator, "country").await,
            pairs(&[("unknown", 5)])
        );

        // The next run's counts are added to the stored ones.
        send_agents(&app).await;
        let app = app.restart(|_| {}).await;
        assert_eq!(
            sums(&app, &moderator, "version").await,
            pairs(&[("3.34", 4), ("3.22", 2), ("3.36", 2), ("4.0", 2)])
        );

        // QGIS-Feed's name for the operating system still works.
        assert_eq!(
            sums(&app, &moderator, "platform").await,
            sums(&app, &moderator, "os").await
        );
        // Without `by`: the day's total, every request once.
        let totals = app.get("/api/v1/stats/feed", Some(&moderator)).await;
        totals.expect(200);
        let totals = totals.json();
        assert!(
            totals.get("by").is_none(),
            "`by` is absent, not null: {totals}"
        );
        assert_eq!(
            totals["rows"],
            json!([{"day": today(), "value": "total", "requests": 10}])
        );

        // CSV, by parameter or by Accept.
        let csv = app
            .get("/api/v1/stats/feed?by=os&format=csv", Some(&moderator))
            .await;
        csv.expect(200);
        assert_eq!(csv.header("content-type"), Some("text/csv; charset=utf-8"));
        let day = today();
        assert_eq!(
            csv.text,
            format!(
                "day,value,requests\n{day},linux,4\n{day},macos,2\n{day},unknown,2\n{day},windows,2\n"
            )
        );
        let accepted = app
            .client
            .get("/api/v1/stats/feed?by=os")
            .header("authorization", format!("Bearer {moderator}"))
            .header("accept", "text/csv")
            .send()
            .await;
        let accepted = common::Reply::from(accepted.0).await;
        assert_eq!(accepted.text, csv.text);

        // Ranges, and who may read it.
        let past = app
            .get(
                "/api/v1/stats/feed?by=os&from=2020-01-01&to=2020-01-31",
                Some(&moderator),
            )
            .await;
        assert_eq!(past.json()["rows"], json!([]));
        app.get(
            "/api/v1/stats/feed?by=os&from=2021-01-02&to=2021-01-01",
            Some(&moderator),
        )
        .await
        .expect_field_error("from");
        app.get("/api/v1/stats/feed?by=os&to=yesterday", Some(&moderator))
            .await
            .expect_field_error("to");
        app.get("/api/v1/stats/feed?by=os&format=xml", Some(&moderator))
            .await
            .expect_field_error("format");
        assert_eq!(
            app.get("/api/v1/stats/feed?by=city", Some(&moderator))
                .await
                .status,
            400
        );
        app.get("/api/v1/stats/feed?by=os", Some(&editor))
            .await
            .expect(403);
        app.get("/api/v1/stats/feed?by=os", None).await.expect(401);
    }
);

db_test!(
    ten_thousand_requests_cause_one_flush,
    TestApp::builder()
        .with_moderator()
        .config(|c| c.stats_flush_secs = 0),
    |app: common::TestApp| async move {
        let moderator = app.token("mod@example.org").to_string();
        let agents = [
            "Mozilla/5.0 QGIS/33600/Windows 11",
            "Mozilla/5.0 QGIS/33404/Linux",
        ];
        for batch in 0..100 {
            join_all((0..100).map(|n| {
                let agent = agents[(batch * 100 + n) % 2];
                let path = if n % 4 == 0 { "/?lang=fr" } else { "/?lang=en" };
                let app = &app;
                async move {
                    fetch(app, path, &[("user-agent", agent)]).await.expect(200);
                }
            }))
            .await;
        }
        assert_eq!(
            metric(&app, "newsfeed_feed_qgis_requests_total{major=\"3\"}").await,
            10_000
        );
        assert_eq!(metric(&app, "newsfeed_feed_stats_flushes_total").await, 0);
        assert!(sums(&app, &moderator, "version").await.is_empty());

        // One flush: one transaction, one row per day, dimension and value.
        app.state.flush_stats().await;
        assert_eq!(metric(&app, "newsfeed_feed_stats_flushes_total").await, 1);
        // 2 versions + 2 systems + 1 country + 2 languages.
        assert_eq!(
            metric(&app, "newsfeed_feed_stats_rows_written_total").await,
            7
        );
        assert_eq!(
            sums(&app, &moderator, "version").await,
            pairs(&[("3.34", 5_000), ("3.36", 5_000)])
        );
        assert_eq!(
            sums(&app, &moderator, "lang").await,
            pairs(&[("en", 7_500), ("fr", 2_500)])
        );
        // Nothing new: the next flush writes nothing.
        app.state.flush_stats().await;
        assert_eq!(metric(&app, "newsfeed_feed_stats_flushes_total").await, 1);
    }
);

/// Bonn (DE, with a position) and a Brazilian network without one.
fn geoip_file() -> std::path::PathBuf {
    let bytes = mmdb::build(&[
        ([203, 0, 113, 0], 24, mmdb::record("DE", Some((50.73, 7.1)))),
        ([198, 51, 100, 0], 24, mmdb::record("BR", None)),
    ]);
    let dir = std::env::temp_dir().join("newsfeed-tests");
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(format!(
        "geoip-{}-{}.mmdb",
        std::process::id(),
        common::now()
    ));
    std::fs::write(&path, bytes).expect("write mmdb");
    path
}

db_test!(
    geoip_gives_countries_and_positions,
    TestApp::builder().config(|c| {
        c.stats_flush_secs = 0;
        c.trust_proxy = true;
        c.geoip_db = Some(geoip_file());
    }),
    |app: common::TestApp| async move {
        let world = World::new(app).await;
        let everywhere = publish(&world, json!({}), json!({})).await;
        let qgis_agent = "Mozilla/5.0 QGIS/33600/Linux";
        let from = |address: &'static str| {
            let app = &world.app;
            async move {
                let reply = fetch(
                    app,
                    "/?lang=en",
                    &[("user-agent", qgis_agent), ("x-forwarded-for", address)],
                )
                .await;
                reply.expect(200);
                pks(reply.json().as_array().expect("array"))
            }
        };
        // No entry has an area: everyone gets the same array.
        assert_eq!(from("203.0.113.7").await, [everywhere]);
        let rhineland = publish(
            &world,
            json!({"target_area": [[6.0, 50.0], [8.0, 50.0], [8.0, 51.5], [6.0, 51.5]]}),
            json!({}),
        )
        .await;
        // Located in Bonn by its address, or by its own lat/lon.
        assert_eq!(from("203.0.113.7").await, [rhineland, everywhere]);
        assert_eq!(from("198.51.100.1").await, [everywhere]);
        assert_eq!(from("192.0.2.1").await, [everywhere]);
        let sent = qgis(&world.app, "/?lang=en&lat=-22.9&lon=-43.2", qgis_agent).await;
        assert_eq!(pks(&sent), [everywhere]);
        // Garbage and huge X-Forwarded-For: never a 500.
        for header in [
            "nonsense",
            &"9".repeat(8_000),
            "203.0.113.7, ::zz",
            "[::1]:80",
        ] {
            fetch(
                &world.app,
                "/",
                &[("user-agent", qgis_agent), ("x-forwarded-for", header)],
            )
            .await
            .expect(200);
        }
        world.app.state.flush_stats().await;
        assert_eq!(
            sums(&world.app, &world.moderator, "country").await,
            pairs(&[("unknown", 6), ("DE", 2), ("BR", 1)])
        );
    }
);
