//! Mail names the site (`--site-name`) in its subject and signature, and
//! says until when its link works.

use newsfeed::clock::Clock;
use newsfeed::service::accounts;

use crate::common::{TestApp, World};
use crate::mail::smtp::SmtpSink;

/// Sat 12 Dec 2026, 14:17 UTC: a reset link, valid an hour, ends at 15:17.
const NOW: i64 = 1_797_085_020;

db_test!(
    mail_names_the_site_and_when_its_link_expires,
    World::builder().clock(Clock::manual(NOW)),
    |app: TestApp| async move {
        let sink = SmtpSink::running();
        let app = app
            .restart(|c| {
                c.smtp_url = Some(sink.url());
                c.site_name = Some("QGIS News".into());
            })
            .await;
        let world = World::new(app).await;
        let reset =
            accounts::request_reset(&world.app.state.services, "editor@example.org", "test")
                .await
                .unwrap()
                .unwrap();
        let received = sink.wait_for(1).await;
        let mail = &received[0];
        assert_eq!(mail.subject(), "[QGIS News] Reset your password");
        assert!(
            mail.data.contains("reset your password on QGIS News"),
            "{}",
            mail.data
        );
        let until = chrono::DateTime::from_timestamp(reset.expires_at, 0)
            .unwrap()
            .format("%a %-d %b, %H:%M UTC")
            .to_string();
        assert_eq!(until, "Sat 12 Dec, 15:17 UTC", "a reset link lasts an hour");
        assert!(
            mail.data.contains(&format!("is valid until {until}.")),
            "{}",
            mail.data
        );
        let base = world.app.state.config.public_base_url();
        // Under the signature line ("-- ", its space quoted-printable).
        let signature = mail
            .data
            .split("\r\n--=20\r\n")
            .nth(1)
            .expect("a signature");
        assert!(
            signature.contains(&format!("QGIS News\r\n{base}\r\n")),
            "signed by the site: {}",
            mail.data
        );
        assert!(
            mail.data
                .contains(&format!("QGIS News<br><a href=3D\"{base}\">"))
                || mail
                    .data
                    .contains(&format!("QGIS News<br><a href=\"{base}\">"))
        );
    }
);
