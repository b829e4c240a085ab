//! The account page's own changes: the name, the email address (confirmed
//! by a link mailed to the new one) and the mail wanted.

use std::collections::HashMap;

use askama::Template;
use askama_web::WebTemplate;
use poem::handler;
use poem::http::StatusCode;
use poem::web::{Path, Query};

use super::accounts::account_page;
use super::context::{Ctx, Layout, WebResult, respond, see_other};
use super::forms::FormState;
use crate::error::AppError;
use crate::service::notifications::{self, Preferences, PreferencesPatch};
use crate::service::profile;

/// The kinds of mail the account page offers to turn off, as checkboxes.
pub fn mail_choices(wanted: Preferences) -> Vec<(&'static str, &'static str, bool)> {
    vec![
        (
            "submissions",
            "Entries to review (moderators), collected over a few minutes",
            wanted.submissions,
        ),
        (
            "decisions",
            "Decisions and comments on your group's entries",
            wanted.decisions,
        ),
        (
            "access_requests",
            "Groups asking for access (admins)",
            wanted.access_requests,
        ),
    ]
}

/// The account page again with the errors of what was sent.
async fn refused(ctx: &Ctx<'_>, values: HashMap<String, String>, error: AppError) -> WebResult {
    match error {
        AppError::Validation(errors) => {
            let form = FormState::with_errors(values, errors);
            account_page(ctx, form, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        other => Err(other.into()),
    }
}

/// `POST /account/profile`: a new name at once; a new address once confirmed.
#[handler]
pub async fn update(ctx: Ctx<'_>, body: Vec<u8>) -> WebResult {
    let form = ctx.form(&body)?;
    let viewer = ctx.require()?;
    let services = ctx.services();
    let mut done = Vec::new();
    let name = form.text("display_name").trim();
    if name != viewer.name {
        if let Err(error) = profile::rename(services, &viewer.principal, name).await {
            return refused(&ctx, form.values(), error).await;
        }
        done.push(format!("Your name is now {name}."));
    }
    let email = form.text("email").trim();
    if !email.is_empty() && email != viewer.email {
        match profile::request_email_change(services, &viewer.principal, email).await {
            Ok(issued) => done.push(format!(
                "We sent a link to {email}: follow it to use that address (it works until {}). \
                 Until then your address stays {}.",
                crate::mail::templates::valid_until(issued.expires_at),
                viewer.email
            )),
            Err(error) => return refused(&ctx, form.values(), error).await,
        }
    }
    if done.is_empty() {
        done.push("Nothing changed.".into());
    }
    ctx.flash(done.join(" "), None);
    Ok(see_other("/account"))
}

/// `POST /account/mail`: which mail to receive (unticked: none of that kind).
#[handler]
pub async fn mail(ctx: Ctx<'_>, body: Vec<u8>) -> WebResult {
    let form = ctx.form(&body)?;
    let viewer = ctx.require()?;
    let patch = PreferencesPatch {
        submissions: Some(form.checked("submissions")),
        decisions: Some(form.checked("decisions")),
        access_requests: Some(form.checked("access_requests")),
    };
    notifications::set(ctx.services(), &viewer.principal, patch).await?;
    ctx.flash("Your mail choices are saved.", None);
    Ok(see_other("/account"))
}

#[derive(Template, WebTemplate)]
#[template(path = "accounts/confirm_email.html")]
struct ConfirmPage {
    page: Layout,
    email: String,
    action: String,
}

/// `GET /account/email/{secret}?to=`: a button that confirms (a GET changes
/// nothing, since mail scanners follow links).
#[handler]
pub async fn confirm_form(
    ctx: Ctx<'_>,
    Path(secret): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> WebResult {
    let email = query.get("to").cloned().unwrap_or_default();
    let page = ConfirmPage {
        page: ctx.layout("Confirm your new address", "account"),
        action: format!(
            "/account/email/{secret}?to={}",
            super::forms::encode(&email)
        ),
        email,
    };
    Ok(respond(page, StatusCode::OK))
}

/// `POST /account/email/{secret}?to=`: the address becomes the account's.
#[handler]
pub async fn confirm(
    ctx: Ctx<'_>,
    Path(secret): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    body: Vec<u8>,
) -> WebResult {
    ctx.form(&body)?;
    let email = query.get("to").map(String::as_str).unwrap_or_default();
    let user = profile::confirm_email_change(ctx.services(), &secret, email).await?;
    ctx.flash(
        format!(
            "Your address is now {}; sign in with it from now on.",
            user.email
        ),
        None,
    );
    let signed_in_here = ctx
        .viewer
        .as_ref()
        .is_some_and(|viewer| viewer.principal.attributed_user_id() == user.id);
    Ok(see_other(if signed_in_here {
        "/account"
    } else {
        "/login"
    }))
}
