//! The errors of the service layer (one enum, no HTTP: `api::problem` maps
//! each to its problem document once) and of start-up.

use crate::domain::{FieldError, Refusal};

pub type AppResult<T> = Result<T, AppError>;

/// Any error, kept as the cause of an internal failure for the logs.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Fields failed validation.
    #[error("invalid input: {}", describe(.0))]
    Validation(Vec<FieldError>),
    /// The request cannot be understood (a malformed parameter).
    #[error("{0}")]
    BadRequest(String),
    /// Missing, wrong or expired credentials.
    #[error("{0}")]
    Unauthorized(String),
    /// Known, but not allowed to do this.
    #[error("{0}")]
    Forbidden(String),
    /// No such thing (or not visible to the caller).
    #[error("{0}")]
    NotFound(String),
    /// The write was based on an older version of the entry.
    #[error("the entry was changed by someone else; reload it and try again")]
    StaleVersion { current_version: i32 },
    /// The action is not possible in the current state.
    #[error("{0}")]
    InvalidTransition(String),
    /// Something with this unique name or address already exists.
    #[error("{0}")]
    Duplicate(String),
    /// The group is suspended or removed.
    #[error("{0}")]
    GroupInactive(String),
    /// Any other clash with the current state.
    #[error("{0}")]
    Conflict(String),
    /// The upload is larger than accepted.
    #[error("{0}")]
    TooLarge(String),
    /// Too many attempts from this client or for this account.
    #[error("too many attempts; try again in {retry_after} seconds")]
    RateLimited { retry_after: u64 },
    /// Too busy right now (e.g. every core is checking passwords).
    #[error("too busy; try again in {retry_after} seconds")]
    Unavailable { retry_after: u64 },
    #[error("database error: {0}")]
    Database(#[from] sea_orm::DbErr),
    /// A failure that is ours, not the client's; `source` goes to the logs.
    #[error("{context}: {source}")]
    Internal {
        context: &'static str,
        #[source]
        source: BoxError,
    },
}

fn describe(errors: &[FieldError]) -> String {
    errors
        .iter()
        .map(|e| format!("{}: {}", e.field, e.message))
        .collect::<Vec<_>>()
        .join("; ")
}

impl AppError {
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        Self::Validation(vec![FieldError::new(field, message)])
    }

    /// `{what} not found`.
    pub fn not_found(what: &str) -> Self {
        Self::NotFound(format!("{what} not found"))
    }

    pub fn internal(context: &'static str, source: impl Into<BoxError>) -> Self {
        Self::Internal {
            context,
            source: source.into(),
        }
    }

    /// Whether the failure is ours (answered with 500 and logged).
    pub fn is_internal(&self) -> bool {
        matches!(self, Self::Database(_) | Self::Internal { .. })
    }
}

impl From<Refusal> for AppError {
    fn from(refusal: Refusal) -> Self {
        match refusal {
            Refusal::Invalid(errors) => Self::Validation(errors),
            Refusal::Forbidden(message) => Self::Forbidden(message),
            Refusal::Stale { current_version } => Self::StaleVersion { current_version },
            Refusal::InvalidTransition(message) => Self::InvalidTransition(message),
            Refusal::GroupInactive(message) => Self::GroupInactive(message),
            Refusal::Conflict(message) => Self::Conflict(message),
        }
    }
}

impl From<Vec<FieldError>> for AppError {
    fn from(errors: Vec<FieldError>) -> Self {
        Self::Validation(errors)
    }
}

/// Why the service could not start (or a command could not open its database).
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("{0}")]
    Config(String),
    #[error("cannot connect to {url}: {source}")]
    Connect {
        url: String,
        #[source]
        source: sea_orm::DbErr,
    },
    #[error("migrations failed: {0}")]
    Migrate(#[source] sea_orm::DbErr),
    #[error("database error: {0}")]
    Database(#[from] sea_orm::DbErr),
    #[error("cannot listen on {bind}: {source}")]
    Listen {
        bind: String,
        #[source]
        source: std::io::Error,
    },
}
