//! Administration: groups (create, edit, suspend, remove), their members
//! and API tokens (for admins and the group's owners), people (invite,
//! role, disable) and access requests. Irreversible steps are confirmed.

use std::collections::HashMap;

use askama::Template;
use askama_web::WebTemplate;
use poem::handler;
use poem::http::StatusCode;
use poem::web::Path;

use super::accounts::invitation_notice;
use super::context::{
    Ctx, Layout, Notice, Viewer, WebError, WebResult, page_status, respond, see_other, sentence,
};
use super::display::{self, Choice};
use super::forms::{Form, FormState};
use crate::domain::group::GroupPatch;
use crate::domain::{AccessRequestStatus, FieldError, GroupRole, GroupStatus, Role, TextEnum};
use crate::entities::group;
use crate::error::AppError;
use crate::service::accounts::{self, Invitation};
use crate::service::users::{self, UserChange};
use crate::service::{access_requests, groups};

fn require_admin<'a>(ctx: &'a Ctx<'_>) -> Result<&'a Viewer, WebError> {
    let viewer = ctx.require()?;
    viewer.principal.require_admin("administer")?;
    Ok(viewer)
}

/// A refusal that belongs next to a field: validation, or a taken name.
fn field_errors(error: AppError, duplicate_field: &str) -> Result<Vec<FieldError>, WebError> {
    match error {
        AppError::Validation(errors) => Ok(errors),
        AppError::Duplicate(message) => Ok(vec![FieldError::new(duplicate_field, message)]),
        other => Err(other.into()),
    }
}

fn confirm_error() -> Vec<FieldError> {
    vec![FieldError::new(
        "confirm",
        "tick the box to confirm: this cannot be undone",
    )]
}

fn choices<T: TextEnum>() -> Vec<Choice> {
    T::ALL
        .iter()
        .map(|value| Choice::new(value.as_str(), value.as_str()))
        .collect()
}

fn group_patch(form: &Form) -> GroupPatch {
    let text = |name: &str| Some(form.text(name).to_string());
    GroupPatch {
        slug: text("slug"),
        name: text("name"),
        country: text("country"),
        website: text("website"),
        contact: text("contact"),
        status: None,
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/groups.html")]
struct GroupsPage {
    page: Layout,
    form: FormState,
    countries: Vec<Choice>,
    groups: Vec<group::Model>,
}

async fn groups_page(ctx: &Ctx<'_>, viewer: &Viewer, form: FormState) -> WebResult {
    let groups = groups::list_all(ctx.services(), &viewer.principal).await?;
    let status = page_status(false, &form.errors);
    let page = ctx.layout("Groups", "admin").with_errors(&form.errors);
    Ok(respond(
        GroupsPage {
            page,
            form,
            countries: display::countries(),
            groups,
        },
        status,
    ))
}

#[handler]
pub async fn groups_list(ctx: Ctx<'_>) -> WebResult {
    let viewer = require_admin(&ctx)?;
    groups_page(&ctx, viewer, FormState::default()).await
}

#[handler]
pub async fn create_group(ctx: Ctx<'_>, body: Vec<u8>) -> WebResult {
    let form = ctx.form(&body)?;
    let viewer = require_admin(&ctx)?;
    match groups::create(ctx.services(), &viewer.principal, &group_patch(&form)).await {
        Ok(group) => {
            ctx.flash(
                format!("Group {} created. Add its first people below.", group.name),
                None,
            );
            Ok(see_other(&format!("/admin/groups/{}", group.slug)))
        }
        Err(error) => {
            let errors = field_errors(error, "slug")?;
            groups_page(&ctx, viewer, FormState::with_errors(form.values(), errors)).await
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/group.html")]
struct GroupPage {
    page: Layout,
    group: group::Model,
    is_admin: bool,
    edit: FormState,
    person: FormState,
    token: FormState,
    danger: FormState,
    countries: Vec<Choice>,
    group_roles: Vec<Choice>,
    statuses: Vec<Choice>,
    members: Vec<(i64, String, String, String)>,
    tokens: Vec<(i64, String, String, String, String, bool)>,
    /// A token secret, shown this once.
    new_token: Option<String>,
}

/// Which form of the group page a state belongs to.
#[derive(Default)]
struct GroupForms {
    edit: Option<FormState>,
    person: Option<FormState>,
    token: Option<FormState>,
    danger: Option<FormState>,
    new_token: Option<String>,
}

async fn group_page(
    ctx: &Ctx<'_>,
    viewer: &Viewer,
    slug: &str,
    forms: GroupForms,
    status: StatusCode,
) -> WebResult {
    let group = groups::managed_group(ctx.services(), &viewer.principal, slug).await?;
    let members = groups::list_members(ctx.services(), &viewer.principal, slug).await?;
    let tokens = groups::list_tokens(ctx.services(), &viewer.principal, slug).await?;
    let edit = forms.edit.unwrap_or_else(|| {
        let mut values = HashMap::new();
        for (key, value) in [
            ("name", &group.name),
            ("country", &group.country),
            ("website", &group.website),
            ("contact", &group.contact),
        ] {
            values.insert(key.to_string(), value.clone());
        }
        values.insert("status".into(), group.status.as_str().into());
        FormState::new(values)
    });
    let person = forms.person.unwrap_or_else(|| {
        FormState::new(HashMap::from([("role".to_string(), "editor".to_string())]))
    });
    let errors: Vec<FieldError> = [&edit, &person]
        .iter()
        .flat_map(|form| form.errors.clone())
        .chain(forms.token.iter().flat_map(|form| form.errors.clone()))
        .chain(forms.danger.iter().flat_map(|form| form.errors.clone()))
        .collect();
    let page = ctx.layout(group.name.clone(), "admin").with_errors(&errors);
    let body = GroupPage {
        page,
        is_admin: viewer.is_admin(),
        edit,
        person,
        token: forms.token.unwrap_or_default(),
        danger: forms.danger.unwrap_or_default(),
        countries: display::countries(),
        group_roles: choices::<GroupRole>(),
        statuses: choices::<GroupStatus>(),
        members: members
            .into_iter()
            .map(|(membership, user)| {
                let state = if user.password_hash.is_empty() {
                    "invited, no password yet"
                } else {
                    ""
                };
                (
                    user.id,
                    user.display_name,
                    user.email,
                    format!(
                        "{}{}",
                        membership.role,
                        if state.is_empty() {
                            String::new()
                        } else {
                            format!(" ({state})")
                        }
                    ),
                )
            })
            .collect(),
        tokens: tokens
            .into_iter()
            .map(|token| {
                (
                    token.id,
                    token.name,
                    format!("{}…", token.prefix),
                    token
                        .last_used_at
                        .map_or_else(|| "never".into(), display::utc),
                    display::utc(token.created_at),
                    token.revoked_at.is_some(),
                )
            })
            .collect(),
        new_token: forms.new_token,
        group,
    };
    Ok(respond(body, status))
}

#[handler]
pub async fn group_view(ctx: Ctx<'_>, Path(slug): Path<String>) -> WebResult {
    let viewer = ctx.require()?;
    group_page(&ctx, viewer, &slug, GroupForms::default(), StatusCode::OK).await
}

#[handler]
pub async fn update_group(ctx: Ctx<'_>, Path(slug): Path<String>, body: Vec<u8>) -> WebResult {
    let form = ctx.form(&body)?;
    let viewer = require_admin(&ctx)?;
    let mut patch = group_patch(&form);
    patch.slug = None;
    match groups::update(ctx.services(), &viewer.principal, &slug, &patch).await {
        Ok(_) => {
            ctx.flash("Group saved.", None);
            Ok(see_other(&format!("/admin/groups/{slug}")))
        }
        Err(error) => {
            let forms = GroupForms {
                edit: Some(FormState::with_errors(
                    form.values(),
                    field_errors(error, "name")?,
                )),
                ..GroupForms::default()
            };
            group_page(&ctx, viewer, &slug, forms, StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}

#[handler]
pub async fn group_action(
    ctx: Ctx<'_>,
    Path((slug, action)): Path<(String, String)>,
    body: Vec<u8>,
) -> WebResult {
    let form = ctx.form(&body)?;
    let viewer = ctx.require()?;
    let services = ctx.services();
    let principal = &viewer.principal;
    let back = format!("/admin/groups/{slug}");
    let refuse = |forms: GroupForms| {
        group_page(&ctx, viewer, &slug, forms, StatusCode::UNPROCESSABLE_ENTITY)
    };
    let danger = |errors| GroupForms {
        danger: Some(FormState::with_errors(form.values(), errors)),
        ..GroupForms::default()
    };
    match action.as_str() {
        "status" => {
            let status = GroupStatus::parse(form.text("status"));
            if status.is_some_and(|status| status != GroupStatus::Active)
                && !form.checked("confirm")
            {
                return refuse(danger(confirm_error())).await;
            }
            let patch = GroupPatch {
                status,
                ..GroupPatch::default()
            };
            groups::update(services, principal, &slug, &patch).await?;
            ctx.flash(format!("The group is now {}.", form.text("status")), None);
        }
        "people" => {
            let role = GroupRole::parse(form.text("role")).unwrap_or(GroupRole::Editor);
            let email = form.text("email");
            let person_form = |errors| GroupForms {
                person: Some(FormState::with_errors(form.values(), errors)),
                ..GroupForms::default()
            };
            // The same call, and the same answer, whether or not the address
            // has an account: an existing one is only added to the group.
            let invitation = Invitation {
                email: email.into(),
                display_name: form.text("display_name").into(),
                role: Role::Member,
                group: Some((slug.clone(), role)),
            };
            match accounts::invite(services, principal, invitation).await {
                Ok(invited) => {
                    let (notice, link) = invitation_notice(
                        &ctx.state.config,
                        &format!("{} is {role} of the group", email.trim()),
                        &invited,
                    );
                    ctx.flash(notice, link);
                }
                Err(error) => return refuse(person_form(field_errors(error, "email")?)).await,
            }
        }
        "remove-member" => {
            if !form.checked("confirm") {
                return refuse(danger(confirm_error())).await;
            }
            let user_id = form
                .text("user_id")
                .parse()
                .map_err(|_| WebError::App(AppError::not_found("membership")))?;
            groups::remove_member(services, principal, &slug, user_id).await?;
            ctx.flash("Removed from the group.", None);
        }
        "tokens" => return create_group_token(&ctx, viewer, &slug, &form).await,
        "revoke-token" => {
            if !form.checked("confirm") {
                return refuse(danger(confirm_error())).await;
            }
            let token_id = form
                .text("token_id")
                .parse()
                .map_err(|_| WebError::App(AppError::not_found("token")))?;
            groups::revoke_token(services, principal, &slug, token_id).await?;
            ctx.flash("Token revoked: it stopped working at once.", None);
        }
        _ => return Err(WebError::App(AppError::not_found("action"))),
    }
    Ok(see_other(&back))
}

/// A new token for the group; its secret goes on this page only, never
/// into a session or a log.
async fn create_group_token(ctx: &Ctx<'_>, viewer: &Viewer, slug: &str, form: &Form) -> WebResult {
    match groups::create_token(ctx.services(), &viewer.principal, slug, form.text("name")).await {
        Ok((_, secret)) => {
            let forms = GroupForms {
                new_token: Some(secret),
                ..GroupForms::default()
            };
            group_page(ctx, viewer, slug, forms, StatusCode::CREATED).await
        }
        Err(error) => {
            let forms = GroupForms {
                token: Some(FormState::with_errors(
                    form.values(),
                    field_errors(error, "name")?,
                )),
                ..GroupForms::default()
            };
            group_page(ctx, viewer, slug, forms, StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/users.html")]
struct UsersPage {
    page: Layout,
    form: FormState,
    roles: Vec<Choice>,
    group_roles: Vec<Choice>,
    groups: Vec<Choice>,
    people: Vec<(i64, String, String, String, bool, bool, String)>,
    me: i64,
}

async fn users_page(
    ctx: &Ctx<'_>,
    viewer: &Viewer,
    form: FormState,
    notice: Option<Notice>,
) -> WebResult {
    let people = users::list(ctx.services(), &viewer.principal).await?;
    let all_groups = groups::list_public(ctx.services()).await?;
    let status = page_status(notice.is_some(), &form.errors);
    let mut page = ctx.layout("People", "admin").with_errors(&form.errors);
    page.notice = notice;
    let body = UsersPage {
        page,
        roles: choices::<Role>(),
        group_roles: choices::<GroupRole>(),
        groups: std::iter::once(Choice::new("", "No group"))
            .chain(all_groups.iter().map(|g| Choice::new(&g.slug, &g.name)))
            .collect(),
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
                (
                    user.id,
                    user.display_name,
                    user.email,
                    user.role.as_str().to_string(),
                    user.disabled,
                    user.password_hash.is_empty(),
                    groups,
                )
            })
            .collect(),
        me: viewer.principal.attributed_user_id(),
        form,
    };
    Ok(respond(body, status))
}

#[handler]
pub async fn people_list(ctx: Ctx<'_>) -> WebResult {
    let viewer = require_admin(&ctx)?;
    let form = FormState::new(HashMap::from([
        ("role".to_string(), "member".to_string()),
        ("group_role".to_string(), "editor".to_string()),
    ]));
    users_page(&ctx, viewer, form, None).await
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
            let (notice, link) =
                invitation_notice(&ctx.state.config, &format!("{email} is invited"), &invited);
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
pub async fn update_user(ctx: Ctx<'_>, Path(id): Path<String>, body: Vec<u8>) -> WebResult {
    let form = ctx.form(&body)?;
    let viewer = require_admin(&ctx)?;
    let id: i64 = id
        .parse()
        .map_err(|_| WebError::App(AppError::not_found("user")))?;
    let change = match form.text("change") {
        "role" => UserChange {
            role: Role::parse(form.text("role")),
            ..UserChange::default()
        },
        "disable" => {
            if !form.checked("confirm") {
                return users_page(
                    &ctx,
                    viewer,
                    FormState::with_errors(HashMap::new(), confirm_error()),
                    None,
                )
                .await;
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
        _ => return Err(WebError::App(AppError::not_found("change"))),
    };
    match users::update(ctx.services(), &viewer.principal, id, change).await {
        Ok(person) => {
            ctx.flash(format!("{} saved.", person.user.email), None);
            Ok(see_other("/admin/users"))
        }
        Err(AppError::Conflict(message)) => {
            let notice = Notice {
                heading: "Not changed".into(),
                text: sentence(&message),
            };
            users_page(&ctx, viewer, FormState::default(), Some(notice)).await
        }
        Err(other) => Err(other.into()),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/access_requests.html")]
struct AccessRequestsPage {
    page: Layout,
    form: FormState,
    pending: Vec<crate::entities::access_request::Model>,
    decided: Vec<crate::entities::access_request::Model>,
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
pub async fn requests(ctx: Ctx<'_>) -> WebResult {
    let viewer = require_admin(&ctx)?;
    access_requests_page(&ctx, viewer, FormState::default(), None).await
}

#[handler]
pub async fn decide_access_request(
    ctx: Ctx<'_>,
    Path((id, action)): Path<(String, String)>,
    body: Vec<u8>,
) -> WebResult {
    let form = ctx.form(&body)?;
    let viewer = require_admin(&ctx)?;
    let id: i64 = id
        .parse()
        .map_err(|_| WebError::App(AppError::not_found("access request")))?;
    let approve = match action.as_str() {
        "approve" => true,
        "reject" => false,
        _ => return Err(WebError::App(AppError::not_found("action"))),
    };
    if approve && !form.checked("confirm") {
        return access_requests_page(
            &ctx,
            viewer,
            FormState::with_errors(HashMap::new(), confirm_error()),
            None,
        )
        .await;
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
        Ok(request) => {
            let text = if approve {
                format!("Approved: group {} exists now.", request.slug)
            } else {
                "Rejected; the reason is kept with the request.".into()
            };
            ctx.flash(text, None);
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
