//! Entries as their group works on them: the list across my groups
//! (`list`), the form per kind with its preview (`form`), the entry's page
//! (`page`) and what its buttons do (`actions`). What the moderator's pages
//! show of an entry too (a list row, the summary, loading) is here.

pub mod actions;
pub mod drafts;
pub mod form;
pub mod list;
pub mod page;
pub mod picture;
pub mod translations;

use super::context::{Ctx, Viewer, WebError};
use super::display::{self, Badge, Preview};
use super::query::id_of;
use crate::domain::entry::EntryFields;
use crate::domain::{Action, EntryKind, EntryStatus};
use crate::entities::{entry, entry_event, group};
use crate::error::{AppError, AppResult};
use crate::service::entries::{self, EntryView, fields_of};
use crate::service::{Services, groups, lookup};

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

/// An entry with its group, as a page needs it.
pub struct EditorEntry {
    pub view: EntryView,
    pub group: group::Model,
    pub fields: EntryFields,
}

/// The entry with the path id `id`, if the viewer may see it.
pub async fn load(ctx: &Ctx<'_>, viewer: &Viewer, id: &str) -> Result<EditorEntry, WebError> {
    let id = id_of(id, "entry")?;
    let view = entries::get(ctx.services(), &viewer.principal, id).await?;
    let group = lookup::group_by_slug(&ctx.services().db, &view.group_slug).await?;
    let fields = fields_of(&view.entry);
    Ok(EditorEntry {
        view,
        group,
        fields,
    })
}

/// Only the entry's group edits it, and moderators once it is in review or published.
pub fn require_writer(viewer: &Viewer, entry: &entry::Model) -> Result<(), WebError> {
    if viewer
        .principal
        .can_edit_entry(entry.group_id, entry.status)
    {
        Ok(())
    } else {
        Err(WebError::App(AppError::Forbidden(
            "only the entry's group may edit it (moderators: once it is in review or published)"
                .into(),
        )))
    }
}

/// The active groups the viewer writes for (every active group for admins).
pub async fn writable_groups(services: &Services, viewer: &Viewer) -> AppResult<Vec<group::Model>> {
    let all = groups::list_public(services).await?;
    Ok(all
        .into_iter()
        .filter(|group| viewer.principal.can_write_entries(group.id))
        .collect())
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

/// What an entry page lists besides the preview.
fn facts(loaded: &EditorEntry) -> Vec<(&'static str, String)> {
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
            fields.publish_to.map_or_else(
                || {
                    match entry.kind {
                        EntryKind::Event | EntryKind::Meetup => {
                            "the end of the event (its last meeting for a series)"
                        }
                        EntryKind::Crowdfunding => "the campaign's deadline",
                        EntryKind::Announcement => "the usual number of days after it starts",
                    }
                    .into()
                },
                display::utc,
            ),
        ),
    ];
    if !fields.translations.is_empty() {
        let languages: Vec<String> = fields
            .translations
            .keys()
            .map(|code| display::language_label(code))
            .collect();
        facts.push(("Translations", languages.join(", ")));
    }
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
