//! The snapshot reads what is live, not the archive.

use crate::common::now;
use newsfeed::domain::entry::{EntryFields, LiveRevision};
use newsfeed::domain::{EntryKind, EntryStatus};
use newsfeed::entities::{entry, group, user};
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;

use crate::common::{self, World};
use crate::feeds::support::{NEW_QGIS, pks, publish, qgis};

const ARCHIVED: usize = 100_000;
const BATCH: usize = 500;

/// Inserts `count` archived entries: half expired long ago, half rejected.
pub async fn archive(
    db: &sea_orm::DatabaseConnection,
    group_id: i64,
    author_id: i64,
    count: usize,
) {
    let now = now();
    let expired_at = now - 400 * 86_400;
    let live = serde_json::to_string(&LiveRevision {
        kind: EntryKind::Announcement,
        sticky: false,
        priority: 0,
        fields: EntryFields {
            title: "Old news".into(),
            content: "<p>Old</p>".into(),
            publish_to: Some(expired_at),
            ..EntryFields::default()
        },
    })
    .expect("json");
    for start in (0..count).step_by(BATCH) {
        let rows = (start..(start + BATCH).min(count)).map(|n| {
            let expired = n % 2 == 0;
            entry::ActiveModel {
                group_id: Set(group_id),
                author_id: Set(author_id),
                kind: Set(EntryKind::Announcement),
                status: Set(if expired {
                    EntryStatus::Approved
                } else {
                    EntryStatus::Rejected
                }),
                version: Set(3),
                title: Set(format!("Archived {n}")),
                content: Set("<p>Old</p>".into()),
                url: Set(String::new()),
                image: Set(String::new()),
                language: Set(Some("en".into())),
                sticky: Set(false),
                priority: Set(0),
                publish_to: Set(expired.then_some(expired_at)),
                live_revision: Set(expired.then(|| live.clone())),
                in_feed: Set(expired),
                live_publish_to: Set(expired.then_some(expired_at)),
                live_changed_at: Set(expired.then_some(expired_at - 86_400)),
                created_at: Set(expired_at - 86_400),
                updated_at: Set(expired_at - 86_400),
                ..Default::default()
            }
        });
        entry::Entity::insert_many(rows)
            .exec(db)
            .await
            .expect("insert archive");
    }
}

db_test!(
    archived_entries_stay_out_of_the_snapshot,
    |app: common::TestApp| async move {
        let world = World::new(app).await;
        let app = &world.app;
        let db = &app.state.services.db;
        let group = group::Entity::find()
            .filter(group::Column::Slug.eq("alpha"))
            .one(db)
            .await
            .expect("db")
            .expect("alpha");
        let author = user::Entity::find()
            .one(db)
            .await
            .expect("db")
            .expect("a user");
        archive(db, group.id, author.id, ARCHIVED).await;
        let live = publish(
            &world,
            json!({"title": "Live", "language": "en"}),
            json!({}),
        )
        .await;
        assert_eq!(
            app.state.feeds.snapshot().items.len(),
            1,
            "only the live entry is loaded"
        );
        assert_eq!(pks(&qgis(app, "/?lang=en", NEW_QGIS).await), [live]);
        assert_eq!(pks(&qgis(app, "/?lang=en&after=0", NEW_QGIS).await), [live]);
        let rss = feed_rs::parser::parse(
            crate::feeds::support::fetch(app, "/feed.rss", &[])
                .await
                .text
                .as_bytes(),
        )
        .expect("rss");
        assert_eq!(rss.entries.len(), 1);
    }
);
