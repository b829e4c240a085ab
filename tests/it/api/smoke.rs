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

db_test!(
    headers_a_browser_and_a_client_rely_on,
    |app: common::TestApp| async move {
        let page = app.get("/", None).await;
        page.expect(200);
        let policy = page.header("content-security-policy").unwrap_or_default();
        for part in [
            "script-src 'self'",
            "object-src 'none'",
            "frame-ancestors 'none'",
        ] {
            assert!(policy.contains(part), "{policy}");
        }
        assert_eq!(page.header("x-content-type-options"), Some("nosniff"));
        assert_eq!(page.header("referrer-policy"), Some("same-origin"));
        assert_eq!(page.header("x-frame-options"), Some("DENY"));
        let docs = app.get("/api/docs/", None).await;
        assert!(
            docs.header("content-security-policy").is_some_and(
                |p| p.contains("'unsafe-inline'") && p.contains("frame-ancestors 'none'")
            ),
            "{:?}",
            docs.headers
        );
        // JSON has no page policy, but is never sniffed as something else.
        let json = app.get("/api/v1/groups", None).await;
        assert_eq!(json.header("x-content-type-options"), Some("nosniff"));
        assert!(json.header("content-security-policy").is_none());
        // A 401 says how to authenticate.
        for token in [None, Some("garbage")] {
            let reply = app.get("/api/v1/me", token).await;
            reply.expect_problem(401, "unauthorized");
            assert_eq!(
                reply.header("www-authenticate"),
                Some("Bearer realm=\"newsfeed\"")
            );
        }
    }
);

db_test!(
    refusals_do_not_echo_the_input_back,
    |app: common::TestApp| async move {
        let huge = "x".repeat(20_000);
        let reply = app.get(&format!("/?lang={huge}"), None).await;
        reply.expect(400);
        assert!(reply.text.len() < 200, "{} bytes", reply.text.len());
        let admin = app.admin().await;
        let reply = app
            .post(
                "/api/v1/groups",
                Some(&admin),
                json!({"slug": "g", "name": ["x".repeat(20_000)]}),
            )
            .await;
        let problem = reply.expect_field_error("name");
        assert!(
            reply.text.len() < 800,
            "{} bytes: {problem}",
            reply.text.len()
        );
    }
);

db_test!(
    a_stopped_app_stops_every_task_it_started,
    |app: common::TestApp| async move {
        // The scheduler, the refresher and (on PostgreSQL) the change
        // listener each hold the feed hub: once the app is gone, so is it.
        let hub = std::sync::Arc::downgrade(&app.state.feeds);
        drop(app);
        let mut stopped = false;
        for _ in 0..200 {
            if hub.upgrade().is_none() {
                stopped = true;
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        assert!(stopped, "a task of the dropped app still runs");
    }
);
