//! What each address looks like (its UTS #39 confusable skeleton), so that an
//! address that looks like a taken one is refused as taken. Not unique:
//! accounts made before the check may already share one; they are named in a
//! warning and left as they are, for an admin to look at.

use std::collections::BTreeMap;

use sea_orm_migration::sea_orm::{ConnectionTrait, Statement};
use sea_orm_migration::{prelude::*, schema::*};

use crate::m0001_initial::index;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("users")
                    .add_column(string("email_skeleton").default(""))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index("users", &["email_skeleton"], false))
            .await?;
        let db = manager.get_connection();
        let rows = db
            .query_all_raw(Statement::from_string(
                db.get_database_backend(),
                "SELECT id, email FROM users ORDER BY id",
            ))
            .await?;
        let mut by_skeleton: BTreeMap<String, Vec<i64>> = BTreeMap::new();
        for row in rows {
            let id: i64 = row.try_get("", "id")?;
            let email: String = row.try_get("", "email")?;
            // The service's `domain::user::email_skeleton`, which this crate cannot call.
            let skeleton: String = unicode_security::skeleton(&email).collect();
            manager
                .exec_stmt(
                    Query::update()
                        .table("users")
                        .value("email_skeleton", skeleton.clone())
                        .and_where(Expr::col("id").eq(id))
                        .to_owned(),
                )
                .await?;
            by_skeleton.entry(skeleton).or_default().push(id);
        }
        for ids in by_skeleton.values().filter(|ids| ids.len() > 1) {
            tracing::warn!(
                users = ?ids,
                "these accounts have email addresses that look the same; they stay, \
                 and new lookalikes of them are refused: an admin should check which are real"
            );
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("ix_users_email_skeleton")
                    .table("users")
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("users")
                    .drop_column(Alias::new("email_skeleton"))
                    .to_owned(),
            )
            .await
    }
}
