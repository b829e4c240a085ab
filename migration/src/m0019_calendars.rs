//! Calendars a group keeps elsewhere: subscriptions to iCalendar URLs, the
//! source events each one brought in (by UID, with the entry they became),
//! and a log of every run.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m0001_initial::{foreign_key, index};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("calendar_subscriptions")
                    .col(big_pk_auto("id"))
                    .col(big_integer("group_id"))
                    // Empty for a one-off file import (kept for its items and runs).
                    .col(string("url"))
                    .col(string("kind"))
                    .col(boolean("auto_approve"))
                    // The admin who allowed approving at once, if one did.
                    .col(big_integer_null("auto_approve_allowed_by"))
                    .col(big_integer("created_by"))
                    .col(string_null("etag"))
                    .col(string_null("last_modified"))
                    .col(big_integer_null("next_fetch_at"))
                    .col(big_integer_null("claimed_until"))
                    .col(big_integer("created_at"))
                    .foreign_key(&mut foreign_key(
                        "calendar_subscriptions",
                        "group_id",
                        "groups",
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index("calendar_subscriptions", &["next_fetch_at"], false))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("calendar_items")
                    .col(big_pk_auto("id"))
                    .col(big_integer("subscription_id"))
                    .col(string("uid"))
                    .col(big_integer("entry_id"))
                    // Hash of the source's last version of the event.
                    .col(string("source_hash"))
                    // That version's entry fields (JSON): an edit here keeps
                    // what the source did not change since.
                    .col(text("source_fields"))
                    // Hash of the entry's working revision as the last sync left it.
                    .col(string("entry_hash"))
                    // Edited here since: the source's changes go to review.
                    .col(boolean("edited_here"))
                    .col(boolean("gone"))
                    .col(big_integer("updated_at"))
                    .foreign_key(&mut foreign_key(
                        "calendar_items",
                        "subscription_id",
                        "calendar_subscriptions",
                    ))
                    .foreign_key(&mut foreign_key("calendar_items", "entry_id", "entries"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index("calendar_items", &["subscription_id", "uid"], true))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("calendar_runs")
                    .col(big_pk_auto("id"))
                    .col(big_integer("subscription_id"))
                    .col(big_integer("started_at"))
                    // Whether the source sent a calendar (false: not modified, or failed).
                    .col(boolean("fetched"))
                    .col(integer("new_count"))
                    .col(integer("updated_count"))
                    .col(integer("cancelled_count"))
                    .col(text("errors"))
                    .foreign_key(&mut foreign_key(
                        "calendar_runs",
                        "subscription_id",
                        "calendar_subscriptions",
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "calendar_runs",
                &["subscription_id", "started_at"],
                false,
            ))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in ["calendar_runs", "calendar_items", "calendar_subscriptions"] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
