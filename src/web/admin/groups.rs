//! Groups: the list (admins create them there) and a group's page, where
//! admins edit it and change its status, and its owners add and remove
//! people and issue and revoke API tokens.

use std::collections::HashMap;

use askama::Template;
use askama_web::WebTemplate;
use poem::handler;
use poem::http::StatusCode;
use poem::web::{Path, Query};

use super::{choices, field_errors, require_admin};
use crate::domain::group::{GroupPatch, languages_of};
use crate::domain::{FieldError, GroupRole, GroupStatus, Role};
use crate::entities::group;
use crate::error::AppError;
use crate::service::accounts::{self, Invitation};
use crate::service::groups;
use crate::web::accounts::invitation_notice;
use crate::web::context::{
    Ctx, Layout, Viewer, WebError, WebResult, page_status, respond, see_other,
};
use crate::web::display::{self, Choice};
use crate::web::forms::{Form, FormState};
use crate::web::query::{id_of, text};
use crate::web::search::{SearchBox, query_of};

fn group_patch(form: &Form) -> GroupPatch {
    let text = |name: &str| Some(form.text(name).to_string());
    GroupPatch {
        slug: text("slug"),
        name: text("name"),
        country: text("country"),
        website: text("website"),
        contact: text("contact"),
        languages: Some(
            form.text("languages")
                .split([',', ' '])
                .map(str::to_string)
                .collect(),
        ),
        status: None,
        federated: None,
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/groups.html")]
struct GroupsPage {
    page: Layout,
    form: FormState,
    countries: Vec<Choice>,
    groups: Vec<group::Model>,
    search: SearchBox,
}

async fn groups_page(
    ctx: &Ctx<'_>,
    viewer: &Viewer,
    form: FormState,
    query: &HashMap<String, String>,
) -> WebResult {
    let searched = query_of(query)?;
    let groups = groups::list_all(ctx.services(), &viewer.principal, searched.as_ref()).await?;
    let search = SearchBox::new(
        "/admin/groups",
        "Search groups",
        text(query, "q"),
        groups.len() as u64,
    );
    let status = page_status(false, &form.errors);
    let page = ctx.layout("Groups", "admin").with_errors(&form.errors);
    Ok(respond(
        GroupsPage {
            page,
            form,
            countries: display::countries(),
            groups,
            search,
        },
        status,
    ))
}

#[handler]
pub async fn list(ctx: Ctx<'_>, Query(query): Query<HashMap<String, String>>) -> WebResult {
    let viewer = require_admin(&ctx)?;
    groups_page(&ctx, viewer, FormState::default(), &query).await
}

#[handler]
pub async fn create(ctx: Ctx<'_>, body: Vec<u8>) -> WebResult {
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
            let state = FormState::with_errors(form.values(), errors);
            groups_page(&ctx, viewer, state, &HashMap::new()).await
        }
    }
}

/// The languages a group of `country` writes in unless it says otherwise.
fn languages_in_words(country: &str) -> String {
    match languages_of(&[], country).as_slice() {
        [] => "none, so new entries default to every language".into(),
        codes => format!(
            "{}’s: {}",
            crate::domain::country::name(country),
            codes.join(", ")
        ),
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
    /// What an empty language list means for this group, in words.
    country_languages: String,
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
        values.insert("languages".into(), group.languages.replace(',', ", "));
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
        country_languages: languages_in_words(&group.country),
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
pub async fn show(ctx: Ctx<'_>, Path(slug): Path<String>) -> WebResult {
    let viewer = ctx.require()?;
    group_page(&ctx, viewer, &slug, GroupForms::default(), StatusCode::OK).await
}

#[handler]
pub async fn update(ctx: Ctx<'_>, Path(slug): Path<String>, body: Vec<u8>) -> WebResult {
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
pub async fn act(
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
            if let Some(error) = form
                .unconfirmed()
                .filter(|_| status.is_some_and(|status| status != GroupStatus::Active))
            {
                return refuse(danger(vec![error])).await;
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
                        principal.is_admin(),
                        &format!("{} is {role} of the group", email.trim()),
                        &invited,
                    );
                    ctx.flash(notice, link);
                }
                Err(error) => return refuse(person_form(field_errors(error, "email")?)).await,
            }
        }
        "remove-member" => {
            if let Some(error) = form.unconfirmed() {
                return refuse(danger(vec![error])).await;
            }
            let user_id = id_of(form.text("user_id"), "membership")?;
            groups::remove_member(services, principal, &slug, user_id).await?;
            ctx.flash("Removed from the group.", None);
        }
        "tokens" => return create_group_token(&ctx, viewer, &slug, &form).await,
        "revoke-token" => {
            if let Some(error) = form.unconfirmed() {
                return refuse(danger(vec![error])).await;
            }
            let token_id = id_of(form.text("token_id"), "token")?;
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
