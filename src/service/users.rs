//! People: accounts with a global role.

use sea_orm::{ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, Set};

use super::{auth, is_unique_violation, now};
use crate::domain::Role;
use crate::entities::user;
use crate::error::{AppError, AppResult, FieldError};

pub struct NewUser {
    pub email: String,
    pub password: String,
    pub display_name: String,
    pub role: Role,
}

const MIN_PASSWORD_CHARS: usize = 8;
const MAX_PASSWORD_CHARS: usize = 1024;

/// A plausible email address, normalized to lower case.
pub fn normalize_email(field: &str, email: &str) -> Result<String, FieldError> {
    let email = email.trim().to_lowercase();
    let plausible = email.len() <= 254
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        })
        && !email.chars().any(|c| c.is_whitespace() || c.is_control());
    if plausible {
        Ok(email)
    } else {
        Err(FieldError::new(field, "must be an email address"))
    }
}

pub async fn create_user(db: &DatabaseConnection, new: NewUser) -> AppResult<user::Model> {
    let mut errors = Vec::new();
    let email = normalize_email("email", &new.email)
        .map_err(|e| errors.push(e))
        .ok();
    let password_chars = new.password.chars().count();
    if !(MIN_PASSWORD_CHARS..=MAX_PASSWORD_CHARS).contains(&password_chars) {
        errors.push(FieldError::new(
            "password",
            format!("must be {MIN_PASSWORD_CHARS} to {MAX_PASSWORD_CHARS} characters"),
        ));
    }
    let display_name = new.display_name.trim().to_string();
    if display_name.is_empty() || display_name.chars().count() > 100 || display_name.contains('\0')
    {
        errors.push(FieldError::new(
            "display_name",
            "must be 1 to 100 characters",
        ));
    }
    let Some(email) = email.filter(|_| errors.is_empty()) else {
        return Err(AppError::Validation(errors));
    };
    let password = new.password;
    let password_hash = tokio::task::spawn_blocking(move || auth::hash_password(&password))
        .await
        .map_err(|error| AppError::Internal(error.to_string()))??;
    let now = now();
    user::ActiveModel {
        email: Set(email),
        display_name: Set(display_name),
        password_hash: Set(password_hash),
        role: Set(new.role.as_str().to_string()),
        disabled: Set(false),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
    .map_err(|error| {
        if is_unique_violation(&error) {
            AppError::conflict("a user with this email already exists")
        } else {
            error.into()
        }
    })
}

pub async fn find_by_email(
    db: &impl sea_orm::ConnectionTrait,
    email: &str,
) -> AppResult<Option<user::Model>> {
    // No address holds NUL, and PostgreSQL refuses it in a query parameter.
    if email.contains('\0') {
        return Ok(None);
    }
    Ok(user::Entity::find()
        .filter(user::Column::Email.eq(email.trim().to_lowercase()))
        .one(db)
        .await?)
}

pub async fn get(db: &DatabaseConnection, id: i64) -> AppResult<user::Model> {
    user::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("user"))
}

/// All people, for admins.
pub async fn list(db: &DatabaseConnection) -> AppResult<Vec<user::Model>> {
    use sea_orm::QueryOrder;
    Ok(user::Entity::find()
        .order_by_asc(user::Column::Id)
        .all(db)
        .await?)
}

/// What an admin may change about a person.
pub struct UserChange {
    pub display_name: Option<String>,
    pub role: Option<Role>,
    pub disabled: Option<bool>,
}

/// Changes a person's name, role or disabled flag. A disabled person's tokens stop working at once.
/// Admins cannot demote or disable themselves, so the last admin cannot lock everyone out.
pub async fn update(
    db: &DatabaseConnection,
    actor_id: i64,
    id: i64,
    change: UserChange,
) -> AppResult<user::Model> {
    let existing = get(db, id).await?;
    let demotes_self =
        change.role.is_some_and(|role| role != Role::Admin) || change.disabled == Some(true);
    if id == actor_id && demotes_self {
        return Err(AppError::conflict(
            "you cannot demote or disable yourself; ask another admin",
        ));
    }
    let mut active: user::ActiveModel = existing.into();
    if let Some(name) = change.display_name {
        let name = name.trim().to_string();
        if name.is_empty() || name.chars().count() > 100 || name.contains('\0') {
            return Err(AppError::field(
                "display_name",
                "must be 1 to 100 characters",
            ));
        }
        active.display_name = Set(name);
    }
    if let Some(role) = change.role {
        active.role = Set(role.as_str().to_string());
    }
    if let Some(disabled) = change.disabled {
        active.disabled = Set(disabled);
    }
    active.updated_at = Set(now());
    Ok(active.update(db).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalized_and_checked() {
        assert_eq!(
            normalize_email("e", " Ada@Example.ORG ").ok().as_deref(),
            Some("ada@example.org")
        );
        for bad in [
            "",
            "ada",
            "ada@",
            "@x.org",
            "ada@localhost",
            "a b@x.org",
            "ada@x.",
        ] {
            assert!(normalize_email("e", bad).is_err(), "{bad}");
        }
    }
}
