//! The `newsfeed` command as an operator runs it: real processes, real databases.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

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

/// Database URLs to run against: a fresh SQLite file, and PostgreSQL when configured.
async fn databases() -> Vec<String> {
    let mut urls = vec![format!("sqlite://{}/cli.db?mode=rwc", temp_dir().display())];
    if let Ok(base) = std::env::var("NEWSFEED_TEST_DATABASE_URL") {
        use sea_orm::ConnectionTrait;
        let name = format!(
            "nf_test_cli_{}_{}",
            std::process::id(),
            chrono::Utc::now().timestamp_micros() % 1_000_000
        );
        let admin = sea_orm::Database::connect(&base).await.expect("connect");
        admin
            .execute_unprepared(&format!("CREATE DATABASE {name}"))
            .await
            .expect("create database");
        let mut url = url::Url::parse(&base).expect("url");
        url.set_path(&name);
        urls.push(url.to_string());
    }
    urls
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
    let committed = include_str!("../../openapi/openapi.json");
    assert_eq!(text(&output.stdout).trim_end(), committed.trim_end());
}

#[tokio::test]
async fn create_user_reads_the_password_from_stdin() {
    for url in databases().await {
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
    for url in databases().await {
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
}

#[test]
fn serve_answers_http_and_stops_on_kill() {
    let port = TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("address")
        .port();
    let address = format!("127.0.0.1:{port}");
    let mut child = Command::new(BIN)
        .args([
            "serve",
            "--bind",
            &address,
            "--database-url",
            &format!("sqlite://{}/s.db?mode=rwc", temp_dir().display()),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let deadline = Instant::now() + Duration::from_secs(30);
    let response = loop {
        if let Ok(mut stream) = TcpStream::connect(&address) {
            stream
                .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                .expect("write");
            let mut response = String::new();
            stream.read_to_string(&mut response).expect("read");
            break response;
        }
        assert!(Instant::now() < deadline, "server did not start");
        std::thread::sleep(Duration::from_millis(100));
    };
    child.kill().ok();
    child.wait().ok();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.ends_with("ok"), "{response}");
}
