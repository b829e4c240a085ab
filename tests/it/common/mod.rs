//! `TestApp`: the real router over a fresh database, SQLite or PostgreSQL,
//! built by [`TestAppBuilder`] (config, clock, fixtures).
//!
//! Every database test is written once with `db_test!` and runs on SQLite, and
//! also on PostgreSQL when `NEWSFEED_TEST_DATABASE_URL` is set (each test on a
//! database of its own, dropped when the test ends). Without it the
//! PostgreSQL arms are reported as ignored (`build.rs` sets
//! `cfg(postgres_tests)` from the variable).
#![allow(dead_code)]

use std::collections::HashMap;
use std::io::Write as _;
use std::sync::atomic::{AtomicUsize, Ordering};

use newsfeed::clock::Clock;
use newsfeed::domain::user::NewUser;
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

/// The password every fixture user has.
pub const PASSWORD: &str = "correct horse battery";
/// The JWT secret every test app signs with.
pub const JWT_SECRET: &str = "test-secret-test-secret-test-secret!";

/// Writes one test twice: on SQLite and (when configured) on PostgreSQL.
/// `db_test!(name, |app| async move { .. })` starts from the default
/// builder; `db_test!(name, TestApp::builder().config(..), |app| ..)` from another.
#[macro_export]
macro_rules! db_test {
    ($name:ident, $body:expr) => {
        db_test!($name, $crate::common::TestApp::builder(), $body);
    };
    ($name:ident, $builder:expr, $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let app = ($builder).sqlite().await;
                ($body)(app).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            #[cfg_attr(
                not(postgres_tests),
                ignore = "set NEWSFEED_TEST_DATABASE_URL to run it on PostgreSQL"
            )]
            async fn postgres() {
                if let Some(app) = ($builder).postgres().await {
                    ($body)(app).await;
                }
            }
        }
    };
}

/// Unix seconds now, by the system clock (what apps use unless given another).
/// The Python with the independent checkers: unless one is named
/// (`NEWSFEED_TEST_PYTHON`), the project's own `.venv`, installed by
/// `.ci/python-deps` on first use, so that `cargo test` alone passes on a
/// fresh machine.
pub fn python() -> String {
    static INSTALLED: std::sync::Once = std::sync::Once::new();
    std::env::var("NEWSFEED_TEST_PYTHON").unwrap_or_else(|_| {
        let root = env!("CARGO_MANIFEST_DIR");
        INSTALLED.call_once(|| {
            let status = std::process::Command::new("bash")
                .arg(format!("{root}/.ci/python-deps"))
                .status()
                .expect("bash runs .ci/python-deps");
            assert!(status.success(), ".ci/python-deps failed: {status}");
        });
        format!("{root}/.venv/bin/python")
    })
}

/// The path of `script` in the Node test peer `peer` (`tests/peers/{peer}`),
/// its packages installed by `.ci/peer-deps` on first use in this process.
pub fn node_peer(peer: &str, script: &str) -> String {
    static INSTALLED: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
    let root = env!("CARGO_MANIFEST_DIR");
    let mut installed = INSTALLED
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if !installed.iter().any(|done| done == peer) {
        let status = std::process::Command::new("bash")
            .arg(format!("{root}/.ci/peer-deps"))
            .arg(peer)
            .status()
            .expect("bash runs .ci/peer-deps");
        assert!(status.success(), ".ci/peer-deps {peer} failed: {status}");
        installed.push(peer.to_string());
    }
    format!("{root}/tests/peers/{peer}/{script}")
}

/// Runs `script` (Python, with the checkers of `.ci/python-deps`) on `input`
/// as its stdin and returns the JSON it prints: what a parser that is not
/// ours read from our output.
pub fn python_reads(script: &str, input: &[u8]) -> serde_json::Value {
    let mut child = std::process::Command::new(python())
        .args(["-c", script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("python starts");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input)
        .expect("write to python");
    let output = child.wait_with_output().expect("python runs");
    assert!(
        output.status.success(),
        "python failed: {}\n{}",
        String::from_utf8_lossy(&output.stderr),
        String::from_utf8_lossy(input)
    );
    serde_json::from_slice(&output.stdout).unwrap_or_else(|error| {
        panic!(
            "python printed no JSON ({error}): {}",
            String::from_utf8_lossy(&output.stdout)
        )
    })
}

pub fn now() -> i64 {
    chrono::Utc::now().timestamp()
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

    /// Asserts a problem+json error with this status whose `type` is
    /// `<public url>/problems/{slug}`, and returns it.
    #[track_caller]
    pub fn expect_problem(&self, status: u16, slug: &str) -> Value {
        self.expect_problem_among(status, &[slug])
    }

    /// As [`Reply::expect_problem`], for an answer that may rightly be one
    /// of several types (two requests racing: either loses for its reason).
    #[track_caller]
    pub fn expect_problem_among(&self, status: u16, slugs: &[&str]) -> Value {
        assert!(
            slugs.iter().all(|slug| !slug.is_empty()),
            "name the problem type a client gets"
        );
        self.expect(status);
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json"),
            "body: {}",
            self.text
        );
        let problem = self.json();
        assert_eq!(problem["status"], status);
        assert!(
            problem["detail"].as_str().is_some_and(|d| !d.is_empty()),
            "a problem says what went wrong: {problem}"
        );
        // Under the app's public URL (the default one, or the one a test set).
        let kind = problem["type"].as_str().unwrap_or_default();
        assert!(
            kind.starts_with("http")
                && kind
                    .rsplit_once("/problems/")
                    .is_some_and(|(_, slug)| slugs.contains(&slug)),
            "problem type one of {slugs:?} under /problems/: {problem}"
        );
        problem
    }
}

impl Reply {
    /// Asserts a 422 validation problem whose `errors` name `field`.
    #[track_caller]
    pub fn expect_field_error(&self, field: &str) -> Value {
        let problem = self.expect_problem(422, "validation");
        let fields: Vec<&str> = problem["errors"]
            .as_array()
            .unwrap_or_else(|| panic!("no errors[] in {problem}"))
            .iter()
            .filter_map(|error| error["field"].as_str())
            .collect();
        assert!(
            fields.contains(&field),
            "expected an error on `{field}`, got {fields:?}: {problem}"
        );
        problem
    }
}

/// Something a test wants in place before it starts.
#[derive(Clone, Debug, PartialEq)]
enum Fixture {
    User {
        email: String,
        role: Role,
    },
    Group {
        slug: String,
    },
    Member {
        slug: String,
        email: String,
        role: GroupRole,
    },
    Token {
        slug: String,
        name: String,
    },
}

/// How a test wants its app: config overrides, a clock, fixtures.
#[derive(Clone)]
pub struct TestAppBuilder {
    config: Config,
    clock: Clock,
    fixtures: Vec<Fixture>,
}

impl TestAppBuilder {
    /// Changes the config (limits, features) before the app starts.
    pub fn config(mut self, change: impl FnOnce(&mut Config)) -> Self {
        change(&mut self.config);
        self
    }

    /// Runs the app on `clock` (e.g. `Clock::manual(t)`, moved by `app.clock.advance`).
    pub fn clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// A user `email` with `role`; their login token is `app.token(email)`.
    pub fn with_user(mut self, email: &str, role: Role) -> Self {
        self.fixtures.push(Fixture::User {
            email: email.into(),
            role,
        });
        self
    }

    /// `admin@example.org`, an admin; `app.token("admin")`.
    pub fn with_admin(self) -> Self {
        self.with_user(ADMIN, Role::Admin)
    }

    /// `mod@example.org`, a moderator; `app.token("mod@example.org")`.
    pub fn with_moderator(self) -> Self {
        self.with_user(MODERATOR, Role::Moderator)
    }

    /// A group `slug` (created through the API by the admin, added if missing).
    pub fn with_group(mut self, slug: &str) -> Self {
        if !self.has_user(ADMIN) {
            self = self.with_admin();
        }
        self.fixtures.push(Fixture::Group { slug: slug.into() });
        self
    }

    /// A member `email` of group `slug` with `role`.
    pub fn with_member(mut self, slug: &str, email: &str, role: GroupRole) -> Self {
        if !self.has_user(email) {
            self = self.with_user(email, Role::Member);
        }
        self.fixtures.push(Fixture::Member {
            slug: slug.into(),
            email: email.into(),
            role,
        });
        self
    }

    /// An editor `email` of group `slug`.
    pub fn with_editor(self, slug: &str, email: &str) -> Self {
        self.with_member(slug, email, GroupRole::Editor)
    }

    /// An API token `name` of group `slug`, issued by the admin; `app.token(name)`.
    pub fn with_token(mut self, slug: &str, name: &str) -> Self {
        self.fixtures.push(Fixture::Token {
            slug: slug.into(),
            name: name.into(),
        });
        self
    }

    fn has_user(&self, email: &str) -> bool {
        self.fixtures
            .iter()
            .any(|f| matches!(f, Fixture::User { email: e, .. } if e == email))
    }

    pub async fn sqlite(self) -> TestApp {
        let scratch = Scratch::new();
        let url = format!(
            "sqlite://{}?mode=rwc",
            scratch.path.join("app.db").display()
        );
        self.start(url, "sqlite", None, Some(scratch)).await
    }

    /// A fresh database on the server in `NEWSFEED_TEST_DATABASE_URL`; `None`
    /// (and a line on standard error saying so) when it is not set.
    pub async fn postgres(self) -> Option<TestApp> {
        let Ok(base) = std::env::var("NEWSFEED_TEST_DATABASE_URL") else {
            // Written past the test harness's capture, so a skip is never a silent pass.
            let _ = writeln!(
                std::io::stderr(),
                "postgres arm skipped: NEWSFEED_TEST_DATABASE_URL is not set"
            );
            return None;
        };
        let database = PgDatabase::create(&base).await;
        let url = database.url.clone();
        Some(self.start(url, "postgres", Some(database), None).await)
    }

    /// The app over an existing database (e.g. one an import filled); its
    /// fixtures are not installed.
    pub async fn open(self, url: &str) -> TestApp {
        let backend = if url.starts_with("postgres") {
            "postgres"
        } else {
            "sqlite"
        };
        Self {
            fixtures: Vec::new(),
            ..self
        }
        .start(url.to_string(), backend, None, None)
        .await
    }

    async fn start(
        mut self,
        url: String,
        backend: &'static str,
        database: Option<PgDatabase>,
        mut scratch: Option<Scratch>,
    ) -> TestApp {
        self.config.database_url = url;
        if self.config.media_dir.is_none() {
            // Each test stores its pictures apart, so sweeps see only their own.
            let dir = scratch.get_or_insert_with(Scratch::new).path.join("media");
            self.config.media_dir = Some(dir);
        }
        let state = AppState::with_clock(self.config, self.clock.clone())
            .await
            .expect("app state");
        let client = TestClient::new(newsfeed::app(state.clone()).boxed());
        let mut app = TestApp {
            state,
            client,
            backend,
            clock: self.clock,
            tokens: HashMap::new(),
            installed: Vec::new(),
            _database: database,
            _scratch: scratch,
        };
        for fixture in self.fixtures {
            app.install(fixture).await;
        }
        app
    }
}

const ADMIN: &str = "admin@example.org";
const MODERATOR: &str = "mod@example.org";

/// A folder of one test's files (its SQLite database, its pictures), removed
/// when the test ends, so runs leave nothing in the temp dir.
pub struct Scratch {
    pub path: std::path::PathBuf,
}

impl Scratch {
    fn new() -> Self {
        let path = std::env::temp_dir()
            .join("newsfeed-tests")
            .join(unique_name());
        std::fs::create_dir_all(&path).expect("temp dir");
        Self { path }
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// A PostgreSQL database of one test, dropped when the test ends.
pub struct PgDatabase {
    base: String,
    name: String,
    pub url: String,
}

impl PgDatabase {
    pub async fn create(base: &str) -> Self {
        let name = unique_name();
        let admin = sea_orm::Database::connect(base)
            .await
            .expect("connect to NEWSFEED_TEST_DATABASE_URL");
        admin
            .execute_unprepared(&format!("CREATE DATABASE {name}"))
            .await
            .expect("create test database");
        admin.close().await.ok();
        let mut url = url::Url::parse(base).expect("database URL");
        url.set_path(&name);
        Self {
            base: base.into(),
            name,
            url: url.to_string(),
        }
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let (base, name) = (self.base.clone(), self.name.clone());
        // Drop runs inside the test's runtime, which cannot block on itself.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            runtime.block_on(async {
                let admin = sea_orm::Database::connect(&base).await.ok()?;
                let result = admin
                    .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .await;
                admin.close().await.ok();
                result.ok()
            })
        })
        .join();
        if !matches!(dropped, Ok(Some(_))) {
            let _ = writeln!(
                std::io::stderr(),
                "could not drop test database {}",
                self.name
            );
        }
    }
}

fn unique_name() -> String {
    format!(
        "nf_test_{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst),
        chrono::Utc::now().timestamp_micros() % 1_000_000
    )
}

/// Defaults, except that the public access-request form is not rate limited
/// (every test client shares one address; the limit has its own test), with
/// a fixed JWT secret and a small pool.
fn test_config() -> Config {
    Config {
        access_requests_per_hour: 10_000,
        jwt_secret: Some(JWT_SECRET.into()),
        db_pool: 4,
        ..Config::default()
    }
}

pub struct TestApp {
    pub state: AppState,
    pub client: TestClient<BoxEndpoint<'static>>,
    pub backend: &'static str,
    /// The app's clock: `Clock::manual` ones move with `advance`.
    pub clock: Clock,
    tokens: HashMap<String, String>,
    installed: Vec<Fixture>,
    _database: Option<PgDatabase>,
    /// The SQLite file and pictures of this test, removed with it.
    _scratch: Option<Scratch>,
}

impl TestApp {
    pub fn builder() -> TestAppBuilder {
        TestAppBuilder {
            config: test_config(),
            clock: Clock::system(),
            fixtures: Vec::new(),
        }
    }

    /// The bearer token of a fixture: `"admin"`, a user's email or a token's name.
    #[track_caller]
    pub fn token(&self, name: &str) -> &str {
        let key = if name == "admin" { ADMIN } else { name };
        self.tokens
            .get(key)
            .unwrap_or_else(|| panic!("no fixture {name}"))
    }

    /// Stops this app and starts another on the same database (and clock,
    /// fixtures and login tokens), with `change` applied to its config: a
    /// restart, or a second instance after the first one died.
    pub async fn restart(mut self, change: impl FnOnce(&mut Config)) -> TestApp {
        let mut config = (*self.state.config).clone();
        change(&mut config);
        let database = self._database.take();
        let scratch = self._scratch.take();
        let (clock, tokens, installed, backend) = (
            self.clock.clone(),
            std::mem::take(&mut self.tokens),
            std::mem::take(&mut self.installed),
            self.backend,
        );
        // As `newsfeed serve` does once its last request is answered.
        self.state.shutdown().await;
        drop(self);
        let state = AppState::with_clock(config, clock.clone())
            .await
            .expect("app state");
        let client = TestClient::new(newsfeed::app(state.clone()).boxed());
        TestApp {
            state,
            client,
            backend,
            clock,
            tokens,
            installed,
            _database: database,
            _scratch: scratch,
        }
    }

    async fn install(&mut self, fixture: Fixture) {
        if self.installed.contains(&fixture) {
            return;
        }
        self.installed.push(fixture.clone());
        match fixture {
            Fixture::User { email, role } => {
                let token = self.user(&email, role).await;
                self.tokens.insert(email, token);
            }
            Fixture::Group { slug } => {
                let admin = self.token(ADMIN).to_string();
                self.group(&admin, &slug).await;
            }
            Fixture::Member { slug, email, role } => {
                let admin = self.token(ADMIN).to_string();
                self.member(&admin, &slug, &email, role).await;
            }
            Fixture::Token { slug, name } => {
                let admin = self.token(ADMIN).to_string();
                let secret = self
                    .post(
                        &format!("/api/v1/groups/{slug}/tokens"),
                        Some(&admin),
                        json!({"name": name}),
                    )
                    .await
                    .expect(201)
                    .json()["token"]
                    .as_str()
                    .expect("token secret")
                    .to_string();
                self.tokens.insert(name, secret);
            }
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
            &self.state.services,
            NewUser {
                email: email.into(),
                password: PASSWORD.into(),
                display_name: email.split('@').next().unwrap_or("user").into(),
                role,
            },
        )
        .await
        .expect("create user");
        self.state
            .services
            .jwt
            .issue(user.id, user.credentials_version)
            .expect("token")
    }

    pub async fn admin(&self) -> String {
        self.user(ADMIN, Role::Admin).await
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
    pub async fn import(&self, csv: &str) -> groups::GroupImportReport {
        groups::import_csv(&self.state.services, csv.as_bytes())
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
    /// A draft by `alpha`'s editor, submitted for review; returns its id.
    pub async fn pending_entry(&self, title: &str) -> i64 {
        let id = self.app.draft(&self.editor, "alpha", title).await["id"]
            .as_i64()
            .unwrap();
        self.app
            .post(
                &format!("/api/v1/entries/{id}/submit"),
                Some(&self.editor),
                json!({}),
            )
            .await
            .expect(200);
        id
    }

    /// Creates an entry in `alpha` with `fields` over announcement defaults,
    /// submits it as the editor and approves it as the moderator with
    /// `approval`; returns its id.
    pub async fn publish(&self, fields: Value, approval: Value) -> i64 {
        let mut body = json!({"group": "alpha", "kind": "announcement", "title": "News",
                              "content": "<p>Some news</p>"});
        for (key, value) in fields.as_object().expect("object") {
            body[key] = value.clone();
        }
        // Only admins and moderators link external images; editors upload.
        let links_image = body["image"]
            .as_str()
            .is_some_and(|image| !image.is_empty());
        let author = if links_image {
            &self.admin
        } else {
            &self.editor
        };
        let id = self
            .app
            .post("/api/v1/entries", Some(author), body)
            .await
            .expect(201)
            .json()["id"]
            .as_i64()
            .expect("id");
        self.app
            .submit_and_approve(&self.editor, &self.moderator, id, approval)
            .await;
        id
    }

    /// The builder of every world: groups `alpha` and `beta`, an admin, a
    /// moderator, `alpha`'s owner and editor, `beta`'s editor and an outsider.
    pub fn builder() -> TestAppBuilder {
        TestApp::builder()
            .with_admin()
            .with_moderator()
            .with_user("owner@example.org", Role::Member)
            .with_user("editor@example.org", Role::Member)
            .with_user("outsider@example.org", Role::Member)
            .with_user("other@example.org", Role::Member)
            .with_group("alpha")
            .with_group("beta")
            .with_member("alpha", "owner@example.org", GroupRole::Owner)
            .with_editor("alpha", "editor@example.org")
            .with_editor("beta", "other@example.org")
    }

    /// The world on `app`: its fixtures are added unless the app was built with them.
    pub async fn new(mut app: TestApp) -> Self {
        for fixture in Self::builder().fixtures {
            app.install(fixture).await;
        }
        let token = |name: &str| app.token(name).to_string();
        Self {
            admin: token("admin"),
            moderator: token(MODERATOR),
            owner: token("owner@example.org"),
            editor: token("editor@example.org"),
            outsider: token("outsider@example.org"),
            other_editor: token("other@example.org"),
            app,
        }
    }
}
