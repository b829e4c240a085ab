//! Audience statistics without tracking: what a QGIS request to `/` is
//! counted under. Every dimension has a fixed, small set of slots (unknown
//! values fall into `other`), so counters are plain arrays indexed by slot
//! and the request path never allocates.

use super::StatsDimension;
use super::codes::LANGUAGES;

/// QGIS versions counted one by one: 3.0 to 5.99; others are `other`.
const FIRST_MAJOR: u32 = 3;
const MAJORS: usize = 3;
const MINORS: usize = 100;
/// Two-letter codes, `aa` to `zz`.
const CODES: usize = 26 * 26;

/// The operating systems told apart (from the User-Agent's third part).
const SYSTEMS: [&str; 4] = ["windows", "macos", "linux", "bsd"];

/// Slots of the version dimension: each `major.minor`, then `other`, `unknown`.
const VERSION_SLOTS: usize = MAJORS * MINORS + 2;
/// Slots of the OS dimension: each system, then `other`, `unknown`.
const OS_SLOTS: usize = SYSTEMS.len() + 2;
/// Slots of the country dimension: each ISO code, then `unknown`.
const COUNTRY_SLOTS: usize = CODES + 1;
/// Slots of the language dimension: each code, then `any` (no `lang`), then
/// `other` (a code that is no ISO 639-1 language).
const LANG_SLOTS: usize = CODES + 2;

/// Which two-letter slots are ISO 639-1 languages: the rest count as `other`.
const LANGUAGE_SLOTS: [bool; CODES] = {
    let mut table = [false; CODES];
    let mut index = 0;
    while index < LANGUAGES.len() {
        let code = LANGUAGES[index].as_bytes();
        table[(code[0] - b'a') as usize * 26 + (code[1] - b'a') as usize] = true;
        index += 1;
    }
    table
};

/// Where each dimension's slots start in one flat array of counters.
const OFFSETS: [usize; 4] = [
    0,
    VERSION_SLOTS,
    VERSION_SLOTS + OS_SLOTS,
    VERSION_SLOTS + OS_SLOTS + COUNTRY_SLOTS,
];
/// Counters of one day: every slot of every dimension.
pub const SLOTS: usize = OFFSETS[3] + LANG_SLOTS;

/// Labels of requests from major QGIS versions (the Prometheus counter):
/// 3, 4, 5, then `other` and `unknown`.
pub const MAJOR_LABELS: [&str; MAJORS + 2] = ["3", "4", "5", "other", "unknown"];

/// What one QGIS request is counted under: a slot per dimension, as
/// indexes into the flat array of [`SLOTS`] counters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Key {
    pub slots: [usize; 4],
    /// Index into [`MAJOR_LABELS`].
    pub major: usize,
}

impl Key {
    /// The key of a request from `user_agent` (`None` unless it is QGIS),
    /// located in `country` (ISO code) and asking first for `language`.
    pub fn of(user_agent: &str, country: Option<&str>, language: Option<&str>) -> Option<Self> {
        let start = find_ignore_case(user_agent, "qgis")?;
        // `QGIS/33600/Windows 10`: the version int, then the OS's name.
        let mut parts = user_agent[start..].splitn(3, '/').skip(1);
        let version = parts
            .next()
            .and_then(|text| text.trim().parse::<u32>().ok());
        let os = parts.next().map(str::trim).filter(|os| !os.is_empty());
        let (version_slot, major) = match version {
            None => (VERSION_SLOTS - 1, MAJORS + 1),
            Some(version) => {
                let (major, minor) = (version / 10_000, (version / 100) % 100);
                match major.checked_sub(FIRST_MAJOR).map(|m| m as usize) {
                    Some(m) if m < MAJORS => (m * MINORS + minor as usize, m),
                    _ => (VERSION_SLOTS - 2, MAJORS),
                }
            }
        };
        Some(Self {
            slots: [
                version_slot,
                OFFSETS[1] + os.map_or(OS_SLOTS - 1, os_slot),
                OFFSETS[2] + country.and_then(code_slot).unwrap_or(CODES),
                OFFSETS[3]
                    + language.map_or(CODES, |language| {
                        code_slot(language)
                            .filter(|slot| LANGUAGE_SLOTS[*slot])
                            .unwrap_or(CODES + 1)
                    }),
            ],
            major,
        })
    }
}

/// The dimension a flat slot belongs to and its label there.
pub fn describe(slot: usize) -> Option<(StatsDimension, String)> {
    let dimension = OFFSETS.iter().rposition(|start| slot >= *start)?;
    let local = slot - OFFSETS[dimension];
    let label = match dimension {
        0 if local < MAJORS * MINORS => {
            format!(
                "{}.{}",
                FIRST_MAJOR as usize + local / MINORS,
                local % MINORS
            )
        }
        0 => ["other", "unknown"]
            .get(local - MAJORS * MINORS)?
            .to_string(),
        1 => SYSTEMS
            .iter()
            .chain(&["other", "unknown"])
            .nth(local)?
            .to_string(),
        2 => code_label(local, &["unknown"], true)?,
        _ => code_label(local, &["any", "other"], false)?,
    };
    Some((StatsDimension::ALL_DIMENSIONS[dimension], label))
}

impl StatsDimension {
    /// In the order of a [`Key`]'s slots.
    pub const ALL_DIMENSIONS: [Self; 4] = [Self::Version, Self::Os, Self::Country, Self::Lang];
}

/// The value a raw QGIS-Feed count is kept under here: its version
/// (`33600` -> `3.36`), platform (`Windows 10` -> `windows`) or country
/// (ISO code), classified as a request of ours would be.
pub fn label_of(dimension: StatsDimension, raw: &str) -> String {
    let raw = raw.trim();
    let key = match dimension {
        StatsDimension::Version => Key::of(&format!("QGIS/{raw}"), None, None),
        StatsDimension::Os => Key::of(&format!("QGIS/0/{raw}"), None, None),
        StatsDimension::Country => Key::of("QGIS", Some(raw), None),
        StatsDimension::Lang => Key::of("QGIS", None, Some(raw)),
    };
    let index = StatsDimension::ALL_DIMENSIONS
        .iter()
        .position(|candidate| *candidate == dimension)
        .unwrap_or(0);
    key.and_then(|key| describe(key.slots[index]))
        .map(|(_, label)| label)
        .unwrap_or_else(|| "unknown".into())
}

/// The words that name a system of each family, tried in this order.
const FAMILIES: [(&str, &[&str]); 4] = [
    ("windows", &["windows"]),
    ("macos", &["macos", "mac os", "os x", "darwin"]),
    ("bsd", &["bsd"]),
    (
        "linux",
        &[
            "linux",
            "ubuntu",
            "debian",
            "fedora",
            "mint",
            "arch",
            "manjaro",
            "suse",
            "centos",
            "red hat",
            "rocky",
            "alma",
            "gentoo",
            "pop!_os",
            "elementary",
            "kali",
            "zorin",
            "endeavour",
            "slackware",
            "void",
            "nixos",
            "mx",
            "deepin",
            "kde neon",
            "raspbian",
        ],
    ),
];

/// The slot of a system's name. Counted on every QGIS request, so the
/// names QGIS sends most (`Linux`, `Windows`, `macOS`: a family's own name)
/// are matched first, and nothing is allocated.
fn os_slot(name: &str) -> usize {
    let family = FAMILIES
        .iter()
        .find(|(family, _)| name.eq_ignore_ascii_case(family))
        .or_else(|| {
            FAMILIES.iter().find(|(_, words)| {
                words
                    .iter()
                    .any(|word| find_ignore_case(name, word).is_some())
            })
        })
        .map_or("other", |(family, _)| family);
    SYSTEMS
        .iter()
        .position(|system| *system == family)
        .unwrap_or(SYSTEMS.len())
}

/// `de`/`DE` -> its slot among the 676 two-letter codes.
fn code_slot(code: &str) -> Option<usize> {
    match code.as_bytes() {
        [a, b] if a.is_ascii_alphabetic() && b.is_ascii_alphabetic() => Some(
            usize::from(a.to_ascii_lowercase() - b'a') * 26
                + usize::from(b.to_ascii_lowercase() - b'a'),
        ),
        _ => None,
    }
}

/// A two-letter code's label, or past the codes one of `after` them.
fn code_label(local: usize, after: &[&str], upper: bool) -> Option<String> {
    if let Some(extra) = local.checked_sub(CODES) {
        return after.get(extra).map(|label| label.to_string());
    }
    let letters = [local / 26, local % 26].map(|index| {
        let letter = b'a' + u8::try_from(index).unwrap_or(0);
        char::from(if upper {
            letter.to_ascii_uppercase()
        } else {
            letter
        })
    });
    Some(letters.iter().collect())
}

/// Whether `user_agent` is a QGIS one (it contains `QGIS`, any case).
pub fn is_qgis(user_agent: &str) -> bool {
    find_ignore_case(user_agent, "qgis").is_some()
}

fn find_ignore_case(haystack: &str, needle: &str) -> Option<usize> {
    haystack
        .as_bytes()
        .windows(needle.len())
        .position(|window| window.eq_ignore_ascii_case(needle.as_bytes()))
}

/// The day of unix second `at`, counted from 1970-01-01.
pub fn day_of(at: i64) -> i64 {
    at.div_euclid(86_400)
}

/// Day number -> `YYYY-MM-DD`, as stored.
pub fn day_label(day: i64) -> String {
    chrono::DateTime::from_timestamp(day * 86_400, 0)
        .map(|at| at.format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

/// Requests counted for one slot on one day (what a flush adds up).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DailyCount {
    pub day: i64,
    pub slot: usize,
    pub requests: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(key: Key) -> Vec<String> {
        key.slots
            .iter()
            .map(|slot| describe(*slot).map(|(_, label)| label).unwrap_or_default())
            .collect()
    }

    #[test]
    fn raw_qgis_feed_values_get_our_labels() {
        assert_eq!(label_of(StatsDimension::Version, "33600"), "3.36");
        assert_eq!(label_of(StatsDimension::Version, "40002"), "4.0");
        assert_eq!(label_of(StatsDimension::Version, "21800"), "other");
        assert_eq!(label_of(StatsDimension::Version, ""), "unknown");
        assert_eq!(label_of(StatsDimension::Os, "Windows 10"), "windows");
        assert_eq!(
            label_of(StatsDimension::Os, "Fedora Linux (Workstation Edition)"),
            "linux"
        );
        assert_eq!(label_of(StatsDimension::Os, ""), "unknown");
        assert_eq!(label_of(StatsDimension::Country, "id"), "ID");
        assert_eq!(label_of(StatsDimension::Country, "Indonesia"), "unknown");
    }

    #[test]
    fn qgis_agents_are_classified() {
        let key = Key::of("Mozilla/5.0 QGIS/33600/Windows 10", Some("DE"), Some("pt")).unwrap();
        assert_eq!(labels(key), ["3.36", "windows", "DE", "pt"]);
        assert_eq!(MAJOR_LABELS[key.major], "3");
        let key = Key::of("Mozilla/5.0 QGIS/40002/Ubuntu 24.04 LTS", None, None).unwrap();
        assert_eq!(labels(key), ["4.0", "linux", "unknown", "any"]);
        let key = Key::of("Mozilla/5.0 QGIS/32216", Some("x1"), Some("e")).unwrap();
        assert_eq!(labels(key), ["3.22", "unknown", "unknown", "other"]);
        // Two letters that are no language are not counted as themselves.
        let key = Key::of("Mozilla/5.0 QGIS/32216", None, Some("xq")).unwrap();
        assert_eq!(labels(key)[3], "other");
        let key = Key::of("qgis desktop/macOS Sonoma (14.0)", None, None).unwrap();
        assert_eq!(labels(key)[..2], ["unknown", "unknown"]);
        let key = Key::of("Mozilla/5.0 QGIS/990000/Haiku", None, None).unwrap();
        assert_eq!(labels(key)[..2], ["other", "other"]);
        assert_eq!(MAJOR_LABELS[key.major], "other");
        let key = Key::of("Mozilla/5.0 QGIS/33403/macOS Sonoma (14.0)", None, None).unwrap();
        assert_eq!(labels(key)[1], "macos");
        assert_eq!(Key::of("Mozilla/5.0 Firefox/120", None, None), None);
    }

    #[test]
    fn every_slot_has_one_label() {
        let mut seen = std::collections::HashSet::new();
        for slot in 0..SLOTS {
            let (dimension, label) = describe(slot).unwrap();
            assert!(seen.insert((dimension, label)), "slot {slot}");
        }
        assert_eq!(describe(SLOTS), None);
        assert_eq!(day_label(day_of(1_764_633_600)), "2025-12-02");
    }
}
