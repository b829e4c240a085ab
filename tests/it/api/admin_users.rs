//! Admins list people, change roles and disable accounts.

use newsfeed::domain::Role;
use serde_json::json;

use crate::common;

db_test!(admins_manage_people, |app: common::TestApp| async move {
    let admin = app.admin().await;
    let member = app.user("ana@example.org", Role::Member).await;

    let people = app
        .get("/api/v1/users", Some(&admin))
        .await
        .expect(200)
        .json();
    let ana = people
        .as_array()
        .expect("array")
        .iter()
        .find(|person| person["email"] == "ana@example.org")
        .expect("ana listed")
        .clone();
    let id = ana["id"].as_i64().expect("id");

    app.get("/api/v1/users", Some(&member))
        .await
        .expect_problem(403, "forbidden");
    app.patch(
        &format!("/api/v1/users/{id}"),
        Some(&member),
        json!({"role": "admin"}),
    )
    .await
    .expect_problem(403, "forbidden");

    let promoted = app
        .patch(
            &format!("/api/v1/users/{id}"),
            Some(&admin),
            json!({"role": "moderator"}),
        )
        .await
        .expect(200)
        .json();
    assert_eq!(promoted["role"], "moderator");
    app.get("/api/v1/moderation/queue", Some(&member))
        .await
        .expect(200);

    app.patch(
        &format!("/api/v1/users/{id}"),
        Some(&admin),
        json!({"disabled": true}),
    )
    .await
    .expect(200);
    // A disabled person's existing login token stops working at once.
    app.get("/api/v1/me", Some(&member))
        .await
        .expect_problem(401, "unauthorized");
    let login = app
        .post(
            "/api/v1/auth/login",
            None,
            json!({"email": "ana@example.org", "password": "correct horse battery"}),
        )
        .await;
    login.expect_problem(401, "unauthorized");

    // An admin cannot lock themselves out.
    let me = app.get("/api/v1/me", Some(&admin)).await.expect(200).json();
    let my_id = me["id"].as_i64().expect("id");
    for change in [json!({"role": "member"}), json!({"disabled": true})] {
        app.patch(&format!("/api/v1/users/{my_id}"), Some(&admin), change)
            .await
            .expect_problem(409, "conflict");
    }
    app.get("/api/v1/users", Some(&admin)).await.expect(200);

    app.patch(
        "/api/v1/users/999999",
        Some(&admin),
        json!({"disabled": true}),
    )
    .await
    .expect_problem(404, "not-found");
    app.patch(
        &format!("/api/v1/users/{id}"),
        Some(&admin),
        json!({"display_name": " "}),
    )
    .await
    .expect_problem(422, "validation");
});
