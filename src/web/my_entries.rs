//! "My entries": the list across my groups, the form per kind with its
//! preview, the entry page (actions, the moderator's request, history).

use std::collections::HashMap;

use askama::Template;
use askama_web::WebTemplate;
use poem::handler;
use poem::http::StatusCode;
use poem::web::{Path, Query};

use super::areas::area_choices;
use super::context::{
    Ctx, Layout, Notice, Viewer, WebError, WebResult, page_status, respond, see_other,
};
use super::display::{self, Badge, Choice, HistoryLine, Pager, Preview};
use super::forms::{self, Form, FormState, encode};
use crate::domain::entry::{EntryFields, EntryPatch};
use crate::domain::lifecycle::{ActionRequest, EditRequest, LiveChange, is_deletable, next_status};
use crate::domain::recurrence;
use crate::domain::schedule::{self, Timing};
use crate::domain::{
    Action, Attendance, EntryKind, EntryStatus, EventStatus, FieldError, GroupStatus, TextEnum,
    limits,
};
use crate::entities::{entry, entry_event, group};
use crate::error::{AppError, AppResult};
use crate::service::entries::{self, EntryFilter, EntryView, NewEntry, fields_of};
use crate::service::{Services, groups, lookup};

const PAGE_SIZE: u64 = 20;

/// An entry in a list.
pub struct Row {
    pub href: String,
    pub title: String,
    pub group: String,
    pub kind: &'static str,
    pub badge: Badge,
    pub language: String,
    pub when: String,
}

impl Row {
    pub fn of(view: &EntryView, href: String, when: i64, now: i64) -> Self {
        let entry = &view.entry;
        Self {
            href,
            title: entry.title.clone(),
            group: view.group_slug.clone(),
            kind: display::kind_label(entry.kind),
            badge: display::badge(entry, now),
            language: entry.language.clone().unwrap_or_else(|| "all".into()),
            when: display::utc(when),
        }
    }
}

/// A path id that is not a number is no entry at all.
pub fn entry_id(text: &str) -> Result<i64, WebError> {
    text.parse()
        .map_err(|_| WebError::App(AppError::not_found("entry")))
}

/// `?key=value&…` of the filters that are set, for page links.
pub fn query_string(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .filter(|(_, value)| !value.is_empty())
        .map(|(key, value)| format!("{key}={}", encode(value)))
        .collect::<Vec<_>>()
        .join("&")
}

/// Optional filter value of a closed set; an unknown value is ignored.
pub fn parse_filter<T: TextEnum>(query: &HashMap<String, String>, name: &str) -> Option<T> {
    query.get(name).and_then(|text| T::parse(text))
}

/// `?offset=`: garbage counts as 0 and a number past the last page any list
/// serves as that page, so page links never overflow.
pub fn offset(query: &HashMap<String, String>) -> u64 {
    query
        .get("offset")
        .and_then(|text| text.parse::<u64>().ok())
        .unwrap_or(0)
        .min(limits::MAX_LIST_OFFSET)
}

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

fn all_of(label: &str, choices: impl IntoIterator<Item = Choice>) -> Vec<Choice> {
    std::iter::once(Choice::new("", label))
        .chain(choices)
        .collect()
}

pub fn status_choices() -> Vec<Choice> {
    all_of(
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
    let group = query.get("group").filter(|slug| !slug.is_empty()).cloned();
    let filter = EntryFilter {
        group,
        status: parse_filter(&query, "status"),
        kind: parse_filter(&query, "kind"),
        languages: Vec::new(),
        mine: true,
        assigned_to: None,
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
    let text = |name: &str| query.get(name).map_or("", String::as_str);
    let base = query_string(&[
        ("status", text("status")),
        ("kind", text("kind")),
        ("group", text("group")),
    ]);
    let pager = Pager::new(total, offset, PAGE_SIZE, rows.len(), &base);
    let groups = writable_groups(ctx.services(), viewer).await?;
    Ok(respond(
        ListPage {
            page: ctx.layout("My entries", "my"),
            filters: FormState::new(query.clone()),
            statuses: status_choices(),
            kinds: all_of("Any kind", display::kinds()),
            groups: all_of(
                "All my groups",
                groups.iter().map(|g| Choice::new(&g.slug, &g.name)),
            ),
            rows,
            pager,
        },
        StatusCode::OK,
    ))
}

/// The active groups the viewer writes for (every active group for admins).
async fn writable_groups(services: &Services, viewer: &Viewer) -> AppResult<Vec<group::Model>> {
    let all = groups::list_public(services).await?;
    Ok(all
        .into_iter()
        .filter(|group| viewer.principal.can_write_entries(group.id))
        .collect())
}

/// The form of one kind, for creating or editing.
#[derive(Template, WebTemplate)]
#[template(path = "my/form.html")]
struct FormPage {
    page: Layout,
    form: FormState,
    action: String,
    creating: bool,
    kind: String,
    kind_label: &'static str,
    dated: bool,
    crowdfunding: bool,
    groups: Vec<Choice>,
    languages: Vec<Choice>,
    timezones: Vec<Choice>,
    currencies: Vec<Choice>,
    /// Saved areas, "none" first.
    areas: Vec<Choice>,
    max_chars: usize,
    preview: Option<Preview>,
    /// Shown at the top while changes are requested: who asked, what.
    request: Option<(String, String)>,
    /// Editing what is live: the approved revision stays online meanwhile.
    live: bool,
    /// Where "Cancel" goes.
    back: String,
    /// The publication window in words.
    window: String,
    event_statuses: Vec<Choice>,
    attendances: Vec<Choice>,
    repeats: Vec<Choice>,
}

#[derive(Template, WebTemplate)]
#[template(path = "my/choose.html")]
struct ChoosePage {
    page: Layout,
    kinds: Vec<(String, &'static str, &'static str)>,
    group: String,
}

fn kind_help(kind: EntryKind) -> &'static str {
    match kind {
        EntryKind::Event => {
            "A conference, workshop or training with a date and a place (or online)."
        }
        EntryKind::Meetup => "A user-group meeting: date, venue, everyone welcome.",
        EntryKind::Crowdfunding => "A campaign with a goal, a currency and a deadline.",
        EntryKind::Announcement => "News without a date: a release, a call for papers, a result.",
    }
}

struct FormSetup {
    kind: EntryKind,
    groups: Vec<group::Model>,
    country: String,
    areas: Vec<Choice>,
}

impl FormSetup {
    fn page(self, ctx: &Ctx<'_>, title: String, form: FormState) -> FormPage {
        let page = ctx.layout(title, "my").with_errors(&form.errors);
        let mut shown = EntryFields::default();
        shown.apply(forms::entry_patch(&Form::from_values(&form.values)).0);
        FormPage {
            window: display::window_sentence(self.kind, &shown, &ctx.services().timing()),
            event_statuses: EventStatus::ALL
                .iter()
                .map(|status| Choice::new(status.as_str(), display::event_status_label(*status)))
                .collect(),
            attendances: Attendance::ALL
                .iter()
                .map(|way| Choice::new(way.as_str(), display::attendance_label(*way)))
                .collect(),
            repeats: super::recurrence_form::choices(),
            page,
            action: String::new(),
            creating: true,
            kind: self.kind.as_str().into(),
            kind_label: display::kind_label(self.kind),
            dated: self.kind.is_dated(),
            crowdfunding: self.kind == EntryKind::Crowdfunding,
            groups: self
                .groups
                .iter()
                .map(|g| Choice::new(&g.slug, &g.name))
                .collect(),
            languages: display::languages(),
            timezones: display::timezones(&self.country),
            currencies: display::currencies(),
            areas: self.areas,
            max_chars: ctx.state.config.content_max_chars,
            preview: None,
            request: None,
            live: false,
            back: "/my/entries".into(),
            form,
        }
    }
}

/// The country whose time zones come first: the chosen group's.
fn country_of(groups: &[group::Model], slug: &str) -> String {
    groups
        .iter()
        .find(|group| group.slug == slug)
        .or(groups.first())
        .map(|group| group.country.clone())
        .unwrap_or_default()
}

#[handler]
pub async fn new_form(ctx: Ctx<'_>, Query(query): Query<HashMap<String, String>>) -> WebResult {
    let viewer = ctx.require()?;
    let groups = writable_groups(ctx.services(), viewer).await?;
    if groups.is_empty() {
        return Err(WebError::App(AppError::Forbidden(
            "you are not an editor of any active group; ask its owner to add you".into(),
        )));
    }
    let group = query.get("group").cloned().unwrap_or_default();
    let Some(kind) = parse_filter::<EntryKind>(&query, "kind") else {
        let page = ChoosePage {
            page: ctx.layout("New entry", "my"),
            kinds: EntryKind::ALL
                .iter()
                .map(|kind| {
                    (
                        kind.as_str().to_string(),
                        display::kind_label(*kind),
                        kind_help(*kind),
                    )
                })
                .collect(),
            group,
        };
        return Ok(respond(page, StatusCode::OK));
    };
    let slug = if groups.iter().any(|g| g.slug == group) {
        group
    } else {
        groups[0].slug.clone()
    };
    let country = country_of(&groups, &slug);
    let now = ctx.now();
    let mut fields = EntryFields {
        publish_from: Some(now - now % 60),
        ..EntryFields::default()
    };
    if kind.is_dated() {
        fields.timezone = display::timezones(&country)
            .first()
            .map(|zone| zone.value.clone());
    }
    let mut values = forms::entry_values(&fields);
    values.insert("group".into(), slug);
    let setup = FormSetup {
        kind,
        groups,
        country,
        areas: area_choices(ctx.services()).await?,
    };
    let title = format!("New {}", display::kind_label(kind).to_lowercase());
    let mut page = setup.page(&ctx, title, FormState::new(values));
    page.action = format!("/my/entries/new?kind={}", kind.as_str());
    Ok(respond(page, StatusCode::OK))
}

/// Preview (nothing stored), save, or save and submit.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Intent {
    Preview,
    Save,
    Submit,
}

fn intent(form: &Form) -> Intent {
    match form.text("intent") {
        "preview" => Intent::Preview,
        "submit" => Intent::Submit,
        _ => Intent::Save,
    }
}

/// What the form would publish, checked by the domain; for the preview.
fn previewed(
    kind: EntryKind,
    base: &EntryFields,
    patch: EntryPatch,
    group: &str,
    max: usize,
    parse_errors: Vec<FieldError>,
) -> (Preview, Vec<FieldError>) {
    let mut fields = base.clone();
    fields.apply(patch.clone());
    let errors = forms::all_errors(kind, patch, base, parse_errors, max);
    (Preview::of(&fields, kind, false, group), errors)
}

#[handler]
pub async fn create(
    ctx: Ctx<'_>,
    Query(query): Query<HashMap<String, String>>,
    body: Vec<u8>,
) -> WebResult {
    let form = ctx.form(&body)?;
    let viewer = ctx.require()?;
    let kind = EntryKind::parse(form.text("kind"))
        .or_else(|| parse_filter(&query, "kind"))
        .ok_or_else(|| WebError::App(AppError::field("kind", "is required")))?;
    let groups = writable_groups(ctx.services(), viewer).await?;
    let slug = form.text("group").to_string();
    let areas = area_choices(ctx.services()).await?;
    let setup = |groups| FormSetup {
        kind,
        groups,
        country: String::new(),
        areas: areas.clone(),
    };
    let (patch, parse_errors) = forms::entry_patch(&form);
    let max = ctx.state.config.content_max_chars;
    let title = format!("New {}", display::kind_label(kind).to_lowercase());
    let form_page =
        |groups: Vec<group::Model>, errors: Vec<FieldError>, preview: Option<Preview>| {
            let country = country_of(&groups, &slug);
            let mut setup: FormSetup = setup(groups);
            setup.country = country;
            let status = page_status(false, &errors);
            let mut page = setup.page(
                &ctx,
                title.clone(),
                FormState::with_errors(form.values(), errors),
            );
            page.action = format!("/my/entries/new?kind={}", kind.as_str());
            page.preview = preview;
            Ok(respond(page, status))
        };
    let group_name = groups
        .iter()
        .find(|g| g.slug == slug)
        .map(|g| g.name.clone())
        .unwrap_or_default();
    if intent(&form) == Intent::Preview || !parse_errors.is_empty() {
        let (preview, errors) = previewed(
            kind,
            &EntryFields::default(),
            patch,
            &group_name,
            max,
            parse_errors,
        );
        let shown = (intent(&form) == Intent::Preview).then_some(preview);
        return form_page(groups, errors, shown);
    }
    let new = NewEntry {
        group: Some(slug.clone()),
        kind: Some(kind),
        version: None,
        patch,
    };
    let created = match entries::create(ctx.services(), &viewer.principal, new).await {
        Ok(created) => created,
        Err(AppError::Validation(errors)) => return form_page(groups, errors, None),
        Err(other) => return Err(other.into()),
    };
    finish_save(&ctx, viewer, created, intent(&form), "Draft saved.").await
}

/// After a save: submit when asked, then back to the entry's page.
async fn finish_save(
    ctx: &Ctx<'_>,
    viewer: &Viewer,
    saved: EntryView,
    intent: Intent,
    saved_text: &str,
) -> WebResult {
    let id = saved.entry.id;
    let submits = intent == Intent::Submit
        && next_status(saved.entry.status, Action::Submit, saved.entry.in_feed).is_some();
    if submits {
        let request = ActionRequest {
            version: Some(saved.entry.version),
            ..ActionRequest::default()
        };
        entries::act(
            ctx.services(),
            &viewer.principal,
            id,
            Action::Submit,
            &request,
        )
        .await?;
        ctx.flash("Submitted for review: a moderator will look at it.", None);
    } else if intent == Intent::Submit && saved.entry.status == EntryStatus::Pending {
        ctx.flash("Saved; it is in review.", None);
    } else {
        ctx.flash(saved_text, None);
    }
    Ok(see_other(&format!("/my/entries/{id}")))
}

/// An entry with its group, as a page needs it.
pub struct EditorEntry {
    pub view: EntryView,
    pub group: group::Model,
    pub fields: EntryFields,
}

pub async fn load(ctx: &Ctx<'_>, viewer: &Viewer, id: &str) -> Result<EditorEntry, WebError> {
    let id = entry_id(id)?;
    let view = entries::get(ctx.services(), &viewer.principal, id).await?;
    let group = lookup::group_by_slug(&ctx.services().db, &view.group_slug).await?;
    let fields = fields_of(&view.entry);
    Ok(EditorEntry {
        view,
        group,
        fields,
    })
}

/// The latest request for changes, while the entry waits for them.
pub fn open_request(
    entry: &entry::Model,
    events: &[entry_event::Model],
) -> Option<(String, String)> {
    if entry.status != EntryStatus::ChangesRequested {
        return None;
    }
    events
        .iter()
        .rev()
        .find(|event| event.action == Action::RequestChanges)
        .map(|event| {
            (
                event.actor_name.clone(),
                event.comment.clone().unwrap_or_default(),
            )
        })
}

#[handler]
pub async fn edit_form(ctx: Ctx<'_>, Path(id): Path<String>) -> WebResult {
    let viewer = ctx.require()?;
    let loaded = load(&ctx, viewer, &id).await?;
    let mut values = forms::entry_values(&loaded.fields);
    values.insert("version".into(), loaded.view.entry.version.to_string());
    form_for_edit(&ctx, viewer, &loaded, FormState::new(values), None, None).await
}

async fn form_for_edit(
    ctx: &Ctx<'_>,
    viewer: &Viewer,
    loaded: &EditorEntry,
    form: FormState,
    preview: Option<Preview>,
    notice: Option<Notice>,
) -> WebResult {
    let entry = &loaded.view.entry;
    if !viewer.principal.can_write_entries(entry.group_id) {
        return Err(WebError::App(AppError::Forbidden(
            "only the entry's group may edit it".into(),
        )));
    }
    if next_status(entry.status, Action::Edit, entry.in_feed).is_none() {
        return Err(WebError::App(AppError::InvalidTransition(format!(
            "an entry that is {} cannot be edited; clone it to start again",
            display::status_label(entry.status).to_lowercase()
        ))));
    }
    if loaded.group.status != GroupStatus::Active {
        return Err(WebError::App(AppError::Forbidden(format!(
            "group {} is {} and cannot change entries",
            loaded.group.slug, loaded.group.status
        ))));
    }
    let events = entries::history(ctx.services(), &viewer.principal, entry.id).await?;
    let status = page_status(notice.is_some(), &form.errors);
    let setup = FormSetup {
        kind: entry.kind,
        groups: vec![loaded.group.clone()],
        country: loaded.group.country.clone(),
        areas: area_choices(ctx.services()).await?,
    };
    let mut page = setup.page(ctx, format!("Edit “{}”", entry.title), form);
    page.page.notice = notice;
    page.action = format!("/my/entries/{}/edit", entry.id);
    page.creating = false;
    page.preview = preview;
    page.request = open_request(entry, &events);
    page.live = entry.in_feed;
    page.back = format!("/my/entries/{}", entry.id);
    Ok(respond(page, status))
}

#[handler]
pub async fn update(ctx: Ctx<'_>, Path(id): Path<String>, body: Vec<u8>) -> WebResult {
    let form = ctx.form(&body)?;
    let viewer = ctx.require()?;
    let loaded = load(&ctx, viewer, &id).await?;
    let entry = &loaded.view.entry;
    let (patch, parse_errors) = forms::entry_patch(&form);
    let max = ctx.state.config.content_max_chars;
    if intent(&form) == Intent::Preview || !parse_errors.is_empty() {
        let (preview, errors) = previewed(
            entry.kind,
            &loaded.fields,
            patch,
            &loaded.group.name,
            max,
            parse_errors,
        );
        let shown = (intent(&form) == Intent::Preview).then_some(preview);
        return form_for_edit(
            &ctx,
            viewer,
            &loaded,
            FormState::with_errors(form.values(), errors),
            shown,
            None,
        )
        .await;
    }
    let request = EditRequest {
        group: None,
        kind: None,
        version: form.text("version").parse().ok(),
        patch,
    };
    match entries::update(ctx.services(), &viewer.principal, entry.id, request).await {
        Ok(saved) => finish_save(&ctx, viewer, saved, intent(&form), "Changes saved.").await,
        Err(AppError::Validation(errors)) => {
            form_for_edit(
                &ctx,
                viewer,
                &loaded,
                FormState::with_errors(form.values(), errors),
                None,
                None,
            )
            .await
        }
        Err(AppError::StaleVersion { current_version }) => {
            let notice = Notice {
                heading: "Someone else changed this entry".into(),
                text: format!(
                    "It changed while you edited it (it is now at version {current_version}); nothing of yours was saved. \
                     Your text is still below: open the entry in another tab, compare, then save again."
                ),
            };
            let mut values = form.values();
            values.insert("version".into(), current_version.to_string());
            form_for_edit(
                &ctx,
                viewer,
                &loaded,
                FormState::new(values),
                None,
                Some(notice),
            )
            .await
        }
        Err(other) => Err(other.into()),
    }
}

/// What the editor's and the moderator's entry pages both show.
pub struct Summary {
    pub id: i64,
    pub version: i32,
    pub title: String,
    pub badge: Badge,
    pub facts: Vec<(&'static str, String)>,
    pub preview: Preview,
    pub request: Option<(String, String)>,
}

impl Summary {
    pub fn of(loaded: &EditorEntry, events: &[entry_event::Model], now: i64) -> Self {
        let entry = &loaded.view.entry;
        Self {
            id: entry.id,
            version: entry.version,
            title: entry.title.clone(),
            badge: display::badge(entry, now),
            facts: facts(loaded),
            preview: Preview::of(&loaded.fields, entry.kind, entry.sticky, &loaded.group.name),
            request: open_request(entry, events),
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "my/entry.html")]
struct MyEntryPage {
    page: Layout,
    form: FormState,
    entry: Summary,
    live_note: bool,
    can_edit: bool,
    can_submit: bool,
    can_withdraw: bool,
    can_delete: bool,
    can_clone: bool,
    history: Vec<HistoryLine>,
    /// A published event the group may change without review.
    live_event: Option<LiveEvent>,
}

/// What the group may change on its published event at once: the status,
/// and which upcoming meeting is cancelled.
pub struct LiveEvent {
    pub statuses: Vec<Choice>,
    /// Upcoming occurrences: local start (their name) and when, in words.
    pub occurrences: Vec<Choice>,
}

impl LiveEvent {
    fn of(entry: &entry::Model, timing: &Timing) -> Option<Self> {
        let live = entries::live_revision_of(entry).ok().flatten()?;
        if !(entry.in_feed && live.kind.is_dated()) {
            return None;
        }
        let zone = schedule::zone_of(&live.fields)?;
        let occurrences = schedule::occurrences(&live.fields, timing.event_default_secs)
            .into_iter()
            .filter(|occurrence| occurrence.ends_at > timing.now)
            // Single events are cancelled through their status.
            .filter(|_| live.fields.recurrence.is_some())
            .map(|occurrence| {
                let when = recurrence::when(occurrence.starts_at, occurrence.ends_at, zone);
                Choice::new(occurrence.original, when)
            })
            .collect();
        Some(Self {
            statuses: EventStatus::ALL
                .iter()
                .map(|status| Choice::new(status.as_str(), display::event_status_label(*status)))
                .collect(),
            occurrences,
        })
    }
}

/// What an entry page lists besides the preview.
pub fn facts(loaded: &EditorEntry) -> Vec<(&'static str, String)> {
    let fields = &loaded.fields;
    let entry = &loaded.view.entry;
    let mut facts = vec![
        ("Group", loaded.group.name.clone()),
        ("Kind", display::kind_label(entry.kind).to_string()),
        (
            "Language",
            fields
                .language
                .as_deref()
                .map_or_else(|| "every language".into(), display::language_label),
        ),
        (
            "Publish from",
            fields
                .publish_from
                .map_or_else(|| "on approval".into(), display::utc),
        ),
        (
            "Publish until",
            fields
                .publish_to
                .map_or_else(|| "no end".into(), display::utc),
        ),
    ];
    if let Some(dates) = display::event_dates(fields) {
        facts.push(("When", dates));
    }
    if let Some(place) = &fields.location_name {
        facts.push(("Venue", place.clone()));
    }
    if let Some(online) = &fields.online_url {
        facts.push(("Online", online.clone()));
    }
    if let (Some(goal), Some(currency)) = (fields.goal_amount, &fields.currency) {
        facts.push(("Goal", format!("{goal} {currency}")));
    }
    if let Some(deadline) = fields.deadline {
        facts.push(("Deadline", display::utc(deadline)));
    }
    if fields.target_area.is_some() || fields.target_area_id.is_some() {
        facts.push((
            "Target area",
            "only readers inside its polygon (or speaking its language)".into(),
        ));
    }
    if entry.sticky {
        facts.push(("Sticky", "yes, pinned to the top".into()));
    }
    facts.push(("Last change", display::utc(entry.updated_at)));
    facts
}

async fn entry_page(
    ctx: &Ctx<'_>,
    viewer: &Viewer,
    id: &str,
    form: FormState,
    notice: Option<Notice>,
) -> WebResult {
    let loaded = load(ctx, viewer, id).await?;
    let entry = &loaded.view.entry;
    let events = entries::history(ctx.services(), &viewer.principal, entry.id).await?;
    let writes = viewer.principal.can_write_entries(entry.group_id);
    let allowed = |action| writes && next_status(entry.status, action, entry.in_feed).is_some();
    let status = page_status(notice.is_some(), &form.errors);
    let mut page = ctx
        .layout(entry.title.clone(), "my")
        .with_errors(&form.errors);
    page.notice = notice;
    let body = MyEntryPage {
        page,
        form,
        entry: Summary::of(&loaded, &events, ctx.now()),
        live_note: entry.in_feed && entry.status == EntryStatus::Pending,
        can_edit: allowed(Action::Edit) && loaded.group.status == GroupStatus::Active,
        can_submit: allowed(Action::Submit),
        can_withdraw: allowed(Action::Withdraw),
        can_delete: writes && is_deletable(entry.status, entry.live_revision.is_some()),
        can_clone: writes && loaded.group.status == GroupStatus::Active,
        history: display::history(&events),
        live_event: LiveEvent::of(entry, &ctx.services().timing()).filter(|_| writes),
    };
    Ok(respond(body, status))
}

#[handler]
pub async fn show(ctx: Ctx<'_>, Path(id): Path<String>) -> WebResult {
    let viewer = ctx.require()?;
    entry_page(&ctx, viewer, &id, FormState::default(), None).await
}

/// "Someone else was quicker": the 409s of actions, said plainly.
pub fn conflict_notice(error: &AppError) -> Option<Notice> {
    match error {
        AppError::StaleVersion { .. } => Some(Notice {
            heading: "This entry changed meanwhile".into(),
            text: "Someone else changed it after you opened this page, so nothing was done. \
                   Here it is as it stands now; decide again if you still want to."
                .into(),
        }),
        AppError::InvalidTransition(message) => Some(Notice {
            heading: "Not possible any more".into(),
            text: super::context::sentence(message),
        }),
        _ => None,
    }
}

#[handler]
pub async fn act(
    ctx: Ctx<'_>,
    Path((id, action)): Path<(String, String)>,
    body: Vec<u8>,
) -> WebResult {
    let form = ctx.form(&body)?;
    let viewer = ctx.require()?;
    let entry = entry_id(&id)?;
    let version = form.text("version").parse().ok();
    let again = |errors: Vec<FieldError>| async {
        entry_page(
            &ctx,
            viewer,
            &id,
            FormState::with_errors(form.values(), errors),
            None,
        )
        .await
    };
    let needs_confirmation = matches!(action.as_str(), "withdraw" | "delete");
    if needs_confirmation && !form.checked("confirm") {
        return again(vec![FieldError::new(
            "confirm",
            "tick the box to confirm: this cannot be undone",
        )])
        .await;
    }
    let result = match action.as_str() {
        "submit" | "withdraw" | "comment" => {
            let action = match action.as_str() {
                "submit" => Action::Submit,
                "withdraw" => Action::Withdraw,
                _ => Action::Comment,
            };
            let request = ActionRequest {
                version: version.filter(|_| action != Action::Comment),
                comment: form.optional("comment").map(str::to_string),
                ..ActionRequest::default()
            };
            entries::act(ctx.services(), &viewer.principal, entry, action, &request)
                .await
                .map(|_| {
                    let text = match action {
                        Action::Submit => "Submitted for review: a moderator will look at it.",
                        Action::Withdraw => "Withdrawn.",
                        _ => "Comment added.",
                    };
                    ctx.flash(text, None);
                    see_other(&format!("/my/entries/{entry}"))
                })
        }
        "event-status" | "cancel-occurrence" => {
            let mut change = LiveChange {
                version,
                ..LiveChange::default()
            };
            if action == "event-status" {
                change.event_status = Some(form.text("event_status").to_string());
            } else {
                let live = load(&ctx, viewer, &id).await?.view.entry;
                let mut exdates = entries::live_revision_of(&live)?
                    .map(|live| live.fields.exdates)
                    .unwrap_or_default();
                exdates.push(form.text("occurrence").to_string());
                change.exdates = Some(exdates);
            }
            entries::change_live(ctx.services(), &viewer.principal, entry, &change)
                .await
                .map(|_| {
                    ctx.flash("Changed: it shows everywhere now.", None);
                    see_other(&format!("/my/entries/{entry}"))
                })
        }
        "delete" => entries::delete(ctx.services(), &viewer.principal, entry)
            .await
            .map(|()| {
                ctx.flash("Deleted.", None);
                see_other("/my/entries")
            }),
        "clone" => entries::clone_entry(ctx.services(), &viewer.principal, entry)
            .await
            .map(|copy| {
                ctx.flash("A copy was made as a new draft: adjust it and save.", None);
                see_other(&format!("/my/entries/{}/edit", copy.entry.id))
            }),
        _ => return Err(WebError::App(AppError::not_found("action"))),
    };
    match result {
        Ok(response) => Ok(response),
        Err(AppError::Validation(errors)) => again(errors).await,
        Err(error) => match conflict_notice(&error) {
            Some(notice) => entry_page(&ctx, viewer, &id, FormState::default(), Some(notice)).await,
            None => Err(error.into()),
        },
    }
}
