//! Events as events: status, attendance, recurrence (with cancelled and
//! moved occurrences), the picture's alternative text, the amount a
//! campaign has raised, and a counter of published changes (iCalendar
//! `SEQUENCE`).
//!
//! Events and meetups published before this kept the form's default window
//! (ten days from its start), so one months ahead vanished before it took
//! place; and one without a window stayed forever. Both now end with the
//! event: the working `publish_to` is cleared (the end is derived again at
//! the next approval) and the published end becomes the event's end.

use sea_orm_migration::sea_orm::{ConnectionTrait, Statement};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The window the form and clones used to fill in (ten days).
const DEFAULTED_WINDOW_SECS: i64 = 10 * 86_400;
/// Length of an event without an end (the default of `--event-default-hours`).
const DEFAULT_EVENT_SECS: i64 = 2 * 3600;

const COLUMNS: [&str; 9] = [
    "image_alt",
    "event_status",
    "attendance",
    "recurrence",
    "exdates",
    "moved_occurrences",
    "raised_amount",
    "live_sequence",
    "live_search",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in COLUMNS {
            let definition = match column {
                "exdates" | "moved_occurrences" | "recurrence" | "live_search" => text_null(column),
                "raised_amount" => double_null(column),
                "live_sequence" => integer(column).default(0).to_owned(),
                _ => string_null(column),
            };
            // One column per statement: SQLite.
            manager
                .alter_table(
                    Table::alter()
                        .table("entries")
                        .add_column(definition)
                        .to_owned(),
                )
                .await?;
        }
        fill_search(manager).await?;
        let touched = end_events_with_their_event(manager).await?;
        tracing::info!(
            entries = touched,
            "events and meetups given their event's end as the end of their publication window"
        );
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in COLUMNS.iter().rev() {
            manager
                .alter_table(
                    Table::alter()
                        .table("entries")
                        .drop_column(Alias::new(*column))
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

/// Gives every published revision its search text: title, text (without
/// markup) and place in lower case, as `domain::entry::search_text` writes
/// it from now on (which this crate cannot call).
async fn fill_search(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    let db = manager.get_connection();
    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT id, live FROM entries WHERE live IS NOT NULL ORDER BY id",
        ))
        .await?;
    for row in rows {
        let id: i64 = row.try_get("", "id")?;
        let live: String = row.try_get("", "live")?;
        let revision: serde_json::Value = serde_json::from_str(&live)
            .map_err(|error| DbErr::Migration(format!("entry {id}: {error}")))?;
        let text = |field: &str| {
            revision
                .get(field)
                .and_then(serde_json::Value::as_str)
                .unwrap_or_default()
        };
        let search = [
            text("title"),
            &without_markup(text("content")),
            text("location_name"),
        ]
        .join("\n")
        .to_lowercase();
        manager
            .exec_stmt(
                Query::update()
                    .table("entries")
                    .value("live_search", search)
                    .and_where(Expr::col("id").eq(id))
                    .to_owned(),
            )
            .await?;
    }
    Ok(())
}

/// `html` without its tags, with the entities sanitized HTML uses decoded.
pub(crate) fn without_markup(html: &str) -> String {
    let mut text = String::with_capacity(html.len());
    let mut in_tag = false;
    for character in html.chars() {
        match character {
            '<' => in_tag = true,
            '>' => in_tag = false,
            other if !in_tag => text.push(other),
            _ => {}
        }
    }
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// Gives every event and meetup with a defaulted or missing window the end
/// of its event; returns how many rows changed.
async fn end_events_with_their_event(manager: &SchemaManager<'_>) -> Result<u64, DbErr> {
    let db = manager.get_connection();
    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT id, publish_from, publish_to, starts_at, ends_at, live, live_publish_to \
             FROM entries WHERE kind IN ('event', 'meetup') ORDER BY id",
        ))
        .await?;
    let mut touched = 0;
    for row in rows {
        let id: i64 = row.try_get("", "id")?;
        let publish_from: Option<i64> = row.try_get("", "publish_from")?;
        let publish_to: Option<i64> = row.try_get("", "publish_to")?;
        let Some(starts_at) = row.try_get::<Option<i64>>("", "starts_at")? else {
            continue;
        };
        let ends_at: Option<i64> = row.try_get("", "ends_at")?;
        let live: Option<String> = row.try_get("", "live")?;
        let live_publish_to: Option<i64> = row.try_get("", "live_publish_to")?;
        let end = ends_at.unwrap_or(starts_at + DEFAULT_EVENT_SECS);
        let defaulted = |from: Option<i64>, to: Option<i64>| match (from, to) {
            (_, None) => true,
            (Some(from), Some(to)) => to - from == DEFAULTED_WINDOW_SECS && to < end,
            (None, Some(_)) => false,
        };
        let mut update = Query::update();
        update.table("entries").and_where(Expr::col("id").eq(id));
        let mut changed = false;
        if publish_to.is_some() && defaulted(publish_from, publish_to) {
            update.value("publish_to", Option::<i64>::None);
            changed = true;
        }
        if let Some(live) = live {
            let mut revision: serde_json::Value = serde_json::from_str(&live)
                .map_err(|error| DbErr::Migration(format!("entry {id}: {error}")))?;
            let live_from = revision
                .get("publish_from")
                .and_then(serde_json::Value::as_i64);
            if defaulted(live_from, live_publish_to) && live_publish_to != Some(end) {
                revision["publish_to"] = serde_json::Value::Null;
                update
                    .value("live", revision.to_string())
                    .value("live_publish_to", end);
                changed = true;
            }
        }
        if changed {
            manager.exec_stmt(update.to_owned()).await?;
            touched += 1;
        }
    }
    Ok(touched)
}
