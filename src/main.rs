#![forbid(unsafe_code)]
//! The `newsfeed` command: serve, create-user, import-groups, openapi.

use std::io::Read;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use newsfeed::domain::Role;
use newsfeed::service::{groups, users};
use newsfeed::{AppState, Config, db};

#[derive(Parser)]
#[command(
    name = "newsfeed",
    version,
    about = "User-group news: submit, moderate, publish"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP service (migrations are applied at start).
    Serve(Config),
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
        file: std::path::PathBuf,
        #[command(flatten)]
        database: DatabaseArgs,
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

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("NEWSFEED_LOG")
                .unwrap_or_else(|_| "info,sqlx=warn,sea_orm=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    match run(Cli::parse().command).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command) -> Result<(), String> {
    match command {
        Command::Serve(config) => serve(config).await,
        Command::CreateUser {
            email,
            role,
            display_name,
            password_stdin: _,
            database,
        } => {
            let mut password = String::new();
            std::io::stdin()
                .read_to_string(&mut password)
                .map_err(|e| format!("cannot read the password from standard input: {e}"))?;
            let password = password.trim_end_matches(['\r', '\n']).to_string();
            let db = db::connect(&database.database_url, 2)
                .await
                .map_err(|e| e.to_string())?;
            let display_name = display_name
                .unwrap_or_else(|| email.split('@').next().unwrap_or_default().to_string());
            let user = users::create_user(
                &db,
                users::NewUser {
                    email,
                    password,
                    display_name,
                    role,
                },
            )
            .await
            .map_err(|e| e.to_string())?;
            println!(
                "created user {} ({}) with role {}",
                user.id, user.email, user.role
            );
            Ok(())
        }
        Command::ImportGroups { file, database } => {
            let data =
                std::fs::read(&file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
            let db = db::connect(&database.database_url, 2)
                .await
                .map_err(|e| e.to_string())?;
            let report = groups::import_csv(&db, &data)
                .await
                .map_err(|e| e.to_string())?;
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
                Err(format!(
                    "{} rows could not be imported",
                    report.errors.len()
                ))
            }
        }
        Command::Openapi => {
            println!("{}", newsfeed::openapi().spec());
            Ok(())
        }
    }
}

async fn serve(config: Config) -> Result<(), String> {
    let bind = config.bind.clone();
    let database = db::redact(&config.database_url);
    let state = AppState::new(config).await.map_err(|e| e.to_string())?;
    let listener = tokio::net::TcpListener::bind(&bind)
        .await
        .map_err(|e| format!("cannot listen on {bind}: {e}"))?;
    tracing::info!(%bind, %database, "newsfeed listening");
    let acceptor = poem::listener::TcpAcceptor::from_tokio(listener)
        .map_err(|e| format!("cannot listen on {bind}: {e}"))?;
    poem::Server::new_with_acceptor(acceptor)
        .run_with_graceful_shutdown(
            newsfeed::app(state.clone()),
            async {
                let _ = tokio::signal::ctrl_c().await;
            },
            Some(std::time::Duration::from_secs(10)),
        )
        .await
        .map_err(|e| format!("server failed: {e}"))
}
