//! Logging in, bearer JWTs, and the login rate limit.

use jsonwebtoken::{EncodingKey, Header};
use serde_json::{Value, json};

use crate::common::{self, Reply, TestApp};

const PASSWORD: &str = "correct horse battery";
/// The secret `TestApp` configures.
const SECRET: &str = "test-secret-test-secret-test-secret!";

async fn login(app: &TestApp, email: &str, password: &str) -> Reply {
    app.post(
        "/api/v1/auth/login",
        None,
        json!({"email": email, "password": password}),
    )
    .await
}

fn jwt(secret: &str, claims: Value) -> String {
    jsonwebtoken::encode(
        &Header::default(),
        &claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .expect("encode")
}

db_test!(
    login_returns_a_bearer_token,
    |app: common::TestApp| async move {
        app.user("ada@example.org", newsfeed::domain::Role::Moderator)
            .await;
        let body = login(&app, "  Ada@Example.ORG ", PASSWORD)
            .await
            .expect(200)
            .json();
        assert_eq!(body["token_type"], "Bearer");
        assert_eq!(body["expires_in"], 12 * 3600);
        let token = body["access_token"].as_str().expect("access_token");
        let me = app.get("/api/v1/me", Some(token)).await.expect(200).json();
        assert_eq!(me["email"], "ada@example.org");
        assert_eq!(me["role"], "moderator");
        assert!(me.get("password_hash").is_none() && !me.to_string().contains("argon2"));
    }
);

db_test!(
    wrong_credentials_are_401_without_saying_which,
    |app: common::TestApp| async move {
        app.user("ada@example.org", newsfeed::domain::Role::Member)
            .await;
        let wrong_password = login(&app, "ada@example.org", "wrong password").await;
        let unknown = login(&app, "nobody@example.org", PASSWORD).await;
        let a = wrong_password.expect_problem(401, "unauthorized");
        let b = unknown.expect_problem(401, "unauthorized");
        assert_eq!(a["detail"], b["detail"], "no account enumeration");
        login(&app, "ada@example.org", "")
            .await
            .expect_problem(401, "unauthorized");
        // Missing fields are a malformed request.
        app.post(
            "/api/v1/auth/login",
            None,
            json!({"email": "ada@example.org"}),
        )
        .await
        .expect_problem(400, "bad-request");
    }
);

db_test!(
    only_valid_jwts_are_accepted,
    |app: common::TestApp| async move {
        let token = app
            .user("ada@example.org", newsfeed::domain::Role::Member)
            .await;
        app.get("/api/v1/me", Some(&token)).await.expect(200);
        let now = chrono::Utc::now().timestamp();
        let user_id = app.get("/api/v1/me", Some(&token)).await.json()["id"].clone();
        let sub = user_id.as_i64().expect("id").to_string();
        // The same claims, signed as the server would: accepted.
        let good = jwt(SECRET, json!({"sub": sub, "iat": now, "exp": now + 60}));
        app.get("/api/v1/me", Some(&good)).await.expect(200);
        let refused = [
            (
                "another secret",
                jwt(
                    "another-secret-another-secret-123",
                    json!({"sub": sub, "iat": now, "exp": now + 60}),
                ),
            ),
            (
                "expired",
                jwt(
                    SECRET,
                    json!({"sub": sub, "iat": now - 7200, "exp": now - 3600}),
                ),
            ),
            (
                "unknown user",
                jwt(SECRET, json!({"sub": "99999", "iat": now, "exp": now + 60})),
            ),
            ("no expiry", jwt(SECRET, json!({"sub": sub, "iat": now}))),
            ("tampered", format!("{}x", &token[..token.len() - 1])),
            ("garbage", "not.a.jwt".to_string()),
        ];
        for (what, bad) in refused {
            let reply = app.get("/api/v1/me", Some(&bad)).await;
            assert_eq!(reply.status, 401, "{what}: {}", reply.text);
            reply.expect_problem(401, "unauthorized");
        }
        // `alg: none` is refused.
        let header = base64_url(br#"{"alg":"none","typ":"JWT"}"#);
        let claims =
            base64_url(format!(r#"{{"sub":"{sub}","iat":{now},"exp":{}}}"#, now + 60).as_bytes());
        app.get("/api/v1/me", Some(&format!("{header}.{claims}.")))
            .await
            .expect_problem(401, "unauthorized");
        // A non-Bearer scheme is no credential.
        let response = app
            .client
            .get("/api/v1/me")
            .header("authorization", format!("Basic {token}"))
            .send()
            .await;
        Reply::from(response.0)
            .await
            .expect_problem(401, "unauthorized");
    }
);

fn base64_url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

db_test!(
    login_attempts_are_rate_limited,
    TestApp::builder().config(|c| c.login_attempts = 3),
    |app: common::TestApp| async move {
        app.user("ada@example.org", newsfeed::domain::Role::Member)
            .await;
        for _ in 0..3 {
            login(&app, "ada@example.org", "wrong")
                .await
                .expect_problem(401, "unauthorized");
        }
        // Locked out now, even with the right password.
        for password in ["wrong", PASSWORD] {
            let reply = login(&app, "ada@example.org", password).await;
            let problem = reply.expect_problem(429, "rate-limited");
            assert!(
                problem["detail"]
                    .as_str()
                    .is_some_and(|detail| detail.contains("seconds")),
                "{problem}"
            );
            let retry_after: u64 = reply
                .header("retry-after")
                .unwrap_or_else(|| panic!("no Retry-After: {:?}", reply.headers))
                .parse()
                .expect("Retry-After in seconds");
            assert!((1..=15 * 60).contains(&retry_after), "{retry_after}");
        }
        // The same address trying another account is limited too.
        app.user("bob@example.org", newsfeed::domain::Role::Member)
            .await;
        login(&app, "bob@example.org", PASSWORD)
            .await
            .expect_problem(429, "rate-limited");
    }
);

db_test!(
    failures_below_the_limit_do_not_lock_out,
    |app: common::TestApp| async move {
        app.user("ada@example.org", newsfeed::domain::Role::Member)
            .await;
        let limit = app.state.config.login_attempts;
        for _ in 1..limit {
            login(&app, "ada@example.org", "wrong")
                .await
                .expect_problem(401, "unauthorized");
        }
        login(&app, "ada@example.org", PASSWORD).await.expect(200);
    }
);

async fn login_via_proxy(app: &TestApp, email: &str, password: &str, forwarded: &str) -> Reply {
    let response = app
        .client
        .post("/api/v1/auth/login")
        .header("x-forwarded-for", forwarded)
        .body_json(&json!({"email": email, "password": password}))
        .send()
        .await;
    Reply::from(response.0).await
}

/// Behind a proxy every login comes from the proxy's address; `--trust-proxy`
/// counts failures per client instead, taking the entry the proxy appended.
async fn proxied(app: TestApp) {
    let trust_proxy = app.state.config.trust_proxy;
    app.user("ada@example.org", newsfeed::domain::Role::Member)
        .await;
    app.user("bob@example.org", newsfeed::domain::Role::Member)
        .await;
    // The attacker forges a first entry; the proxy appends the real address.
    let attacker = "198.51.100.7, 203.0.113.1";
    for _ in 0..2 {
        login_via_proxy(&app, "ada@example.org", "wrong", attacker)
            .await
            .expect_problem(401, "unauthorized");
    }
    let colleague = login_via_proxy(&app, "bob@example.org", PASSWORD, "203.0.113.2").await;
    let from_attacker = login_via_proxy(&app, "bob@example.org", PASSWORD, "203.0.113.1").await;
    if trust_proxy {
        colleague.expect(200);
        from_attacker.expect_problem(429, "rate-limited");
    } else {
        // One address for everyone: the attacker locked the colleague out too.
        colleague.expect_problem(429, "rate-limited");
    }
}

db_test!(
    forwarded_addresses_count_per_client_behind_a_trusted_proxy,
    TestApp::builder().config(|c| {
        c.login_attempts = 2;
        c.trust_proxy = true;
    }),
    proxied
);

db_test!(
    forwarded_addresses_are_ignored_without_a_trusted_proxy,
    TestApp::builder().config(|c| c.login_attempts = 2),
    proxied
);
