//! Administration: groups with their members and API tokens (`groups`,
//! for admins and the group's owners), people (`people`: invite, role,
//! disable, the links that set a password), requests for new groups
//! (`requests`) and the mail the site sends (`outbox`). Irreversible steps
//! are confirmed.

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
