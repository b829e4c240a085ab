//! HTTP API, described by OpenAPI. Handlers are thin: parse, call a service, map the result.

mod access_requests;
mod areas;
mod auth;
mod calendars;
mod entries;
mod enums;
pub mod fast_feeds;
mod feeds;
mod groups;
mod health;
mod json;
mod media;
mod moderation;
mod oembed;
mod outbox;
pub mod problem;
mod reviewers;
mod stats;
mod syndication;
mod users;

pub use feeds::HomePage;

use chrono::{DateTime, Utc};
use poem::Request;
use poem_openapi::{SecurityScheme, Tags, auth::Bearer};

use crate::AppState;
use crate::domain::authz::Principal;
use crate::error::{AppError, AppResult};

pub type Apis = (
    health::HealthApi,
    auth::AuthApi,
    users::UsersApi,
    groups::GroupsApi,
    calendars::CalendarsApi,
    access_requests::AccessRequestsApi,
    entries::EntriesApi,
    moderation::ModerationApi,
    reviewers::ReviewersApi,
    areas::AreasApi,
    media::MediaApi,
    outbox::OutboxApi,
    stats::StatsApi,
    feeds::FeedsApi,
    oembed::OembedApi,
    syndication::SyndicationApi,
);

pub fn apis() -> Apis {
    (
        health::HealthApi,
        auth::AuthApi,
        users::UsersApi,
        groups::GroupsApi,
        calendars::CalendarsApi,
        access_requests::AccessRequestsApi,
        entries::EntriesApi,
        moderation::ModerationApi,
        reviewers::ReviewersApi,
        areas::AreasApi,
        media::MediaApi,
        outbox::OutboxApi,
        stats::StatsApi,
        feeds::FeedsApi,
        oembed::OembedApi,
        syndication::SyndicationApi,
    )
}

/// The OpenAPI service: every documented operation.
pub fn openapi() -> poem_openapi::OpenApiService<Apis, ()> {
    poem_openapi::OpenApiService::new(apis(), "newsfeed", env!("CARGO_PKG_VERSION")).description(
        "Submission, moderation and publication of user-group news: events, meetups, \
             crowdfunding campaigns and announcements, published as a QGIS news feed, \
             JSON Feed, RSS, Atom and iCalendar.",
    )
}

#[derive(Tags)]
pub enum ApiTags {
    /// Liveness and readiness.
    Health,
    /// Logging in and who you are.
    Auth,
    /// People and their roles (admins).
    Users,
    /// The group directory, members and API tokens.
    Groups,
    /// Requests from new groups for access.
    AccessRequests,
    /// Entries: create, edit, submit, withdraw, history.
    Entries,
    /// The moderation queue and decisions.
    Moderation,
    /// Entry pictures: upload, removal, the stored files.
    Media,
    /// Outgoing mail and mail preferences.
    Mail,
    /// The audience of the QGIS feed, counted without tracking anyone.
    Stats,
    /// Public feeds: QGIS news, JSON Feed, RSS, Atom, iCalendar.
    Feeds,
    /// Showing entries and groups on other sites (oEmbed).
    Embeds,
    /// Cross-posting to Mastodon, Bluesky and Telegram.
    Syndication,
}

/// A login JWT from `POST /api/v1/auth/login`, or a group API token (`nf_…`).
#[derive(SecurityScheme)]
#[oai(ty = "bearer", checker = "check_bearer")]
pub struct BearerAuth(pub Principal);

async fn check_bearer(request: &Request, bearer: Bearer) -> poem::Result<Principal> {
    let state = request.data::<AppState>().ok_or_else(|| {
        poem::Error::from_string(
            "application state missing",
            poem::http::StatusCode::INTERNAL_SERVER_ERROR,
        )
    })?;
    Ok(crate::service::auth::authenticate(&state.services, &bearer.token).await?)
}

/// The principal of a request that may carry a bearer credential: `None`
/// without one, 401 for a bad one.
async fn optional_principal(state: &AppState, request: &Request) -> AppResult<Option<Principal>> {
    let Some(header) = request.headers().get(poem::http::header::AUTHORIZATION) else {
        return Ok(None);
    };
    let bearer = header
        .to_str()
        .ok()
        .and_then(|value| value.strip_prefix("Bearer "))
        .ok_or_else(|| AppError::Unauthorized("use `Authorization: Bearer <token>`".into()))?;
    Ok(Some(
        crate::service::auth::authenticate(&state.services, bearer.trim()).await?,
    ))
}

/// A field an update may leave out (keeping its value) but not set to `null`.
fn not_null<T>(
    field: &str,
    value: poem_openapi::types::MaybeUndefined<T>,
    errors: &mut Vec<crate::domain::FieldError>,
) -> Option<T> {
    use poem_openapi::types::MaybeUndefined;
    match value {
        MaybeUndefined::Undefined => None,
        MaybeUndefined::Value(value) => Some(value),
        MaybeUndefined::Null => {
            errors.push(crate::domain::FieldError::new(
                field,
                "must not be null (leave it out to keep the current value)",
            ));
            None
        }
    }
}

/// The request, or its field errors.
fn checked<T>(value: T, errors: Vec<crate::domain::FieldError>) -> AppResult<T> {
    if errors.is_empty() {
        Ok(value)
    } else {
        Err(AppError::Validation(errors))
    }
}

/// A stored unix-seconds instant as an RFC 3339 date-time.
pub fn instant(seconds: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(seconds, 0).unwrap_or_default()
}

/// Page bounds from query parameters (the spec limits their range): default limit 50.
pub fn page(limit: Option<u64>, offset: Option<u64>) -> (u64, u64) {
    (limit.unwrap_or(50), offset.unwrap_or(0))
}

/// `201 Created` with the new resource.
#[derive(poem_openapi::ApiResponse)]
pub enum Created<T: poem_openapi::types::ToJSON> {
    /// Created.
    #[oai(status = 201)]
    Created(poem_openapi::payload::Json<T>),
}

/// `204 No Content`.
#[derive(poem_openapi::ApiResponse)]
pub enum Deleted {
    /// Done.
    #[oai(status = 204)]
    Deleted,
}
