//! Who a request is: bearer credentials to a principal, and logging in.

use std::time::Duration;

use sea_orm::sea_query::{Alias, Expr, ExprTrait, JoinType, Order, Query};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, FromQueryResult, IdenStatic,
    Iterable, QueryFilter,
};

use super::rate_limit::Reserved;
use super::tokens::{API_TOKEN_PREFIX, sha256_hex};
use super::users::Person;
use super::{Counters, Services, access_requests, entries, lookup};
use crate::domain::GroupStatus;
use crate::domain::authz::Principal;
use crate::domain::user::email_key;
use crate::entities::{api_token, group, membership, user};
use crate::error::{AppError, AppResult};

/// Recording a token's use more often than this would write on every call of a busy CI job.
const TOKEN_USE_RECORD_SECS: i64 = 60;
/// How long each login attempt for an account waits once the account has
/// seen more failures than `--login-attempts-per-account`.
const ACCOUNT_SLOWDOWN: Duration = Duration::from_secs(1);

fn unauthorized() -> AppError {
    AppError::Unauthorized("invalid or expired credentials".into())
}

/// Resolves a bearer credential (JWT or group API token) to a principal.
pub async fn authenticate(services: &Services, bearer: &str) -> AppResult<Principal> {
    if bearer.starts_with(API_TOKEN_PREFIX) {
        return authenticate_api_token(services, bearer).await;
    }
    let subject = services.jwt.subject(bearer).ok_or_else(unauthorized)?;
    let person = load_person(&services.db, subject.user_id, false)
        .await?
        .filter(|person| person.user.credentials_version == subject.credentials_version)
        .ok_or_else(unauthorized)?;
    Ok(person.principal())
}

/// An enabled person's row and groups, as one statement reads them.
struct PersonRows {
    user: user::Model,
    /// With the group's slug, in the order they were added.
    memberships: Vec<(membership::Model, String)>,
    /// The moderation queue's length, when asked for.
    pending: Option<u64>,
    /// Access requests waiting for an admin, when asked for.
    access_requests: Option<u64>,
}

impl PersonRows {
    fn principal(&self) -> Principal {
        Principal::User {
            id: self.user.id,
            name: self.user.display_name.clone(),
            role: self.user.role,
            memberships: self
                .memberships
                .iter()
                .map(|(membership, _)| (membership.group_id, membership.role))
                .collect(),
        }
    }
}

/// The alias prefix of the membership columns in [`load_person`].
const MEMBERSHIP: &str = "membership_";

/// The enabled person `user_id` with their groups (and the lengths of the
/// moderation queue and of the waiting access requests with
/// `count_pending`), in one statement: the person's
/// columns repeat on each membership row, and a person in no group still
/// has one row (`LEFT JOIN`).
async fn load_person(
    db: &DatabaseConnection,
    user_id: i64,
    count_pending: bool,
) -> AppResult<Option<PersonRows>> {
    let mut query = Query::select();
    query.columns(user::Column::iter().map(|column| (user::Entity, column)));
    for column in membership::Column::iter() {
        query.expr_as(
            Expr::col((membership::Entity, column)),
            Alias::new(format!("{MEMBERSHIP}{}", column.as_str())),
        );
    }
    query
        .expr_as(
            Expr::col((group::Entity, group::Column::Slug)),
            Alias::new("group_slug"),
        )
        .from(user::Entity)
        .join(
            JoinType::LeftJoin,
            membership::Entity,
            Expr::col((membership::Entity, membership::Column::UserId))
                .equals((user::Entity, user::Column::Id)),
        )
        .join(
            JoinType::LeftJoin,
            group::Entity,
            Expr::col((group::Entity, group::Column::Id))
                .equals((membership::Entity, membership::Column::GroupId)),
        )
        .and_where(Expr::col((user::Entity, user::Column::Id)).eq(user_id))
        .order_by((membership::Entity, membership::Column::Id), Order::Asc);
    if count_pending {
        query.expr_as(
            Expr::SubQuery(None, Box::new(entries::pending_count_query().into())),
            Alias::new("pending"),
        );
        query.expr_as(
            Expr::SubQuery(
                None,
                Box::new(access_requests::pending_count_query().into()),
            ),
            Alias::new("access_requests"),
        );
    }
    let rows = db
        .query_all_raw(db.get_database_backend().build(&query))
        .await?;
    let Some(first) = rows.first() else {
        return Ok(None);
    };
    let user = user::Model::from_query_result(first, "")?;
    if user.disabled {
        return Ok(None);
    }
    let count = |column: &str| -> AppResult<Option<u64>> {
        if !count_pending {
            return Ok(None);
        }
        let count: i64 = first.try_get("", column)?;
        Ok(Some(u64::try_from(count).unwrap_or(0)))
    };
    let (pending, access_requests) = (count("pending")?, count("access_requests")?);
    let mut memberships = Vec::new();
    for row in &rows {
        if let Some(membership) = membership::Model::from_query_result_optional(row, MEMBERSHIP)? {
            memberships.push((membership, row.try_get("", "group_slug")?));
        }
    }
    Ok(Some(PersonRows {
        user,
        memberships,
        pending,
        access_requests,
    }))
}

/// A group token acts as an editor of its group for as long as the person
/// who issued it could: it stops working when they are disabled or are no
/// longer a member of the group (admins excepted), so the entries it writes
/// are never attributed to someone without the right to write them.
async fn authenticate_api_token(services: &Services, secret: &str) -> AppResult<Principal> {
    let db = &services.db;
    // One statement: the token, its group's status, its issuer's state and
    // whether the issuer still belongs to the group (an API client calls often).
    let membership = Query::select()
        .expr(Expr::val(1))
        .from(membership::Entity)
        .and_where(
            Expr::col((membership::Entity, membership::Column::UserId))
                .equals((user::Entity, user::Column::Id)),
        )
        .and_where(
            Expr::col((membership::Entity, membership::Column::GroupId))
                .equals((api_token::Entity, api_token::Column::GroupId)),
        )
        .to_owned();
    let query = Query::select()
        .columns([
            (api_token::Entity, api_token::Column::Id),
            (api_token::Entity, api_token::Column::Name),
            (api_token::Entity, api_token::Column::GroupId),
            (api_token::Entity, api_token::Column::CreatedBy),
            (api_token::Entity, api_token::Column::LastUsedAt),
        ])
        .expr_as(
            Expr::col((group::Entity, group::Column::Status)),
            Alias::new("group_status"),
        )
        .expr_as(
            Expr::col((group::Entity, group::Column::Slug)),
            Alias::new("group_slug"),
        )
        .expr_as(
            Expr::col((user::Entity, user::Column::Disabled)),
            Alias::new("issuer_disabled"),
        )
        .expr_as(
            Expr::col((user::Entity, user::Column::Role)),
            Alias::new("issuer_role"),
        )
        .expr_as(Expr::exists(membership), Alias::new("issuer_member"))
        .from(api_token::Entity)
        .join(
            JoinType::InnerJoin,
            group::Entity,
            Expr::col((group::Entity, group::Column::Id))
                .equals((api_token::Entity, api_token::Column::GroupId)),
        )
        .join(
            JoinType::InnerJoin,
            user::Entity,
            Expr::col((user::Entity, user::Column::Id))
                .equals((api_token::Entity, api_token::Column::CreatedBy)),
        )
        .and_where(
            Expr::col((api_token::Entity, api_token::Column::SecretSha256)).eq(sha256_hex(secret)),
        )
        .and_where(Expr::col((api_token::Entity, api_token::Column::RevokedAt)).is_null())
        .to_owned();
    let row = db
        .query_one_raw(db.get_database_backend().build(&query))
        .await?
        .ok_or_else(unauthorized)?;
    let read = |error: sea_orm::DbErr| AppError::from(error);
    let group_status: GroupStatus = row.try_get("", "group_status").map_err(read)?;
    let issuer_disabled: bool = row.try_get("", "issuer_disabled").map_err(read)?;
    let issuer_role: crate::domain::Role = row.try_get("", "issuer_role").map_err(read)?;
    let issuer_member: bool = row.try_get("", "issuer_member").map_err(read)?;
    let issuer_may_write =
        !issuer_disabled && (issuer_role == crate::domain::Role::Admin || issuer_member);
    if group_status == GroupStatus::Removed || !issuer_may_write {
        return Err(unauthorized());
    }
    let token_id: i64 = row.try_get("", "id").map_err(read)?;
    let last_used_at: Option<i64> = row.try_get("", "last_used_at").map_err(read)?;
    let now = services.now();
    if last_used_at.is_none_or(|used| now - used >= TOKEN_USE_RECORD_SECS) {
        api_token::Entity::update_many()
            .col_expr(api_token::Column::LastUsedAt, Expr::value(now))
            .filter(api_token::Column::Id.eq(token_id))
            .exec(db)
            .await?;
    }
    Ok(Principal::GroupToken {
        token_id,
        name: row.try_get("", "name").map_err(read)?,
        group_id: row.try_get("", "group_id").map_err(read)?,
        group_slug: row.try_get("", "group_slug").map_err(read)?,
        group_status,
        created_by: row.try_get("", "created_by").map_err(read)?,
    })
}

/// Checks email and password under the login limits and returns the person
/// (the API's login and the web's sessions alike).
///
/// Every attempt is counted before the password is checked, per account and
/// client address (`--login-attempts`) and per address (`--login-attempts-per-ip`);
/// a success gives the attempts back. Past `--login-attempts-per-account`
/// failures from anywhere, attempts for that account are slowed, never
/// refused, so that no stranger can lock the owner out.
pub async fn check_credentials(
    services: &Services,
    email: &str,
    password: &str,
    client: &str,
) -> AppResult<user::Model> {
    let email = email_key(email);
    let pair = format!("{email}|{client}");
    let (limits, db) = (&services.limits, &services.db);
    let counters = &services.counters;
    if let Reserved::Full { retry_after } = limits.login_pair.reserve(db, &pair).await? {
        Counters::count(&counters.rate_limited);
        return Err(AppError::RateLimited { retry_after });
    }
    if let Reserved::Full { retry_after } = limits.login_address.reserve(db, client).await? {
        limits.login_pair.release(db, &pair).await?;
        Counters::count(&counters.rate_limited);
        return Err(AppError::RateLimited { retry_after });
    }
    let account_counted = match limits.login_account.reserve(db, &email).await? {
        Reserved::Granted => true,
        Reserved::Full { .. } => {
            tokio::time::sleep(ACCOUNT_SLOWDOWN).await;
            false
        }
    };
    let checked = check_password(services, &email, password).await;
    match &checked {
        // A wrong password stays counted.
        Ok(None) => Counters::count(&counters.login_failures),
        // A success clears the pair's failures; a check that could not run
        // (too busy) was no attempt.
        Ok(Some(_)) => limits.login_pair.reset(db, &pair).await?,
        Err(_) => limits.login_pair.release(db, &pair).await?,
    }
    if !matches!(checked, Ok(None)) {
        limits.login_address.release(db, client).await?;
        if account_counted {
            limits.login_account.release(db, &email).await?;
        }
    }
    checked?.ok_or_else(|| AppError::Unauthorized("wrong email or password".into()))
}

/// The enabled person with `email` and `password`, if there is one.
async fn check_password(
    services: &Services,
    email: &str,
    password: &str,
) -> AppResult<Option<user::Model>> {
    let user = lookup::user_by_email(&services.db, email).await?;
    // Invited people have no password yet: checked against the decoy, so
    // they take as long to refuse as anyone.
    let hash = user
        .as_ref()
        .map(|user| user.password_hash.clone())
        .filter(|hash| !hash.is_empty());
    let verified = services
        .passwords
        .verify(password.to_string(), hash)
        .await?;
    Ok(user.filter(|user| verified && !user.disabled))
}

/// Logs in: a login token for the person with `email` and `password`.
pub async fn login(
    services: &Services,
    email: &str,
    password: &str,
    client: &str,
) -> AppResult<String> {
    let user = check_credentials(services, email, password, client).await?;
    services.jwt.issue(user.id, user.credentials_version)
}

/// The principal of a signed-in person, or `None` when the account is gone
/// or disabled (their session then ends).
pub async fn user_principal(services: &Services, user_id: i64) -> AppResult<Option<Principal>> {
    let person = load_person(&services.db, user_id, false).await?;
    Ok(person.map(|person| person.principal()))
}

/// Who a signed-in page is for.
pub struct SignedIn {
    pub principal: Principal,
    pub person: Person,
    /// Entries waiting for a moderator; for moderators only.
    pub pending: Option<u64>,
    /// Access requests waiting for a decision; for admins only.
    pub access_requests: Option<u64>,
}

/// The signed-in person `user_id` as every page shows them, in one
/// statement; `None` when the account is gone or disabled.
///
/// The queue is counted for everyone: inside the same statement it costs
/// one index range and no round trip, and who moderates stays decided by
/// `Principal` alone. It is counted, not kept in memory, so it is right
/// at once however many instances (or commands) change entries.
pub async fn signed_in(services: &Services, user_id: i64) -> AppResult<Option<SignedIn>> {
    let Some(rows) = load_person(&services.db, user_id, true).await? else {
        return Ok(None);
    };
    let principal = rows.principal();
    let pending = rows.pending.filter(|_| principal.is_moderator());
    let access_requests = rows.access_requests.filter(|_| principal.is_admin());
    let person = Person {
        memberships: rows
            .memberships
            .into_iter()
            .map(|(membership, slug)| (slug, membership.role))
            .collect(),
        user: rows.user,
    };
    Ok(Some(SignedIn {
        principal,
        person,
        pending,
        access_requests,
    }))
}
