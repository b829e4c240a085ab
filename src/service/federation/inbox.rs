//! What other servers send to our inboxes. Every request must carry an
//! HTTP signature by a key that belongs to the activity's actor (fetched
//! from its server, signed, within size and time limits, and cached);
//! then a `Follow` is accepted (or rejected where federation is off), an
//! `Undo` of it and the `Delete` of an actor end a follow, and anything
//! else is acknowledged and ignored. Each of these is idempotent, so a
//! replayed request (within the 12 hours its `Date` allows) changes nothing.

use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, Set};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

use super::queue::{self, Delivery};
use super::{LocalActor, SITE_USERNAME, find_actor};
use crate::domain::DeliveryKind;
use crate::domain::federation::documents::{self, ACTIVITY_JSON};
use crate::domain::federation::signature::{self, SignatureHeader};
use crate::domain::limits::{FEDERATION_MAX_BYTES, REMOTE_ACTOR_TTL_SECS};
use crate::entities::{follower, remote_actor};
use crate::error::{AppError, AppResult};
use crate::service::Services;

/// A request to an inbox, as received.
pub struct InboxRequest<'a> {
    pub method: &'a str,
    pub path_and_query: &'a str,
    /// Lower-case header names with their values (repeated headers joined by `, `).
    pub headers: Vec<(String, String)>,
    pub body: &'a [u8],
}

impl InboxRequest<'_> {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(known, _)| known == name)
            .map(|(_, value)| value.as_str())
    }
}

fn refused(reason: impl Into<String>) -> AppError {
    AppError::Unauthorized(reason.into())
}

/// The id of a property that is a link or an object with an `id`.
fn id_of(value: &Value) -> Option<&str> {
    value
        .as_str()
        .or_else(|| value.get("id").and_then(Value::as_str))
}

fn host_of(iri: &str) -> Option<String> {
    let url = url::Url::parse(iri).ok()?;
    Some(format!(
        "{}:{}",
        url.host_str()?,
        url.port_or_known_default()?
    ))
}

/// Takes one request to `owner`'s inbox (or to the shared inbox when `None`).
pub async fn receive(
    services: &Services,
    owner: Option<&LocalActor>,
    request: &InboxRequest<'_>,
) -> AppResult<()> {
    let header = request
        .header("signature")
        .or_else(|| {
            request
                .header("authorization")
                .and_then(|value| value.strip_prefix("Signature "))
        })
        .ok_or_else(|| refused("the request is not signed (HTTP Signature required)"))?;
    let parsed = signature::parse(header).map_err(refused)?;
    signature::check_coverage(&parsed, !request.body.is_empty()).map_err(refused)?;
    if let Some(date) = request.header("date") {
        signature::check_date(date, services.now()).map_err(refused)?;
    } else if parsed.created.is_none() {
        return Err(refused("the request has no Date"));
    }
    let digest = request
        .header("digest")
        .ok_or_else(|| refused("the request has no Digest of its body"))?;
    if !signature::digest_matches(digest, request.body) {
        return Err(refused("the Digest does not match the body"));
    }
    let activity: Value = serde_json::from_slice(request.body)
        .map_err(|_| AppError::BadRequest("the body is not JSON".into()))?;
    let actor = activity
        .get("actor")
        .and_then(id_of)
        .ok_or_else(|| AppError::BadRequest("the activity has no actor".into()))?
        .to_string();
    let kind = activity
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let signer_actor = match owner {
        Some(owner) => owner.clone(),
        None => LocalActor::site(services),
    };
    let key = match verified_sender(services, &signer_actor, request, &parsed, &actor).await {
        Ok(key) => key,
        // A deleted actor's key can no longer be fetched: there is nothing of it to forget.
        Err(AppError::NotFound(_)) if kind == "Delete" => return Ok(()),
        Err(error) => return Err(error),
    };
    match kind {
        "Follow" => follow(services, owner, &activity, &key).await,
        "Undo" => undo(services, owner, &activity, &actor).await,
        "Delete" if activity.get("object").and_then(id_of) == Some(actor.as_str()) => {
            forget_actor(services, &actor).await
        }
        _ => Ok(()),
    }
}

/// The remote actor whose key signed `request`, after checking the
/// signature; the key must belong to `actor`.
async fn verified_sender(
    services: &Services,
    signer: &LocalActor,
    request: &InboxRequest<'_>,
    parsed: &SignatureHeader,
    actor: &str,
) -> AppResult<remote_actor::Model> {
    let text = signature::signing_string(
        &parsed.headers,
        request.method,
        request.path_and_query,
        parsed.created,
        parsed.expires,
        |name| request.header(name),
    )
    .map_err(refused)?;
    let cached = remote_actor::Entity::find()
        .filter(remote_actor::Column::KeyId.eq(parsed.key_id.as_str()))
        .one(&services.db)
        .await?;
    let fresh = cached
        .as_ref()
        .is_some_and(|known| services.now() - known.fetched_at < REMOTE_ACTOR_TTL_SECS);
    let verifies = |known: &remote_actor::Model| {
        signature::public_key(&known.public_key_pem)
            .is_ok_and(|key| signature::verify(&key, &text, &parsed.signature))
    };
    let known = match cached {
        // A key that no longer verifies may have been rotated: fetched again below.
        Some(known) if fresh && verifies(&known) => known,
        _ => fetch_key_owner(services, signer, &parsed.key_id).await?,
    };
    if known.iri != actor {
        return Err(refused(
            "the signing key does not belong to the activity's actor",
        ));
    }
    if !verifies(&known) {
        return Err(refused("the signature does not verify"));
    }
    Ok(known)
}

/// Fetches the actor `key_id` belongs to (its key may be a fragment of the
/// actor's document, or a document naming its owner), and caches it.
async fn fetch_key_owner(
    services: &Services,
    signer: &LocalActor,
    key_id: &str,
) -> AppResult<remote_actor::Model> {
    let signer = super::signer(services, signer).await?;
    let fetch = |url: String| {
        let signer = signer.clone();
        async move {
            services
                .outbound
                .get_json(&url, ACTIVITY_JSON, Some(&signer), FEDERATION_MAX_BYTES)
                .await
                .map_err(|failure| match failure.status {
                    Some(404 | 410) => AppError::not_found("signing actor"),
                    _ => refused(format!("the signing key could not be fetched: {failure}")),
                })
                .map(|document| (url, document))
        }
    };
    let key_document = key_id.split('#').next().unwrap_or(key_id).to_string();
    let (fetched_from, mut document) = fetch(key_document).await?;
    if document.get("publicKey").is_none() {
        let owner = document
            .get("owner")
            .and_then(Value::as_str)
            .ok_or_else(|| refused("the key names no owner"))?
            .to_string();
        (_, document) = fetch(owner).await?;
    }
    let iri = document
        .get("id")
        .and_then(Value::as_str)
        .ok_or_else(|| refused("the actor has no id"))?
        .to_string();
    // An actor is only believed from its own server, and so is its key.
    if host_of(&iri) != host_of(&fetched_from) || host_of(&iri) != host_of(key_id) {
        return Err(refused("the key, the actor and their server do not match"));
    }
    let keys = match &document["publicKey"] {
        Value::Array(keys) => keys.clone(),
        key => vec![key.clone()],
    };
    let pem = keys
        .iter()
        .find(|key| key.get("id").and_then(Value::as_str) == Some(key_id))
        .and_then(|key| key.get("publicKeyPem").and_then(Value::as_str))
        .ok_or_else(|| refused("the actor does not list the signing key"))?
        .to_string();
    let inbox = document
        .get("inbox")
        .and_then(Value::as_str)
        .ok_or_else(|| refused("the actor has no inbox"))?
        .to_string();
    let shared_inbox = document
        .get("endpoints")
        .and_then(|endpoints| endpoints.get("sharedInbox"))
        .and_then(Value::as_str)
        .map(str::to_string);
    let row = remote_actor::ActiveModel {
        iri: Set(iri.clone()),
        key_id: Set(key_id.to_string()),
        public_key_pem: Set(pem),
        inbox: Set(inbox),
        shared_inbox: Set(shared_inbox),
        fetched_at: Set(services.now()),
        ..Default::default()
    };
    remote_actor::Entity::insert(row)
        .on_conflict(
            OnConflict::column(remote_actor::Column::Iri)
                .update_columns([
                    remote_actor::Column::KeyId,
                    remote_actor::Column::PublicKeyPem,
                    remote_actor::Column::Inbox,
                    remote_actor::Column::SharedInbox,
                    remote_actor::Column::FetchedAt,
                ])
                .to_owned(),
        )
        .exec_without_returning(&services.db)
        .await?;
    remote_actor::Entity::find()
        .filter(remote_actor::Column::Iri.eq(iri.as_str()))
        .one(&services.db)
        .await?
        .ok_or_else(|| AppError::internal("remote actor", "vanished after upsert"))
}

/// Our actor an activity's `object` names (the site's or a group's).
async fn local_target(services: &Services, object: Option<&str>) -> AppResult<LocalActor> {
    let base = services.config.public_base_url();
    let path = object
        .and_then(|iri| iri.strip_prefix(base.as_str()))
        .ok_or_else(|| AppError::not_found("actor to follow on this server"))?;
    if path == "/actor" {
        return find_actor(services, None).await;
    }
    let slug = path
        .strip_prefix("/groups/")
        .filter(|slug| !slug.is_empty() && !slug.contains('/'))
        .ok_or_else(|| AppError::not_found("actor to follow on this server"))?;
    if slug == SITE_USERNAME {
        return find_actor(services, None).await;
    }
    find_actor(services, Some(slug)).await
}

/// A follow: recorded and accepted, or rejected where federation is off.
async fn follow(
    services: &Services,
    owner: Option<&LocalActor>,
    activity: &Value,
    remote: &remote_actor::Model,
) -> AppResult<()> {
    let target = local_target(services, activity.get("object").and_then(id_of)).await?;
    if owner.is_some_and(|owner| owner.id != target.id) {
        return Err(AppError::BadRequest(
            "the Follow is for another actor than this inbox's".into(),
        ));
    }
    let follow = json!({
        "id": activity.get("id").cloned().unwrap_or(Value::Null),
        "type": "Follow",
        "actor": remote.iri,
        "object": target.id,
    });
    let answer = if target.federates(services) {
        follower::Entity::insert(follower::ActiveModel {
            actor: Set(target.key.clone()),
            remote_actor: Set(remote.iri.clone()),
            inbox: Set(remote.inbox.clone()),
            shared_inbox: Set(remote.shared_inbox.clone()),
            created_at: Set(services.now()),
            ..Default::default()
        })
        .on_conflict(
            OnConflict::columns([follower::Column::Actor, follower::Column::RemoteActor])
                .update_columns([follower::Column::Inbox, follower::Column::SharedInbox])
                .to_owned(),
        )
        .exec_without_returning(&services.db)
        .await?;
        "Accept"
    } else {
        "Reject"
    };
    let digest = Sha256::digest(follow.to_string().as_bytes());
    let id = format!(
        "{}#{}-{}",
        target.id,
        answer.to_ascii_lowercase(),
        hex::encode(&digest[..8])
    );
    let reply = documents::answer(answer, &id, &target.id, &remote.iri, follow);
    queue::insert(
        &services.db,
        services,
        Delivery {
            kind: DeliveryKind::ActivityPub,
            target: remote.inbox.clone(),
            actor: Some(target.key),
            body: reply.to_string(),
            entry_id: None,
        },
    )
    .await?;
    services.deliveries.wake.notify_one();
    Ok(())
}

/// `Undo` of a follow: the follower is removed (of the actor the follow
/// named, or of this inbox's actor when the follow is only referenced).
async fn undo(
    services: &Services,
    owner: Option<&LocalActor>,
    activity: &Value,
    actor: &str,
) -> AppResult<()> {
    let undone = activity.get("object").unwrap_or(&Value::Null);
    let target = match undone.get("type").and_then(Value::as_str) {
        Some("Follow") => Some(local_target(services, undone.get("object").and_then(id_of)).await?),
        Some(_) => return Ok(()),
        None => owner.cloned(),
    };
    let Some(target) = target else {
        return Ok(());
    };
    follower::Entity::delete_many()
        .filter(follower::Column::Actor.eq(target.key.as_str()))
        .filter(follower::Column::RemoteActor.eq(actor))
        .exec(&services.db)
        .await?;
    Ok(())
}

/// An actor deleted on its server: it follows nothing here any more.
async fn forget_actor(services: &Services, actor: &str) -> AppResult<()> {
    follower::Entity::delete_many()
        .filter(follower::Column::RemoteActor.eq(actor))
        .exec(&services.db)
        .await?;
    remote_actor::Entity::delete_many()
        .filter(remote_actor::Column::Iri.eq(actor))
        .exec(&services.db)
        .await?;
    Ok(())
}
