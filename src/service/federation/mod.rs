//! The fediverse: every group is an actor people follow from Mastodon and
//! its kin, and the site's own actor relays every group. [`inbox`] takes
//! what other servers send, [`publish`] turns what the feeds publish into
//! activities for followers, [`enqueue`] queues them and [`queue`] keeps
//! them until they are delivered.

pub mod enqueue;
pub mod inbox;
pub mod publish;
pub mod queue;

use std::sync::Arc;

use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};
use serde_json::Value;

use super::{Services, is_unique_violation, lookup};
use crate::domain::GroupStatus;
use crate::domain::federation::documents::{self, Actor};
use crate::domain::federation::signature;
use crate::entities::{actor_key, follower, group};
use crate::error::{AppError, AppResult};
use crate::outbound::client::Signer;

/// The site actor's name in WebFinger (`acct:newsfeed@HOST`) and its path.
pub const SITE_USERNAME: &str = "newsfeed";
const SITE_PATH: &str = "/actor";
const SITE_KEY: &str = "site";

/// One of our actors: the site, or a group.
#[derive(Clone, Debug)]
pub struct LocalActor {
    /// How its key and followers are stored: `site` or `group:<id>`.
    pub key: String,
    /// Its IRI.
    pub id: String,
    pub group: Option<group::Model>,
}

impl LocalActor {
    pub fn site(services: &Services) -> Self {
        Self {
            key: SITE_KEY.into(),
            id: format!("{}{SITE_PATH}", services.config.public_base_url()),
            group: None,
        }
    }

    pub fn of_group(services: &Services, group: group::Model) -> Self {
        Self {
            key: group_key(group.id),
            id: group_actor_id(services, &group.slug),
            group: Some(group),
        }
    }

    pub fn followers(&self) -> String {
        format!("{}/followers", self.id)
    }

    pub fn key_id(&self) -> String {
        format!("{}#main-key", self.id)
    }

    /// Whether it takes followers: the site when `--federation` is on, a
    /// group when its owners turned federation on.
    pub fn federates(&self, services: &Services) -> bool {
        match &self.group {
            None => services.config.federation,
            Some(group) => group.federated && group.status != GroupStatus::Removed,
        }
    }
}

pub fn group_key(group_id: i64) -> String {
    format!("group:{group_id}")
}

pub fn group_actor_id(services: &Services, slug: &str) -> String {
    format!("{}/groups/{slug}", services.config.public_base_url())
}

/// The actor at `/groups/{slug}` (any group that is not removed), or the
/// site's when `slug` is `None`.
pub async fn find_actor(services: &Services, slug: Option<&str>) -> AppResult<LocalActor> {
    match slug {
        None if services.config.federation => Ok(LocalActor::site(services)),
        None => Err(AppError::not_found("actor")),
        Some(slug) => {
            let group = lookup::group_by_slug(&services.db, slug).await?;
            if group.status == GroupStatus::Removed {
                return Err(AppError::not_found("group"));
            }
            Ok(LocalActor::of_group(services, group))
        }
    }
}

/// The actor's key pair, made on first use (two instances making one at
/// once keep the first stored).
async fn key_pair(services: &Services, actor: &LocalActor) -> AppResult<actor_key::Model> {
    let stored = || {
        actor_key::Entity::find()
            .filter(actor_key::Column::Actor.eq(actor.key.as_str()))
            .one(&services.db)
    };
    if let Some(keys) = stored().await? {
        return Ok(keys);
    }
    let (public_pem, private_pem) = tokio::task::spawn_blocking(signature::generate_key)
        .await
        .map_err(|error| AppError::internal("key generation stopped", error))?
        .map_err(|error| AppError::internal("cannot make a key", error))?;
    let inserted = actor_key::Entity::insert(actor_key::ActiveModel {
        actor: Set(actor.key.clone()),
        public_pem: Set(public_pem),
        private_pem: Set(private_pem),
        created_at: Set(services.now()),
        ..Default::default()
    })
    .exec(&services.db)
    .await;
    match inserted {
        Ok(_) => {}
        Err(error) if is_unique_violation(&error) => {}
        Err(error) => return Err(error.into()),
    }
    stored()
        .await?
        .ok_or_else(|| AppError::internal("actor key", "vanished after insert"))
}

/// What signs requests as `actor`.
pub async fn signer(services: &Services, actor: &LocalActor) -> AppResult<Arc<Signer>> {
    let keys = key_pair(services, actor).await?;
    let key = signature::private_key(&keys.private_pem)
        .map_err(|error| AppError::internal("actor key", error))?;
    Ok(Arc::new(Signer {
        key_id: actor.key_id(),
        key,
    }))
}

/// The actor document served at the actor's IRI.
pub async fn actor_document(services: &Services, actor: &LocalActor) -> AppResult<Value> {
    let keys = key_pair(services, actor).await?;
    let base = services.config.public_base_url();
    let site_name = services.config.site_name();
    let (username, name, summary, url) = match &actor.group {
        None => (
            SITE_USERNAME.to_string(),
            site_name.clone(),
            format!("Every group's news and events on {site_name}."),
            format!("{base}/"),
        ),
        Some(group) => (
            group.slug.clone(),
            group.name.clone(),
            format!("News and events of {} on {site_name}.", group.name),
            actor.id.clone(),
        ),
    };
    let shared_inbox = format!("{base}/inbox");
    Ok(Actor {
        id: &actor.id,
        is_site: actor.group.is_none(),
        username: &username,
        name: &name,
        summary: &summary,
        url: &url,
        icon: None,
        public_key_pem: &keys.public_pem,
        shared_inbox: &shared_inbox,
    }
    .document())
}

/// The host (and port, when not the scheme's) handles are written with.
fn handle_host(services: &Services) -> String {
    url::Url::parse(&services.config.public_base_url())
        .ok()
        .map(|url| match (url.host_str(), url.port()) {
            (Some(host), Some(port)) => format!("{host}:{port}"),
            (Some(host), None) => host.to_string(),
            _ => String::new(),
        })
        .unwrap_or_default()
}

/// WebFinger: `acct:{slug}@{host}` (or `acct:newsfeed@{host}`, or an actor's IRI) to its actor.
pub async fn webfinger(services: &Services, resource: &str) -> AppResult<Value> {
    let base = services.config.public_base_url();
    let host = handle_host(services);
    let username = if let Some(account) = resource.strip_prefix("acct:") {
        let (user, at) = account
            .rsplit_once('@')
            .ok_or_else(|| AppError::BadRequest("resource must be acct:NAME@HOST".into()))?;
        if !at.eq_ignore_ascii_case(&host) {
            return Err(AppError::not_found("account on this host"));
        }
        user.trim_start_matches('@').to_string()
    } else if let Some(path) = resource.strip_prefix(base.as_str()) {
        match path {
            SITE_PATH => SITE_USERNAME.to_string(),
            _ => path
                .strip_prefix("/groups/")
                .filter(|slug| !slug.contains('/'))
                .ok_or_else(|| AppError::not_found("actor"))?
                .to_string(),
        }
    } else {
        return Err(AppError::not_found("account on this host"));
    };
    let slug = (username != SITE_USERNAME).then_some(username.as_str());
    let actor = find_actor(services, slug).await?;
    let page = match &actor.group {
        Some(_) => actor.id.clone(),
        None => format!("{base}/"),
    };
    Ok(documents::webfinger(
        &format!("acct:{username}@{host}"),
        &actor.id,
        &page,
    ))
}

/// NodeInfo 2.1: this software, its groups as users, its published entries as posts.
pub async fn nodeinfo(services: &Services, posts: u64) -> AppResult<Value> {
    let groups = group::Entity::find()
        .filter(group::Column::Status.ne(GroupStatus::Removed))
        .count(&services.db)
        .await?;
    Ok(documents::nodeinfo(
        env!("CARGO_PKG_VERSION"),
        &services.config.site_name(),
        groups,
        posts,
    ))
}

/// The followers collection: how many, publicly; who, never.
pub async fn followers_collection(services: &Services, actor: &LocalActor) -> AppResult<Value> {
    let total = follower::Entity::find()
        .filter(follower::Column::Actor.eq(actor.key.as_str()))
        .count(&services.db)
        .await?;
    Ok(documents::collection(&actor.followers(), total, None))
}

/// What admins see of the fediverse: each group's handle and followers,
/// who follows (newest first), and the deliveries that did not go through.
pub struct Overview {
    pub handle_host: String,
    pub site_federates: bool,
    pub site_followers: u64,
    /// `(slug, name, federated, followers)`, by name.
    pub groups: Vec<(String, String, bool, u64)>,
    /// `(followed actor's handle, follower IRI, since)`.
    pub followers: Vec<(String, String, i64)>,
    pub failures: Vec<crate::entities::delivery::Model>,
    pub waiting: u64,
    pub oldest_waiting: Option<i64>,
}

/// Followers listed on the admin page at most.
const OVERVIEW_FOLLOWERS: u64 = 200;
/// Failed deliveries listed at most.
const OVERVIEW_FAILURES: u64 = 100;

pub async fn overview(
    services: &Services,
    principal: &crate::domain::authz::Principal,
) -> AppResult<Overview> {
    use sea_orm::{QueryOrder, QuerySelect};
    principal.require_admin("see the fediverse's followers")?;
    let groups = group::Entity::find()
        .filter(group::Column::Status.ne(GroupStatus::Removed))
        .order_by_asc(group::Column::Name)
        .all(&services.db)
        .await?;
    let counts: std::collections::HashMap<String, i64> = follower::Entity::find()
        .select_only()
        .column(follower::Column::Actor)
        .column_as(follower::Column::Id.count(), "followers")
        .group_by(follower::Column::Actor)
        .into_tuple::<(String, i64)>()
        .all(&services.db)
        .await?
        .into_iter()
        .collect();
    let count_of = |key: &str| {
        counts
            .get(key)
            .map_or(0, |count| u64::try_from(*count).unwrap_or(0))
    };
    let slugs: std::collections::HashMap<String, String> = groups
        .iter()
        .map(|group| (group_key(group.id), group.slug.clone()))
        .collect();
    let host = handle_host(services);
    let followers = follower::Entity::find()
        .order_by_desc(follower::Column::Id)
        .limit(OVERVIEW_FOLLOWERS)
        .all(&services.db)
        .await?
        .into_iter()
        .map(|row| {
            let name = slugs.get(&row.actor).map_or(SITE_USERNAME, String::as_str);
            (format!("@{name}@{host}"), row.remote_actor, row.created_at)
        })
        .collect();
    let (waiting, oldest_waiting) = queue::backlog(services).await?;
    Ok(Overview {
        site_federates: services.config.federation,
        site_followers: count_of(SITE_KEY),
        groups: groups
            .into_iter()
            .map(|group| {
                let followers = count_of(&group_key(group.id));
                (group.slug, group.name, group.federated, followers)
            })
            .collect(),
        followers,
        failures: queue::failures(services, OVERVIEW_FAILURES).await?,
        waiting,
        oldest_waiting,
        handle_host: host,
    })
}
