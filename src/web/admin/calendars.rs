//! A group's calendars kept elsewhere: the subscriptions with a form to add
//! one, a one-off `.ics` import, and a page per subscription with its last
//! runs, "Sync now", its settings and ending it. Owners and admins change
//! them; the group's members and moderators see them (as the API says).

use askama::Template;
use askama_web::WebTemplate;
use poem::handler;
use poem::http::StatusCode;
use poem::web::{Multipart, Path};
use tokio::io::AsyncReadExt;

use super::field_errors;
use crate::domain::{EntryKind, FieldError, limits};
use crate::entities::{calendar_run, calendar_subscription as subscription, group};
use crate::error::AppError;
use crate::service::calendars::{self, NewSubscription, SubscriptionChange, approves_at_once};
use crate::service::lookup;
use crate::web::context::{
    Ctx, Layout, Notice, Viewer, WebError, WebResult, page_status, respond, see_other,
};
use crate::web::display::{self, Choice};
use crate::web::forms::{Form, FormState};
use crate::web::query::id_of;

/// The file field of the import form (the API's name).
const FILE_FIELD: &str = "file";

/// The rule every subscription follows, said where one is made.
pub const RULE: &str = "The source wins until the entry is edited here; after that, changes from \
                        the source are offered as an edit for review. Events removed from the \
                        source are cancelled here, not deleted.";

/// One subscription in the group's list.
struct Row {
    href: String,
    source: String,
    kind: &'static str,
    approval: &'static str,
    next: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/calendars.html")]
struct CalendarsPage {
    page: Layout,
    group: group::Model,
    /// Owners and admins change; members and moderators only see.
    manages: bool,
    rows: Vec<Row>,
    subscribe: FormState,
    import: FormState,
    kinds: Vec<Choice>,
    rule: &'static str,
    approve_hint: &'static str,
    max_mib: usize,
}

/// A subscription's URL, or what a file import is.
fn source_of(found: &subscription::Model) -> String {
    if found.url.is_empty() {
        "Files imported once".into()
    } else {
        found.url.clone()
    }
}

/// Where a subscription's events go, in words.
fn approval_of(found: &subscription::Model) -> &'static str {
    if approves_at_once(found) {
        "published at once (an admin allowed it)"
    } else if found.auto_approve {
        "to review (publishing at once waits for an admin)"
    } else {
        "to review"
    }
}

/// What ticking "Publish its events at once" does for the viewer.
fn approve_hint(viewer: &Viewer) -> &'static str {
    if viewer.is_admin() {
        "Without review, for a source you trust; as an admin, your tick allows it."
    } else {
        "Without review, for a source you trust: an admin must allow it; until then they go to review."
    }
}

/// Events and meetups: the kinds with dates.
fn kinds() -> Vec<Choice> {
    [EntryKind::Meetup, EntryKind::Event]
        .iter()
        .map(|kind| Choice::new(kind.as_str(), display::kind_label(*kind)))
        .collect()
}

/// The group of `slug` with its subscriptions, when the viewer may see them.
async fn readable(
    ctx: &Ctx<'_>,
    viewer: &Viewer,
    slug: &str,
) -> Result<(group::Model, Vec<subscription::Model>), WebError> {
    let found = calendars::list(ctx.services(), &viewer.principal, slug).await?;
    let group = lookup::group_by_slug(&ctx.services().db, slug).await?;
    Ok((group, found))
}

/// The list page with the states of its two forms.
async fn list_page(
    ctx: &Ctx<'_>,
    viewer: &Viewer,
    slug: &str,
    subscribe: FormState,
    import: FormState,
    status: Option<StatusCode>,
) -> WebResult {
    let (group, found) = readable(ctx, viewer, slug).await?;
    let errors: Vec<FieldError> = subscribe
        .errors
        .iter()
        .chain(&import.errors)
        .cloned()
        .collect();
    let status = status.unwrap_or_else(|| page_status(false, &errors));
    let page = ctx
        .layout(format!("Calendars of {}", group.name), "admin")
        .with_errors(&errors);
    let rows = found
        .iter()
        .map(|found| Row {
            href: format!("/admin/groups/{}/calendars/{}", group.slug, found.id),
            source: source_of(found),
            kind: display::kind_label(found.kind),
            approval: approval_of(found),
            next: found
                .next_fetch_at
                .filter(|_| !found.url.is_empty())
                .map_or_else(|| "—".into(), display::utc),
        })
        .collect();
    let body = CalendarsPage {
        page,
        manages: viewer.principal.can_manage_group(group.id),
        group,
        rows,
        subscribe,
        import,
        kinds: kinds(),
        rule: RULE,
        approve_hint: approve_hint(viewer),
        max_mib: limits::CALENDAR_MAX_BYTES / (1024 * 1024),
    };
    Ok(respond(body, status))
}

/// Both forms start with meetups, and the subscription unticked.
fn fresh_form() -> FormState {
    FormState::new([("kind".to_string(), "meetup".to_string())].into())
}

#[handler]
pub async fn list(ctx: Ctx<'_>, Path(slug): Path<String>) -> WebResult {
    let viewer = ctx.require()?;
    list_page(&ctx, viewer, &slug, fresh_form(), fresh_form(), None).await
}

/// The kind a form chose; an unknown one is an error next to its field.
fn kind_of(form: &Form) -> Result<EntryKind, Vec<FieldError>> {
    EntryKind::parse(form.text("kind"))
        .ok_or_else(|| vec![FieldError::new("kind", "must be event or meetup")])
}

#[handler]
pub async fn create(ctx: Ctx<'_>, Path(slug): Path<String>, body: Vec<u8>) -> WebResult {
    let form = ctx.form(&body)?;
    let viewer = ctx.require()?;
    let new = kind_of(&form).map(|kind| NewSubscription {
        url: form.text("url").to_string(),
        kind,
        auto_approve: form.checked("auto_approve"),
    });
    let subscribed = match new {
        Ok(new) => calendars::subscribe(ctx.services(), &viewer.principal, &slug, new)
            .await
            .map_err(|error| field_errors(error, "url")),
        Err(errors) => Err(Ok(errors)),
    };
    match subscribed {
        Ok(view) => {
            ctx.flash(
                "Subscribed: the calendar is fetched in a moment, then every 6 hours.",
                None,
            );
            Ok(see_other(&format!(
                "/admin/groups/{slug}/calendars/{}",
                view.subscription.id
            )))
        }
        Err(errors) => {
            let state = FormState::with_errors(form.values(), errors?);
            list_page(&ctx, viewer, &slug, state, fresh_form(), None).await
        }
    }
}

/// The import form: its text fields, the file's bytes (at most one more
/// than a calendar may have, to tell it is too large) and whether one was chosen.
async fn read_import(mut fields: Multipart) -> Result<(Form, Vec<u8>, bool), WebError> {
    let unreadable = |_| WebError::App(AppError::BadRequest("the form cannot be read".into()));
    let mut pairs = Vec::new();
    let mut file = Vec::new();
    let mut chosen = false;
    while let Some(field) = fields.next_field().await.map_err(unreadable)? {
        let name = field.name().unwrap_or_default().to_string();
        if name == FILE_FIELD {
            chosen |= field.file_name().is_some_and(|name| !name.is_empty());
            let limit = limits::CALENDAR_MAX_BYTES as u64 + 1;
            field
                .into_async_read()
                .take(limit)
                .read_to_end(&mut file)
                .await
                .map_err(|_| {
                    WebError::App(AppError::BadRequest("the file cannot be read".into()))
                })?;
        } else {
            pairs.push((name, field.text().await.map_err(unreadable)?));
        }
    }
    let chosen = chosen || !file.is_empty();
    Ok((Form::from_pairs(pairs), file, chosen))
}

#[handler]
pub async fn upload(ctx: Ctx<'_>, Path(slug): Path<String>, body: Multipart) -> WebResult {
    let (form, file, chosen) = read_import(body).await?;
    let form = ctx.checked(form)?;
    let viewer = ctx.require()?;
    let refuse = |errors, status| {
        let state = FormState::with_errors(form.values(), errors);
        list_page(&ctx, viewer, &slug, fresh_form(), state, Some(status))
    };
    if !chosen {
        let error = FieldError::new(FILE_FIELD, "choose an iCalendar (.ics) file");
        return refuse(vec![error], StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    if file.len() > limits::CALENDAR_MAX_BYTES {
        let error = FieldError::new(FILE_FIELD, "a calendar file holds at most 5 MiB");
        return refuse(vec![error], StatusCode::PAYLOAD_TOO_LARGE).await;
    }
    let kind = match kind_of(&form) {
        Ok(kind) => kind,
        Err(errors) => return refuse(errors, StatusCode::UNPROCESSABLE_ENTITY).await,
    };
    match calendars::import_file(ctx.services(), &viewer.principal, &slug, kind, &file).await {
        Ok(run) => {
            ctx.flash(format!("Imported: {}.", run_sentence(&run)), None);
            Ok(see_other(&format!(
                "/admin/groups/{slug}/calendars/{}",
                run.subscription_id
            )))
        }
        Err(error) => {
            let errors = field_errors(error, FILE_FIELD)?;
            refuse(errors, StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}

/// What a run did, in words: `2 new, 1 updated, 0 cancelled, 1 problem`.
fn run_sentence(run: &calendar_run::Model) -> String {
    let problems = problems_of(run).len();
    let mut text = format!(
        "{} new, {} updated, {} cancelled",
        run.new_count, run.updated_count, run.cancelled_count
    );
    match problems {
        0 => {}
        1 => text.push_str(", 1 problem (see below)"),
        n => text.push_str(&format!(", {n} problems (see below)")),
    }
    text
}

fn problems_of(run: &calendar_run::Model) -> Vec<String> {
    run.errors
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(str::to_string)
        .collect()
}

/// One run, as the subscription's page lists it.
struct RunRow {
    started: String,
    fetched: &'static str,
    new: i32,
    updated: i32,
    cancelled: i32,
    problems: Vec<String>,
}

impl RunRow {
    fn of(run: &calendar_run::Model) -> Self {
        let problems = problems_of(run);
        let fetched = match (run.fetched, problems.is_empty()) {
            (true, _) => "yes",
            (false, true) => "unchanged since the last run",
            (false, false) => "no",
        };
        Self {
            started: display::utc(run.started_at),
            fetched,
            new: run.new_count,
            updated: run.updated_count,
            cancelled: run.cancelled_count,
            problems,
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/calendar.html")]
struct CalendarPage {
    page: Layout,
    group: group::Model,
    manages: bool,
    id: i64,
    source: String,
    /// The group's file imports, which have no URL to fetch.
    imported: bool,
    facts: Vec<(&'static str, String)>,
    runs: Vec<RunRow>,
    form: FormState,
    kinds: Vec<Choice>,
    rule: &'static str,
    approve_hint: &'static str,
}

/// Whether the "approve at once" box shows ticked: for an admin, whether
/// it is in effect (ticking allows it); for an owner, their wish.
fn shows_ticked(viewer: &Viewer, found: &subscription::Model) -> bool {
    if viewer.is_admin() {
        approves_at_once(found)
    } else {
        found.auto_approve
    }
}

async fn subscription_page(
    ctx: &Ctx<'_>,
    viewer: &Viewer,
    (slug, id): (&str, i64),
    form: Option<FormState>,
    notice: Option<Notice>,
) -> WebResult {
    let view = calendars::get(ctx.services(), &viewer.principal, slug, id).await?;
    let group = lookup::group_by_slug(&ctx.services().db, slug).await?;
    let found = &view.subscription;
    // The settings as stored, unless the settings form was sent (the
    // delete form has only its box).
    let form = match form {
        Some(sent) if sent.values.contains_key("kind") => sent,
        sent => {
            let mut values = std::collections::HashMap::new();
            values.insert("kind".to_string(), found.kind.as_str().to_string());
            if shows_ticked(viewer, found) {
                values.insert("auto_approve".to_string(), "on".to_string());
            }
            FormState::with_errors(values, sent.map(|sent| sent.errors).unwrap_or_default())
        }
    };
    let mut facts = vec![
        (
            "Its events become",
            display::kind_label(found.kind).to_string(),
        ),
        ("They go", approval_of(found).to_string()),
        ("Since", display::utc(found.created_at)),
    ];
    if let Some(next) = found.next_fetch_at.filter(|_| !found.url.is_empty()) {
        facts.push(("Next fetch", display::utc(next)));
    }
    let status = page_status(notice.is_some(), &form.errors);
    let mut page = ctx
        .layout(source_of(found), "admin")
        .with_errors(&form.errors);
    page.notice = notice;
    let body = CalendarPage {
        page,
        manages: viewer.principal.can_manage_group(group.id),
        id,
        source: source_of(found),
        imported: found.url.is_empty(),
        facts,
        runs: view.runs.iter().map(RunRow::of).collect(),
        form,
        kinds: kinds(),
        rule: RULE,
        approve_hint: approve_hint(viewer),
        group,
    };
    Ok(respond(body, status))
}

#[handler]
pub async fn show(ctx: Ctx<'_>, Path((slug, id)): Path<(String, String)>) -> WebResult {
    let viewer = ctx.require()?;
    let id = id_of(&id, "calendar")?;
    subscription_page(&ctx, viewer, (&slug, id), None, None).await
}

/// Saves what the edit form changed: the kind, and the box only when it
/// was changed (an owner saving the kind does not withdraw an admin's allowance).
#[handler]
pub async fn update(
    ctx: Ctx<'_>,
    Path((slug, id)): Path<(String, String)>,
    body: Vec<u8>,
) -> WebResult {
    let form = ctx.form(&body)?;
    let viewer = ctx.require()?;
    let id = id_of(&id, "calendar")?;
    let again = |errors| {
        let state = FormState::with_errors(form.values(), errors);
        subscription_page(&ctx, viewer, (&slug, id), Some(state), None)
    };
    let kind = match kind_of(&form) {
        Ok(kind) => kind,
        Err(errors) => return again(errors).await,
    };
    let current = calendars::get(ctx.services(), &viewer.principal, &slug, id).await?;
    let ticked = form.checked("auto_approve");
    let change = SubscriptionChange {
        kind: Some(kind),
        auto_approve: (ticked != shows_ticked(viewer, &current.subscription)).then_some(ticked),
    };
    match calendars::update(ctx.services(), &viewer.principal, &slug, id, change).await {
        Ok(_) => {
            ctx.flash("Saved.", None);
            Ok(see_other(&format!("/admin/groups/{slug}/calendars/{id}")))
        }
        Err(error) => again(field_errors(error, "kind")?).await,
    }
}

/// "Sync now" and ending a subscription.
#[handler]
pub async fn act(
    ctx: Ctx<'_>,
    Path((slug, id, action)): Path<(String, String, String)>,
    body: Vec<u8>,
) -> WebResult {
    let form = ctx.form(&body)?;
    let viewer = ctx.require()?;
    let id = id_of(&id, "calendar")?;
    let services = ctx.services();
    match action.as_str() {
        "sync" => match calendars::sync_now(services, &viewer.principal, &slug, id).await {
            Ok(run) => {
                let text = if run.fetched {
                    format!("Fetched: {}.", run_sentence(&run))
                } else if run.errors.is_empty() {
                    "Fetched: the calendar has not changed since the last run.".into()
                } else {
                    "The calendar could not be fetched; the run below says why.".into()
                };
                ctx.flash(text, None);
                Ok(see_other(&format!("/admin/groups/{slug}/calendars/{id}")))
            }
            Err(AppError::Conflict(message) | AppError::InvalidTransition(message)) => {
                let notice = Notice {
                    heading: "Not fetched".into(),
                    text: crate::web::context::sentence(&message),
                };
                subscription_page(&ctx, viewer, (&slug, id), None, Some(notice)).await
            }
            Err(other) => Err(other.into()),
        },
        "delete" => {
            if let Some(error) = form.unconfirmed() {
                let state = FormState::with_errors(form.values(), vec![error]);
                return subscription_page(&ctx, viewer, (&slug, id), Some(state), None).await;
            }
            calendars::unsubscribe(services, &viewer.principal, &slug, id).await?;
            ctx.flash(
                "The subscription is ended; the entries it brought stay.",
                None,
            );
            Ok(see_other(&format!("/admin/groups/{slug}/calendars")))
        }
        _ => Err(WebError::App(AppError::not_found("action"))),
    }
}
