//! Administration: groups with their members and API tokens (`groups`,
//! for admins and the group's owners), people (`people`: invite, role,
//! disable, the links that set a password), requests for new groups
//! (`requests`) and the mail the site sends (`outbox`). Irreversible steps
//! are confirmed.

pub mod calendars;
pub mod fediverse;
pub mod groups;
pub mod outbox;
pub mod people;
pub mod requests;

use super::context::{Ctx, Viewer, WebError};
use super::display::Choice;
use crate::domain::{FieldError, TextEnum};
use crate::error::AppError;

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

/// Every value of a closed set, as it is spelled.
fn choices<T: TextEnum>() -> Vec<Choice> {
    T::ALL
        .iter()
        .map(|value| Choice::new(value.as_str(), value.as_str()))
        .collect()
}

/// Adds the administration pages to `route`, each wrapped by `page`.
pub fn mount(
    route: poem::Route,
    page: &dyn Fn(poem::RouteMethod) -> poem::endpoint::BoxEndpoint<'static>,
) -> poem::Route {
    use poem::{get, post};
    route
        .at(
            "/admin/groups",
            page(get(groups::list).post(groups::create)),
        )
        .at(
            "/admin/groups/:slug",
            page(get(groups::show).post(groups::update)),
        )
        .at("/admin/groups/:slug/:action", page(post(groups::act)))
        // Beside `:action` above: these literal paths come first.
        .at(
            "/admin/groups/:slug/calendars",
            page(get(calendars::list).post(calendars::create)),
        )
        .at(
            "/admin/groups/:slug/calendars/import",
            page(post(calendars::upload)),
        )
        .at(
            "/admin/groups/:slug/calendars/:id",
            page(get(calendars::show).post(calendars::update)),
        )
        .at(
            "/admin/groups/:slug/calendars/:id/:action",
            page(post(calendars::act)),
        )
        .at("/admin/users", page(get(people::list).post(people::invite)))
        .at("/admin/users/:id", page(post(people::update)))
        .at("/admin/access-requests", page(get(requests::list)))
        .at("/admin/outbox", page(get(outbox::list)))
        .at("/admin/outbox/:id/retry", page(post(outbox::retry)))
        .at("/admin/fediverse", page(get(fediverse::show)))
        .at(
            "/admin/fediverse/deliveries/:id/retry",
            page(post(fediverse::retry)),
        )
        .at(
            "/admin/access-requests/:id/:action",
            page(post(requests::decide)),
        )
}
