//! What the feeds publish, posted to the connected accounts: an entry that
//! goes live is posted once per account (site-wide ones and its group's;
//! what was live when an account was connected is skipped), and deleted where it was posted when
//! it is no longer published (unpublished, withdrawn, expired). Each post
//! is claimed on its row first, so several instances send it once; the
//! sending goes through the delivery queue.

use std::collections::{HashMap, HashSet};

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set,
    TransactionTrait, sea_query::OnConflict,
};
use serde::{Deserialize, Serialize};

use super::{PostFacts, open_credentials, post_facts, text_for};
use crate::domain::{DeliveryKind, DeliveryStatus, PostStatus};
use crate::entities::{delivery, syndication_account as account, syndication_post as post};
use crate::error::AppResult;
use crate::feeds::{Item, Snapshot};
use crate::outbound::syndication::{Action, Job, Picture, Post, Posted};
use crate::service::Services;
use crate::service::federation::enqueue::{self, Delivery};

/// A queued delivery's body: which post, and what to do.
#[derive(Serialize, Deserialize)]
struct Queued {
    post: i64,
    #[serde(flatten)]
    action: QueuedAction,
}

#[derive(Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
enum QueuedAction {
    /// The link card and picture go with the text stored on the post.
    Create {
        link: String,
        title: String,
        description: String,
        image: String,
        image_alt: String,
        language: Option<String>,
        created_at: String,
    },
    Delete,
}

/// Posts what went live since the last reconciliation and deletes what
/// stopped being published; returns how many deliveries it queued.
pub async fn reconcile(services: &Services, snapshot: &Snapshot) -> AppResult<usize> {
    let accounts = account::Entity::find().all(&services.db).await?;
    let now = services.now();
    let live: Vec<&Item> = snapshot
        .items
        .iter()
        .filter(|item| item.is_live(now) && !item.group.removed)
        .collect();
    let live_ids: HashSet<i64> = live.iter().map(|item| item.id).collect();
    let open = post::Entity::find()
        .filter(post::Column::Status.is_in([
            PostStatus::Pending,
            PostStatus::Posted,
            PostStatus::Failed,
        ]))
        .all(&services.db)
        .await?;
    let mut queued = 0;
    if !accounts.is_empty() && !live.is_empty() {
        let known: HashMap<(i64, i64), post::Model> = post::Entity::find()
            .filter(post::Column::EntryId.is_in(live_ids.iter().copied()))
            .all(&services.db)
            .await?
            .into_iter()
            .map(|row| ((row.account_id, row.entry_id), row))
            .collect();
        for item in &live {
            for account in accounts
                .iter()
                .filter(|account| account.group_id.is_none_or(|group| group == item.group.id))
            {
                let previous = known.get(&(account.id, item.id));
                if previous.is_none_or(|row| {
                    matches!(row.status, PostStatus::Deleted | PostStatus::Cancelled)
                }) && create(services, account, item, previous).await?
                {
                    queued += 1;
                }
            }
        }
    }
    for row in open
        .into_iter()
        .filter(|row| !live_ids.contains(&row.entry_id))
    {
        if withdraw(services, &row).await? {
            queued += 1;
        }
    }
    if queued > 0 {
        services.deliveries.wake.notify_one();
    }
    Ok(queued)
}

/// Claims the post of `item` on `account` (a new row, or one whose earlier
/// post was deleted) and queues it, in one transaction.
async fn create(
    services: &Services,
    account: &account::Model,
    item: &Item,
    previous: Option<&post::Model>,
) -> AppResult<bool> {
    let now = services.now();
    let fields = &item.fields;
    let facts = post_facts(services, item.id, item.kind, fields);
    let chosen = super::chosen_texts(services, item.id).await?;
    let text = text_for(
        account.network,
        &facts,
        chosen.get(account.network.as_str()).map(String::as_str),
        !item.image.is_empty(),
    );
    let transaction = services.db.begin().await?;
    let post_id = match previous {
        None => {
            let inserted = post::Entity::insert(post::ActiveModel {
                account_id: Set(account.id),
                entry_id: Set(item.id),
                text: Set(text),
                status: Set(PostStatus::Pending),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            })
            .on_conflict(
                OnConflict::columns([post::Column::AccountId, post::Column::EntryId])
                    .do_nothing()
                    .to_owned(),
            )
            .exec_without_returning(&transaction)
            .await?;
            if inserted == 0 {
                return Ok(false);
            }
            post::Entity::find()
                .filter(post::Column::AccountId.eq(account.id))
                .filter(post::Column::EntryId.eq(item.id))
                .one(&transaction)
                .await?
                .map(|row| row.id)
        }
        Some(row) => {
            let claimed = post::Entity::update_many()
                .col_expr(post::Column::Status, PostStatus::Pending.into())
                .col_expr(post::Column::Text, text.into())
                .col_expr(post::Column::RemoteId, Option::<String>::None.into())
                .col_expr(post::Column::Url, Option::<String>::None.into())
                .col_expr(post::Column::LastError, Option::<String>::None.into())
                .col_expr(post::Column::UpdatedAt, now.into())
                .filter(post::Column::Id.eq(row.id))
                .filter(post::Column::Status.eq(row.status))
                .exec(&transaction)
                .await?;
            (claimed.rows_affected == 1).then_some(row.id)
        }
    };
    let Some(post_id) = post_id else {
        return Ok(false);
    };
    let PostFacts {
        title,
        summary: description,
        link,
        ..
    } = facts;
    let action = QueuedAction::Create {
        link,
        title,
        description,
        image: item.image.clone(),
        image_alt: fields.image_alt.clone().unwrap_or_default(),
        language: fields.language.clone(),
        created_at: chrono::DateTime::from_timestamp(now, 0)
            .unwrap_or_default()
            .to_rfc3339(),
    };
    enqueue(services, &transaction, account, item.id, post_id, action).await?;
    transaction.commit().await?;
    Ok(true)
}

/// Queues `action` for post `post_id`, and records the delivery on the post.
async fn enqueue(
    services: &Services,
    db: &impl ConnectionTrait,
    account: &account::Model,
    entry_id: i64,
    post_id: i64,
    action: QueuedAction,
) -> AppResult<()> {
    let body = serde_json::to_string(&Queued {
        post: post_id,
        action,
    })
    .map_err(|error| crate::error::AppError::internal("queued post", error))?;
    let delivery_id = enqueue::insert(
        db,
        services,
        Delivery {
            kind: DeliveryKind::Syndication,
            target: account.server.clone(),
            actor: None,
            body,
            entry_id: Some(entry_id),
        },
    )
    .await?;
    post::Entity::update_many()
        .col_expr(post::Column::DeliveryId, Some(delivery_id).into())
        .filter(post::Column::Id.eq(post_id))
        .exec(db)
        .await?;
    Ok(())
}

/// An entry no longer published: its post is deleted where it was made,
/// and not made where it was not yet. Claimed on the row's status.
async fn withdraw(services: &Services, row: &post::Model) -> AppResult<bool> {
    let posted = row.status == PostStatus::Posted;
    let next = if posted {
        PostStatus::Deleting
    } else {
        PostStatus::Cancelled
    };
    let transaction = services.db.begin().await?;
    let claimed = post::Entity::update_many()
        .col_expr(post::Column::Status, next.into())
        .col_expr(post::Column::UpdatedAt, services.now().into())
        .filter(post::Column::Id.eq(row.id))
        .filter(post::Column::Status.eq(row.status))
        .exec(&transaction)
        .await?;
    if claimed.rows_affected == 0 || !posted {
        transaction.commit().await?;
        return Ok(false);
    }
    let Some(account) = account::Entity::find_by_id(row.account_id)
        .one(&transaction)
        .await?
    else {
        transaction.commit().await?;
        return Ok(false);
    };
    enqueue(
        services,
        &transaction,
        &account,
        row.entry_id,
        row.id,
        QueuedAction::Delete,
    )
    .await?;
    transaction.commit().await?;
    Ok(true)
}

/// The post and what to do, of a syndication delivery (`None`: unreadable).
fn queued_of(found: &delivery::Model) -> Option<Queued> {
    serde_json::from_str(&found.body).ok()
}

/// What a syndication delivery was for, and its post as it is now.
async fn queued_post(
    services: &Services,
    found: &delivery::Model,
) -> AppResult<Option<(Queued, post::Model)>> {
    let Some(queued) = queued_of(found) else {
        return Ok(None);
    };
    let row = post::Entity::find_by_id(queued.post)
        .one(&services.db)
        .await?;
    Ok(row.map(|row| (queued, row)))
}

/// The picture of an entry when it is one we stored (remote ones are not fetched).
async fn picture(services: &Services, image: &str, alt: String) -> AppResult<Option<Picture>> {
    let base = services.config.public_base_url();
    let path = image.strip_prefix(base.as_str()).unwrap_or(image);
    let Some(hash) = crate::domain::media::hash_of(path) else {
        return Ok(None);
    };
    let bytes = services
        .media
        .read(hash)
        .await
        .map_err(|error| crate::error::AppError::internal("reading a picture", error))?;
    Ok(bytes.map(|bytes| Picture { bytes, alt }))
}

/// What the worker sends for a claimed syndication delivery: `None` when
/// there is nothing to send any more (the post was cancelled or its
/// account removed, or the credentials cannot be read: the post says so).
pub async fn job(services: &Services, found: &delivery::Model) -> AppResult<Option<Job>> {
    let Some(queued) = queued_of(found) else {
        return Ok(None);
    };
    let Some(row) = post::Entity::find_by_id(queued.post)
        .one(&services.db)
        .await?
    else {
        return Ok(None);
    };
    let expected = match queued.action {
        QueuedAction::Create { .. } => PostStatus::Pending,
        QueuedAction::Delete => PostStatus::Deleting,
    };
    let Some(account) = account::Entity::find_by_id(row.account_id)
        .one(&services.db)
        .await?
    else {
        return Ok(None);
    };
    if row.status != expected {
        return Ok(None);
    }
    let credentials = match open_credentials(services, &account) {
        Ok(credentials) => credentials,
        Err(error) => {
            record(
                services,
                row,
                PostStatus::Failed,
                None,
                Some(error.to_string()),
            )
            .await?;
            return Ok(None);
        }
    };
    let action = match queued.action {
        QueuedAction::Create {
            link,
            title,
            description,
            image,
            image_alt,
            language,
            created_at,
        } => Action::Create(Box::new(Post {
            text: row.text.clone(),
            link,
            title,
            description,
            language,
            picture: picture(services, &image, image_alt).await?,
            idempotency_key: format!("newsfeed-post-{}-{}", row.id, found.id),
            created_at,
        })),
        QueuedAction::Delete => Action::Delete {
            remote_id: row.remote_id.clone().unwrap_or_default(),
        },
    };
    Ok(Some(Job {
        server: account.server,
        credentials,
        action,
    }))
}

/// Stores what became of a post.
async fn record(
    services: &Services,
    row: post::Model,
    status: PostStatus,
    posted: Option<Posted>,
    error: Option<String>,
) -> AppResult<()> {
    let mut active: post::ActiveModel = row.into();
    active.status = Set(status);
    if let Some(posted) = posted {
        active.remote_id = Set(Some(posted.remote_id));
        active.url = Set(posted.url);
    }
    active.last_error = Set(error);
    active.updated_at = Set(services.now());
    active.update(&services.db).await?;
    Ok(())
}

/// A syndication delivery went through: the post is made (or deleted). A
/// post whose entry went while it was being made is deleted at once.
pub async fn sent(
    services: &Services,
    found: &delivery::Model,
    posted: Option<Posted>,
) -> AppResult<()> {
    let Some((queued, row)) = queued_post(services, found).await? else {
        return Ok(());
    };
    match (queued.action, posted) {
        // Nothing was sent (see `job`): the post stays as it is.
        (QueuedAction::Create { .. }, None) => Ok(()),
        (QueuedAction::Delete, _) if row.status != PostStatus::Deleting => Ok(()),
        (QueuedAction::Delete, _) => record(services, row, PostStatus::Deleted, None, None).await,
        (QueuedAction::Create { .. }, posted) if row.status == PostStatus::Cancelled => {
            let id = row.id;
            record(services, row, PostStatus::Posted, posted, None).await?;
            if let Some(row) = post::Entity::find_by_id(id).one(&services.db).await? {
                withdraw(services, &row).await?;
            }
            Ok(())
        }
        (QueuedAction::Create { .. }, posted) => {
            let id = row.id;
            record(services, row, PostStatus::Posted, posted, None).await?;
            tracing::info!(post = id, "cross-posted");
            Ok(())
        }
    }
}

/// A syndication delivery failed: the post shows the error, and is failed
/// once the queue gives up.
pub async fn not_sent(
    services: &Services,
    found: &delivery::Model,
    outcome: DeliveryStatus,
    error: &str,
) -> AppResult<()> {
    let Some((_, row)) = queued_post(services, found).await? else {
        return Ok(());
    };
    let status = match outcome {
        DeliveryStatus::Failed | DeliveryStatus::Dropped => PostStatus::Failed,
        DeliveryStatus::Pending | DeliveryStatus::Done => row.status,
    };
    record(services, row, status, None, Some(error.to_string())).await
}
