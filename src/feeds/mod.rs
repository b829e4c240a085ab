//! What is live, held in memory and refreshed after every change, so feeds
//! never query the database per request.

use std::sync::Arc;

use arc_swap::ArcSwap;
use sea_orm::{ColumnTrait, Condition, DatabaseConnection, EntityTrait, QueryFilter};

use crate::Config;
use crate::entities::entry;
use crate::error::AppResult;
use crate::service::now;

/// Entries that are live, scheduled, or recently retracted.
#[derive(Debug, Default)]
pub struct Snapshot {
    pub entries: Vec<entry::Model>,
    pub built_at: i64,
}

pub struct FeedHub {
    snapshot: ArcSwap<Snapshot>,
    retraction_secs: i64,
}

impl FeedHub {
    pub fn new(config: &Config) -> Self {
        Self {
            snapshot: ArcSwap::from_pointee(Snapshot::default()),
            retraction_secs: i64::from(config.retraction_days) * 86_400,
        }
    }

    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.snapshot.load_full()
    }

    /// Reloads the snapshot from the database.
    pub async fn refresh(&self, db: &DatabaseConnection) -> AppResult<()> {
        let now = now();
        let cutoff = now - self.retraction_secs;
        let entries = entry::Entity::find()
            .filter(
                Condition::any()
                    .add(
                        Condition::all().add(entry::Column::InFeed.eq(true)).add(
                            Condition::any()
                                .add(entry::Column::LivePublishTo.is_null())
                                .add(entry::Column::LivePublishTo.gte(cutoff)),
                        ),
                    )
                    .add(entry::Column::RetractedAt.gte(cutoff)),
            )
            .all(db)
            .await?;
        self.snapshot.store(Arc::new(Snapshot {
            entries,
            built_at: now,
        }));
        Ok(())
    }
}
