//! People: what makes an email, a password and a display name acceptable.

use idna::uts46::{AsciiDenyList, Hyphens, Uts46};
use unicode_normalization::UnicodeNormalization;
use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};
use unicode_security::MixedScript;

use super::validate::{Checker, FieldError};
use super::{Role, limits};

/// A plausible email address in the one form it is stored, compared and
/// looked up by, so that the same address typed another way is the same account:
/// - compatibility forms folded (NFKC): full-width letters from an input
///   method, ligatures and the like become the plain letters they show
///   (no mail system tells `ａｎｎａ` from `anna` apart on purpose, and a
///   person who typed them meant the plain ones);
/// - lower case, composed (NFC): `e` followed by a combining accent is `é`;
/// - the domain through IDNA (UTS #46): its `xn--` and Unicode spellings are one name.
///
/// Refused: invisible format characters (Unicode category Cf: zero-width
/// space, soft hyphen, joiners, byte order mark, bidi controls), and a local
/// part or domain label that mixes scripts (Latin letters with Cyrillic ones).
pub fn normalize_email(field: &str, email: &str) -> Result<String, FieldError> {
    let invalid = || FieldError::new(field, "must be an email address");
    let email = email.trim();
    // Folding can lengthen an address a little; anything far longer is no address.
    if email.len() > 4 * limits::EMAIL_BYTES {
        return Err(invalid());
    }
    if let Some(format) = email
        .chars()
        .find(|c| c.general_category() == GeneralCategory::Format)
    {
        return Err(FieldError::new(
            field,
            format!(
                "must not contain invisible characters (U+{:04X})",
                u32::from(format)
            ),
        ));
    }
    let folded: String = email
        .nfkc()
        .collect::<String>()
        .to_lowercase()
        .nfc()
        .collect();
    let (local, domain) = folded.split_once('@').ok_or_else(invalid)?;
    let (domain, mapped) =
        Uts46::new().to_unicode(domain.as_bytes(), AsciiDenyList::STD3, Hyphens::Allow);
    let plausible = mapped.is_ok()
        && !local.is_empty()
        && domain.contains('.')
        && domain.split('.').all(|label| !label.is_empty())
        && !local.chars().any(|c| c.is_whitespace() || c.is_control());
    if !plausible {
        return Err(invalid());
    }
    if !local.is_single_script() || !domain.split('.').all(MixedScript::is_single_script) {
        return Err(FieldError::new(
            field,
            "must not mix the letters of different scripts (such as Latin and Cyrillic) in one part",
        ));
    }
    let email = format!("{local}@{domain}");
    if email.len() > limits::EMAIL_BYTES {
        return Err(invalid());
    }
    Ok(email)
}

/// What a normalized address looks like (its UTS #39 confusable skeleton):
/// no reader tells two addresses with the same skeleton apart, so the second
/// is refused as taken. (The migration that fills `users.email_skeleton`
/// makes this same one call.)
pub fn email_skeleton(email: &str) -> String {
    unicode_security::skeleton(email).collect()
}

/// The form a typed address is looked up and rate limited by: normalized,
/// or, for an address these rules refuse (an account older than them),
/// trimmed and in lower case as such accounts were stored.
pub fn email_key(email: &str) -> String {
    normalize_email("email", email).unwrap_or_else(|_| email.trim().to_lowercase())
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

    fn normalized(email: &str) -> Option<String> {
        normalize_email("e", email).ok()
    }

    #[test]
    fn the_same_address_typed_another_way_is_one_address() {
        let anna = Some("anna@example.org".to_string());
        // Full-width letters (an input method), upper case, an `xn--`-free domain in capitals.
        for typed in [
            "ａｎｎａ@example.org",
            "ANNA@EXAMPLE.ORG",
            "anna@ＥＸＡＭＰＬＥ.org",
            "ａｎｎａ＠example.org",
        ] {
            assert_eq!(normalized(typed), anna, "{typed}");
        }
        // An accent composed, or typed as a letter and a combining mark.
        let composed = normalized("jos\u{e9}@example.org");
        assert_eq!(composed.as_deref(), Some("jos\u{e9}@example.org"));
        assert_eq!(normalized("jose\u{301}@example.org"), composed);
        assert_eq!(normalized("JOSE\u{301}@example.org"), composed);
        // A domain's punycode and Unicode spellings are one name (kept in Unicode).
        assert_eq!(
            normalized("ana@xn--bcher-kva.de").as_deref(),
            Some("ana@b\u{fc}cher.de")
        );
        assert_eq!(
            normalized("ana@B\u{dc}CHER.de"),
            normalized("ana@xn--bcher-kva.de")
        );
        // Normalizing twice changes nothing.
        for typed in [
            "ａｎｎａ@example.org",
            "jose\u{301}@b\u{fc}cher.de",
            "ℌi@x.org",
        ] {
            let once = normalized(typed).expect(typed);
            assert_eq!(normalized(&once).as_deref(), Some(once.as_str()), "{typed}");
        }
    }

    #[test]
    fn invisible_characters_and_mixed_scripts_are_refused() {
        for invisible in [
            '\u{200B}', '\u{00AD}', '\u{200D}', '\u{200C}', '\u{FEFF}', '\u{2060}',
        ] {
            let error =
                normalize_email("e", &format!("an{invisible}na@example.org")).expect_err("refused");
            assert!(error.message.contains("invisible"), "{}", error.message);
            assert!(normalize_email("e", &format!("anna@exa{invisible}mple.org")).is_err());
        }
        // Latin with a Cyrillic `а`, in the local part or in one domain label.
        for mixed in ["\u{430}nna@example.org", "anna@ex\u{430}mple.org"] {
            let error = normalize_email("e", mixed).expect_err("refused");
            assert!(error.message.contains("scripts"), "{}", error.message);
        }
        // One script, whichever, with digits and punctuation, is fine.
        for fine in [
            "\u{430}\u{43d}\u{43d}\u{430}.2@example.org",
            "\u{30a2}\u{30f3}\u{30ca}\u{3055}\u{3093}@example.jp",
            "anna@\u{43f}\u{440}\u{438}\u{43c}\u{435}\u{440}.\u{440}\u{444}",
        ] {
            assert!(normalized(fine).is_some(), "{fine}");
        }
    }

    #[test]
    fn lookalikes_share_a_skeleton_and_others_do_not() {
        let anna = email_skeleton("anna@example.org");
        // All-Cyrillic `асе` against Latin `ace`: each single-script, same look.
        assert_eq!(
            email_skeleton("\u{430}\u{441}\u{435}@example.org"),
            email_skeleton("ace@example.org")
        );
        assert_eq!(email_skeleton("\u{430}nna@example.org"), anna);
        assert_ne!(email_skeleton("anne@example.org"), anna);
        assert_ne!(email_skeleton("hanna@example.org"), anna);
    }

    #[test]
    fn lookup_keys_fall_back_for_addresses_older_than_the_rules() {
        assert_eq!(email_key(" ＡＮＮＡ@example.org"), "anna@example.org");
        // Refused today, so looked up as such accounts were stored.
        assert_eq!(email_key(" An\u{200B}na@X.org "), "an\u{200B}na@x.org");
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
