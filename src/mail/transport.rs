//! Where mail goes: an SMTP server (lettre, async on tokio, TLS by rustls),
//! or, without `--smtp-url`, the log.

use std::time::Duration;

use lettre::message::{Mailbox, MultiPart, header::MessageId};
use lettre::transport::smtp::extension::ClientId;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::queue::Outgoing;
use crate::Config;
use crate::error::StartupError;

/// How long one SMTP conversation may take.
const SMTP_TIMEOUT: Duration = Duration::from_secs(30);

pub struct Transport {
    from: Mailbox,
    /// The host of the public URL: the domain of Message-IDs and the EHLO name.
    host: String,
    smtp: Option<AsyncSmtpTransport<Tokio1Executor>>,
}

/// What became of a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Delivery {
    Sent,
    Logged,
}

impl Transport {
    pub fn from_config(config: &Config) -> Result<Self, StartupError> {
        let from: Mailbox = config.mail_from().parse().map_err(|error| {
            StartupError::Config(format!("--mail-from `{}`: {error}", config.mail_from()))
        })?;
        let host = config.public_host().unwrap_or_else(|| "localhost".into());
        let smtp = config
            .smtp_url
            .as_deref()
            .map(|url| smtp(url, &host))
            .transpose()?;
        Ok(Self { from, host, smtp })
    }

    /// Sends `message`; the error says why it did not go out.
    pub async fn send(&self, message: &Outgoing) -> Result<Delivery, String> {
        let Some(smtp) = &self.smtp else {
            tracing::info!(
                to = %message.recipient,
                subject = %message.rendered.subject,
                body = %message.rendered.text,
                "mail (no --smtp-url: written to the log)"
            );
            return Ok(Delivery::Logged);
        };
        let to: Mailbox = message
            .recipient
            .parse()
            .map_err(|error| format!("recipient `{}`: {error}", message.recipient))?;
        // One Message-ID per outbox row: a mail sent again after a crash is recognisably the same.
        let id = message.ids.first().copied().unwrap_or_default();
        let email = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(&message.rendered.subject)
            .header(MessageId::from(format!("<outbox-{id}@{}>", self.host)))
            .multipart(MultiPart::alternative_plain_html(
                message.rendered.text.clone(),
                message.rendered.html.clone(),
            ))
            .map_err(|error| format!("cannot build the message: {error}"))?;
        smtp.send(email)
            .await
            .map(|_| Delivery::Sent)
            .map_err(|error| error.to_string())
    }
}

/// The transport for `url`: `smtp://` (no TLS), `smtp+starttls://`
/// (STARTTLS required) or `smtps://` (TLS from the start); credentials in the URL.
fn smtp(url: &str, host: &str) -> Result<AsyncSmtpTransport<Tokio1Executor>, StartupError> {
    let invalid = |reason: String| {
        StartupError::Config(format!("--smtp-url {}: {reason}", crate::db::redact(url)))
    };
    let mut parsed = url::Url::parse(url).map_err(|error| invalid(error.to_string()))?;
    if parsed.scheme() == "smtp+starttls" {
        // lettre spells STARTTLS as a query parameter.
        let rest = url
            .split_once("://")
            .map(|(_, rest)| rest)
            .unwrap_or_default();
        parsed = url::Url::parse(&format!("smtp://{rest}"))
            .map_err(|error| invalid(error.to_string()))?;
        parsed.query_pairs_mut().append_pair("tls", "required");
    } else if !matches!(parsed.scheme(), "smtp" | "smtps") {
        return Err(invalid("use smtp://, smtp+starttls:// or smtps://".into()));
    }
    let builder = AsyncSmtpTransport::<Tokio1Executor>::from_url(parsed.as_str())
        .map_err(|error| invalid(error.to_string()))?;
    Ok(builder
        .hello_name(ClientId::Domain(host.into()))
        .timeout(Some(SMTP_TIMEOUT))
        .build())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smtp_urls_of_every_scheme_are_understood() {
        for url in [
            "smtp://127.0.0.1:2525",
            "smtp+starttls://user:secret@mail.example.org:587",
            "smtps://user:secret@mail.example.org",
        ] {
            assert!(smtp(url, "news.example.org").is_ok(), "{url}");
        }
        let refused = smtp("http://user:secret@mail.example.org", "x").err();
        let message = refused.map(|e| e.to_string()).unwrap_or_default();
        assert!(message.contains("smtp+starttls://"), "{message}");
        assert!(!message.contains("secret"), "{message}");
    }
}
