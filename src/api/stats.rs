//! The audience of the QGIS feed, summed per day, for moderators and admins.

use chrono::NaiveDate;
use poem::web::Data;
use poem::{IntoResponse, Request, Response};
use poem_openapi::param::Query;
use poem_openapi::payload::Json;
use poem_openapi::registry::{MetaMediaType, MetaResponses, Registry};
use poem_openapi::types::Type;
use poem_openapi::{ApiResponse, Enum, Object, OpenApi};

use super::{ApiTags, BearerAuth};
use crate::AppState;
use crate::domain::{FieldError, StatsDimension};
use crate::error::{AppError, AppResult};
use crate::service::stats;

pub struct StatsApi;

/// Requests on one day with one value.
#[derive(Object)]
struct DayCount {
    /// `YYYY-MM-DD` (UTC).
    day: String,
    /// A QGIS version (`3.34`), OS, ISO country code or language code;
    /// `other`, `unknown` (or `any`: no `lang`) for the rest; `total`
    /// without `by`.
    value: String,
    requests: i64,
}

/// What the audience is summed by. `platform` is QGIS-Feed's name for the
/// operating system (`os`), kept so its dashboards can ask as before.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Enum)]
#[oai(rename_all = "lowercase")]
enum StatsBy {
    Version,
    Os,
    Platform,
    Country,
    Lang,
}

impl StatsBy {
    fn dimension(self) -> StatsDimension {
        match self {
            Self::Version => StatsDimension::Version,
            Self::Os | Self::Platform => StatsDimension::Os,
            Self::Country => StatsDimension::Country,
            Self::Lang => StatsDimension::Lang,
        }
    }
}

/// QGIS requests to `/` per day and value of one dimension, or in all.
#[derive(Object)]
struct FeedStats {
    from: NaiveDate,
    to: NaiveDate,
    /// What the rows are summed by; absent for daily totals.
    #[oai(skip_serializing_if_is_none)]
    by: Option<StatsBy>,
    /// Days in order, the most frequent value first.
    rows: Vec<DayCount>,
}

/// The sums as JSON (default) or, with `Accept: text/csv` or `format=csv`,
/// as CSV with the header `day,value,requests`: one 200 with two media types.
enum StatsResponse {
    Json(Json<FeedStats>),
    Csv(String),
}

impl IntoResponse for StatsResponse {
    fn into_response(self) -> Response {
        match self {
            Self::Json(json) => json.into_response(),
            Self::Csv(text) => Response::builder().content_type(CSV).body(text),
        }
    }
}

impl ApiResponse for StatsResponse {
    fn meta() -> MetaResponses {
        let mut responses = <Json<FeedStats> as ApiResponse>::meta();
        for response in &mut responses.responses {
            response.description = "The sums, as JSON or CSV";
            response.content.push(MetaMediaType {
                content_type: CSV,
                schema: String::schema_ref(),
            });
        }
        responses
    }

    fn register(registry: &mut Registry) {
        <Json<FeedStats> as ApiResponse>::register(registry);
    }
}

const CSV: &str = "text/csv; charset=utf-8";

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Stats")]
impl StatsApi {
    /// Audience of the QGIS feed: requests to `/` from QGIS per day, in all
    /// or by QGIS version, operating system, country (GeoIP) or requested
    /// language.
    /// Counted in memory and added up every minute; no address, cookie or
    /// per-request record is kept. Moderators and admins.
    #[oai(path = "/stats/feed", method = "get")]
    #[allow(clippy::too_many_arguments)]
    async fn feed(
        &self,
        state: Data<&AppState>,
        request: &Request,
        auth: BearerAuth,
        /// First day, `YYYY-MM-DD` (default: 29 days before `to`).
        from: Query<Option<String>>,
        /// Last day, `YYYY-MM-DD` (default: today, UTC).
        to: Query<Option<String>>,
        /// What to sum by; without it, the total of each day.
        by: Query<Option<StatsBy>>,
        /// `csv` for CSV, `json` (default) for JSON.
        format: Query<Option<String>>,
    ) -> AppResult<StatsResponse> {
        let csv = match format.as_deref().map(str::trim) {
            Some("csv") => true,
            Some("json") => false,
            // `Accept: text/csv` (not a parameter: every answer is JSON otherwise).
            None | Some("") => request
                .headers()
                .get(poem::http::header::ACCEPT)
                .and_then(|accept| accept.to_str().ok())
                .is_some_and(|accept| accept.to_ascii_lowercase().contains("text/csv")),
            Some(_) => {
                return Err(AppError::Validation(vec![FieldError::new(
                    "format",
                    "must be csv or json",
                )]));
            }
        };
        let (from, to, rows) = stats::feed(
            &state.services,
            &auth.0,
            from.as_deref(),
            to.as_deref(),
            by.map(StatsBy::dimension),
        )
        .await?;
        if csv {
            let text =
                to_csv(&rows).map_err(|error| AppError::internal("cannot write CSV", error))?;
            return Ok(StatsResponse::Csv(text));
        }
        Ok(StatsResponse::Json(Json(FeedStats {
            from,
            to,
            by: *by,
            rows: rows
                .into_iter()
                .map(|row| DayCount {
                    day: row.day,
                    value: row.value,
                    requests: row.requests,
                })
                .collect(),
        })))
    }
}

fn to_csv(rows: &[crate::entities::feed_daily_stat::Model]) -> Result<String, csv::Error> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(["day", "value", "requests"])?;
    for row in rows {
        writer.write_record([&row.day, &row.value, &row.requests.to_string()])?;
    }
    let bytes = writer
        .into_inner()
        .map_err(|error| csv::Error::from(error.into_error()))?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}
