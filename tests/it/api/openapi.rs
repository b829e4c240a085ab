//! The committed OpenAPI document is the truth: the code must produce exactly it.

#[test]
fn committed_spec_matches_the_code() {
    let committed = include_str!("../../../openapi/openapi.json");
    let generated = newsfeed::openapi().spec();
    assert!(
        committed.trim_end() == generated.trim_end(),
        "openapi/openapi.json is stale: run `cargo run -- openapi > openapi/openapi.json`"
    );
}

#[test]
fn spec_is_served_and_lists_every_contract_path() {
    let spec: serde_json::Value =
        serde_json::from_str(&newsfeed::openapi().spec()).expect("spec is JSON");
    let paths = spec["paths"].as_object().expect("paths");
    for path in [
        "/api/v1/auth/login",
        "/api/v1/me",
        "/api/v1/users",
        "/api/v1/groups",
        "/api/v1/groups/{slug}/members",
        "/api/v1/groups/{slug}/tokens",
        "/api/v1/access-requests",
        "/api/v1/entries",
        "/api/v1/entries/{id}",
        "/api/v1/entries/{id}/submit",
        "/api/v1/entries/{id}/withdraw",
        "/api/v1/entries/{id}/history",
        "/api/v1/moderation/queue",
        "/api/v1/moderation/entries/{id}/approve",
        "/api/v1/moderation/entries/{id}/reject",
        "/api/v1/moderation/entries/{id}/request-changes",
        "/api/v1/moderation/entries/{id}/unpublish",
        "/api/v1/moderation/entries/{id}/comment",
        "/healthz",
        "/readyz",
    ] {
        assert!(paths.contains_key(path), "missing {path}");
    }
    assert_eq!(
        spec["components"]["securitySchemes"]["BearerAuth"]["scheme"],
        "bearer"
    );
}

db_test!(
    spec_and_docs_are_served,
    |app: crate::common::TestApp| async move {
        let served = app.get("/api/v1/openapi.json", None).await;
        served.expect(200);
        let served: serde_json::Value = served.json();
        let committed: serde_json::Value =
            serde_json::from_str(include_str!("../../../openapi/openapi.json"))
                .expect("committed spec");
        assert_eq!(served, committed);

        let docs = app.get("/api/docs", None).await;
        docs.expect(200);
        assert!(docs.text.contains("swagger"), "{}", docs.text);
    }
);
