use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

fn timestamps(table: &mut TableCreateStatement) -> &mut TableCreateStatement {
    table
        .col(big_integer("created_at"))
        .col(big_integer("updated_at"))
}

pub(crate) fn foreign_key(
    from_table: &str,
    column: &str,
    to_table: &str,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(format!("fk_{from_table}_{column}"))
        .from(Alias::new(from_table), Alias::new(column))
        .to(Alias::new(to_table), Alias::new("id"))
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

pub(crate) fn index(table: &str, columns: &[&str], unique: bool) -> IndexCreateStatement {
    let mut statement = Index::create();
    statement
        .name(format!("ix_{table}_{}", columns.join("_")))
        .table(Alias::new(table))
        .if_not_exists();
    for column in columns {
        statement.col(Alias::new(*column));
    }
    if unique {
        statement.unique();
    }
    statement.to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let tables = [
            timestamps(
                Table::create()
                    .table("users")
                    .col(big_pk_auto("id"))
                    .col(string("email"))
                    .col(string("display_name"))
                    .col(string("password_hash"))
                    .col(string("role"))
                    .col(boolean("disabled").default(false)),
            )
            .to_owned(),
            timestamps(
                Table::create()
                    .table("groups")
                    .col(big_pk_auto("id"))
                    .col(string("slug"))
                    .col(string("name"))
                    .col(string("country"))
                    .col(string("website"))
                    .col(string("contact"))
                    .col(string("status")),
            )
            .to_owned(),
            timestamps(
                Table::create()
                    .table("memberships")
                    .col(big_pk_auto("id"))
                    .col(big_integer("user_id"))
                    .col(big_integer("group_id"))
                    .col(string("role"))
                    .foreign_key(&mut foreign_key("memberships", "user_id", "users"))
                    .foreign_key(&mut foreign_key("memberships", "group_id", "groups")),
            )
            .to_owned(),
            Table::create()
                .table("api_tokens")
                .col(big_pk_auto("id"))
                .col(big_integer("group_id"))
                .col(string("name"))
                .col(string("secret_sha256"))
                .col(string("prefix"))
                .col(big_integer("created_by"))
                .col(big_integer("created_at"))
                .col(big_integer_null("last_used_at"))
                .col(big_integer_null("revoked_at"))
                .foreign_key(&mut foreign_key("api_tokens", "group_id", "groups"))
                .foreign_key(&mut foreign_key("api_tokens", "created_by", "users"))
                .to_owned(),
            timestamps(
                Table::create()
                    .table("access_requests")
                    .col(big_pk_auto("id"))
                    .col(string("group_name"))
                    .col(string("slug"))
                    .col(string("country"))
                    .col(string("website"))
                    .col(string("contact_email"))
                    .col(text("message"))
                    .col(string("status"))
                    .col(text_null("decision_comment"))
                    .col(big_integer_null("decided_by"))
                    .col(big_integer_null("group_id")),
            )
            .to_owned(),
            timestamps(
                Table::create()
                    .table("entries")
                    .col(big_pk_auto("id"))
                    .col(big_integer("group_id"))
                    .col(big_integer("author_id"))
                    .col(string("kind"))
                    .col(string("status"))
                    .col(integer("version"))
                    .col(string("title"))
                    .col(text("content"))
                    .col(string("url"))
                    .col(string("image"))
                    .col(string_null("language"))
                    .col(text_null("target_area"))
                    .col(boolean("sticky").default(false))
                    .col(integer("priority").default(0))
                    .col(string_null("call_to_action"))
                    .col(big_integer_null("publish_from"))
                    .col(big_integer_null("publish_to"))
                    .col(big_integer_null("starts_at"))
                    .col(big_integer_null("ends_at"))
                    .col(string_null("timezone"))
                    .col(string_null("location_name"))
                    .col(double_null("latitude"))
                    .col(double_null("longitude"))
                    .col(string_null("online_url"))
                    .col(double_null("goal_amount"))
                    .col(string_null("currency"))
                    .col(big_integer_null("deadline"))
                    .col(text_null("live"))
                    .col(boolean("in_feed").default(false))
                    .col(big_integer_null("live_publish_to"))
                    .col(big_integer_null("live_changed_at"))
                    .col(big_integer_null("retracted_at"))
                    .col(big_integer_null("submitted_at"))
                    .foreign_key(&mut foreign_key("entries", "group_id", "groups"))
                    .foreign_key(&mut foreign_key("entries", "author_id", "users")),
            )
            .to_owned(),
            Table::create()
                .table("entry_events")
                .col(big_pk_auto("id"))
                .col(big_integer("entry_id"))
                .col(big_integer_null("actor_user_id"))
                .col(big_integer_null("actor_token_id"))
                .col(string("actor_name"))
                .col(string("action"))
                .col(string_null("from_status"))
                .col(string_null("to_status"))
                .col(text_null("comment"))
                .col(text_null("changes"))
                .col(big_integer("created_at"))
                .foreign_key(&mut foreign_key("entry_events", "entry_id", "entries"))
                .to_owned(),
        ];
        for table in tables {
            manager.create_table(table).await?;
        }
        let indexes = [
            index("users", &["email"], true),
            index("groups", &["slug"], true),
            index("memberships", &["user_id", "group_id"], true),
            index("memberships", &["group_id"], false),
            index("api_tokens", &["secret_sha256"], true),
            index("api_tokens", &["group_id"], false),
            index("access_requests", &["status"], false),
            index("entries", &["group_id", "status"], false),
            index("entries", &["status", "submitted_at"], false),
            // The feed snapshot reads only live or recently retracted rows:
            // these keep that read independent of the archive's size.
            index("entries", &["in_feed", "live_publish_to"], false),
            index("entries", &["retracted_at"], false),
            index("entry_events", &["entry_id"], false),
        ];
        for statement in indexes {
            manager.create_index(statement).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "entry_events",
            "entries",
            "access_requests",
            "api_tokens",
            "memberships",
            "groups",
            "users",
        ] {
            manager
                .drop_table(Table::drop().table(Alias::new(table)).to_owned())
                .await?;
        }
        Ok(())
    }
}
