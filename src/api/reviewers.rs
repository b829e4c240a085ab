//! The moderators assigned to review an entry.

use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};

use super::json::JsonBody;
use super::{ApiTags, BearerAuth};
use crate::AppState;
use crate::entities::user;
use crate::error::AppResult;
use crate::service::reviewers;

pub struct ReviewersApi;

/// A moderator or admin assigned to review the entry.
#[derive(Object)]
struct Reviewer {
    id: i64,
    email: String,
    display_name: String,
}

/// Who reviews the entry. While the list is not empty, its submissions
/// are mailed to these people only (not to every moderator).
#[derive(Object)]
struct ReviewersOut {
    reviewers: Vec<Reviewer>,
}

impl From<Vec<user::Model>> for ReviewersOut {
    fn from(people: Vec<user::Model>) -> Self {
        Self {
            reviewers: people
                .into_iter()
                .map(|person| Reviewer {
                    id: person.id,
                    email: person.email,
                    display_name: person.display_name,
                })
                .collect(),
        }
    }
}

/// The new list of reviewers (user ids of active moderators or admins; empty: none).
#[derive(Object, serde::Deserialize)]
#[oai(deny_unknown_fields)]
#[serde(deny_unknown_fields)]
struct ReviewersInput {
    reviewers: Vec<i64>,
}

#[OpenApi(prefix_path = "/api/v1/entries", tag = "ApiTags::Moderation")]
impl ReviewersApi {
    /// The moderators assigned to review an entry (moderators and admins).
    #[oai(path = "/:id/reviewers", method = "get")]
    async fn list(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<i64>,
    ) -> AppResult<Json<ReviewersOut>> {
        Ok(Json(
            reviewers::list(&state.services, &auth.0, *id).await?.into(),
        ))
    }

    /// Assign the moderators who review an entry, replacing the previous
    /// list; they are the ones mailed about its submissions, and
    /// `GET /api/v1/moderation/queue?assigned_to_me=true` shows them theirs.
    #[oai(path = "/:id/reviewers", method = "put")]
    async fn set(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<i64>,
        body: JsonBody<ReviewersInput>,
    ) -> AppResult<Json<ReviewersOut>> {
        let body = body.0;
        Ok(Json(
            reviewers::set(&state.services, &auth.0, *id, body.reviewers)
                .await?
                .into(),
        ))
    }
}
