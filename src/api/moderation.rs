use poem::web::Data;
use poem_openapi::{OpenApi, param::Path, param::Query, payload::Json};

use super::entries::{ActionInput, EntryList, EntryOut, act};
use super::json::{JsonBody, SerdeJson};
use super::{ApiTags, BearerAuth, page};
use crate::AppState;
use crate::domain::{Action, EntryKind};
use crate::error::{AppError, AppResult};
use crate::service::entries::{self, EntryFilter};

pub struct ModerationApi;

#[OpenApi(prefix_path = "/api/v1/moderation", tag = "ApiTags::Moderation")]
impl ModerationApi {
    /// Pending entries, oldest submission first, with the total pending count.
    #[oai(path = "/queue", method = "get")]
    #[allow(clippy::too_many_arguments)]
    async fn queue(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        kind: Query<Option<EntryKind>>,
        group: Query<Option<String>>,
        /// Comma list of language codes (`en`, `pt_BR`; only the first two letters count), as the feeds take them.
        lang: Query<Option<String>>,
        /// `true`: only entries you are assigned to review.
        assigned_to_me: Query<Option<bool>>,
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
            status: None,
            kind: *kind,
            languages: crate::domain::codes::Languages::parse(lang.as_deref())
                .map_err(AppError::BadRequest)?
                .to_vec(),
            mine: false,
            assigned_to: assigned_to_me
                .unwrap_or(false)
                .then(|| auth.0.attributed_user_id()),
            query: None,
            limit,
            offset,
        };
        Ok(SerdeJson(EntryList::new(
            entries::queue(&state.services, &auth.0, &filter).await?,
        )))
    }

    /// Approve a pending entry; optionally pin it (`sticky`) or set its publication window.
    #[oai(path = "/entries/:id/approve", method = "post")]
    async fn approve(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<i64>,
        body: JsonBody<Option<ActionInput>>,
    ) -> AppResult<Json<EntryOut>> {
        act(&state, &auth, *id, Action::Approve, body.0).await
    }

    /// Reject a pending entry; `comment` (the reason) is required.
    #[oai(path = "/entries/:id/reject", method = "post")]
    async fn reject(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<i64>,
        body: JsonBody<Option<ActionInput>>,
    ) -> AppResult<Json<EntryOut>> {
        act(&state, &auth, *id, Action::Reject, body.0).await
    }

    /// Send a pending entry back to its group; `comment` says what to change.
    #[oai(path = "/entries/:id/request-changes", method = "post")]
    async fn request_changes(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<i64>,
        body: JsonBody<Option<ActionInput>>,
    ) -> AppResult<Json<EntryOut>> {
        act(&state, &auth, *id, Action::RequestChanges, body.0).await
    }

    /// Take a live entry offline; `comment` (the reason) is required.
    #[oai(path = "/entries/:id/unpublish", method = "post")]
    async fn unpublish(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<i64>,
        body: JsonBody<Option<ActionInput>>,
    ) -> AppResult<Json<EntryOut>> {
        act(&state, &auth, *id, Action::Unpublish, body.0).await
    }

    /// Add a comment to the entry's history without changing it.
    #[oai(path = "/entries/:id/comment", method = "post")]
    async fn comment(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<i64>,
        body: JsonBody<Option<ActionInput>>,
    ) -> AppResult<Json<EntryOut>> {
        act(&state, &auth, *id, Action::Comment, body.0).await
    }
}
