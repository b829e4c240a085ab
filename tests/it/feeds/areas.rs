//! Saved areas: moderators keep named polygons, entries target them by id,
//! and a new outline moves every published entry that uses it at once.

use serde_json::{Value, json};

use crate::common::{self, World};
use crate::feeds::support::{NEW_QGIS, pks, publish, qgis};

const RIO: &str = "lat=-22.906847&lon=-43.172896";
const MUNICH: &str = "lat=48.13743&lon=11.57549";

fn rio() -> Value {
    json!([
        [-44.0, -24.0],
        [-42.0, -24.0],
        [-42.0, -22.0],
        [-44.0, -22.0]
    ])
}

fn bavaria() -> Value {
    json!({"type": "Polygon",
           "coordinates": [[[10.0, 47.0], [13.0, 47.0], [13.0, 49.0], [10.0, 49.0], [10.0, 47.0]]]})
}

async fn saved_area(world: &World, name: &str, polygon: Value) -> Value {
    world
        .app
        .post(
            "/api/v1/areas",
            Some(&world.moderator),
            json!({"name": name, "polygon": polygon}),
        )
        .await
        .expect(201)
        .json()
}

async fn reached(world: &World, query: &str) -> Vec<i64> {
    pks(&qgis(&world.app, &format!("/?lang=en&{query}"), NEW_QGIS).await)
}

db_test!(
    a_new_outline_moves_every_entry_that_uses_the_area,
    |app: common::TestApp| async move {
        let world = World::new(app).await;
        let app = &world.app;
        let area = saved_area(&world, "Rio de Janeiro", rio()).await;
        let area_id = area["id"].as_i64().expect("id");
        assert_eq!(area["version"], 1);
        assert_eq!(area["used_by"], 0);
        let first = publish(&world, json!({"target_area_id": area_id}), json!({})).await;
        let second = publish(&world, json!({"target_area_id": area_id}), json!({})).await;
        let entry = app
            .get(&format!("/api/v1/entries/{first}"), Some(&world.editor))
            .await
            .expect(200)
            .json();
        assert_eq!(entry["target_area_id"], area_id);
        assert_eq!(entry["target_area"], Value::Null);
        assert_eq!(reached(&world, RIO).await, [second, first]);
        assert!(reached(&world, MUNICH).await.is_empty());

        // One edit of the area, no new approval: the entries follow it.
        let moved = app
            .patch(
                &format!("/api/v1/areas/{area_id}"),
                Some(&world.moderator),
                json!({"version": 1, "polygon": bavaria(), "name": "Bavaria"}),
            )
            .await
            .expect(200)
            .json();
        assert_eq!(
            (moved["version"].as_i64(), moved["used_by"].as_i64()),
            (Some(2), Some(2))
        );
        assert_eq!(moved["polygon"].as_array().map(Vec::len), Some(5));
        assert_eq!(reached(&world, MUNICH).await, [second, first]);
        assert!(reached(&world, RIO).await.is_empty());
        // A reader who sends no filter still gets everything.
        assert_eq!(pks(&qgis(app, "/", NEW_QGIS).await), [second, first]);

        // In use: not deleted, and the answer names the entries.
        let refused = app
            .delete(&format!("/api/v1/areas/{area_id}"), Some(&world.moderator))
            .await;
        let problem = refused.expect_problem(409, "conflict");
        let detail = problem["detail"].as_str().expect("detail");
        assert!(detail.contains(&format!("{first}, {second}")), "{detail}");
        assert_eq!(reached(&world, MUNICH).await, [second, first]);
    }
);

db_test!(
    an_area_stays_while_the_published_revision_uses_it,
    |app: common::TestApp| async move {
        let world = World::new(app).await;
        let app = &world.app;
        let rio_id = saved_area(&world, "Rio", rio()).await["id"]
            .as_i64()
            .expect("id");
        let bavaria_id = saved_area(&world, "Bavaria", bavaria()).await["id"]
            .as_i64()
            .expect("id");
        let id = publish(&world, json!({"target_area_id": rio_id}), json!({})).await;
        // The editor moves the entry to Bavaria; until approved, Rio stays live.
        let version = app
            .get(&format!("/api/v1/entries/{id}"), Some(&world.editor))
            .await
            .json()["version"]
            .clone();
        app.patch(
            &format!("/api/v1/entries/{id}"),
            Some(&world.editor),
            json!({"version": version, "target_area_id": bavaria_id}),
        )
        .await
        .expect(200);
        assert_eq!(reached(&world, RIO).await, [id]);
        app.delete(&format!("/api/v1/areas/{rio_id}"), Some(&world.moderator))
            .await
            .expect_problem(409, "conflict");
        // (An edit of a live entry goes to review by itself.)
        app.post(
            &format!("/api/v1/moderation/entries/{id}/approve"),
            Some(&world.moderator),
            json!({}),
        )
        .await
        .expect(200);
        assert_eq!(reached(&world, MUNICH).await, [id]);
        assert!(reached(&world, RIO).await.is_empty());
        // Now nothing uses Rio.
        app.delete(&format!("/api/v1/areas/{rio_id}"), Some(&world.moderator))
            .await
            .expect(204);
        app.get(&format!("/api/v1/areas/{rio_id}"), Some(&world.editor))
            .await
            .expect_problem(404, "not-found");
    }
);
