//! Whole responses pinned with insta: what clients parse, byte for byte modulo ids and clocks.

use serde_json::{Value, json};

use crate::common::{self, World};

/// Replaces what changes from run to run (ids, instants) with placeholders.
fn stable(mut value: Value) -> Value {
    for item in value.as_array_mut().into_iter().flatten() {
        item["pk"] = json!("[pk]");
        item["publish_from"] = json!("[publish_from]");
    }
    value
}

db_test!(qgis_feed_response, |app: common::TestApp| async move {
    let world = World::new(app).await;
    let app = &world.app;
    let entry = app
        .post(
            "/api/v1/entries",
            Some(&world.editor),
            json!({"group": "alpha", "kind": "meetup", "title": "QGIS <Meetup> & more",
                   "content": "<p onclick=\"x()\">Join us <a href=\"https://qgis.org\">here</a><script>bad()</script></p>",
                   "url": "https://qgis.org/meetup", "image": "https://qgis.org/m.png",
                   "language": "en", "starts_at": "2030-05-01T18:00:00Z",
                   "ends_at": "2030-05-01T20:00:00Z", "timezone": "Europe/Berlin"}),
        )
        .await
        .expect(201)
        .json();
    let id = entry["id"].as_i64().expect("id");
    app.submit_and_approve(
        &world.editor,
        &world.moderator,
        id,
        json!({"sticky": true, "publish_to": "2031-01-01T00:00:00Z"}),
    )
    .await;
    let feed = app.get("/?json=1&lang=en", None).await;
    insta::assert_json_snapshot!("qgis_feed", stable(feed.expect(200).json()));
});

db_test!(
    validation_problem_response,
    |app: common::TestApp| async move {
        let world = World::new(app).await;
        let problem = world
            .app
            .post(
                "/api/v1/entries",
                Some(&world.editor),
                json!({"group": "alpha", "kind": "crowdfunding", "title": "",
                   "content": "<p>x</p>", "url": "javascript:alert(1)",
                   "goal_amount": -5, "currency": "EURO"}),
            )
            .await
            .expect_problem(422);
        insta::assert_json_snapshot!("entry_validation_problem", problem);
    }
);
