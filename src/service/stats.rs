//! The audience of the QGIS feed: the counters' flush into
//! `feed_daily_stats`, and the sums per day for moderators and admins.

use chrono::NaiveDate;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, OnConflict};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set, TransactionTrait,
};

use super::Services;
use crate::domain::StatsDimension;
use crate::domain::audience::{DailyCount, day_label, day_of, describe};
use crate::domain::authz::Principal;
use crate::domain::qgisfeed::DailyCount as ImportedCount;
use crate::domain::validate::FieldError;
use crate::entities::feed_daily_stat::{self as stat, Column, Entity};
use crate::error::{AppError, AppResult};

/// Rows per `INSERT` (four parameters each, far below every backend's limit).
const ROWS_PER_STATEMENT: usize = 500;
/// Longest range one request sums, in days; also the default span is 30 days.
const MAX_RANGE_DAYS: i64 = 3_660;
const DEFAULT_RANGE_DAYS: i64 = 30;

/// Adds drained counters into the table in one transaction; returns the
/// rows written (one per day, dimension and value).
pub async fn add(services: &Services, counts: &[DailyCount]) -> AppResult<usize> {
    let rows: Vec<stat::ActiveModel> = counts
        .iter()
        .filter_map(|count| {
            let (dimension, value) = describe(count.slot)?;
            Some(stat::ActiveModel {
                day: Set(day_label(count.day)),
                dimension: Set(dimension.as_str().to_string()),
                value: Set(value),
                requests: Set(i64::try_from(count.requests).unwrap_or(i64::MAX)),
            })
        })
        .collect();
    if rows.is_empty() {
        return Ok(0);
    }
    let written = rows.len();
    let txn = services.db.begin().await?;
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<_> = rows.by_ref().take(ROWS_PER_STATEMENT).collect();
        Entity::insert_many(chunk)
            .on_conflict(
                OnConflict::columns([Column::Day, Column::Dimension, Column::Value])
                    .value(
                        Column::Requests,
                        Expr::col((Entity, Column::Requests))
                            .add(Expr::col((Alias::new("excluded"), Column::Requests))),
                    )
                    .to_owned(),
            )
            .exec(&txn)
            .await?;
    }
    txn.commit().await?;
    Ok(written)
}

/// Writes counts brought by an import: each replaces what is stored for its
/// day, dimension and value (so importing again counts nothing twice).
pub async fn replace(db: &impl ConnectionTrait, counts: &[ImportedCount]) -> AppResult<()> {
    for chunk in counts.chunks(ROWS_PER_STATEMENT) {
        let rows = chunk.iter().map(|count| stat::ActiveModel {
            day: Set(count.day.clone()),
            dimension: Set(count.dimension.as_str().to_string()),
            value: Set(count.value.clone()),
            requests: Set(count.requests),
        });
        Entity::insert_many(rows)
            .on_conflict(
                OnConflict::columns([Column::Day, Column::Dimension, Column::Value])
                    .update_column(Column::Requests)
                    .to_owned(),
            )
            .exec(db)
            .await?;
    }
    Ok(())
}

/// Requests per day and value of `by` from `from` to `to` (inclusive, UTC
/// days; default: the last 30 days), for moderators and admins; without
/// `by`, the day's total (value `total`).
pub async fn feed(
    services: &Services,
    principal: &Principal,
    from: Option<&str>,
    to: Option<&str>,
    by: Option<StatsDimension>,
) -> AppResult<(NaiveDate, NaiveDate, Vec<stat::Model>)> {
    if !principal.is_moderator() {
        return Err(AppError::Forbidden(
            "only moderators and admins may read the audience statistics".into(),
        ));
    }
    let today = date(day_of(services.now()));
    let to = parse_day("to", to)?.unwrap_or(today);
    let from =
        parse_day("from", from)?.unwrap_or(to - chrono::Days::new(DEFAULT_RANGE_DAYS as u64 - 1));
    let span = (to - from).num_days();
    if span < 0 {
        return Err(field_error("from", "must not be after `to`"));
    }
    if span >= MAX_RANGE_DAYS {
        return Err(field_error(
            "from",
            &format!("the range may span at most {MAX_RANGE_DAYS} days"),
        ));
    }
    // Every counted request has exactly one version (`unknown` included), so
    // the versions of a day add up to its total.
    let dimension = by.unwrap_or(StatsDimension::Version);
    let rows = Entity::find()
        .filter(Column::Dimension.eq(dimension.as_str()))
        .filter(Column::Day.gte(from.format("%Y-%m-%d").to_string()))
        .filter(Column::Day.lte(to.format("%Y-%m-%d").to_string()))
        .order_by_asc(Column::Day)
        .order_by_desc(Column::Requests)
        .order_by_asc(Column::Value)
        .all(&services.db)
        .await?;
    Ok((from, to, if by.is_some() { rows } else { totals(rows) }))
}

/// One row per day (rows come in day order): the sum of its values.
fn totals(rows: Vec<stat::Model>) -> Vec<stat::Model> {
    let mut days: Vec<stat::Model> = Vec::new();
    for row in rows {
        match days.last_mut() {
            Some(day) if day.day == row.day => day.requests += row.requests,
            _ => days.push(stat::Model {
                dimension: "total".into(),
                value: "total".into(),
                ..row
            }),
        }
    }
    days
}

fn date(day: i64) -> NaiveDate {
    chrono::DateTime::from_timestamp(day * 86_400, 0)
        .map(|at| at.date_naive())
        .unwrap_or_default()
}

fn parse_day(field: &str, text: Option<&str>) -> AppResult<Option<NaiveDate>> {
    text.map(str::trim)
        .filter(|text| !text.is_empty())
        .map(|text| {
            NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .map_err(|_| field_error(field, "must be a date such as 2026-12-01"))
        })
        .transpose()
}

fn field_error(field: &str, message: &str) -> AppError {
    AppError::Validation(vec![FieldError::new(field, message)])
}
