use poem::Request;
use poem::web::Data;
use poem_openapi::{Object, OpenApi, param::Path, param::Query, payload::Json};

use super::json::JsonBody;
use super::{ApiTags, BearerAuth, Created, instant};
use crate::AppState;
use crate::domain::AccessRequestStatus;
use crate::domain::access_request::AccessRequestForm;
use crate::entities::access_request;
use crate::error::AppResult;
use crate::service::access_requests;

pub struct AccessRequestsApi;

/// A request for a new group to get access.
#[derive(Object, Clone, Debug, serde::Deserialize)]
#[oai(deny_unknown_fields)]
#[serde(deny_unknown_fields)]
pub struct AccessRequestInput {
    /// Name of the group.
    pub group_name: String,
    /// Wished slug; derived from the name when absent.
    pub slug: Option<String>,
    /// ISO 3166-1 alpha-2 country, or empty.
    #[oai(default)]
    #[serde(default)]
    pub country: String,
    /// Group website, or empty.
    #[oai(default)]
    #[serde(default)]
    pub website: String,
    /// Where to reach the person asking.
    pub contact_email: String,
    /// Who the group is and what it will publish.
    #[oai(default)]
    #[serde(default)]
    pub message: String,
}

impl From<AccessRequestInput> for AccessRequestForm {
    fn from(input: AccessRequestInput) -> Self {
        Self {
            group_name: input.group_name,
            slug: input.slug,
            country: input.country,
            website: input.website,
            contact_email: input.contact_email,
            message: input.message,
        }
    }
}

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
            status: request.status,
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

#[derive(Object, serde::Deserialize)]
#[oai(deny_unknown_fields)]
#[serde(deny_unknown_fields)]
struct Decision {
    /// Required to reject; shown to the requester.
    #[oai(nullable)]
    comment: Option<String>,
}

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::AccessRequests")]
impl AccessRequestsApi {
    /// Ask for access for a new group (public).
    #[oai(path = "/access-requests", method = "post")]
    async fn create(
        &self,
        state: Data<&AppState>,
        request: &Request,
        body: JsonBody<AccessRequestInput>,
    ) -> AppResult<Created<AccessRequestOut>> {
        let ip = crate::middleware::client_ip(&state.config, request);
        let request = access_requests::create(&state.services, &body.0.into(), &ip).await?;
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
        let requests = access_requests::list(&state.services, &auth.0, *status).await?;
        Ok(Json(requests.into_iter().map(Into::into).collect()))
    }

    /// Approve: creates the group, with the requester as owner if they have an account.
    #[oai(path = "/access-requests/:id/approve", method = "post")]
    async fn approve(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<i64>,
        body: JsonBody<Decision>,
    ) -> AppResult<Json<AccessRequestOut>> {
        let request =
            access_requests::decide(&state.services, &auth.0, *id, true, body.comment.as_deref())
                .await?;
        Ok(Json(request.request.into()))
    }

    /// Reject, with a reason.
    #[oai(path = "/access-requests/:id/reject", method = "post")]
    async fn reject(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<i64>,
        body: JsonBody<Decision>,
    ) -> AppResult<Json<AccessRequestOut>> {
        let request = access_requests::decide(
            &state.services,
            &auth.0,
            *id,
            false,
            body.comment.as_deref(),
        )
        .await?;
        Ok(Json(request.request.into()))
    }
}
