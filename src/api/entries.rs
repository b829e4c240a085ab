use chrono::{DateTime, Utc};
use poem::web::Data;
use poem_openapi::{
    Object, OpenApi, param::Path, param::Query, payload::Json, types::MaybeUndefined,
};

use super::areas::{AreaInput, area_points};
use super::json::{JsonBody, SerdeJson, rfc3339};
use super::{ApiTags, BearerAuth, Created, Deleted, instant, page};
use crate::AppState;
use crate::domain::entry::{EntryPatch, Translation, with_entry_fields};
use crate::domain::lifecycle::{ActionRequest, EditRequest, LiveChange};
use crate::domain::search::SearchQuery;
use crate::domain::{Action, EntryKind, EntryStatus, Phase};
use crate::entities::entry_event;
use crate::error::{AppError, AppResult};
use crate::service::entries::{self, EntryFilter, EntryView, NewEntry, fields_of};

pub struct EntriesApi;

/// The request type of each field kind of `with_entry_fields!`.
macro_rules! input_type {
    (text) => { MaybeUndefined<String> };
    (html) => { MaybeUndefined<String> };
    (line) => { MaybeUndefined<String> };
    (instant) => { MaybeUndefined<DateTime<Utc>> };
    (number) => { MaybeUndefined<f64> };
    (area) => { MaybeUndefined<AreaInput> };
    (reference) => { MaybeUndefined<i64> };
    (list) => { MaybeUndefined<Vec<String>> };
    (moves) => { MaybeUndefined<std::collections::BTreeMap<String, String>> };
    (translations) => { MaybeUndefined<std::collections::BTreeMap<String, TranslationBody>> };
}

/// A request field as a patch of the domain field (`None` keeps it).
macro_rules! to_patch {
    (text, $value:expr, $name:ident, $errors:ident) => {
        super::not_null(stringify!($name), $value, &mut $errors)
    };
    (html, $value:expr, $name:ident, $errors:ident) => {
        super::not_null(stringify!($name), $value, &mut $errors)
    };
    (line, $value:expr, $name:ident, $errors:ident) => {
        patch($value, String::from)
    };
    (instant, $value:expr, $name:ident, $errors:ident) => {
        patch($value, |instant| instant.timestamp())
    };
    (number, $value:expr, $name:ident, $errors:ident) => {
        patch($value, |number| number)
    };
    (area, $value:expr, $name:ident, $errors:ident) => {
        patch($value, area_points)
    };
    (reference, $value:expr, $name:ident, $errors:ident) => {
        patch($value, |id| id)
    };
    (list, $value:expr, $name:ident, $errors:ident) => {
        patch($value, |list| list).map(Option::unwrap_or_default)
    };
    (moves, $value:expr, $name:ident, $errors:ident) => {
        patch($value, |moves| moves).map(Option::unwrap_or_default)
    };
    (translations, $value:expr, $name:ident, $errors:ident) => {
        patch($value, |translations| {
            translations
                .into_iter()
                .map(|(language, body)| (language, body.into()))
                .collect()
        })
        .map(Option::unwrap_or_default)
    };
}

/// The response type of each field kind.
macro_rules! output_type {
    (text) => { String };
    (html) => { String };
    (line) => { Option<String> };
    (instant) => { Option<DateTime<Utc>> };
    (number) => { Option<f64> };
    (area) => { Option<Vec<Vec<f64>>> };
    (reference) => { Option<i64> };
    (list) => { Vec<String> };
    (moves) => { std::collections::BTreeMap<String, String> };
    (translations) => { std::collections::BTreeMap<String, TranslationBody> };
}

/// A domain field as its response value.
macro_rules! to_output {
    (instant, $value:expr) => {
        $value.map(instant)
    };
    (area, $value:expr) => {
        $value.map(|points| points.iter().map(|point| point.to_vec()).collect())
    };
    (translations, $value:expr) => {
        $value
            .into_iter()
            .map(|(language, translation)| (language, translation.into()))
            .collect()
    };
    ($kind:ident, $value:expr) => {
        $value
    };
}

/// An entry's texts in one other language (`translations`).
#[derive(Object, Clone, Debug, Default, serde::Deserialize, serde::Serialize)]
#[oai(deny_unknown_fields)]
#[serde(deny_unknown_fields, default)]
pub struct TranslationBody {
    /// Plain-text title, at most 255 characters. Required.
    pub title: String,
    /// HTML body, sanitized as `content`; empty: the main one.
    #[oai(default)]
    pub content: String,
    /// Empty or absent: the main one.
    #[oai(nullable)]
    pub call_to_action: Option<String>,
    /// Empty or absent: the main one.
    #[oai(nullable)]
    pub image_alt: Option<String>,
}

impl From<TranslationBody> for Translation {
    fn from(body: TranslationBody) -> Self {
        Self {
            title: body.title,
            content: body.content,
            call_to_action: body.call_to_action,
            image_alt: body.image_alt,
        }
    }
}

impl From<Translation> for TranslationBody {
    fn from(translation: Translation) -> Self {
        Self {
            title: translation.title,
            content: translation.content,
            call_to_action: translation.call_to_action,
            image_alt: translation.image_alt,
        }
    }
}

/// `null` clears an optional field, absence keeps it.
fn patch<T, U>(value: MaybeUndefined<T>, convert: impl FnOnce(T) -> U) -> Option<Option<U>> {
    match value {
        MaybeUndefined::Undefined => None,
        MaybeUndefined::Null => Some(None),
        MaybeUndefined::Value(value) => Some(Some(convert(value))),
    }
}

macro_rules! entry_input {
    (
        common: [$($common_kind:ident $common:ident $common_doc:literal),* $(,)?],
        kind: [$($kind_kind:ident $kind:ident $kind_doc:literal),* $(,)?] $(,)?
    ) => {
        /// Create or update an entry. On create `group`, `kind`, `title` and
        /// `content` are required, and each kind's own fields as described; on
        /// update `version` is, absent fields keep their value, `null` clears an
        /// optional one and is refused for a required one.
        #[derive(Object, Clone, Debug, Default, serde::Deserialize)]
        #[oai(deny_unknown_fields)]
        #[serde(deny_unknown_fields, default)]
        pub struct EntryInput {
            /// Slug of the group that publishes the entry (create only).
            #[oai(nullable)]
            pub group: Option<String>,
            /// Kind of entry (create only).
            #[oai(nullable)]
            pub kind: Option<EntryKind>,
            /// The version this update is based on (update only); a stale one gets 409.
            #[oai(nullable)]
            pub version: Option<i32>,
            $(#[doc = $common_doc] #[oai(nullable)] pub $common: input_type!($common_kind),)*
            $(#[doc = $kind_doc] #[oai(nullable)] pub $kind: input_type!($kind_kind),)*
        }

        impl EntryInput {
            fn into_patch(self) -> AppResult<(Option<String>, Option<EntryKind>, Option<i32>, EntryPatch)> {
                let mut errors = Vec::new();
                let patch = EntryPatch {
                    $($common: to_patch!($common_kind, self.$common, $common, errors),)*
                    $($kind: to_patch!($kind_kind, self.$kind, $kind, errors),)*
                };
                super::checked((self.group, self.kind, self.version, patch), errors)
            }
        }
    };
}

with_entry_fields!(entry_input);

/// Builds `EntryOut` by munching the field rows: text and HTML fields are
/// always present, the others nullable.
macro_rules! entry_output_fields {
    (@munch [$($fields:tt)*]) => {
        /// An entry as its group and moderators see it.
        #[derive(Object, serde::Serialize)]
        pub struct EntryOut {
            /// Also the `pk` in the QGIS feed.
            id: i64,
            group: String,
            kind: EntryKind,
            status: EntryStatus,
            /// Send it back with updates; it changes on every write.
            version: i32,
            /// Whether the entry is in the feeds now: approved and within its window.
            live: bool,
            /// Where the published revision stands: `upcoming` (its window
            /// opens later), `live`, or `ended`; null when nothing is published.
            #[oai(nullable)]
            publication: Option<Phase>,
            /// When the published revision leaves the feeds (its window's end,
            /// explicit or derived from the event, deadline or announcement period).
            #[oai(nullable)]
            #[serde(serialize_with = "rfc3339::optional")]
            published_until: Option<DateTime<Utc>>,
            /// Events and meetups: the start of the next occurrence that has not
            /// ended (of a series, after cancellations and moves).
            #[oai(nullable)]
            #[serde(serialize_with = "rfc3339::optional")]
            next_occurrence: Option<DateTime<Utc>>,
            $($fields)*
            sticky: bool,
            priority: i32,
            author_id: i64,
            #[oai(nullable)]
            #[serde(serialize_with = "rfc3339::optional")]
            submitted_at: Option<DateTime<Utc>>,
            #[serde(serialize_with = "rfc3339::one")]
            created_at: DateTime<Utc>,
            #[serde(serialize_with = "rfc3339::one")]
            updated_at: DateTime<Utc>,
        }
    };
    (@munch [$($fields:tt)*] text $name:ident $doc:literal, $($rest:tt)*) => {
        entry_output_fields!(@munch [$($fields)* $name: String,] $($rest)*);
    };
    (@munch [$($fields:tt)*] html $name:ident $doc:literal, $($rest:tt)*) => {
        entry_output_fields!(@munch [$($fields)* $name: String,] $($rest)*);
    };
    (@munch [$($fields:tt)*] instant $name:ident $doc:literal, $($rest:tt)*) => {
        entry_output_fields!(@munch [$($fields)* #[oai(nullable)] #[serde(serialize_with = "rfc3339::optional")] $name: output_type!(instant),] $($rest)*);
    };
    (@munch [$($fields:tt)*] $kind:ident $name:ident $doc:literal, $($rest:tt)*) => {
        entry_output_fields!(@munch [$($fields)* #[oai(nullable)] $name: output_type!($kind),] $($rest)*);
    };
}

macro_rules! entry_output {
    (
        common: [$($common_kind:ident $common:ident $common_doc:literal),* $(,)?],
        kind: [$($kind_kind:ident $kind:ident $kind_doc:literal),* $(,)?] $(,)?
    ) => {
        entry_output_fields!(@munch [] $($common_kind $common $common_doc,)* $($kind_kind $kind $kind_doc,)*);

        impl From<EntryView> for EntryOut {
            fn from(view: EntryView) -> Self {
                let fields = fields_of(&view.entry);
                let (publication, next_occurrence) = view.schedule();
                let next_occurrence = next_occurrence.map(instant);
                let e = view.entry;
                Self {
                    id: e.id,
                    group: view.group_slug,
                    kind: e.kind,
                    status: e.status,
                    version: e.version,
                    live: publication == Some(Phase::Live),
                    publication,
                    published_until: e.live_publish_to.filter(|_| e.in_feed).map(instant),
                    next_occurrence,
                    $($common: to_output!($common_kind, fields.$common),)*
                    $($kind: to_output!($kind_kind, fields.$kind),)*
                    sticky: e.sticky,
                    priority: e.priority,
                    author_id: e.author_id,
                    submitted_at: e.submitted_at.map(instant),
                    created_at: instant(e.created_at),
                    updated_at: instant(e.updated_at),
                }
            }
        }
    };
}

with_entry_fields!(entry_output);

/// What a moderator (or an editor, for submit and withdraw) sends with an action.
#[derive(Object, Clone, Debug, Default, serde::Deserialize)]
#[oai(deny_unknown_fields)]
#[serde(deny_unknown_fields, default)]
pub struct ActionInput {
    /// Why; required to reject, request changes, unpublish and comment.
    #[oai(nullable)]
    pub comment: Option<String>,
    /// The version the action is based on; a stale one gets 409.
    #[oai(nullable)]
    pub version: Option<i32>,
    /// On approve: pin the entry to the top of the feeds.
    #[oai(nullable)]
    pub sticky: Option<bool>,
    /// On approve: higher comes first among entries of equal stickiness.
    #[oai(nullable)]
    pub priority: Option<i32>,
    /// On approve: override the start of the publication window.
    #[oai(nullable)]
    pub publish_from: Option<DateTime<Utc>>,
    /// On approve: override the end of the publication window.
    #[oai(nullable)]
    pub publish_to: Option<DateTime<Utc>>,
    /// On approving an edit of a live entry: `true` is an update (QGIS
    /// clients get the entry again and show it again, even where it was
    /// dismissed), `false` a correction (pages and feeds change at once;
    /// QGIS clients are not sent it again). Omitted: a correction when
    /// title, url, image and dates are unchanged, else an update. A first
    /// publication always reaches every client (`false` is refused).
    #[oai(nullable)]
    pub notify_clients: Option<bool>,
}

impl From<ActionInput> for ActionRequest {
    fn from(input: ActionInput) -> Self {
        Self {
            comment: input.comment,
            version: input.version,
            sticky: input.sticky,
            priority: input.priority,
            publish_from: input.publish_from.map(|at| at.timestamp()),
            publish_to: input.publish_to.map(|at| at.timestamp()),
            notify_clients: input.notify_clients,
        }
    }
}

/// A page of entries.
#[derive(Object, serde::Serialize)]
// The spec's name since the first release (clients generate code from it).
#[oai(rename = "EntryPage")]
pub struct EntryList {
    items: Vec<EntryOut>,
    /// How many entries match, over all pages.
    total: u64,
}

impl EntryList {
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
            action: event.action.as_str().into(),
            actor: event.actor_name,
            actor_user_id: event.actor_user_id,
            from_status: event.from_status,
            to_status: event.to_status,
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
        body: JsonBody<EntryInput>,
    ) -> AppResult<Created<EntryOut>> {
        let (group, kind, version, patch) = body.0.into_patch()?;
        let new = NewEntry {
            group,
            kind,
            version,
            patch,
        };
        let view = entries::create(&state.services, &auth.0, new).await?;
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
        /// Words (at most 10, 200 characters) that the title, text, place or group name
        /// must all hold, in any order and case; the last may be the start of a word.
        q: Query<Option<String>>,
        /// Page size, 1 to 200 (default 50).
        #[oai(validator(minimum(value = "1"), maximum(value = "200")))]
        limit: Query<Option<u64>>,
        /// Entries to skip.
        #[oai(validator(maximum(value = "1000000000")))]
        offset: Query<Option<u64>>,
    ) -> AppResult<SerdeJson<EntryList>> {
        let (limit, offset) = page(*limit, *offset);
        let filter = EntryFilter {
            group: group.0,
            status: *status,
            kind: *kind,
            languages: Vec::new(),
            mine: false,
            assigned_to: None,
            query: SearchQuery::parse(q.as_deref().unwrap_or_default())
                .map_err(|bad| AppError::BadRequest(bad.0))?,
            limit,
            offset,
        };
        Ok(SerdeJson(EntryList::new(
            entries::list(&state.services, &auth.0, &filter).await?,
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
        Ok(Json(
            entries::get(&state.services, &auth.0, *id).await?.into(),
        ))
    }

    /// Change an entry; send the `version` you edited. Editing a live entry
    /// sends the edit to review while the approved revision stays live.
    /// Moderators may edit an entry in review or published (a typo fix):
    /// the edit is theirs in the history and the author is told by mail.
    #[oai(path = "/entries/:id", method = "patch")]
    async fn update(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<i64>,
        body: JsonBody<EntryInput>,
    ) -> AppResult<Json<EntryOut>> {
        let (group, kind, version, patch) = body.0.into_patch()?;
        let request = EditRequest {
            group,
            kind,
            version,
            patch,
        };
        Ok(Json(
            entries::update(&state.services, &auth.0, *id, request)
                .await?
                .into(),
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
        entries::delete(&state.services, &auth.0, *id).await?;
        Ok(Deleted::Deleted)
    }

    /// Send a draft (or an entry with requested changes) to moderation.
    #[oai(path = "/entries/:id/submit", method = "post")]
    async fn submit(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<i64>,
        body: JsonBody<Option<ActionInput>>,
    ) -> AppResult<Json<EntryOut>> {
        act(&state, &auth, *id, Action::Submit, body.0).await
    }

    /// Withdraw an entry: take back a draft or a submission, or take a live
    /// entry offline (clients that show it are told to drop it).
    #[oai(path = "/entries/:id/withdraw", method = "post")]
    async fn withdraw(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<i64>,
        body: JsonBody<Option<ActionInput>>,
    ) -> AppResult<Json<EntryOut>> {
        act(&state, &auth, *id, Action::Withdraw, body.0).await
    }

    /// Change a published event's status (`confirmed`, `tentative`,
    /// `postponed`, `cancelled`) without a new review: the change shows in
    /// every feed at once (a `Cancelled:` title, `STATUS:CANCELLED`).
    #[oai(path = "/entries/:id/event-status", method = "post")]
    async fn event_status(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<i64>,
        body: JsonBody<EventStatusInput>,
    ) -> AppResult<Json<EntryOut>> {
        let change = LiveChange {
            version: body.0.version,
            event_status: Some(body.0.event_status),
            ..LiveChange::default()
        };
        change_live(&state, &auth, *id, &change).await
    }

    /// Change a published entry without a new review: an event's status,
    /// cancelled (`exdates`) or moved occurrences of a series, a campaign's
    /// amount raised. Absent fields keep their value. Anything else is an
    /// edit, which goes to review.
    #[oai(path = "/entries/:id/live-changes", method = "post")]
    async fn live_changes(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<i64>,
        body: JsonBody<LiveChangeInput>,
    ) -> AppResult<Json<EntryOut>> {
        let input = body.0;
        let change = LiveChange {
            version: input.version,
            event_status: input.event_status,
            raised_amount: patch(input.raised_amount, |amount| amount),
            exdates: input.exdates,
            moved_occurrences: input.moved_occurrences,
        };
        change_live(&state, &auth, *id, &change).await
    }

    /// Who did what to the entry, when, with comments and changed fields.
    #[oai(path = "/entries/:id/history", method = "get")]
    async fn history(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<i64>,
    ) -> AppResult<Json<Vec<EventOut>>> {
        let events = entries::history(&state.services, &auth.0, *id).await?;
        Ok(Json(events.into_iter().map(EventOut::from).collect()))
    }
}

async fn change_live(
    state: &AppState,
    auth: &BearerAuth,
    id: i64,
    change: &LiveChange,
) -> AppResult<Json<EntryOut>> {
    Ok(Json(
        entries::change_live(&state.services, &auth.0, id, change)
            .await?
            .into(),
    ))
}

/// A published event's new status.
#[derive(Object, Clone, Debug, serde::Deserialize)]
#[oai(deny_unknown_fields)]
#[serde(deny_unknown_fields)]
pub struct EventStatusInput {
    /// `confirmed`, `tentative`, `postponed` or `cancelled`.
    pub event_status: String,
    /// The version the change is based on; a stale one gets 409.
    #[oai(nullable)]
    pub version: Option<i32>,
}

/// What a group changes on its published entry without review.
#[derive(Object, Clone, Debug, Default, serde::Deserialize)]
#[oai(deny_unknown_fields)]
#[serde(deny_unknown_fields, default)]
pub struct LiveChangeInput {
    /// The version the change is based on; a stale one gets 409.
    #[oai(nullable)]
    pub version: Option<i32>,
    /// `confirmed`, `tentative`, `postponed` or `cancelled` (events and meetups).
    #[oai(nullable)]
    pub event_status: Option<String>,
    /// Amount raised so far (crowdfunding); `null` clears it.
    #[oai(nullable)]
    pub raised_amount: MaybeUndefined<f64>,
    /// Every cancelled occurrence of the series (replaces the list), local `YYYY-MM-DDTHH:MM`.
    #[oai(nullable)]
    pub exdates: Option<Vec<String>>,
    /// Every moved occurrence (replaces the map): local original start to local new start.
    #[oai(nullable)]
    pub moved_occurrences: Option<std::collections::BTreeMap<String, String>>,
}

/// Runs a life-cycle action for any of the action endpoints.
pub async fn act(
    state: &AppState,
    auth: &BearerAuth,
    id: i64,
    action: Action,
    input: Option<ActionInput>,
) -> AppResult<Json<EntryOut>> {
    let request = ActionRequest::from(input.unwrap_or_default());
    Ok(Json(
        entries::act(&state.services, &auth.0, id, action, &request)
            .await?
            .into(),
    ))
}
