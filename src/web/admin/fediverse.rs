//! The fediverse for admins: each group's handle and followers, who
//! follows, and the deliveries (fediverse, WebSub) that did not go
//! through, with a retry.

use askama::Template;
use askama_web::WebTemplate;
use poem::handler;
use poem::web::Path;

use super::require_admin;
use crate::domain::DeliveryStatus;
use crate::service::federation::{self, Overview, queue};
use crate::web::context::{Ctx, Layout, WebResult, respond, see_other};
use crate::web::display;
use crate::web::query::id_of;

#[derive(Template, WebTemplate)]
#[template(path = "admin/fediverse.html")]
struct FediversePage {
    page: Layout,
    overview: Overview,
    /// `(id, target, state, attempts, last error, queued)`.
    failures: Vec<(i64, String, &'static str, i32, String, String)>,
    followers: Vec<(String, String, String)>,
    oldest: String,
}

#[handler]
pub async fn show(ctx: Ctx<'_>) -> WebResult {
    let viewer = require_admin(&ctx)?;
    let mut overview = federation::overview(ctx.services(), &viewer.principal).await?;
    let failures = std::mem::take(&mut overview.failures)
        .into_iter()
        .map(|row| {
            let state = match row.status {
                DeliveryStatus::Dropped => "given up after days (its followers were dropped)",
                _ => "refused by the receiver",
            };
            let error = row.last_error.unwrap_or_default();
            (
                row.id,
                row.target,
                state,
                row.attempts,
                error,
                display::utc(row.created_at),
            )
        })
        .collect();
    let followers = std::mem::take(&mut overview.followers)
        .into_iter()
        .map(|(handle, follower, since)| (handle, follower, display::utc(since)))
        .collect();
    let oldest = overview
        .oldest_waiting
        .map(display::utc)
        .unwrap_or_default();
    Ok(respond(
        FediversePage {
            page: ctx.layout("Fediverse", "admin"),
            overview,
            failures,
            followers,
            oldest,
        },
        poem::http::StatusCode::OK,
    ))
}

#[handler]
pub async fn retry(ctx: Ctx<'_>, Path(id): Path<String>, body: Vec<u8>) -> WebResult {
    ctx.form(&body)?;
    require_admin(&ctx)?;
    let id = id_of(&id, "delivery")?;
    if queue::retry(ctx.services(), id).await? {
        ctx.flash("The delivery waits to be sent again.".to_string(), None);
    } else {
        ctx.flash("That delivery is not one that failed.".to_string(), None);
    }
    Ok(see_other("/admin/fediverse"))
}
