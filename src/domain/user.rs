//! People: what makes an email, a password and a display name acceptable.

use super::validate::{Checker, FieldError, is_bidi_control};
use super::{Role, limits};

/// A plausible email address, normalized to lower case.
pub fn normalize_email(field: &str, email: &str) -> Result<String, FieldError> {
    let email = email.trim().to_lowercase();
    let plausible = email.len() <= limits::EMAIL_BYTES
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        })
        && !email
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || is_bidi_control(c));
    if plausible {
        Ok(email)
    } else {
        Err(FieldError::new(field, "must be an email address"))
    }
}

/// Passwords are only checked for length; everything else is the person's choice.
pub fn check_password(check: &mut Checker, field: &str, password: &str) {
    let chars = password.chars().count();
    if !limits::PASSWORD_CHARS.contains(&chars) {
        check.fail(
            field,
            format!(
                "must be {} to {} characters",
                limits::PASSWORD_CHARS.start(),
                limits::PASSWORD_CHARS.end()
            ),
        );
    }
}

/// A display name: one line, 1 to 100 characters.
pub fn check_display_name(check: &mut Checker, name: &str) -> String {
    check.line("display_name", name, limits::NAME_CHARS, true)
}

/// A new account, validated.
#[derive(Clone, Debug, PartialEq)]
pub struct NewUser {
    pub email: String,
    pub password: String,
    pub display_name: String,
    pub role: Role,
}

impl NewUser {
    /// Checks and normalizes every field.
    pub fn validate(mut self) -> Result<Self, Vec<FieldError>> {
        let mut check = Checker::new();
        match normalize_email("email", &self.email) {
            Ok(email) => self.email = email,
            Err(error) => check.push(error),
        }
        check_password(&mut check, "password", &self.password);
        self.display_name = check_display_name(&mut check, &self.display_name);
        check.finish_with(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::validate::failed_fields;

    #[test]
    fn emails_are_normalized_and_checked() {
        assert_eq!(
            normalize_email("e", " Ada@Example.ORG ").ok().as_deref(),
            Some("ada@example.org")
        );
        for bad in [
            "",
            "ada",
            "ada@",
            "@x.org",
            "ada@localhost",
            "a b@x.org",
            "ada@x.",
            "ada@x.org\0",
            "ada\u{202e}@x.org",
        ] {
            assert!(normalize_email("e", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn new_users_are_checked_field_by_field() {
        let user = NewUser {
            email: "x".into(),
            password: "short".into(),
            display_name: "two\nlines".into(),
            role: Role::Member,
        };
        let fields = failed_fields(user.validate());
        assert_eq!(fields, ["email", "password", "display_name"]);
    }
}
