//! Requests from new groups for access; an admin approves (creating the group) or rejects.

use crate::domain::text::Text;
use poem_openapi::Object;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, Set,
    TransactionTrait,
};

use super::{groups, now, users};
use crate::domain::authz::Principal;
use crate::domain::group::{GroupFields, check_identity, check_slug, slugify};
use crate::domain::{AccessRequestStatus, GroupRole, GroupStatus};
use crate::entities::{access_request, membership};
use crate::error::{AppError, AppResult, FieldError};

/// A request for a new group to get access.
#[derive(Object, Clone, Debug)]
#[oai(deny_unknown_fields)]
pub struct AccessRequestInput {
    /// Name of the group.
    pub group_name: Text,
    /// Wished slug; derived from the name when absent.
    pub slug: Option<Text>,
    /// ISO 3166-1 alpha-2 country, or empty.
    #[oai(default)]
    pub country: Text,
    /// Group website, or empty.
    #[oai(default)]
    pub website: Text,
    /// Where to reach the person asking.
    pub contact_email: Text,
    /// Who the group is and what it will publish.
    #[oai(default)]
    pub message: Text,
}

const MAX_MESSAGE_CHARS: usize = 2000;

pub async fn create(
    db: &DatabaseConnection,
    input: &AccessRequestInput,
) -> AppResult<access_request::Model> {
    let mut errors = Vec::new();
    let slug = input
        .slug
        .as_deref()
        .map(str::trim)
        .map(str::to_string)
        .unwrap_or_else(|| slugify(&input.group_name));
    check_slug("slug", &slug, &mut errors);
    let mut fields = GroupFields {
        slug,
        name: input.group_name.to_string(),
        country: input.country.to_string(),
        website: input.website.to_string(),
        contact: String::new(),
    };
    check_identity(&mut fields, &mut errors);
    // The shared checks name the field `name`; here it is `group_name`.
    for error in &mut errors {
        if error.field == "name" {
            error.field = "group_name".into();
        }
    }
    let email = users::normalize_email("contact_email", &input.contact_email)
        .map_err(|error| errors.push(error))
        .unwrap_or_default();
    if input.message.chars().count() > MAX_MESSAGE_CHARS {
        errors.push(FieldError::new(
            "message",
            format!("must be at most {MAX_MESSAGE_CHARS} characters"),
        ));
    }
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let now = now();
    Ok(access_request::ActiveModel {
        group_name: Set(fields.name),
        slug: Set(fields.slug),
        country: Set(fields.country),
        website: Set(fields.website),
        contact_email: Set(email),
        message: Set(input.message.trim().to_string()),
        status: Set(AccessRequestStatus::Pending.as_str().into()),
        decision_comment: Set(None),
        decided_by: Set(None),
        group_id: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?)
}

pub async fn list(
    db: &DatabaseConnection,
    principal: &Principal,
    status: Option<AccessRequestStatus>,
) -> AppResult<Vec<access_request::Model>> {
    principal.require_admin("handle access requests")?;
    let mut query = access_request::Entity::find().order_by_asc(access_request::Column::Id);
    if let Some(status) = status {
        query = query.filter(access_request::Column::Status.eq(status.as_str()));
    }
    Ok(query.all(db).await?)
}

/// Approves (creating the group, with the requester as owner when they have an
/// account) or rejects (with a reason) a pending request.
pub async fn decide(
    db: &DatabaseConnection,
    principal: &Principal,
    id: i64,
    approve: bool,
    comment: Option<String>,
) -> AppResult<access_request::Model> {
    principal.require_admin("handle access requests")?;
    let comment = comment
        .map(|text| text.trim().to_string())
        .filter(|text| !text.is_empty());
    if !approve && comment.is_none() {
        return Err(AppError::field("comment", "a reason is required to reject"));
    }
    // Read before the transaction: on SQLite a transaction that reads first
    // pins a snapshot, and its first write then fails at once (instead of
    // waiting) when another admin decided meanwhile. The conditional update
    // below still lets only one decision win.
    let request = access_request::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("access request"))?;
    if request.status != AccessRequestStatus::Pending.as_str() {
        return Err(AppError::conflict(format!(
            "this request was already {}",
            request.status
        )));
    }
    let now = now();
    let txn = db.begin().await?;
    let mut active: access_request::ActiveModel = request.clone().into();
    if approve {
        let group = groups::insert(
            &txn,
            GroupFields {
                slug: request.slug.clone(),
                name: request.group_name.clone(),
                country: request.country.clone(),
                website: request.website.clone(),
                contact: request.contact_email.clone(),
            },
        )
        .await?;
        debug_assert_eq!(group.status, GroupStatus::Active.as_str());
        if let Some(user) = users::find_by_email(&txn, &request.contact_email).await? {
            membership::ActiveModel {
                user_id: Set(user.id),
                group_id: Set(group.id),
                role: Set(GroupRole::Owner.as_str().into()),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            }
            .insert(&txn)
            .await?;
        }
        active.group_id = Set(Some(group.id));
        active.status = Set(AccessRequestStatus::Approved.as_str().into());
    } else {
        active.status = Set(AccessRequestStatus::Rejected.as_str().into());
    }
    active.decision_comment = Set(comment);
    active.decided_by = Set(Some(principal.user_id()));
    active.updated_at = Set(now);
    // Only a still-pending row is updated, so two admins cannot both decide.
    let result = access_request::Entity::update_many()
        .set(active)
        .filter(access_request::Column::Id.eq(id))
        .filter(access_request::Column::Status.eq(AccessRequestStatus::Pending.as_str()))
        .exec(&txn)
        .await?;
    if result.rows_affected != 1 {
        return Err(AppError::conflict("this request was decided meanwhile"));
    }
    txn.commit().await?;
    access_request::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("access request"))
}
