use sea_orm::entity::prelude::*;

use crate::domain::{EntryKind, EntryStatus};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "entries")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub group_id: i64,
    pub author_id: i64,
    pub kind: EntryKind,
    pub status: EntryStatus,
    pub version: i32,
    pub title: String,
    pub content: String,
    pub url: String,
    pub image: String,
    pub image_alt: Option<String>,
    pub language: Option<String>,
    /// JSON array of `[lon, lat]` pairs, the polygon this entry is delivered to.
    pub target_area: Option<String>,
    /// A saved area (`areas.id`) this entry is delivered to instead.
    pub target_area_id: Option<i64>,
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
    pub event_status: Option<String>,
    pub attendance: Option<String>,
    /// RRULE of a recurring event, canonical form.
    pub recurrence: Option<String>,
    /// JSON array of cancelled occurrences (local `YYYY-MM-DDTHH:MM`).
    pub exdates: Option<String>,
    /// JSON object of moved occurrences, local original start to local new start.
    pub moved_occurrences: Option<String>,
    pub goal_amount: Option<f64>,
    pub currency: Option<String>,
    pub deadline: Option<i64>,
    pub raised_amount: Option<f64>,
    /// JSON object of the working revision's translations, by language.
    pub translations: Option<String>,
    /// JSON of the last approved revision (`LiveRevision`): what feeds
    /// publish while `in_feed`, kept while an edit is in review and after a
    /// retraction (to tell clients to drop it).
    #[sea_orm(column_name = "live")]
    pub live_revision: Option<String>,
    /// Whether `live_revision` is published (within its window).
    pub in_feed: bool,
    pub live_publish_to: Option<i64>,
    /// The words of the published revision's title, text and place, for search.
    pub live_search: Option<String>,
    /// The same of the working revision (`domain::search::document`).
    pub working_search: Option<String>,
    /// The saved area of the published revision, while there is one.
    pub live_target_area_id: Option<i64>,
    pub live_changed_at: Option<i64>,
    /// Published changes so far (iCalendar `SEQUENCE`): every approval and
    /// every change the group makes without review.
    pub live_sequence: i32,
    pub retracted_at: Option<i64>,
    pub submitted_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
