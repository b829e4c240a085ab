//! Unsaved entry forms kept while someone types: which form a draft belongs
//! to and how much of it is kept.

use std::collections::BTreeMap;

use super::{EntryKind, limits};

/// The most drafts one person keeps: the oldest goes first.
pub const MAX_DRAFTS_PER_PERSON: u64 = 20;

/// The form a draft belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DraftKey {
    /// The edit form of entry `id`.
    Entry(i64),
    /// The form of a new entry of a kind.
    New(EntryKind),
}

impl DraftKey {
    /// `entry:42` or `new:meetup`; anything else is no key.
    pub fn parse(text: &str) -> Option<Self> {
        match text.split_once(':')? {
            ("entry", id) => id
                .parse()
                .ok()
                .filter(|id| (1..=limits::MAX_PK).contains(id))
                .map(Self::Entry),
            ("new", kind) => EntryKind::parse(kind).map(Self::New),
            _ => None,
        }
    }
}

impl std::fmt::Display for DraftKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Entry(id) => write!(f, "entry:{id}"),
            Self::New(kind) => write!(f, "new:{}", kind.as_str()),
        }
    }
}

/// The fields of `values` a draft keeps: those the form shows (`shown`
/// says which), each cut to `max_chars` (the form's own limits apply when
/// it is saved).
pub fn kept_fields<'a>(
    values: impl IntoIterator<Item = (&'a str, &'a str)>,
    shown: impl Fn(&str) -> bool,
    max_chars: usize,
) -> BTreeMap<String, String> {
    values
        .into_iter()
        .filter(|(name, _)| shown(name))
        .map(|(name, value)| (name.to_string(), value.chars().take(max_chars).collect()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_name_one_form() {
        assert_eq!(DraftKey::parse("entry:42"), Some(DraftKey::Entry(42)));
        assert_eq!(
            DraftKey::parse("new:meetup"),
            Some(DraftKey::New(EntryKind::Meetup))
        );
        for bad in [
            "entry:0",
            "entry:-1",
            "entry:x",
            "new:party",
            "other:1",
            "",
            "entry",
        ] {
            assert_eq!(DraftKey::parse(bad), None, "{bad}");
        }
        assert_eq!(DraftKey::Entry(7).to_string(), "entry:7");
        assert_eq!(DraftKey::New(EntryKind::Event).to_string(), "new:event");
    }

    #[test]
    fn only_the_forms_fields_are_kept() {
        let kept = kept_fields(
            [
                ("title", "Hello"),
                ("csrf_token", "x"),
                ("content", "abcdef"),
            ],
            |name| ["title", "content"].contains(&name),
            4,
        );
        assert_eq!(kept.len(), 2);
        assert_eq!(kept["title"], "Hell");
    }
}
