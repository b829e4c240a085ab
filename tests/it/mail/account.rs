//! `/account`: a new name at once; a new address only once the link mailed
//! to it is followed (the old one works until then); the mail wanted.

use crate::common::{PASSWORD, TestApp, World};
use crate::mail::smtp::SmtpSink;
use crate::web::support::Browser;

const EDITOR: &str = "editor@example.org";

/// The first link to `path` in a received mail (quoted-printable undone).
fn link_in(data: &str, base: &str, path: &str) -> String {
    let start = data.find(&format!("{base}{path}")).expect("a link") + base.len();
    let rest = &data[start..];
    let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
    rest[..end].replace("=3D", "=")
}

db_test!(
    people_change_their_name_address_and_mail,
    |app: TestApp| async move {
        let sink = SmtpSink::running();
        let app = app.restart(|c| c.smtp_url = Some(sink.url())).await;
        let world = World::new(app).await;
        let browser = Browser::signed_in(&world.app, EDITOR).await;
        let sent = browser
            .submit(
                "/account",
                "/account/profile",
                &[("display_name", "Eddie"), ("email", "New@Example.org")],
            )
            .await;
        sent.expect(303);
        browser
            .follow(&sent)
            .await
            .expect(200)
            .expect_text(">Eddie</a>")
            .expect_text("We sent a link to New@Example.org")
            .expect_text("Until then your address stays editor@example.org.");
        let received = sink.wait_for(1).await;
        let mail = &received[0];
        assert_eq!(mail.to, ["new@example.org"], "to the new address");
        assert!(mail.subject().ends_with("] Confirm your new email address"));
        assert!(mail.data.contains("is valid until "), "{}", mail.data);
        let base = world.app.state.config.public_base_url();
        let link = link_in(&mail.data, &base, "/account/email/");
        assert!(link.ends_with("?to=new%40example.org"), "{link}");
        // Until confirmed, the old address signs in and the new one does not.
        Browser::new(&world.app)
            .sign_in("new@example.org", PASSWORD)
            .await
            .expect(401);
        // A forged address with the real secret does nothing.
        let forged = link.replace("new%40example.org", "evil%40example.org");
        browser.get(&forged).await.expect(200);
        browser.post(&forged, &[]).await.expect(404);
        browser
            .get(&link)
            .await
            .expect(200)
            .expect_text("Use <strong>new@example.org</strong>");
        let confirmed = browser.post(&link, &[]).await;
        assert_eq!(confirmed.expect(303).location(), "/account");
        browser
            .follow(&confirmed)
            .await
            .expect_text("Your address is now new@example.org");
        // Once only.
        browser.post(&link, &[]).await.expect(404);
        Browser::new(&world.app)
            .sign_in(EDITOR, PASSWORD)
            .await
            .expect(401);
        Browser::new(&world.app)
            .sign_in("new@example.org", PASSWORD)
            .await
            .expect(303);
        // Someone else's address is refused on the page.
        let taken = browser
            .submit(
                "/account",
                "/account/profile",
                &[("display_name", "Eddie"), ("email", "outsider@example.org")],
            )
            .await;
        taken.expect(422);
        assert!(taken.field_error("email").is_some(), "{}", taken.text);
        // Mail choices: unticked is off.
        let saved = browser
            .submit("/account", "/account/mail", &[("decisions", "on")])
            .await;
        saved.expect(303);
        let page = browser.follow(&saved).await;
        page.expect_text("Your mail choices are saved.")
            .expect_text("name=\"decisions\" type=\"checkbox\" value=\"on\" checked>")
            .expect_text("name=\"submissions\" type=\"checkbox\" value=\"on\">");
    }
);
