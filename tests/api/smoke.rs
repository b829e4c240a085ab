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
    app.get("/api/v1/me", None).await.expect_problem(401);
    app.get("/api/v1/me", Some("garbage"))
        .await
        .expect_problem(401);
});
