//! Groups, their members and their API tokens; CSV import of the directory.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QueryTrait, Set, TransactionTrait,
};

use super::{Services, entries, is_unique_violation, lookup, search, tokens};
use crate::domain::authz::Principal;
use crate::domain::group::{
    GroupFields, GroupPatch, languages_column, languages_from_column, parse_directory_status,
};
use crate::domain::search::SearchQuery;
use crate::domain::validate::Checker;
use crate::domain::{GroupRole, GroupStatus, limits};
use crate::entities::{api_token, group, membership, user};
use crate::error::{AppError, AppResult};

fn forbidden() -> AppError {
    AppError::Forbidden("only admins and the group's owners may do this".into())
}

/// Active groups, for the public directory.
pub async fn list_public(services: &Services) -> AppResult<Vec<group::Model>> {
    Ok(group::Entity::find()
        .filter(group::Column::Status.eq(GroupStatus::Active))
        .order_by_asc(group::Column::Name)
        .all(&services.db)
        .await?)
}

/// Every group, removed ones too, for admins; or those whose name, slug
/// or country holds the words of `query`.
pub async fn list_all(
    services: &Services,
    principal: &Principal,
    query: Option<&SearchQuery>,
) -> AppResult<Vec<group::Model>> {
    principal.require_admin("see every group")?;
    let db = &services.db;
    if query.is_some() {
        search::refresh(db).await?;
    }
    Ok(group::Entity::find()
        .apply_if(query, |select, query| {
            select.filter(search::groups_matching(db.get_database_backend(), query))
        })
        .order_by_asc(group::Column::Name)
        .all(&services.db)
        .await?)
}

/// One group: any but a removed one, and for admins removed ones too.
pub async fn get(
    services: &Services,
    principal: Option<&Principal>,
    slug: &str,
) -> AppResult<group::Model> {
    let group = lookup::group_by_slug(&services.db, slug).await?;
    match group.status {
        GroupStatus::Active | GroupStatus::Suspended => Ok(group),
        GroupStatus::Removed if principal.is_some_and(Principal::is_admin) => Ok(group),
        GroupStatus::Removed => Err(AppError::not_found("group")),
    }
}

/// Inserts a validated group with its status, in one statement.
pub async fn insert(
    db: &impl ConnectionTrait,
    fields: GroupFields,
    status: GroupStatus,
    now: i64,
) -> AppResult<group::Model> {
    group::ActiveModel {
        slug: Set(fields.slug),
        name: Set(fields.name),
        country: Set(fields.country),
        website: Set(fields.website),
        contact: Set(fields.contact),
        languages: Set(languages_column(&fields.languages)),
        status: Set(status),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
    .map_err(|error| {
        if is_unique_violation(&error) {
            AppError::Duplicate("a group with this slug already exists".into())
        } else {
            error.into()
        }
    })
}

pub async fn create(
    services: &Services,
    principal: &Principal,
    patch: &GroupPatch,
) -> AppResult<group::Model> {
    principal.require_admin("create groups")?;
    let mut fields = GroupFields::default();
    fields.apply(patch);
    fields.validate()?;
    let status = patch.status.unwrap_or(GroupStatus::Active);
    let created = insert(&services.db, fields, status, services.now()).await?;
    // Its feeds exist from now on.
    services.live.changed().await;
    Ok(created)
}

/// Admin update: name, country, website, contact and status (suspend,
/// remove). Removing a group unpublishes its live entries in the same
/// transaction, so clients showing them are told to drop them.
pub async fn update(
    services: &Services,
    principal: &Principal,
    slug: &str,
    patch: &GroupPatch,
) -> AppResult<group::Model> {
    let existing = lookup::group_by_slug(&services.db, slug).await?;
    if !(patch.only_federation() && principal.can_manage_group(existing.id)) {
        principal.require_admin("change groups")?;
    }
    if patch
        .slug
        .as_deref()
        .is_some_and(|new| new != existing.slug)
    {
        return Err(AppError::field(
            "slug",
            "cannot be changed: feeds and links use it",
        ));
    }
    let mut fields = fields_of(&existing);
    fields.apply(patch);
    fields.validate()?;
    let removing =
        patch.status == Some(GroupStatus::Removed) && existing.status != GroupStatus::Removed;
    let group_id = existing.id;
    let mut active: group::ActiveModel = existing.into();
    set_fields(&mut active, fields);
    if let Some(status) = patch.status {
        active.status = Set(status);
    }
    if let Some(federated) = patch.federated {
        active.federated = Set(federated);
    }
    active.updated_at = Set(services.now());
    let txn = services.db.begin().await?;
    if removing {
        entries::retract_group(services, &txn, principal, group_id).await?;
    }
    let updated = active.update(&txn).await?;
    txn.commit().await?;
    // Names and statuses show in the feeds.
    services.live.changed().await;
    Ok(updated)
}

fn fields_of(group: &group::Model) -> GroupFields {
    GroupFields {
        slug: group.slug.clone(),
        name: group.name.clone(),
        country: group.country.clone(),
        website: group.website.clone(),
        contact: group.contact.clone(),
        languages: languages_from_column(&group.languages),
    }
}

/// Sets everything but the slug, which never changes.
fn set_fields(active: &mut group::ActiveModel, fields: GroupFields) {
    active.name = Set(fields.name);
    active.country = Set(fields.country);
    active.website = Set(fields.website);
    active.contact = Set(fields.contact);
    active.languages = Set(languages_column(&fields.languages));
}

/// A group the principal may manage (admins, owners).
pub async fn managed_group(
    services: &Services,
    principal: &Principal,
    slug: &str,
) -> AppResult<group::Model> {
    let group = lookup::group_by_slug(&services.db, slug).await?;
    if principal.can_manage_group(group.id) {
        Ok(group)
    } else {
        Err(forbidden())
    }
}

/// Adds a person to a group, or changes their group role.
pub async fn add_member(
    services: &Services,
    principal: &Principal,
    slug: &str,
    email: &str,
    role: GroupRole,
) -> AppResult<(membership::Model, user::Model)> {
    let group = managed_group(services, principal, slug).await?;
    let db = &services.db;
    let user = lookup::user_by_email(db, email)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no user with email {}", email.trim())))?;
    let existing = membership::Entity::find()
        .filter(membership::Column::UserId.eq(user.id))
        .filter(membership::Column::GroupId.eq(group.id))
        .one(db)
        .await?;
    let now = services.now();
    let saved = match existing {
        Some(existing) => {
            let mut active: membership::ActiveModel = existing.into();
            active.role = Set(role);
            active.updated_at = Set(now);
            active.update(db).await?
        }
        None => insert_membership(db, user.id, group.id, role, now).await?,
    };
    Ok((saved, user))
}

/// Makes `user_id` a member of `group_id` with `role`.
pub async fn insert_membership(
    db: &impl ConnectionTrait,
    user_id: i64,
    group_id: i64,
    role: GroupRole,
    now: i64,
) -> AppResult<membership::Model> {
    Ok(membership::ActiveModel {
        user_id: Set(user_id),
        group_id: Set(group_id),
        role: Set(role),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?)
}

/// Members of a group: for its members and moderators.
pub async fn list_members(
    services: &Services,
    principal: &Principal,
    slug: &str,
) -> AppResult<Vec<(membership::Model, user::Model)>> {
    let group = lookup::group_by_slug(&services.db, slug).await?;
    if !principal.can_write_entries(group.id) && !principal.is_moderator() {
        return Err(forbidden());
    }
    let members = membership::Entity::find()
        .filter(membership::Column::GroupId.eq(group.id))
        .order_by_asc(membership::Column::Id)
        .all(&services.db)
        .await?;
    let mut people: std::collections::HashMap<i64, user::Model> = user::Entity::find()
        .filter(user::Column::Id.is_in(members.iter().map(|m| m.user_id)))
        .all(&services.db)
        .await?
        .into_iter()
        .map(|user| (user.id, user))
        .collect();
    Ok(members
        .into_iter()
        .filter_map(|membership| {
            let person = people.remove(&membership.user_id)?;
            Some((membership, person))
        })
        .collect())
}

pub async fn remove_member(
    services: &Services,
    principal: &Principal,
    slug: &str,
    user_id: i64,
) -> AppResult<()> {
    let group = managed_group(services, principal, slug).await?;
    let result = membership::Entity::delete_many()
        .filter(membership::Column::GroupId.eq(group.id))
        .filter(membership::Column::UserId.eq(user_id))
        .exec(&services.db)
        .await?;
    if result.rows_affected == 0 {
        return Err(AppError::not_found("membership"));
    }
    Ok(())
}

/// Issues an API token for the group; the secret is returned once and only its hash kept.
pub async fn create_token(
    services: &Services,
    principal: &Principal,
    slug: &str,
    name: &str,
) -> AppResult<(api_token::Model, String)> {
    let group = managed_group(services, principal, slug).await?;
    let mut check = Checker::new();
    let name = check.line("name", name, limits::NAME_CHARS, true);
    check.finish()?;
    let secret = tokens::new_api_token_secret();
    let token = api_token::ActiveModel {
        group_id: Set(group.id),
        name: Set(name),
        secret_sha256: Set(tokens::sha256_hex(&secret)),
        prefix: Set(secret.chars().take(10).collect()),
        created_by: Set(principal.attributed_user_id()),
        created_at: Set(services.now()),
        last_used_at: Set(None),
        revoked_at: Set(None),
        ..Default::default()
    }
    .insert(&services.db)
    .await?;
    Ok((token, secret))
}

pub async fn list_tokens(
    services: &Services,
    principal: &Principal,
    slug: &str,
) -> AppResult<Vec<api_token::Model>> {
    let group = managed_group(services, principal, slug).await?;
    Ok(api_token::Entity::find()
        .filter(api_token::Column::GroupId.eq(group.id))
        .order_by_asc(api_token::Column::Id)
        .all(&services.db)
        .await?)
}

pub async fn revoke_token(
    services: &Services,
    principal: &Principal,
    slug: &str,
    token_id: i64,
) -> AppResult<api_token::Model> {
    let group = managed_group(services, principal, slug).await?;
    let token = api_token::Entity::find_by_id(token_id)
        .filter(api_token::Column::GroupId.eq(group.id))
        .one(&services.db)
        .await?
        .ok_or_else(|| AppError::not_found("token"))?;
    if token.revoked_at.is_some() {
        return Ok(token);
    }
    let mut active: api_token::ActiveModel = token.into();
    active.revoked_at = Set(Some(services.now()));
    Ok(active.update(&services.db).await?)
}

/// What an import did.
#[derive(Debug, Default)]
pub struct GroupImportReport {
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    /// `(line number, message)` of rows that were skipped.
    pub errors: Vec<(usize, String)>,
}

/// Why a directory file cannot be imported at all.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{0}")]
    Format(String),
    #[error(transparent)]
    Service(#[from] AppError),
}

const IMPORT_COLUMNS: [&str; 6] = ["slug", "name", "country", "website", "contact", "status"];

/// Imports the user-group directory CSV (`slug,name,country,website,contact,registered,status`).
/// Idempotent: rows are matched by slug; changed rows are updated, bad rows reported.
pub async fn import_csv(
    services: &Services,
    data: &[u8],
) -> Result<GroupImportReport, ImportError> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(data);
    let headers = reader
        .headers()
        .map_err(|error| ImportError::Format(format!("cannot read the CSV header: {error}")))?
        .clone();
    let positions: Vec<Option<usize>> = IMPORT_COLUMNS
        .iter()
        .map(|name| headers.iter().position(|header| header == *name))
        .collect();
    if positions[0].is_none() || positions[1].is_none() {
        return Err(ImportError::Format(
            "the CSV needs at least `slug` and `name` columns".into(),
        ));
    }
    let mut report = GroupImportReport::default();
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
            languages: Vec::new(),
        };
        let status_text = value(5);
        let Some(status) = parse_directory_status(&status_text) else {
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
        upsert_imported(services, fields, status, &mut report).await?;
    }
    if report.created + report.updated > 0 {
        services.live.changed().await;
    }
    Ok(report)
}

async fn upsert_imported(
    services: &Services,
    fields: GroupFields,
    status: GroupStatus,
    report: &mut GroupImportReport,
) -> AppResult<()> {
    let existing = group::Entity::find()
        .filter(group::Column::Slug.eq(&fields.slug))
        .one(&services.db)
        .await?;
    let Some(existing) = existing else {
        insert(&services.db, fields, status, services.now()).await?;
        report.created += 1;
        return Ok(());
    };
    if fields_of(&existing) == fields && existing.status == status {
        report.unchanged += 1;
        return Ok(());
    }
    let mut active: group::ActiveModel = existing.into();
    set_fields(&mut active, fields);
    active.status = Set(status);
    active.updated_at = Set(services.now());
    active.update(&services.db).await?;
    report.updated += 1;
    Ok(())
}
