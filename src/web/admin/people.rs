//! People: everyone with their role and groups; admins invite, change
//! roles, disable and enable, and send (again) or withdraw the links that
//! set a password. Without a mail server each working link issued for
//! someone stays in their row, for the admin to pass on.

use std::collections::HashMap;

use askama::Template;
use askama_web::WebTemplate;
use poem::handler;
use poem::web::{Path, Query};

use super::{choices, field_errors, require_admin};
use crate::domain::{FieldError, GroupRole, Role, TokenPurpose};
use crate::error::{AppError, AppResult};
use crate::mail::templates::valid_until;
use crate::service::accounts::{self, Invitation, Issued, OpenLink};
use crate::service::groups;
use crate::service::users::{self, UserChange};
use crate::web::accounts::{invitation_notice, link_notice};
use crate::web::context::{
    Ctx, Layout, Notice, Viewer, WebError, WebResult, page_status, respond, see_other, sentence,
};
use crate::web::display::{self, Choice, with_blank};
use crate::web::forms::FormState;
use crate::web::query::{id_of, text};
use crate::web::search::{SearchBox, query_of};

#[derive(Template, WebTemplate)]
#[template(path = "admin/users.html")]
struct UsersPage {
    page: Layout,
    form: FormState,
    roles: Vec<Choice>,
    group_roles: Vec<Choice>,
    groups: Vec<Choice>,
    people: Vec<PersonRow>,
    me: i64,
    search: SearchBox,
}

/// One person's row.
struct PersonRow {
    id: i64,
    name: String,
    email: String,
    role: String,
    disabled: bool,
    /// Never chose a password: invited.
    invited: bool,
    groups: String,
    /// A working link issued for them, to pass on (no mail server).
    link: Option<RowLink>,
}

struct RowLink {
    /// "Invitation link" or "Password reset link".
    label: &'static str,
    url: String,
    /// "Sat 12 Dec, 15:17 UTC".
    until: String,
}

impl RowLink {
    fn new(link: OpenLink) -> Self {
        Self {
            label: match link.purpose {
                TokenPurpose::Invitation => "Invitation link",
                _ => "Password reset link",
            },
            url: link.link,
            until: valid_until(link.expires_at),
        }
    }
}

async fn users_page(
    ctx: &Ctx<'_>,
    viewer: &Viewer,
    form: FormState,
    notice: Option<Notice>,
) -> WebResult {
    users_found(ctx, viewer, form, notice, &HashMap::new()).await
}

/// The page with the people whose name or email matches `?q=`.
async fn users_found(
    ctx: &Ctx<'_>,
    viewer: &Viewer,
    form: FormState,
    notice: Option<Notice>,
    query: &HashMap<String, String>,
) -> WebResult {
    let searched = query_of(query)?;
    let people = users::list(ctx.services(), &viewer.principal, searched.as_ref()).await?;
    let search = SearchBox::new(
        "/admin/users",
        "Search people",
        text(query, "q"),
        people.len() as u64,
    );
    let mut links = accounts::open_links(ctx.services(), &viewer.principal).await?;
    let all_groups = groups::list_public(ctx.services()).await?;
    let status = page_status(notice.is_some(), &form.errors);
    let mut page = ctx.layout("People", "admin").with_errors(&form.errors);
    page.notice = notice;
    let body = UsersPage {
        page,
        roles: choices::<Role>(),
        group_roles: choices::<GroupRole>(),
        groups: with_blank("No group", display::group_choices(&all_groups)),
        people: people
            .into_iter()
            .map(|person| {
                let groups = person
                    .memberships
                    .iter()
                    .map(|(slug, role)| format!("{slug} ({role})"))
                    .collect::<Vec<_>>()
                    .join(", ");
                let user = person.user;
                // A disabled account's links do not work.
                let link = links.remove(&user.id).filter(|_| !user.disabled);
                PersonRow {
                    id: user.id,
                    name: user.display_name,
                    email: user.email,
                    role: user.role.as_str().to_string(),
                    disabled: user.disabled,
                    invited: user.password_hash.is_empty(),
                    groups,
                    link: link.map(RowLink::new),
                }
            })
            .collect(),
        me: viewer.principal.attributed_user_id(),
        form,
        search,
    };
    Ok(respond(body, status))
}

#[handler]
pub async fn list(ctx: Ctx<'_>, Query(query): Query<HashMap<String, String>>) -> WebResult {
    let viewer = require_admin(&ctx)?;
    let form = FormState::new(HashMap::from([
        ("role".to_string(), "member".to_string()),
        ("group_role".to_string(), "editor".to_string()),
    ]));
    users_found(&ctx, viewer, form, None, &query).await
}

#[handler]
pub async fn invite(ctx: Ctx<'_>, body: Vec<u8>) -> WebResult {
    let form = ctx.form(&body)?;
    let viewer = require_admin(&ctx)?;
    let invitation = Invitation {
        email: form.text("email").into(),
        display_name: form.text("display_name").into(),
        role: Role::parse(form.text("role")).unwrap_or(Role::Member),
        group: form.optional("group").map(|slug| {
            (
                slug.to_string(),
                GroupRole::parse(form.text("group_role")).unwrap_or(GroupRole::Editor),
            )
        }),
    };
    match accounts::invite(ctx.services(), &viewer.principal, invitation).await {
        Ok(invited) => {
            let email = form.text("email").trim();
            let (notice, link) = invitation_notice(
                &ctx.state.config,
                true,
                &format!("{email} is invited"),
                &invited,
            );
            ctx.flash(notice, link);
            Ok(see_other("/admin/users"))
        }
        Err(AppError::NotFound(message)) => {
            users_page(
                &ctx,
                viewer,
                FormState::with_errors(form.values(), vec![FieldError::new("group", message)]),
                None,
            )
            .await
        }
        Err(error) => {
            let errors = field_errors(error, "email")?;
            users_page(
                &ctx,
                viewer,
                FormState::with_errors(form.values(), errors),
                None,
            )
            .await
        }
    }
}

#[handler]
pub async fn update(ctx: Ctx<'_>, Path(id): Path<String>, body: Vec<u8>) -> WebResult {
    let form = ctx.form(&body)?;
    let viewer = require_admin(&ctx)?;
    let id = id_of(&id, "user")?;
    let services = ctx.services();
    let principal = &viewer.principal;
    let change = match form.text("change") {
        "role" => UserChange {
            role: Role::parse(form.text("role")),
            ..UserChange::default()
        },
        "disable" => {
            if let Some(error) = form.unconfirmed() {
                let state = FormState::with_errors(HashMap::new(), vec![error]);
                return users_page(&ctx, viewer, state, None).await;
            }
            UserChange {
                disabled: Some(true),
                ..UserChange::default()
            }
        }
        "enable" => UserChange {
            disabled: Some(false),
            ..UserChange::default()
        },
        "resend" => {
            let issued = accounts::resend_invitation(services, principal, id).await;
            return link_issued(&ctx, viewer, issued, "A new invitation link").await;
        }
        "reset" => {
            let issued = accounts::send_reset(services, principal, id).await;
            return link_issued(&ctx, viewer, issued, "A password reset link").await;
        }
        "revoke" => {
            return match accounts::revoke_invitation(services, principal, id).await {
                Ok(user) => {
                    ctx.flash(
                        format!(
                            "The invitation of {} is withdrawn: its link no longer works.",
                            user.email
                        ),
                        None,
                    );
                    Ok(see_other("/admin/users"))
                }
                Err(error) => not_changed(&ctx, viewer, error).await,
            };
        }
        _ => return Err(WebError::App(AppError::not_found("change"))),
    };
    match users::update(services, principal, id, change).await {
        Ok(person) => {
            ctx.flash(format!("{} saved.", person.user.email), None);
            Ok(see_other("/admin/users"))
        }
        Err(error) => not_changed(&ctx, viewer, error).await,
    }
}

/// Back to the list with the new link (or word that it was mailed).
async fn link_issued(
    ctx: &Ctx<'_>,
    viewer: &Viewer,
    issued: AppResult<Issued>,
    what: &str,
) -> WebResult {
    match issued {
        Ok(issued) => {
            let done = format!("{what} for {} is issued", issued.user.email);
            let (notice, link) = link_notice(&ctx.state.config, &done, &issued);
            ctx.flash(notice, link);
            Ok(see_other("/admin/users"))
        }
        Err(error) => not_changed(ctx, viewer, error).await,
    }
}

/// A refused change, as a notice over the list.
async fn not_changed(ctx: &Ctx<'_>, viewer: &Viewer, error: AppError) -> WebResult {
    match error {
        AppError::Conflict(message) => {
            let notice = Notice {
                heading: "Not changed".into(),
                text: sentence(&message),
            };
            users_page(ctx, viewer, FormState::default(), Some(notice)).await
        }
        other => Err(other.into()),
    }
}
