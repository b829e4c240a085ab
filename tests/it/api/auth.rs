//! Logging in, bearer JWTs, and the login rate limit.

use jsonwebtoken::{EncodingKey, Header};
use serde_json::{Value, json};

use futures_util::future::join_all;

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
        // A missing field is named.
        app.post(
            "/api/v1/auth/login",
            None,
            json!({"email": "ada@example.org"}),
        )
        .await
        .expect_field_error("password");
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
        let good = jwt(
            SECRET,
            json!({"sub": sub, "iat": now, "exp": now + 60, "ver": 0}),
        );
        app.get("/api/v1/me", Some(&good)).await.expect(200);
        let refused = [
            (
                "another secret",
                jwt(
                    "another-secret-another-secret-123",
                    json!({"sub": sub, "iat": now, "exp": now + 60, "ver": 0}),
                ),
            ),
            (
                "expired",
                jwt(
                    SECRET,
                    json!({"sub": sub, "iat": now - 7200, "exp": now - 3600, "ver": 0}),
                ),
            ),
            (
                "unknown user",
                jwt(
                    SECRET,
                    json!({"sub": "99999", "iat": now, "exp": now + 60, "ver": 0}),
                ),
            ),
            (
                "issued under older credentials",
                jwt(
                    SECRET,
                    json!({"sub": sub, "iat": now, "exp": now + 60, "ver": -1}),
                ),
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

/// A login from `client` (the address a trusted proxy appended).
async fn login_from(app: &TestApp, client: &str, email: &str, password: &str) -> Reply {
    let response = app
        .client
        .post("/api/v1/auth/login")
        .header("x-forwarded-for", client)
        .body_json(&json!({"email": email, "password": password}))
        .send()
        .await;
    Reply::from(response.0).await
}

fn behind_a_proxy() -> common::TestAppBuilder {
    TestApp::builder().config(|c| c.trust_proxy = true)
}

#[track_caller]
fn retry_after(reply: &Reply) -> u64 {
    reply
        .header("retry-after")
        .unwrap_or_else(|| panic!("no Retry-After: {:?}", reply.headers))
        .parse()
        .expect("Retry-After in seconds")
}

db_test!(
    failures_lock_out_one_address_for_one_account,
    behind_a_proxy().config(|c| c.login_attempts = 3),
    |app: common::TestApp| async move {
        app.user("ada@example.org", newsfeed::domain::Role::Member)
            .await;
        for _ in 0..3 {
            login_from(&app, "198.51.100.7", "ada@example.org", "wrong")
                .await
                .expect_problem(401, "unauthorized");
        }
        // That address is locked out of that account, even with the right password.
        for password in ["wrong", PASSWORD] {
            let reply = login_from(&app, "198.51.100.7", "ada@example.org", password).await;
            let problem = reply.expect_problem(429, "rate-limited");
            let wait = newsfeed::error::wait_in_words(retry_after(&reply));
            assert!(
                problem["detail"]
                    .as_str()
                    .is_some_and(|detail| detail.ends_with(&format!("try again in {wait}"))),
                "{problem}"
            );
            assert!((1..=15 * 60).contains(&retry_after(&reply)));
        }
        // The owner, elsewhere, is not locked out by a stranger's guesses.
        login_from(&app, "203.0.113.9", "ada@example.org", PASSWORD)
            .await
            .expect(200);
    }
);

db_test!(
    one_address_guessing_many_accounts_is_stopped,
    behind_a_proxy().config(|c| c.login_attempts_per_ip = 4),
    |app: common::TestApp| async move {
        for n in 0..4 {
            login_from(
                &app,
                "198.51.100.7",
                &format!("user{n}@example.org"),
                "guess",
            )
            .await
            .expect_problem(401, "unauthorized");
        }
        app.user("bob@example.org", newsfeed::domain::Role::Member)
            .await;
        login_from(&app, "198.51.100.7", "bob@example.org", PASSWORD)
            .await
            .expect_problem(429, "rate-limited");
        login_from(&app, "203.0.113.2", "bob@example.org", PASSWORD)
            .await
            .expect(200);
    }
);

db_test!(
    an_account_guessed_from_everywhere_is_slowed_never_locked,
    behind_a_proxy().config(|c| {
        c.login_attempts = 100;
        c.login_attempts_per_account = 3;
    }),
    |app: common::TestApp| async move {
        app.user("ada@example.org", newsfeed::domain::Role::Admin)
            .await;
        for n in 0..6 {
            login_from(&app, &format!("198.51.100.{n}"), "ada@example.org", "guess")
                .await
                .expect_problem(401, "unauthorized");
        }
        login_from(&app, "203.0.113.9", "ada@example.org", PASSWORD)
            .await
            .expect(200);
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

db_test!(
    concurrent_guesses_are_counted_before_the_password_is_checked,
    TestApp::builder(),
    |app: common::TestApp| async move {
        app.user("ada@example.org", newsfeed::domain::Role::Member)
            .await;
        let limit = app.state.config.login_attempts as usize;
        let replies = join_all((0..50).map(|_| login(&app, "ada@example.org", "wrong"))).await;
        let count = |status: u16| replies.iter().filter(|r| r.status == status).count();
        assert_eq!(count(401), limit, "exactly the budget was checked");
        assert_eq!(count(429), 50 - limit);
        for reply in replies.iter().filter(|r| r.status == 429) {
            reply.expect_problem(429, "rate-limited");
            retry_after(reply);
        }
        let bound = newsfeed::service::passwords::default_concurrency();
        let peak = app.state.services.passwords.peak_concurrency();
        assert!(
            (1..=bound).contains(&peak),
            "{peak} hashes at once, bound {bound}"
        );
    }
);

db_test!(
    a_full_password_queue_answers_503_with_retry_after,
    behind_a_proxy().config(|c| c.password_queue = 0),
    |app: common::TestApp| async move {
        let clients: Vec<(String, String)> = (0..50)
            .map(|n| (format!("198.51.100.{n}"), format!("u{n}@example.org")))
            .collect();
        let replies = join_all(
            clients
                .iter()
                .map(|(client, email)| login_from(&app, client, email, "guess")),
        )
        .await;
        let busy: Vec<&Reply> = replies.iter().filter(|r| r.status == 503).collect();
        assert!(!busy.is_empty(), "some are turned away");
        for reply in busy {
            reply.expect_problem(503, "unavailable");
            assert_eq!(retry_after(reply), 1);
        }
        assert!(
            replies
                .iter()
                .all(|r| [401, 503].contains(&r.status.as_u16()))
        );
        // Turned away is not an attempt: the address has its whole budget.
        let bound = newsfeed::service::passwords::default_concurrency();
        assert!(app.state.services.passwords.peak_concurrency() <= bound);
        assert_eq!(app.state.services.passwords.queued(), 0);
    }
);

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
        login_from(&app, attacker, "ada@example.org", "wrong")
            .await
            .expect_problem(401, "unauthorized");
    }
    let colleague = login_from(&app, "203.0.113.2", "bob@example.org", PASSWORD).await;
    let from_attacker = login_from(&app, "203.0.113.1", "bob@example.org", PASSWORD).await;
    if trust_proxy {
        colleague.expect(200);
        from_attacker.expect_problem(429, "rate-limited");
    } else {
        // One address for everyone: the attacker used up the colleague's budget too.
        colleague.expect_problem(429, "rate-limited");
    }
}

db_test!(
    forwarded_addresses_count_per_client_behind_a_trusted_proxy,
    behind_a_proxy().config(|c| c.login_attempts_per_ip = 2),
    proxied
);

db_test!(
    forwarded_addresses_are_ignored_without_a_trusted_proxy,
    TestApp::builder().config(|c| c.login_attempts_per_ip = 2),
    proxied
);

/// Two instances on one PostgreSQL share one budget.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(postgres_tests),
    ignore = "set NEWSFEED_TEST_DATABASE_URL to run it on PostgreSQL"
)]
async fn instances_on_one_database_share_the_login_budget() {
    let Some(app) = TestApp::builder()
        .config(|c| c.login_attempts = 4)
        .postgres()
        .await
    else {
        return;
    };
    let other = newsfeed::AppState::new((*app.state.config).clone())
        .await
        .expect("second instance");
    let other_client = poem::test::TestClient::new(poem::EndpointExt::boxed(newsfeed::app(other)));
    app.user("ada@example.org", newsfeed::domain::Role::Member)
        .await;
    for _ in 0..2 {
        login(&app, "ada@example.org", "wrong")
            .await
            .expect_problem(401, "unauthorized");
        let reply = other_client
            .post("/api/v1/auth/login")
            .body_json(&json!({"email": "ada@example.org", "password": "wrong"}))
            .send()
            .await;
        Reply::from(reply.0)
            .await
            .expect_problem(401, "unauthorized");
    }
    login(&app, "ada@example.org", PASSWORD)
        .await
        .expect_problem(429, "rate-limited");
}
