//! The entry life cycle: which action moves an entry from which status to
//! which, who may take it, and what it changes. [`plan_action`] and
//! [`plan_edit`] decide everything; the service only stores the plan.

use serde_json::{Map, Value};

use super::EntryStatus::{self, *};
use super::authz::Principal;
use super::entry::{EntryFields, EntryPatch, LiveRevision, diff, validate};
use super::schedule::{Timing, check_not_over, publish_until};
use super::validate::{Checker, Refusal};
use super::{Action, EntryKind, GroupStatus, limits, media};

impl Action {
    /// Decisions that take something away from an editor must say why.
    pub fn requires_comment(self) -> bool {
        matches!(
            self,
            Action::Reject | Action::RequestChanges | Action::Unpublish | Action::Comment
        )
    }

    /// Actions only moderators (and admins) may take.
    pub fn is_moderation(self) -> bool {
        matches!(
            self,
            Action::Approve | Action::Reject | Action::RequestChanges | Action::Unpublish
        )
    }

    /// The action in a sentence: `request changes`.
    pub fn verb(self) -> String {
        self.as_str().replace('_', " ")
    }
}

/// The status an entry moves to when `action` is applied in `from`, or `None`
/// when the action is not allowed there. `in_feed` says whether an approved
/// revision is being published (then an edit of it may be in review).
pub fn next_status(from: EntryStatus, action: Action, in_feed: bool) -> Option<EntryStatus> {
    match (action, from) {
        (Action::Edit, Draft | ChangesRequested) => Some(from),
        // Editing what is in review keeps it in review; editing what is live
        // sends the edit to review while the approved revision stays live.
        (Action::Edit, Pending | Approved) => Some(Pending),
        (Action::Submit, Draft | ChangesRequested) => Some(Pending),
        // The group may take back what it sent, and take its own live entry offline.
        (Action::Withdraw, Draft | Pending | ChangesRequested | Approved) => Some(Withdrawn),
        (Action::Approve, Pending) => Some(Approved),
        // Rejecting an edit of a live entry refuses the edit, not the entry:
        // it goes back to the approved revision that is still live.
        (Action::Reject, Pending) if in_feed => Some(Approved),
        (Action::Reject, Pending) => Some(Rejected),
        (Action::RequestChanges, Pending) => Some(ChangesRequested),
        (Action::Unpublish, Approved) => Some(Unpublished),
        (Action::Unpublish, Pending | ChangesRequested | Rejected) if in_feed => Some(Unpublished),
        (Action::Comment, status) => Some(status),
        _ => None,
    }
}

/// Whether a group member may delete the entry outright: only what was never published.
pub fn is_deletable(status: EntryStatus, ever_published: bool) -> bool {
    !ever_published && matches!(status, Draft | Withdrawn)
}

/// Only active groups write and submit, and only their entries are
/// approved: a suspended group keeps what was approved before.
pub fn require_active_group(slug: &str, status: GroupStatus, doing: &str) -> Result<(), Refusal> {
    match status {
        GroupStatus::Active => Ok(()),
        GroupStatus::Suspended | GroupStatus::Removed => Err(Refusal::GroupInactive(format!(
            "group {slug} is {status}: {doing}"
        ))),
    }
}

/// An entry as the rules see it.
#[derive(Clone, Copy, Debug)]
pub struct EntryState<'a> {
    pub group_id: i64,
    pub group_slug: &'a str,
    pub group_status: GroupStatus,
    pub kind: EntryKind,
    pub status: EntryStatus,
    pub version: i32,
    /// Whether an approved revision is being published (or scheduled).
    pub in_feed: bool,
    pub sticky: bool,
    pub priority: i32,
    /// The working revision (what editors see and edit).
    pub fields: &'a EntryFields,
    /// The approved revision; present whenever `in_feed` is.
    pub live: Option<&'a LiveRevision>,
    /// Now, and the lengths of default windows.
    pub timing: Timing,
}

/// What someone sends with a life-cycle action.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ActionRequest {
    pub comment: Option<String>,
    pub version: Option<i32>,
    pub sticky: Option<bool>,
    pub priority: Option<i32>,
    pub publish_from: Option<i64>,
    pub publish_to: Option<i64>,
    /// On approving an edit of a live entry: whether QGIS clients are sent
    /// it again (an update) or not (a correction); `None` decides by what
    /// changed ([`notifies_by_default`]).
    pub notify_clients: Option<bool>,
}

/// What an action does to the stored entry, beyond its status.
#[derive(Clone, Debug, PartialEq)]
pub enum Effect {
    /// Nothing but a line in the history (comments do not bump the version).
    Record,
    /// The status changes, nothing else.
    Move,
    /// Into review: the submission time is set.
    Submit,
    /// The working revision becomes the published one, until `until`
    /// (the window its kind gives it; `None` is open-ended); QGIS clients
    /// are sent it again unless `notify_clients` is false (a correction).
    Publish {
        live: LiveRevision,
        until: Option<i64>,
        notify_clients: bool,
    },
    /// The working revision goes back to the published one (a refused edit).
    Restore(EntryFields),
    /// The published revision goes offline; it is kept so that clients
    /// showing it can be told to drop it.
    Retract,
}

/// A decided action: the service stores it in one transaction.
#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    pub action: Action,
    pub from: EntryStatus,
    pub to: EntryStatus,
    pub comment: Option<String>,
    /// Changed fields as `{field: [old, new]}`, for the history.
    pub changes: Map<String, Value>,
    pub effect: Effect,
    /// The instant it was judged at: what it stores is stamped with it, so
    /// that a window computed from it stays whole across a clock tick.
    pub at: i64,
}

impl Plan {
    /// Whether the feeds publish something else afterwards.
    pub fn changes_what_is_live(&self) -> bool {
        matches!(self.effect, Effect::Publish { .. } | Effect::Retract)
    }
}

fn may_take(principal: &Principal, group_id: i64, action: Action) -> bool {
    if action.is_moderation() {
        principal.is_moderator()
    } else if action == Action::Comment {
        principal.is_moderator() || principal.can_write_entries(group_id)
    } else {
        principal.can_write_entries(group_id)
    }
}

/// A comment: trimmed, empty means none.
fn clean_comment(comment: Option<&str>) -> Result<Option<String>, Refusal> {
    let mut check = Checker::new();
    let comment = comment.map(|text| check.multiline("comment", text, limits::COMMENT_CHARS));
    check.finish()?;
    Ok(comment.filter(|text| !text.is_empty()))
}

/// Decides a life-cycle action (submit, withdraw, approve, reject, request
/// changes, unpublish, comment) by `principal` on `entry`.
pub fn plan_action(
    principal: &Principal,
    entry: &EntryState<'_>,
    action: Action,
    request: &ActionRequest,
) -> Result<Plan, Refusal> {
    if !may_take(principal, entry.group_id, action) {
        return Err(Refusal::Forbidden(format!(
            "you may not {} this entry",
            action.verb()
        )));
    }
    let comment = clean_comment(request.comment.as_deref())?;
    if action.requires_comment() && comment.is_none() {
        return Err(Refusal::field("comment", "is required for this action"));
    }
    if action != Action::Approve {
        let approve_only = [
            ("sticky", request.sticky.is_some()),
            ("priority", request.priority.is_some()),
            ("publish_from", request.publish_from.is_some()),
            ("publish_to", request.publish_to.is_some()),
            ("notify_clients", request.notify_clients.is_some()),
        ];
        if let Some((field, _)) = approve_only.iter().find(|(_, given)| *given) {
            return Err(Refusal::field(field, "only applies to approve"));
        }
    }
    if request
        .version
        .is_some_and(|version| version != entry.version)
    {
        return Err(Refusal::Stale {
            current_version: entry.version,
        });
    }
    match action {
        Action::Submit => {
            require_active_group(
                entry.group_slug,
                entry.group_status,
                "it cannot submit entries",
            )?;
            check_not_over(entry.kind, entry.fields, &entry.timing)?;
        }
        Action::Approve => require_active_group(
            entry.group_slug,
            entry.group_status,
            "its entries cannot be approved",
        )?,
        _ => {}
    }
    let from = entry.status;
    let to = next_status(from, action, entry.in_feed).ok_or_else(|| {
        Refusal::InvalidTransition(format!("cannot {} an entry that is {from}", action.verb()))
    })?;
    let mut changes = Map::new();
    let effect = match (action, entry.live) {
        (Action::Comment, _) => Effect::Record,
        (Action::Submit, _) => Effect::Submit,
        (Action::Approve, _) => {
            let (diff, effect) = plan_approval(entry, request)?;
            changes = diff;
            effect
        }
        (Action::Reject, Some(live)) if entry.in_feed => {
            // The refused edit stays in the history; the entry shows what is live again.
            changes = diff(entry.fields, &live.fields);
            Effect::Restore(live.fields.clone())
        }
        (Action::Unpublish | Action::Withdraw, _) if entry.in_feed => Effect::Retract,
        _ => Effect::Move,
    };
    Ok(Plan {
        action,
        from,
        to,
        comment,
        changes,
        effect,
        at: entry.timing.now,
    })
}

/// What approving `entry` publishes, and the fields that changes (for the history).
fn plan_approval(
    entry: &EntryState<'_>,
    request: &ActionRequest,
) -> Result<(Map<String, Value>, Effect), Refusal> {
    let live = approved_revision(entry, request)?;
    check_not_over(entry.kind, &live.fields, &entry.timing)?;
    let from = live.fields.publish_from.unwrap_or(entry.timing.now);
    let until = publish_until(entry.kind, &live.fields, from, &entry.timing);
    if until.is_some_and(|until| until <= from) {
        return Err(Refusal::field(
            "publish_from",
            "is after the end of the publication window (the event's end or the deadline)",
        ));
    }
    let before = LiveRevision {
        kind: entry.kind,
        sticky: entry.sticky,
        priority: entry.priority,
        fields: entry.fields.clone(),
    };
    // Both sides serialize as one object, so the diff names each field.
    let changes = diff(&before, &live);
    let notify_clients = notify_clients(entry, &live, request.notify_clients)?;
    Ok((
        changes,
        Effect::Publish {
            live,
            until,
            notify_clients,
        },
    ))
}

/// Whether approving `live` sends it to QGIS clients again: always for a
/// first publication; for an edit of a live entry as the moderator chose,
/// else by what changed.
fn notify_clients(
    entry: &EntryState<'_>,
    live: &LiveRevision,
    chosen: Option<bool>,
) -> Result<bool, Refusal> {
    match (entry.live.filter(|_| entry.in_feed), chosen) {
        (Some(_), Some(chosen)) => Ok(chosen),
        (Some(old), None) => Ok(notifies_by_default(&old.fields, &live.fields)),
        (None, Some(false)) => Err(Refusal::field(
            "notify_clients",
            "only applies to an edit of a live entry: a first publication reaches every client",
        )),
        (None, _) => Ok(true),
    }
}

/// Whether an edit of a live entry is an update by default: a changed
/// title, link, picture or date is news; anything else (a typo in the
/// text, say) is a correction that QGIS clients are not sent again, since
/// QGIS 3.36+ shows a re-sent entry again even where its user dismissed it.
pub fn notifies_by_default(live: &EntryFields, proposed: &EntryFields) -> bool {
    live.title != proposed.title
        || live.url != proposed.url
        || live.image != proposed.image
        || [
            (live.publish_from, proposed.publish_from),
            (live.publish_to, proposed.publish_to),
            (live.starts_at, proposed.starts_at),
            (live.ends_at, proposed.ends_at),
            (live.deadline, proposed.deadline),
        ]
        .iter()
        .any(|(before, after)| before != after)
}

/// The revision an approval publishes: the working one, with the
/// moderator's stickiness, priority and publication window.
fn approved_revision(
    entry: &EntryState<'_>,
    request: &ActionRequest,
) -> Result<LiveRevision, Refusal> {
    let mut fields = entry.fields.clone();
    if let Some(from) = request.publish_from {
        fields.publish_from = Some(from);
    }
    if let Some(to) = request.publish_to {
        fields.publish_to = Some(to);
    }
    // The content limit was checked when it was written; a moderator may
    // approve what an earlier, looser limit allowed.
    validate(entry.kind, &mut fields, usize::MAX)?;
    Ok(LiveRevision {
        kind: entry.kind,
        sticky: request.sticky.unwrap_or(entry.sticky),
        priority: request.priority.unwrap_or(entry.priority),
        fields,
    })
}

/// What a group may change on its published entry without a new review:
/// it only takes a promise back (a cancelled or postponed event, a
/// cancelled or moved occurrence) or reports progress (the amount raised).
/// `None` keeps a field.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LiveChange {
    pub version: Option<i32>,
    pub event_status: Option<String>,
    pub raised_amount: Option<Option<f64>>,
    pub exdates: Option<Vec<String>>,
    pub moved_occurrences: Option<std::collections::BTreeMap<String, String>>,
}

impl LiveChange {
    fn patch(&self) -> EntryPatch {
        EntryPatch {
            event_status: self.event_status.clone().map(Some),
            raised_amount: self.raised_amount,
            exdates: self.exdates.clone(),
            moved_occurrences: self.moved_occurrences.clone(),
            ..EntryPatch::default()
        }
    }
}

/// A decided change of a published entry: both revisions change alike.
#[derive(Clone, Debug, PartialEq)]
pub struct LiveChangePlan {
    pub live: LiveRevision,
    pub fields: EntryFields,
    /// The end of the window again (a cancelled last occurrence moves it).
    pub until: Option<i64>,
    pub changes: Map<String, Value>,
}

/// Decides a change the group makes to its published entry without review.
pub fn plan_live_change(
    principal: &Principal,
    entry: &EntryState<'_>,
    change: &LiveChange,
) -> Result<LiveChangePlan, Refusal> {
    let version = required_version(change.version)?;
    if !principal.can_write_entries(entry.group_id) {
        return Err(Refusal::Forbidden(
            "only the entry's group may change it".into(),
        ));
    }
    if version != entry.version {
        return Err(Refusal::Stale {
            current_version: entry.version,
        });
    }
    let (Some(published), true) = (entry.live, entry.in_feed) else {
        return Err(Refusal::InvalidTransition(
            "only a published entry changes without review: edit it and submit instead".into(),
        ));
    };
    let patch = change.patch();
    if patch == EntryPatch::default() {
        return Err(Refusal::field(
            "event_status",
            "give at least one of event_status, raised_amount, exdates, moved_occurrences",
        ));
    }
    let mut live = published.clone();
    live.fields.apply(patch.clone());
    validate(entry.kind, &mut live.fields, usize::MAX)?;
    let mut fields = entry.fields.clone();
    fields.apply(patch);
    validate(entry.kind, &mut fields, usize::MAX)?;
    let from = live.fields.publish_from.unwrap_or(entry.timing.now);
    let until = publish_until(entry.kind, &live.fields, from, &entry.timing);
    Ok(LiveChangePlan {
        changes: diff(&published.fields, &live.fields),
        live,
        fields,
        until,
    })
}

/// An update of an entry's fields.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct EditRequest {
    /// Must be the entry's group, if given.
    pub group: Option<String>,
    /// Must be the entry's kind, if given.
    pub kind: Option<EntryKind>,
    /// The version the edit is based on.
    pub version: Option<i32>,
    pub patch: EntryPatch,
}

/// A decided edit.
#[derive(Clone, Debug, PartialEq)]
pub struct EditPlan {
    pub from: EntryStatus,
    pub to: EntryStatus,
    pub version: i32,
    pub fields: EntryFields,
    pub changes: Map<String, Value>,
}

impl EditPlan {
    /// Whether the edit sends the entry (back) into review.
    pub fn submits(&self) -> bool {
        self.to == Pending && self.from != Pending
    }
}

/// The version an update must carry.
pub fn required_version(version: Option<i32>) -> Result<i32, Refusal> {
    version.ok_or_else(|| Refusal::field("version", "is required: send the version you edited"))
}

/// Decides an edit; `None` when it changes nothing.
pub fn plan_edit(
    principal: &Principal,
    entry: &EntryState<'_>,
    request: EditRequest,
    content_max_chars: usize,
) -> Result<Option<EditPlan>, Refusal> {
    let version = required_version(request.version)?;
    if !principal.can_edit_entry(entry.group_id, entry.status) {
        return Err(Refusal::Forbidden(
            "only the entry's group may edit it (moderators: once it is in review or published)"
                .into(),
        ));
    }
    if request
        .group
        .as_deref()
        .is_some_and(|slug| slug != entry.group_slug)
    {
        return Err(Refusal::field("group", "cannot be changed"));
    }
    if request.kind.is_some_and(|kind| kind != entry.kind) {
        return Err(Refusal::field("kind", "cannot be changed"));
    }
    if version != entry.version {
        return Err(Refusal::Stale {
            current_version: entry.version,
        });
    }
    require_active_group(
        entry.group_slug,
        entry.group_status,
        "it cannot edit entries",
    )?;
    let from = entry.status;
    let to = next_status(from, Action::Edit, entry.in_feed).ok_or_else(|| {
        Refusal::InvalidTransition(format!("an entry that is {from} cannot be edited"))
    })?;
    let mut fields = entry.fields.clone();
    fields.apply(request.patch);
    validate(entry.kind, &mut fields, content_max_chars)?;
    media::may_set_image(principal, &entry.fields.image, &fields.image)?;
    if to == Pending && from != Pending {
        // Editing a live entry submits the edit: an event that is over is not sent to review.
        check_not_over(entry.kind, &fields, &entry.timing)?;
    }
    let changes = diff(entry.fields, &fields);
    Ok((!changes.is_empty()).then_some(EditPlan {
        from,
        to,
        version,
        fields,
        changes,
    }))
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::domain::{GroupRole, Role};

    #[test]
    fn happy_path() {
        assert_eq!(next_status(Draft, Action::Submit, false), Some(Pending));
        assert_eq!(next_status(Pending, Action::Approve, false), Some(Approved));
        assert_eq!(
            next_status(Approved, Action::Unpublish, true),
            Some(Unpublished)
        );
    }

    #[test]
    fn changes_requested_round_trip() {
        assert_eq!(
            next_status(Pending, Action::RequestChanges, false),
            Some(ChangesRequested)
        );
        assert_eq!(
            next_status(ChangesRequested, Action::Edit, false),
            Some(ChangesRequested)
        );
        assert_eq!(
            next_status(ChangesRequested, Action::Submit, false),
            Some(Pending)
        );
    }

    #[test]
    fn editing_a_live_entry_goes_back_to_review() {
        assert_eq!(next_status(Approved, Action::Edit, true), Some(Pending));
        assert_eq!(
            next_status(Pending, Action::Unpublish, true),
            Some(Unpublished)
        );
        assert_eq!(next_status(Pending, Action::Unpublish, false), None);
        assert_eq!(next_status(Pending, Action::Reject, true), Some(Approved));
        assert_eq!(next_status(Pending, Action::Reject, false), Some(Rejected));
    }

    #[test]
    fn editors_can_take_their_live_entry_offline() {
        assert_eq!(
            next_status(Approved, Action::Withdraw, true),
            Some(Withdrawn)
        );
    }

    #[test]
    fn terminal_states_refuse_everything_but_comments() {
        for status in [Rejected, Withdrawn, Unpublished] {
            for action in [
                Action::Edit,
                Action::Submit,
                Action::Withdraw,
                Action::Approve,
                Action::Reject,
                Action::RequestChanges,
            ] {
                assert_eq!(
                    next_status(status, action, false),
                    None,
                    "{status} {action:?}"
                );
            }
            assert_eq!(next_status(status, Action::Comment, false), Some(status));
        }
    }

    #[test]
    fn moderation_needs_review_first() {
        for action in [Action::Approve, Action::Reject, Action::RequestChanges] {
            assert_eq!(next_status(Draft, action, false), None);
            assert_eq!(next_status(Approved, action, true), None);
        }
    }

    fn person(role: Role, groups: &[(i64, GroupRole)]) -> Principal {
        Principal::User {
            id: 1,
            name: "someone".into(),
            role,
            memberships: groups.iter().copied().collect::<HashMap<_, _>>(),
        }
    }

    fn fields() -> EntryFields {
        EntryFields {
            title: "Title".into(),
            content: "<p>Body</p>".into(),
            ..EntryFields::default()
        }
    }

    fn state<'a>(
        status: EntryStatus,
        fields: &'a EntryFields,
        live: Option<&'a LiveRevision>,
    ) -> EntryState<'a> {
        EntryState {
            group_id: 7,
            group_slug: "alpha",
            group_status: GroupStatus::Active,
            kind: EntryKind::Announcement,
            status,
            version: 3,
            in_feed: live.is_some(),
            sticky: false,
            priority: 0,
            fields,
            live,
            timing: Timing {
                now: 1_000_000,
                event_default_secs: 7200,
                announcement_secs: 864_000,
            },
        }
    }

    #[test]
    fn an_edit_of_a_live_entry_is_a_correction_unless_news_changed() {
        let moderator = person(Role::Moderator, &[]);
        let live = LiveRevision {
            kind: EntryKind::Announcement,
            sticky: false,
            priority: 0,
            fields: fields(),
        };
        let notifies =
            |working: &EntryFields, chosen: Option<bool>, live: Option<&LiveRevision>| {
                let request = ActionRequest {
                    notify_clients: chosen,
                    ..ActionRequest::default()
                };
                plan_action(
                    &moderator,
                    &state(Pending, working, live),
                    Action::Approve,
                    &request,
                )
                .map(|plan| match plan.effect {
                    Effect::Publish { notify_clients, .. } => notify_clients,
                    other => panic!("not a publication: {other:?}"),
                })
            };
        let typo = EntryFields {
            content: "<p>Body, fixed</p>".into(),
            ..fields()
        };
        let retitled = EntryFields {
            title: "New title".into(),
            ..fields()
        };
        let moved = EntryFields {
            publish_to: Some(2_000_000),
            ..fields()
        };
        assert_eq!(notifies(&typo, None, Some(&live)), Ok(false));
        assert_eq!(notifies(&retitled, None, Some(&live)), Ok(true));
        assert_eq!(notifies(&moved, None, Some(&live)), Ok(true));
        assert_eq!(notifies(&typo, Some(true), Some(&live)), Ok(true));
        assert_eq!(notifies(&retitled, Some(false), Some(&live)), Ok(false));
        // A first publication always reaches the clients.
        assert_eq!(notifies(&typo, None, None), Ok(true));
        assert!(notifies(&typo, Some(false), None).is_err());
    }

    #[test]
    fn approving_publishes_with_the_moderators_settings() {
        let working = fields();
        let request = ActionRequest {
            sticky: Some(true),
            publish_to: Some(2_000_000_000),
            ..ActionRequest::default()
        };
        let moderator = person(Role::Moderator, &[]);
        let plan = plan_action(
            &moderator,
            &state(Pending, &working, None),
            Action::Approve,
            &request,
        );
        let Ok(plan) = plan else {
            panic!("approve refused: {plan:?}");
        };
        assert_eq!(plan.to, Approved);
        assert!(plan.changes_what_is_live());
        let Effect::Publish { live, .. } = &plan.effect else {
            panic!("not a publication: {:?}", plan.effect);
        };
        assert!(live.sticky);
        assert_eq!(live.fields.publish_to, Some(2_000_000_000));
        assert_eq!(
            plan.changes.keys().collect::<Vec<_>>(),
            ["publish_to", "sticky"]
        );
    }

    #[test]
    fn who_may_do_what() {
        let working = fields();
        let pending = state(Pending, &working, None);
        let editor = person(Role::Member, &[(7, GroupRole::Editor)]);
        let stranger = person(Role::Member, &[(8, GroupRole::Editor)]);
        let moderator = person(Role::Moderator, &[]);
        let reason = ActionRequest {
            comment: Some("  why  ".into()),
            ..ActionRequest::default()
        };
        assert!(matches!(
            plan_action(
                &editor,
                &pending,
                Action::Approve,
                &ActionRequest::default()
            ),
            Err(Refusal::Forbidden(_))
        ));
        assert!(matches!(
            plan_action(
                &stranger,
                &pending,
                Action::Withdraw,
                &ActionRequest::default()
            ),
            Err(Refusal::Forbidden(_))
        ));
        assert_eq!(
            plan_action(
                &moderator,
                &pending,
                Action::Reject,
                &ActionRequest::default()
            ),
            Err(Refusal::field("comment", "is required for this action"))
        );
        let rejected = plan_action(&moderator, &pending, Action::Reject, &reason);
        assert_eq!(
            rejected.map(|plan| (plan.to, plan.comment)),
            Ok((Rejected, Some("why".into())))
        );
        assert!(matches!(
            plan_action(&editor, &pending, Action::Submit, &ActionRequest::default()),
            Err(Refusal::InvalidTransition(_))
        ));
        let stale = ActionRequest {
            version: Some(2),
            ..ActionRequest::default()
        };
        assert_eq!(
            plan_action(&editor, &pending, Action::Withdraw, &stale),
            Err(Refusal::Stale { current_version: 3 })
        );
    }

    #[test]
    fn rejecting_an_edit_of_a_live_entry_restores_the_live_revision() {
        let live = LiveRevision {
            kind: EntryKind::Announcement,
            sticky: false,
            priority: 0,
            fields: fields(),
        };
        let mut edited = fields();
        edited.title = "Edited".into();
        let moderator = person(Role::Moderator, &[]);
        let reason = ActionRequest {
            comment: Some("no".into()),
            ..ActionRequest::default()
        };
        let plan = plan_action(
            &moderator,
            &state(Pending, &edited, Some(&live)),
            Action::Reject,
            &reason,
        );
        assert_eq!(
            plan.map(|plan| (plan.to, plan.effect)),
            Ok((Approved, Effect::Restore(fields())))
        );
    }

    #[test]
    fn edits_need_the_current_version_and_change_something() {
        let working = fields();
        let draft = state(Draft, &working, None);
        let editor = person(Role::Member, &[(7, GroupRole::Editor)]);
        let same = EditRequest {
            version: Some(3),
            patch: EntryPatch {
                title: Some("Title".into()),
                ..EntryPatch::default()
            },
            ..EditRequest::default()
        };
        assert_eq!(plan_edit(&editor, &draft, same.clone(), 500), Ok(None));
        let stale = EditRequest {
            version: Some(1),
            ..same.clone()
        };
        assert_eq!(
            plan_edit(&editor, &draft, stale, 500),
            Err(Refusal::Stale { current_version: 3 })
        );
        let retitled = EditRequest {
            patch: EntryPatch {
                title: Some("Other".into()),
                ..EntryPatch::default()
            },
            ..same
        };
        let plan = plan_edit(&editor, &draft, retitled, 500).ok().flatten();
        assert_eq!(
            plan.map(|plan| (plan.to, plan.fields.title)),
            Some((Draft, "Other".into()))
        );
    }
}
