//! The `newsfeed` command: serve, create-user, import-groups, openapi.

use std::io::Read;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand};

use crate::domain::Role;
use crate::domain::user::NewUser;
use crate::error::{AppError, StartupError};
use crate::service::archive;
use crate::service::groups::{self, ImportError};
use crate::service::qgisfeed_import;
use crate::service::users;
use crate::{AppState, Config, db};

/// How long in-flight requests may take to finish once a stop is asked for.
const GRACEFUL_STOP: Duration = Duration::from_secs(10);

#[derive(Parser)]
#[command(
    name = "newsfeed",
    version,
    about = "User-group news: submit, moderate, publish"
)]
pub struct Cli {
    /// How log lines look: `text` for people, `json` (one object per line) for collectors.
    #[arg(long, global = true, env = "NEWSFEED_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP service (migrations are applied at start).
    Serve(Box<Config>),
    /// Create a user; the password is read from standard input.
    CreateUser {
        #[arg(long, env = "NEWSFEED_EMAIL")]
        email: String,
        #[arg(long, env = "NEWSFEED_ROLE", default_value = "member", value_parser = parse_role)]
        role: Role,
        #[arg(long, env = "NEWSFEED_DISPLAY_NAME")]
        display_name: Option<String>,
        /// Read the password from standard input (the only way to pass it).
        #[arg(long, required = true)]
        password_stdin: bool,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Import or update groups from a CSV file (the user-groups.csv format).
    ImportGroups {
        file: PathBuf,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Write everything (people with password hashes, groups, tokens' hashes,
    /// entries with their ids and live revisions, history) to standard
    /// output as JSON lines; progress goes to standard error.
    Export {
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Read an export (a file, or `-` for standard input) into an empty database.
    Import {
        file: PathBuf,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Import a QGIS-Feed dump (`manage.py dumpdata qgisfeed auth.user`):
    /// entries keep their pk as id; re-running updates them. One
    /// transaction: every row QGIS-Feed can hold is imported, and each one
    /// not imported exactly is reported by pk with the reason; a malformed
    /// dump stops it with the pk, nothing written.
    ImportQgisfeed {
        file: PathBuf,
        /// QGIS-Feed's media directory (`MEDIA_ROOT`), where entry images are.
        #[arg(long)]
        media_dir: Option<PathBuf>,
        /// The group the entries go to (created if missing).
        #[arg(long, default_value = qgisfeed_import::DEFAULT_GROUP)]
        group: String,
        /// Where this service stores pictures (as `serve --media-dir`).
        #[arg(long, env = "NEWSFEED_MEDIA_DIR")]
        media_store: Option<PathBuf>,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Copy a SQLite database to FILE while it serves (consistent, compacted).
    Backup {
        file: PathBuf,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Exit 0 when the server at URL answers `GET` with 200 (for container
    /// health checks: the image has no curl).
    Healthcheck {
        #[arg(
            long,
            env = "NEWSFEED_HEALTHCHECK_URL",
            default_value = "http://127.0.0.1:8080/readyz"
        )]
        url: String,
    },
    /// Print the OpenAPI document.
    Openapi,
}

#[derive(clap::Args)]
struct DatabaseArgs {
    /// Database URL: `sqlite://FILE?mode=rwc` or `postgres://user@host/db`.
    #[arg(
        long,
        env = "NEWSFEED_DATABASE_URL",
        default_value = "sqlite://newsfeed.db?mode=rwc"
    )]
    database_url: String,
}

fn parse_role(text: &str) -> Result<Role, String> {
    Role::parse(text).ok_or_else(|| "expected admin, moderator or member".to_string())
}

/// Why a command failed; printed as one `error: …` line.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Startup(#[from] StartupError),
    #[error(transparent)]
    Service(#[from] AppError),
    #[error("{0}")]
    Input(String),
    #[error("server failed: {0}")]
    Server(#[source] std::io::Error),
}

impl From<ImportError> for CliError {
    fn from(error: ImportError) -> Self {
        match error {
            ImportError::Format(message) => Self::Input(message),
            ImportError::Service(error) => Self::Service(error),
        }
    }
}

impl Cli {
    pub fn log_format(&self) -> LogFormat {
        self.log_format
    }

    pub async fn run(self) -> Result<(), CliError> {
        match self.command {
            Command::Serve(config) => serve(*config).await,
            Command::CreateUser {
                email,
                role,
                display_name,
                password_stdin: _,
                database,
            } => create_user(email, role, display_name, &database).await,
            Command::ImportGroups { file, database } => import_groups(&file, &database).await,
            Command::Export { database } => export(&database).await,
            Command::Import { file, database } => import(&file, &database).await,
            Command::ImportQgisfeed {
                file,
                media_dir,
                group,
                media_store,
                database,
            } => {
                let options = qgisfeed_import::ImportOptions { group, media_dir };
                import_qgisfeed(&file, &options, media_store, &database).await
            }
            Command::Backup { file, database } => {
                let db = db::connect(&database.database_url, 2).await?;
                archive::backup(&db, &file).await?;
                eprintln!("backup written to {}", file.display());
                Ok(())
            }
            Command::Healthcheck { url } => healthcheck(&url).await,
            Command::Openapi => {
                println!("{}", crate::openapi().spec());
                Ok(())
            }
        }
    }
}

async fn command_services(database: &DatabaseArgs) -> Result<crate::service::Services, CliError> {
    command_services_with(database, None).await
}

/// Services for a command, storing pictures in `media_dir` (default: as `serve`).
async fn command_services_with(
    database: &DatabaseArgs,
    media_dir: Option<PathBuf>,
) -> Result<crate::service::Services, CliError> {
    let db = db::connect(&database.database_url, 2).await?;
    let config = Config {
        database_url: database.database_url.clone(),
        media_dir,
        ..Config::default()
    };
    Ok(crate::state::command_services(db, config)?)
}

async fn import_qgisfeed(
    file: &std::path::Path,
    options: &qgisfeed_import::ImportOptions,
    media_store: Option<PathBuf>,
    database: &DatabaseArgs,
) -> Result<(), CliError> {
    let data = std::fs::read(file)
        .map_err(|e| CliError::Input(format!("cannot read {}: {e}", file.display())))?;
    let services = command_services_with(database, media_store).await?;
    let started = std::time::Instant::now();
    let report =
        qgisfeed_import::import(&services, &data, options, &mut |line| eprintln!("{line}")).await?;
    if report.group_created {
        println!("group {}: created", options.group);
    }
    for line in report.lines() {
        println!("{line}");
    }
    eprintln!("imported in {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}

async fn create_user(
    email: String,
    role: Role,
    display_name: Option<String>,
    database: &DatabaseArgs,
) -> Result<(), CliError> {
    let mut password = String::new();
    std::io::stdin()
        .read_to_string(&mut password)
        .map_err(|e| {
            CliError::Input(format!("cannot read the password from standard input: {e}"))
        })?;
    let password = password.trim_end_matches(['\r', '\n']).to_string();
    let services = command_services(database).await?;
    let display_name = display_name.unwrap_or_else(|| {
        email
            .trim()
            .split('@')
            .next()
            .unwrap_or_default()
            .to_string()
    });
    let user = users::create_user(
        &services,
        NewUser {
            email,
            password,
            display_name,
            role,
        },
    )
    .await?;
    println!(
        "created user {} ({}) with role {}",
        user.id, user.email, user.role
    );
    Ok(())
}

async fn import_groups(file: &std::path::Path, database: &DatabaseArgs) -> Result<(), CliError> {
    let data = std::fs::read(file)
        .map_err(|e| CliError::Input(format!("cannot read {}: {e}", file.display())))?;
    let services = command_services(database).await?;
    let report = groups::import_csv(&services, &data).await?;
    for (line, message) in &report.errors {
        eprintln!("{}:{line}: skipped: {message}", file.display());
    }
    println!(
        "groups: {} created, {} updated, {} unchanged, {} skipped",
        report.created,
        report.updated,
        report.unchanged,
        report.errors.len()
    );
    if report.errors.is_empty() {
        Ok(())
    } else {
        Err(CliError::Input(format!(
            "{} rows could not be imported",
            report.errors.len()
        )))
    }
}

/// How long a health check waits for an answer.
const HEALTHCHECK_TIMEOUT: Duration = Duration::from_secs(5);

async fn healthcheck(url: &str) -> Result<(), CliError> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let parsed = url::Url::parse(url)
        .ok()
        .filter(|u| u.scheme() == "http")
        .ok_or_else(|| CliError::Input(format!("not an http:// URL: {url}")))?;
    let host = parsed.host_str().unwrap_or("127.0.0.1").to_string();
    let port = parsed.port_or_known_default().unwrap_or(80);
    let check = async {
        let mut stream = tokio::net::TcpStream::connect((host.as_str(), port)).await?;
        let request = format!(
            "GET {} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n",
            parsed.path()
        );
        stream.write_all(request.as_bytes()).await?;
        let mut head = [0u8; 12];
        stream.read_exact(&mut head).await?;
        Ok::<_, std::io::Error>(head)
    };
    let head = tokio::time::timeout(HEALTHCHECK_TIMEOUT, check)
        .await
        .map_err(|_| CliError::Input(format!("{url}: no answer within {HEALTHCHECK_TIMEOUT:?}")))?
        .map_err(|error| CliError::Input(format!("{url}: {error}")))?;
    if head.starts_with(b"HTTP/1.1 200") {
        Ok(())
    } else {
        Err(CliError::Input(format!(
            "{url}: answered {}",
            String::from_utf8_lossy(&head)
        )))
    }
}

/// Progress lines on standard error: `entries: 10000 rows`.
fn report_progress(table: &str, rows: u64) {
    eprintln!("{table}: {rows} rows");
}

async fn export(database: &DatabaseArgs) -> Result<(), CliError> {
    let db = db::connect(&database.database_url, 2).await?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let counts = archive::export(&db, &mut out, &mut report_progress).await?;
    eprintln!("exported: {counts}");
    Ok(())
}

async fn import(file: &std::path::Path, database: &DatabaseArgs) -> Result<(), CliError> {
    let db = db::connect(&database.database_url, 2).await?;
    let counts = if file == std::path::Path::new("-") {
        archive::import(&db, std::io::stdin().lock(), &mut report_progress).await?
    } else {
        let opened = std::fs::File::open(file)
            .map_err(|e| CliError::Input(format!("cannot read {}: {e}", file.display())))?;
        archive::import(&db, std::io::BufReader::new(opened), &mut report_progress).await?
    };
    eprintln!("imported: {counts}");
    Ok(())
}

async fn serve(config: Config) -> Result<(), CliError> {
    let bind = config.bind.clone();
    let database = db::redact(&config.database_url);
    if config.jwt_secret.is_none() {
        tracing::warn!(
            "no NEWSFEED_JWT_SECRET set: using a random one, logins end when the process restarts"
        );
    }
    let state = AppState::new(config).await?;
    // Signals are watched, and the router built, before the port opens: a
    // client that connects may rely on a stop being graceful.
    let stop = tokio::spawn(stop_requested());
    let app = crate::app(state.clone());
    let threads = state.config.http_threads;
    let listening = |source| StartupError::Listen {
        bind: bind.clone(),
        source,
    };
    let (limits, stats) = (state.config.connection_limits(), state.connections.clone());
    let stop = async {
        let _ = stop.await;
    };
    if threads == 0 {
        let listener = tokio::net::TcpListener::bind(&bind)
            .await
            .map_err(listening)?;
        tracing::info!(%bind, %database, "newsfeed listening");
        crate::server::serve(listener, app, limits, stats, stop, GRACEFUL_STOP).await
    } else {
        let listeners = crate::server::bind_shared(&bind, threads)
            .await
            .map_err(listening)?;
        tracing::info!(%bind, %database, threads, "newsfeed listening");
        crate::server::serve_on_threads(listeners, app, limits, stats, stop, GRACEFUL_STOP).await
    }
    .map_err(CliError::Server)?;
    state.shutdown().await;
    tracing::info!("newsfeed stopped");
    Ok(())
}

/// Resolves on Ctrl-C (SIGINT) or, on Unix, SIGTERM (what service managers send).
async fn stop_requested() {
    let interrupt = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => tracing::info!("interrupted: finishing requests in flight"),
        () = terminate => tracing::info!("terminated: finishing requests in flight"),
    }
}
