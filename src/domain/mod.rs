//! Rules with no HTTP and no database access: roles, the entry life cycle,
//! validation and sanitizing. Unit-tested here, used by `service`.
//!
//! The closed sets of values below are stored as text; how is the database
//! edge's business (`entities::text`), not the domain's.

pub mod access_request;
pub mod area;
pub mod audience;
pub mod authz;
pub mod calendar_source;
pub mod codes;
pub mod country;
pub mod delivery;
pub mod draft;
pub mod embed;
pub mod entry;
pub mod federation;
pub mod geo;
pub mod group;
pub mod lifecycle;
pub mod limits;
pub mod mail;
pub mod media;
pub mod net;
pub mod qgisfeed;
pub mod recurrence;
pub mod sanitize;
pub mod schedule;
pub mod search;
pub mod secret_box;
pub mod syndication;
pub mod user;
pub mod validate;

pub use validate::{FieldError, Refusal};

/// A closed set of values stored and sent as text.
pub trait TextEnum: Copy + 'static {
    /// Every value, in declaration order.
    const ALL: &'static [Self];
    /// What the set is, for documentation (the API spec).
    const DESCRIPTION: &'static str;
    /// The value as stored and sent.
    fn as_str(self) -> &'static str;
    /// The value named by `text`, if any.
    fn parse(text: &str) -> Option<Self> {
        Self::ALL
            .iter()
            .copied()
            .find(|value| value.as_str() == text)
    }
}

/// Declares a [`TextEnum`].
macro_rules! text_enum {
    ($(#[doc = $doc:literal])* $name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[doc = $doc])*
        #[derive(
            Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
        )]
        pub enum $name {
            $(#[serde(rename = $text)] $variant),+
        }

        impl TextEnum for $name {
            const ALL: &'static [Self] = &[$($name::$variant),+];
            const DESCRIPTION: &'static str = concat!($($doc),*);

            fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl $name {
            /// The value as stored and sent.
            pub fn as_str(self) -> &'static str {
                TextEnum::as_str(self)
            }

            /// The value named by `text`, if any.
            pub fn parse(text: &str) -> Option<Self> {
                <Self as TextEnum>::parse(text)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

text_enum! {
    /// What feed requests are summed by: QGIS version (`3.34`), operating
    /// system (`windows`, `macos`, `linux`, `bsd`, `other`), country (ISO
    /// code, from GeoIP) or the first requested language.
    StatsDimension { Version = "version", Os = "os", Country = "country", Lang = "lang" }
}

text_enum! {
    /// What a user may do across the whole service.
    Role { Admin = "admin", Moderator = "moderator", Member = "member" }
}

text_enum! {
    /// What a member may do within one group.
    GroupRole { Owner = "owner", Editor = "editor" }
}

text_enum! {
    /// Whether a group may publish.
    GroupStatus { Active = "active", Suspended = "suspended", Removed = "removed" }
}

text_enum! {
    /// What an entry announces.
    EntryKind { Event = "event", Meetup = "meetup", Crowdfunding = "crowdfunding", Announcement = "announcement" }
}

text_enum! {
    /// Whether an event or meetup takes place as announced.
    EventStatus { Confirmed = "confirmed", Tentative = "tentative", Postponed = "postponed", Cancelled = "cancelled" }
}

text_enum! {
    /// How people attend an event or meetup.
    Attendance { InPerson = "in_person", Online = "online", Hybrid = "hybrid" }
}

text_enum! {
    /// Where a published entry stands in its window: not open yet, in the feeds, or over.
    Phase { Upcoming = "upcoming", Live = "live", Ended = "ended" }
}

text_enum! {
    /// Where an entry stands in its life cycle.
    EntryStatus {
        Draft = "draft",
        Pending = "pending",
        ChangesRequested = "changes_requested",
        Approved = "approved",
        Rejected = "rejected",
        Withdrawn = "withdrawn",
        Unpublished = "unpublished",
    }
}

text_enum! {
    /// The state of a request for a new group.
    AccessRequestStatus { Pending = "pending", Approved = "approved", Rejected = "rejected" }
}

text_enum! {
    /// Something done to an entry that is recorded in its history.
    Action {
        Create = "create",
        Edit = "edit",
        Submit = "submit",
        Withdraw = "withdraw",
        Approve = "approve",
        Reject = "reject",
        RequestChanges = "request_changes",
        Unpublish = "unpublish",
        Comment = "comment",
        Update = "update",
    }
}

text_enum! {
    /// What a one-time account link is for.
    TokenPurpose {
        Invitation = "invitation",
        PasswordReset = "password_reset",
        EmailChange = "email_change",
    }
}

text_enum! {
    /// What a mail in the outbox is about.
    MailKind {
        Submission = "submission",
        Decision = "decision",
        AccessRequest = "access_request",
        AccessRequestDecided = "access_request_decided",
        Invitation = "invitation",
        Membership = "membership",
        PasswordReset = "password_reset",
        EmailChange = "email_change",
    }
}

text_enum! {
    /// Where a mail in the outbox stands: `logged` went to the log because no SMTP server is configured.
    OutboxStatus { Pending = "pending", Sent = "sent", Logged = "logged", Failed = "failed" }
}

text_enum! {
    /// What a queued delivery to another server is: an ActivityPub activity
    /// for an inbox, or a WebSub ping for a hub.
    DeliveryKind { ActivityPub = "activitypub", WebSub = "websub", Syndication = "syndication" }
}

text_enum! {
    /// A social network entries are cross-posted to.
    Network { Mastodon = "mastodon", Bluesky = "bluesky", Telegram = "telegram" }
}

text_enum! {
    /// Where a cross-post stands: `cancelled` when its entry went before it
    /// was sent, `skipped` when the entry was live before the account was connected.
    PostStatus {
        Pending = "pending",
        Posted = "posted",
        Failed = "failed",
        Deleting = "deleting",
        Deleted = "deleted",
        Cancelled = "cancelled",
        Skipped = "skipped",
    }
}

text_enum! {
    /// Where a delivery stands: `dropped` when its target kept failing and was given up.
    DeliveryStatus { Pending = "pending", Done = "done", Failed = "failed", Dropped = "dropped" }
}

impl EntryKind {
    /// Events and meetups have a date, a place and show up in the calendar.
    pub fn is_dated(self) -> bool {
        match self {
            EntryKind::Event | EntryKind::Meetup => true,
            EntryKind::Crowdfunding | EntryKind::Announcement => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_round_trips_and_unknown_text_is_none() {
        for status in EntryStatus::ALL {
            assert_eq!(EntryStatus::parse(status.as_str()), Some(*status));
        }
        assert_eq!(Role::parse("root"), None);
        assert_eq!(
            GroupStatus::DESCRIPTION.trim(),
            "Whether a group may publish."
        );
    }
}
