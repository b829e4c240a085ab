//! Requests for new groups: the pending ones to decide, the decided ones
//! for the record.

use std::collections::HashMap;

use askama::Template;
use askama_web::WebTemplate;
use poem::handler;
use poem::web::Path;

use super::require_admin;
use crate::domain::AccessRequestStatus;
use crate::entities::access_request;
use crate::error::AppError;
use crate::service::access_requests::{self, Decided};
use crate::web::accounts::invitation_notice;
use crate::web::context::{
    Ctx, Layout, Notice, Viewer, WebError, WebResult, page_status, respond, see_other, sentence,
};
use crate::web::forms::FormState;
use crate::web::query::id_of;

#[derive(Template, WebTemplate)]
#[template(path = "admin/access_requests.html")]
struct AccessRequestsPage {
    page: Layout,
    form: FormState,
    pending: Vec<access_request::Model>,
    decided: Vec<access_request::Model>,
}

async fn access_requests_page(
    ctx: &Ctx<'_>,
    viewer: &Viewer,
    form: FormState,
    notice: Option<Notice>,
) -> WebResult {
    let all = access_requests::list(ctx.services(), &viewer.principal, None).await?;
    let (pending, decided) = all
        .into_iter()
        .partition(|request| request.status == AccessRequestStatus::Pending);
    let status = page_status(notice.is_some(), &form.errors);
    let mut page = ctx
        .layout("Access requests", "admin")
        .with_errors(&form.errors);
    page.notice = notice;
    Ok(respond(
        AccessRequestsPage {
            page,
            form,
            pending,
            decided,
        },
        status,
    ))
}

#[handler]
pub async fn list(ctx: Ctx<'_>) -> WebResult {
    let viewer = require_admin(&ctx)?;
    access_requests_page(&ctx, viewer, FormState::default(), None).await
}

#[handler]
pub async fn decide(
    ctx: Ctx<'_>,
    Path((id, action)): Path<(String, String)>,
    body: Vec<u8>,
) -> WebResult {
    let form = ctx.form(&body)?;
    let viewer = require_admin(&ctx)?;
    let id = id_of(&id, "access request")?;
    let approve = match action.as_str() {
        "approve" => true,
        "reject" => false,
        _ => return Err(WebError::App(AppError::not_found("action"))),
    };
    if let Some(error) = form.unconfirmed().filter(|_| approve) {
        let state = FormState::with_errors(HashMap::new(), vec![error]);
        return access_requests_page(&ctx, viewer, state, None).await;
    }
    match access_requests::decide(
        ctx.services(),
        &viewer.principal,
        id,
        approve,
        form.optional("comment"),
    )
    .await
    {
        Ok(Decided { request, invited }) => {
            let approved = format!("Approved: group {} exists now", request.slug);
            let (text, link) = match (approve, invited) {
                (false, _) => (
                    "Rejected; the reason is kept with the request.".into(),
                    None,
                ),
                (true, Some(invited)) => invitation_notice(
                    &ctx.state.config,
                    true,
                    &format!(
                        "{approved}, and {} is invited to own it",
                        request.contact_email
                    ),
                    &invited,
                ),
                // The contact has an account already (or could not be
                // invited): an admin adds them on the group's page.
                (true, None) => (
                    format!(
                        "{approved}. Add {} as its owner on the group's page.",
                        request.contact_email
                    ),
                    None,
                ),
            };
            ctx.flash(text, link);
            Ok(see_other("/admin/access-requests"))
        }
        Err(AppError::Validation(errors)) => {
            access_requests_page(
                &ctx,
                viewer,
                FormState::with_errors(form.values(), errors),
                None,
            )
            .await
        }
        Err(error @ (AppError::InvalidTransition(_) | AppError::Duplicate(_))) => {
            let notice = Notice {
                heading: "Not possible".into(),
                text: sentence(&error.to_string()),
            };
            access_requests_page(&ctx, viewer, FormState::default(), Some(notice)).await
        }
        Err(other) => Err(other.into()),
    }
}
