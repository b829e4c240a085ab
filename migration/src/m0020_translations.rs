//! One entry in several languages: the working revision's translations of
//! its title, text, call to action and picture alt text (JSON keyed by
//! language); the published revision keeps its own in `live`.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("entries")
                    .add_column(text_null("translations"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("entries")
                    .drop_column("translations")
                    .to_owned(),
            )
            .await
    }
}
