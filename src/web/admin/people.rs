//! People: everyone with their role and groups; admins invite, change
//! roles, disable and enable.

use std::collections::HashMap;

use askama::Template;
use askama_web::WebTemplate;
use poem::handler;
use poem::web::{Path, Query};

use super::{choices, field_errors, require_admin};
use crate::domain::{FieldError, GroupRole, Role};
use crate::error::AppError;
use crate::service::accounts::{self, Invitation};
use crate::service::groups;
use crate::service::users::{self, UserChange};
use crate::web::accounts::invitation_notice;
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
    people: Vec<(i64, String, String, String, bool, bool, String)>,
    me: i64,
    search: SearchBox,
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
pub async fn update(ctx: Ctx<'_>, Path(id): Path<String>, body: Vec<u8>) -> WebResult {
    let form = ctx.form(&body)?;
    let viewer = require_admin(&ctx)?;
    let id = id_of(&id, "user")?;
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
