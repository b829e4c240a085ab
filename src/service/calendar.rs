//! The public archive: published entries whose window is over, read from
//! the database (the feed snapshot only keeps the last days of them). Only
//! the approved revision is public: a search reads its title, never the
//! working one; removed groups show nothing.

use sea_orm::{ColumnTrait, Condition, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};
use sea_orm::{ConnectionTrait, QuerySelect};

use super::{Services, search};
use crate::domain::search::SearchQuery;
use crate::domain::{GroupStatus, limits};
use crate::entities::{entry, group};
use crate::error::AppResult;

/// An ended entry with its group.
pub struct Archived {
    pub entry: entry::Model,
    pub group: group::Model,
}

/// Published entries whose window ended before `now`, of groups not removed.
async fn ended(db: &impl ConnectionTrait, now: i64) -> AppResult<Condition> {
    let removed: Vec<i64> = group::Entity::find()
        .select_only()
        .column(group::Column::Id)
        .filter(group::Column::Status.eq(GroupStatus::Removed))
        .into_tuple()
        .all(db)
        .await?;
    let mut condition = Condition::all()
        .add(entry::Column::InFeed.eq(true))
        .add(entry::Column::LiveRevision.is_not_null())
        .add(entry::Column::LivePublishTo.lte(now));
    if !removed.is_empty() {
        condition = condition.add(entry::Column::GroupId.is_not_in(removed));
    }
    Ok(condition)
}

/// One page of the archive, latest end first, with the total; `query`
/// searches the published revision (title, text, place) and the group's
/// name, in the database's index: the archive may hold a million rows,
/// none is read to be filtered here.
pub async fn archive(
    services: &Services,
    query: Option<&SearchQuery>,
    offset: u64,
    limit: u64,
) -> AppResult<(Vec<Archived>, u64)> {
    let db = &services.db;
    let (limit, offset) = limits::page_window(limit, offset);
    let mut condition = ended(db, services.now()).await?;
    if let Some(query) = query {
        search::refresh(db).await?;
        condition = condition.add(search::entries_matching(
            db.get_database_backend(),
            query,
            search::Revision::Published,
        ));
    }
    let select = entry::Entity::find()
        .filter(condition)
        .order_by_desc(entry::Column::LivePublishTo)
        .order_by_desc(entry::Column::Id);
    let total = select.clone().count(db).await?;
    let entries = select.offset(offset).limit(limit).all(db).await?;
    Ok((with_groups(db, entries).await?, total))
}

/// Entry `id` if it is in the archive.
pub async fn archived(services: &Services, id: i64) -> AppResult<Option<Archived>> {
    let db = &services.db;
    let found = entry::Entity::find_by_id(id)
        .filter(ended(db, services.now()).await?)
        .one(db)
        .await?;
    Ok(with_groups(db, found.into_iter().collect()).await?.pop())
}

async fn with_groups(
    db: &impl ConnectionTrait,
    entries: Vec<entry::Model>,
) -> AppResult<Vec<Archived>> {
    let groups = group::Entity::find()
        .filter(group::Column::Id.is_in(entries.iter().map(|entry| entry.group_id)))
        .all(db)
        .await?;
    Ok(entries
        .into_iter()
        .filter_map(|entry| {
            let group = groups.iter().find(|group| group.id == entry.group_id)?;
            Some(Archived {
                group: group.clone(),
                entry,
            })
        })
        .collect())
}
