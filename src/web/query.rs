//! What pages read from their paths and query strings: ids, filters,
//! offsets, and the query string of page links.

use std::collections::HashMap;

use super::context::WebError;
use super::forms::encode;
use crate::domain::{TextEnum, limits};
use crate::error::AppError;

/// The id in a path (or a form) of a `what`; one that is not a number
/// names nothing there is.
pub fn id_of(text: &str, what: &str) -> Result<i64, WebError> {
    text.parse()
        .map_err(|_| WebError::App(AppError::not_found(what)))
}

/// A query parameter, trimmed; empty when absent.
pub fn text<'a>(query: &'a HashMap<String, String>, name: &str) -> &'a str {
    query.get(name).map_or("", |value| value.trim())
}

/// Optional filter value of a closed set; an unknown value is ignored.
pub fn parse_filter<T: TextEnum>(query: &HashMap<String, String>, name: &str) -> Option<T> {
    query.get(name).and_then(|text| T::parse(text))
}

/// `?offset=`: garbage counts as 0 and a number past the last page any list
/// serves as that page, so page links never overflow.
pub fn offset(query: &HashMap<String, String>) -> u64 {
    query
        .get("offset")
        .and_then(|text| text.parse::<u64>().ok())
        .unwrap_or(0)
        .min(limits::MAX_LIST_OFFSET)
}

/// `key=value&…` of the filters that are set, for page links.
pub fn query_string(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .filter(|(_, value)| !value.is_empty())
        .map(|(key, value)| format!("{key}={}", encode(value)))
        .collect::<Vec<_>>()
        .join("&")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::EntryKind;

    #[test]
    fn an_id_that_is_not_a_number_is_not_found() {
        assert!(id_of("areas", "area").is_err());
        assert_eq!(id_of("7", "area").ok(), Some(7));
    }

    #[test]
    fn filters_ignore_what_they_do_not_know() {
        let query = HashMap::from([
            ("kind".to_string(), "meetup".to_string()),
            ("status".to_string(), "sleeping".to_string()),
            ("offset".to_string(), "-3".to_string()),
        ]);
        assert_eq!(parse_filter(&query, "kind"), Some(EntryKind::Meetup));
        assert_eq!(parse_filter::<EntryKind>(&query, "status"), None);
        assert_eq!(offset(&query), 0);
        assert_eq!(
            query_string(&[("q", "a b"), ("kind", ""), ("limit", "5")]),
            "q=a+b&limit=5"
        );
    }
}
