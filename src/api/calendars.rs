//! Calendars a group keeps elsewhere (Meetup, Google, Nextcloud...):
//! subscriptions fetched on a schedule, runs on demand, one-off file imports.

use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::types::multipart::Upload;
use poem_openapi::{Multipart, Object, OpenApi};

use super::json::JsonBody;
use super::{ApiTags, BearerAuth, Created, Deleted, instant};
use crate::AppState;
use crate::domain::EntryKind;
use crate::entities::{calendar_run, calendar_subscription};
use crate::error::{AppError, AppResult};
use crate::service::calendars::{
    self, NewSubscription, SubscriptionChange, SubscriptionView, approves_at_once,
};

pub struct CalendarsApi;

/// A calendar to subscribe the group to.
#[derive(Object, Debug, serde::Deserialize)]
#[oai(deny_unknown_fields)]
#[serde(deny_unknown_fields)]
struct SubscriptionInput {
    /// The iCalendar (`.ics`) export link: https, a public address.
    url: String,
    /// What its events become: `event` or `meetup`.
    kind: EntryKind,
    /// Approve its events at once instead of sending them to review. Takes
    /// effect only when an admin set it (creating the subscription or with
    /// `PATCH`); an owner's request waits for an admin's.
    #[oai(default)]
    #[serde(default)]
    auto_approve: bool,
}

/// A change of a subscription; what is left out stays.
#[derive(Object, Debug, serde::Deserialize)]
#[oai(deny_unknown_fields)]
#[serde(deny_unknown_fields)]
struct SubscriptionPatch {
    /// As on creation: an admin's `true` allows it, an owner's asks for it.
    auto_approve: Option<bool>,
    /// What its new events become from now on: `event` or `meetup` (the
    /// entries it brought keep theirs).
    kind: Option<EntryKind>,
}

/// One run of a subscription (or file import).
#[derive(Object)]
struct RunOut {
    id: i64,
    started_at: chrono::DateTime<chrono::Utc>,
    /// Whether a calendar was received (false: not modified since the last
    /// run, or the fetch failed).
    fetched: bool,
    new: i32,
    updated: i32,
    cancelled: i32,
    /// What went wrong, one problem a line; empty when nothing did.
    errors: String,
}

impl From<calendar_run::Model> for RunOut {
    fn from(run: calendar_run::Model) -> Self {
        Self {
            id: run.id,
            started_at: instant(run.started_at),
            fetched: run.fetched,
            new: run.new_count,
            updated: run.updated_count,
            cancelled: run.cancelled_count,
            errors: run.errors,
        }
    }
}

/// A subscribed calendar. Updates follow one rule: the source wins until
/// the entry is edited here; after that the source's changes are offered as
/// an edit for review. Events removed from the source are cancelled here
/// (`event_status`), never deleted; events are told apart by UID.
#[derive(Object)]
struct SubscriptionOut {
    id: i64,
    /// The calendar's URL; empty for the group's one-off file imports.
    url: String,
    kind: EntryKind,
    auto_approve: bool,
    /// Whether events are approved at once: `auto_approve` set by an admin.
    auto_approve_in_effect: bool,
    #[oai(nullable)]
    next_fetch_at: Option<chrono::DateTime<chrono::Utc>>,
    created_at: chrono::DateTime<chrono::Utc>,
    /// The latest runs, newest first (only on the single subscription).
    runs: Vec<RunOut>,
}

impl From<calendar_subscription::Model> for SubscriptionOut {
    fn from(subscription: calendar_subscription::Model) -> Self {
        Self {
            auto_approve_in_effect: approves_at_once(&subscription),
            id: subscription.id,
            url: subscription.url,
            kind: subscription.kind,
            auto_approve: subscription.auto_approve,
            next_fetch_at: subscription.next_fetch_at.map(instant),
            created_at: instant(subscription.created_at),
            runs: Vec::new(),
        }
    }
}

impl From<SubscriptionView> for SubscriptionOut {
    fn from(view: SubscriptionView) -> Self {
        Self {
            runs: view.runs.into_iter().map(RunOut::from).collect(),
            ..view.subscription.into()
        }
    }
}

/// A calendar file to import once.
#[derive(Multipart, Debug)]
struct CalendarUpload {
    /// An iCalendar (`.ics`) file, at most 5 MiB.
    file: Upload,
    /// What its events become: `event` or `meetup`.
    kind: String,
}

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Groups")]
impl CalendarsApi {
    /// The group's subscribed calendars and file imports (its members and moderators).
    #[oai(path = "/groups/:slug/calendars", method = "get")]
    async fn list(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        slug: Path<String>,
    ) -> AppResult<Json<Vec<SubscriptionOut>>> {
        let found = calendars::list(&state.services, &auth.0, &slug).await?;
        Ok(Json(found.into_iter().map(SubscriptionOut::from).collect()))
    }

    /// Subscribe the group to a calendar (its owners and admins): its events
    /// become entries of the group, fetched every 6 hours (first at once).
    #[oai(path = "/groups/:slug/calendars", method = "post")]
    async fn subscribe(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        slug: Path<String>,
        body: JsonBody<SubscriptionInput>,
    ) -> AppResult<Created<SubscriptionOut>> {
        let new = NewSubscription {
            url: body.0.url,
            kind: body.0.kind,
            auto_approve: body.0.auto_approve,
        };
        let view = calendars::subscribe(&state.services, &auth.0, &slug, new).await?;
        Ok(Created::Created(Json(view.into())))
    }

    /// Import a calendar file once (owners and admins), as a subscription
    /// would; events missing from the file are left alone. Returns the run.
    #[oai(path = "/groups/:slug/calendars/import", method = "post")]
    async fn import(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        slug: Path<String>,
        form: CalendarUpload,
    ) -> AppResult<Json<RunOut>> {
        if form.file.size() > crate::domain::limits::CALENDAR_MAX_BYTES {
            return Err(AppError::TooLarge(
                "a calendar file holds at most 5 MiB".into(),
            ));
        }
        let kind = EntryKind::parse(form.kind.trim())
            .ok_or_else(|| AppError::field("kind", "must be event or meetup"))?;
        let bytes = form
            .file
            .into_vec()
            .await
            .map_err(|_| AppError::BadRequest("the file could not be read".into()))?;
        let run = calendars::import_file(&state.services, &auth.0, &slug, kind, &bytes).await?;
        Ok(Json(run.into()))
    }

    /// One subscription with its latest runs (members and moderators).
    #[oai(path = "/groups/:slug/calendars/:id", method = "get")]
    async fn get(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        slug: Path<String>,
        id: Path<i64>,
    ) -> AppResult<Json<SubscriptionOut>> {
        let view = calendars::get(&state.services, &auth.0, &slug, *id).await?;
        Ok(Json(view.into()))
    }

    /// Change what its new events become, or whether they are approved at once (owners ask, admins allow).
    #[oai(path = "/groups/:slug/calendars/:id", method = "patch")]
    async fn update(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        slug: Path<String>,
        id: Path<i64>,
        body: JsonBody<SubscriptionPatch>,
    ) -> AppResult<Json<SubscriptionOut>> {
        let change = SubscriptionChange {
            kind: body.0.kind,
            auto_approve: body.0.auto_approve,
        };
        let view = calendars::update(&state.services, &auth.0, &slug, *id, change).await?;
        Ok(Json(view.into()))
    }

    /// End a subscription (owners and admins); the entries it brought stay.
    #[oai(path = "/groups/:slug/calendars/:id", method = "delete")]
    async fn delete(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        slug: Path<String>,
        id: Path<i64>,
    ) -> AppResult<Deleted> {
        calendars::unsubscribe(&state.services, &auth.0, &slug, *id).await?;
        Ok(Deleted::Deleted)
    }

    /// Fetch the calendar now (owners and admins) and return the run.
    #[oai(path = "/groups/:slug/calendars/:id/sync", method = "post")]
    async fn sync(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        slug: Path<String>,
        id: Path<i64>,
    ) -> AppResult<Json<RunOut>> {
        let run = calendars::sync_now(&state.services, &auth.0, &slug, *id).await?;
        Ok(Json(run.into()))
    }
}
