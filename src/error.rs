//! The errors of the service layer (one enum, no HTTP), the problem type
//! each is reported as (its slug, status code and title, which the API's
//! problem documents and the pages' error pages both use), and the errors
//! of start-up.

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
    #[error("too many attempts; try again in {}", wait_in_words(*retry_after))]
    RateLimited { retry_after: u64 },
    /// Too busy right now (e.g. every core is checking passwords).
    #[error("too busy; try again in {}", wait_in_words(*retry_after))]
    Unavailable { retry_after: u64 },
    /// The database cannot take this now (down, restarting, out of disk,
    /// read-only): pages and feeds still answer from the snapshot.
    #[error("{reason}; try again in {}", wait_in_words(*retry_after))]
    DatabaseUnavailable {
        reason: &'static str,
        retry_after: u64,
    },
    #[error("database error: {0}")]
    Database(sea_orm::DbErr),
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

    /// The database cannot serve now, for `reason` (see [`outage`]).
    pub fn unavailable(reason: &'static str) -> Self {
        Self::DatabaseUnavailable {
            reason,
            retry_after: DATABASE_RETRY_SECS,
        }
    }

    /// Whether the failure is ours (answered with 500 and logged).
    pub fn is_internal(&self) -> bool {
        matches!(self, Self::Database(_) | Self::Internal { .. })
    }
}

/// Seconds a client is told to wait while the database is unavailable.
const DATABASE_RETRY_SECS: u64 = 5;

impl From<sea_orm::DbErr> for AppError {
    fn from(error: sea_orm::DbErr) -> Self {
        match outage(&error) {
            Some(reason) => {
                tracing::warn!(%error, "database unavailable");
                Self::unavailable(reason)
            }
            None => Self::Database(error),
        }
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

/// Why `error` means the database cannot serve now (unreachable,
/// restarting, out of space, read-only, busy) rather than a fault of the
/// request or ours; `None` for every other error.
pub fn outage(error: &sea_orm::DbErr) -> Option<&'static str> {
    use sea_orm::RuntimeErr;
    use sea_orm::sqlx::Error;
    const UNREACHABLE: &str = "the database cannot be reached";
    let error = match error {
        sea_orm::DbErr::ConnectionAcquire(_) => return Some(UNREACHABLE),
        sea_orm::DbErr::Conn(RuntimeErr::SqlxError(error))
        | sea_orm::DbErr::Exec(RuntimeErr::SqlxError(error))
        | sea_orm::DbErr::Query(RuntimeErr::SqlxError(error)) => error,
        _ => return None,
    };
    match error.as_ref() {
        Error::Io(_)
        | Error::Tls(_)
        | Error::Protocol(_)
        | Error::PoolTimedOut
        | Error::PoolClosed
        | Error::WorkerCrashed => Some(UNREACHABLE),
        Error::Database(database) => outage_code(&database.code()?),
        _ => None,
    }
}

/// The error codes of an unavailable database: PostgreSQL's SQLSTATEs,
/// SQLite's (extended) result codes.
fn outage_code(code: &str) -> Option<&'static str> {
    // SQLSTATEs are five characters; SQLite's codes are numbers below 10000.
    if code.len() == 5 {
        return match code {
            "57P01" | "57P02" | "57P03" => Some("the database is restarting"),
            "53100" => Some("the database's disk is full"),
            "25006" => Some("the database is read-only"),
            _ if code.starts_with("08") => Some("the database cannot be reached"),
            _ => None,
        };
    }
    match code.parse::<i32>().ok()? & 0xff {
        5 | 6 => Some("the database is busy"),
        8 => Some("the database is read-only"),
        10 | 14 => Some("the database cannot read or write its file"),
        13 => Some("the database's disk is full"),
        _ => None,
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

/// How long to wait, as a person says it: `1 second`, `40 seconds`,
/// `15 minutes` (whole minutes, rounded up, from one minute on).
pub fn wait_in_words(seconds: u64) -> String {
    let (count, unit) = if seconds < 60 {
        (seconds, "second")
    } else {
        (seconds.div_ceil(60), "minute")
    };
    let plural = if count == 1 { "" } else { "s" };
    format!("{count} {unit}{plural}")
}

/// Every kind of problem the service reports. The slug is the last segment of
/// the `type` URI; clients may rely on it never changing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProblemType {
    BadRequest,
    Unauthorized,
    Forbidden,
    NotFound,
    MethodNotAllowed,
    StaleVersion,
    InvalidTransition,
    Duplicate,
    GroupInactive,
    Conflict,
    PayloadTooLarge,
    UnsupportedMediaType,
    Validation,
    RateLimited,
    Internal,
    Unavailable,
}

impl ProblemType {
    pub const ALL: [Self; 16] = [
        Self::BadRequest,
        Self::Unauthorized,
        Self::Forbidden,
        Self::NotFound,
        Self::MethodNotAllowed,
        Self::StaleVersion,
        Self::InvalidTransition,
        Self::Duplicate,
        Self::GroupInactive,
        Self::Conflict,
        Self::PayloadTooLarge,
        Self::UnsupportedMediaType,
        Self::Validation,
        Self::RateLimited,
        Self::Internal,
        Self::Unavailable,
    ];

    pub fn slug(self) -> &'static str {
        self.describe().0
    }

    /// The HTTP status code it is answered with.
    pub fn status(self) -> u16 {
        self.describe().1
    }

    /// A short summary, the same for every occurrence.
    pub fn title(self) -> &'static str {
        self.describe().2
    }

    /// What it means and what a client should do.
    pub fn description(self) -> &'static str {
        self.describe().3
    }

    fn describe(self) -> (&'static str, u16, &'static str, &'static str) {
        match self {
            Self::BadRequest => (
                "bad-request",
                400,
                "Bad request",
                "The request could not be parsed: malformed JSON, an unknown field or a bad parameter.",
            ),
            Self::Unauthorized => (
                "unauthorized",
                401,
                "Not authenticated",
                "Credentials are missing, wrong or expired: log in again or use a valid token.",
            ),
            Self::Forbidden => (
                "forbidden",
                403,
                "Not allowed",
                "You are known but your role or group does not allow this.",
            ),
            Self::NotFound => (
                "not-found",
                404,
                "Not found",
                "There is no such resource, or you may not see it.",
            ),
            Self::MethodNotAllowed => (
                "method-not-allowed",
                405,
                "Method not allowed",
                "The path exists but not with this method; `Allow` lists the methods it takes.",
            ),
            Self::StaleVersion => (
                "stale-version",
                409,
                "Stale version",
                "Someone changed the resource since you read it: `current_version` is its version now; reload and retry.",
            ),
            Self::InvalidTransition => (
                "invalid-transition",
                409,
                "Not possible in this state",
                "The action does not apply to the resource in its current status (e.g. approving a draft).",
            ),
            Self::Duplicate => (
                "duplicate",
                409,
                "Already exists",
                "Something with this unique slug or email address exists already.",
            ),
            Self::GroupInactive => (
                "group-inactive",
                409,
                "Group not active",
                "The entry's group is suspended or removed: it cannot submit, and nothing of it can be approved.",
            ),
            Self::Conflict => (
                "conflict",
                409,
                "Conflict",
                "The request clashes with the current state of things (e.g. an admin demoting themselves).",
            ),
            Self::PayloadTooLarge => (
                "payload-too-large",
                413,
                "Request too large",
                "The request body is larger than the service accepts.",
            ),
            Self::UnsupportedMediaType => (
                "unsupported-media-type",
                415,
                "Unsupported media type",
                "Send the body as `Content-Type: application/json`.",
            ),
            Self::Validation => (
                "validation",
                422,
                "Invalid input",
                "Fields failed validation; `errors` names each field and says why.",
            ),
            Self::RateLimited => (
                "rate-limited",
                429,
                "Too many requests",
                "Too many attempts: wait the seconds in `Retry-After`.",
            ),
            Self::Internal | Self::Unavailable => self.describe_ours(),
        }
    }

    /// The 5xx kinds: what this service cannot do now.
    fn describe_ours(self) -> (&'static str, u16, &'static str, &'static str) {
        match self {
            Self::Unavailable => (
                "unavailable",
                503,
                "Busy",
                "The service cannot do this right now (every core is busy, or its database is down, restarting, full or read-only): wait the seconds in `Retry-After`.",
            ),
            // `Internal`, the only other one.
            _ => (
                "internal",
                500,
                "Internal error",
                "Something failed on our side; it has been logged.",
            ),
        }
    }

    pub fn from_slug(slug: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.slug() == slug)
    }

    pub fn of(error: &AppError) -> Self {
        match error {
            AppError::Validation(_) => Self::Validation,
            AppError::BadRequest(_) => Self::BadRequest,
            AppError::Unauthorized(_) => Self::Unauthorized,
            AppError::Forbidden(_) => Self::Forbidden,
            AppError::NotFound(_) => Self::NotFound,
            AppError::StaleVersion { .. } => Self::StaleVersion,
            AppError::InvalidTransition(_) => Self::InvalidTransition,
            AppError::Duplicate(_) => Self::Duplicate,
            AppError::GroupInactive(_) => Self::GroupInactive,
            AppError::Conflict(_) => Self::Conflict,
            AppError::TooLarge(_) => Self::PayloadTooLarge,
            AppError::RateLimited { .. } => Self::RateLimited,
            AppError::Unavailable { .. } | AppError::DatabaseUnavailable { .. } => {
                Self::Unavailable
            }
            AppError::Database(_) | AppError::Internal { .. } => Self::Internal,
        }
    }

    /// For errors the HTTP framework raises before a handler runs.
    pub fn for_status(status: u16) -> Self {
        match status {
            401 => Self::Unauthorized,
            403 => Self::Forbidden,
            404 => Self::NotFound,
            405 => Self::MethodNotAllowed,
            409 => Self::Conflict,
            413 => Self::PayloadTooLarge,
            415 => Self::UnsupportedMediaType,
            422 => Self::Validation,
            429 => Self::RateLimited,
            503 => Self::Unavailable,
            400..=499 => Self::BadRequest,
            _ => Self::Internal,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{outage_code, wait_in_words};

    #[test]
    fn outage_codes_of_both_databases() {
        assert_eq!(outage_code("517"), Some("the database is busy"));
        assert_eq!(outage_code("1032"), Some("the database is read-only"));
        assert_eq!(outage_code("13"), Some("the database's disk is full"));
        assert_eq!(
            outage_code("2067"),
            None,
            "a unique violation is not an outage"
        );
        assert_eq!(outage_code("57P01"), Some("the database is restarting"));
        assert_eq!(outage_code("08006"), Some("the database cannot be reached"));
        assert_eq!(outage_code("53100"), Some("the database's disk is full"));
        assert_eq!(outage_code("23505"), None);
    }

    #[test]
    fn waits_are_said_in_seconds_then_whole_minutes() {
        assert_eq!(wait_in_words(1), "1 second");
        assert_eq!(wait_in_words(59), "59 seconds");
        assert_eq!(wait_in_words(60), "1 minute");
        assert_eq!(wait_in_words(61), "2 minutes");
        assert_eq!(wait_in_words(900), "15 minutes");
    }
}
