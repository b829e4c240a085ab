use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Bumped whenever a person's existing logins must stop working
        // (disabled, password changed): a login token carries the value it
        // was issued under.
        manager
            .alter_table(
                Table::alter()
                    .table(Alias::new("users"))
                    .add_column(integer("credentials_version").default(0))
                    .to_owned(),
            )
            .await?;
        // Attempt counters shared by every instance on one database
        // (failed logins, public access requests), reserved before the work.
        manager
            .create_table(
                Table::create()
                    .table(Alias::new("rate_limits"))
                    .col(string("key").primary_key())
                    .col(big_integer("window_started"))
                    .col(integer("attempts"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_rate_limits_window_started")
                    .table(Alias::new("rate_limits"))
                    .col(Alias::new("window_started"))
                    .to_owned(),
            )
            .await?;
        // Counting a long moderation queue (with removed groups left out)
        // reads only this index.
        manager
            .create_index(
                Index::create()
                    .name("ix_entries_status_group_id")
                    .table(Alias::new("entries"))
                    .col(Alias::new("status"))
                    .col(Alias::new("group_id"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("ix_entries_status_group_id")
                    .table(Alias::new("entries"))
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(Alias::new("rate_limits")).to_owned())
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Alias::new("users"))
                    .drop_column(Alias::new("credentials_version"))
                    .to_owned(),
            )
            .await
    }
}
