//! Delivery rules as on feed.qgis.org: the call to action for QGIS before 4,
//! language and area combined as OR, its entry path, and garbage that never
//! makes a 500.

use serde_json::json;

use crate::common::{self, World};
use crate::feeds::support::{NEW_QGIS, OLD_QGIS, fetch, fetch_raw, pks, publish, qgis};

const QGIS_4: &str = "Mozilla/5.0 QGIS/40000/Linux";
const RIO: &str = "lat=-22.906847&lon=-43.172896";
const MUNICH: &str = "lat=48.13743&lon=11.57549";

fn rio_area() -> serde_json::Value {
    json!([
        [-44.0, -24.0],
        [-42.0, -24.0],
        [-42.0, -22.0],
        [-44.0, -22.0],
        [-44.0, -24.0]
    ])
}

db_test!(
    the_call_to_action_goes_to_qgis_before_4,
    |app: common::TestApp| async move {
        let world = World::new(app).await;
        let app = &world.app;
        publish(
            &world,
            json!({"content": "<p>Hi</p>", "call_to_action": "Read <more> & act"}),
            json!({}),
        )
        .await;
        let appended = "<p>Hi</p><p><strong>Read &lt;more&gt; &amp; act</strong></p>";
        for agent in [OLD_QGIS, NEW_QGIS, "Mozilla/5.0 QGIS/39999", "QGIS desktop"] {
            // Twice: the second answer comes from the cached variant.
            for _ in 0..2 {
                assert_eq!(
                    qgis(app, "/", agent).await[0]["content"],
                    appended,
                    "{agent}"
                );
            }
        }
        for _ in 0..2 {
            assert_eq!(qgis(app, "/", QGIS_4).await[0]["content"], "<p>Hi</p>");
            assert_eq!(
                qgis(app, "/?after=1", QGIS_4).await[0]["content"],
                "<p>Hi</p>"
            );
            assert_eq!(
                qgis(app, "/?after=1", OLD_QGIS).await[0]["content"],
                appended
            );
        }
        // As on feed.qgis.org, `json=1` from a browser is not QGIS 4 either.
        let browser = app.get("/?json=1", None).await.expect(200).json();
        assert_eq!(browser[0]["content"], appended);
    }
);

db_test!(
    language_and_area_combine_as_or,
    |app: common::TestApp| async move {
        let world = World::new(app).await;
        let app = &world.app;
        let both = publish(
            &world,
            json!({"language": "de", "target_area": rio_area()}),
            json!({}),
        )
        .await;
        let area = publish(&world, json!({"target_area": rio_area()}), json!({})).await;
        let language = publish(&world, json!({"language": "de"}), json!({})).await;
        let neither = publish(&world, json!({}), json!({})).await;
        let sorted = |mut ids: Vec<i64>| {
            ids.sort_unstable();
            ids
        };
        let got = |items: Vec<serde_json::Value>| sorted(pks(&items));
        assert_eq!(
            got(qgis(app, "/", NEW_QGIS).await),
            sorted(vec![both, area, language, neither])
        );
        assert_eq!(
            got(qgis(app, "/?lang=de", NEW_QGIS).await),
            sorted(vec![both, language, neither])
        );
        assert_eq!(
            got(qgis(app, &format!("/?lang=en&{RIO}"), NEW_QGIS).await),
            sorted(vec![both, area, neither])
        );
        assert_eq!(
            got(qgis(app, &format!("/?lang=de&{MUNICH}"), NEW_QGIS).await),
            sorted(vec![both, language, neither])
        );
        assert_eq!(
            got(qgis(app, &format!("/?lang=en&{MUNICH}"), NEW_QGIS).await),
            vec![neither]
        );
        assert_eq!(
            got(qgis(app, &format!("/?{RIO}"), NEW_QGIS).await),
            sorted(vec![both, area, neither])
        );
    }
);

db_test!(
    languages_are_read_as_feed_qgis_org_reads_them,
    |app: common::TestApp| async move {
        let world = World::new(app).await;
        let app = &world.app;
        let german = publish(&world, json!({"language": "de"}), json!({})).await;
        let english = publish(&world, json!({"language": "en"}), json!({})).await;
        let everyone = publish(&world, json!({}), json!({})).await;
        assert_eq!(
            pks(&qgis(app, "/?lang=", NEW_QGIS).await),
            [everyone, english, german]
        );
        assert_eq!(
            pks(&qgis(app, "/?lang=%20DE_at%20", NEW_QGIS).await),
            [everyone, german]
        );
        assert_eq!(
            pks(&qgis(app, "/?lang=pt_BR,en", NEW_QGIS).await),
            [everyone, english]
        );
        for bad in ["english", "d", "de_", "12", "de,,x"] {
            let reply = fetch(app, &format!("/?lang={bad}"), &[("user-agent", NEW_QGIS)]).await;
            assert_eq!(reply.status, 400, "lang={bad}");
        }
    }
);

db_test!(
    feed_qgis_org_entry_paths_lead_to_the_entry_page,
    |app: common::TestApp| async move {
        let world = World::new(app).await;
        let app = &world.app;
        let id = publish(&world, json!({}), json!({})).await;
        let reply = fetch_raw(app, "GET", &format!("/{id}/"), &[]).await;
        assert_eq!(reply.status, 308);
        assert_eq!(
            reply.header("location"),
            Some(format!("/entries/{id}").as_str())
        );
        app.get(&format!("/entries/{id}"), None).await.expect(200);
        for path in ["/abc/", "/-1/", "/99999999999999999999999/", "/1e3/"] {
            assert_eq!(fetch_raw(app, "GET", path, &[]).await.status, 404, "{path}");
        }
    }
);

db_test!(
    garbage_is_refused_never_a_500,
    |app: common::TestApp| async move {
        let world = World::new(app).await;
        let app = &world.app;
        publish(&world, json!({}), json!({})).await;
        for query in [
            "after=inf",
            "after=1e400",
            "after=-inf",
            "after=NaN",
            "lat=nan&lon=1",
            "lat=1&lon=inf",
            "lat=1e400&lon=1",
            "lang=%00",
        ] {
            let reply = fetch(app, &format!("/?{query}"), &[("user-agent", NEW_QGIS)]).await;
            assert_eq!(reply.status, 400, "{query}");
        }
        let huge = "1.2.3.4, ".repeat(2000);
        for forwarded in [huge.as_str(), "garbage", "::::", "999.999.999.999", ""] {
            let reply = fetch(
                app,
                "/",
                &[("user-agent", NEW_QGIS), ("x-forwarded-for", forwarded)],
            )
            .await;
            assert_eq!(reply.status, 200, "{:.40}", forwarded);
        }
    }
);

db_test!(
    target_areas_come_as_geojson_too,
    |app: common::TestApp| async move {
        let world = World::new(app).await;
        let app = &world.app;
        let geojson = json!({"type": "Polygon", "bbox": [-44, -24, -42, -22],
                             "coordinates": [rio_area()]});
        let rio = publish(&world, json!({"target_area": geojson}), json!({})).await;
        let entry = app
            .get(&format!("/api/v1/entries/{rio}"), Some(&world.editor))
            .await
            .expect(200)
            .json();
        assert_eq!(entry["target_area"], rio_area());
        assert_eq!(pks(&qgis(app, &format!("/?{RIO}"), NEW_QGIS).await), [rio]);
        assert!(qgis(app, &format!("/?{MUNICH}"), NEW_QGIS).await.is_empty());

        // At most 1,000 vertices (a closed ring repeats its first one).
        let ring = |vertices: usize| -> Vec<[f64; 2]> {
            let mut ring: Vec<[f64; 2]> = (0..vertices)
                .map(|i| {
                    let angle = i as f64 / vertices as f64 * std::f64::consts::TAU;
                    [angle.cos(), angle.sin()]
                })
                .collect();
            ring.push(ring[0]);
            ring
        };
        let create = |area: serde_json::Value| {
            json!({"group": "alpha", "kind": "announcement", "title": "Area",
                   "content": "<p>x</p>", "target_area": area})
        };
        app.post(
            "/api/v1/entries",
            Some(&world.editor),
            create(json!(ring(1000))),
        )
        .await
        .expect(201);
        for area in [
            json!(ring(1001)),
            json!({"type": "Polygon", "coordinates": [ring(1001)]}),
            json!({"type": "Polygon", "coordinates": [[[0, 0], [200, 0], [1, 1], [0, 0]]]}),
            json!({"type": "Polygon", "coordinates": [[[0, 0], [1, 95], [1, 1]]]}),
            json!({"type": "Point", "coordinates": [1, 2]}),
            json!({"type": "Polygon"}),
            json!({"type": "Polygon", "coordinates": []}),
            json!([[0, 0], [1, 1], [0, 0]]),
        ] {
            let refused = app
                .post("/api/v1/entries", Some(&world.editor), create(area.clone()))
                .await;
            let field = refused.expect(422).json()["errors"][0]["field"].clone();
            assert!(
                field.as_str().is_some_and(|f| f.starts_with("target_area")),
                "{area}: {}",
                refused.text
            );
        }
    }
);
