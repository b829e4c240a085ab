//! Cross-posting to Mastodon, Bluesky and Telegram: the accounts admins
//! (site-wide, or any group's) and group owners (their group's) connect,
//! with their credentials sealed at rest and never shown again; the text
//! each network gets for an entry, which moderators may choose; the post
//! each became. [`publish`] turns what the feeds publish into posts.

pub mod publish;

pub use publish::{job, not_sent, sent};

use std::collections::HashMap;

use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set, TransactionTrait, sea_query::OnConflict,
};

use super::{Services, entries, groups};
use crate::domain::authz::Principal;
use crate::domain::entry::EntryFields;
use crate::domain::secret_box::SecretBox;
use crate::domain::syndication::{self, Credentials, GivenCredentials, Message};
use crate::domain::{EntryKind, FieldError, Network, PostStatus};
use crate::entities::{entry, syndication_text as custom};
use crate::entities::{group, syndication_account as account, syndication_post as post};
use crate::error::{AppError, AppResult};

/// An account to connect.
pub struct NewAccount {
    pub network: Network,
    /// The group's slug; `None`: site-wide.
    pub group: Option<String>,
    pub server: Option<String>,
    pub credentials: GivenCredentials,
}

/// An account as shown: never its credentials.
pub struct AccountView {
    pub account: account::Model,
    pub group_slug: Option<String>,
}

/// The box credentials are sealed in, when the service has a secret.
fn secret_box(services: &Services) -> AppResult<SecretBox> {
    services
        .config
        .sealing_secret()
        .map(SecretBox::new)
        .ok_or_else(|| {
            AppError::Conflict(
                "credentials cannot be stored without --secret-key or --jwt-secret".into(),
            )
        })
}

/// What sealed credentials are bound to: their network.
fn sealing_context(network: Network) -> Vec<u8> {
    format!("syndication:{network}").into_bytes()
}

/// The credentials of `account`, opened.
pub fn open_credentials(services: &Services, account: &account::Model) -> AppResult<Credentials> {
    let opened = secret_box(services)?
        .open(&account.credentials, &sealing_context(account.network))
        .and_then(|plain| serde_json::from_slice::<Credentials>(&plain).ok())
        .filter(|credentials| credentials.network() == account.network);
    opened.ok_or_else(|| {
        AppError::Conflict(
            "the stored credentials cannot be read (the secret changed?): connect the account again"
                .into(),
        )
    })
}

/// The group an account may be connected to by `principal`: site-wide for
/// admins, a group for its owners and admins.
async fn account_group(
    services: &Services,
    principal: &Principal,
    slug: Option<&str>,
) -> AppResult<Option<group::Model>> {
    match slug {
        None => {
            principal.require_admin("connect or remove site-wide accounts")?;
            Ok(None)
        }
        Some(slug) => Ok(Some(
            groups::managed_group(services, principal, slug).await?,
        )),
    }
}

/// Connects an account; its credentials are sealed and never shown again.
pub async fn connect(
    services: &Services,
    principal: &Principal,
    new: NewAccount,
) -> AppResult<AccountView> {
    let group = account_group(services, principal, new.group.as_deref()).await?;
    let allow_http = services.config.federation_allow_private;
    let server = syndication::server(new.network, new.server.as_deref(), allow_http);
    let credentials = syndication::credentials(new.network, new.credentials);
    let (server, credentials) = match (server, credentials) {
        (Ok(server), Ok(credentials)) => (server, credentials),
        (server, credentials) => {
            let mut errors: Vec<FieldError> = server.err().into_iter().collect();
            errors.extend(credentials.err().unwrap_or_default());
            return Err(AppError::Validation(errors));
        }
    };
    let plain = serde_json::to_vec(&credentials)
        .map_err(|error| AppError::internal("credentials", error))?;
    let sealed = secret_box(services)?.seal(&plain, &sealing_context(new.network));
    let transaction = services.db.begin().await?;
    let created = account::ActiveModel {
        network: Set(new.network),
        group_id: Set(group.as_ref().map(|group| group.id)),
        server: Set(server),
        credentials: Set(sealed),
        created_by: Set(principal.attributed_user_id()),
        created_at: Set(services.now()),
        ..Default::default()
    }
    .insert(&transaction)
    .await?;
    skip_live_entries(services, &transaction, &created).await?;
    transaction.commit().await?;
    tracing::info!(account = created.id, network = %created.network, "cross-posting account connected");
    Ok(AccountView {
        account: created,
        group_slug: group.map(|group| group.slug),
    })
}

/// Marks what is published now as not for a new account: it gets what
/// goes live from now on, not the backlog.
async fn skip_live_entries(
    services: &Services,
    db: &impl ConnectionTrait,
    account: &account::Model,
) -> AppResult<()> {
    let mut live = entry::Entity::find()
        .select_only()
        .column(entry::Column::Id)
        .filter(entry::Column::InFeed.eq(true));
    if let Some(group_id) = account.group_id {
        live = live.filter(entry::Column::GroupId.eq(group_id));
    }
    let ids: Vec<i64> = live.into_tuple().all(db).await?;
    if ids.is_empty() {
        return Ok(());
    }
    let now = services.now();
    post::Entity::insert_many(ids.into_iter().map(|entry_id| post::ActiveModel {
        account_id: Set(account.id),
        entry_id: Set(entry_id),
        text: Set(String::new()),
        status: Set(PostStatus::Skipped),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }))
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// The accounts `principal` manages (admins: all), of one group if `slug` is given.
pub async fn list(
    services: &Services,
    principal: &Principal,
    slug: Option<&str>,
) -> AppResult<Vec<AccountView>> {
    let mut query = account::Entity::find().order_by_asc(account::Column::Id);
    if let Some(slug) = slug {
        let group = groups::managed_group(services, principal, slug).await?;
        query = query.filter(account::Column::GroupId.eq(group.id));
    } else if !principal.is_admin() {
        let managed: Vec<i64> = principal
            .own_group_ids()
            .into_iter()
            .filter(|id| principal.can_manage_group(*id))
            .collect();
        if managed.is_empty() {
            return Err(AppError::Forbidden(
                "only admins and group owners see cross-posting accounts".into(),
            ));
        }
        query = query.filter(account::Column::GroupId.is_in(managed));
    }
    views(services, query.all(&services.db).await?).await
}

/// Accounts with their groups' slugs.
async fn views(services: &Services, accounts: Vec<account::Model>) -> AppResult<Vec<AccountView>> {
    let ids: Vec<i64> = accounts.iter().filter_map(|row| row.group_id).collect();
    let slugs: HashMap<i64, String> = group::Entity::find()
        .filter(group::Column::Id.is_in(ids))
        .all(&services.db)
        .await?
        .into_iter()
        .map(|group| (group.id, group.slug))
        .collect();
    Ok(accounts
        .into_iter()
        .map(|account| AccountView {
            group_slug: account.group_id.and_then(|id| slugs.get(&id).cloned()),
            account,
        })
        .collect())
}

/// Removes an account (its posts stay on the network; what was queued for it is dropped).
pub async fn disconnect(services: &Services, principal: &Principal, id: i64) -> AppResult<()> {
    let found = account::Entity::find_by_id(id)
        .one(&services.db)
        .await?
        .ok_or_else(|| AppError::not_found("account"))?;
    let allowed = match found.group_id {
        None => principal.is_admin(),
        Some(group_id) => principal.can_manage_group(group_id),
    };
    if !allowed {
        return Err(AppError::not_found("account"));
    }
    account::Entity::delete_by_id(id).exec(&services.db).await?;
    tracing::info!(account = id, "cross-posting account removed");
    Ok(())
}

/// What a post is made of.
pub struct PostFacts {
    pub title: String,
    /// When and where, for events (else empty).
    pub when_where: String,
    /// The entry's text, plain.
    pub summary: String,
    /// The entry's public page.
    pub link: String,
}

/// What a post of entry `entry_id` is made of, from its fields.
pub fn post_facts(
    services: &Services,
    entry_id: i64,
    kind: EntryKind,
    fields: &EntryFields,
) -> PostFacts {
    let when = fields
        .starts_at
        .filter(|_| kind.is_dated())
        .and_then(|start| chrono::DateTime::from_timestamp(start, 0))
        .map(|start| {
            match fields
                .timezone
                .as_deref()
                .and_then(|zone| zone.parse::<chrono_tz::Tz>().ok())
            {
                Some(zone) => start
                    .with_timezone(&zone)
                    .format("%a %-d %b %Y, %H:%M (%Z)")
                    .to_string(),
                None => start.format("%a %-d %b %Y, %H:%M UTC").to_string(),
            }
        });
    let when_where = when
        .into_iter()
        .chain(
            fields
                .location_name
                .clone()
                .filter(|place| !place.is_empty()),
        )
        .collect::<Vec<_>>()
        .join(" · ");
    let link = format!("{}/entries/{entry_id}", services.config.public_base_url());
    PostFacts {
        title: fields.title.clone(),
        when_where,
        summary: crate::domain::sanitize::plain_text(&fields.content),
        link,
    }
}

/// The text `network` gets for an entry: the moderator's, or the entry fitted to its limit.
pub fn text_for(
    network: Network,
    facts: &PostFacts,
    chosen: Option<&str>,
    with_photo: bool,
) -> String {
    if let Some(chosen) = chosen {
        return chosen.to_string();
    }
    let message = Message {
        title: &facts.title,
        when_where: &facts.when_where,
        summary: &facts.summary,
        link: &facts.link,
    };
    syndication::fit(network, &message, with_photo)
}

/// One account's post of an entry: made, or what it will say.
pub struct PlannedPost {
    pub account: AccountView,
    pub post: Option<post::Model>,
    pub text: String,
    /// Whether a moderator chose the text.
    pub chosen: bool,
}

/// The texts moderators chose for an entry, by network.
async fn chosen_texts(services: &Services, entry_id: i64) -> AppResult<HashMap<String, String>> {
    Ok(custom::Entity::find()
        .filter(custom::Column::EntryId.eq(entry_id))
        .all(&services.db)
        .await?
        .into_iter()
        .map(|row| (row.network, row.text))
        .collect())
}

/// The accounts an entry of `group_id` goes to: site-wide ones and its group's.
async fn accounts_of_group(services: &Services, group_id: i64) -> AppResult<Vec<account::Model>> {
    Ok(account::Entity::find()
        .filter(
            Condition::any()
                .add(account::Column::GroupId.is_null())
                .add(account::Column::GroupId.eq(group_id)),
        )
        .order_by_asc(account::Column::Id)
        .all(&services.db)
        .await?)
}

/// Each account's post of entry `id` (for whoever may see the entry).
pub async fn entry_posts(
    services: &Services,
    principal: &Principal,
    id: i64,
) -> AppResult<Vec<PlannedPost>> {
    let entry = entries::get(services, principal, id).await?.entry;
    let accounts = views(services, accounts_of_group(services, entry.group_id).await?).await?;
    let mut posts: HashMap<i64, post::Model> = post::Entity::find()
        .filter(post::Column::EntryId.eq(id))
        .all(&services.db)
        .await?
        .into_iter()
        .map(|row| (row.account_id, row))
        .collect();
    let chosen = chosen_texts(services, id).await?;
    let fields = entries::fields_of(&entry);
    let facts = post_facts(services, id, entry.kind, &fields);
    Ok(accounts
        .into_iter()
        .map(|view| {
            let network = view.account.network;
            let chosen_text = chosen.get(network.as_str()).map(String::as_str);
            let post = posts.remove(&view.account.id);
            let text = match &post {
                Some(made) if made.status != PostStatus::Skipped => made.text.clone(),
                _ => text_for(network, &facts, chosen_text, !fields.image.is_empty()),
            };
            PlannedPost {
                account: view,
                post,
                text,
                chosen: chosen_text.is_some(),
            }
        })
        .collect())
}

/// Sets (or with an empty `text` clears) the text `network` gets for entry
/// `id` (moderators), checked against the network's limit; posts already
/// made keep theirs.
pub async fn choose_text(
    services: &Services,
    principal: &Principal,
    id: i64,
    network: Network,
    text: &str,
) -> AppResult<Vec<PlannedPost>> {
    if !principal.is_moderator() {
        return Err(AppError::Forbidden(
            "only moderators choose what the networks get".into(),
        ));
    }
    let entry: entry::Model = entries::get(services, principal, id).await?.entry;
    let text = text.trim();
    if text.is_empty() {
        custom::Entity::delete_many()
            .filter(custom::Column::EntryId.eq(id))
            .filter(custom::Column::Network.eq(network.as_str()))
            .exec(&services.db)
            .await?;
    } else {
        syndication::check(network, text, !entry.image.is_empty())
            .map_err(|error| AppError::Validation(vec![error]))?;
        custom::Entity::insert(custom::ActiveModel {
            entry_id: Set(id),
            network: Set(network.as_str().to_string()),
            text: Set(text.to_string()),
        })
        .on_conflict(
            OnConflict::columns([custom::Column::EntryId, custom::Column::Network])
                .update_column(custom::Column::Text)
                .to_owned(),
        )
        .exec_without_returning(&services.db)
        .await?;
    }
    entry_posts(services, principal, id).await
}

/// Sends a failed post (or its deletion) again: the entry's group and moderators.
pub async fn retry(
    services: &Services,
    principal: &Principal,
    entry_id: i64,
    post_id: i64,
) -> AppResult<Vec<PlannedPost>> {
    let entry = entries::get(services, principal, entry_id).await?.entry;
    if !principal.can_write_entries(entry.group_id) && !principal.is_moderator() {
        return Err(AppError::Forbidden(
            "only the entry's group and moderators retry its posts".into(),
        ));
    }
    let found = post::Entity::find_by_id(post_id)
        .filter(post::Column::EntryId.eq(entry_id))
        .one(&services.db)
        .await?
        .ok_or_else(|| AppError::not_found("post"))?;
    let refused = || AppError::Conflict("only a failed post is sent again".into());
    let delivery = found.delivery_id.ok_or_else(refused)?;
    let status = if found.remote_id.is_some() {
        PostStatus::Deleting
    } else {
        PostStatus::Pending
    };
    // The post first: the worker, woken by the retry, sends only what is due.
    let set_status = |from: PostStatus, to: PostStatus| {
        post::Entity::update_many()
            .col_expr(post::Column::Status, to.into())
            .col_expr(post::Column::UpdatedAt, services.now().into())
            .filter(post::Column::Id.eq(post_id))
            .filter(post::Column::Status.eq(from))
            .exec(&services.db)
    };
    if set_status(PostStatus::Failed, status).await?.rows_affected == 0 {
        return Err(refused());
    }
    if !super::federation::enqueue::retry(services, delivery).await? {
        set_status(status, PostStatus::Failed).await?;
        return Err(refused());
    }
    entry_posts(services, principal, entry_id).await
}
