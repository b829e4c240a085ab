use chrono::{DateTime, Utc};
use poem::web::Data;
use poem_openapi::{Object, OpenApi, param::Path, param::Query, payload::Json};

use super::{ApiTags, BearerAuth, Created, Deleted, instant, page};
use crate::AppState;
use crate::domain::entry::EntryInput;
use crate::domain::lifecycle::Action;
use crate::domain::{EntryKind, EntryStatus};
use crate::entities::entry_event;
use crate::error::AppResult;
use crate::service::entries::{self, ActionInput, EntryFilter, EntryView};

pub struct EntriesApi;

/// An entry as its group and moderators see it.
#[derive(Object)]
pub struct EntryOut {
    /// Also the `pk` in the QGIS feed.
    id: i64,
    group: String,
    kind: EntryKind,
    status: EntryStatus,
    /// Send it back with updates; it changes on every write.
    version: i32,
    /// Whether an approved revision is being published now.
    live: bool,
    title: String,
    content: String,
    url: String,
    image: String,
    #[oai(nullable)]
    language: Option<String>,
    #[oai(nullable)]
    target_area: Option<Vec<Vec<f64>>>,
    #[oai(nullable)]
    call_to_action: Option<String>,
    sticky: bool,
    priority: i32,
    #[oai(nullable)]
    publish_from: Option<DateTime<Utc>>,
    #[oai(nullable)]
    publish_to: Option<DateTime<Utc>>,
    #[oai(nullable)]
    starts_at: Option<DateTime<Utc>>,
    #[oai(nullable)]
    ends_at: Option<DateTime<Utc>>,
    #[oai(nullable)]
    timezone: Option<String>,
    #[oai(nullable)]
    location_name: Option<String>,
    #[oai(nullable)]
    latitude: Option<f64>,
    #[oai(nullable)]
    longitude: Option<f64>,
    #[oai(nullable)]
    online_url: Option<String>,
    #[oai(nullable)]
    goal_amount: Option<f64>,
    #[oai(nullable)]
    currency: Option<String>,
    #[oai(nullable)]
    deadline: Option<DateTime<Utc>>,
    author_id: i64,
    #[oai(nullable)]
    submitted_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<EntryView> for EntryOut {
    fn from(view: EntryView) -> Self {
        let e = view.entry;
        Self {
            id: e.id,
            group: view.group_slug,
            kind: EntryKind::parse(&e.kind).unwrap_or(EntryKind::Announcement),
            status: EntryStatus::parse(&e.status).unwrap_or(EntryStatus::Draft),
            version: e.version,
            live: e.in_feed,
            title: e.title,
            content: e.content,
            url: e.url,
            image: e.image,
            language: e.language,
            target_area: e
                .target_area
                .as_deref()
                .and_then(|text| serde_json::from_str(text).ok()),
            call_to_action: e.call_to_action,
            sticky: e.sticky,
            priority: e.priority,
            publish_from: e.publish_from.map(instant),
            publish_to: e.publish_to.map(instant),
            starts_at: e.starts_at.map(instant),
            ends_at: e.ends_at.map(instant),
            timezone: e.timezone,
            location_name: e.location_name,
            latitude: e.latitude,
            longitude: e.longitude,
            online_url: e.online_url,
            goal_amount: e.goal_amount,
            currency: e.currency,
            deadline: e.deadline.map(instant),
            author_id: e.author_id,
            submitted_at: e.submitted_at.map(instant),
            created_at: instant(e.created_at),
            updated_at: instant(e.updated_at),
        }
    }
}

/// A page of entries.
#[derive(Object)]
pub struct EntryPage {
    items: Vec<EntryOut>,
    /// How many entries match, over all pages.
    total: u64,
}

impl EntryPage {
    pub fn new((views, total): (Vec<EntryView>, u64)) -> Self {
        Self {
            items: views.into_iter().map(EntryOut::from).collect(),
            total,
        }
    }
}

/// One step in an entry's history.
#[derive(Object)]
struct EventOut {
    id: i64,
    action: String,
    /// Who acted: a person's display name or `token NAME`.
    actor: String,
    #[oai(nullable)]
    actor_user_id: Option<i64>,
    #[oai(nullable)]
    from_status: Option<EntryStatus>,
    #[oai(nullable)]
    to_status: Option<EntryStatus>,
    #[oai(nullable)]
    comment: Option<String>,
    /// Changed fields as `{field: [old, new]}`.
    #[oai(nullable)]
    changes: Option<serde_json::Value>,
    at: DateTime<Utc>,
}

impl From<entry_event::Model> for EventOut {
    fn from(event: entry_event::Model) -> Self {
        Self {
            id: event.id,
            action: event.action,
            actor: event.actor_name,
            actor_user_id: event.actor_user_id,
            from_status: event.from_status.as_deref().and_then(EntryStatus::parse),
            to_status: event.to_status.as_deref().and_then(EntryStatus::parse),
            comment: event.comment,
            changes: event
                .changes
                .as_deref()
                .and_then(|text| serde_json::from_str(text).ok()),
            at: instant(event.created_at),
        }
    }
}

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Entries")]
impl EntriesApi {
    /// Create a draft entry for a group you edit.
    #[oai(path = "/entries", method = "post")]
    async fn create(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        body: Json<EntryInput>,
    ) -> AppResult<Created<EntryOut>> {
        let view = entries::create(&state, &auth.0, &body).await?;
        Ok(Created::Created(Json(view.into())))
    }

    /// Entries you may see, newest first: your groups' entries, and for moderators all but drafts.
    #[oai(path = "/entries", method = "get")]
    #[allow(clippy::too_many_arguments)]
    async fn list(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        group: Query<Option<String>>,
        status: Query<Option<EntryStatus>>,
        kind: Query<Option<EntryKind>>,
        /// Page size, 1 to 200 (default 50).
        #[oai(validator(minimum(value = "1"), maximum(value = "200")))]
        limit: Query<Option<u64>>,
        /// Entries to skip.
        #[oai(validator(maximum(value = "1000000000")))]
        offset: Query<Option<u64>>,
    ) -> AppResult<Json<EntryPage>> {
        let (limit, offset) = page(*limit, *offset);
        let filter = EntryFilter {
            group: group.0,
            status: *status,
            kind: *kind,
            language: None,
            limit,
            offset,
        };
        Ok(Json(EntryPage::new(
            entries::list(&state, &auth.0, &filter).await?,
        )))
    }

    /// One entry.
    #[oai(path = "/entries/:id", method = "get")]
    async fn get(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<i64>,
    ) -> AppResult<Json<EntryOut>> {
        Ok(Json(entries::get(&state, &auth.0, *id).await?.into()))
    }

    /// Change an entry; send the `version` you edited. Editing a live entry
    /// sends the edit to review while the approved revision stays live.
    #[oai(path = "/entries/:id", method = "patch")]
    async fn update(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<i64>,
        body: Json<EntryInput>,
    ) -> AppResult<Json<EntryOut>> {
        Ok(Json(
            entries::update(&state, &auth.0, *id, &body).await?.into(),
        ))
    }

    /// Delete a draft (or a withdrawn entry) that was never published.
    #[oai(path = "/entries/:id", method = "delete")]
    async fn delete(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<i64>,
    ) -> AppResult<Deleted> {
        entries::delete(&state, &auth.0, *id).await?;
        Ok(Deleted::Deleted)
    }

    /// Send a draft (or an entry with requested changes) to moderation.
    #[oai(path = "/entries/:id/submit", method = "post")]
    async fn submit(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<i64>,
        body: Json<Option<ActionInput>>,
    ) -> AppResult<Json<EntryOut>> {
        act(&state, &auth, *id, Action::Submit, body.0).await
    }

    /// Withdraw an entry that is not yet approved (and take a live revision offline).
    #[oai(path = "/entries/:id/withdraw", method = "post")]
    async fn withdraw(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<i64>,
        body: Json<Option<ActionInput>>,
    ) -> AppResult<Json<EntryOut>> {
        act(&state, &auth, *id, Action::Withdraw, body.0).await
    }

    /// Who did what to the entry, when, with comments and changed fields.
    #[oai(path = "/entries/:id/history", method = "get")]
    async fn history(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<i64>,
    ) -> AppResult<Json<Vec<EventOut>>> {
        let events = entries::history(&state, &auth.0, *id).await?;
        Ok(Json(events.into_iter().map(EventOut::from).collect()))
    }
}

/// Runs a life-cycle action for any of the action endpoints.
pub async fn act(
    state: &AppState,
    auth: &BearerAuth,
    id: i64,
    action: Action,
    input: Option<ActionInput>,
) -> AppResult<Json<EntryOut>> {
    let input = input.unwrap_or_default();
    Ok(Json(
        entries::act(state, &auth.0, id, action, &input)
            .await?
            .into(),
    ))
}
