//! The moderation queue and the decision page: the submission as QGIS will
//! show it, an edit of a live entry against its live revision, decisions.

use std::collections::HashMap;

use askama::Template;
use askama_web::WebTemplate;
use poem::handler;
use poem::http::StatusCode;
use poem::web::{Path, Query};

use super::context::{
    Ctx, Layout, Notice, Viewer, WebError, WebResult, page_status, require_moderator, respond,
    see_other,
};
use super::display::{self, Change, Choice, HistoryLine, Pager, with_blank};
use super::entries::actions::{Command, action_request, done_text};
use super::entries::{Row, Summary, load};
use super::forms::{Form, FormState, local_value, parse_form_instant};
use super::map::MapView;
use super::query::{id_of, offset, parse_filter, query_string, text};
use super::search::{SearchBox, query_of};
use crate::domain::entry::diff;
use crate::domain::lifecycle::{ActionRequest, next_status, notifies_by_default};
use crate::domain::{Action, EntryStatus, FieldError, Network};
use crate::error::{AppError, AppResult};
use crate::service::entries::{self, EntryFilter, live_revision_of};
use crate::service::{areas, groups, syndication};

const PAGE_SIZE: u64 = 25;

#[derive(Template, WebTemplate)]
#[template(path = "moderation/queue.html")]
struct QueuePage {
    page: Layout,
    filters: FormState,
    kinds: Vec<Choice>,
    groups: Vec<Choice>,
    languages: Vec<Choice>,
    assigned: Vec<Choice>,
    rows: Vec<(Row, bool)>,
    pager: Pager,
    search: SearchBox,
}

#[handler]
pub async fn queue(ctx: Ctx<'_>, Query(query): Query<HashMap<String, String>>) -> WebResult {
    let viewer = require_moderator(&ctx)?;
    let offset = offset(&query);
    let param = |name: &str| text(&query, name);
    let filter = EntryFilter {
        group: Some(param("group").to_string()).filter(|slug| !slug.is_empty()),
        status: None,
        kind: parse_filter(&query, "kind"),
        // The form offers known codes only; anything else filters nothing.
        languages: crate::domain::codes::Languages::parse(Some(param("lang")))
            .unwrap_or_default()
            .to_vec(),
        mine: false,
        assigned_to: (param("assigned") == "me").then(|| viewer.principal.attributed_user_id()),
        query: query_of(&query)?,
        limit: PAGE_SIZE,
        offset,
    };
    let (views, total) = entries::queue(ctx.services(), &viewer.principal, &filter).await?;
    let now = ctx.now();
    let rows: Vec<(Row, bool)> = views
        .iter()
        .map(|view| {
            let submitted = view.entry.submitted_at.unwrap_or(view.entry.updated_at);
            (
                Row::of(
                    view,
                    format!("/moderation/{}", view.entry.id),
                    submitted,
                    now,
                ),
                view.entry.in_feed,
            )
        })
        .collect();
    let base = query_string(&[
        ("q", param("q")),
        ("kind", param("kind")),
        ("group", param("group")),
        ("lang", param("lang")),
        ("assigned", param("assigned")),
    ]);
    let pager = Pager::new(total, offset, PAGE_SIZE, rows.len(), &base);
    let all_groups = groups::list_public(ctx.services()).await?;
    let mut languages = display::languages();
    languages[0] = Choice::new("", "Any language");
    let mut filters = query.clone();
    filters.entry("lang".into()).or_default();
    filters.entry("assigned".into()).or_default();
    Ok(respond(
        QueuePage {
            page: ctx.layout("Moderation queue", "moderation"),
            filters: FormState::new(filters),
            kinds: with_blank("Any kind", display::kinds()),
            groups: with_blank("Any group", display::group_choices(&all_groups)),
            languages,
            assigned: vec![
                Choice::new("", "Anyone"),
                Choice::new("me", "Assigned to me"),
            ],
            search: SearchBox::new("/moderation", "Search the queue", param("q"), total),
            rows,
            pager,
        },
        StatusCode::OK,
    ))
}

#[derive(Template, WebTemplate)]
#[template(path = "moderation/entry.html")]
struct DecisionPage {
    page: Layout,
    form: FormState,
    entry: Summary,
    changes: Vec<Change>,
    pending: bool,
    in_feed: bool,
    /// Whether approving is an edit of a live entry, where the moderator
    /// chooses between an update and a correction.
    edits_live: bool,
    history: Vec<HistoryLine>,
    author_group: String,
    /// The window approval gives, in words.
    window: String,
    /// Every field it will publish, as label and text.
    published: Vec<(String, String)>,
    /// Its texts in other languages.
    translations: Vec<display::TranslationShown>,
    /// Its venue and target area, drawn.
    map: Option<MapView>,
    /// Whether the moderator may fix it themselves.
    editable: bool,
    /// Whether it goes to every QGIS user: every language and no area.
    worldwide: bool,
    /// The social networks its posts go to, with the text each gets.
    networks: Vec<NetworkText>,
}

/// A network the entry is posted to: its text's form field and limit.
struct NetworkText {
    value: &'static str,
    label: &'static str,
    field: String,
    hint: String,
}

/// The form field of a network's text.
fn network_field(network: Network) -> String {
    format!("syndication_{network}")
}

/// The networks entry `id` goes to, their texts put in `form` unless it has them.
async fn network_texts(
    ctx: &Ctx<'_>,
    viewer: &Viewer,
    id: i64,
    form: &mut FormState,
) -> AppResult<Vec<NetworkText>> {
    let mut networks: Vec<NetworkText> = Vec::new();
    for planned in syndication::entry_posts(ctx.services(), &viewer.principal, id).await? {
        let network = planned.account.account.network;
        let field = network_field(network);
        if networks.iter().any(|known| known.field == field) {
            continue;
        }
        let (label, unit) = match network {
            Network::Mastodon => ("Mastodon", "characters, a link counting 23"),
            Network::Bluesky => ("Bluesky", "graphemes"),
            Network::Telegram => ("Telegram", "characters, 1024 under a picture"),
        };
        let limit = crate::domain::syndication::limit(network, false);
        let chosen = if planned.chosen {
            "Chosen by a moderator"
        } else {
            "Fitted from the entry"
        };
        form.values.entry(field.clone()).or_insert(planned.text);
        networks.push(NetworkText {
            value: network.as_str(),
            label,
            hint: format!("{chosen}; at most {limit} {unit}. Empty: fitted from the entry again."),
            field,
        });
    }
    Ok(networks)
}

/// Saves the text one network gets (`network-text`), or shows the page with its error.
async fn choose_network_text(ctx: &Ctx<'_>, viewer: &Viewer, id: &str, form: &Form) -> WebResult {
    let entry = id_of(id, "entry")?;
    let network = Network::parse(form.text("network"))
        .ok_or_else(|| WebError::App(AppError::not_found("network")))?;
    let field = network_field(network);
    let chosen = syndication::choose_text(
        ctx.services(),
        &viewer.principal,
        entry,
        network,
        form.text(&field),
    );
    match chosen.await {
        Ok(_) => {
            ctx.flash(
                "The text is saved: the network gets it when the entry goes live.",
                None,
            );
            Ok(see_other(&format!("/moderation/{entry}")))
        }
        Err(AppError::Validation(errors)) => {
            let errors = errors
                .into_iter()
                .map(|error| FieldError::new(field.clone(), error.message))
                .collect();
            let state = FormState::with_errors(form.values(), errors);
            decision_page(ctx, viewer, id, Some(state), None).await
        }
        Err(other) => Err(other.into()),
    }
}

async fn decision_page(
    ctx: &Ctx<'_>,
    viewer: &Viewer,
    id: &str,
    form: Option<FormState>,
    notice: Option<Notice>,
) -> WebResult {
    let loaded = load(ctx, viewer, id).await?;
    let entry = &loaded.view.entry;
    let events = entries::history(ctx.services(), &viewer.principal, entry.id).await?;
    let live = live_revision_of(entry)?.filter(|_| entry.in_feed);
    let proposed_to_live = live
        .as_ref()
        .filter(|_| entry.status == EntryStatus::Pending);
    let changes = proposed_to_live
        .map(|live| display::changes(&diff(&live.fields, &loaded.fields)))
        .unwrap_or_default();
    let form = form.unwrap_or_else(|| {
        let mut values = HashMap::new();
        if let Some(live) = proposed_to_live {
            let update = notifies_by_default(&live.fields, &loaded.fields);
            values.insert("notify_clients".into(), update.to_string());
        }
        let window = |at: Option<i64>| at.map(|t| local_value(t, None)).unwrap_or_default();
        values.insert("publish_from".into(), window(loaded.fields.publish_from));
        values.insert("publish_to".into(), window(loaded.fields.publish_to));
        values.insert("priority".into(), entry.priority.to_string());
        if entry.sticky {
            values.insert("sticky".into(), "on".into());
        }
        FormState::new(values)
    });
    let mut form = form;
    let networks = network_texts(ctx, viewer, entry.id, &mut form).await?;
    let mut published = display::published_fields(&loaded.fields);
    let saved_area = match loaded.fields.target_area_id {
        // Saved areas in use cannot be deleted; should one be gone, the text says its id.
        Some(area) => areas::get(ctx.services(), area).await.ok(),
        None => None,
    };
    if let Some(saved) = &saved_area {
        let label = display::field_label("target_area_id");
        for (field, value) in &mut published {
            if *field == label {
                *value = format!("{} ({} corners)", saved.area.name, saved.polygon.len());
            }
        }
    }
    let outline = saved_area
        .as_ref()
        .map(|saved| saved.polygon.as_slice())
        .or(loaded.fields.target_area.as_deref());
    let venue = loaded
        .fields
        .latitude
        .zip(loaded.fields.longitude)
        .map(|(lat, lon)| [lon, lat]);
    let status = page_status(notice.is_some(), &form.errors);
    let mut page = ctx
        .layout(format!("Review “{}”", entry.title), "moderation")
        .with_errors(&form.errors);
    page.notice = notice;
    let body = DecisionPage {
        page,
        entry: Summary::of(&loaded, &events, ctx.now()),
        changes,
        pending: next_status(entry.status, Action::Approve, entry.in_feed).is_some(),
        in_feed: next_status(entry.status, Action::Unpublish, entry.in_feed).is_some(),
        edits_live: proposed_to_live.is_some(),
        history: display::history(&events),
        author_group: loaded.group.slug.clone(),
        window: display::window_sentence(entry.kind, &loaded.fields, &ctx.services().timing()),
        published,
        translations: display::translations(&loaded.fields),
        map: MapView::of(outline, venue),
        editable: viewer
            .principal
            .can_edit_entry(entry.group_id, entry.status),
        worldwide: loaded.fields.language.is_none() && outline.is_none(),
        networks,
        form,
    };
    Ok(respond(body, status))
}

#[handler]
pub async fn show(ctx: Ctx<'_>, Path(id): Path<String>) -> WebResult {
    let viewer = require_moderator(&ctx)?;
    decision_page(&ctx, viewer, &id, None, None).await
}

/// What the last person who acted did, to tell a moderator who came second.
async fn who_decided(ctx: &Ctx<'_>, viewer: &Viewer, id: i64) -> Result<Notice, WebError> {
    let events = entries::history(ctx.services(), &viewer.principal, id).await?;
    let last = events
        .iter()
        .rev()
        .find(|event| event.action != Action::Comment);
    let text = match last {
        Some(event) => {
            let mut text = format!(
                "{} {} this entry at {}",
                event.actor_name,
                display::action_label(event.action),
                display::utc(event.created_at)
            );
            if let Some(comment) = event.comment.as_deref().filter(|c| !c.is_empty()) {
                text.push_str(&format!(": “{comment}”"));
            }
            text.push_str(". Your decision was not applied; here is the entry as it is now.");
            text
        }
        None => "The entry changed after you opened it; your decision was not applied.".into(),
    };
    Ok(Notice {
        heading: "Someone else decided first".into(),
        text,
    })
}

/// A moderator's decision as the form asks it: the approval's own fields
/// (stickiness, priority, window) parsed, errors next to their fields.
fn decision(form: &Form, action: Action) -> (ActionRequest, Vec<FieldError>) {
    let mut request = action_request(form, action);
    let mut errors = Vec::new();
    if Command::Act(action).is_irreversible() {
        errors.extend(form.unconfirmed());
    }
    if action != Action::Approve {
        return (request, errors);
    }
    request.sticky = Some(form.checked("sticky"));
    request.notify_clients = match form.optional("notify_clients") {
        None => None,
        Some("true") => Some(true),
        Some("false") => Some(false),
        Some(_) => {
            errors.push(FieldError::new(
                "notify_clients",
                "choose an update or a correction",
            ));
            None
        }
    };
    request.priority = match form.optional("priority").map(str::parse::<i32>) {
        None => None,
        Some(Ok(priority)) => Some(priority),
        Some(Err(_)) => {
            errors.push(FieldError::new(
                "priority",
                "must be a whole number such as 0 or 10",
            ));
            None
        }
    };
    for (field, slot) in [
        ("publish_from", &mut request.publish_from),
        ("publish_to", &mut request.publish_to),
    ] {
        if let Some(text) = form.optional(field) {
            match parse_form_instant(text, None) {
                Some(at) => *slot = Some(at),
                None => errors.push(FieldError::new(
                    field,
                    "must be a date and time such as 2027-03-04T18:00",
                )),
            }
        }
    }
    (request, errors)
}

#[handler]
pub async fn decide(
    ctx: Ctx<'_>,
    Path((id, command)): Path<(String, String)>,
    body: Vec<u8>,
) -> WebResult {
    let form = ctx.form(&body)?;
    let viewer = require_moderator(&ctx)?;
    if command == "network-text" {
        return choose_network_text(&ctx, viewer, &id, &form).await;
    }
    let entry = id_of(&id, "entry")?;
    let action = match Command::parse(&command) {
        Some(Command::Act(action)) if action.is_moderation() || action == Action::Comment => action,
        _ => return Err(WebError::App(AppError::not_found("action"))),
    };
    let (request, errors) = decision(&form, action);
    let again = |errors| {
        decision_page(
            &ctx,
            viewer,
            &id,
            Some(FormState::with_errors(form.values(), errors)),
            None,
        )
    };
    if !errors.is_empty() {
        return again(errors).await;
    }
    match entries::act(ctx.services(), &viewer.principal, entry, action, &request).await {
        Ok(_) => {
            ctx.flash(done_text(action), None);
            let next = if action == Action::Comment {
                format!("/moderation/{entry}")
            } else {
                "/moderation".into()
            };
            Ok(see_other(&next))
        }
        Err(AppError::Validation(errors)) => again(errors).await,
        Err(AppError::StaleVersion { .. } | AppError::InvalidTransition(_)) => {
            let notice = who_decided(&ctx, viewer, entry).await?;
            decision_page(&ctx, viewer, &id, None, Some(notice)).await
        }
        Err(other) => Err(other.into()),
    }
}
