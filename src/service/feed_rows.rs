//! The rows the feed snapshot is built from, read for the feeds' hub
//! (handed to it as its [`FeedSource`] by the composition root).

use std::future::Future;
use std::pin::Pin;

use sea_orm::{ColumnTrait, Condition, DatabaseConnection, DbErr, EntityTrait, QueryFilter};

use crate::entities::{area, entry, group};
use crate::feeds::{FeedRows, FeedSource, FeedWindow};

/// Reads the snapshot's rows from the database.
pub struct FeedRowsFromDb(pub DatabaseConnection);

impl FeedSource for FeedRowsFromDb {
    fn load(
        &self,
        window: FeedWindow,
    ) -> Pin<Box<dyn Future<Output = Result<FeedRows, DbErr>> + Send + '_>> {
        Box::pin(load(&self.0, window))
    }
}

async fn load(db: &DatabaseConnection, window: FeedWindow) -> Result<FeedRows, DbErr> {
    let in_feed = || Condition::all().add(entry::Column::InFeed.eq(true));
    // Three OR terms, each matching an index range (SQLite then unions
    // index searches; `in_feed AND (to IS NULL OR to >= cutoff)` would
    // walk every expired row still flagged in_feed).
    let entries = entry::Entity::find()
        .filter(
            Condition::any()
                .add(in_feed().add(entry::Column::LivePublishTo.is_null()))
                .add(in_feed().add(entry::Column::LivePublishTo.gte(window.ended_after)))
                .add(entry::Column::RetractedAt.gte(window.retracted_after)),
        )
        .all(db)
        .await?;
    let groups = group::Entity::find().all(db).await?;
    let areas = targeted_areas(db, &entries).await?;
    Ok(FeedRows {
        entries,
        groups,
        areas,
    })
}

/// The saved areas that published revisions target.
async fn targeted_areas(
    db: &DatabaseConnection,
    entries: &[entry::Model],
) -> Result<Vec<area::Model>, DbErr> {
    let mut ids: Vec<i64> = entries
        .iter()
        .filter_map(|entry| entry.live_target_area_id)
        .collect();
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    ids.sort_unstable();
    ids.dedup();
    area::Entity::find()
        .filter(area::Column::Id.is_in(ids))
        .all(db)
        .await
}
