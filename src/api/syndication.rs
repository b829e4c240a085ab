//! Cross-posting: the accounts entries are posted to (credentials go in,
//! never out), and each entry's posts with the text each network gets.

use chrono::{DateTime, Utc};
use poem::web::Data;
use poem_openapi::{Object, OpenApi, param::Path, param::Query, payload::Json};

use super::{ApiTags, BearerAuth, Created, Deleted, instant};
use crate::AppState;
use crate::domain::syndication::GivenCredentials;
use crate::domain::{Network, PostStatus};
use crate::error::AppResult;
use crate::service::syndication::{self, AccountView, NewAccount, PlannedPost};

pub struct SyndicationApi;

/// What an account signs in with: `access_token` (Mastodon), `handle` and
/// `app_password` (Bluesky), `bot_token` and `chat_id` (Telegram). Stored
/// sealed; never returned.
#[derive(Object)]
#[oai(deny_unknown_fields)]
struct CredentialsInput {
    #[oai(write_only)]
    access_token: Option<String>,
    #[oai(write_only)]
    handle: Option<String>,
    #[oai(write_only)]
    app_password: Option<String>,
    #[oai(write_only)]
    bot_token: Option<String>,
    #[oai(write_only)]
    chat_id: Option<String>,
}

/// An account to connect.
#[derive(Object)]
#[oai(deny_unknown_fields)]
struct AccountInput {
    network: Network,
    /// The group's slug (its owners connect it); absent: site-wide (admins).
    #[oai(nullable)]
    group: Option<String>,
    /// The server's address: the Mastodon instance (required), a Bluesky
    /// PDS (default `https://bsky.social`), the Bot API (default
    /// `https://api.telegram.org`).
    #[oai(nullable)]
    server: Option<String>,
    credentials: CredentialsInput,
}

/// A connected account (its credentials are never shown).
#[derive(Object)]
struct AccountOut {
    id: i64,
    network: Network,
    /// The group's slug; null: site-wide.
    #[oai(nullable)]
    group: Option<String>,
    server: String,
    created_at: DateTime<Utc>,
}

impl From<AccountView> for AccountOut {
    fn from(view: AccountView) -> Self {
        Self {
            id: view.account.id,
            network: view.account.network,
            group: view.group_slug,
            server: view.account.server,
            created_at: instant(view.account.created_at),
        }
    }
}

/// An entry on one account: the text the network gets (or got), the post's
/// link or its error.
#[derive(Object)]
struct EntryPostOut {
    account: AccountOut,
    /// The post's id (for retry); null until the entry is published.
    #[oai(nullable)]
    post: Option<i64>,
    #[oai(nullable)]
    status: Option<PostStatus>,
    text: String,
    /// Whether a moderator chose the text.
    chosen: bool,
    #[oai(nullable)]
    url: Option<String>,
    #[oai(nullable)]
    error: Option<String>,
}

impl From<PlannedPost> for EntryPostOut {
    fn from(planned: PlannedPost) -> Self {
        let post = planned.post;
        Self {
            account: planned.account.into(),
            post: post.as_ref().map(|post| post.id),
            status: post.as_ref().map(|post| post.status),
            text: planned.text,
            chosen: planned.chosen,
            url: post.as_ref().and_then(|post| post.url.clone()),
            error: post.and_then(|post| post.last_error),
        }
    }
}

fn posts_out(planned: Vec<PlannedPost>) -> Json<Vec<EntryPostOut>> {
    Json(planned.into_iter().map(EntryPostOut::from).collect())
}

/// The text a network gets for an entry; empty: fitted from the entry again.
#[derive(Object)]
#[oai(deny_unknown_fields)]
struct TextInput {
    #[oai(validator(max_length = 5000))]
    text: String,
}

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Syndication")]
impl SyndicationApi {
    /// Connect an account entries are posted to: site-wide (admins) or a group's (its owners).
    #[oai(path = "/syndication/accounts", method = "post")]
    async fn connect(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        body: Json<AccountInput>,
    ) -> AppResult<Created<AccountOut>> {
        let Json(input) = body;
        let credentials = input.credentials;
        let new = NewAccount {
            network: input.network,
            group: input.group,
            server: input.server,
            credentials: GivenCredentials {
                access_token: credentials.access_token,
                handle: credentials.handle,
                app_password: credentials.app_password,
                bot_token: credentials.bot_token,
                chat_id: credentials.chat_id,
            },
        };
        let view = syndication::connect(&state.services, &auth.0, new).await?;
        Ok(Created::Created(Json(view.into())))
    }

    /// The accounts you manage (admins: all), of one group if `group` is given.
    #[oai(path = "/syndication/accounts", method = "get")]
    async fn list(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        group: Query<Option<String>>,
    ) -> AppResult<Json<Vec<AccountOut>>> {
        let views = syndication::list(&state.services, &auth.0, group.as_deref()).await?;
        Ok(Json(views.into_iter().map(AccountOut::from).collect()))
    }

    /// Remove an account (what it posted stays on the network).
    #[oai(path = "/syndication/accounts/:id", method = "delete")]
    async fn disconnect(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<i64>,
    ) -> AppResult<Deleted> {
        syndication::disconnect(&state.services, &auth.0, *id).await?;
        Ok(Deleted::Deleted)
    }

    /// The entry on each account it goes to: the text, the post's link or its error.
    #[oai(path = "/entries/:id/syndication", method = "get")]
    async fn entry_posts(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<i64>,
    ) -> AppResult<Json<Vec<EntryPostOut>>> {
        Ok(posts_out(
            syndication::entry_posts(&state.services, &auth.0, *id).await?,
        ))
    }

    /// Choose the text one network gets for the entry (moderators), checked
    /// against its limit; posts already made keep theirs.
    #[oai(path = "/entries/:id/syndication/:network", method = "put")]
    async fn choose_text(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<i64>,
        network: Path<Network>,
        body: Json<TextInput>,
    ) -> AppResult<Json<Vec<EntryPostOut>>> {
        let planned =
            syndication::choose_text(&state.services, &auth.0, *id, *network, &body.text).await?;
        Ok(posts_out(planned))
    }

    /// Send a failed post (or its deletion) again.
    #[oai(path = "/entries/:id/syndication/:post/retry", method = "post")]
    async fn retry(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<i64>,
        post: Path<i64>,
    ) -> AppResult<Json<Vec<EntryPostOut>>> {
        Ok(posts_out(
            syndication::retry(&state.services, &auth.0, *id, *post).await?,
        ))
    }
}
