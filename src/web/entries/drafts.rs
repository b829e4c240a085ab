//! Unsaved entry forms: the page's script sends the form every 30 s while
//! someone types (and when they leave), and the form brings the draft back
//! the next time it opens, until it is saved or discarded.

use std::collections::HashMap;

use poem::http::StatusCode;
use poem::{IntoResponse, handler};

use super::{load, require_writer};
use crate::domain::codes;
use crate::domain::draft::{DraftKey, kept_fields};
use crate::domain::entry::translation_field;
use crate::error::AppError;
use crate::service::drafts::{self, Draft};
use crate::web::context::{Ctx, Notice, Viewer, WebError, WebResult, see_other};
use crate::web::display;
use crate::web::forms::{ENTRY_FORM_ORDER, Form, TRANSLATIONS};

/// The heading of the notice on a form its draft fills.
pub const RESTORED: &str = "Your unsaved changes are back";

/// The longest value a draft keeps of one field (the content is the longest).
const MAX_FIELD_CHARS: usize = 100_000;

/// The form a draft belongs to, from the posted `draft_key`.
fn key_of(form: &Form) -> Result<DraftKey, WebError> {
    DraftKey::parse(form.text("draft_key"))
        .ok_or_else(|| WebError::App(AppError::field("draft_key", "is not a form of this site")))
}

/// The viewer may keep a draft of this form: a new entry (they write for a
/// group), or an entry they may edit.
async fn may_keep(ctx: &Ctx<'_>, viewer: &Viewer, key: DraftKey) -> Result<(), WebError> {
    match key {
        DraftKey::New(_) => Ok(()),
        DraftKey::Entry(id) => {
            let loaded = load(ctx, viewer, &id.to_string()).await?;
            require_writer(viewer, &loaded.view.entry)
        }
    }
}

/// Autosave: keeps the posted form as the viewer's draft of it.
#[handler]
pub async fn save(ctx: Ctx<'_>, body: Vec<u8>) -> WebResult {
    let form = ctx.form(&body)?;
    let viewer = ctx.require()?;
    let key = key_of(&form)?;
    may_keep(&ctx, viewer, key).await?;
    let values = form.values();
    let fields = kept_fields(
        values
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_str())),
        shown_field,
        MAX_FIELD_CHARS,
    );
    let user = viewer.principal.attributed_user_id();
    let saved_at = drafts::save(ctx.services(), user, key, &fields).await?;
    let said = format!("Draft kept at {}.", display::utc(saved_at));
    Ok(said.with_status(StatusCode::OK).into_response())
}

/// Whether the entry form has a field `name`: one of its fixed fields, or
/// a text of a translation into a known language (so a draft holds at
/// most the known languages' four texts).
fn shown_field(name: &str) -> bool {
    ENTRY_FORM_ORDER.contains(&name)
        || translation_field(name).is_some_and(|(code, _)| codes::is_language(code))
}

/// Where the form of `key` is.
fn form_path(key: DraftKey) -> String {
    match key {
        DraftKey::Entry(id) => format!("/my/entries/{id}/edit"),
        DraftKey::New(kind) => format!("/my/entries/new?kind={}", kind.as_str()),
    }
}

/// Drops the viewer's draft and opens the form as it is stored.
#[handler]
pub async fn discard(ctx: Ctx<'_>, body: Vec<u8>) -> WebResult {
    let form = ctx.form(&body)?;
    let viewer = ctx.require()?;
    let key = key_of(&form)?;
    let user = viewer.principal.attributed_user_id();
    drafts::discard(ctx.services(), user, key).await?;
    ctx.flash("The unsaved changes are discarded.", None);
    Ok(see_other(&form_path(key)))
}

/// The viewer's draft of form `key` over `values` (what the form would
/// show), and the notice that says so; `changed_at`: when the entry last
/// changed, to warn when that was after the draft.
pub async fn restore(
    ctx: &Ctx<'_>,
    viewer: &Viewer,
    key: DraftKey,
    values: &mut HashMap<String, String>,
    changed_at: Option<i64>,
) -> Result<Option<Notice>, WebError> {
    let user = viewer.principal.attributed_user_id();
    let Some(Draft { fields, saved_at }) = drafts::find(ctx.services(), user, key).await? else {
        return Ok(None);
    };
    // A draft of a form with the translations' part has every translation
    // it kept: those it does not have were removed.
    if fields.contains_key(TRANSLATIONS) {
        values.retain(|name, _| translation_field(name).is_none());
    }
    values.extend(fields);
    let mut text = format!(
        "These are your unsaved changes, kept at {}. Save to keep them, or discard them below.",
        display::utc(saved_at)
    );
    if changed_at.is_some_and(|changed| changed > saved_at) {
        text.push_str(" The entry changed after that: compare before you save.");
    }
    Ok(Some(Notice {
        heading: RESTORED.into(),
        text,
    }))
}

/// Forgets the viewer's draft once its form is saved.
pub async fn saved(ctx: &Ctx<'_>, viewer: &Viewer, key: DraftKey) -> Result<(), WebError> {
    let user = viewer.principal.attributed_user_id();
    Ok(drafts::discard(ctx.services(), user, key).await?)
}
