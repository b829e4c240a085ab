//! The entry life cycle: which action moves an entry from which status to which.

use super::EntryStatus::{self, *};

/// Something done to an entry that is recorded in its history.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Create,
    Edit,
    Submit,
    Withdraw,
    Approve,
    Reject,
    RequestChanges,
    Unpublish,
    Comment,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Edit => "edit",
            Action::Submit => "submit",
            Action::Withdraw => "withdraw",
            Action::Approve => "approve",
            Action::Reject => "reject",
            Action::RequestChanges => "request_changes",
            Action::Unpublish => "unpublish",
            Action::Comment => "comment",
        }
    }

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
}

/// The status an entry moves to when `action` is applied in `from`, or `None`
/// when the action is not allowed there. `has_live` says whether an approved
/// revision is currently published (an edit of a live entry is in review).
pub fn next_status(from: EntryStatus, action: Action, has_live: bool) -> Option<EntryStatus> {
    match (action, from) {
        (Action::Edit, Draft | ChangesRequested) => Some(from),
        // Editing what is in review keeps it in review; editing what is live
        // sends the edit to review while the approved revision stays live.
        (Action::Edit, Pending | Approved) => Some(Pending),
        (Action::Submit, Draft | ChangesRequested) => Some(Pending),
        (Action::Withdraw, Draft | Pending | ChangesRequested) => Some(Withdrawn),
        (Action::Approve, Pending) => Some(Approved),
        // Rejecting an edit of a live entry refuses the edit, not the entry:
        // it goes back to the approved revision that is still live.
        (Action::Reject, Pending) if has_live => Some(Approved),
        (Action::Reject, Pending) => Some(Rejected),
        (Action::RequestChanges, Pending) => Some(ChangesRequested),
        (Action::Unpublish, Approved) => Some(Unpublished),
        (Action::Unpublish, Pending | ChangesRequested | Rejected) if has_live => Some(Unpublished),
        (Action::Comment, status) => Some(status),
        _ => None,
    }
}

/// Whether a group member may delete the entry outright: only what was never published.
pub fn is_deletable(status: EntryStatus, has_live: bool) -> bool {
    !has_live && matches!(status, Draft | Withdrawn)
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
