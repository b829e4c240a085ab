//! Signing in and out, the account page (password change), and the links
//! that set a password: invitations and password resets.

use std::collections::HashMap;

use askama::Template;
use askama_web::WebTemplate;
use poem::http::StatusCode;
use poem::web::{Path, Query};
use poem::{Response, handler};

use super::context::{Ctx, Layout, WebError, WebResult, respond, see_other};
use super::forms::{FormState, safe_next};
use crate::Config;
use crate::domain::authz::Principal;
use crate::domain::user::check_password;
use crate::domain::validate::Checker;
use crate::domain::{FieldError, TokenPurpose};
use crate::error::{AppError, wait_in_words};
use crate::mail::templates::valid_until;
use crate::service::accounts::{self, Invited, Issued};
use crate::service::{auth, notifications};

/// Where a person lands after signing in: their work.
pub fn landing(principal: &Principal) -> &'static str {
    if principal.is_moderator() {
        "/moderation"
    } else if principal.own_group_ids().is_empty() {
        "/account"
    } else {
        "/my/entries"
    }
}

/// What an admin is told about a link just issued for someone else: with
/// a mail server, that the mail carries it; without one (mail only goes to
/// the log), the link itself to pass on, and until when it works (it also
/// stays on the People page while it does). A new invitation says that the
/// earlier link stopped working.
pub fn link_notice(config: &Config, done: &str, issued: &Issued) -> (String, Option<String>) {
    let until = valid_until(issued.expires_at);
    let replaced = replaced_note(issued);
    match config.smtp_url {
        Some(_) => (
            format!(
                "{done}: a mail with the link is on its way (it works once and is valid until {until}).{replaced}"
            ),
            None,
        ),
        None => (
            format!(
                "{done}. No mail server is configured: give them this link; it works once and is valid until {until}.{replaced}"
            ),
            Some(issued.link.clone()),
        ),
    }
}

fn replaced_note(issued: &Issued) -> &'static str {
    if issued.replaced {
        " It replaces the earlier invitation link, which no longer works."
    } else {
        ""
    }
}

/// What the inviter is told about an invitation just sent: with a mail
/// server, that the mail is on its way; without one, an admin gets the
/// link ([`link_notice`]) and anyone else (a group's owner) is told that an
/// admin has it: only admins ever see a link meant for someone else.
pub fn invitation_notice(
    config: &Config,
    admin: bool,
    invited: &str,
    outcome: &Invited,
) -> (String, Option<String>) {
    match (outcome, &config.smtp_url) {
        // Said alike whether the mail holds a link or only the news, so the
        // page does not tell who has an account.
        (_, Some(_)) => {
            let replaced = match outcome {
                Invited::Link(issued) => replaced_note(issued),
                Invited::Added => "",
            };
            (
                format!(
                    "{invited}: a mail tells them how to start (an invitation link works once within 7 days).{replaced}"
                ),
                None,
            )
        }
        (Invited::Link(issued), None) if admin => link_notice(config, invited, issued),
        (Invited::Link(_), None) => (
            format!(
                "{invited}. No mail server is configured: an admin can give them their invitation link (on the People page)."
            ),
            None,
        ),
        (Invited::Added, None) => (
            format!(
                "{invited}. No mail server is configured: tell them to sign in with their account."
            ),
            None,
        ),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "accounts/login.html")]
struct LoginPage {
    page: Layout,
    form: FormState,
}

fn login_page(ctx: &Ctx<'_>, form: FormState, status: StatusCode) -> Response {
    let page = ctx.layout("Sign in", "account").with_errors(&form.errors);
    respond(LoginPage { page, form }, status)
}

#[handler]
pub async fn login_form(ctx: Ctx<'_>, Query(query): Query<HashMap<String, String>>) -> WebResult {
    if let Some(viewer) = &ctx.viewer {
        return Ok(see_other(landing(&viewer.principal)));
    }
    let mut values = HashMap::new();
    values.insert(
        "next".into(),
        query.get("next").cloned().unwrap_or_default(),
    );
    Ok(login_page(&ctx, FormState::new(values), StatusCode::OK))
}

#[handler]
pub async fn login(ctx: Ctx<'_>, body: Vec<u8>) -> WebResult {
    let form = ctx.form(&body)?;
    let mut values = form.values();
    values.remove("password");
    let refused = |status, message: String| {
        let errors = vec![FieldError::new("password", message)];
        Ok(login_page(
            &ctx,
            FormState::with_errors(values.clone(), errors),
            status,
        ))
    };
    match auth::check_credentials(
        ctx.services(),
        form.text("email"),
        form.text("password"),
        &ctx.client,
    )
    .await
    {
        Ok(user) => {
            ctx.sign_in(user.id);
            let next = safe_next(form.text("next"));
            if next != "/" {
                return Ok(see_other(next));
            }
            let principal = auth::user_principal(ctx.services(), user.id).await?;
            Ok(see_other(principal.as_ref().map_or("/", landing)))
        }
        Err(AppError::Unauthorized(_)) => refused(
            StatusCode::UNAUTHORIZED,
            "The email address or the password is wrong.".into(),
        ),
        Err(AppError::RateLimited { retry_after }) => refused(
            StatusCode::TOO_MANY_REQUESTS,
            format!(
                "Too many failed attempts: try again in {}.",
                wait_in_words(retry_after)
            ),
        ),
        Err(other) => Err(other.into()),
    }
}

#[handler]
pub async fn logout(ctx: Ctx<'_>, body: Vec<u8>) -> WebResult {
    ctx.form(&body)?;
    ctx.sign_out();
    Ok(see_other("/"))
}

#[derive(Template, WebTemplate)]
#[template(path = "accounts/account.html")]
struct AccountPage {
    page: Layout,
    form: FormState,
    email: String,
    role: String,
    memberships: Vec<(String, String)>,
    /// The kinds of mail one may turn off: `(field, label, wanted)`.
    mail: Vec<(&'static str, &'static str, bool)>,
}

/// The account page: name and address, mail wanted, password; `form` has
/// what was sent and its errors (the name and address fields default to
/// the current ones).
pub(super) async fn account_page(
    ctx: &Ctx<'_>,
    mut form: FormState,
    status: StatusCode,
) -> WebResult {
    let viewer = ctx.require()?;
    let wanted = notifications::get(ctx.services(), &viewer.principal).await?;
    for (field, current) in [("display_name", &viewer.name), ("email", &viewer.email)] {
        form.values
            .entry(field.to_string())
            .or_insert_with(|| current.clone());
    }
    let page = ctx
        .layout("Your account", "account")
        .with_errors(&form.errors);
    let role = match &viewer.principal {
        Principal::User { role, .. } => role.as_str().to_string(),
        Principal::GroupToken { .. } => String::new(),
    };
    Ok(respond(
        AccountPage {
            page,
            form,
            email: viewer.email.clone(),
            role,
            memberships: viewer
                .memberships
                .iter()
                .map(|(slug, role)| (slug.clone(), role.as_str().to_string()))
                .collect(),
            mail: super::profile::mail_choices(wanted),
        },
        status,
    ))
}

#[handler]
pub async fn account(ctx: Ctx<'_>) -> WebResult {
    account_page(&ctx, FormState::default(), StatusCode::OK).await
}

#[handler]
pub async fn change_password(ctx: Ctx<'_>, body: Vec<u8>) -> WebResult {
    let form = ctx.form(&body)?;
    let viewer = ctx.require()?;
    let errors = password_errors(&form);
    if !errors.is_empty() {
        return account_page(
            &ctx,
            FormState::with_errors(HashMap::new(), errors),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    let result = accounts::change_password(
        ctx.services(),
        &viewer.principal,
        form.text("current_password"),
        form.text("password"),
        &ctx.client,
    )
    .await;
    match result {
        Ok(()) => {
            ctx.renew();
            ctx.flash(
                "Your password is changed. Every other sign-in of yours has ended.",
                None,
            );
            Ok(see_other("/account"))
        }
        Err(AppError::Validation(errors)) => {
            account_page(
                &ctx,
                FormState::with_errors(HashMap::new(), errors),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(other) => Err(other.into()),
    }
}

/// What is wrong with a new password, all at once: its length and whether
/// both fields say the same (the service checks the length again).
fn password_errors(form: &super::forms::Form) -> Vec<FieldError> {
    let mut check = Checker::new();
    check_password(&mut check, "password", form.text("password"));
    if form.text("password") != form.text("password_confirmation") {
        check.fail(
            "password_confirmation",
            "must be the same as the new password",
        );
    }
    check.finish().err().unwrap_or_default()
}

#[derive(Template, WebTemplate)]
#[template(path = "accounts/set_password.html")]
struct SetPasswordPage {
    page: Layout,
    form: FormState,
    email: String,
    action: String,
    welcome: bool,
}

async fn set_password_page(
    ctx: &Ctx<'_>,
    purpose: TokenPurpose,
    token: &str,
    form: FormState,
    status: StatusCode,
) -> WebResult {
    let user = accounts::link_owner(ctx.services(), purpose, token).await?;
    let welcome = purpose == TokenPurpose::Invitation;
    let title = if welcome {
        "Welcome: choose your password"
    } else {
        "Choose a new password"
    };
    let page = ctx.layout(title, "account").with_errors(&form.errors);
    Ok(respond(
        SetPasswordPage {
            page,
            form,
            email: user.email,
            action: format!("/{}/{token}", purpose.path()),
            welcome,
        },
        status,
    ))
}

async fn use_link(ctx: &Ctx<'_>, purpose: TokenPurpose, token: &str, body: &[u8]) -> WebResult {
    let form = ctx.form(body)?;
    let errors = password_errors(&form);
    if !errors.is_empty() {
        return set_password_page(
            ctx,
            purpose,
            token,
            FormState::with_errors(HashMap::new(), errors),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    match accounts::redeem(ctx.services(), purpose, token, form.text("password")).await {
        Ok(user) => {
            ctx.sign_in(user.id);
            let principal = auth::user_principal(ctx.services(), user.id)
                .await?
                .ok_or_else(|| WebError::App(AppError::not_found("user")))?;
            let text = match purpose {
                TokenPurpose::Invitation => format!(
                    "Welcome, {}! Your password is set and you are signed in.",
                    user.display_name
                ),
                TokenPurpose::PasswordReset | TokenPurpose::EmailChange => {
                    "Your new password is set and you are signed in; other sign-ins have ended."
                        .into()
                }
            };
            ctx.flash(text, None);
            Ok(see_other(landing(&principal)))
        }
        Err(AppError::Validation(errors)) => {
            set_password_page(
                ctx,
                purpose,
                token,
                FormState::with_errors(HashMap::new(), errors),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(other) => Err(other.into()),
    }
}

#[handler]
pub async fn invitation(ctx: Ctx<'_>, Path(token): Path<String>) -> WebResult {
    set_password_page(
        &ctx,
        TokenPurpose::Invitation,
        &token,
        FormState::default(),
        StatusCode::OK,
    )
    .await
}

#[handler]
pub async fn accept_invitation(
    ctx: Ctx<'_>,
    Path(token): Path<String>,
    body: Vec<u8>,
) -> WebResult {
    use_link(&ctx, TokenPurpose::Invitation, &token, &body).await
}

#[handler]
pub async fn reset_link(ctx: Ctx<'_>, Path(token): Path<String>) -> WebResult {
    set_password_page(
        &ctx,
        TokenPurpose::PasswordReset,
        &token,
        FormState::default(),
        StatusCode::OK,
    )
    .await
}

#[handler]
pub async fn reset_password(ctx: Ctx<'_>, Path(token): Path<String>, body: Vec<u8>) -> WebResult {
    use_link(&ctx, TokenPurpose::PasswordReset, &token, &body).await
}

#[derive(Template, WebTemplate)]
#[template(path = "accounts/reset_request.html")]
struct ResetRequestPage {
    page: Layout,
    form: FormState,
    sent: bool,
}

#[handler]
pub async fn reset_form(ctx: Ctx<'_>) -> WebResult {
    let page = ctx.layout("Forgot your password?", "account");
    Ok(respond(
        ResetRequestPage {
            page,
            form: FormState::default(),
            sent: false,
        },
        StatusCode::OK,
    ))
}

#[handler]
pub async fn request_reset(ctx: Ctx<'_>, body: Vec<u8>) -> WebResult {
    let form = ctx.form(&body)?;
    match accounts::request_reset(ctx.services(), form.text("email"), &ctx.client).await {
        Ok(issued) => {
            // The link goes by mail only, never to the page: anyone can ask.
            drop(issued);
            let page = ctx.layout("Check your mail", "account");
            Ok(respond(
                ResetRequestPage {
                    page,
                    form: FormState::new(form.values()),
                    sent: true,
                },
                StatusCode::OK,
            ))
        }
        Err(AppError::RateLimited { retry_after }) => {
            let errors = vec![FieldError::new(
                "email",
                format!(
                    "too many requests: try again in {}",
                    wait_in_words(retry_after)
                ),
            )];
            let page = ctx
                .layout("Forgot your password?", "account")
                .with_errors(&errors);
            Ok(respond(
                ResetRequestPage {
                    page,
                    form: FormState::with_errors(form.values(), errors),
                    sent: false,
                },
                StatusCode::TOO_MANY_REQUESTS,
            ))
        }
        Err(other) => Err(other.into()),
    }
}
