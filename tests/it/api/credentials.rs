//! Credentials never outlive what granted them.

use serde_json::json;

use crate::api::support::group_token;
use crate::common::{self, World};

async fn user_id(app: &common::TestApp, admin: &str, email: &str) -> i64 {
    app.get("/api/v1/users", Some(admin))
        .await
        .expect(200)
        .json()
        .as_array()
        .expect("users")
        .iter()
        .find(|user| user["email"] == email)
        .and_then(|user| user["id"].as_i64())
        .expect("user id")
}

db_test!(
    reenabling_a_person_does_not_revive_old_logins,
    |app: common::TestApp| async move {
        let w = World::new(app).await;
        let app = &w.app;
        let id = user_id(app, &w.admin, "editor@example.org").await;
        let path = format!("/api/v1/users/{id}");
        app.get("/api/v1/me", Some(&w.editor)).await.expect(200);
        app.patch(&path, Some(&w.admin), json!({"disabled": true}))
            .await
            .expect(200);
        app.get("/api/v1/me", Some(&w.editor))
            .await
            .expect_problem(401, "unauthorized");
        app.patch(&path, Some(&w.admin), json!({"disabled": false}))
            .await
            .expect(200);
        app.get("/api/v1/me", Some(&w.editor))
            .await
            .expect_problem(401, "unauthorized");
        let fresh = app
            .post(
                "/api/v1/auth/login",
                None,
                json!({"email": "editor@example.org", "password": common::PASSWORD}),
            )
            .await
            .expect(200)
            .json()["access_token"]
            .as_str()
            .expect("token")
            .to_string();
        app.get("/api/v1/me", Some(&fresh)).await.expect(200);
    }
);

db_test!(
    a_group_token_works_only_while_its_issuer_may_write_for_the_group,
    |app: common::TestApp| async move {
        let w = World::new(app).await;
        let app = &w.app;
        let (_, token) = group_token(app, &w.owner, "alpha", "site").await;
        let owner_id = user_id(app, &w.admin, "owner@example.org").await;
        let draft = json!({"group": "alpha", "kind": "announcement", "title": "t",
                           "content": "<p>c</p>"});
        let created = app
            .post("/api/v1/entries", Some(&token), draft.clone())
            .await
            .expect(201)
            .json();
        assert_eq!(created["author_id"], owner_id);
        let user = format!("/api/v1/users/{owner_id}");
        app.patch(&user, Some(&w.admin), json!({"disabled": true}))
            .await
            .expect(200);
        app.post("/api/v1/entries", Some(&token), draft.clone())
            .await
            .expect_problem(401, "unauthorized");
        app.patch(&user, Some(&w.admin), json!({"disabled": false}))
            .await
            .expect(200);
        app.post("/api/v1/entries", Some(&token), draft.clone())
            .await
            .expect(201);
        // Leaving the group takes the token's rights with it.
        app.delete(
            &format!("/api/v1/groups/alpha/members/{owner_id}"),
            Some(&w.admin),
        )
        .await
        .expect(204);
        app.post("/api/v1/entries", Some(&token), draft)
            .await
            .expect_problem(401, "unauthorized");
    }
);

db_test!(
    me_with_a_group_token_says_what_the_token_is,
    |app: common::TestApp| async move {
        let w = World::new(app).await;
        let app = &w.app;
        let (id, token) = group_token(app, &w.admin, "alpha", "ci").await;
        let me = app.get("/api/v1/me", Some(&token)).await.expect(200).json();
        assert_eq!(
            me,
            json!({"kind": "group_token", "id": id, "name": "ci", "prefix": &token[..10],
                   "group": "alpha", "scopes": ["entries:read", "entries:write"]})
        );
        // Not the admin who issued it.
        assert!(me.get("role").is_none() && me.get("email").is_none());
        let person = app
            .get("/api/v1/me", Some(&w.admin))
            .await
            .expect(200)
            .json();
        assert_eq!(person["kind"], "user");
        assert_eq!(person["role"], "admin");
    }
);
