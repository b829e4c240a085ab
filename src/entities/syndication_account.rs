use sea_orm::entity::prelude::*;

use crate::domain::Network;

/// An account entries are cross-posted to: site-wide, or a group's.
#[derive(Clone, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "syndication_accounts")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub network: Network,
    /// `None`: every group's entries go to it.
    pub group_id: Option<i64>,
    pub server: String,
    /// The credentials, sealed (`domain::secret_box`).
    pub credentials: String,
    pub created_by: i64,
    pub created_at: i64,
}

/// Shows everything but the (sealed) credentials.
impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SyndicationAccount")
            .field("id", &self.id)
            .field("network", &self.network)
            .field("group_id", &self.group_id)
            .field("server", &self.server)
            .finish_non_exhaustive()
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
