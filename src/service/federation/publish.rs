//! What the feeds publish, told to the fediverse and to WebSub hubs: the
//! live entries of a snapshot are compared with what was last sent
//! (`federated_posts`), and the differences become deliveries: `Create`
//! (and the site actor's `Announce`) for a new entry, `Update` for a
//! changed one, `Delete` for one no longer published (unpublished,
//! withdrawn, expired). Each transition is claimed on its row first, so
//! several instances reconciling the same change send it once.

use std::collections::{BTreeSet, HashMap};

use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set, TransactionTrait,
    sea_query::OnConflict,
};
use serde_json::Value;
use sha2::{Digest as _, Sha256};

use super::queue::{self, Delivery};
use super::{LocalActor, group_actor_id, group_key};
use crate::domain::federation::documents::{self, EventFacts, Note};
use crate::domain::{Attendance, DeliveryKind, EventStatus};
use crate::entities::{federated_post, follower};
use crate::error::AppResult;
use crate::feeds::{Item, Snapshot};
use crate::service::{Services, lookup};

/// The IRI of an entry's note: its public page.
pub fn note_id(services: &Services, entry_id: i64) -> String {
    format!("{}/entries/{entry_id}", services.config.public_base_url())
}

fn event_facts(item: &Item) -> Option<EventFacts<'_>> {
    let occurrence = item.next.as_ref().or(item.occurrences.first())?;
    let fields = &item.fields;
    Some(EventFacts {
        starts_at: occurrence.starts_at,
        ends_at: occurrence.ends_at,
        timezone: fields.timezone.as_deref(),
        place: fields.location_name.as_deref(),
        coordinates: fields.latitude.zip(fields.longitude),
        status: match item.event_status.unwrap_or(EventStatus::Confirmed) {
            EventStatus::Confirmed | EventStatus::Tentative => "EventScheduled",
            EventStatus::Postponed => "EventPostponed",
            EventStatus::Cancelled => "EventCancelled",
        },
        attendance: match item.attendance.unwrap_or(Attendance::InPerson) {
            Attendance::InPerson => "OfflineEventAttendanceMode",
            Attendance::Online => "OnlineEventAttendanceMode",
            Attendance::Hybrid => "MixedEventAttendanceMode",
        },
    })
}

/// A live entry as a `Note` by its group.
pub fn note(services: &Services, item: &Item) -> Value {
    let id = note_id(services, item.id);
    let group = group_actor_id(services, &item.group.slug);
    let followers = format!("{group}/followers");
    let image = (!item.image.is_empty()).then(|| {
        (
            item.image.as_str(),
            item.fields.image_alt.as_deref().unwrap_or(""),
        )
    });
    let updated = (item.changed_at > item.published_at()).then_some(item.changed_at);
    Note {
        id: &id,
        attributed_to: &group,
        followers: &followers,
        title: &item.headline,
        body_html: &item.body_html,
        link: &item.link,
        language: item.fields.language.as_deref(),
        published: item.published_at(),
        updated,
        image,
        event: if item.kind.is_dated() {
            event_facts(item)
        } else {
            None
        },
    }
    .object()
}

/// What an `Update` is sent for: a change of what the note says (not of its `updated` date).
fn object_hash(note: &Value) -> String {
    let mut hashed = note.clone();
    if let Some(object) = hashed.as_object_mut() {
        object.remove("updated");
    }
    hex::encode(&Sha256::digest(hashed.to_string().as_bytes())[..12])
}

/// The inboxes of an actor's followers, a shared inbox once for all the
/// followers on its server.
async fn inboxes(db: &impl ConnectionTrait, actor_keys: &[String]) -> AppResult<BTreeSet<String>> {
    if actor_keys.is_empty() {
        return Ok(BTreeSet::new());
    }
    Ok(follower::Entity::find()
        .filter(follower::Column::Actor.is_in(actor_keys.iter().map(String::as_str)))
        .all(db)
        .await?
        .into_iter()
        .map(|row| row.shared_inbox.unwrap_or(row.inbox))
        .collect())
}

/// One change to send.
enum Change<'a> {
    Create(&'a Item, Value, String),
    Update(&'a Item, Value, String),
    Delete(federated_post::Model),
}

/// Sends what changed in `snapshot` since the last reconciliation; returns
/// how many entries changed.
pub async fn reconcile(services: &Services, snapshot: &Snapshot) -> AppResult<usize> {
    let now = services.now();
    let sent: HashMap<i64, federated_post::Model> = federated_post::Entity::find()
        .all(&services.db)
        .await?
        .into_iter()
        .map(|row| (row.entry_id, row))
        .collect();
    let mut changes = Vec::new();
    let mut live = BTreeSet::new();
    for item in snapshot
        .items
        .iter()
        .filter(|item| item.is_live(now) && !item.group.removed)
    {
        live.insert(item.id);
        let note = note(services, item);
        let hash = object_hash(&note);
        match sent.get(&item.id) {
            None => changes.push(Change::Create(item, note, hash)),
            Some(row) if row.object_hash != hash => changes.push(Change::Update(item, note, hash)),
            Some(_) => {}
        }
    }
    changes.extend(
        sent.into_values()
            .filter(|row| !live.contains(&row.entry_id))
            .map(Change::Delete),
    );
    let mut changed_groups = BTreeSet::new();
    for change in changes {
        if let Some(slug) = apply(services, change, now).await? {
            changed_groups.insert(slug);
        }
    }
    if !changed_groups.is_empty() {
        queue_websub_pings(services, &changed_groups).await?;
        services.deliveries.wake.notify_one();
    }
    Ok(changed_groups.len())
}

/// Claims one change on its row and queues its deliveries, in one
/// transaction; returns the slug of the group whose feed changed, or
/// `None` when another instance claimed it first.
async fn apply(services: &Services, change: Change<'_>, now: i64) -> AppResult<Option<String>> {
    let transaction = services.db.begin().await?;
    let site_followers = if services.config.federation {
        vec![LocalActor::site(services).key]
    } else {
        Vec::new()
    };
    let sending = Sending {
        services,
        db: &transaction,
        site_followers,
        now,
    };
    let outcome = match change {
        Change::Create(item, note, hash) => created(&sending, item, note, hash).await?,
        Change::Update(item, note, hash) => updated(&sending, item, note, hash).await?,
        Change::Delete(row) => {
            let claimed = federated_post::Entity::delete_many()
                .filter(federated_post::Column::EntryId.eq(row.entry_id))
                .exec(&transaction)
                .await?;
            if claimed.rows_affected == 0 {
                return Ok(None);
            }
            deleted_entry(&sending, row.entry_id).await?
        }
    };
    transaction.commit().await?;
    Ok(outcome)
}

/// What every change is sent with.
struct Sending<'a, C> {
    services: &'a Services,
    db: &'a C,
    site_followers: Vec<String>,
    now: i64,
}

/// A new entry: `Create` from its group to the group's followers, and the
/// site actor's `Announce` of it to the site's.
async fn created<C: ConnectionTrait>(
    sending: &Sending<'_, C>,
    item: &Item,
    note: Value,
    hash: String,
) -> AppResult<Option<String>> {
    let Sending {
        services, db, now, ..
    } = *sending;
    let inserted = federated_post::Entity::insert(federated_post::ActiveModel {
        entry_id: Set(item.id),
        object_hash: Set(hash),
        created_at: Set(now),
        updated_at: Set(now),
    })
    .on_conflict(
        OnConflict::column(federated_post::Column::EntryId)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    if inserted == 0 {
        return Ok(None);
    }
    let create = create_activity(services, item, note.clone());
    queue_to(
        db,
        services,
        &group_audience(item),
        group_key(item.group.id),
        &create,
        item.id,
    )
    .await?;
    let site = LocalActor::site(services);
    let announce = documents::activity(
        &format!("{}#announce-{}", site.id, item.id),
        "Announce",
        &site.id,
        &site.followers(),
        note["id"].clone(),
    );
    queue_to(
        db,
        services,
        &sending.site_followers,
        site.key.clone(),
        &announce,
        item.id,
    )
    .await?;
    Ok(Some(item.group.slug.clone()))
}

/// A published change: `Update` from the group to its followers and the site's.
async fn updated<C: ConnectionTrait>(
    sending: &Sending<'_, C>,
    item: &Item,
    note: Value,
    hash: String,
) -> AppResult<Option<String>> {
    let Sending {
        services, db, now, ..
    } = *sending;
    let claimed = federated_post::Entity::update_many()
        .col_expr(federated_post::Column::ObjectHash, hash.clone().into())
        .col_expr(federated_post::Column::UpdatedAt, now.into())
        .filter(federated_post::Column::EntryId.eq(item.id))
        .filter(federated_post::Column::ObjectHash.ne(hash.as_str()))
        .exec(db)
        .await?;
    if claimed.rows_affected == 0 {
        return Ok(None);
    }
    let id = format!("{}#update-{hash}", note["id"].as_str().unwrap_or_default());
    let update = group_activity(services, &item.group.slug, "Update", &id, note);
    let mut audience = group_audience(item);
    audience.extend(sending.site_followers.iter().cloned());
    queue_to(
        db,
        services,
        &audience,
        group_key(item.group.id),
        &update,
        item.id,
    )
    .await?;
    Ok(Some(item.group.slug.clone()))
}

/// An activity of `slug`'s group actor, addressed to the public and its followers.
pub fn group_activity(
    services: &Services,
    slug: &str,
    kind: &str,
    id: &str,
    object: Value,
) -> Value {
    let group = group_actor_id(services, slug);
    documents::activity(id, kind, &group, &format!("{group}/followers"), object)
}

/// The `Create` of a live entry's note by its group (sent, and listed in outboxes).
pub fn create_activity(services: &Services, item: &Item, note: Value) -> Value {
    let id = format!("{}#create", note["id"].as_str().unwrap_or_default());
    group_activity(services, &item.group.slug, "Create", &id, note)
}

/// The follower lists a group's activities go to: its own when it federates.
fn group_audience(item: &Item) -> Vec<String> {
    if item.group.federated {
        vec![group_key(item.group.id)]
    } else {
        Vec::new()
    }
}

/// Queues the `Delete` of an entry's note from its group, to the group's
/// followers and the site's; returns the group's slug.
async fn deleted_entry<C: ConnectionTrait>(
    sending: &Sending<'_, C>,
    entry_id: i64,
) -> AppResult<Option<String>> {
    let Sending {
        services, db, now, ..
    } = *sending;
    let mut audience = sending.site_followers.clone();
    let Some(group) = lookup::group_of_entry(db, entry_id).await? else {
        return Ok(None);
    };
    let (group_id, slug) = (group.id, group.slug);
    if group.federated {
        audience.push(group_key(group_id));
    }
    let id = note_id(services, entry_id);
    let delete = group_activity(
        services,
        &slug,
        "Delete",
        &format!("{id}#delete-{now}"),
        documents::tombstone(&id, now),
    );
    queue_to(
        db,
        services,
        &audience,
        group_key(group_id),
        &delete,
        entry_id,
    )
    .await?;
    Ok(Some(slug))
}

/// Queues `activity`, signed by `actor_key`, once per inbox of the followers of `audience`.
async fn queue_to(
    db: &impl ConnectionTrait,
    services: &Services,
    audience: &[String],
    actor_key: String,
    activity: &Value,
    entry_id: i64,
) -> AppResult<()> {
    let body = activity.to_string();
    for inbox in inboxes(db, audience).await? {
        queue::insert(
            db,
            services,
            Delivery {
                kind: DeliveryKind::ActivityPub,
                target: inbox,
                actor: Some(actor_key.clone()),
                body: body.clone(),
                entry_id: Some(entry_id),
            },
        )
        .await?;
    }
    Ok(())
}

/// Tells each WebSub hub that the site's feeds and those of `groups` changed.
async fn queue_websub_pings(services: &Services, groups: &BTreeSet<String>) -> AppResult<()> {
    if services.config.websub_hubs.is_empty() {
        return Ok(());
    }
    let base = services.config.public_base_url();
    let mut feeds = vec![format!("{base}/feed.rss"), format!("{base}/feed.atom")];
    for slug in groups {
        feeds.push(format!("{base}/groups/{slug}/feed.rss"));
        feeds.push(format!("{base}/groups/{slug}/feed.atom"));
    }
    for hub in &services.config.websub_hubs {
        for feed in &feeds {
            let body = url::form_urlencoded::Serializer::new(String::new())
                .append_pair("hub.mode", "publish")
                .append_pair("hub.url", feed)
                .finish();
            queue::insert(
                &services.db,
                services,
                Delivery {
                    kind: DeliveryKind::WebSub,
                    target: hub.clone(),
                    actor: None,
                    body,
                    entry_id: None,
                },
            )
            .await?;
        }
    }
    Ok(())
}
