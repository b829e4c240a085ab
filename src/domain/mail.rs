//! Who hears of what, which mail a person may turn off, and how sending is retried.

use super::limits::{MAIL_MAX_ATTEMPTS, MAIL_RETRY_BASE_SECS, MAIL_RETRY_MAX_SECS};
use super::{Action, EntryStatus, MailKind, OutboxStatus};

/// The kinds of mail a person can turn off.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Topic {
    /// New submissions, for moderators.
    Submissions,
    /// Decisions and comments on one's entries, for authors.
    Decisions,
    /// New access requests, for admins.
    AccessRequests,
}

impl MailKind {
    /// The preference that governs this kind; `None` for mail that is always
    /// sent (invitations, memberships, password resets, the answer to an
    /// access request).
    pub fn topic(self) -> Option<Topic> {
        match self {
            MailKind::Submission => Some(Topic::Submissions),
            MailKind::Decision => Some(Topic::Decisions),
            MailKind::AccessRequest => Some(Topic::AccessRequests),
            MailKind::AccessRequestDecided
            | MailKind::Invitation
            | MailKind::Membership
            | MailKind::PasswordReset
            | MailKind::EmailChange => None,
        }
    }
}

/// Who hears of a change to an entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Recipients {
    /// Moderators (and admins), as a digest: the entry waits for review.
    Moderators,
    /// The entry's author (unless they acted themselves).
    Author,
}

/// Who is told that `action` moved an entry from `from` to `to`, taken by
/// a moderator or not; `None` when nobody is.
pub fn audience(
    action: Action,
    from: EntryStatus,
    to: EntryStatus,
    by_moderator: bool,
    of_group: bool,
) -> Option<Recipients> {
    match action {
        // A moderator fixed the group's entry: its author hears who and what.
        Action::Edit if by_moderator && !of_group => Some(Recipients::Author),
        Action::Submit => Some(Recipients::Moderators),
        // An edit that sends the entry (back) to review is a submission.
        Action::Edit if to == EntryStatus::Pending && from != EntryStatus::Pending => {
            Some(Recipients::Moderators)
        }
        Action::Approve | Action::Reject | Action::RequestChanges | Action::Unpublish => {
            Some(Recipients::Author)
        }
        Action::Comment if by_moderator => Some(Recipients::Author),
        _ => None,
    }
}

/// What moderators read about why an entry is in review again.
pub fn submission_note(action: Action, from: EntryStatus) -> &'static str {
    match (action, from) {
        (Action::Submit, EntryStatus::ChangesRequested) => "resubmitted after changes",
        (Action::Edit, EntryStatus::Approved) => "an edit of a live entry",
        _ => "",
    }
}

/// How a decision reads in a sentence: `<moderator> <outcome> "<title>"`.
pub fn outcome(action: Action, to: EntryStatus) -> &'static str {
    match (action, to) {
        // Rejecting an edit of a live entry keeps the live revision.
        (Action::Reject, EntryStatus::Approved) => "declined the edit of",
        (Action::Approve, _) => "approved",
        (Action::Reject, _) => "rejected",
        (Action::RequestChanges, _) => "asked for changes to",
        (Action::Unpublish, _) => "unpublished",
        (Action::Edit, _) => "edited",
        _ => "commented on",
    }
}

/// After `attempts` failed sends: when to try again (seconds from now), or
/// `None` when the mail has failed for good.
pub fn retry_after(attempts: i32) -> Option<i64> {
    if attempts >= MAIL_MAX_ATTEMPTS {
        return None;
    }
    let doublings = u32::try_from(attempts.saturating_sub(1))
        .unwrap_or(0)
        .min(20);
    Some((MAIL_RETRY_BASE_SECS << doublings).min(MAIL_RETRY_MAX_SECS))
}

/// The status of a mail after a failed attempt.
pub fn after_failure(attempts: i32) -> OutboxStatus {
    match retry_after(attempts) {
        Some(_) => OutboxStatus::Pending,
        None => OutboxStatus::Failed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn back_off_doubles_up_to_a_cap_then_gives_up() {
        assert_eq!(retry_after(1), Some(60));
        assert_eq!(retry_after(2), Some(120));
        assert_eq!(retry_after(3), Some(240));
        assert_eq!(retry_after(9), Some(15_360));
        assert_eq!(retry_after(MAIL_MAX_ATTEMPTS), None);
        assert_eq!(after_failure(MAIL_MAX_ATTEMPTS), OutboxStatus::Failed);
    }

    #[test]
    fn who_hears_what() {
        use EntryStatus::*;
        assert_eq!(
            audience(Action::Submit, Draft, Pending, false, true),
            Some(Recipients::Moderators)
        );
        assert_eq!(
            audience(Action::Edit, Approved, Pending, false, true),
            Some(Recipients::Moderators)
        );
        assert_eq!(audience(Action::Edit, Pending, Pending, false, true), None);
        assert_eq!(
            audience(Action::Edit, Pending, Pending, true, false),
            Some(Recipients::Author)
        );
        assert_eq!(
            audience(Action::Edit, Approved, Pending, true, false),
            Some(Recipients::Author)
        );
        assert_eq!(outcome(Action::Edit, Pending), "edited");
        assert_eq!(
            audience(Action::Reject, Pending, Rejected, true, true),
            Some(Recipients::Author)
        );
        assert_eq!(
            audience(Action::Comment, Pending, Pending, false, true),
            None
        );
        assert_eq!(
            audience(Action::Withdraw, Pending, Withdrawn, false, true),
            None
        );
        assert_eq!(outcome(Action::Reject, Approved), "declined the edit of");
        assert_eq!(MailKind::Invitation.topic(), None);
    }
}
