//! Cross-posting: accounts on Mastodon, Bluesky and Telegram (site-wide or
//! a group's) with their credentials sealed, the post each entry became on
//! each account, and the text a moderator chose per network.

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
                    .table("syndication_accounts")
                    .col(big_pk_auto("id"))
                    // `mastodon`, `bluesky` or `telegram`.
                    .col(string("network"))
                    // None: site-wide.
                    .col(big_integer_null("group_id"))
                    .col(string("server"))
                    // Nonce and ciphertext (XChaCha20-Poly1305), base64.
                    .col(text("credentials"))
                    .col(big_integer("created_by"))
                    .col(big_integer("created_at"))
                    .foreign_key(&mut foreign_key(
                        "syndication_accounts",
                        "group_id",
                        "groups",
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("syndication_posts")
                    .col(big_pk_auto("id"))
                    .col(big_integer("account_id"))
                    .col(big_integer("entry_id"))
                    .col(text("text"))
                    .col(string("status"))
                    .col(string_null("remote_id"))
                    .col(string_null("url"))
                    .col(text_null("last_error"))
                    // The delivery that sends (or deletes) it now.
                    .col(big_integer_null("delivery_id"))
                    .col(big_integer("created_at"))
                    .col(big_integer("updated_at"))
                    .foreign_key(&mut foreign_key(
                        "syndication_posts",
                        "account_id",
                        "syndication_accounts",
                    ))
                    .foreign_key(&mut foreign_key("syndication_posts", "entry_id", "entries"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "syndication_posts",
                &["account_id", "entry_id"],
                true,
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("syndication_texts")
                    .col(big_integer("entry_id"))
                    .col(string("network"))
                    .col(text("text"))
                    .primary_key(Index::create().col("entry_id").col("network"))
                    .foreign_key(&mut foreign_key("syndication_texts", "entry_id", "entries"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "syndication_texts",
            "syndication_posts",
            "syndication_accounts",
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
