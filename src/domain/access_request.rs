//! A request from a new group for access: what it must contain.

use super::group::{GroupFields, check_identity, check_slug, slugify};
use super::limits;
use super::user::normalize_email;
use super::validate::{Checker, FieldError};

/// What the public form sends.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AccessRequestForm {
    pub group_name: String,
    /// Wished slug; derived from the name when absent.
    pub slug: Option<String>,
    pub country: String,
    pub website: String,
    pub contact_email: String,
    pub message: String,
}

/// A request that passed validation: the group it would create, and who asks.
#[derive(Clone, Debug, PartialEq)]
pub struct ValidAccessRequest {
    pub group: GroupFields,
    pub contact_email: String,
    pub message: String,
}

impl AccessRequestForm {
    pub fn validate(&self) -> Result<ValidAccessRequest, Vec<FieldError>> {
        let mut check = Checker::new();
        let slug = self
            .slug
            .as_deref()
            .map(str::trim)
            .map(str::to_string)
            .unwrap_or_else(|| slugify(&self.group_name));
        check_slug(&mut check, "slug", &slug);
        let mut group = GroupFields {
            slug,
            name: self.group_name.clone(),
            country: self.country.clone(),
            website: self.website.clone(),
            contact: String::new(),
            languages: Vec::new(),
        };
        check_identity(&mut check, &mut group, "group_name");
        let contact_email = normalize_email("contact_email", &self.contact_email)
            .map_err(|error| check.push(error))
            .unwrap_or_default();
        let message = check.multiline(
            "message",
            &self.message,
            limits::ACCESS_REQUEST_MESSAGE_CHARS,
        );
        group.contact.clone_from(&contact_email);
        check.finish_with(ValidAccessRequest {
            group,
            contact_email,
            message,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::validate::failed_fields;

    #[test]
    fn slug_comes_from_the_name_and_names_are_one_line() {
        let form = AccessRequestForm {
            group_name: "QGIS Brasil".into(),
            contact_email: "Ana@Example.org".into(),
            ..AccessRequestForm::default()
        };
        let valid = form.validate().ok();
        assert_eq!(
            valid.as_ref().map(|v| v.group.slug.as_str()),
            Some("qgis-brasil")
        );
        assert_eq!(
            valid.map(|v| v.contact_email),
            Some("ana@example.org".into())
        );

        let injected = AccessRequestForm {
            group_name: "Evil\r\nBEGIN:VEVENT".into(),
            slug: Some("evil".into()),
            contact_email: "a@example.org".into(),
            ..AccessRequestForm::default()
        };
        let fields = failed_fields(injected.validate());
        assert_eq!(fields, ["group_name"]);
    }
}
