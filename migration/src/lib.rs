//! Database schema for newsfeed, portable across SQLite and PostgreSQL.
//!
//! Instants are stored as `BIGINT` unix seconds: they compare the same way on
//! both backends and map straight onto the feed's numeric timestamps.

pub use sea_orm_migration::prelude::*;

mod m0001_initial;
mod m0002_credentials;
mod m0003_media_mail;
mod m0005_web;
mod m0007_audience;
mod m0008_areas;
mod m0009_email_skeleton;
mod m0010_events;
mod m0011_corrections;
mod m0012_search;
mod m0015_group_languages;
mod m0016_form_drafts;
mod m0017_federation;
mod m0018_syndication;
mod m0019_calendars;
mod m0020_translations;
mod m0021_pending_counts;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m0001_initial::Migration),
            Box::new(m0002_credentials::Migration),
            Box::new(m0003_media_mail::Migration),
            Box::new(m0005_web::Migration),
            Box::new(m0007_audience::Migration),
            Box::new(m0008_areas::Migration),
            Box::new(m0009_email_skeleton::Migration),
            Box::new(m0010_events::Migration),
            Box::new(m0011_corrections::Migration),
            Box::new(m0012_search::Migration),
            Box::new(m0015_group_languages::Migration),
            Box::new(m0016_form_drafts::Migration),
            Box::new(m0017_federation::Migration),
            Box::new(m0018_syndication::Migration),
            Box::new(m0019_calendars::Migration),
            Box::new(m0020_translations::Migration),
            Box::new(m0021_pending_counts::Migration),
        ]
    }
}
