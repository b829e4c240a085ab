//! Group API tokens: shown once, `nf_` prefixed, scoped to one group, revocable.

use serde_json::json;

use crate::api::support::{entry, id_of};
use crate::common::{self, World};

db_test!(
    a_token_is_shown_once_and_listed_without_its_secret,
    |app: common::TestApp| async move {
        let w = World::new(app).await;
        let app = &w.app;
        let created = issue_token(&w, "website CI").await;
        let secret = created["token"].as_str().expect("token").to_string();
        assert!(secret.starts_with("nf_"), "{secret}");
        assert_eq!(secret.len(), 3 + 64);
        assert!(
            secret[3..].chars().all(|c| c.is_ascii_hexdigit()),
            "{secret}"
        );
        assert_eq!(created["name"], "website CI");
        let prefix = created["prefix"].as_str().expect("prefix");
        assert!(secret.starts_with(prefix) && prefix.len() < secret.len() / 2);
        assert_eq!(created["last_used_at"], serde_json::Value::Null);
        assert_eq!(created["revoked_at"], serde_json::Value::Null);
        // The listing never shows the secret again.
        let listing = app.get("/api/v1/groups/alpha/tokens", Some(&w.owner)).await;
        listing.expect(200);
        assert!(
            !listing.text.contains(&secret[prefix.len()..]),
            "{}",
            listing.text
        );
        let tokens = listing.json();
        let token = &tokens.as_array().expect("array")[0];
        assert_eq!(token["name"], "website CI");
        assert!(token.get("token").is_none(), "{token}");
        // Two tokens never share a secret.
        let second = app
            .post(
                "/api/v1/groups/alpha/tokens",
                Some(&w.owner),
                json!({"name": "other"}),
            )
            .await
            .expect(201)
            .json();
        assert_ne!(second["token"], created["token"]);
    }
);

db_test!(
    a_token_works_as_bearer_for_its_group_only,
    |app: common::TestApp| async move {
        let w = World::new(app).await;
        let app = &w.app;
        let (token, token_id) = issue_ci_token(&w).await;
        // It writes for alpha: create, edit, submit.
        let draft = app.draft(&token, "alpha", "From CI").await;
        let id = id_of(&draft);
        assert_eq!(draft["group"], "alpha");
        app.patch(
            &format!("/api/v1/entries/{id}"),
            Some(&token),
            json!({"version": draft["version"], "title": "From CI, edited"}),
        )
        .await
        .expect(200);
        app.post(
            &format!("/api/v1/entries/{id}/submit"),
            Some(&token),
            json!({}),
        )
        .await
        .expect(200);
        assert_eq!(entry(app, &w.editor, id).await["status"], "pending");
        // Not for beta, not for moderation, not for managing the group.
        let beta = app.draft(&w.other_editor, "beta", "Beta news").await;
        app.get(&format!("/api/v1/entries/{}", id_of(&beta)), Some(&token))
            .await
            .expect_problem(404, "not-found");
        app.post(
            "/api/v1/entries",
            Some(&token),
            json!({"group": "beta", "kind": "announcement", "title": "t", "content": "c"}),
        )
        .await
        .expect_problem(403, "forbidden");
        app.post(
            &format!("/api/v1/moderation/entries/{id}/approve"),
            Some(&token),
            json!({}),
        )
        .await
        .expect_problem(403, "forbidden");
        app.get("/api/v1/moderation/queue", Some(&token))
            .await
            .expect_problem(403, "forbidden");
        app.post(
            "/api/v1/groups/alpha/members",
            Some(&token),
            json!({"email": "outsider@example.org", "role": "editor"}),
        )
        .await
        .expect_problem(403, "forbidden");
        // Its use is recorded.
        let tokens = app
            .get("/api/v1/groups/alpha/tokens", Some(&w.owner))
            .await
            .expect(200)
            .json();
        let listed = tokens
            .as_array()
            .expect("array")
            .iter()
            .find(|t| t["id"] == token_id)
            .expect("listed")
            .clone();
        let used = chrono::DateTime::parse_from_rfc3339(
            listed["last_used_at"].as_str().expect("last_used_at set"),
        )
        .expect("date")
        .timestamp();
        assert!(
            (chrono::Utc::now().timestamp() - used).abs() < 120,
            "{listed}"
        );
    }
);

db_test!(
    a_revoked_token_is_refused_at_once,
    |app: common::TestApp| async move {
        let w = World::new(app).await;
        let app = &w.app;
        let (token, token_id) = issue_ci_token(&w).await;
        app.get("/api/v1/entries", Some(&token)).await.expect(200);
        // Another group's owner path cannot revoke it.
        app.delete(
            &format!("/api/v1/groups/beta/tokens/{token_id}"),
            Some(&w.admin),
        )
        .await
        .expect_problem(404, "not-found");
        let revoked = app
            .delete(
                &format!("/api/v1/groups/alpha/tokens/{token_id}"),
                Some(&w.owner),
            )
            .await
            .expect(200)
            .json();
        assert!(revoked["revoked_at"].is_string(), "{revoked}");
        for path in ["/api/v1/entries", "/api/v1/me"] {
            app.get(path, Some(&token))
                .await
                .expect_problem(401, "unauthorized");
        }
        app.post(
            "/api/v1/entries",
            Some(&token),
            json!({"group": "alpha", "kind": "announcement", "title": "t", "content": "c"}),
        )
        .await
        .expect_problem(401, "unauthorized");
        // Revoking again changes nothing and keeps the first revocation time.
        let again = app
            .delete(
                &format!("/api/v1/groups/alpha/tokens/{token_id}"),
                Some(&w.owner),
            )
            .await
            .expect(200)
            .json();
        assert_eq!(again["revoked_at"], revoked["revoked_at"]);
        app.get("/api/v1/entries", Some(&token))
            .await
            .expect_problem(401, "unauthorized");
        // Made-up tokens are refused the same way.
        for fake in [
            "nf_",
            "nf_0000000000000000000000000000000000000000000000000000000000000000",
            "nf_x",
        ] {
            app.get("/api/v1/entries", Some(fake))
                .await
                .expect_problem(401, "unauthorized");
        }
        app.delete("/api/v1/groups/alpha/tokens/99999", Some(&w.owner))
            .await
            .expect_problem(404, "not-found");
    }
);

db_test!(
    work_done_with_a_token_is_attributed_to_it,
    |app: common::TestApp| async move {
        let w = World::new(app).await;
        let app = &w.app;
        let created = issue_token(&w, "site").await;
        let token = created["token"].as_str().expect("token").to_string();
        let id = id_of(&app.draft(&token, "alpha", "via token").await);
        let history = app
            .get(&format!("/api/v1/entries/{id}/history"), Some(&w.editor))
            .await
            .expect(200)
            .json();
        assert_eq!(history[0]["action"], "create");
        assert_eq!(history[0]["actor"], "token site");
        // /me with a token describes the token, not the person who issued it.
        let me = app.get("/api/v1/me", Some(&token)).await.expect(200).json();
        assert_eq!(me["kind"], "group_token");
        assert_eq!(me["name"], "site");
        assert!(me.get("email").is_none(), "{me}");
    }
);

/// An API token named `name` for group alpha, issued by its owner: the 201 body.
async fn issue_token(w: &World, name: &str) -> serde_json::Value {
    w.app
        .post(
            "/api/v1/groups/alpha/tokens",
            Some(&w.owner),
            json!({"name": name}),
        )
        .await
        .expect(201)
        .json()
}

/// An API token named `ci` for group alpha: `(secret, id)`.
async fn issue_ci_token(w: &World) -> (String, i64) {
    let created = issue_token(w, "ci").await;
    let token = created["token"].as_str().expect("token").to_string();
    (token, created["id"].as_i64().expect("id"))
}
