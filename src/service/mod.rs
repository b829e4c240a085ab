//! Use cases over the database. Callable from the API, the CLI and (later) web pages.

pub mod access_requests;
pub mod auth;
pub mod entries;
pub mod groups;
pub mod rate_limit;
pub mod users;

/// Unix seconds now.
pub fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Whether a database error is a unique-constraint violation.
pub fn is_unique_violation(error: &sea_orm::DbErr) -> bool {
    matches!(
        error.sql_err(),
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
    )
}
