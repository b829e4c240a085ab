//! Embedding on other sites: which of our pages an oEmbed URL names, the
//! frame a consumer gets for it (within the size it allows), and the
//! options the iframe pages and `<newsfeed-entries>` share.

use super::group::is_slug;
use super::sanitize::escape_html;

/// A page of ours that can be embedded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// `/entries/{id}`.
    Entry(i64),
    /// `/groups/{slug}`.
    Group(String),
}

/// The frame's size when the consumer sets no limit (pixels): an entry's
/// card, or a group's list of a few entries.
const ENTRY_FRAME: FrameSize = FrameSize {
    width: 560,
    height: 480,
};
const GROUP_FRAME: FrameSize = FrameSize {
    width: 560,
    height: 640,
};

impl Target {
    /// The page `url` names when it is one of ours (same scheme, host and
    /// port as `public_url`, under its path): `/entries/{id}` or
    /// `/groups/{slug}`, with or without a trailing slash, a query or a
    /// fragment. Anything else is `None`.
    pub fn of_url(url: &str, public_url: &str) -> Option<Self> {
        let (ours, theirs) = (
            url::Url::parse(public_url).ok()?,
            url::Url::parse(url).ok()?,
        );
        if ours.origin() != theirs.origin() {
            return None;
        }
        let prefix = ours.path().trim_end_matches('/');
        let rest = theirs.path().strip_prefix(prefix)?.strip_prefix('/')?;
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        match rest.split_once('/')? {
            ("entries", id) if !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()) => {
                id.parse().ok().map(Self::Entry)
            }
            ("groups", slug) if is_slug(slug) => Some(Self::Group(slug.to_string())),
            _ => None,
        }
    }

    /// The page that may be framed, under the public URL.
    pub fn frame_path(&self) -> String {
        match self {
            Self::Entry(id) => format!("/embed/entries/{id}"),
            Self::Group(slug) => format!("/embed/groups/{slug}"),
        }
    }

    /// The frame's size within the consumer's limits (the oEmbed spec: never
    /// wider than `maxwidth`, never higher than `maxheight`).
    pub fn frame_size(&self, max_width: Option<u32>, max_height: Option<u32>) -> FrameSize {
        let default = match self {
            Self::Entry(_) => ENTRY_FRAME,
            Self::Group(_) => GROUP_FRAME,
        };
        FrameSize {
            width: max_width.map_or(default.width, |max| max.min(default.width)),
            height: max_height.map_or(default.height, |max| max.min(default.height)),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameSize {
    pub width: u32,
    pub height: u32,
}

/// The HTML a consumer inserts: a frame of `src`, named by `title` for
/// screen readers, without our knowing which page holds it.
pub fn frame_html(src: &str, title: &str, size: FrameSize) -> String {
    format!(
        "<iframe src=\"{}\" width=\"{}\" height=\"{}\" title=\"{}\" loading=\"lazy\" \
         referrerpolicy=\"no-referrer\" style=\"border:0;max-width:100%\"></iframe>",
        escape_html(src),
        size.width,
        size.height,
        escape_html(title)
    )
}

/// Entries a list shows unless it says otherwise, and at most.
pub const DEFAULT_LIMIT: usize = 10;
pub const MAX_LIMIT: usize = 100;

/// Colours of an embedded list: light, dark, or as the reader's system says.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Theme {
    #[default]
    Light,
    Dark,
    Auto,
}

impl Theme {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Light => "light",
            Self::Dark => "dark",
            Self::Auto => "auto",
        }
    }
}

/// What an embedded list shows besides its filters: how many entries, in
/// which colours.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ListOptions {
    pub limit: usize,
    pub theme: Theme,
}

impl ListOptions {
    /// `limit` (1 to [`MAX_LIMIT`]) and `theme` (`light`, `dark`, `auto`),
    /// each optional; a bad value is refused with a plain reason.
    pub fn parse(limit: Option<&str>, theme: Option<&str>) -> Result<Self, String> {
        let limit = match limit.map(str::trim).filter(|text| !text.is_empty()) {
            None => DEFAULT_LIMIT,
            Some(text) => text
                .parse::<usize>()
                .ok()
                .filter(|limit| (1..=MAX_LIMIT).contains(limit))
                .ok_or_else(|| format!("limit must be a whole number from 1 to {MAX_LIMIT}"))?,
        };
        let theme = match theme.map(str::trim).filter(|text| !text.is_empty()) {
            None => Theme::default(),
            Some("light") => Theme::Light,
            Some("dark") => Theme::Dark,
            Some("auto") => Theme::Auto,
            Some(_) => return Err("theme must be light, dark or auto".into()),
        };
        Ok(Self { limit, theme })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SITE: &str = "https://news.example.org";

    #[test]
    fn only_our_entry_and_group_pages_are_targets() {
        for (url, target) in [
            (
                "https://news.example.org/entries/42",
                Some(Target::Entry(42)),
            ),
            (
                "https://news.example.org/entries/42/",
                Some(Target::Entry(42)),
            ),
            (
                "https://news.example.org/entries/42?lang=de#top",
                Some(Target::Entry(42)),
            ),
            (
                "https://news.example.org/groups/qgis-ch",
                Some(Target::Group("qgis-ch".into())),
            ),
            ("https://news.example.org/groups/QGIS", None),
            ("https://news.example.org/entries/4x", None),
            ("https://news.example.org/entries/", None),
            (
                "https://news.example.org/entries/99999999999999999999",
                None,
            ),
            ("https://news.example.org/entries/42/edit", None),
            ("https://news.example.org/groups/a/b", None),
            ("https://news.example.org/admin/groups/qgis-ch", None),
            ("https://news.example.org/", None),
            ("http://news.example.org/entries/42", None),
            ("https://news.example.org:8443/entries/42", None),
            ("https://evil.example/entries/42", None),
            ("https://news.example.org.evil.example/entries/42", None),
            ("not a url", None),
        ] {
            assert_eq!(Target::of_url(url, SITE), target, "{url}");
        }
        // Under a path prefix, only what is under it.
        let prefixed = "https://example.org/news";
        assert_eq!(
            Target::of_url("https://example.org/news/entries/7", prefixed),
            Some(Target::Entry(7))
        );
        assert_eq!(
            Target::of_url("https://example.org/entries/7", prefixed),
            None
        );
        assert_eq!(
            Target::of_url("https://example.org/newsentries/7", prefixed),
            None
        );
    }

    #[test]
    fn the_frame_fits_the_consumers_limits() {
        let entry = Target::Entry(1);
        assert_eq!(entry.frame_size(None, None), ENTRY_FRAME);
        assert_eq!(
            entry.frame_size(Some(300), Some(2000)),
            FrameSize {
                width: 300,
                height: ENTRY_FRAME.height
            }
        );
        let group = Target::Group("a".into());
        assert_eq!(group.frame_size(Some(9999), Some(100)).height, 100);
        assert_eq!(group.frame_path(), "/embed/groups/a");
        assert_eq!(entry.frame_path(), "/embed/entries/1");
    }

    #[test]
    fn the_frame_html_escapes_its_title() {
        let html = frame_html(
            "https://news.example.org/embed/entries/1",
            "\"><script>alert(1)</script>",
            ENTRY_FRAME,
        );
        assert!(!html.contains("<script>"), "{html}");
        assert!(html.contains("title=\"&quot;&gt;&lt;script&gt;"), "{html}");
        assert!(html.starts_with("<iframe src=\"https://news.example.org/embed/entries/1\""));
    }

    #[test]
    fn list_options_have_defaults_and_bounds() {
        assert_eq!(
            ListOptions::parse(None, None),
            Ok(ListOptions {
                limit: DEFAULT_LIMIT,
                theme: Theme::Light
            })
        );
        assert_eq!(
            ListOptions::parse(Some("5"), Some("dark")).map(|o| (o.limit, o.theme)),
            Ok((5, Theme::Dark))
        );
        for (limit, theme) in [
            (Some("0"), None),
            (Some("101"), None),
            (Some("-1"), None),
            (Some("five"), None),
            (None, Some("pink")),
        ] {
            assert!(
                ListOptions::parse(limit, theme).is_err(),
                "{limit:?} {theme:?}"
            );
        }
    }
}
