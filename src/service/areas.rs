//! Saved target areas: moderators keep them, entries refer to them by id,
//! and the feeds resolve them when the snapshot is built (so an edit of an
//! area is a live change for every entry that uses it).

use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Set,
};

use super::{Services, is_unique_violation};
use crate::domain::area::{AreaFields, AreaPatch, validate};
use crate::domain::authz::Principal;
use crate::domain::geo::Point;
use crate::entities::{area, entry};
use crate::error::{AppError, AppResult};

/// Entries named when an area cannot be deleted.
const NAMED_USERS: u64 = 20;

/// A saved area and how many entries use it.
pub struct AreaView {
    pub area: area::Model,
    pub polygon: Vec<Point>,
    pub used_by: u64,
}

/// The polygon stored in `model`.
pub fn polygon_of(model: &area::Model) -> AppResult<Vec<Point>> {
    serde_json::from_str(&model.polygon)
        .map_err(|error| AppError::internal("unreadable stored area", error))
}

fn fields_of(model: &area::Model) -> AppResult<AreaFields> {
    Ok(AreaFields {
        name: model.name.clone(),
        description: model.description.clone(),
        polygon: polygon_of(model)?,
    })
}

/// Entries whose working or published revision targets area `id`.
fn users_of(id: i64) -> Condition {
    Condition::any()
        .add(entry::Column::TargetAreaId.eq(id))
        .add(entry::Column::LiveTargetAreaId.eq(id))
}

async fn view(db: &impl ConnectionTrait, area: area::Model) -> AppResult<AreaView> {
    let used_by = entry::Entity::find()
        .filter(users_of(area.id))
        .count(db)
        .await?;
    Ok(AreaView {
        polygon: polygon_of(&area)?,
        area,
        used_by,
    })
}

/// Everyone signed in may read areas: editors pick them for their entries.
pub async fn list(services: &Services) -> AppResult<Vec<AreaView>> {
    let areas = area::Entity::find()
        .order_by_asc(area::Column::Name)
        .all(&services.db)
        .await?;
    let mut views = Vec::with_capacity(areas.len());
    for area in areas {
        views.push(view(&services.db, area).await?);
    }
    Ok(views)
}

/// Every saved area as `(id, name)`, by name: the choices of an entry form
/// (one query, no counts).
pub async fn names(services: &Services) -> AppResult<Vec<(i64, String)>> {
    Ok(area::Entity::find()
        .select_only()
        .column(area::Column::Id)
        .column(area::Column::Name)
        .order_by_asc(area::Column::Name)
        .into_tuple()
        .all(&services.db)
        .await?)
}

pub async fn get(services: &Services, id: i64) -> AppResult<AreaView> {
    view(&services.db, find(&services.db, id).await?).await
}

async fn find(db: &impl ConnectionTrait, id: i64) -> AppResult<area::Model> {
    area::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("area"))
}

/// Refuses a `target_area_id` that names no saved area.
pub async fn require_existing(db: &impl ConnectionTrait, id: Option<i64>) -> AppResult<()> {
    let Some(id) = id else { return Ok(()) };
    match area::Entity::find_by_id(id).one(db).await? {
        Some(_) => Ok(()),
        None => Err(AppError::field(
            "target_area_id",
            format!("no saved area has id {id}; see GET /api/v1/areas"),
        )),
    }
}

fn require_moderator(principal: &Principal) -> AppResult<()> {
    if principal.is_moderator() {
        Ok(())
    } else {
        Err(AppError::Forbidden(
            "only moderators and admins manage saved areas".into(),
        ))
    }
}

fn duplicate_name(error: sea_orm::DbErr) -> AppError {
    if is_unique_violation(&error) {
        AppError::Duplicate("an area with this name already exists".into())
    } else {
        error.into()
    }
}

fn polygon_column(polygon: &[Point]) -> AppResult<String> {
    serde_json::to_string(polygon)
        .map_err(|error| AppError::internal("cannot store the area", error))
}

/// What storing an imported area did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stored {
    Created,
    Updated,
    Unchanged,
}

/// Stores a validated area brought by an import: the area of that name
/// here is the same area (updated when it differs), else a new one.
pub async fn store_imported(
    db: &impl ConnectionTrait,
    fields: &AreaFields,
    created_by: i64,
    at: i64,
) -> AppResult<Stored> {
    let polygon = polygon_column(&fields.polygon)?;
    let existing = area::Entity::find()
        .filter(area::Column::Name.eq(fields.name.as_str()))
        .one(db)
        .await?;
    let Some(existing) = existing else {
        area::ActiveModel {
            name: Set(fields.name.clone()),
            description: Set(fields.description.clone()),
            polygon: Set(polygon),
            version: Set(1),
            created_by: Set(Some(created_by)),
            created_at: Set(at),
            updated_at: Set(at),
            ..Default::default()
        }
        .insert(db)
        .await?;
        return Ok(Stored::Created);
    };
    if existing.description == fields.description && polygon_of(&existing)? == fields.polygon {
        return Ok(Stored::Unchanged);
    }
    let version = existing.version + 1;
    let mut active: area::ActiveModel = existing.into();
    active.description = Set(fields.description.clone());
    active.polygon = Set(polygon);
    active.version = Set(version);
    active.updated_at = Set(at);
    active.update(db).await?;
    Ok(Stored::Updated)
}

pub async fn create(
    services: &Services,
    principal: &Principal,
    mut fields: AreaFields,
) -> AppResult<AreaView> {
    require_moderator(principal)?;
    validate(&mut fields).map_err(AppError::Validation)?;
    let now = services.now();
    let saved = area::ActiveModel {
        name: Set(fields.name),
        description: Set(fields.description),
        polygon: Set(polygon_column(&fields.polygon)?),
        version: Set(1),
        created_by: Set(Some(principal.attributed_user_id())),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&services.db)
    .await
    .map_err(duplicate_name)?;
    view(&services.db, saved).await
}

/// Applies `patch` to area `id` if it is still at `version`; a changed
/// polygon is a live change for the entries that use it.
pub async fn update(
    services: &Services,
    principal: &Principal,
    id: i64,
    version: i32,
    patch: AreaPatch,
) -> AppResult<AreaView> {
    require_moderator(principal)?;
    let current = find(&services.db, id).await?;
    let before = fields_of(&current)?;
    let mut fields = before.clone();
    fields.apply(patch);
    validate(&mut fields).map_err(AppError::Validation)?;
    if current.version != version {
        return Err(AppError::StaleVersion {
            current_version: current.version,
        });
    }
    if fields == before {
        return view(&services.db, current).await;
    }
    let moved = fields.polygon != before.polygon;
    let mut active: area::ActiveModel = current.into();
    active.name = Set(fields.name);
    active.description = Set(fields.description);
    active.polygon = Set(polygon_column(&fields.polygon)?);
    active.version = Set(version + 1);
    active.updated_at = Set(services.now());
    let result = area::Entity::update_many()
        .set(active)
        .filter(area::Column::Id.eq(id))
        .filter(area::Column::Version.eq(version))
        .exec(&services.db)
        .await
        .map_err(duplicate_name)?;
    let saved = find(&services.db, id).await?;
    if result.rows_affected != 1 {
        return Err(AppError::StaleVersion {
            current_version: saved.version,
        });
    }
    if moved {
        services.live.changed().await;
    }
    view(&services.db, saved).await
}

/// Deletes area `id` when no entry refers to it (working or published
/// revision); otherwise says which entries to point elsewhere first. The
/// check is part of the delete statement, so an entry that takes the area
/// meanwhile keeps it.
pub async fn delete(services: &Services, principal: &Principal, id: i64) -> AppResult<()> {
    require_moderator(principal)?;
    find(&services.db, id).await?;
    let referenced = Query::select()
        .expr(Expr::val(1))
        .from(entry::Entity)
        .cond_where(users_of(id))
        .to_owned();
    let result = area::Entity::delete_many()
        .filter(area::Column::Id.eq(id))
        .filter(Expr::exists(referenced).not())
        .exec(&services.db)
        .await?;
    if result.rows_affected == 1 {
        return Ok(());
    }
    let users: Vec<i64> = entry::Entity::find()
        .select_only()
        .column(entry::Column::Id)
        .filter(users_of(id))
        .order_by_asc(entry::Column::Id)
        .limit(NAMED_USERS)
        .into_tuple()
        .all(&services.db)
        .await?;
    let ids: Vec<String> = users.iter().map(i64::to_string).collect();
    Err(AppError::Conflict(format!(
        "entries use this area (ids {}{}): give them another target area first",
        ids.join(", "),
        if users.len() as u64 == NAMED_USERS {
            ", ..."
        } else {
            ""
        }
    )))
}
