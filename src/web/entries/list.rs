//! The list of my groups' entries, filtered and paged.

use std::collections::HashMap;

use askama::Template;
use askama_web::WebTemplate;
use poem::handler;
use poem::http::StatusCode;
use poem::web::Query;

use super::{Row, writable_groups};
use crate::domain::{EntryStatus, TextEnum};
use crate::service::entries::{self, EntryFilter};
use crate::web::context::{Ctx, Layout, WebResult, respond};
use crate::web::display::{self, Choice, Pager, with_blank};
use crate::web::forms::FormState;
use crate::web::query::{offset, parse_filter, query_string, text};

const PAGE_SIZE: u64 = 20;

#[derive(Template, WebTemplate)]
#[template(path = "my/list.html")]
struct ListPage {
    page: Layout,
    filters: FormState,
    statuses: Vec<Choice>,
    kinds: Vec<Choice>,
    groups: Vec<Choice>,
    rows: Vec<Row>,
    pager: Pager,
}

fn status_choices() -> Vec<Choice> {
    with_blank(
        "Any status",
        EntryStatus::ALL
            .iter()
            .map(|status| Choice::new(status.as_str(), display::status_label(*status))),
    )
}

#[handler]
pub async fn list(ctx: Ctx<'_>, Query(query): Query<HashMap<String, String>>) -> WebResult {
    let viewer = ctx.require()?;
    let offset = offset(&query);
    let filter = EntryFilter {
        group: Some(text(&query, "group").to_string()).filter(|slug| !slug.is_empty()),
        status: parse_filter(&query, "status"),
        kind: parse_filter(&query, "kind"),
        languages: Vec::new(),
        mine: true,
        assigned_to: None,
        query: None,
        limit: PAGE_SIZE,
        offset,
    };
    let (views, total) = entries::list(ctx.services(), &viewer.principal, &filter).await?;
    let now = ctx.now();
    let rows: Vec<Row> = views
        .iter()
        .map(|view| {
            Row::of(
                view,
                format!("/my/entries/{}", view.entry.id),
                view.entry.updated_at,
                now,
            )
        })
        .collect();
    let base = query_string(&[
        ("status", text(&query, "status")),
        ("kind", text(&query, "kind")),
        ("group", text(&query, "group")),
    ]);
    let pager = Pager::new(total, offset, PAGE_SIZE, rows.len(), &base);
    let groups = writable_groups(ctx.services(), viewer).await?;
    Ok(respond(
        ListPage {
            page: ctx.layout("My entries", "my"),
            filters: FormState::new(query),
            statuses: status_choices(),
            kinds: with_blank("Any kind", display::kinds()),
            groups: with_blank("All my groups", display::group_choices(&groups)),
            rows,
            pager,
        },
        StatusCode::OK,
    ))
}
