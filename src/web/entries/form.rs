//! The form of an entry, per kind: new or edited, previewed (nothing
//! stored), saved, or saved and sent to review in one step.

use std::collections::HashMap;

use askama::Template;
use askama_web::WebTemplate;
use poem::Response;
use poem::handler;
use poem::http::StatusCode;
use poem::web::{Path, Query};

use super::actions::done_text;
use super::picture::{self, EntryFormBody};
use super::translations::{self, TranslationTab};
use super::{EditorEntry, drafts, load, open_request, require_writer, writable_groups};
use crate::domain::draft::DraftKey;
use crate::domain::entry::{EntryFields, EntryPatch};
use crate::domain::group::{currency_of, languages_from_column, languages_of};
use crate::domain::lifecycle::{EditRequest, next_status};
use crate::domain::{Action, Attendance, EntryKind, FieldError, GroupStatus, TextEnum};
use crate::entities::{entry, group};
use crate::error::AppError;
use crate::service::entries::{self, NewEntry};
use crate::web::areas::area_choices;
use crate::web::context::{
    Ctx, Layout, Notice, Viewer, WebError, WebResult, page_status, respond, see_other,
};
use crate::web::display::{self, Choice, Preview};
use crate::web::forms::{self, Form, FormState};
use crate::web::query::parse_filter;

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
    /// A moderator fixing another group's entry: the group decides when to
    /// submit, the author is told.
    moderating: Option<String>,
    /// Where "Cancel" goes.
    back: String,
    /// Which form this is, for its autosaved draft.
    draft_key: String,
    /// Whether a kept draft fills the form (it offers to discard it).
    draft_restored: bool,
    /// The publication window in words.
    window: String,
    event_statuses: Vec<Choice>,
    attendances: Vec<Choice>,
    repeats: Vec<Choice>,
    /// Moderators may also link an image by URL.
    moderator: bool,
    /// The largest picture file accepted, in MiB.
    image_max_mib: usize,
    /// The languages it is translated into, one part of the form each.
    translations: Vec<TranslationTab>,
    /// The part the page's script copies for a language it adds.
    translation_template: TranslationTab,
    /// The languages a translation may be added in.
    translation_choices: Vec<Choice>,
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

/// What the form of a kind offers: the groups, the time zones of a
/// country first, the saved areas.
struct FormSetup {
    kind: EntryKind,
    groups: Vec<group::Model>,
    country: String,
    areas: Vec<Choice>,
}

impl FormSetup {
    async fn new(
        ctx: &Ctx<'_>,
        kind: EntryKind,
        groups: Vec<group::Model>,
        country: String,
    ) -> Result<Self, WebError> {
        Ok(Self {
            kind,
            groups,
            country,
            areas: area_choices(ctx.services()).await?,
        })
    }

    fn page(self, ctx: &Ctx<'_>, title: String, mut form: FormState) -> FormPage {
        let moderator = ctx.viewer.as_ref().is_some_and(Viewer::is_moderator);
        picture::shown_errors(&mut form.errors, moderator);
        forms::in_entry_form_order(&mut form.errors);
        let page = ctx.layout(title, "my").with_errors(&form.errors);
        let mut shown = EntryFields::default();
        shown.apply(forms::entry_patch(&Form::from_values(&form.values)).0);
        FormPage {
            translations: translations::tabs(&form),
            translation_template: TranslationTab::template(),
            translation_choices: translations::choices(&form),
            window: display::window_sentence(self.kind, &shown, &ctx.services().timing()),
            event_statuses: display::event_statuses(),
            attendances: Attendance::ALL
                .iter()
                .map(|way| Choice::new(way.as_str(), display::attendance_label(*way)))
                .collect(),
            repeats: crate::web::recurrence_form::choices(),
            moderator,
            image_max_mib: ctx.state.config.image_max_bytes.div_ceil(1024 * 1024),
            page,
            action: String::new(),
            creating: true,
            kind: self.kind.as_str().into(),
            kind_label: display::kind_label(self.kind),
            dated: self.kind.is_dated(),
            crowdfunding: self.kind == EntryKind::Crowdfunding,
            groups: display::group_choices(&self.groups).collect(),
            languages: display::languages(),
            timezones: display::timezones(&self.country),
            currencies: display::currencies(),
            areas: self.areas,
            max_chars: ctx.state.config.content_max_chars,
            preview: None,
            request: None,
            live: false,
            moderating: None,
            back: "/my/entries".into(),
            draft_key: DraftKey::New(self.kind).to_string(),
            draft_restored: false,
            form,
        }
    }

    /// The form of a new entry.
    fn new_entry(self, ctx: &Ctx<'_>, form: FormState) -> FormPage {
        let kind = self.kind;
        let title = format!("New {}", display::kind_label(kind).to_lowercase());
        let mut page = self.page(ctx, title, form);
        page.action = format!("/my/entries/new?kind={}", kind.as_str());
        page
    }
}

/// Entries are written for a group the viewer edits for.
fn require_some(groups: &[group::Model]) -> Result<(), WebError> {
    if groups.is_empty() {
        return Err(WebError::App(AppError::Forbidden(
            "you are not an editor of any active group; ask its owner to add you".into(),
        )));
    }
    Ok(())
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
    require_some(&groups)?;
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
    let group_languages = groups
        .iter()
        .find(|group| group.slug == slug)
        .map(|group| languages_of(&languages_from_column(&group.languages), &group.country))
        .unwrap_or_default();
    // A local group writes for its own readers: "every language" is a choice
    // to make, not a default.
    let mut fields = EntryFields {
        publish_from: Some(now - now % 60),
        language: group_languages.first().cloned(),
        ..EntryFields::default()
    };
    if kind == EntryKind::Crowdfunding {
        fields.currency = currency_of(&country).map(str::to_string);
    }
    if kind.is_dated() {
        fields.timezone = display::timezones(&country)
            .first()
            .map(|zone| zone.value.clone());
    }
    let mut values = forms::entry_values(&fields);
    values.insert("group".into(), slug);
    let restored = drafts::restore(&ctx, viewer, DraftKey::New(kind), &mut values, None).await?;
    let setup = FormSetup::new(&ctx, kind, groups, country).await?;
    let mut page = setup.new_entry(&ctx, FormState::new(values));
    page.draft_restored = restored.is_some();
    page.page.notice = restored;
    Ok(respond(page, StatusCode::OK))
}

/// Preview (nothing stored), save, save and submit, or add or remove a
/// translation (nothing stored: the form comes back with the change).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Intent {
    Preview,
    Save,
    Submit,
    Translate,
}

impl Intent {
    fn of(form: &Form) -> Self {
        if translations::rearranges(form) {
            return Self::Translate;
        }
        match form.text("intent") {
            "preview" => Self::Preview,
            "submit" => Self::Submit,
            _ => Self::Save,
        }
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

/// Back to the entry's page after a save, saying what became of it:
/// `could_submit` says whether it was not in review yet.
fn saved(
    ctx: &Ctx<'_>,
    entry: &entry::Model,
    intent: Intent,
    could_submit: bool,
    saved_text: &str,
) -> Response {
    let text = match intent {
        Intent::Submit if could_submit => done_text(Action::Submit),
        Intent::Submit => "Saved; it is in review.",
        _ => saved_text,
    };
    ctx.flash(text, None);
    see_other(&format!("/my/entries/{}", entry.id))
}

/// The form of a new entry again, as it was sent, with `errors`.
async fn new_entry_again(
    ctx: &Ctx<'_>,
    kind: EntryKind,
    groups: Vec<group::Model>,
    form: &Form,
    errors: Vec<FieldError>,
    preview: Option<Preview>,
) -> WebResult {
    let country = country_of(&groups, form.text("group"));
    let status = page_status(false, &errors);
    let setup = FormSetup::new(ctx, kind, groups, country).await?;
    let mut page = setup.new_entry(ctx, FormState::with_errors(form.values(), errors));
    page.preview = preview;
    Ok(respond(page, status))
}

#[handler]
pub async fn create(
    ctx: Ctx<'_>,
    Query(query): Query<HashMap<String, String>>,
    body: EntryFormBody,
) -> WebResult {
    let mut form = ctx.checked(body.form)?;
    let viewer = ctx.require()?;
    let kind = EntryKind::parse(form.text("kind"))
        .or_else(|| parse_filter(&query, "kind"))
        .ok_or_else(|| WebError::App(AppError::field("kind", "is required")))?;
    let groups = writable_groups(ctx.services(), viewer).await?;
    require_some(&groups)?;
    let picture = picture::settle(&ctx, viewer, &mut form, body.upload, "").await?;
    let intent = Intent::of(&form);
    let max = ctx.state.config.content_max_chars;
    if intent == Intent::Translate {
        let mut errors = translations::rearrange(&mut form, kind, &EntryFields::default(), max);
        errors.extend(picture.errors.iter().cloned());
        let page = new_entry_again(&ctx, kind, groups, &form, errors, None).await;
        return picture::answer(&picture, page);
    }
    let (patch, mut parse_errors) = forms::entry_patch(&form);
    parse_errors.extend(picture.errors.iter().cloned());
    if intent == Intent::Preview || !parse_errors.is_empty() {
        let group_name = groups
            .iter()
            .find(|g| g.slug == form.text("group"))
            .map(|g| g.name.clone())
            .unwrap_or_default();
        let base = EntryFields::default();
        let (preview, errors) = previewed(kind, &base, patch, &group_name, max, parse_errors);
        let shown = (intent == Intent::Preview).then_some(preview);
        let page = new_entry_again(&ctx, kind, groups, &form, errors, shown).await;
        return picture::answer(&picture, page);
    }
    let new = NewEntry {
        group: Some(form.text("group").to_string()),
        kind: Some(kind),
        version: None,
        patch,
    };
    let (services, principal) = (ctx.services(), &viewer.principal);
    let created = if intent == Intent::Submit {
        entries::create_and_submit(services, principal, new).await
    } else {
        entries::create(services, principal, new).await
    };
    match created {
        Ok(created) => {
            drafts::saved(&ctx, viewer, DraftKey::New(kind)).await?;
            Ok(saved(&ctx, &created.entry, intent, true, "Draft saved."))
        }
        Err(AppError::Validation(errors)) => {
            new_entry_again(&ctx, kind, groups, &form, errors, None).await
        }
        Err(other) => Err(other.into()),
    }
}

#[handler]
pub async fn edit_form(ctx: Ctx<'_>, Path(id): Path<String>) -> WebResult {
    let viewer = ctx.require()?;
    let loaded = load(&ctx, viewer, &id).await?;
    let entry = &loaded.view.entry;
    let mut values = forms::entry_values(&loaded.fields);
    let key = DraftKey::Entry(entry.id);
    let changed = Some(entry.updated_at);
    let restored = drafts::restore(&ctx, viewer, key, &mut values, changed).await?;
    values.insert("version".into(), entry.version.to_string());
    form_for_edit(
        &ctx,
        viewer,
        &loaded,
        FormState::new(values),
        None,
        restored,
    )
    .await
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
    require_writer(viewer, entry)?;
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
    // A kept draft is good news; any other notice is a conflict.
    let restored = notice
        .as_ref()
        .is_some_and(|notice| notice.heading == drafts::RESTORED);
    let status = page_status(notice.is_some() && !restored, &form.errors);
    let group = loaded.group.clone();
    let country = group.country.clone();
    let setup = FormSetup::new(ctx, entry.kind, vec![group], country).await?;
    let mut page = setup.page(ctx, format!("Edit “{}”", entry.title), form);
    page.page.notice = notice;
    page.action = format!("/my/entries/{}/edit", entry.id);
    page.creating = false;
    page.preview = preview;
    page.request = open_request(entry, &events);
    page.live = entry.in_feed;
    page.back = format!("{}/{}", entry_home(viewer, entry), entry.id);
    page.moderating = moderating(viewer, entry).then(|| loaded.group.name.clone());
    page.draft_key = DraftKey::Entry(entry.id).to_string();
    page.draft_restored = restored;
    Ok(respond(page, status))
}

/// A moderator editing an entry of a group they do not write for.
fn moderating(viewer: &Viewer, entry: &entry::Model) -> bool {
    !viewer.principal.can_write_entries(entry.group_id)
}

/// Where the viewer's page of the entry lives: the group's entry page, or
/// the moderation page for a moderator from outside the group.
fn entry_home(viewer: &Viewer, entry: &entry::Model) -> &'static str {
    if moderating(viewer, entry) {
        "/moderation"
    } else {
        "/my/entries"
    }
}

/// "Someone else changed this entry": the edit form again with what was
/// typed, on the version that is current now.
fn stale_edit(form: &Form, current_version: i32) -> (FormState, Notice) {
    let notice = Notice {
        heading: "Someone else changed this entry".into(),
        text: format!(
            "It changed while you edited it (it is now at version {current_version}); nothing of yours was saved. \
             Your text is still below: open the entry in another tab, compare, then save again."
        ),
    };
    let mut values = form.values();
    values.insert("version".into(), current_version.to_string());
    (FormState::new(values), notice)
}

#[handler]
pub async fn update(ctx: Ctx<'_>, Path(id): Path<String>, body: EntryFormBody) -> WebResult {
    let mut form = ctx.checked(body.form)?;
    let viewer = ctx.require()?;
    let loaded = load(&ctx, viewer, &id).await?;
    let entry = &loaded.view.entry;
    require_writer(viewer, entry)?;
    let picture =
        picture::settle(&ctx, viewer, &mut form, body.upload, &loaded.fields.image).await?;
    let intent = Intent::of(&form);
    let max = ctx.state.config.content_max_chars;
    if intent == Intent::Translate {
        let mut errors = translations::rearrange(&mut form, entry.kind, &loaded.fields, max);
        errors.extend(picture.errors.iter().cloned());
        let state = FormState::with_errors(form.values(), errors);
        let page = form_for_edit(&ctx, viewer, &loaded, state, None, None).await;
        return picture::answer(&picture, page);
    }
    let (patch, mut parse_errors) = forms::entry_patch(&form);
    parse_errors.extend(picture.errors.iter().cloned());
    let again = |errors, preview, notice| {
        let state = FormState::with_errors(form.values(), errors);
        form_for_edit(&ctx, viewer, &loaded, state, preview, notice)
    };
    if intent == Intent::Preview || !parse_errors.is_empty() {
        let group = &loaded.group.name;
        let (preview, errors) =
            previewed(entry.kind, &loaded.fields, patch, group, max, parse_errors);
        let shown = (intent == Intent::Preview).then_some(preview);
        return picture::answer(&picture, again(errors, shown, None).await);
    }
    let request = EditRequest {
        group: None,
        kind: None,
        version: form.text("version").parse().ok(),
        patch,
    };
    let (services, principal) = (ctx.services(), &viewer.principal);
    let updated = if intent == Intent::Submit {
        entries::update_and_submit(services, principal, entry.id, request).await
    } else {
        entries::update(services, principal, entry.id, request).await
    };
    match updated {
        Ok(updated) if moderating(viewer, entry) => {
            drafts::saved(&ctx, viewer, DraftKey::Entry(entry.id)).await?;
            ctx.flash(
                "Your changes are saved and recorded as yours; the entry's author is told.",
                None,
            );
            Ok(see_other(&format!("/moderation/{}", updated.entry.id)))
        }
        Ok(updated) => {
            drafts::saved(&ctx, viewer, DraftKey::Entry(entry.id)).await?;
            let could_submit = next_status(entry.status, Action::Submit, entry.in_feed).is_some();
            Ok(saved(
                &ctx,
                &updated.entry,
                intent,
                could_submit,
                "Changes saved.",
            ))
        }
        Err(AppError::Validation(errors)) => again(errors, None, None).await,
        Err(AppError::StaleVersion { current_version }) => {
            let (state, notice) = stale_edit(&form, current_version);
            form_for_edit(&ctx, viewer, &loaded, state, None, Some(notice)).await
        }
        Err(other) => Err(other.into()),
    }
}
