//! The public archive: published entries whose window is over, read from
//! the database (the feed snapshot only keeps the last days of them). Only
//! the approved revision is public: a search reads its title, never the
//! working one; removed groups show nothing.

use sea_orm::{ColumnTrait, Condition, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};
use sea_orm::{ConnectionTrait, QuerySelect};

use super::Services;
use super::entries::live_revision_of;
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

/// Whether the published title of `model` contains `words` (any case).
fn title_has(model: &entry::Model, words: &str) -> bool {
    live_revision_of(model)
        .ok()
        .flatten()
        .is_some_and(|live| live.fields.title.to_lowercase().contains(words))
}

/// One page of the archive, latest end first, with the total; `query`
/// searches the published titles.
pub async fn archive(
    services: &Services,
    query: Option<&str>,
    offset: u64,
    limit: u64,
) -> AppResult<(Vec<Archived>, u64)> {
    let db = &services.db;
    let (limit, offset) = limits::page_window(limit, offset);
    let select = entry::Entity::find()
        .filter(ended(db, services.now()).await?)
        .order_by_desc(entry::Column::LivePublishTo)
        .order_by_desc(entry::Column::Id);
    let (entries, total) = match query.map(str::to_lowercase) {
        // The published title lives in the revision's JSON: read and filtered here.
        Some(words) => {
            let matching: Vec<entry::Model> = select
                .all(db)
                .await?
                .into_iter()
                .filter(|model| title_has(model, &words))
                .collect();
            let total = matching.len() as u64;
            let page = matching
                .into_iter()
                .skip(usize::try_from(offset).unwrap_or(usize::MAX))
                .take(usize::try_from(limit).unwrap_or(usize::MAX))
                .collect();
            (page, total)
        }
        None => {
            let total = select.clone().count(db).await?;
            (select.offset(offset).limit(limit).all(db).await?, total)
        }
    };
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
