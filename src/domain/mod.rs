//! Rules with no HTTP and no database: roles, the entry life cycle,
//! validation and sanitizing. Unit-tested here, used by `service`.

pub mod authz;
pub mod codes;
pub mod entry;
pub mod geo;
pub mod group;
pub mod lifecycle;
pub mod sanitize;
pub mod text;

use poem_openapi::Enum;

/// Declares a closed set of values stored as text, with `as_str` and parsing.
macro_rules! text_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Enum, Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        pub enum $name {
            $($(#[$vmeta])* #[oai(rename = $text)] #[serde(rename = $text)] $variant),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            /// Parses the stored text; unknown text is a data error, not user input.
            pub fn parse(text: &str) -> Option<Self> {
                match text { $($text => Some($name::$variant),)+ _ => None }
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

impl EntryKind {
    /// Events and meetups have a date, a place and show up in the calendar.
    pub fn is_dated(self) -> bool {
        matches!(self, EntryKind::Event | EntryKind::Meetup)
    }
}
