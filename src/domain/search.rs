//! What a search box asks for, and what a searched text is made of.
//!
//! Both sides are reduced the same way: lower case, words made of letters
//! and digits only, everything else a separator. So `anna@example.org`
//! searches the words `anna example org`, and no character of a query
//! reaches a database's query syntax (FTS5 quotes, `*`, `NEAR`, `-`, `:`,
//! parentheses; tsquery's `&|!<->`): the database gets plain words.
//! Every word must match (in any order); the last one may be the start of
//! a word, as when someone is still typing.

/// The longest query a search box takes, in characters.
pub const MAX_QUERY_CHARS: usize = 200;
/// The most words one query matches at once.
pub const MAX_WORDS: usize = 10;

/// Why a query is refused (a bad request), in words for the person who typed it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct BadQuery(pub String);

/// A query: its words, in lower case, letters and digits only.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SearchQuery {
    words: Vec<String>,
}

/// The words of `text`: its runs of letters and digits, in lower case.
fn words_of(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|character: char| !character.is_alphanumeric())
        .filter(|word| !word.is_empty())
        .map(str::to_lowercase)
}

/// What a search reads of `parts` (title, text, place…): their words,
/// separated by single spaces, as stored for the database to index.
pub fn document(parts: &[&str]) -> String {
    parts
        .iter()
        .flat_map(|part| words_of(part))
        .collect::<Vec<_>>()
        .join(" ")
}

impl SearchQuery {
    /// The query of a `q` parameter: none when it is empty; refused (400)
    /// when it is too long, has too many words or holds control characters.
    /// A query of punctuation only has no words and matches nothing.
    pub fn parse(text: &str) -> Result<Option<Self>, BadQuery> {
        let text = text.trim();
        if text.is_empty() {
            return Ok(None);
        }
        if text.chars().count() > MAX_QUERY_CHARS {
            return Err(BadQuery(format!(
                "a search can be at most {MAX_QUERY_CHARS} characters long"
            )));
        }
        if text.chars().any(char::is_control) {
            return Err(BadQuery(
                "a search cannot hold control characters (such as line breaks or tabs)".into(),
            ));
        }
        let words: Vec<String> = words_of(text).collect();
        if words.len() > MAX_WORDS {
            return Err(BadQuery(format!(
                "a search can have at most {MAX_WORDS} words"
            )));
        }
        Ok(Some(Self { words }))
    }

    /// Whether nothing can match (the query was punctuation only).
    pub fn is_void(&self) -> bool {
        self.words.is_empty()
    }

    /// Each word with whether it may be the start of a longer one (the last).
    pub fn terms(&self) -> impl Iterator<Item = (&str, bool)> {
        let last = self.words.len().saturating_sub(1);
        self.words
            .iter()
            .enumerate()
            .map(move |(index, word)| (word.as_str(), index == last))
    }

    /// Each word as an SQLite FTS5 query: a string token (`"word"`, a prefix
    /// `"word"*`), in `columns` when given (`{title text} : "word"`).
    pub fn fts5_terms(&self, columns: &[&str]) -> Vec<String> {
        let filter = if columns.is_empty() {
            String::new()
        } else {
            format!("{{{}}} : ", columns.join(" "))
        };
        self.terms()
            .map(|(word, prefix)| format!("{filter}\"{word}\"{}", if prefix { "*" } else { "" }))
            .collect()
    }

    /// Each word as a PostgreSQL `to_tsquery` text: a quoted lexeme
    /// (`'word'`, a prefix `'word':*`).
    pub fn tsquery_terms(&self) -> Vec<String> {
        self.terms()
            .map(|(word, prefix)| format!("'{word}'{}", if prefix { ":*" } else { "" }))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<String> {
        SearchQuery::parse(text)
            .unwrap()
            .map(|query| query.words)
            .unwrap_or_default()
    }

    #[test]
    fn a_query_is_its_words_in_lower_case() {
        assert_eq!(words("  QGIS   Berlin "), ["qgis", "berlin"]);
        assert_eq!(words("anna@example.org"), ["anna", "example", "org"]);
        assert_eq!(words("Zürich café 東京"), ["zürich", "café", "東京"]);
        assert_eq!(SearchQuery::parse("   ").unwrap(), None);
    }

    #[test]
    fn query_syntax_is_only_separators() {
        assert_eq!(
            words(r#""a" OR b* NEAR(c d) -e f:g"#),
            ["a", "or", "b", "near", "c", "d", "e", "f", "g"]
        );
        assert_eq!(words("(h) 'i' & j | !k <-> l"), ["h", "i", "j", "k", "l"]);
        let void = SearchQuery::parse("\"*:()-").unwrap().unwrap();
        assert!(void.is_void());
        assert!(void.fts5_terms(&[]).is_empty());
    }

    #[test]
    fn the_last_word_is_a_prefix() {
        let query = SearchQuery::parse("user gro").unwrap().unwrap();
        assert_eq!(query.fts5_terms(&[]), ["\"user\"", "\"gro\"*"]);
        assert_eq!(
            query.fts5_terms(&["live_search"]),
            ["{live_search} : \"user\"", "{live_search} : \"gro\"*"]
        );
        assert_eq!(query.tsquery_terms(), ["'user'", "'gro':*"]);
    }

    #[test]
    fn long_queries_control_characters_and_many_words_are_refused() {
        assert!(SearchQuery::parse(&"a".repeat(MAX_QUERY_CHARS)).is_ok());
        assert!(SearchQuery::parse(&"a".repeat(MAX_QUERY_CHARS + 1)).is_err());
        assert!(SearchQuery::parse("a\u{0}b").is_err());
        assert!(SearchQuery::parse("a\nb").is_err());
        assert!(SearchQuery::parse(&"w ".repeat(MAX_WORDS + 1)).is_err());
        assert!(SearchQuery::parse(&"w ".repeat(MAX_WORDS)).is_ok());
    }

    #[test]
    fn a_document_is_words_separated_by_spaces() {
        assert_eq!(
            document(&["<Title>: QGIS-Day!", "", "Café Zürich, 2nd floor"]),
            "title qgis day café zürich 2nd floor"
        );
    }
}
