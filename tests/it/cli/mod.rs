//! The `newsfeed` command as an operator runs it: real processes, real databases.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::common;

mod connections;
mod email_skeletons;
mod event_windows;
mod qgisfeed;
mod qgisfeed_rows;

const BIN: &str = env!("CARGO_BIN_EXE_newsfeed");

fn temp_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "newsfeed-cli-{}-{}",
        std::process::id(),
        chrono::Utc::now().timestamp_nanos_opt().unwrap_or_default()
    ));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// Database URLs to run against: a fresh SQLite file, and PostgreSQL when
/// configured (dropped when the returned guards are).
async fn databases() -> (Vec<String>, Vec<common::PgDatabase>) {
    let mut urls = vec![format!("sqlite://{}/cli.db?mode=rwc", temp_dir().display())];
    let mut guards = Vec::new();
    if let Ok(base) = std::env::var("NEWSFEED_TEST_DATABASE_URL") {
        let database = common::PgDatabase::create(&base).await;
        urls.push(database.url.clone());
        guards.push(database);
    }
    (urls, guards)
}

fn run(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(BIN)
        .args(args)
        .env_remove("NEWSFEED_DATABASE_URL")
        .env_remove("NEWSFEED_JWT_SECRET")
        .env_remove("NEWSFEED_PRODUCTION")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn newsfeed");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    child.wait_with_output().expect("wait")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn openapi_prints_the_committed_spec() {
    let output = run(&["openapi"], "");
    assert!(output.status.success());
    let committed = include_str!("../../../openapi/openapi.json");
    assert_eq!(text(&output.stdout).trim_end(), committed.trim_end());
}

#[tokio::test]
async fn create_user_reads_the_password_from_stdin() {
    let (urls, _guards) = databases().await;
    for url in urls {
        let args = [
            "create-user",
            "--email",
            "Root@Example.org",
            "--role",
            "admin",
            "--password-stdin",
            "--database-url",
            &url,
        ];
        let created = run(&args, "a long password\n");
        assert!(created.status.success(), "{}", text(&created.stderr));
        assert!(text(&created.stdout).contains("root@example.org"));
        assert!(text(&created.stdout).contains("admin"));

        let again = run(&args, "a long password\n");
        assert!(!again.status.success());
        assert!(
            text(&again.stderr).contains("already exists"),
            "{}",
            text(&again.stderr)
        );

        let short = run(
            &[
                "create-user",
                "--email",
                "x@example.org",
                "--password-stdin",
                "--database-url",
                &url,
            ],
            "short\n",
        );
        assert!(!short.status.success());
        assert!(
            text(&short.stderr).contains("password"),
            "{}",
            text(&short.stderr)
        );
    }
}

#[tokio::test]
async fn import_groups_is_idempotent_and_reports_bad_lines() {
    let dir = temp_dir();
    let csv = dir.join("groups.csv");
    std::fs::write(
        &csv,
        "slug,name,country,website,contact,registered,status\n\
         qgis-de,QGIS Anwendergruppe Deutschland,DE,https://qgis.de/,Thomas,2016,active\n\
         qgis-ge,QGIS Georgia,GE,https://qgis.org,Zurab,2017,removed-2018\n\
         Bad Slug,Broken,ZZ,ftp://x,Nobody,2020,active\n",
    )
    .expect("write csv");
    let csv = csv.display().to_string();
    let (urls, _guards) = databases().await;
    for url in urls {
        let first = run(&["import-groups", &csv, "--database-url", &url], "");
        // One bad row: reported with its line number, and the exit code says so.
        assert!(!first.status.success());
        assert!(
            text(&first.stdout).contains("2 created, 0 updated, 0 unchanged, 1 skipped"),
            "{}",
            text(&first.stdout)
        );
        let stderr = text(&first.stderr);
        assert!(stderr.contains("groups.csv:4:"), "{stderr}");
        assert!(stderr.contains("slug"), "{stderr}");

        let second = run(&["import-groups", &csv, "--database-url", &url], "");
        assert!(
            text(&second.stdout).contains("0 created, 0 updated, 2 unchanged, 1 skipped"),
            "{}",
            text(&second.stdout)
        );
    }
}

fn serve_error(args: &[&str]) -> String {
    let output = run(args, "");
    assert!(!output.status.success());
    let stderr = text(&output.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    stderr
}

#[test]
fn serve_explains_bad_configuration_in_one_line() {
    let stderr = serve_error(&["serve", "--database-url", "mysql://nope"]);
    assert!(
        stderr.contains("error: unsupported database URL"),
        "{stderr}"
    );

    let stderr = serve_error(&[
        "serve",
        "--production",
        "--database-url",
        &format!("sqlite://{}/p.db?mode=rwc", temp_dir().display()),
    ]);
    assert!(
        stderr.contains("error: NEWSFEED_JWT_SECRET is required"),
        "{stderr}"
    );

    let taken = TcpListener::bind("127.0.0.1:0").expect("bind");
    let address = taken.local_addr().expect("address").to_string();
    let stderr = serve_error(&[
        "serve",
        "--bind",
        &address,
        "--database-url",
        &format!("sqlite://{}/q.db?mode=rwc", temp_dir().display()),
    ]);
    assert!(
        stderr.contains(&format!("error: cannot listen on {address}")),
        "{stderr}"
    );

    // A server that accepts on threads of its own shares its port among
    // them only.
    let running = Server::start_with(&["--http-threads", "2"], &[]);
    assert!(running.get("/feed.rss").starts_with("HTTP/1.1 200"));
    let stderr = serve_error(&[
        "serve",
        "--http-threads",
        "2",
        "--bind",
        &running.address,
        "--database-url",
        &format!("sqlite://{}/r.db?mode=rwc", temp_dir().display()),
    ]);
    assert!(
        stderr.contains(&format!("error: cannot listen on {}", running.address)),
        "{stderr}"
    );
    assert!(running.get("/healthz").starts_with("HTTP/1.1 200"));
    running.signal("TERM");
    running.wait(Duration::from_secs(15));
}

/// A running `newsfeed serve` on a free port.
struct Server {
    child: std::process::Child,
    address: String,
    database_url: String,
}

impl Server {
    fn start() -> Self {
        Self::start_with(&[], &[])
    }

    /// With extra command-line arguments and environment variables.
    fn start_with(args: &[&str], env: &[(&str, &str)]) -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .expect("bind")
            .local_addr()
            .expect("address")
            .port();
        let address = format!("127.0.0.1:{port}");
        let database_url = format!("sqlite://{}/s.db?mode=rwc", temp_dir().display());
        let child = Command::new(BIN)
            .args(["serve", "--bind", &address, "--database-url", &database_url])
            .args(args)
            .envs(env.iter().copied())
            .env_remove("NEWSFEED_DATABASE_URL")
            .env_remove("NEWSFEED_PUBLIC_URL")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        let server = Self {
            child,
            address,
            database_url,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(&server.address).is_err() {
            assert!(Instant::now() < deadline, "server did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }

    fn get(&self, path: &str) -> String {
        let mut stream = TcpStream::connect(&self.address).expect("connect");
        write!(
            stream,
            "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        )
        .expect("write");
        let mut response = String::new();
        stream.read_to_string(&mut response).expect("read");
        response
    }

    fn signal(&self, name: &str) {
        let sent = Command::new("kill")
            .args([&format!("-{name}"), &self.child.id().to_string()])
            .status()
            .expect("kill");
        assert!(sent.success(), "kill -{name}");
    }

    /// Waits for the process to end; its exit status and standard error.
    fn wait(mut self, within: Duration) -> (std::process::ExitStatus, String) {
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                let mut stderr = String::new();
                if let Some(mut pipe) = self.child.stderr.take() {
                    pipe.read_to_string(&mut stderr).ok();
                }
                return (status, stderr);
            }
            if Instant::now() > deadline {
                self.child.kill().ok();
                panic!("the server did not stop within {within:?}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

#[test]
fn serve_answers_http() {
    let server = Server::start();
    let health = run(
        &[
            "healthcheck",
            "--url",
            &format!("http://{}/readyz", server.address),
        ],
        "",
    );
    assert!(health.status.success(), "{}", text(&health.stderr));
    let missing = run(
        &[
            "healthcheck",
            "--url",
            &format!("http://{}/nowhere", server.address),
        ],
        "",
    );
    assert!(!missing.status.success(), "a 404 is not healthy");
    let response = server.get("/healthz");
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.ends_with("ok"), "{response}");
    // Without --public-url, links follow the address actually served.
    let rss = server.get("/feed.rss");
    let self_link = format!("http://{}/feed.rss", server.address);
    assert!(rss.contains(&self_link), "{self_link} not in {rss}");
    server.signal("TERM");
    server.wait(Duration::from_secs(15));
}

#[test]
fn logs_are_json_when_asked_and_the_access_log_is_opt_in() {
    for (filter, expect_access) in [(None, false), (Some("info"), true)] {
        let mut env = Vec::new();
        if let Some(filter) = filter {
            env.push(("NEWSFEED_LOG", filter));
        }
        let server = Server::start_with(&["--log-format", "json"], &env);
        server.get("/healthz");
        server.signal("TERM");
        let (status, stderr) = server.wait(Duration::from_secs(15));
        assert_eq!(status.code(), Some(0), "{stderr}");
        let lines: Vec<serde_json::Value> = stderr
            .lines()
            .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
            .collect();
        assert!(
            lines
                .iter()
                .any(|l| l["fields"]["message"] == "newsfeed listening"),
            "{stderr}"
        );
        let access = lines.iter().find(|l| l["target"] == "newsfeed::access");
        assert_eq!(access.is_some(), expect_access, "{filter:?}: {stderr}");
        if let Some(access) = access {
            assert_eq!(access["fields"]["path"], "/healthz", "{access}");
            assert_eq!(access["fields"]["status"], 200, "{access}");
        }
        assert!(!stderr.contains('\u{1b}'), "no colour codes in a log file");
    }
}

/// SIGTERM (service managers) and SIGINT (Ctrl-C) both stop the server
/// gracefully: a request in flight when the signal comes is finished and
/// answered, new connections are refused, and the exit code is 0.
#[test]
fn serve_stops_gracefully_on_sigterm_and_ctrl_c() {
    for signal in ["TERM", "INT"] {
        let server = Server::start();
        let body = r#"{"group_name": "QGIS Testland", "contact_email": "t@example.org"}"#;
        let mut in_flight = TcpStream::connect(&server.address).expect("connect");
        write!(
            in_flight,
            "POST /api/v1/access-requests HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{}",
            body.len(),
            &body[..10]
        )
        .expect("write the first part");
        // The server has the request open when the signal arrives.
        std::thread::sleep(Duration::from_millis(300));
        server.signal(signal);
        std::thread::sleep(Duration::from_millis(300));
        assert!(
            TcpStream::connect(&server.address).is_err(),
            "SIG{signal}: still accepting connections"
        );
        in_flight
            .write_all(&body.as_bytes()[10..])
            .expect("write the rest");
        let mut response = String::new();
        in_flight.read_to_string(&mut response).expect("read");
        assert!(
            response.starts_with("HTTP/1.1 201"),
            "SIG{signal}: the request in flight was not finished: {response}"
        );
        let (status, stderr) = server.wait(Duration::from_secs(15));
        assert_eq!(status.code(), Some(0), "SIG{signal}: {stderr}");
        assert!(stderr.contains("newsfeed stopped"), "SIG{signal}: {stderr}");
    }
}

/// `export` then `import` through the command, as an operator moves a site.
fn export(url: &str) -> String {
    let output = run(&["export", "--database-url", url], "");
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(
        text(&output.stderr).contains("exported: users"),
        "{}",
        text(&output.stderr)
    );
    text(&output.stdout)
}

fn import(url: &str, dump: &str) {
    let dir = temp_dir();
    let file = dir.join("all.jsonl");
    std::fs::write(&file, dump).expect("write dump");
    let output = run(
        &["import", &file.display().to_string(), "--database-url", url],
        "",
    );
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(
        text(&output.stderr).contains("imported: users"),
        "{}",
        text(&output.stderr)
    );
}

/// What clients see of a site, to compare one copy with another.
async fn answers(app: &common::TestApp, admin: &str) -> Vec<String> {
    let mut seen = Vec::new();
    for path in [
        "/?json=1",
        // The entry in the saved area reaches readers inside it only.
        "/?json=1&lang=xx&lat=50.7&lon=7.1",
        "/?json=1&lang=xx&lat=48.1&lon=11.5",
        "/feed.rss",
        "/feed.atom",
        "/feed.ics",
        "/feed.json",
    ] {
        seen.push(app.get(path, None).await.expect(200).text.clone());
    }
    for path in [
        "/api/v1/entries?limit=200",
        "/api/v1/users",
        "/api/v1/groups",
        "/api/v1/access-requests",
        "/api/v1/entries/1/history",
        "/api/v1/groups/alpha/tokens",
        "/api/v1/areas",
        "/api/v1/entries/2/reviewers",
        "/api/v1/me/mail-preferences",
        "/api/v1/outbox",
        "/api/v1/stats/feed?by=version",
    ] {
        seen.push(app.get(path, Some(admin)).await.expect(200).text.clone());
    }
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_and_import_move_everything_between_databases() {
    // No mail worker on either side: the outbox is compared as written.
    let quiet = |c: &mut newsfeed::Config| c.mail_worker = false;
    let world = common::World::new(common::TestApp::builder().config(quiet).sqlite().await).await;
    let app = &world.app;
    let area = app
        .post(
            "/api/v1/areas",
            Some(&world.moderator),
            serde_json::json!({"name": "Bonn", "polygon": [[7.0, 50.6], [7.2, 50.6], [7.2, 50.8], [7.0, 50.8]]}),
        )
        .await
        .expect(201)
        .json();
    let first = world
        .publish(
            serde_json::json!({"title": "Kept pk", "target_area_id": area["id"]}),
            serde_json::json!({"sticky": true}),
        )
        .await;
    let meetup = world
        .publish(
            serde_json::json!({"kind": "meetup", "title": "Treffen", "starts_at": "2031-05-01T18:00:00Z",
                               "ends_at": "2031-05-01T20:00:00Z", "timezone": "Europe/Berlin",
                               "location_name": "Bonn"}),
            serde_json::json!({}),
        )
        .await;
    app.post(
        &format!("/api/v1/moderation/entries/{meetup}/comment"),
        Some(&world.moderator),
        serde_json::json!({"comment": "nice"}),
    )
    .await
    .expect(200);
    app.post(
        "/api/v1/groups/alpha/tokens",
        Some(&world.owner),
        serde_json::json!({"name": "ci"}),
    )
    .await
    .expect(201);
    app.post(
        "/api/v1/access-requests",
        None,
        serde_json::json!({"group_name": "QGIS Testland", "contact_email": "t@example.org"}),
    )
    .await
    .expect(201);
    // Reviewers, mail preferences, pending mail and audience counts move too.
    let moderator_id = app.get("/api/v1/me", Some(&world.moderator)).await.json()["id"].clone();
    app.call(
        poem::http::Method::PUT,
        &format!("/api/v1/entries/{meetup}/reviewers"),
        Some(&world.admin),
        Some(serde_json::json!({"reviewers": [moderator_id]})),
    )
    .await
    .expect(200);
    app.patch(
        "/api/v1/me/mail-preferences",
        Some(&world.admin),
        serde_json::json!({"decisions": false}),
    )
    .await
    .expect(200);
    for agent in [
        "Mozilla/5.0 QGIS/33600/Linux",
        "Mozilla/5.0 QGIS/34000/Windows",
    ] {
        let request = app.client.get("/?lang=de").header("user-agent", agent);
        assert_eq!(request.send().await.0.status(), 200);
    }
    app.state.flush_stats().await;
    assert_eq!(first, 1);
    let before = answers(app, &world.admin).await;
    assert!(
        before[1].contains("Kept pk") && !before[2].contains("Kept pk"),
        "{before:?}"
    );
    let source = app.state.config.database_url.clone();
    let dump = export(&source);
    assert!(
        dump.starts_with(r#"{"format":"newsfeed-export","version":1}"#),
        "{dump}"
    );

    // Into PostgreSQL (when configured) and back into a new SQLite file.
    let mut copies = Vec::new();
    let _pg = match std::env::var("NEWSFEED_TEST_DATABASE_URL") {
        Ok(base) => {
            let pg = common::PgDatabase::create(&base).await;
            copies.push(pg.url.clone());
            Some(pg)
        }
        Err(_) => None,
    };
    copies.push(format!(
        "sqlite://{}/copy.db?mode=rwc",
        temp_dir().display()
    ));
    let mut previous = dump.clone();
    for url in &copies {
        // Migrated, empty.
        drop(newsfeed::db::connect(url, 2).await.expect("migrate"));
        import(url, &previous);
        let again = export(url);
        assert_eq!(again, dump, "{url}: the same lines come out");
        let copy = common::TestApp::builder().config(quiet).open(url).await;
        assert_eq!(
            answers(&copy, &world.admin).await,
            before,
            "{url}: clients see the same"
        );
        // New rows continue above the imported ids.
        let next = copy.draft(&world.editor, "alpha", "After the move").await;
        assert_eq!(next["id"], meetup + 1, "{url}");
        previous = again;
    }
    // Importing into a database that has data is refused, nothing written.
    let output = run(&["import", "-", "--database-url", &source], &dump);
    assert!(!output.status.success());
    assert!(
        text(&output.stderr).contains("not empty"),
        "{}",
        text(&output.stderr)
    );
}

#[test]
fn backup_copies_a_serving_sqlite_database() {
    let server = Server::start();
    let url = server.database_url.clone();
    let body = r#"{"group_name": "QGIS Testland", "contact_email": "t@example.org"}"#;
    let mut stream = TcpStream::connect(&server.address).expect("connect");
    write!(
        stream,
        "POST /api/v1/access-requests HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .expect("write");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read");
    assert!(response.starts_with("HTTP/1.1 201"), "{response}");
    let copy = temp_dir().join("backup.db");
    let output = run(
        &[
            "backup",
            &copy.display().to_string(),
            "--database-url",
            &url,
        ],
        "",
    );
    assert!(output.status.success(), "{}", text(&output.stderr));
    let again = run(
        &[
            "backup",
            &copy.display().to_string(),
            "--database-url",
            &url,
        ],
        "",
    );
    assert!(
        !again.status.success(),
        "an existing file is never overwritten"
    );
    let copied = run(
        &[
            "export",
            "--database-url",
            &format!("sqlite://{}?mode=rw", copy.display()),
        ],
        "",
    );
    assert!(copied.status.success(), "{}", text(&copied.stderr));
    let original = text(&run(&["export", "--database-url", &url], "").stdout);
    assert!(original.contains("QGIS Testland"), "{original}");
    assert_eq!(text(&copied.stdout), original);
    server.signal("TERM");
    server.wait(Duration::from_secs(15));
}

/// Tables keyed by several columns are read in pages from the last key
/// (a row-value comparison): every row once, in key order, over many pages.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tables_with_composite_keys_export_every_row_once() {
    use newsfeed::entities::feed_daily_stat;
    use sea_orm::{EntityTrait, Set};
    let mut apps = vec![common::TestApp::builder().sqlite().await];
    if let Some(pg) = common::TestApp::builder().postgres().await {
        apps.push(pg);
    }
    for app in apps {
        let db = &app.state.services.db;
        // 3 days x 2 dimensions x 210 values: pages of 500 end mid-day and mid-dimension.
        let mut rows = Vec::new();
        for day in ["2026-11-01", "2026-11-02", "2026-11-03"] {
            for dimension in ["os", "version"] {
                for value in 0..210 {
                    rows.push(feed_daily_stat::ActiveModel {
                        day: Set(day.into()),
                        dimension: Set(dimension.into()),
                        value: Set(format!("v{value:03}")),
                        requests: Set(1),
                    });
                }
            }
        }
        for chunk in rows.chunks(300) {
            feed_daily_stat::Entity::insert_many(chunk.to_vec())
                .exec(db)
                .await
                .expect("insert");
        }
        let mut out = Vec::new();
        newsfeed::service::archive::export(db, &mut out, &mut |_, _| {})
            .await
            .expect("export");
        let keys: Vec<(String, String, String)> = String::from_utf8(out)
            .expect("utf-8")
            .lines()
            .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
            .filter(|line| line["table"] == "feed_daily_stats")
            .map(|line| {
                let row = &line["row"];
                let text = |name: &str| row[name].as_str().expect("text").to_string();
                (text("day"), text("dimension"), text("value"))
            })
            .collect();
        assert_eq!(keys.len(), 1260);
        assert!(
            keys.windows(2).all(|pair| pair[0] < pair[1]),
            "in key order, no repeats"
        );
    }
}
