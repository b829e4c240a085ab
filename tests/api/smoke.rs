use crate::common;
use serde_json::json;

db_test!(health_and_login, |app: common::TestApp| async move {
    app.get("/healthz", None).await.expect(200);
    app.get("/readyz", None).await.expect(200);
    app.admin().await;
    let reply = app
        .post(
            "/api/v1/auth/login",
            None,
            json!({"email": "ADMIN@example.org", "password": "correct horse battery"}),
        )
        .await;
    let body = reply.expect(200).json();
    assert_eq!(body["token_type"], "Bearer");
    let token = body["access_token"].as_str().expect("token").to_string();
    let me = app.get("/api/v1/me", Some(&token)).await;
    assert_eq!(me.expect(200).json()["role"], "admin");
    app.get("/api/v1/me", None)
        .await
        .expect_problem(401, "unauthorized");
    app.get("/api/v1/me", Some("garbage"))
        .await
        .expect_problem(401, "unauthorized");
});

db_test!(
    actions_take_an_empty_body,
    |app: common::TestApp| async move {
        let world = common::World::new(app).await;
        let app = &world.app;
        let id = app.draft(&world.editor, "alpha", "Bare POST").await["id"]
            .as_i64()
            .expect("id");
        // As `curl -X POST …/submit` sends it: no body, no Content-Type.
        let submitted = app
            .call(
                poem::http::Method::POST,
                &format!("/api/v1/entries/{id}/submit"),
                Some(&world.editor),
                None,
            )
            .await;
        assert_eq!(submitted.expect(200).json()["status"], "pending");
        // A body that is not JSON is still refused.
        let reply = app
            .client
            .post(format!("/api/v1/entries/{id}/withdraw"))
            .header("authorization", format!("Bearer {}", world.editor))
            .content_type("text/plain")
            .body("please")
            .send()
            .await;
        common::Reply::from(reply.0)
            .await
            .expect_problem(415, "unsupported-media-type");
    }
);
