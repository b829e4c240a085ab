#![forbid(unsafe_code)]
//! The `newsfeed` command; see `newsfeed --help`.

use std::process::ExitCode;

use clap::Parser;
use newsfeed::cli::{Cli, LogFormat};

/// Returns freed memory to the system, also while idle (see Cargo.toml).
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// What is logged unless `NEWSFEED_LOG` says otherwise: no line per request
/// (`NEWSFEED_LOG=info` adds the access log, target `newsfeed::access`).
const DEFAULT_LOG_FILTER: &str = "info,newsfeed::access=warn,sqlx=warn,sea_orm=warn";

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let (writer, _flush_on_exit) = tracing_appender::non_blocking(std::io::stderr());
    let logs = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("NEWSFEED_LOG")
                .unwrap_or_else(|_| DEFAULT_LOG_FILTER.into()),
        )
        .with_writer(writer)
        // Colour codes only for a person at a terminal, never in log files.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    match cli.log_format() {
        LogFormat::Text => logs.init(),
        LogFormat::Json => logs.json().init(),
    }
    match cli.run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}
