//! Black-box tests of the HTTP API through the real router.

mod admin_users;
mod areas;
mod auth;
mod cluster;
mod concurrency;
mod credentials;
mod emails;
mod events;
mod groups;
mod import;
mod lifecycle;
mod metrics;
mod openapi;
mod outage;
mod queue;
mod reviewers;
mod roles;
mod sanitize;
mod smoke;
mod snapshots;
pub mod support;
mod tokens;
mod validation;
