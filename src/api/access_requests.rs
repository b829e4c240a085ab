use crate::domain::text::Text;
use poem::Request;
use poem::web::{Data, RemoteAddr};
use poem_openapi::{Object, OpenApi, param::Path, param::Query, payload::Json};

use super::{ApiTags, BearerAuth, Created, instant};
use crate::AppState;
use crate::domain::AccessRequestStatus;
use crate::entities::access_request;
use crate::error::{AppError, AppResult};
use crate::service::access_requests::{self, AccessRequestInput};

pub struct AccessRequestsApi;

#[derive(Object)]
struct AccessRequestOut {
    id: i64,
    group_name: String,
    slug: String,
    country: String,
    website: String,
    contact_email: String,
    message: String,
    status: AccessRequestStatus,
    #[oai(nullable)]
    decision_comment: Option<String>,
    created_at: chrono::DateTime<chrono::Utc>,
}

impl From<access_request::Model> for AccessRequestOut {
    fn from(request: access_request::Model) -> Self {
        Self {
            id: request.id,
            status: AccessRequestStatus::parse(&request.status)
                .unwrap_or(AccessRequestStatus::Pending),
            group_name: request.group_name,
            slug: request.slug,
            country: request.country,
            website: request.website,
            contact_email: request.contact_email,
            message: request.message,
            decision_comment: request.decision_comment,
            created_at: instant(request.created_at),
        }
    }
}

#[derive(Object)]
#[oai(deny_unknown_fields)]
struct Decision {
    /// Required to reject; shown to the requester.
    #[oai(nullable)]
    comment: Option<Text>,
}

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::AccessRequests")]
impl AccessRequestsApi {
    /// Ask for access for a new group (public).
    #[oai(path = "/access-requests", method = "post")]
    async fn create(
        &self,
        state: Data<&AppState>,
        request: &Request,
        remote: &RemoteAddr,
        body: Json<AccessRequestInput>,
    ) -> AppResult<Created<AccessRequestOut>> {
        let ip = super::client_ip(&state, request, remote);
        if let Some(retry_after) = state.access_request_limiter.retry_after(&ip) {
            return Err(AppError::TooManyRequests { retry_after });
        }
        let request = access_requests::create(&state.db, &body).await?;
        state.access_request_limiter.record(&ip);
        Ok(Created::Created(Json(request.into())))
    }

    /// Access requests, oldest first (admins only).
    #[oai(path = "/access-requests", method = "get")]
    async fn list(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        status: Query<Option<AccessRequestStatus>>,
    ) -> AppResult<Json<Vec<AccessRequestOut>>> {
        let requests = access_requests::list(&state.db, &auth.0, *status).await?;
        Ok(Json(requests.into_iter().map(Into::into).collect()))
    }

    /// Approve: creates the group, with the requester as owner if they have an account.
    #[oai(path = "/access-requests/:id/approve", method = "post")]
    async fn approve(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<i64>,
        body: Json<Decision>,
    ) -> AppResult<Json<AccessRequestOut>> {
        let request = access_requests::decide(
            &state.db,
            &auth.0,
            *id,
            true,
            body.0.comment.map(String::from),
        )
        .await?;
        // The new group's feeds exist from now on.
        state.live_changed().await;
        Ok(Json(request.into()))
    }

    /// Reject, with a reason.
    #[oai(path = "/access-requests/:id/reject", method = "post")]
    async fn reject(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<i64>,
        body: Json<Decision>,
    ) -> AppResult<Json<AccessRequestOut>> {
        let request = access_requests::decide(
            &state.db,
            &auth.0,
            *id,
            false,
            body.0.comment.map(String::from),
        )
        .await?;
        Ok(Json(request.into()))
    }
}
