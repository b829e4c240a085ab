//! What the lists' search boxes share: reading `q` and saying what it found.

use std::collections::HashMap;

use super::context::WebError;
use super::query::text;
use crate::domain::search::SearchQuery;
use crate::error::AppError;

/// The query of `?q=` (none when empty); a refused one is a 400 page that
/// says why.
pub fn query_of(query: &HashMap<String, String>) -> Result<Option<SearchQuery>, WebError> {
    SearchQuery::parse(text(query, "q")).map_err(|bad| WebError::App(AppError::BadRequest(bad.0)))
}

/// A list's search box: where it sends, what was asked and how much matched.
pub struct SearchBox {
    pub action: String,
    /// What the box searches, for its accessible name ("Search people").
    pub label: &'static str,
    pub q: String,
    pub total: u64,
}

impl SearchBox {
    pub fn new(action: impl Into<String>, label: &'static str, q: &str, total: u64) -> Self {
        Self {
            action: action.into(),
            label,
            q: q.trim().to_string(),
            total,
        }
    }

    /// `q` for a link's query string.
    pub fn encoded_q(&self) -> String {
        super::forms::encode(&self.q)
    }

    /// "3 results for “berlin”", "Nothing matches “berlin”.", or nothing
    /// without a search.
    pub fn summary(&self) -> String {
        match (self.q.as_str(), self.total) {
            ("", _) => String::new(),
            (q, 0) => format!("Nothing matches “{q}”."),
            (q, 1) => format!("1 result for “{q}”."),
            (q, total) => format!("{total} results for “{q}”."),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_counts_what_matched() {
        assert_eq!(SearchBox::new("/", "Search", " ", 4).summary(), "");
        assert_eq!(
            SearchBox::new("/", "Search", "berlin", 0).summary(),
            "Nothing matches “berlin”."
        );
        assert_eq!(
            SearchBox::new("/", "Search", "berlin", 1).summary(),
            "1 result for “berlin”."
        );
        assert_eq!(
            SearchBox::new("/", "Search", "x", 12).summary(),
            "12 results for “x”."
        );
    }
}
