//! One struct per kind of mail: its fields are what the templates show, its
//! plain-text template is derived on it and its HTML template on a wrapper
//! that reads the same fields. Everything is rendered in English.

use askama::Template;
use serde::{Deserialize, Serialize};

use crate::domain::sanitize::escape_html;

/// A rendered mail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Composed {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// Who sends every mail: the site's name and address, in each subject and
/// signature so that people know where a mail comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Site {
    pub name: String,
    pub url: String,
}

/// A kind of mail: its subject line, and both bodies from its templates.
pub trait Mail {
    fn subject(&self) -> String;
    fn bodies(&self) -> askama::Result<(String, String)>;

    /// The mail as `site` sends it: its name heads the subject and signs
    /// both bodies.
    fn compose(&self, site: &Site) -> askama::Result<Composed> {
        let (mut text, html) = self.bodies()?;
        let Site { name, url } = site;
        // The plain signature goes under the mail's own "-- " block, if any.
        if !text.contains("\n-- \n") {
            text.push_str("\n-- ");
        }
        text = format!("{}\n{name}\n{url}\n", text.trim_end());
        let signature = format!(
            "<p style=\"color: #555; font-size: small;\">{}<br><a href=\"{}\">{}</a></p>\n</body>",
            escape_html(name),
            escape_html(url),
            escape_html(url)
        );
        Ok(Composed {
            subject: format!("[{name}] {}", self.subject()),
            text,
            html: html.replacen("</body>", &signature, 1),
        })
    }
}

/// When a link stops working, as mails say it: `Sat 12 Dec, 15:17 UTC`.
pub fn valid_until(instant: i64) -> String {
    chrono::DateTime::<chrono::Utc>::from_timestamp(instant, 0)
        .unwrap_or_default()
        .format("%a %-d %b, %H:%M UTC")
        .to_string()
}

/// Derives the HTML template of `$mail` on a wrapper that derefs to it.
macro_rules! html_alternative {
    ($mail:ident, $wrapper:ident, $path:literal) => {
        #[derive(Template)]
        #[template(path = $path)]
        struct $wrapper<'a>(&'a $mail);

        impl std::ops::Deref for $wrapper<'_> {
            type Target = $mail;
            fn deref(&self) -> &$mail {
                self.0
            }
        }

        impl $mail {
            fn both(&self) -> askama::Result<(String, String)> {
                Ok((Template::render(self)?, $wrapper(self).render()?))
            }
        }
    };
}

/// One entry in a mail to moderators.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EntryNotice {
    pub entry_id: i64,
    pub title: String,
    pub kind: String,
    pub group: String,
    /// Who sent it to review.
    pub actor: String,
    /// `resubmitted after changes`, `an edit of a live entry`, or empty.
    pub note: String,
    pub link: String,
}

/// New submissions for moderators: one, or a digest of several.
#[derive(Template, Clone, Debug, Serialize, Deserialize)]
#[template(path = "mail/submission.txt")]
pub struct Submissions {
    pub items: Vec<EntryNotice>,
    pub queue_link: String,
    pub preferences_link: String,
}
html_alternative!(Submissions, SubmissionsHtml, "mail/submission.html");

impl Mail for Submissions {
    fn subject(&self) -> String {
        match self.items.as_slice() {
            [one] => format!("To review: {}", one.title),
            many => format!("{} entries to review", many.len()),
        }
    }
    fn bodies(&self) -> askama::Result<(String, String)> {
        self.both()
    }
}

/// A moderator's decision (or comment), for the entry's author.
#[derive(Template, Clone, Debug, Serialize, Deserialize)]
#[template(path = "mail/decision.txt")]
pub struct Decision {
    pub moderator: String,
    /// `approved`, `rejected`, `asked for changes to`, `unpublished`, `commented on`.
    pub outcome: String,
    pub title: String,
    pub group: String,
    pub comment: Option<String>,
    pub link: String,
    pub preferences_link: String,
}
html_alternative!(Decision, DecisionHtml, "mail/decision.html");

impl Mail for Decision {
    fn subject(&self) -> String {
        let mut outcome = self.outcome.clone();
        if let Some(first) = outcome.get_mut(0..1) {
            first.make_ascii_uppercase();
        }
        format!("{outcome}: {}", self.title)
    }
    fn bodies(&self) -> askama::Result<(String, String)> {
        self.both()
    }
}

/// A new access request, for admins.
#[derive(Template, Clone, Debug, Serialize, Deserialize)]
#[template(path = "mail/access_request.txt")]
pub struct AccessRequest {
    pub group_name: String,
    pub contact: String,
    pub country: String,
    pub website: String,
    pub message: String,
    pub link: String,
    pub preferences_link: String,
}
html_alternative!(AccessRequest, AccessRequestHtml, "mail/access_request.html");

impl Mail for AccessRequest {
    fn subject(&self) -> String {
        format!("Access request: {}", self.group_name)
    }
    fn bodies(&self) -> askama::Result<(String, String)> {
        self.both()
    }
}

/// The answer to an access request, for the person who asked.
#[derive(Template, Clone, Debug, Serialize, Deserialize)]
#[template(path = "mail/access_request_decided.txt")]
pub struct AccessDecision {
    pub group_name: String,
    pub approved: bool,
    pub comment: Option<String>,
    pub link: String,
    pub site: String,
}
html_alternative!(
    AccessDecision,
    AccessDecisionHtml,
    "mail/access_request_decided.html"
);

impl Mail for AccessDecision {
    fn subject(&self) -> String {
        let verdict = if self.approved {
            "approved"
        } else {
            "not approved"
        };
        format!("Your access request for {} was {verdict}", self.group_name)
    }
    fn bodies(&self) -> askama::Result<(String, String)> {
        self.both()
    }
}

/// An invitation to set a password (and join a group).
#[derive(Template, Clone, Debug, Serialize, Deserialize)]
#[template(path = "mail/invitation.txt")]
pub struct Invitation {
    pub inviter: String,
    pub group: Option<String>,
    pub link: String,
    pub site: String,
    /// When the link stops working, in words ([`valid_until`]).
    #[serde(default)]
    pub expires: String,
}
html_alternative!(Invitation, InvitationHtml, "mail/invitation.html");

impl Mail for Invitation {
    fn subject(&self) -> String {
        match &self.group {
            Some(group) => format!("{} invites you to {group}", self.inviter),
            None => format!("{} invites you to {}", self.inviter, self.site),
        }
    }
    fn bodies(&self) -> askama::Result<(String, String)> {
        self.both()
    }
}

/// Someone with an account was added to a group: no link, only where to sign in.
#[derive(Template, Clone, Debug, Serialize, Deserialize)]
#[template(path = "mail/membership.txt")]
pub struct Membership {
    pub inviter: String,
    pub group: String,
    pub role: String,
    pub login: String,
    pub reset: String,
    pub site: String,
}
html_alternative!(Membership, MembershipHtml, "mail/membership.html");

impl Mail for Membership {
    fn subject(&self) -> String {
        format!("{} added you to {}", self.inviter, self.group)
    }
    fn bodies(&self) -> askama::Result<(String, String)> {
        self.both()
    }
}

/// A link to choose a new password.
#[derive(Template, Clone, Debug, Serialize, Deserialize)]
#[template(path = "mail/password_reset.txt")]
pub struct PasswordReset {
    pub link: String,
    pub site: String,
    /// When the link stops working, in words ([`valid_until`]).
    #[serde(default)]
    pub expires: String,
}
html_alternative!(PasswordReset, PasswordResetHtml, "mail/password_reset.html");

impl Mail for PasswordReset {
    fn subject(&self) -> String {
        "Reset your password".to_string()
    }
    fn bodies(&self) -> askama::Result<(String, String)> {
        self.both()
    }
}

/// A link that confirms a new address for an account (sent to that address).
#[derive(Template, Clone, Debug, Serialize, Deserialize)]
#[template(path = "mail/email_change.txt")]
pub struct EmailChange {
    pub name: String,
    pub link: String,
    pub site: String,
    /// When the link stops working, in words ([`valid_until`]).
    pub expires: String,
}
html_alternative!(EmailChange, EmailChangeHtml, "mail/email_change.html");

impl Mail for EmailChange {
    fn subject(&self) -> String {
        "Confirm your new email address".to_string()
    }
    fn bodies(&self) -> askama::Result<(String, String)> {
        self.both()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site() -> Site {
        Site {
            name: "QGIS News".into(),
            url: "https://news.example.org".into(),
        }
    }

    #[test]
    fn the_site_signs_every_mail_once() {
        let mail = PasswordReset {
            link: "https://news.example.org/reset/x".into(),
            site: "QGIS News".into(),
            expires: valid_until(1_797_088_620),
        };
        let rendered = mail.compose(&site()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(rendered.subject, "[QGIS News] Reset your password");
        assert!(rendered.text.contains("valid until Sat 12 Dec, 15:17 UTC"));
        assert!(
            rendered
                .text
                .ends_with("stays as it is.\nQGIS News\nhttps://news.example.org\n")
        );
        assert_eq!(rendered.text.matches("\n-- \n").count(), 1);
        assert!(
            rendered
                .html
                .contains("QGIS News<br><a href=\"https://news.example.org\">")
        );
    }

    #[test]
    fn html_is_escaped_and_text_is_not() {
        let mail = Decision {
            moderator: "Mo".into(),
            outcome: "rejected".into(),
            title: "<b>Bold</b> & co".into(),
            group: "alpha".into(),
            comment: Some("Too <short>".into()),
            link: "https://news.example.org/my/entries/1".into(),
            preferences_link: "https://news.example.org/account".into(),
        };
        let rendered = mail.compose(&site()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(rendered.subject, "[QGIS News] Rejected: <b>Bold</b> & co");
        assert!(rendered.text.contains("\"<b>Bold</b> & co\""));
        assert!(
            rendered.html.contains("&#60;b&#62;Bold") || rendered.html.contains("&lt;b&gt;Bold")
        );
        assert!(rendered.text.contains("Too <short>"));
    }

    #[test]
    fn several_submissions_make_one_digest() {
        let notice = |id: i64| EntryNotice {
            entry_id: id,
            title: format!("Entry {id}"),
            kind: "event".into(),
            group: "alpha".into(),
            actor: "Ed".into(),
            note: String::new(),
            link: format!("https://x.org/moderation/{id}"),
        };
        let one = Submissions {
            items: vec![notice(1)],
            queue_link: "https://x.org/moderation".into(),
            preferences_link: "https://x.org/account".into(),
        };
        assert_eq!(one.subject(), "To review: Entry 1");
        let digest = Submissions {
            items: vec![notice(1), notice(2), notice(3)],
            ..one
        };
        let rendered = digest.compose(&site()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(rendered.subject, "[QGIS News] 3 entries to review");
        assert!(rendered.text.contains("https://x.org/moderation/3"));
    }
}
