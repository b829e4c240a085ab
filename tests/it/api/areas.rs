//! Saved areas through the API: who may manage them, what is refused and
//! how, and how entries refer to them.

use serde_json::{Value, json};

use crate::common::{self, World};

fn square() -> Value {
    json!([[0.0, 0.0], [10.0, 0.0], [10.0, 10.0], [0.0, 10.0]])
}

db_test!(
    moderators_manage_areas_and_everyone_signed_in_reads_them,
    |app: common::TestApp| async move {
        let world = World::new(app).await;
        let app = &world.app;
        let body = json!({"name": "Square", "polygon": square()});
        app.post("/api/v1/areas", Some(&world.editor), body.clone())
            .await
            .expect_problem(403, "forbidden");
        app.post("/api/v1/areas", None, body.clone())
            .await
            .expect_problem(401, "unauthorized");
        let created = app
            .post("/api/v1/areas", Some(&world.admin), body.clone())
            .await
            .expect(201)
            .json();
        let id = created["id"].as_i64().expect("id");
        assert_eq!(created["description"], "");
        app.get("/api/v1/areas", None)
            .await
            .expect_problem(401, "unauthorized");
        let listed = app
            .get("/api/v1/areas", Some(&world.editor))
            .await
            .expect(200)
            .json();
        assert_eq!(listed["areas"][0]["name"], "Square");
        let path = format!("/api/v1/areas/{id}");
        app.patch(
            &path,
            Some(&world.editor),
            json!({"version": 1, "name": "Mine"}),
        )
        .await
        .expect_problem(403, "forbidden");
        app.delete(&path, Some(&world.editor))
            .await
            .expect_problem(403, "forbidden");
        app.delete(&path, Some(&world.moderator)).await.expect(204);
        app.delete(&path, Some(&world.moderator))
            .await
            .expect_problem(404, "not-found");
        app.get("/api/v1/areas/nope", Some(&world.editor))
            .await
            .expect(400);
    }
);

db_test!(
    bad_areas_are_refused_by_field,
    |app: common::TestApp| async move {
        let world = World::new(app).await;
        let app = &world.app;
        let post = |body: Value| app.post("/api/v1/areas", Some(&world.moderator), body);
        for (body, field) in [
            (json!({"polygon": square()}), "name"),
            (json!({"name": "A"}), "polygon"),
            (json!({"name": "  ", "polygon": square()}), "name"),
            (json!({"name": "A\r\nB", "polygon": square()}), "name"),
            (
                json!({"name": "A", "description": "x\u{0007}", "polygon": square()}),
                "description",
            ),
            (
                json!({"name": "A", "polygon": [[0.0, 0.0], [1.0, 1.0]]}),
                "polygon",
            ),
            (
                json!({"name": "A", "polygon": [[0.0, 0.0], [1.0, 1.0], [181.0, 0.0]]}),
                "polygon",
            ),
            (
                json!({"name": "A", "polygon": [[0.0, 0.0, 3.0], [1.0, 1.0], [1.0, 0.0]]}),
                "polygon",
            ),
            (
                json!({"name": "A", "polygon": {"type": "Point", "coordinates": [1, 2]}}),
                "polygon",
            ),
            (
                json!({"name": "A", "polygon": square(), "version": 3}),
                "version",
            ),
            (json!({"name": null, "polygon": square()}), "name"),
        ] {
            post(body.clone()).await.expect_field_error(field);
        }
        let too_many: Vec<Value> = (0..1001)
            .map(|i| json!([f64::from(i) / 100.0, 1.0]))
            .collect();
        post(json!({"name": "A", "polygon": too_many}))
            .await
            .expect_field_error("polygon");
        post(json!({"name": "A", "polygon": square(), "colour": "red"}))
            .await
            .expect(400);

        let first = post(json!({"name": "Taken", "polygon": square()}))
            .await
            .expect(201)
            .json();
        post(json!({"name": "Taken", "polygon": square()}))
            .await
            .expect_problem(409, "duplicate");
        let path = format!("/api/v1/areas/{}", first["id"]);
        app.patch(&path, Some(&world.moderator), json!({"name": "Renamed"}))
            .await
            .expect_field_error("version");
        app.patch(
            &path,
            Some(&world.moderator),
            json!({"version": 1, "name": "Renamed"}),
        )
        .await
        .expect(200);
        let stale = app
            .patch(
                &path,
                Some(&world.moderator),
                json!({"version": 1, "name": "Again"}),
            )
            .await;
        assert_eq!(
            stale.expect_problem(409, "stale-version")["current_version"],
            2
        );
        // Nothing changed: same version, no write.
        let same = app
            .patch(
                &path,
                Some(&world.moderator),
                json!({"version": 2, "name": "Renamed"}),
            )
            .await
            .expect(200)
            .json();
        assert_eq!(same["version"], 2);
    }
);

db_test!(
    entries_name_an_existing_area_or_draw_their_own,
    |app: common::TestApp| async move {
        let world = World::new(app).await;
        let app = &world.app;
        let area = app
            .post(
                "/api/v1/areas",
                Some(&world.moderator),
                json!({"name": "Square", "polygon": square()}),
            )
            .await
            .expect(201)
            .json();
        let entry = |changes: Value| {
            let mut body = json!({"group": "alpha", "kind": "announcement",
                                  "title": "T", "content": "<p>x</p>"});
            for (key, value) in changes.as_object().expect("object") {
                body[key] = value.clone();
            }
            app.post("/api/v1/entries", Some(&world.editor), body)
        };
        entry(json!({"target_area_id": 999_999}))
            .await
            .expect_field_error("target_area_id");
        entry(json!({"target_area_id": area["id"], "target_area": square()}))
            .await
            .expect_field_error("target_area_id");
        entry(json!({"target_area_id": "one"}))
            .await
            .expect_field_error("target_area_id");
        let created = entry(json!({"target_area_id": area["id"]}))
            .await
            .expect(201)
            .json();
        assert_eq!(created["target_area_id"], area["id"]);
        // `null` clears it.
        let cleared = app
            .patch(
                &format!("/api/v1/entries/{}", created["id"]),
                Some(&world.editor),
                json!({"version": created["version"], "target_area_id": null}),
            )
            .await
            .expect(200)
            .json();
        assert_eq!(cleared["target_area_id"], Value::Null);
        // A draft that uses it counts, and keeps it from being deleted.
        let used = app
            .patch(
                &format!("/api/v1/entries/{}", created["id"]),
                Some(&world.editor),
                json!({"version": cleared["version"], "target_area_id": area["id"]}),
            )
            .await
            .expect(200)
            .json();
        let path = format!("/api/v1/areas/{}", area["id"]);
        assert_eq!(
            app.get(&path, Some(&world.editor)).await.json()["used_by"],
            1
        );
        app.delete(&path, Some(&world.moderator))
            .await
            .expect_problem(409, "conflict");
        app.delete(
            &format!("/api/v1/entries/{}", used["id"]),
            Some(&world.editor),
        )
        .await
        .expect(204);
        app.delete(&path, Some(&world.moderator)).await.expect(204);
    }
);
