//! Groups, their members and their API tokens; CSV import of the directory.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, Set, TransactionTrait,
};

use super::{auth, entries, is_unique_violation, now, users};
use crate::domain::authz::Principal;
use crate::domain::group::{GroupFields, GroupInput};
use crate::domain::{GroupRole, GroupStatus};
use crate::entities::{api_token, group, membership, user};
use crate::error::{AppError, AppResult};

fn forbidden() -> AppError {
    AppError::Forbidden("only admins and the group's owners may do this".into())
}

/// Active groups, for the public directory.
pub async fn list_public(db: &DatabaseConnection) -> AppResult<Vec<group::Model>> {
    Ok(group::Entity::find()
        .filter(group::Column::Status.eq(GroupStatus::Active.as_str()))
        .order_by_asc(group::Column::Name)
        .all(db)
        .await?)
}

pub async fn find_by_slug(db: &impl ConnectionTrait, slug: &str) -> AppResult<group::Model> {
    // No slug holds NUL, and PostgreSQL refuses it in a query parameter.
    if slug.contains('\0') {
        return Err(AppError::not_found("group"));
    }
    group::Entity::find()
        .filter(group::Column::Slug.eq(slug))
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("group"))
}

fn duplicate_slug(error: sea_orm::DbErr) -> AppError {
    if is_unique_violation(&error) {
        AppError::conflict("a group with this slug already exists")
    } else {
        error.into()
    }
}

/// Inserts a validated group.
pub async fn insert(db: &impl ConnectionTrait, fields: GroupFields) -> AppResult<group::Model> {
    let now = now();
    group::ActiveModel {
        slug: Set(fields.slug),
        name: Set(fields.name),
        country: Set(fields.country),
        website: Set(fields.website),
        contact: Set(fields.contact),
        status: Set(GroupStatus::Active.as_str().into()),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
    .map_err(duplicate_slug)
}

pub async fn create(
    db: &DatabaseConnection,
    principal: &Principal,
    input: &GroupInput,
) -> AppResult<group::Model> {
    principal.require_admin("create groups")?;
    let mut fields = GroupFields::default();
    fields.apply(input);
    fields.validate().map_err(AppError::Validation)?;
    let created = insert(db, fields).await?;
    match input.status {
        Some(status) if status != GroupStatus::Active => set_status(db, created, status).await,
        _ => Ok(created),
    }
}

async fn set_status(
    db: &DatabaseConnection,
    group: group::Model,
    status: GroupStatus,
) -> AppResult<group::Model> {
    let mut active: group::ActiveModel = group.into();
    active.status = Set(status.as_str().into());
    active.updated_at = Set(now());
    Ok(active.update(db).await?)
}

/// Admin update: name, country, website, contact and status (suspend, remove).
pub async fn update(
    db: &DatabaseConnection,
    principal: &Principal,
    slug: &str,
    input: &GroupInput,
) -> AppResult<group::Model> {
    principal.require_admin("change groups")?;
    let existing = find_by_slug(db, slug).await?;
    if input
        .slug
        .as_deref()
        .is_some_and(|new| new != existing.slug)
    {
        return Err(AppError::field(
            "slug",
            "cannot be changed: feeds and links use it",
        ));
    }
    let mut fields = GroupFields {
        slug: existing.slug.clone(),
        name: existing.name.clone(),
        country: existing.country.clone(),
        website: existing.website.clone(),
        contact: existing.contact.clone(),
    };
    fields.apply(input);
    fields.validate().map_err(AppError::Validation)?;
    let removing = input.status == Some(GroupStatus::Removed)
        && existing.status != GroupStatus::Removed.as_str();
    let group_id = existing.id;
    let mut active: group::ActiveModel = existing.into();
    active.name = Set(fields.name);
    active.country = Set(fields.country);
    active.website = Set(fields.website);
    active.contact = Set(fields.contact);
    if let Some(status) = input.status {
        active.status = Set(status.as_str().into());
    }
    active.updated_at = Set(now());
    let txn = db.begin().await?;
    if removing {
        entries::retract_group(&txn, principal, group_id).await?;
    }
    let updated = active.update(&txn).await?;
    txn.commit().await?;
    Ok(updated)
}

/// A group the principal may manage (admins, owners).
async fn managed_group(
    db: &DatabaseConnection,
    principal: &Principal,
    slug: &str,
) -> AppResult<group::Model> {
    let group = find_by_slug(db, slug).await?;
    if principal.can_manage_group(group.id) {
        Ok(group)
    } else {
        Err(forbidden())
    }
}

/// Adds a person to a group, or changes their group role.
pub async fn add_member(
    db: &DatabaseConnection,
    principal: &Principal,
    slug: &str,
    email: &str,
    role: GroupRole,
) -> AppResult<(membership::Model, user::Model)> {
    let group = managed_group(db, principal, slug).await?;
    let user = users::find_by_email(db, email)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no user with email {}", email.trim())))?;
    let existing = membership::Entity::find()
        .filter(membership::Column::UserId.eq(user.id))
        .filter(membership::Column::GroupId.eq(group.id))
        .one(db)
        .await?;
    let now = now();
    let saved = match existing {
        Some(existing) => {
            let mut active: membership::ActiveModel = existing.into();
            active.role = Set(role.as_str().into());
            active.updated_at = Set(now);
            active.update(db).await?
        }
        None => {
            membership::ActiveModel {
                user_id: Set(user.id),
                group_id: Set(group.id),
                role: Set(role.as_str().into()),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            }
            .insert(db)
            .await?
        }
    };
    Ok((saved, user))
}

pub async fn list_members(
    db: &DatabaseConnection,
    principal: &Principal,
    slug: &str,
) -> AppResult<Vec<(membership::Model, user::Model)>> {
    let group = find_by_slug(db, slug).await?;
    if !principal.can_write_entries(group.id) && !principal.is_moderator() {
        return Err(forbidden());
    }
    let members = membership::Entity::find()
        .filter(membership::Column::GroupId.eq(group.id))
        .order_by_asc(membership::Column::Id)
        .all(db)
        .await?;
    let people: std::collections::HashMap<i64, user::Model> = user::Entity::find()
        .filter(user::Column::Id.is_in(members.iter().map(|m| m.user_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|user| (user.id, user))
        .collect();
    Ok(members
        .into_iter()
        .filter_map(|membership| {
            let person = people.get(&membership.user_id)?.clone();
            Some((membership, person))
        })
        .collect())
}

pub async fn remove_member(
    db: &DatabaseConnection,
    principal: &Principal,
    slug: &str,
    user_id: i64,
) -> AppResult<()> {
    let group = managed_group(db, principal, slug).await?;
    let result = membership::Entity::delete_many()
        .filter(membership::Column::GroupId.eq(group.id))
        .filter(membership::Column::UserId.eq(user_id))
        .exec(db)
        .await?;
    if result.rows_affected == 0 {
        return Err(AppError::not_found("membership"));
    }
    Ok(())
}

/// Issues an API token for the group; the secret is returned once and only its hash kept.
pub async fn create_token(
    db: &DatabaseConnection,
    principal: &Principal,
    slug: &str,
    name: &str,
) -> AppResult<(api_token::Model, String)> {
    let group = managed_group(db, principal, slug).await?;
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(AppError::field("name", "must be 1 to 100 characters"));
    }
    if name.contains('\0') {
        return Err(AppError::field("name", "must not contain NUL characters"));
    }
    let secret = auth::new_api_token_secret();
    let token = api_token::ActiveModel {
        group_id: Set(group.id),
        name: Set(name.to_string()),
        secret_sha256: Set(auth::sha256_hex(&secret)),
        prefix: Set(secret[..10].to_string()),
        created_by: Set(principal.user_id()),
        created_at: Set(now()),
        last_used_at: Set(None),
        revoked_at: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok((token, secret))
}

pub async fn list_tokens(
    db: &DatabaseConnection,
    principal: &Principal,
    slug: &str,
) -> AppResult<Vec<api_token::Model>> {
    let group = managed_group(db, principal, slug).await?;
    Ok(api_token::Entity::find()
        .filter(api_token::Column::GroupId.eq(group.id))
        .order_by_asc(api_token::Column::Id)
        .all(db)
        .await?)
}

pub async fn revoke_token(
    db: &DatabaseConnection,
    principal: &Principal,
    slug: &str,
    token_id: i64,
) -> AppResult<api_token::Model> {
    let group = managed_group(db, principal, slug).await?;
    let token = api_token::Entity::find_by_id(token_id)
        .filter(api_token::Column::GroupId.eq(group.id))
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("token"))?;
    if token.revoked_at.is_some() {
        return Ok(token);
    }
    let mut active: api_token::ActiveModel = token.into();
    active.revoked_at = Set(Some(now()));
    Ok(active.update(db).await?)
}

/// What an import did.
#[derive(Debug, Default)]
pub struct ImportReport {
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    /// `(line number, message)` of rows that were skipped.
    pub errors: Vec<(usize, String)>,
}

const IMPORT_COLUMNS: [&str; 6] = ["slug", "name", "country", "website", "contact", "status"];

/// Imports the user-group directory CSV (`slug,name,country,website,contact,registered,status`).
/// Idempotent: rows are matched by slug; changed rows are updated, bad rows reported.
pub async fn import_csv(db: &DatabaseConnection, data: &[u8]) -> AppResult<ImportReport> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(data);
    let headers = reader
        .headers()
        .map_err(|error| AppError::BadRequest(format!("cannot read the CSV header: {error}")))?
        .clone();
    let column = |name: &str| headers.iter().position(|header| header == name);
    let positions: Vec<Option<usize>> = IMPORT_COLUMNS.iter().map(|name| column(name)).collect();
    if positions[0].is_none() || positions[1].is_none() {
        return Err(AppError::BadRequest(
            "the CSV needs at least `slug` and `name` columns".into(),
        ));
    }
    let mut report = ImportReport::default();
    for (index, record) in reader.records().enumerate() {
        // Line 1 is the header.
        let line = index + 2;
        let record = match record {
            Ok(record) => record,
            Err(error) => {
                report.errors.push((line, error.to_string()));
                continue;
            }
        };
        let value = |i: usize| {
            positions[i]
                .and_then(|position| record.get(position))
                .unwrap_or_default()
                .to_string()
        };
        let mut fields = GroupFields {
            slug: value(0),
            name: value(1),
            country: value(2),
            website: value(3),
            contact: value(4),
        };
        let status_text = value(5);
        // The directory writes when a group left, e.g. `removed-2018`.
        let status_word = status_text
            .split('-')
            .next()
            .unwrap_or_default()
            .to_lowercase();
        let status = if status_word.is_empty() {
            Some(GroupStatus::Active)
        } else {
            GroupStatus::parse(&status_word)
        };
        let Some(status) = status else {
            report
                .errors
                .push((line, format!("status: unknown value `{status_text}`")));
            continue;
        };
        if let Err(errors) = fields.validate() {
            let message = errors
                .iter()
                .map(|e| format!("{}: {}", e.field, e.message))
                .collect::<Vec<_>>()
                .join("; ");
            report.errors.push((line, message));
            continue;
        }
        upsert_imported(db, fields, status, &mut report).await?;
    }
    Ok(report)
}

async fn upsert_imported(
    db: &DatabaseConnection,
    fields: GroupFields,
    status: GroupStatus,
    report: &mut ImportReport,
) -> AppResult<()> {
    let existing = group::Entity::find()
        .filter(group::Column::Slug.eq(&fields.slug))
        .one(db)
        .await?;
    let Some(existing) = existing else {
        let created = insert(db, fields).await?;
        if status != GroupStatus::Active {
            set_status(db, created, status).await?;
        }
        report.created += 1;
        return Ok(());
    };
    let same = existing.name == fields.name
        && existing.country == fields.country
        && existing.website == fields.website
        && existing.contact == fields.contact
        && existing.status == status.as_str();
    if same {
        report.unchanged += 1;
        return Ok(());
    }
    let mut active: group::ActiveModel = existing.into();
    active.name = Set(fields.name);
    active.country = Set(fields.country);
    active.website = Set(fields.website);
    active.contact = Set(fields.contact);
    active.status = Set(status.as_str().into());
    active.updated_at = Set(now());
    active.update(db).await?;
    report.updated += 1;
    Ok(())
}
