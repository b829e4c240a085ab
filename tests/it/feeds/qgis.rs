//! `GET /` as QGIS desktop requests it, checked field by field.

use crate::common::now;
use newsfeed::clock::Clock;
use newsfeed::entities::entry;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
use serde_json::json;

use crate::common::{self, World};
use crate::feeds::support::{NEW_QGIS, OLD_QGIS, fetch, pks, publish, qgis, rfc3339, unpublish};

/// 2030-03-17T17:46:40Z, for tests on a manual clock.
const START: i64 = 1_900_000_000;

db_test!(
    items_have_exactly_the_fields_qgis_reads,
    |app: common::TestApp| async move {
        let world = World::new(app);
        let world = world.await;
        let app = &world.app;
        let id = publish(
        &world,
        json!({"title": "Release <3 & \"more\"", "content": "<p>Hi <script>x()</script><b>there</b></p>",
               "url": "https://qgis.org/news", "image": "https://qgis.org/x.jpg", "language": "en"}),
        json!({"sticky": true}),
    )
    .await;
        let items = qgis(app, "/?lang=en", NEW_QGIS).await;
        assert_eq!(items.len(), 1);
        let item = items[0].as_object().expect("object");
        let mut keys: Vec<&str> = item.keys().map(String::as_str).collect();
        keys.sort();
        assert_eq!(
            keys,
            [
                "content",
                "image",
                "pk",
                "publish_from",
                "publish_to",
                "sticky",
                "title",
                "url"
            ]
        );
        assert_eq!(item["pk"], json!(id));
        assert!(item["pk"].as_i64().expect("pk") < 1 << 31);
        assert!(
            item["publish_from"].is_f64(),
            "publish_from is a float: {}",
            item["publish_from"]
        );
        let published = item["publish_from"].as_f64().expect("float");
        assert!((published - now() as f64).abs() < 10.0);
        // An announcement without an end is published for --announcement-days (10).
        assert_eq!(item["publish_to"].as_f64(), Some(published + 864_000.0));
        assert_eq!(item["title"], "Release &lt;3 &amp; &quot;more&quot;");
        assert_eq!(item["content"], "<p>Hi <b>there</b></p>");
        assert_eq!(item["url"], "https://qgis.org/news");
        assert_eq!(item["image"], "https://qgis.org/x.jpg");
        assert_eq!(item["sticky"], true);

        let plain = publish(&world, json!({"title": "Plain"}), json!({})).await;
        let items = qgis(app, "/", NEW_QGIS).await;
        assert_eq!(pks(&items), [id, plain], "sticky first");
        assert_eq!(items[1]["image"], "");
        assert_eq!(items[1]["url"], "");
        assert_eq!(items[1]["sticky"], false);
        // `json=1` gets the same bytes without a QGIS agent.
        let by_flag = fetch(app, "/?json=1", &[("user-agent", "curl/8")]).await;
        assert_eq!(by_flag.expect(200).json().as_array().map(Vec::len), Some(2));
        // A bounded publish_to goes out as a float below 2^32.
        let later = now() + 86_400;
        let bounded = publish(
            &world,
            json!({"title": "Bounded"}),
            json!({"publish_to": rfc3339(later)}),
        )
        .await;
        let items = qgis(app, "/", "qgis").await;
        let item = items
            .iter()
            .find(|i| i["pk"] == json!(bounded))
            .expect("bounded entry");
        assert_eq!(item["publish_to"].as_f64(), Some(later as f64));
        assert!(later < 1 << 32);
    }
);

db_test!(
    order_limit_and_languages,
    |app: common::TestApp| async move {
        let world = World::new(app).await;
        let app = &world.app;
        let now = now();
        let old = publish(
            &world,
            json!({"language": "pt"}),
            json!({"publish_from": rfc3339(now - 3600)}),
        )
        .await;
        let new = publish(
            &world,
            json!({"language": "en"}),
            json!({"publish_from": rfc3339(now - 60)}),
        )
        .await;
        let everyone = publish(
            &world,
            json!({}),
            json!({"publish_from": rfc3339(now - 1800)}),
        )
        .await;
        let urgent = publish(
            &world,
            json!({"language": "de"}),
            json!({"priority": 5, "publish_from": rfc3339(now - 7200)}),
        )
        .await;
        let pinned = publish(
            &world,
            json!({"language": "en"}),
            json!({"sticky": true, "publish_from": rfc3339(now - 9000)}),
        )
        .await;
        let scheduled = publish(
            &world,
            json!({}),
            json!({"publish_from": rfc3339(now + 3600)}),
        )
        .await;
        assert_eq!(
            pks(&qgis(app, "/", NEW_QGIS).await),
            [pinned, urgent, new, everyone, old]
        );
        assert!(!pks(&qgis(app, "/", NEW_QGIS).await).contains(&scheduled));
        assert_eq!(
            pks(&qgis(app, "/?lang=pt_BR,en", NEW_QGIS).await),
            [pinned, new, everyone, old]
        );
        assert_eq!(
            pks(&qgis(app, "/?lang=PT", OLD_QGIS).await),
            [everyone, old]
        );
        assert_eq!(pks(&qgis(app, "/?lang=fr", OLD_QGIS).await), [everyone]);
        assert_eq!(pks(&qgis(app, "/?lang=", OLD_QGIS).await).len(), 5);
        for extra in 0..20 {
            publish(&world, json!({"title": format!("More {extra}")}), json!({})).await;
        }
        assert_eq!(
            qgis(app, "/", NEW_QGIS).await.len(),
            20,
            "at most feed_max_items"
        );
    }
);

db_test!(
    target_areas_reach_points_inside,
    |app: common::TestApp| async move {
        let world = World::new(app).await;
        let app = &world.app;
        let rio = publish(
        &world,
        json!({"target_area": [[-44.0, -24.0], [-42.0, -24.0], [-42.0, -22.0], [-44.0, -22.0]]}),
        json!({}),
    )
    .await;
        let everywhere = publish(&world, json!({}), json!({})).await;
        let inside = "/?lang=pt&lat=-22.90684700000000063&lon=-43.17289599999999780";
        assert_eq!(pks(&qgis(app, inside, NEW_QGIS).await), [everywhere, rio]);
        let munich = "/?lang=pt&lat=48.13743000000000052&lon=11.57548999999999950";
        assert_eq!(pks(&qgis(app, munich, NEW_QGIS).await), [everywhere]);
        assert_eq!(pks(&qgis(app, "/?lang=pt", NEW_QGIS).await), [everywhere]);
    }
);

db_test!(after_is_version_aware, |app: common::TestApp| async move {
    let world = World::new(app).await;
    let app = &world.app;
    let start = now() - 5;
    let live = publish(&world, json!({"title": "Live"}), json!({})).await;
    let withdrawn = publish(&world, json!({"title": "Withdrawn"}), json!({})).await;
    unpublish(&world, withdrawn).await;
    let expired_at = now() - 1;
    let expired = publish(
        &world,
        json!({"title": "Expired"}),
        json!({"publish_from": rfc3339(now() - 600), "publish_to": rfc3339(expired_at)}),
    )
    .await;
    let stale = publish(&world, json!({"title": "Seen long ago"}), json!({})).await;
    // `stale` was approved and first shown long before the client's last fetch.
    let db = &app.state.services.db;
    let model = entry::Entity::find_by_id(stale)
        .one(db)
        .await
        .expect("read")
        .expect("stale");
    let mut revision: serde_json::Value =
        serde_json::from_str(model.live_revision.as_deref().expect("live")).expect("json");
    // Clients were told of it then, too.
    revision["notified_at"] = json!(start - 10_000);
    entry::Entity::update_many()
        .col_expr(entry::Column::LiveChangedAt, Expr::value(start - 10_000))
        .col_expr(
            entry::Column::LiveRevision,
            Expr::value(revision.to_string()),
        )
        .filter(entry::Column::Id.eq(stale))
        .exec(db)
        .await
        .expect("backdate");
    app.state.feeds.refresh().await.expect("refresh");

    // First fetch: only what is live now.
    for agent in [NEW_QGIS, OLD_QGIS] {
        assert_eq!(pks(&qgis(app, "/?lang=en", agent).await), [live, stale]);
    }
    for after in [format!("{start}"), format!("{start}.5")] {
        // New QGIS: changes since, then entries gone since with a past publish_to.
        let items = qgis(app, &format!("/?after={after}&lang=en"), NEW_QGIS).await;
        // All in feed order, as feed.qgis.org sorts expired entries among
        // live ones (same second: newest id first).
        assert_eq!(pks(&items), [withdrawn, live, expired], "after={after}");
        let now = now() as f64;
        for gone in [&items[0], &items[2]] {
            let to = gone["publish_to"].as_f64().expect("past publish_to");
            assert!(to <= now && to >= start as f64, "{gone}");
        }
        assert_eq!(items[2]["publish_to"].as_f64(), Some(expired_at as f64));
        // Old QGIS keeps whatever it gets for the session: no retractions.
        let items = qgis(app, &format!("/?after={after}&lang=en"), OLD_QGIS).await;
        assert_eq!(pks(&items), [live], "after={after}");
        assert!(items[0]["publish_to"].as_f64().expect("an end") > now);
    }
    // A browser asking for JSON behaves like a new client.
    let items = fetch(app, &format!("/?json=1&after={start}"), &[])
        .await
        .expect(200)
        .json();
    assert_eq!(items.as_array().map(Vec::len), Some(3));
    // Nothing changed since a later fetch.
    let later = now() + 1;
    assert!(
        qgis(app, &format!("/?after={later}"), NEW_QGIS)
            .await
            .is_empty()
    );
    // A QGIS agent without a readable version is treated as old.
    assert_eq!(
        pks(&qgis(app, &format!("/?after={start}"), "QGIS").await),
        [live]
    );
});

db_test!(
    changes_show_up_in_the_next_response,
    World::builder().clock(Clock::manual(START)),
    |app: common::TestApp| async move {
        let world = World::new(app).await;
        let app = &world.app;
        assert!(qgis(app, "/", NEW_QGIS).await.is_empty());
        let ends = START + 2;
        let short = publish(
            &world,
            json!({"title": "Short"}),
            json!({"publish_to": rfc3339(ends)}),
        )
        .await;
        assert_eq!(
            pks(&qgis(app, "/", NEW_QGIS).await),
            [short],
            "approval shows at once"
        );
        let other = publish(&world, json!({"title": "Other"}), json!({})).await;
        unpublish(&world, other).await;
        assert_eq!(
            pks(&qgis(app, "/", NEW_QGIS).await),
            [short],
            "unpublish shows at once"
        );
        // Expiry by the clock: the scheduler rebuilds the snapshot at
        // publish_to, by itself (a rebuild is counted when it happened).
        let rebuilds = || {
            app.state
                .feeds
                .rebuilds
                .load(std::sync::atomic::Ordering::SeqCst)
        };
        let before = rebuilds();
        app.clock.advance(2);
        for _ in 0..500 {
            if rebuilds() > before {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        assert!(rebuilds() > before, "the scheduler rebuilt the snapshot");
        assert!(
            qgis(app, "/", NEW_QGIS).await.is_empty(),
            "expired by the clock"
        );
        let items = qgis(app, &format!("/?after={}", ends - 5), NEW_QGIS).await;
        let mut gone = pks(&items);
        gone.sort();
        assert_eq!(gone, [short, other]);
        let expired = items
            .iter()
            .find(|item| item["pk"] == json!(short))
            .expect("short");
        assert_eq!(expired["publish_to"].as_f64(), Some(ends as f64));
    }
);

db_test!(
    bad_parameters_get_400_plain_text,
    |app: common::TestApp| async move {
        for (query, names) in [
            ("lang=e", "lang"),
            ("lang=123", "lang"),
            ("lang=en,%C3%A9x", "lang"),
            ("after=yesterday", "after"),
            ("after=-5", "after"),
            ("after=1e99", "after"),
            ("after=NaN", "after"),
            ("lat=1", "lat and lon"),
            ("lon=1", "lat and lon"),
            ("lat=95&lon=1", "lat"),
            ("lat=1&lon=-181", "lon"),
            ("lat=x&lon=1", "lat"),
            ("json=maybe", "json"),
        ] {
            for agent in [NEW_QGIS, "Firefox"] {
                let reply = fetch(&app, &format!("/?{query}"), &[("user-agent", agent)]).await;
                reply.expect(400);
                assert_eq!(
                    reply.header("content-type"),
                    Some("text/plain; charset=utf-8"),
                    "{query}"
                );
                assert!(
                    reply.text.starts_with(&format!("{names} must")),
                    "{query}: the reason names the parameter: {}",
                    reply.text
                );
            }
        }
    }
);

db_test!(
    browsers_get_an_escaped_html_page,
    |app: common::TestApp| async move {
        let world = World::new(app).await;
        let app = &world.app;
        let id = publish(
        &world,
        json!({"title": "<img src=x onerror=alert(1)>", "image": "https://qgis.org/a.png", "url": "https://qgis.org/"}),
        json!({}),
    )
    .await;
        let reply = fetch(
            app,
            "/",
            &[("user-agent", "Mozilla/5.0 (Android) Firefox/120")],
        )
        .await;
        reply.expect(200);
        assert_eq!(
            reply.header("content-type"),
            Some("text/html; charset=utf-8")
        );
        assert!(reply.text.contains("width=device-width"));
        assert!(reply.text.contains(&format!("id=\"entry-{id}\"")));
        assert!(reply.text.contains("&#60;img src=x onerror=alert(1)&#62;"));
        assert!(!reply.text.contains("<img src=x"));
        assert!(reply.text.contains("Group alpha"));
        assert!(reply.text.contains("https://qgis.org/a.png"));

        // Event times read as at the venue: 2030-07-01 10:00 UTC is noon in Berlin.
        publish(
            &world,
            json!({"kind": "event", "title": "Summer meetup", "starts_at": "2030-07-01T10:00:00Z",
                   "ends_at": "2030-07-01T12:00:00Z", "timezone": "Europe/Berlin"}),
            json!({}),
        )
        .await;
        let page = fetch(app, "/", &[]).await;
        assert!(
            page.text.contains("Mon 1 July 2030, 12:00–14:00 CEST"),
            "{}",
            page.text
        );
    }
);

db_test!(
    retractions_are_never_crowded_out_by_live_entries,
    |app: common::TestApp| async move {
        let world = World::new(app).await;
        let app = &world.app;
        let start = now() - 5;
        let mut withdrawn = Vec::new();
        for n in 0..4 {
            let id = publish(&world, json!({"title": format!("Gone {n}")}), json!({})).await;
            unpublish(&world, id).await;
            withdrawn.push(id);
        }
        for n in 0..44 {
            publish(&world, json!({"title": format!("Live {n}")}), json!({})).await;
        }
        let items = qgis(app, &format!("/?after={start}"), NEW_QGIS).await;
        let gone: Vec<i64> = items
            .iter()
            .filter(|item| item["publish_to"].as_f64().expect("an end") <= now() as f64)
            .map(|item| item["pk"].as_i64().expect("pk"))
            .collect();
        assert_eq!(items.len() - gone.len(), 20, "the live part is capped");
        withdrawn.sort_unstable();
        let mut gone = gone;
        gone.sort_unstable();
        assert_eq!(gone, withdrawn, "every retraction is sent");
    }
);
