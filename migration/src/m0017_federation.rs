//! Reaching people where they read: groups that federate, the actors' keys,
//! their followers, remote actors we have fetched, what each entry was last
//! sent as, and one durable queue for everything sent out (ActivityPub
//! deliveries, WebSub pings), designed as the mail outbox is.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m0001_initial::{foreign_key, index};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("groups")
                    .add_column(boolean("federated").default(false))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("actor_keys")
                    .col(big_pk_auto("id"))
                    // `site` or `group:<id>`.
                    .col(string_uniq("actor"))
                    .col(text("public_pem"))
                    .col(text("private_pem"))
                    .col(big_integer("created_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("followers")
                    .col(big_pk_auto("id"))
                    // The local actor followed: `site` or `group:<id>`.
                    .col(string("actor"))
                    // The follower's actor IRI.
                    .col(string("remote_actor"))
                    .col(string("inbox"))
                    .col(string_null("shared_inbox"))
                    .col(big_integer("created_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index("followers", &["actor", "remote_actor"], true))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("remote_actors")
                    .col(big_pk_auto("id"))
                    .col(string_uniq("iri"))
                    .col(string("key_id"))
                    .col(text("public_key_pem"))
                    .col(string("inbox"))
                    .col(string_null("shared_inbox"))
                    .col(big_integer("fetched_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("federated_posts")
                    .col(big_integer("entry_id").primary_key())
                    // Hash of the object last sent (the row goes when it is deleted).
                    .col(string("object_hash"))
                    .col(big_integer("created_at"))
                    .col(big_integer("updated_at"))
                    .foreign_key(&mut foreign_key("federated_posts", "entry_id", "entries"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("deliveries")
                    .col(big_pk_auto("id"))
                    // `activitypub` or `websub`.
                    .col(string("kind"))
                    // The inbox or hub URL.
                    .col(string("target"))
                    // The actor whose key signs it (`site`, `group:<id>`), if any.
                    .col(string_null("actor"))
                    .col(text("body"))
                    .col(big_integer_null("entry_id"))
                    .col(string("status"))
                    .col(integer("attempts"))
                    .col(big_integer("next_attempt_at"))
                    .col(big_integer_null("claimed_until"))
                    .col(text_null("last_error"))
                    .col(big_integer("created_at"))
                    .col(big_integer_null("done_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index("deliveries", &["status", "next_attempt_at"], false))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "deliveries",
            "federated_posts",
            "remote_actors",
            "followers",
            "actor_keys",
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table("groups")
                    .drop_column("federated")
                    .to_owned(),
            )
            .await
    }
}
