//! What pages offer for embedding elsewhere: a group page's snippets to
//! paste, and the oEmbed discovery link of entry and group pages. (The
//! embedded pages themselves are `embed`'s.)

use super::forms;
use crate::domain::embed::{Target, frame_html};
use crate::domain::sanitize::escape_html;

/// What a group's page offers to paste into another site.
pub struct Snippets {
    /// `<script src=".../embed.js">` and `<newsfeed-entries>`.
    pub script: String,
    /// A frame of `/embed/groups/{slug}` and the listener that sizes it.
    pub frame: String,
    /// The group page's address, for oEmbed consumers.
    pub page: String,
    /// The oEmbed answer for it.
    pub oembed: String,
}

impl Snippets {
    pub fn of_group(public_url: &str, slug: &str, name: &str) -> Self {
        let target = Target::Group(slug.to_string());
        let page = format!("{public_url}/groups/{slug}");
        let frame = frame_html(
            &format!("{public_url}{}", target.frame_path()),
            &format!("News from {name}"),
            target.frame_size(None, None),
        );
        let origin = escape_html(&origin_of(public_url));
        Self {
            script: format!(
                "<script src=\"{public_url}/embed.js\" async></script>\n\
                 <newsfeed-entries group=\"{slug}\" limit=\"5\" theme=\"light\"></newsfeed-entries>"
            ),
            frame: format!(
                "{frame}\n<script>\n\
                 addEventListener(\"message\", (event) => {{\n  \
                 if (event.origin !== \"{origin}\" || event.data?.type !== \"newsfeed:height\") return;\n  \
                 for (const frame of document.querySelectorAll(\"iframe\"))\n    \
                 if (frame.contentWindow === event.source) frame.style.height = event.data.height + \"px\";\n\
                 }});\n</script>"
            ),
            oembed: oembed_url(public_url, &page),
            page,
        }
    }
}

/// `https://host:port` of a public URL (which may carry a path).
fn origin_of(public_url: &str) -> String {
    url::Url::parse(public_url)
        .map(|url| url.origin().ascii_serialization())
        .unwrap_or_else(|_| public_url.to_string())
}

/// The oEmbed discovery link of the page at `page_url` (for `Layout::alternates`).
pub fn discovery(public_url: &str, page_url: &str, title: &str) -> (String, &'static str, String) {
    (
        title.to_string(),
        "application/json+oembed",
        oembed_url(public_url, page_url),
    )
}

fn oembed_url(public_url: &str, page_url: &str) -> String {
    format!(
        "{public_url}/oembed?url={}&format=json",
        forms::encode(page_url)
    )
}
