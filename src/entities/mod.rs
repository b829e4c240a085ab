//! sea-orm entities: the shape of each table, no logic.

pub mod access_request;
pub mod account_token;
pub mod actor_key;
pub mod api_token;
pub mod area;
pub mod delivery;
pub mod entry;
pub mod entry_event;
pub mod entry_reviewer;
pub mod federated_post;
pub mod feed_daily_stat;
pub mod follower;
pub mod form_draft;
pub mod group;
pub mod mail_preference;
pub mod media;
pub mod membership;
pub mod outbox;
pub mod rate_limit;
pub mod remote_actor;
pub mod syndication_account;
pub mod syndication_post;
pub mod syndication_text;
mod text;
pub mod user;
pub mod web_session;
