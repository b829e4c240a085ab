use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "entries")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub group_id: i64,
    pub author_id: i64,
    pub kind: String,
    pub status: String,
    pub version: i32,
    pub title: String,
    pub content: String,
    pub url: String,
    pub image: String,
    pub language: Option<String>,
    /// JSON array of `[lon, lat]` pairs, the polygon this entry is delivered to.
    pub target_area: Option<String>,
    pub sticky: bool,
    pub priority: i32,
    pub call_to_action: Option<String>,
    pub publish_from: Option<i64>,
    pub publish_to: Option<i64>,
    pub starts_at: Option<i64>,
    pub ends_at: Option<i64>,
    pub timezone: Option<String>,
    pub location_name: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub online_url: Option<String>,
    pub goal_amount: Option<f64>,
    pub currency: Option<String>,
    pub deadline: Option<i64>,
    /// JSON of the approved revision that feeds publish; kept while an edit is in review.
    pub live: Option<String>,
    pub in_feed: bool,
    pub live_publish_to: Option<i64>,
    pub live_changed_at: Option<i64>,
    pub retracted_at: Option<i64>,
    pub submitted_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
