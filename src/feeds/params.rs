//! Query parameters of the public feeds, parsed leniently where clients
//! differ (case, region suffixes, integer or float) and refused with a plain
//! reason otherwise.

use std::fmt::Write as _;

use super::item::Position;
use crate::domain::codes::{self, Languages};
use crate::domain::geo::Point;
use crate::domain::validate::quoted;
use crate::domain::{EntryKind, TextEnum};

/// QGIS 3.36 and later drop entries whose `publish_to` is past when they
/// come again; older versions show whatever they receive for a session.
const FIRST_QGIS_WITH_RETRACTIONS: u32 = 33600;
/// QGIS 4 opens an entry's `url` from a button of its own; older versions
/// (and every other client, as on feed.qgis.org) get the call to action in
/// the content.
const FIRST_QGIS_WITH_LINK_BUTTON: u32 = 40000;
/// `after` is unix seconds and QGIS keeps it in 32 bits.
const MAX_AFTER: f64 = 4_294_967_295.0;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FeedFormat {
    Json,
    Rss,
    Atom,
    Ics,
}

impl FeedFormat {
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Json => "application/feed+json; charset=utf-8",
            Self::Rss => "application/rss+xml; charset=utf-8",
            Self::Atom => "application/atom+xml; charset=utf-8",
            Self::Ics => "text/calendar; charset=utf-8",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Self::Json => "json",
            Self::Rss => "rss",
            Self::Atom => "atom",
            Self::Ics => "ics",
        }
    }
}

/// What a `GET /` asks for.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct QgisQuery {
    /// A JSON array (QGIS agent or `json=1`) rather than the HTML page.
    pub json: bool,
    /// Whether the User-Agent says QGIS (which always gets the array).
    pub qgis_agent: bool,
    /// Two-letter languages; empty means all.
    pub languages: Languages,
    pub after: Option<f64>,
    pub point: Option<Point>,
    /// Whether the client drops entries sent again with a past `publish_to`.
    pub knows_retractions: bool,
    /// Whether `call_to_action` is appended to `content` (all but QGIS 4+).
    pub call_to_action: bool,
}

impl QgisQuery {
    pub fn parse(
        json: Option<&str>,
        lang: Option<&str>,
        after: Option<&str>,
        lat: Option<&str>,
        lon: Option<&str>,
        user_agent: Option<&str>,
    ) -> Result<Self, String> {
        let agent = user_agent.unwrap_or_default();
        let is_qgis = find_ignoring_case(agent, "qgis").is_some();
        let json_flag = match nonempty(json) {
            None | Some("0" | "false") => false,
            Some("1" | "true") => true,
            Some(other) => return Err(format!("json must be 1 or 0, not {}", quoted(other))),
        };
        let after = nonempty(after)
            .map(|text| match text.parse::<f64>() {
                Ok(value) if value.is_finite() && (0.0..=MAX_AFTER).contains(&value) => Ok(value),
                _ => Err(format!(
                    "after must be unix seconds (an integer or decimal number from 0 to {MAX_AFTER}), not {}",
                    quoted(text)
                )),
            })
            .transpose()?;
        let point = match (nonempty(lat), nonempty(lon)) {
            (None, None) => None,
            (Some(lat), Some(lon)) => Some([
                coordinate("lon", lon, 180.0)?,
                coordinate("lat", lat, 90.0)?,
            ]),
            _ => return Err("lat and lon must be given together".into()),
        };
        let version = qgis_version(agent).filter(|_| is_qgis);
        Ok(Self {
            json: is_qgis || json_flag,
            qgis_agent: is_qgis,
            languages: Languages::parse(lang)?,
            after,
            point,
            knows_retractions: !is_qgis
                || version.is_some_and(|version| version >= FIRST_QGIS_WITH_RETRACTIONS),
            call_to_action: version.is_none_or(|version| version < FIRST_QGIS_WITH_LINK_BUTTON),
        })
    }

    /// Whether the answer depends only on the snapshot (not on the
    /// client's `after` or position).
    pub fn is_cacheable(&self) -> bool {
        self.after.is_none() && self.point.is_none()
    }

    /// The cache key of a cacheable answer.
    pub fn write_cache_key(&self, key: &mut String) {
        key.push_str(if self.json { "/|json|" } else { "/|html|" });
        key.push_str(if self.call_to_action { "cta|" } else { "|" });
        self.languages.push_to(key);
    }
}

/// Most entries one page of a feed holds (`limit`).
pub const MAX_FEED_LIMIT: usize = 100;

/// The feed parameters as a client sent them: `group`, `kind` and
/// `country` repeated or comma lists, the others once.
#[derive(Debug, Default)]
pub struct FeedParams<'a> {
    pub group: Vec<&'a str>,
    pub kind: Vec<&'a str>,
    pub country: Vec<&'a str>,
    pub lang: Option<&'a str>,
    pub limit: Option<&'a str>,
    pub before: Option<&'a str>,
}

impl FeedParams<'_> {
    /// Whether a site asked for what only the feeds offer (`lang` alone is
    /// the QGIS array's too): then `?json=1` answers with a JSON Feed.
    pub fn asks_for_feed(&self) -> bool {
        split(
            self.group
                .iter()
                .chain(&self.kind)
                .chain(&self.country)
                .copied(),
        )
        .next()
        .is_some()
            || nonempty(self.limit).is_some()
            || nonempty(self.before).is_some()
    }
}

/// Filters and page of `/feed.*` and `/groups/{slug}/feed.*`, normalized so
/// that requests for the same answer share one cached variant.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FeedQuery {
    /// Group slugs, sorted; empty means all.
    pub groups: Vec<String>,
    /// Kinds, sorted; empty means all.
    pub kinds: Vec<EntryKind>,
    /// Two-letter languages; empty means all.
    pub languages: Languages,
    /// Countries of the groups (ISO 3166-1 alpha-2), sorted; empty means all.
    pub countries: Vec<&'static str>,
    /// Most entries on the page; `None`: `--feed-max-items` (the calendars: all).
    pub limit: Option<usize>,
    /// Only what comes after this entry in feed order (the previous page's last).
    pub before: Option<Position>,
}

impl FeedQuery {
    /// Parses what a client sent. Whether the groups exist is checked
    /// against the snapshot.
    pub fn parse(params: &FeedParams<'_>) -> Result<Self, String> {
        let mut slugs: Vec<String> = split(params.group.iter().copied())
            .map(str::to_ascii_lowercase)
            .collect();
        slugs.sort();
        slugs.dedup();
        let mut kinds = Vec::new();
        for kind in split(params.kind.iter().copied()) {
            kinds.push(EntryKind::parse(&kind.to_ascii_lowercase()).ok_or_else(|| {
                format!(
                    "unknown kind {}; use one of {}",
                    quoted(kind),
                    EntryKind::ALL
                        .iter()
                        .map(|k| k.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            })?);
        }
        kinds.sort_by_key(|kind| kind.as_str());
        kinds.dedup();
        let mut countries = Vec::new();
        for code in split(params.country.iter().copied()) {
            let known = codes::COUNTRIES
                .binary_search(&code.to_ascii_uppercase().as_str())
                .ok()
                .and_then(|index| codes::COUNTRIES.get(index));
            countries.push(*known.ok_or_else(|| {
                format!(
                    "unknown country {}; use ISO 3166-1 alpha-2 codes such as DE or CH",
                    quoted(code)
                )
            })?);
        }
        countries.sort_unstable();
        countries.dedup();
        let limit = nonempty(params.limit)
            .map(|text| match text.parse::<usize>() {
                Ok(limit) if (1..=MAX_FEED_LIMIT).contains(&limit) => Ok(limit),
                _ => Err(format!(
                    "limit must be a whole number from 1 to {MAX_FEED_LIMIT}, not {}",
                    quoted(text)
                )),
            })
            .transpose()?;
        let before = nonempty(params.before)
            .map(|text| {
                text.parse::<Position>().map_err(|()| {
                    format!(
                        "before must be the cursor a next_url carries (such as 0_0_1763900000_42), not {}",
                        quoted(text)
                    )
                })
            })
            .transpose()?;
        Ok(Self {
            groups: slugs,
            kinds,
            languages: Languages::parse(params.lang)?,
            countries,
            limit,
            before,
        })
    }

    /// Writes the canonical query string (for links and cache keys), without
    /// `group` when the path names it, and with `before` the given cursor.
    pub fn write_query_string(
        &self,
        out: &mut String,
        with_groups: bool,
        before: Option<Position>,
    ) {
        let start = out.len();
        let begin = |out: &mut String, name: &str| {
            if out.len() > start {
                out.push('&');
            }
            out.push_str(name);
            out.push('=');
        };
        if with_groups && !self.groups.is_empty() {
            begin(out, "group");
            push_joined(out, self.groups.iter().map(String::as_str));
        }
        if !self.kinds.is_empty() {
            begin(out, "kind");
            push_joined(out, self.kinds.iter().map(|kind| kind.as_str()));
        }
        if !self.languages.is_empty() {
            begin(out, "lang");
            self.languages.push_to(out);
        }
        if !self.countries.is_empty() {
            begin(out, "country");
            push_joined(out, self.countries.iter().copied());
        }
        if let Some(limit) = self.limit {
            begin(out, "limit");
            let _ = write!(out, "{limit}");
        }
        if let Some(before) = before {
            begin(out, "before");
            let _ = write!(out, "{before}");
        }
    }
}

/// `a,b,c`.
fn push_joined<'a>(out: &mut String, values: impl Iterator<Item = &'a str>) {
    for (n, value) in values.enumerate() {
        if n > 0 {
            out.push(',');
        }
        out.push_str(value);
    }
}

fn nonempty(value: Option<&str>) -> Option<&str> {
    value.map(str::trim).filter(|text| !text.is_empty())
}

fn split<'a>(values: impl IntoIterator<Item = &'a str>) -> impl Iterator<Item = &'a str> {
    values
        .into_iter()
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .filter(|value| !value.is_empty())
}

fn coordinate(name: &str, text: &str, limit: f64) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(value) if value.is_finite() && (-limit..=limit).contains(&value) => Ok(value),
        _ => Err(format!(
            "{name} must be a number from -{limit} to {limit}, not {}",
            quoted(text)
        )),
    }
}

/// Where `needle` (lowercase ASCII) starts in `haystack`, ignoring ASCII case.
fn find_ignoring_case(haystack: &str, needle: &str) -> Option<usize> {
    haystack
        .as_bytes()
        .windows(needle.len())
        .position(|window| window.eq_ignore_ascii_case(needle.as_bytes()))
}

/// `Mozilla/5.0 QGIS/33600/Linux` -> 33600 (any case); `None` when unreadable.
fn qgis_version(agent: &str) -> Option<u32> {
    let rest = &agent[find_ignoring_case(agent, "qgis/")? + 5..];
    let end = rest
        .bytes()
        .position(|b| !b.is_ascii_digit())
        .unwrap_or(rest.len());
    rest[..end].parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn qgis(agent: &str, after: Option<&str>) -> Result<QgisQuery, String> {
        QgisQuery::parse(None, Some("pt_BR,en"), after, None, None, Some(agent))
    }

    #[test]
    fn versions_decide_retractions() {
        let new = qgis("Mozilla/5.0 QGIS/33600/Linux", Some("1700000000")).unwrap_or_default();
        assert!(new.json && new.knows_retractions);
        assert_eq!(new.languages.to_vec(), ["en", "pt"]);
        assert_eq!(new.after, Some(1_700_000_000.0));
        let old = qgis("Mozilla/5.0 QGIS/32216", Some("1700000000.25")).unwrap_or_default();
        assert!(old.json && !old.knows_retractions);
        let unreadable = qgis("qgis desktop", None).unwrap_or_default();
        assert!(unreadable.json && !unreadable.knows_retractions);
        let browser =
            QgisQuery::parse(None, None, None, None, None, Some("Firefox")).unwrap_or_default();
        assert!(!browser.json && browser.knows_retractions);
    }

    #[test]
    fn only_qgis_4_goes_without_the_call_to_action() {
        for (agent, appended) in [
            ("Mozilla/5.0 QGIS/40000/Linux", false),
            ("Mozilla/5.0 QGIS/40201", false),
            ("Mozilla/5.0 QGIS/39999", true),
            ("Mozilla/5.0 QGIS/32216", true),
            ("QGIS desktop", true),
            ("Firefox", true),
        ] {
            let query = qgis(agent, None).unwrap_or_default();
            assert_eq!(query.call_to_action, appended, "{agent}");
        }
    }

    #[test]
    fn bad_values_are_refused() {
        for (lang, after, lat, lon) in [
            (Some("e"), None, None, None),
            (Some("english!"), None, None, None),
            (Some("12"), None, None, None),
            (None, Some("yesterday"), None, None),
            (None, Some("-1"), None, None),
            (None, Some("NaN"), None, None),
            (None, None, Some("91"), Some("0")),
            (None, None, Some("1"), None),
            (None, None, Some("1"), Some("east")),
        ] {
            assert!(
                QgisQuery::parse(None, lang, after, lat, lon, None).is_err(),
                "{lang:?} {after:?} {lat:?} {lon:?}"
            );
        }
        let point = QgisQuery::parse(
            None,
            Some(""),
            None,
            Some("-22.90684700000000063"),
            Some("-43.17289599999999780"),
            None,
        )
        .unwrap_or_default();
        assert_eq!(point.point, Some([-43.172895999999994, -22.906847]));
    }

    #[test]
    fn feed_filters_are_canonical() {
        let params = FeedParams {
            group: vec!["b,a", "a"],
            kind: vec!["Event"],
            country: vec!["ch, de", "DE"],
            // The first language stays first: it picks translated texts.
            lang: Some("EN,de_DE"),
            limit: Some(" 5"),
            before: Some("1_-2_1763900000_42"),
        };
        assert!(params.asks_for_feed());
        let query = FeedQuery::parse(&params).unwrap_or_default();
        let mut out = String::new();
        query.write_query_string(&mut out, true, query.before);
        assert_eq!(
            out,
            "group=a,b&kind=event&lang=en,de&country=CH,DE&limit=5&before=1_-2_1763900000_42"
        );
        out.clear();
        query.write_query_string(&mut out, false, None);
        assert_eq!(out, "kind=event&lang=en,de&country=CH,DE&limit=5");
    }

    /// Parameters with just `name` set to `value`.
    fn only(name: &str, value: &'static str) -> FeedParams<'static> {
        let mut params = FeedParams::default();
        match name {
            "group" => params.group = vec![value],
            "kind" => params.kind = vec![value],
            "country" => params.country = vec![value],
            "lang" => params.lang = Some(value),
            "limit" => params.limit = Some(value),
            _ => params.before = Some(value),
        }
        params
    }

    #[test]
    fn only_feed_parameters_ask_for_a_feed() {
        for (name, value, asks) in [
            ("lang", "de", false),
            ("group", " , ", false),
            ("limit", " ", false),
            ("group", "a", true),
            ("country", "ch", true),
            ("limit", "3", true),
            ("before", "0_0_1_1", true),
        ] {
            assert_eq!(only(name, value).asks_for_feed(), asks, "{name}={value}");
        }
    }

    #[test]
    fn bad_feed_values_are_refused() {
        for (name, value) in [
            ("kind", "party"),
            ("country", "Germany"),
            ("country", "ZZ"),
            ("limit", "0"),
            ("limit", "101"),
            ("limit", "-1"),
            ("before", "2026-01-01T00:00:00Z"),
            ("before", "2_0_1_1"),
            ("before", "0_0_1_1_1"),
        ] {
            assert!(
                FeedQuery::parse(&only(name, value)).is_err(),
                "{name}={value}"
            );
        }
        let most = FeedQuery::parse(&only("limit", "100")).unwrap_or_default();
        assert_eq!(most.limit, Some(MAX_FEED_LIMIT));
    }
}
