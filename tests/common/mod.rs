//! `TestApp`: the real router over a fresh database, SQLite or PostgreSQL.
//!
//! Every database test is written once with `db_test!` and runs on SQLite, and
//! also on PostgreSQL when `NEWSFEED_TEST_DATABASE_URL` is set.
#![allow(dead_code)]

use std::sync::atomic::{AtomicUsize, Ordering};

use newsfeed::domain::{GroupRole, Role};
use newsfeed::service::{groups, users};
use newsfeed::{AppState, Config};
use poem::endpoint::BoxEndpoint;
use poem::http::{Method, StatusCode};
use poem::test::TestClient;
use poem::{EndpointExt, Response};
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// Writes one test twice: on SQLite and (when configured) on PostgreSQL.
#[macro_export]
macro_rules! db_test {
    ($name:ident, $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let app = $crate::common::TestApp::sqlite().await;
                ($body)(app).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if let Some(app) = $crate::common::TestApp::postgres().await {
                    ($body)(app).await;
                }
            }
        }
    };
}

/// What a client saw.
pub struct Reply {
    pub status: StatusCode,
    pub headers: poem::http::HeaderMap,
    pub text: String,
}

impl Reply {
    pub async fn from(response: Response) -> Self {
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.into_body().into_string().await.expect("body");
        Self {
            status,
            headers,
            text,
        }
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {} {}", self.status, self.text))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts the status, printing the body when it differs.
    #[track_caller]
    pub fn expect(&self, status: u16) -> &Self {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.text);
        self
    }

    /// Asserts a problem+json error with this status.
    #[track_caller]
    pub fn expect_problem(&self, status: u16) -> Value {
        self.expect(status);
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json"),
            "body: {}",
            self.text
        );
        let problem = self.json();
        assert_eq!(problem["status"], status);
        problem
    }
}

pub struct TestApp {
    pub state: AppState,
    pub client: TestClient<BoxEndpoint<'static>>,
    pub backend: &'static str,
}

fn unique_name() -> String {
    format!(
        "nf_test_{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst),
        chrono::Utc::now().timestamp_micros() % 1_000_000
    )
}

/// Defaults, except that the public access-request form is not rate limited:
/// every test client shares one address, and the limit has its own test.
fn test_config() -> Config {
    Config {
        access_requests_per_hour: 10_000,
        ..Config::default()
    }
}

impl TestApp {
    pub async fn sqlite() -> Self {
        Self::sqlite_with(test_config()).await
    }

    pub async fn sqlite_with(config: Config) -> Self {
        let dir = std::env::temp_dir().join("newsfeed-tests");
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join(format!("{}.db", unique_name()));
        Self::with_url(
            config,
            format!("sqlite://{}?mode=rwc", path.display()),
            "sqlite",
        )
        .await
    }

    /// A fresh database on the server in `NEWSFEED_TEST_DATABASE_URL`, if set.
    pub async fn postgres() -> Option<Self> {
        Self::postgres_with(test_config()).await
    }

    pub async fn postgres_with(config: Config) -> Option<Self> {
        let base = std::env::var("NEWSFEED_TEST_DATABASE_URL").ok()?;
        let name = unique_name();
        let admin = sea_orm::Database::connect(&base)
            .await
            .expect("connect to NEWSFEED_TEST_DATABASE_URL");
        admin
            .execute_unprepared(&format!("CREATE DATABASE {name}"))
            .await
            .expect("create test database");
        admin.close().await.ok();
        let mut url = url::Url::parse(&base).expect("database URL");
        url.set_path(&name);
        Some(Self::with_url(config, url.to_string(), "postgres").await)
    }

    async fn with_url(mut config: Config, url: String, backend: &'static str) -> Self {
        config.database_url = url;
        config.db_pool = 4;
        config.jwt_secret = Some("test-secret-test-secret-test-secret!".into());
        let state = AppState::new(config).await.expect("app state");
        let client = TestClient::new(newsfeed::app(state.clone()).boxed());
        Self {
            state,
            client,
            backend,
        }
    }

    /// Sends a request as a client would; `token` goes in `Authorization: Bearer`.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        let mut request = self.client.request(method, path);
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        if let Some(body) = body {
            request = request.body_json(&body);
        }
        Reply::from(request.send().await.0).await
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Reply {
        self.call(Method::GET, path, token, None).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Reply {
        self.call(Method::POST, path, token, Some(body)).await
    }

    pub async fn patch(&self, path: &str, token: Option<&str>, body: Value) -> Reply {
        self.call(Method::PATCH, path, token, Some(body)).await
    }

    pub async fn delete(&self, path: &str, token: Option<&str>) -> Reply {
        self.call(Method::DELETE, path, token, None).await
    }

    /// Creates a user directly and returns a login token for them.
    pub async fn user(&self, email: &str, role: Role) -> String {
        let user = users::create_user(
            &self.state.db,
            users::NewUser {
                email: email.into(),
                password: "correct horse battery".into(),
                display_name: email.split('@').next().unwrap_or("user").into(),
                role,
            },
        )
        .await
        .expect("create user");
        self.state.jwt.issue(user.id).expect("token")
    }

    pub async fn admin(&self) -> String {
        self.user("admin@example.org", Role::Admin).await
    }

    /// Creates a group through the API as `admin`.
    pub async fn group(&self, admin: &str, slug: &str) {
        self.post(
            "/api/v1/groups",
            Some(admin),
            json!({"slug": slug, "name": format!("Group {slug}"), "country": "DE"}),
        )
        .await
        .expect(201);
    }

    /// Makes `email` a member of `slug` through the API.
    pub async fn member(&self, admin: &str, slug: &str, email: &str, role: GroupRole) {
        self.post(
            &format!("/api/v1/groups/{slug}/members"),
            Some(admin),
            json!({"email": email, "role": role.as_str()}),
        )
        .await
        .expect(201);
    }

    /// A draft announcement in `group`, created as `token`; returns its JSON.
    pub async fn draft(&self, token: &str, group: &str, title: &str) -> Value {
        self.post(
            "/api/v1/entries",
            Some(token),
            json!({"group": group, "kind": "announcement", "title": title,
                   "content": "<p>Some news</p>", "language": "en"}),
        )
        .await
        .expect(201)
        .json()
    }

    /// Creates, submits and approves an announcement; returns its id.
    pub async fn published(&self, editor: &str, moderator: &str, group: &str, title: &str) -> i64 {
        let id = self.draft(editor, group, title).await["id"]
            .as_i64()
            .expect("id");
        self.submit_and_approve(editor, moderator, id, json!({}))
            .await;
        id
    }

    /// Submits entry `id` as `editor` and approves it as `moderator` with `approval`.
    pub async fn submit_and_approve(
        &self,
        editor: &str,
        moderator: &str,
        id: i64,
        approval: Value,
    ) {
        self.post(
            &format!("/api/v1/entries/{id}/submit"),
            Some(editor),
            json!({}),
        )
        .await
        .expect(200);
        self.post(
            &format!("/api/v1/moderation/entries/{id}/approve"),
            Some(moderator),
            approval,
        )
        .await
        .expect(200);
    }

    /// Imports groups from CSV text directly through the service.
    pub async fn import(&self, csv: &str) -> groups::ImportReport {
        groups::import_csv(&self.state.db, csv.as_bytes())
            .await
            .expect("import")
    }
}

/// A world with one group and one person of every kind, for permission tests.
pub struct World {
    pub app: TestApp,
    pub admin: String,
    pub moderator: String,
    pub owner: String,
    pub editor: String,
    pub outsider: String,
    /// Editor of the other group, `beta`.
    pub other_editor: String,
}

impl World {
    pub async fn new(app: TestApp) -> Self {
        let admin = app.admin().await;
        let moderator = app.user("mod@example.org", Role::Moderator).await;
        let owner = app.user("owner@example.org", Role::Member).await;
        let editor = app.user("editor@example.org", Role::Member).await;
        let outsider = app.user("outsider@example.org", Role::Member).await;
        let other_editor = app.user("other@example.org", Role::Member).await;
        app.group(&admin, "alpha").await;
        app.group(&admin, "beta").await;
        app.member(&admin, "alpha", "owner@example.org", GroupRole::Owner)
            .await;
        app.member(&admin, "alpha", "editor@example.org", GroupRole::Editor)
            .await;
        app.member(&admin, "beta", "other@example.org", GroupRole::Editor)
            .await;
        Self {
            app,
            admin,
            moderator,
            owner,
            editor,
            outsider,
            other_editor,
        }
    }
}
