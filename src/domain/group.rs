//! Groups: their fields, a partial update, and validation.

use super::validate::{Checker, FieldError, quoted};
use super::{GroupStatus, codes, country, limits};

/// The most languages a group lists.
pub const MAX_LANGUAGES: usize = 12;

/// The validated fields of a group.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct GroupFields {
    pub slug: String,
    pub name: String,
    pub country: String,
    pub website: String,
    pub contact: String,
    /// ISO 639-1, main one first; empty: the country's (see [`languages_of`]).
    pub languages: Vec<String>,
}

/// A group as an admin creates or updates it: `None` keeps a field.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct GroupPatch {
    pub slug: Option<String>,
    pub name: Option<String>,
    pub country: Option<String>,
    pub website: Option<String>,
    pub contact: Option<String>,
    pub languages: Option<Vec<String>>,
    pub status: Option<GroupStatus>,
    /// Followable from the fediverse: the one field owners may change too.
    pub federated: Option<bool>,
}

impl GroupPatch {
    /// Whether it changes nothing but `federated` (which owners may do).
    pub fn only_federation(&self) -> bool {
        *self
            == Self {
                federated: self.federated,
                ..Self::default()
            }
    }
}

/// The languages a group writes in: its own list, else its country's (none
/// for an international group).
pub fn languages_of(stored: &[String], country_code: &str) -> Vec<String> {
    if !stored.is_empty() {
        return stored.to_vec();
    }
    country::find(country_code)
        .map(|country| {
            country
                .languages
                .iter()
                .map(|code| code.to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// The currency a group's campaigns default to: its country's.
pub fn currency_of(country_code: &str) -> Option<&'static str> {
    country::find(country_code).and_then(|country| country.currency)
}

/// `de,fr` as stored, from a list.
pub fn languages_column(languages: &[String]) -> String {
    languages.join(",")
}

/// The list stored in `column`.
pub fn languages_from_column(column: &str) -> Vec<String> {
    column
        .split(',')
        .filter(|code| !code.is_empty())
        .map(str::to_string)
        .collect()
}

/// Lower-cased, deduplicated, each an ISO 639-1 code, at most [`MAX_LANGUAGES`].
fn check_languages(check: &mut Checker, languages: &mut Vec<String>) {
    let mut seen = Vec::new();
    for code in languages.iter() {
        let code = code.trim().to_ascii_lowercase();
        if code.is_empty() || seen.contains(&code) {
            continue;
        }
        if !codes::is_language(&code) {
            check.fail(
                "languages",
                format!(
                    "{} is not an ISO 639-1 language code such as `de`",
                    quoted(&code)
                ),
            );
        }
        seen.push(code);
    }
    if seen.len() > MAX_LANGUAGES {
        check.fail(
            "languages",
            format!("may list at most {MAX_LANGUAGES} languages"),
        );
    }
    *languages = seen;
}

/// Whether `slug` is one a group may have: lowercase letters, digits and
/// inner hyphens, of the allowed length.
pub fn is_slug(slug: &str) -> bool {
    limits::SLUG_BYTES.contains(&slug.len())
        && slug
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !slug.starts_with('-')
        && !slug.ends_with('-')
}

pub fn check_slug(check: &mut Checker, field: &str, slug: &str) {
    if !is_slug(slug) {
        check.fail(
            field,
            format!(
                "must be {} to {} lower-case letters, digits or dashes, not starting or ending with a dash",
                limits::SLUG_BYTES.start(),
                limits::SLUG_BYTES.end()
            ),
        );
    }
}

/// Checks shared by groups and access requests: name (reported as
/// `name_field`), country, website.
pub fn check_identity(check: &mut Checker, fields: &mut GroupFields, name_field: &str) {
    fields.name = check.line(name_field, &fields.name, limits::GROUP_NAME_CHARS, true);
    fields.country = fields.country.trim().to_ascii_uppercase();
    if !fields.country.is_empty() && !codes::is_country(&fields.country) {
        check.fail(
            "country",
            "must be an ISO 3166-1 alpha-2 code such as `DE`, or empty",
        );
    }
    fields.website = check.url("website", &fields.website);
}

impl GroupFields {
    /// Applies the fields present in `patch` (not the status).
    pub fn apply(&mut self, patch: &GroupPatch) {
        for (target, value) in [
            (&mut self.slug, &patch.slug),
            (&mut self.name, &patch.name),
            (&mut self.country, &patch.country),
            (&mut self.website, &patch.website),
            (&mut self.contact, &patch.contact),
        ] {
            if let Some(value) = value {
                target.clone_from(value);
            }
        }
        if let Some(languages) = &patch.languages {
            self.languages.clone_from(languages);
        }
    }

    pub fn validate(&mut self) -> Result<(), Vec<FieldError>> {
        let mut check = Checker::new();
        self.slug = self.slug.trim().to_string();
        check_slug(&mut check, "slug", &self.slug);
        check_identity(&mut check, self, "name");
        self.contact = check.line("contact", &self.contact, limits::SHORT_TEXT_CHARS, false);
        check_languages(&mut check, &mut self.languages);
        check.finish()
    }
}

/// Turns a group name into a slug candidate: `QGIS Brasil` -> `qgis-brasil`.
pub fn slugify(name: &str) -> String {
    let mut slug = String::new();
    for character in name.to_lowercase().chars() {
        if character.is_ascii_alphanumeric() {
            slug.push(character);
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
    }
    slug.truncate(*limits::SLUG_BYTES.end());
    slug.trim_end_matches('-').to_string()
}

/// The directory's status text (`active`, empty, or e.g. `removed-2018`, the
/// year a group left) as a status.
pub fn parse_directory_status(text: &str) -> Option<GroupStatus> {
    let word = text.split('-').next().unwrap_or_default().trim();
    if word.is_empty() {
        Some(GroupStatus::Active)
    } else {
        GroupStatus::parse(&word.to_lowercase())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn languages_come_from_the_country_unless_set() {
        assert_eq!(languages_of(&[], "CH"), ["de", "fr", "it", "rm"]);
        assert_eq!(languages_of(&["fr".into()], "CH"), ["fr"]);
        assert!(languages_of(&[], "").is_empty());
        assert_eq!(currency_of("CH"), Some("CHF"));
        assert_eq!(currency_of(""), None);
        assert_eq!(languages_from_column("de,fr"), ["de", "fr"]);
        assert!(languages_from_column("").is_empty());
        let mut check = Checker::new();
        let mut bad = vec!["xx".to_string(), "deu".into()];
        check_languages(&mut check, &mut bad);
        assert_eq!(check.finish().err().map(|errors| errors.len()), Some(2));
    }

    #[test]
    fn slugs() {
        assert_eq!(slugify("QGIS UK (England)"), "qgis-uk-england");
        let mut check = Checker::new();
        for bad in ["a", "Has-Caps", "-x", "x-", "sp ace"] {
            check_slug(&mut check, "slug", bad);
        }
        assert_eq!(check.finish().err().map(|e| e.len()), Some(5));
    }

    #[test]
    fn group_fields_are_normalized() {
        let mut fields = GroupFields {
            slug: "qgis-de".into(),
            name: " QGIS DE ".into(),
            country: "de".into(),
            website: "https://qgis.de/".into(),
            contact: String::new(),
            languages: vec![" DE".into(), "de".into(), "fr".into(), String::new()],
        };
        assert_eq!(fields.validate(), Ok(()));
        assert_eq!(fields.country, "DE");
        assert_eq!(fields.languages, ["de", "fr"]);
        assert_eq!(fields.name, "QGIS DE");
        fields.country = "XX".into();
        fields.website = "javascript:x".into();
        let errors = fields.validate().err().unwrap_or_default();
        assert_eq!(
            errors.iter().map(|e| e.field.as_str()).collect::<Vec<_>>(),
            ["country", "website"]
        );
    }

    #[test]
    fn directory_statuses() {
        assert_eq!(parse_directory_status(""), Some(GroupStatus::Active));
        assert_eq!(
            parse_directory_status("removed-2018"),
            Some(GroupStatus::Removed)
        );
        assert_eq!(parse_directory_status("gone"), None);
    }
}
