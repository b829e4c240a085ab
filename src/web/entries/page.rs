//! An entry's page for its group: the preview, what can be done with it
//! now, the moderator's request, its posts on social accounts and the history.

use askama::Template;
use askama_web::WebTemplate;
use poem::handler;
use poem::web::Path;

use super::{Summary, load};
use crate::domain::lifecycle::{is_deletable, next_status};
use crate::domain::recurrence;
use crate::domain::schedule::{self, Timing};
use crate::domain::{Action, EntryStatus, GroupStatus, Network, Phase, PostStatus};
use crate::entities::{entry, entry_event};
use crate::service::entries;
use crate::service::syndication::{self, PlannedPost};
use crate::web::context::{Ctx, Layout, Notice, Viewer, WebResult, page_status, respond};
use crate::web::display::{self, Choice, HistoryLine};
use crate::web::forms::FormState;

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
    /// Where the published revision shows, once there is one.
    appears: Option<Appearance>,
    /// Its posts on the connected social accounts.
    cross_posts: Vec<CrossPost>,
}

/// The entry on one social account: the text, and the post's link or error.
pub struct CrossPost {
    pub network: &'static str,
    pub server: String,
    pub status: &'static str,
    pub text: String,
    pub url: Option<String>,
    pub error: Option<String>,
    /// The post to send again, when it failed.
    pub retry: Option<i64>,
}

impl CrossPost {
    fn of(planned: PlannedPost) -> Self {
        let network = match planned.account.account.network {
            Network::Mastodon => "Mastodon",
            Network::Bluesky => "Bluesky",
            Network::Telegram => "Telegram",
        };
        let post = planned.post;
        let status = match post.as_ref().map(|post| post.status) {
            None | Some(PostStatus::Skipped) => "not posted (sent when it goes live)",
            Some(PostStatus::Pending) => "being sent",
            Some(PostStatus::Posted) => "posted",
            Some(PostStatus::Failed) => "failed",
            Some(PostStatus::Deleting) => "being deleted",
            Some(PostStatus::Deleted) => "deleted",
            Some(PostStatus::Cancelled) => "not sent (taken offline first)",
        };
        Self {
            network,
            server: planned.account.account.server,
            status,
            text: planned.text,
            url: post.as_ref().and_then(|post| post.url.clone()),
            error: post.as_ref().and_then(|post| post.last_error.clone()),
            retry: post
                .filter(|post| post.status == PostStatus::Failed)
                .map(|post| post.id),
        }
    }
}

/// Where a published entry shows and since when: "Live since … until …",
/// its public page, the feeds and calendars that carry it, QGIS's answer.
pub struct Appearance {
    pub when: String,
    /// `(label, href)`, the public page first.
    pub links: Vec<(String, String)>,
}

/// When the entry was first approved since it was last taken offline.
fn first_approval(events: &[entry_event::Model]) -> Option<i64> {
    events.iter().fold(None, |since, event| match event.action {
        Action::Approve => since.or(Some(event.created_at)),
        Action::Unpublish => None,
        _ => since,
    })
}

impl Appearance {
    fn of(loaded: &super::EditorEntry, events: &[entry_event::Model]) -> Option<Self> {
        let entry = &loaded.view.entry;
        let (phase, _) = loaded.view.schedule();
        let live = entries::live_revision_of(entry).ok().flatten()?;
        // Its window opens at `publish_from`, or at the approval that made it live.
        let from = live
            .fields
            .publish_from
            .max(first_approval(events))
            .map(display::utc);
        let until = entry.live_publish_to.map(display::utc);
        let until_text = until
            .map(|until| format!(" until {until}"))
            .unwrap_or_default();
        let when = match (phase?, from) {
            (Phase::Upcoming, Some(from)) => format!("Goes live on {from}{until_text}"),
            (Phase::Live, Some(from)) => format!("Live since {from}{until_text}"),
            (Phase::Live, None) => format!("Live{until_text}"),
            (Phase::Ended, _) => format!("Was live{until_text}; now in the archive"),
            (Phase::Upcoming, None) => "Goes live soon".to_string(),
        };
        let slug = &loaded.group.slug;
        let group = &loaded.group.name;
        let mut links = vec![
            ("Public page".to_string(), format!("/entries/{}", entry.id)),
            // QGIS gets every group's news (`group` would ask for a JSON Feed).
            (
                "How QGIS receives it (QGIS news JSON)".to_string(),
                "/?json=1".to_string(),
            ),
        ];
        for (format, extension) in [("RSS", "rss"), ("Atom", "atom"), ("JSON Feed", "json")] {
            links.push((
                format!("{group}'s {format} feed"),
                format!("/groups/{slug}/feed.{extension}"),
            ));
        }
        links.push(("Everything's RSS feed".to_string(), "/feed.rss".to_string()));
        if live.kind.is_dated() {
            links.push((
                "This event's calendar (.ics)".to_string(),
                format!("/entries/{}.ics", entry.id),
            ));
            links.push((
                format!("{group}'s calendar"),
                format!("/groups/{slug}/feed.ics"),
            ));
            links.push(("Everything's calendar".to_string(), "/feed.ics".to_string()));
        }
        Some(Self { when, links })
    }
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
            statuses: display::event_statuses(),
            occurrences,
        })
    }
}

/// The page of entry `id`, with `form` (an action's errors) and `notice`.
pub async fn entry_page(
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
        appears: Appearance::of(&loaded, &events),
        cross_posts: syndication::entry_posts(ctx.services(), &viewer.principal, entry.id)
            .await?
            .into_iter()
            .map(CrossPost::of)
            .collect(),
    };
    Ok(respond(body, status))
}

#[handler]
pub async fn show(ctx: Ctx<'_>, Path(id): Path<String>) -> WebResult {
    let viewer = ctx.require()?;
    entry_page(&ctx, viewer, &id, FormState::default(), None).await
}
