//! Requests from new groups for access; an admin approves (creating the group) or rejects.

use sea_orm::sea_query::{Asterisk, Expr, ExprTrait, SelectStatement};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait,
    Set, TransactionTrait,
};

use super::accounts::{self, Invitation, Invited};
use super::rate_limit::Reserved;
use super::{Counters, Services, groups, lookup, outbox};
use crate::domain::access_request::AccessRequestForm;
use crate::domain::authz::Principal;
use crate::domain::group::GroupFields;
use crate::domain::validate::Checker;
use crate::domain::{AccessRequestStatus, GroupRole, GroupStatus, Role, limits};
use crate::entities::access_request;
use crate::error::{AppError, AppResult};

/// Stores a request from the public form, limited per client address (the
/// attempt is reserved first; an invalid request gives it back).
pub async fn create(
    services: &Services,
    form: &AccessRequestForm,
    client: &str,
) -> AppResult<access_request::Model> {
    let limit = &services.limits.access_requests;
    if let Reserved::Full { retry_after } = limit.reserve(&services.db, client).await? {
        Counters::count(&services.counters.rate_limited);
        return Err(AppError::RateLimited { retry_after });
    }
    let stored = store(services, form).await;
    if stored.is_err() {
        limit.release(&services.db, client).await?;
    }
    stored
}

async fn store(services: &Services, form: &AccessRequestForm) -> AppResult<access_request::Model> {
    let valid = form.validate()?;
    let now = services.now();
    let txn = services.db.begin().await?;
    let request = access_request::ActiveModel {
        group_name: Set(valid.group.name),
        slug: Set(valid.group.slug),
        country: Set(valid.group.country),
        website: Set(valid.group.website),
        contact_email: Set(valid.contact_email),
        message: Set(valid.message),
        status: Set(AccessRequestStatus::Pending),
        decision_comment: Set(None),
        decided_by: Set(None),
        group_id: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    outbox::access_request_received(&txn, services, &request).await?;
    txn.commit().await?;
    Ok(request)
}

/// `SELECT COUNT(*)` of the requests waiting for a decision, to run inside
/// another statement (one index range of `status`).
pub fn pending_count_query() -> SelectStatement {
    access_request::Entity::find()
        .select_only()
        .expr(Expr::col(Asterisk).count())
        .filter(access_request::Column::Status.eq(AccessRequestStatus::Pending))
        .into_query()
}

pub async fn list(
    services: &Services,
    principal: &Principal,
    status: Option<AccessRequestStatus>,
) -> AppResult<Vec<access_request::Model>> {
    principal.require_admin("handle access requests")?;
    let mut query = access_request::Entity::find().order_by_asc(access_request::Column::Id);
    if let Some(status) = status {
        query = query.filter(access_request::Column::Status.eq(status));
    }
    Ok(query.all(&services.db).await?)
}

/// A decided request, and the invitation of its contact to own the new group.
#[derive(Clone, Debug)]
pub struct Decided {
    pub request: access_request::Model,
    /// Approved, and the contact (who had no account) was invited.
    pub invited: Option<Invited>,
}

/// Approves (creating the group) or rejects (with a reason) a pending request.
pub async fn decide(
    services: &Services,
    principal: &Principal,
    id: i64,
    approve: bool,
    comment: Option<&str>,
) -> AppResult<Decided> {
    principal.require_admin("handle access requests")?;
    let mut check = Checker::new();
    let comment = comment
        .map(|text| check.multiline("comment", text, limits::COMMENT_CHARS))
        .filter(|text| !text.is_empty());
    check.finish()?;
    if !approve && comment.is_none() {
        return Err(AppError::field("comment", "a reason is required to reject"));
    }
    // Read before the transaction: on SQLite a transaction that reads first
    // pins a snapshot, and its first write then fails at once (instead of
    // waiting) when another admin decided meanwhile. The conditional update
    // below still lets only one decision win.
    let db = &services.db;
    let request = access_request::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("access request"))?;
    if request.status != AccessRequestStatus::Pending {
        return Err(AppError::InvalidTransition(format!(
            "this request was already {}",
            request.status
        )));
    }
    let now = services.now();
    let txn = db.begin().await?;
    let mut active: access_request::ActiveModel = request.clone().into();
    if approve {
        let fields = GroupFields {
            slug: request.slug.clone(),
            name: request.group_name.clone(),
            country: request.country.clone(),
            website: request.website.clone(),
            contact: request.contact_email.clone(),
            languages: Vec::new(),
        };
        // No member yet: the contact address came from a public form, so
        // owning the group needs proof of it (an invitation), not a match.
        let group = groups::insert(&txn, fields, GroupStatus::Active, now).await?;
        active.group_id = Set(Some(group.id));
        active.status = Set(AccessRequestStatus::Approved);
    } else {
        active.status = Set(AccessRequestStatus::Rejected);
    }
    active.decision_comment = Set(comment.clone());
    active.decided_by = Set(Some(principal.attributed_user_id()));
    active.updated_at = Set(now);
    // Only a still-pending row is updated, so two admins cannot both decide.
    let result = access_request::Entity::update_many()
        .set(active)
        .filter(access_request::Column::Id.eq(id))
        .filter(access_request::Column::Status.eq(AccessRequestStatus::Pending))
        .exec(&txn)
        .await?;
    if result.rows_affected != 1 {
        return Err(AppError::InvalidTransition(
            "this request was decided meanwhile".into(),
        ));
    }
    outbox::access_request_decided(&txn, services, &request, approve, comment.as_deref()).await?;
    txn.commit().await?;
    let mut invited = None;
    if approve {
        // The new group's feeds exist from now on.
        services.live.changed().await;
        // The decision stands even if the invitation fails; an admin can
        // invite from the group's page.
        match invite_contact(services, principal, &request).await {
            Ok(invitation) => invited = invitation,
            Err(error) => {
                tracing::warn!(%error, request = id, "could not invite the contact of an approved request");
            }
        }
    }
    let request = access_request::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("access request"))?;
    Ok(Decided { request, invited })
}

/// Invites the contact of an approved request to own the new group, when
/// the address has no account yet: the invitation mail proves the address.
/// An existing account is not made owner on the strength of a public form;
/// an admin adds it.
async fn invite_contact(
    services: &Services,
    principal: &Principal,
    request: &access_request::Model,
) -> AppResult<Option<Invited>> {
    if lookup::user_by_email(&services.db, &request.contact_email)
        .await?
        .is_some()
    {
        return Ok(None);
    }
    let invitation = Invitation {
        email: request.contact_email.clone(),
        display_name: String::new(),
        role: Role::Member,
        group: Some((request.slug.clone(), GroupRole::Owner)),
    };
    Ok(Some(
        accounts::invite(services, principal, invitation).await?,
    ))
}
