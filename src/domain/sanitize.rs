//! HTML sanitizing on the way in: content keeps a small allow-list of tags.

use std::collections::HashSet;
use std::sync::OnceLock;

fn cleaner() -> &'static ammonia::Builder<'static> {
    static CLEANER: OnceLock<ammonia::Builder<'static>> = OnceLock::new();
    CLEANER.get_or_init(|| {
        let mut builder = ammonia::Builder::empty();
        builder
            .add_tags([
                "p",
                "br",
                "a",
                "strong",
                "em",
                "b",
                "i",
                "u",
                "ul",
                "ol",
                "li",
                "blockquote",
                "code",
            ])
            .add_tag_attributes("a", ["href", "title"])
            .url_schemes(HashSet::from(["http", "https", "mailto"]))
            .link_rel(Some("noopener noreferrer"))
            .strip_comments(true);
        builder
    })
}

/// Sanitized HTML: scripts, event handlers, styles and `javascript:` links removed.
pub fn clean_html(html: &str) -> String {
    cleaner().clean(html).to_string()
}

/// The text a reader sees, with every tag removed and entities decoded.
pub fn plain_text(html: &str) -> String {
    let text = ammonia::Builder::empty().clean(html).to_string();
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&nbsp;", "\u{a0}")
        .replace("&amp;", "&")
}

/// Whether `character` may appear in published text: no control characters
/// (newlines and tabs only where `multiline`), nothing XML 1.0 forbids.
fn publishable(character: char, multiline: bool) -> bool {
    match character {
        '\n' | '\t' => multiline,
        '\u{FFFE}' | '\u{FFFF}' => false,
        // Direction overrides make one text display as another.
        other => !other.is_control() && !super::validate::is_bidi_control(other),
    }
}

/// `text` without what no feed format may carry: every output (JSON, XML,
/// iCalendar, HTML) then only has to escape its own syntax. Stored text is
/// validated on the way in; this also covers what older versions or an
/// import stored.
pub fn publishable_text(text: &str, multiline: bool) -> std::borrow::Cow<'_, str> {
    if text.chars().all(|c| publishable(c, multiline)) {
        std::borrow::Cow::Borrowed(text)
    } else {
        std::borrow::Cow::Owned(
            text.chars()
                .filter(|c| publishable(*c, multiline))
                .collect(),
        )
    }
}

/// Escapes plain text for insertion into HTML (QGIS inserts titles unescaped).
pub fn escape_html(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            other => escaped.push(other),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_scripts_handlers_and_javascript_links() {
        let dirty = r#"<p onclick="x()">Hi<script>alert(1)</script> <a href="javascript:alert(1)">x</a> <a href="https://qgis.org">q</a></p><img src=x onerror=alert(1)>"#;
        let clean = clean_html(dirty);
        assert!(!clean.contains("script"), "{clean}");
        assert!(!clean.contains("onclick"), "{clean}");
        assert!(!clean.contains("javascript"), "{clean}");
        assert!(!clean.contains("onerror"), "{clean}");
        assert!(clean.contains(r#"href="https://qgis.org""#), "{clean}");
    }

    #[test]
    fn plain_text_counts_what_readers_see() {
        assert_eq!(plain_text("<p>a &amp; <b>b</b></p>"), "a & b");
    }

    #[test]
    fn published_text_has_no_controls() {
        assert_eq!(publishable_text("a\r\nb\u{7}c", false), "abc");
        assert_eq!(publishable_text("a\r\nb\tc\u{FFFF}", true), "a\nb\tc");
        assert!(matches!(
            publishable_text("clean", false),
            std::borrow::Cow::Borrowed(_)
        ));
    }

    #[test]
    fn escapes_markup() {
        assert_eq!(
            escape_html("<b>\"Tom\" & 'Jerry'</b>"),
            "&lt;b&gt;&quot;Tom&quot; &amp; &#39;Jerry&#39;&lt;/b&gt;"
        );
    }
}
