//! People: accounts with a global role.

use std::collections::HashMap;

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QueryTrait, Set,
};

use super::{Services, is_unique_violation, lookup, search, sessions};
use crate::domain::authz::Principal;
use crate::domain::search::SearchQuery;
use crate::domain::user::{NewUser, check_display_name, email_skeleton};
use crate::domain::validate::Checker;
use crate::domain::{GroupRole, Role};
use crate::entities::{api_token, group, membership, user};
use crate::error::{AppError, AppResult};

/// A person with the groups they belong to (by slug).
#[derive(Clone, Debug)]
pub struct Person {
    pub user: user::Model,
    pub memberships: Vec<(String, GroupRole)>,
}

/// Creates an account (admins through the API; anyone with shell access through the CLI).
pub async fn create_user(services: &Services, new: NewUser) -> AppResult<user::Model> {
    let new = new.validate()?;
    let password_hash = services.passwords.hash(new.password).await?;
    let account = NewAccount {
        email: new.email,
        display_name: new.display_name,
        password_hash,
        role: new.role,
    };
    insert(&services.db, account, services.now()).await
}

/// A validated account about to be stored (an empty hash: invited, no password yet).
pub struct NewAccount {
    pub email: String,
    pub display_name: String,
    pub password_hash: String,
    pub role: Role,
}

/// Stores an account; a taken email address, or one that looks the same
/// (the same confusable skeleton), is a duplicate.
pub async fn insert(
    db: &impl ConnectionTrait,
    account: NewAccount,
    now: i64,
) -> AppResult<user::Model> {
    let duplicate = || {
        AppError::Duplicate(
            "an account with this address, or one that looks the same, already exists".into(),
        )
    };
    let email_skeleton = email_skeleton(&account.email);
    let lookalike = user::Entity::find()
        .filter(user::Column::EmailSkeleton.eq(&email_skeleton))
        .one(db)
        .await?;
    if lookalike.is_some() {
        return Err(duplicate());
    }
    user::ActiveModel {
        email: Set(account.email),
        email_skeleton: Set(email_skeleton),
        display_name: Set(account.display_name),
        password_hash: Set(account.password_hash),
        role: Set(account.role),
        disabled: Set(false),
        credentials_version: Set(0),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
    .map_err(|error| {
        if is_unique_violation(&error) {
            duplicate()
        } else {
            error.into()
        }
    })
}

/// Gives the accounts without a skeleton (imported from an export older
/// than it) theirs.
pub async fn fill_missing_skeletons(db: &impl ConnectionTrait) -> AppResult<()> {
    let missing = user::Entity::find()
        .filter(user::Column::EmailSkeleton.eq(""))
        .all(db)
        .await?;
    for account in missing {
        let skeleton = email_skeleton(&account.email);
        let mut active: user::ActiveModel = account.into();
        active.email_skeleton = Set(skeleton);
        active.update(db).await?;
    }
    Ok(())
}

/// `users` with their memberships, in two queries whatever their number.
pub async fn with_memberships(
    db: &impl ConnectionTrait,
    users: Vec<user::Model>,
) -> AppResult<Vec<Person>> {
    let rows = membership::Entity::find()
        .filter(membership::Column::UserId.is_in(users.iter().map(|user| user.id)))
        .order_by_asc(membership::Column::Id)
        .all(db)
        .await?;
    let slugs: HashMap<i64, String> = group::Entity::find()
        .filter(group::Column::Id.is_in(rows.iter().map(|m| m.group_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|group| (group.id, group.slug))
        .collect();
    let mut by_user: HashMap<i64, Vec<(String, GroupRole)>> = HashMap::new();
    for row in rows {
        if let Some(slug) = slugs.get(&row.group_id) {
            by_user
                .entry(row.user_id)
                .or_default()
                .push((slug.clone(), row.role));
        }
    }
    Ok(users
        .into_iter()
        .map(|user| Person {
            memberships: by_user.remove(&user.id).unwrap_or_default(),
            user,
        })
        .collect())
}

/// What a credential is.
#[derive(Clone, Debug)]
pub enum Identity {
    /// A person, logged in.
    Person(Person),
    /// A group's API token: an editor of that one group.
    GroupToken {
        token: api_token::Model,
        group_slug: String,
    },
}

/// Who or what `principal` is, for `GET /me`.
pub async fn identity(services: &Services, principal: &Principal) -> AppResult<Identity> {
    match principal {
        Principal::User { id, .. } => Ok(Identity::Person(person(services, *id).await?)),
        Principal::GroupToken {
            token_id,
            group_slug,
            ..
        } => {
            let token = api_token::Entity::find_by_id(*token_id)
                .one(&services.db)
                .await?
                .ok_or_else(|| AppError::not_found("token"))?;
            Ok(Identity::GroupToken {
                token,
                group_slug: group_slug.clone(),
            })
        }
    }
}

/// `user` with their memberships.
pub async fn with_memberships_one(
    db: &impl ConnectionTrait,
    user: user::Model,
) -> AppResult<Person> {
    let mut people = with_memberships(db, vec![user]).await?;
    people.pop().ok_or_else(|| AppError::not_found("user"))
}

/// One person with their memberships.
pub async fn person(services: &Services, id: i64) -> AppResult<Person> {
    let user = lookup::user_by_id(&services.db, id).await?;
    with_memberships_one(&services.db, user).await
}

/// Everyone, for admins.
/// Everyone, or those whose name or email holds the words of `query`.
pub async fn list(
    services: &Services,
    principal: &Principal,
    query: Option<&SearchQuery>,
) -> AppResult<Vec<Person>> {
    principal.require_admin("manage users")?;
    let db = &services.db;
    if query.is_some() {
        search::refresh(db).await?;
    }
    let users = user::Entity::find()
        .apply_if(query, |select, query| {
            select.filter(search::users_matching(db.get_database_backend(), query))
        })
        .order_by_asc(user::Column::Id)
        .all(&services.db)
        .await?;
    with_memberships(&services.db, users).await
}

/// What an admin may change about a person.
#[derive(Clone, Debug, Default)]
pub struct UserChange {
    pub display_name: Option<String>,
    pub role: Option<Role>,
    pub disabled: Option<bool>,
}

/// Changes a person's name, role or disabled flag. A disabled person's tokens stop working at once.
/// Admins cannot demote or disable themselves, so the last admin cannot lock everyone out.
pub async fn update(
    services: &Services,
    principal: &Principal,
    id: i64,
    change: UserChange,
) -> AppResult<Person> {
    principal.require_admin("manage users")?;
    let existing = lookup::user_by_id(&services.db, id).await?;
    let demotes_self =
        change.role.is_some_and(|role| role != Role::Admin) || change.disabled == Some(true);
    if id == principal.attributed_user_id() && demotes_self {
        return Err(AppError::Conflict(
            "you cannot demote or disable yourself; ask another admin".into(),
        ));
    }
    let (existing_disabled, existing_version) = (existing.disabled, existing.credentials_version);
    let mut active: user::ActiveModel = existing.into();
    if let Some(name) = change.display_name {
        let mut check = Checker::new();
        let name = check_display_name(&mut check, &name);
        check.finish()?;
        active.display_name = Set(name);
    }
    if let Some(role) = change.role {
        active.role = Set(role);
    }
    if let Some(disabled) = change.disabled {
        if disabled && !existing_disabled {
            // Every login token issued so far stops working, even after re-enabling.
            active.credentials_version = Set(existing_version + 1);
        }
        active.disabled = Set(disabled);
    }
    active.updated_at = Set(services.now());
    let user = active.update(&services.db).await?;
    if user.disabled {
        // Signed-in pages end at once, as login tokens do.
        sessions::revoke_user(&services.db, user.id).await?;
    }
    with_memberships_one(&services.db, user).await
}

/// Creates an account on an admin's behalf.
pub async fn create(services: &Services, principal: &Principal, new: NewUser) -> AppResult<Person> {
    principal.require_admin("manage users")?;
    let user = create_user(services, new).await?;
    with_memberships_one(&services.db, user).await
}
