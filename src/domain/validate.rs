//! The validation toolkit every input goes through: field errors, the text
//! checks (single-line, multi-line, URLs) and the refusals rules can give.

use super::limits;

/// A field that failed validation, named as in the request.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Why a rule refuses something; the service maps each to its problem.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("invalid input")]
    Invalid(Vec<FieldError>),
    #[error("{0}")]
    Forbidden(String),
    #[error("the entry was changed by someone else; reload it and try again")]
    Stale { current_version: i32 },
    #[error("{0}")]
    InvalidTransition(String),
    #[error("{0}")]
    GroupInactive(String),
    #[error("{0}")]
    Conflict(String),
}

impl Refusal {
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        Self::Invalid(vec![FieldError::new(field, message)])
    }
}

impl From<Vec<FieldError>> for Refusal {
    fn from(errors: Vec<FieldError>) -> Self {
        Self::Invalid(errors)
    }
}

/// Unicode controls that reorder text (embeddings, overrides, isolates):
/// in a name or title they make one string display as another.
pub fn is_bidi_control(character: char) -> bool {
    matches!(character, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// How much of a refused value an error message repeats back.
const MAX_QUOTED_CHARS: usize = 40;

/// `text` quoted for an error message, cut short when long.
pub fn quoted(text: &str) -> String {
    if text.chars().count() > MAX_QUOTED_CHARS {
        format!(
            "{:?}…",
            text.chars().take(MAX_QUOTED_CHARS).collect::<String>()
        )
    } else {
        format!("{text:?}")
    }
}

/// Whether `text` is an absolute http(s) URL with a host.
pub fn is_web_url(text: &str) -> bool {
    url::Url::parse(text)
        .map(|url| matches!(url.scheme(), "http" | "https") && url.host().is_some())
        .unwrap_or(false)
}

/// Collects every field error of one input, so a client sees them all at once.
#[derive(Debug, Default)]
pub struct Checker {
    errors: Vec<FieldError>,
}

impl Checker {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn fail(&mut self, field: &str, message: impl Into<String>) {
        self.errors.push(FieldError::new(field, message));
    }

    pub fn push(&mut self, error: FieldError) {
        self.errors.push(error);
    }

    pub fn has_errors(&self) -> bool {
        !self.errors.is_empty()
    }

    /// Single-line text, trimmed: at most `max` characters, no control
    /// characters (CR, LF, NUL...) and no bidi overrides; empty only when not `required`.
    pub fn line(&mut self, field: &str, value: &str, max: usize, required: bool) -> String {
        let text = value.trim();
        if text.is_empty() {
            if required {
                self.fail(field, "must not be empty");
            }
        } else if text.chars().count() > max {
            self.fail(field, format!("must be at most {max} characters"));
        } else if text.chars().any(char::is_control) {
            self.fail(field, "must be one line without control characters");
        } else if text.chars().any(is_bidi_control) {
            self.fail(field, "must not contain Unicode direction overrides");
        }
        text.to_string()
    }

    /// An optional single-line text; empty becomes `None`.
    pub fn optional_line(
        &mut self,
        field: &str,
        value: Option<&str>,
        max: usize,
    ) -> Option<String> {
        let text = self.line(field, value?, max, false);
        (!text.is_empty()).then_some(text)
    }

    /// Multi-line text, trimmed, line ends normalized to `\n`: at most `max`
    /// characters; newlines and tabs are its only control characters.
    pub fn multiline(&mut self, field: &str, value: &str, max: usize) -> String {
        let text = value.trim().replace("\r\n", "\n");
        if text.chars().count() > max {
            self.fail(field, format!("must be at most {max} characters"));
        } else if text
            .chars()
            .any(|c| (c.is_control() && c != '\n' && c != '\t') || is_bidi_control(c))
        {
            self.fail(field, "must not contain control characters");
        }
        text
    }

    /// An http(s) URL or empty, trimmed.
    pub fn url(&mut self, field: &str, value: &str) -> String {
        let text = value.trim();
        if text.chars().count() > limits::URL_CHARS {
            self.fail(
                field,
                format!("must be at most {} characters", limits::URL_CHARS),
            );
        } else if !text.is_empty() && (text.chars().any(char::is_control) || !is_web_url(text)) {
            // The URL parser silently drops tabs and newlines; we store the text as sent.
            self.fail(field, "must be an absolute http or https URL");
        }
        text.to_string()
    }

    pub fn finish(self) -> Result<(), Vec<FieldError>> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(self.errors)
        }
    }

    /// `value` when nothing failed.
    pub fn finish_with<T>(self, value: T) -> Result<T, Vec<FieldError>> {
        self.finish().map(|()| value)
    }
}

/// The fields a validation refused, in order (for tests).
#[cfg(test)]
pub fn failed_fields<T>(result: Result<T, Vec<FieldError>>) -> Vec<String> {
    result
        .err()
        .unwrap_or_default()
        .into_iter()
        .map(|error| error.field)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(checker: Checker) -> Vec<String> {
        failed_fields(checker.finish())
    }

    #[test]
    fn single_lines_refuse_controls_and_overrides() {
        let mut check = Checker::new();
        assert_eq!(check.line("a", "  fine  ", 10, true), "fine");
        check.line("b", "two\r\nlines", 50, true);
        check.line("c", "nul\0", 50, true);
        check.line("d", "evil\u{202E}txt.exe", 50, true);
        check.line("e", "", 50, true);
        check.line("f", "toolong", 3, true);
        assert_eq!(check.optional_line("g", Some("  "), 5), None);
        assert_eq!(fields(check), ["b", "c", "d", "e", "f"]);
    }

    #[test]
    fn multiline_keeps_newlines_only() {
        let mut check = Checker::new();
        assert_eq!(
            check.multiline("a", "one\r\ntwo\tthree", 50),
            "one\ntwo\tthree"
        );
        check.multiline("b", "bell\u{7}", 50);
        assert_eq!(fields(check), ["b"]);
    }

    #[test]
    fn urls_must_be_web_urls() {
        let mut check = Checker::new();
        assert_eq!(check.url("a", " https://qgis.org/ "), "https://qgis.org/");
        check.url("b", "javascript:alert(1)");
        check.url("c", "https://");
        assert_eq!(check.url("d", ""), "");
        check.url("e", "https://qgis.org/\nx");
        assert_eq!(fields(check), ["b", "c", "e"]);
    }
}
