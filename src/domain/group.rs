//! Group input and its validation.

use super::text::Text;
use poem_openapi::Object;

use super::{GroupStatus, codes, entry::is_web_url};
use crate::error::FieldError;

/// A group as an admin creates or updates it (absent fields keep their value on update).
#[derive(Object, Clone, Debug, Default)]
#[oai(deny_unknown_fields)]
pub struct GroupInput {
    /// Lower-case letters, digits and dashes; 2 to 64 characters. Fixed once created.
    #[oai(nullable)]
    pub slug: Option<Text>,
    /// Display name.
    #[oai(nullable)]
    pub name: Option<Text>,
    /// ISO 3166-1 alpha-2 country, or empty for international groups.
    #[oai(nullable)]
    pub country: Option<Text>,
    /// Group website (http or https), or empty.
    #[oai(nullable)]
    pub website: Option<Text>,
    /// Contact person or address.
    #[oai(nullable)]
    pub contact: Option<Text>,
    /// Active groups publish; suspended ones cannot submit; removed ones are hidden.
    #[oai(nullable)]
    pub status: Option<GroupStatus>,
}

/// The validated fields of a group.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct GroupFields {
    pub slug: String,
    pub name: String,
    pub country: String,
    pub website: String,
    pub contact: String,
}

pub fn check_slug(field: &str, slug: &str, errors: &mut Vec<FieldError>) {
    let well_formed = (2..=64).contains(&slug.len())
        && slug
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !slug.starts_with('-')
        && !slug.ends_with('-');
    if !well_formed {
        errors.push(FieldError::new(
            field,
            "must be 2 to 64 lower-case letters, digits or dashes, not starting or ending with a dash",
        ));
    }
}

/// Checks shared by groups and access requests: name, country, website.
pub fn check_identity(fields: &mut GroupFields, errors: &mut Vec<FieldError>) {
    fields.name = fields.name.trim().to_string();
    if fields.name.is_empty() || fields.name.chars().count() > 200 {
        errors.push(FieldError::new("name", "must be 1 to 200 characters"));
    } else if fields.name.contains('\0') {
        // PostgreSQL text cannot hold NUL.
        errors.push(FieldError::new("name", "must not contain NUL characters"));
    }
    fields.country = fields.country.trim().to_ascii_uppercase();
    if !fields.country.is_empty() && !codes::is_country(&fields.country) {
        errors.push(FieldError::new(
            "country",
            "must be an ISO 3166-1 alpha-2 code such as `DE`, or empty",
        ));
    }
    fields.website = fields.website.trim().to_string();
    if !fields.website.is_empty()
        && (fields.website.len() > 2048
            || fields.website.contains('\0')
            || !is_web_url(&fields.website))
    {
        errors.push(FieldError::new(
            "website",
            "must be an http or https URL, or empty",
        ));
    }
    fields.contact = fields.contact.trim().to_string();
    if fields.contact.chars().count() > 255 {
        errors.push(FieldError::new("contact", "must be at most 255 characters"));
    } else if fields.contact.contains('\0') {
        errors.push(FieldError::new(
            "contact",
            "must not contain NUL characters",
        ));
    }
}

impl GroupFields {
    pub fn apply(&mut self, input: &GroupInput) {
        for (target, value) in [
            (&mut self.slug, &input.slug),
            (&mut self.name, &input.name),
            (&mut self.country, &input.country),
            (&mut self.website, &input.website),
            (&mut self.contact, &input.contact),
        ] {
            if let Some(value) = value {
                target.clone_from(&value.0);
            }
        }
    }

    pub fn validate(&mut self) -> Result<(), Vec<FieldError>> {
        let mut errors = Vec::new();
        self.slug = self.slug.trim().to_string();
        check_slug("slug", &self.slug, &mut errors);
        check_identity(self, &mut errors);
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
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
    slug.truncate(64);
    slug.trim_end_matches('-').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        assert_eq!(slugify("QGIS UK (England)"), "qgis-uk-england");
        let mut errors = Vec::new();
        for bad in ["a", "Has-Caps", "-x", "x-", "sp ace"] {
            check_slug("slug", bad, &mut errors);
        }
        assert_eq!(errors.len(), 5);
    }

    #[test]
    fn group_fields_are_normalized() {
        let mut fields = GroupFields {
            slug: "qgis-de".into(),
            name: " QGIS DE ".into(),
            country: "de".into(),
            website: "https://qgis.de/".into(),
            contact: String::new(),
        };
        assert_eq!(fields.validate(), Ok(()));
        assert_eq!(fields.country, "DE");
        fields.country = "XX".into();
        fields.website = "javascript:x".into();
        let errors = fields.validate().err().unwrap_or_default();
        assert_eq!(
            errors.iter().map(|e| e.field.as_str()).collect::<Vec<_>>(),
            ["country", "website"]
        );
    }
}
