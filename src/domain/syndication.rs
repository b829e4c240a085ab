//! Cross-posting rules: what an account signs in with and where it lives
//! (checked), and the text each network gets, fitted to its limit.

use unicode_segmentation::UnicodeSegmentation;

use super::{FieldError, Network};

/// What an account signs in with. `Debug` never shows it.
#[derive(Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "network", rename_all = "snake_case")]
pub enum Credentials {
    Mastodon {
        access_token: String,
    },
    Bluesky {
        handle: String,
        app_password: String,
    },
    Telegram {
        bot_token: String,
        chat_id: String,
    },
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Credentials({}, ..)", self.network())
    }
}

impl Credentials {
    pub fn network(&self) -> Network {
        match self {
            Credentials::Mastodon { .. } => Network::Mastodon,
            Credentials::Bluesky { .. } => Network::Bluesky,
            Credentials::Telegram { .. } => Network::Telegram,
        }
    }
}

/// Credentials as a client sent them: any network's fields.
#[derive(Default)]
pub struct GivenCredentials {
    pub access_token: Option<String>,
    pub handle: Option<String>,
    pub app_password: Option<String>,
    pub bot_token: Option<String>,
    pub chat_id: Option<String>,
}

/// Longest credential field accepted.
const CREDENTIAL_MAX_CHARS: usize = 2000;

/// One credential field: present, not blank, no whitespace or control
/// characters (they go into headers and URLs), not too long.
fn required(
    name: &str,
    value: Option<String>,
    allowed: impl Fn(char) -> bool,
    errors: &mut Vec<FieldError>,
) -> String {
    let field = format!("credentials.{name}");
    let value = value.unwrap_or_default();
    let refusal = if value.is_empty() {
        Some("is required for this network")
    } else if value.chars().count() > CREDENTIAL_MAX_CHARS {
        Some("is too long")
    } else if value.chars().any(|c| c.is_control() || c.is_whitespace()) {
        Some("must not contain spaces or control characters")
    } else if !value.chars().all(allowed) {
        Some("contains characters this network does not use")
    } else {
        None
    };
    if let Some(message) = refusal {
        errors.push(FieldError::new(field, message));
    }
    value
}

/// The credentials of `network` from what was given; fields of other networks are refused.
pub fn credentials(
    network: Network,
    given: GivenCredentials,
) -> Result<Credentials, Vec<FieldError>> {
    let mut errors = Vec::new();
    let used: &[&str] = match network {
        Network::Mastodon => &["access_token"],
        Network::Bluesky => &["handle", "app_password"],
        Network::Telegram => &["bot_token", "chat_id"],
    };
    for (name, value) in [
        ("access_token", &given.access_token),
        ("handle", &given.handle),
        ("app_password", &given.app_password),
        ("bot_token", &given.bot_token),
        ("chat_id", &given.chat_id),
    ] {
        if value.is_some() && !used.contains(&name) {
            errors.push(FieldError::new(
                format!("credentials.{name}"),
                format!("is not used by {network}"),
            ));
        }
    }
    let any = |_: char| true;
    let token = |c: char| c.is_ascii_alphanumeric() || matches!(c, ':' | '_' | '-');
    let chat = |c: char| c.is_ascii_alphanumeric() || matches!(c, '@' | '_' | '-');
    let credentials = match network {
        Network::Mastodon => Credentials::Mastodon {
            access_token: required("access_token", given.access_token, any, &mut errors),
        },
        Network::Bluesky => Credentials::Bluesky {
            handle: required("handle", given.handle, any, &mut errors)
                .trim_start_matches('@')
                .to_string(),
            app_password: required("app_password", given.app_password, any, &mut errors),
        },
        Network::Telegram => Credentials::Telegram {
            bot_token: required("bot_token", given.bot_token, token, &mut errors),
            chat_id: required("chat_id", given.chat_id, chat, &mut errors),
        },
    };
    if errors.is_empty() {
        Ok(credentials)
    } else {
        Err(errors)
    }
}

/// Where an account of `network` lives when no server is given.
pub fn default_server(network: Network) -> Option<&'static str> {
    match network {
        Network::Mastodon => None,
        Network::Bluesky => Some("https://bsky.social"),
        Network::Telegram => Some("https://api.telegram.org"),
    }
}

/// The server's origin (`https://host[:port]`), from what was given or the
/// network's default. Plain http only when `allow_http` (tests on one machine).
pub fn server(
    network: Network,
    given: Option<&str>,
    allow_http: bool,
) -> Result<String, FieldError> {
    let refuse = |message: &str| FieldError::new("server", message);
    let given = given
        .map(str::trim)
        .filter(|given| !given.is_empty())
        .or(default_server(network))
        .ok_or_else(|| refuse("is required for Mastodon (the instance's address)"))?;
    if given.chars().any(char::is_control) {
        return Err(refuse("must not contain control characters"));
    }
    let url = url::Url::parse(given)
        .map_err(|_| refuse("must be a URL such as https://mastodon.social"))?;
    match url.scheme() {
        "https" => {}
        "http" if allow_http => {}
        _ => return Err(refuse("must be an https URL")),
    }
    if url.host_str().is_none_or(str::is_empty)
        || !url.username().is_empty()
        || url.password().is_some()
        || url.query().is_some()
        || url.fragment().is_some()
        || url.path() != "/"
    {
        return Err(refuse(
            "must be just the server's address, such as https://mastodon.social",
        ));
    }
    Ok(url.origin().ascii_serialization())
}

/// What a post says: the pieces it is fitted from.
pub struct Message<'a> {
    pub title: &'a str,
    /// When and where, for events (else empty).
    pub when_where: &'a str,
    /// The entry's text, plain.
    pub summary: &'a str,
    /// The entry's page.
    pub link: &'a str,
}

/// How long a post may be on `network` (Telegram allows less under a photo).
pub fn limit(network: Network, with_photo: bool) -> usize {
    match network {
        Network::Mastodon => 500,
        Network::Bluesky => 300,
        Network::Telegram if with_photo => 1024,
        Network::Telegram => 4096,
    }
}

/// Every URL Mastodon counts as this many characters, however long.
const MASTODON_URL_CHARS: usize = 23;

fn is_link(word: &str) -> bool {
    word.starts_with("https://") || word.starts_with("http://")
}

/// The length of `text` as `network` counts it: characters with each link
/// as 23 (Mastodon), graphemes (Bluesky), UTF-16 units (Telegram).
pub fn length(network: Network, text: &str) -> usize {
    match network {
        Network::Mastodon => text
            .split_inclusive(char::is_whitespace)
            .map(|word| {
                let trimmed = word.trim_end();
                if is_link(trimmed) {
                    MASTODON_URL_CHARS + (word.chars().count() - trimmed.chars().count())
                } else {
                    word.chars().count()
                }
            })
            .sum(),
        Network::Bluesky => text.graphemes(true).count(),
        Network::Telegram => text.encode_utf16().count(),
    }
}

/// Whether a moderator's `text` fits `network`.
pub fn check(network: Network, text: &str, with_photo: bool) -> Result<(), FieldError> {
    let (length, limit) = (length(network, text), limit(network, with_photo));
    if text.chars().any(|c| c.is_control() && c != '\n') {
        return Err(FieldError::new(
            "text",
            "must not contain control characters",
        ));
    }
    if length > limit {
        return Err(FieldError::new(
            "text",
            format!("is {length} long; {network} takes at most {limit}"),
        ));
    }
    Ok(())
}

/// The first `graphemes` graphemes of `text`, with an ellipsis when cut.
fn shortened(text: &str, graphemes: usize) -> String {
    let mut cut: String = text.graphemes(true).take(graphemes).collect();
    if cut.len() < text.len() {
        cut.truncate(cut.trim_end().len());
        cut.push('…');
    }
    cut
}

/// The most of `text` (cut at a grapheme) for which `fits` holds, if any.
fn longest_fitting(text: &str, fits: impl Fn(&str) -> bool) -> Option<String> {
    let total = text.graphemes(true).count();
    let (mut low, mut high) = (0, total);
    if !fits(&shortened(text, 0)) {
        return None;
    }
    while low < high {
        let middle = (low + high).div_ceil(2);
        if fits(&shortened(text, middle)) {
            low = middle;
        } else {
            high = middle - 1;
        }
    }
    Some(shortened(text, low))
}

/// The post for `network`: title, when and where, text and link, the text
/// cut first, then the title, so that the link always fits.
pub fn fit(network: Network, message: &Message<'_>, with_photo: bool) -> String {
    let limit = limit(network, with_photo);
    let compose = |title: &str, when_where: &str, summary: &str| {
        [title, when_where, summary, message.link]
            .into_iter()
            .map(str::trim)
            .filter(|part| !part.is_empty() && *part != "…")
            .collect::<Vec<_>>()
            .join("\n\n")
    };
    let fits = |text: &str| length(network, text) <= limit;
    let (title, when_where) = (message.title, message.when_where);
    if let Some(summary) = longest_fitting(message.summary, |summary| {
        fits(&compose(title, when_where, summary))
    }) {
        return compose(title, when_where, &summary);
    }
    for when_where in [when_where, ""] {
        if let Some(title) = longest_fitting(title, |title| fits(&compose(title, when_where, ""))) {
            return compose(&title, when_where, "");
        }
    }
    compose("", "", "")
}

/// The links in `text`: byte offsets (start, end) and the URL, as Bluesky's
/// link facets index them.
pub fn links(text: &str) -> Vec<(usize, usize, &str)> {
    let mut found = Vec::new();
    let mut offset = 0;
    for word in text.split_inclusive(char::is_whitespace) {
        let trimmed = word
            .trim_end()
            .trim_end_matches(['.', ',', ';', ':', '!', '?', ')']);
        if is_link(trimmed) {
            found.push((offset, offset + trimmed.len(), trimmed));
        }
        offset += word.len();
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn given(pairs: &[(&str, &str)]) -> GivenCredentials {
        let get = |name: &str| {
            pairs
                .iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| value.to_string())
        };
        GivenCredentials {
            access_token: get("access_token"),
            handle: get("handle"),
            app_password: get("app_password"),
            bot_token: get("bot_token"),
            chat_id: get("chat_id"),
        }
    }

    #[test]
    fn credentials_are_those_of_the_network_and_never_debug_printed() {
        let mastodon = credentials(Network::Mastodon, given(&[("access_token", "abc")])).unwrap();
        assert_eq!(format!("{mastodon:?}"), "Credentials(mastodon, ..)");
        let fields = |errors: Vec<FieldError>| {
            errors
                .into_iter()
                .map(|error| error.field)
                .collect::<Vec<_>>()
        };
        assert_eq!(
            fields(credentials(Network::Mastodon, given(&[])).unwrap_err()),
            ["credentials.access_token"]
        );
        assert_eq!(
            fields(
                credentials(
                    Network::Telegram,
                    given(&[
                        ("bot_token", "1:a/../x"),
                        ("chat_id", "-100"),
                        ("handle", "h")
                    ])
                )
                .unwrap_err()
            ),
            ["credentials.handle", "credentials.bot_token"]
        );
        assert!(
            credentials(
                Network::Bluesky,
                given(&[("handle", "a b"), ("app_password", "x")])
            )
            .is_err()
        );
        assert!(credentials(Network::Mastodon, given(&[("access_token", "a\u{7}")])).is_err());
        assert_eq!(
            credentials(
                Network::Bluesky,
                given(&[("handle", "@me.bsky.social"), ("app_password", "p")])
            ),
            Ok(Credentials::Bluesky {
                handle: "me.bsky.social".into(),
                app_password: "p".into()
            })
        );
    }

    #[test]
    fn servers_are_https_origins_with_defaults() {
        assert_eq!(
            server(Network::Mastodon, Some("https://mastodon.social/"), false),
            Ok("https://mastodon.social".into())
        );
        assert_eq!(
            server(Network::Bluesky, None, false),
            Ok("https://bsky.social".into())
        );
        assert!(server(Network::Mastodon, None, false).is_err());
        assert!(server(Network::Mastodon, Some("http://mastodon.social"), false).is_err());
        assert!(server(Network::Mastodon, Some("http://127.0.0.1:9"), true).is_ok());
        assert!(server(Network::Mastodon, Some("https://m.example/api?x=1"), false).is_err());
        assert!(server(Network::Mastodon, Some("https://u:p@m.example"), false).is_err());
        assert!(server(Network::Mastodon, Some("javascript:alert(1)"), false).is_err());
    }

    #[test]
    fn lengths_are_counted_as_each_network_counts() {
        let link = "https://example.org/a/very/long/path/that/is/longer/than/twenty-three";
        assert_eq!(length(Network::Mastodon, &format!("Hi {link}")), 3 + 23);
        assert_eq!(length(Network::Bluesky, "👩‍👩‍👧 é"), 3);
        assert_eq!(length(Network::Telegram, "😀"), 2);
    }

    #[test]
    fn long_texts_are_cut_so_that_the_link_fits() {
        let link = "https://news.example/entries/7";
        let long = "word ".repeat(200);
        let message = Message {
            title: "QGIS day",
            when_where: "12 May 2026, 10:00 · Bonn",
            summary: &long,
            link,
        };
        for network in [Network::Mastodon, Network::Bluesky, Network::Telegram] {
            for photo in [false, true] {
                let text = fit(network, &message, photo);
                assert!(length(network, &text) <= limit(network, photo), "{network}");
                assert!(text.starts_with("QGIS day\n\n12 May 2026"), "{text}");
                assert!(text.ends_with(link), "{text}");
            }
        }
        let bluesky = fit(Network::Bluesky, &message, false);
        assert!(bluesky.contains("word…"), "{bluesky}");
        let short = Message {
            summary: "Short.",
            ..message
        };
        assert_eq!(
            fit(Network::Mastodon, &short, false),
            format!("QGIS day\n\n12 May 2026, 10:00 · Bonn\n\nShort.\n\n{link}")
        );
        let huge_title = "T".repeat(400);
        let titled = Message {
            title: &huge_title,
            ..short
        };
        let text = fit(Network::Bluesky, &titled, false);
        assert_eq!(length(Network::Bluesky, &text), 300);
        assert!(text.ends_with(link));
    }

    #[test]
    fn links_are_found_with_their_byte_offsets() {
        let text = "Café 😀 see https://a.example/x. and http://b.example";
        let found = links(text);
        assert_eq!(found.len(), 2);
        let (start, end, url) = found[0];
        assert_eq!(&text[start..end], "https://a.example/x");
        assert_eq!(url, "https://a.example/x");
        assert_eq!(&text[found[1].0..found[1].1], "http://b.example");
    }
}
