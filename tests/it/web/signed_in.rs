//! Signed in everywhere: error pages keep the viewer's header, browsers get
//! the site's page for an unknown address (programs the problem document),
//! and `/account` changes the name, the address and the mail wanted.

use crate::common::{TestApp, World};
use crate::web::support::Browser;

const EDITOR: &str = "editor@example.org";
const OUTSIDER: &str = "outsider@example.org";
const HTML: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

db_test!(
    error_pages_show_who_is_signed_in,
    World::builder(),
    |app: TestApp| async move {
        let world = World::new(app).await;
        let editor = Browser::signed_in(&world.app, EDITOR).await;
        let missing = editor.get("/my/entries/999999").await;
        missing
            .expect(404)
            .expect_text(">editor</a>")
            .expect_text("Sign out")
            .expect_text("<a href=\"/my/entries\"");
        let outsider = Browser::signed_in(&world.app, OUTSIDER).await;
        outsider
            .get("/moderation")
            .await
            .expect(403)
            .expect_text(">outsider</a>")
            .expect_text("Sign out");
        // Nobody signed in: the sign-in link.
        Browser::new(&world.app)
            .get("/groups/no-such-group")
            .await
            .expect(404)
            .expect_text("Sign in");
    }
);

db_test!(
    browsers_get_the_sites_not_found_page,
    World::builder(),
    |app: TestApp| async move {
        let world = World::new(app).await;
        let browser = Browser::signed_in(&world.app, EDITOR)
            .await
            .with_header("accept", HTML);
        let page = browser.get("/no/such/page").await;
        page.expect(404)
            .expect_text("<!doctype html>")
            .expect_text("Nothing is at this address")
            .expect_text(">editor</a>");
        assert!(
            page.header("content-type")
                .unwrap()
                .starts_with("text/html")
        );
        assert!(
            page.header("content-security-policy").is_some(),
            "page headers"
        );
        // Programs keep the problem document: without Accept, with JSON, under /api/.
        for (path, accept) in [
            ("/no/such/page", None),
            ("/no/such/page", Some("application/json")),
            ("/api/v1/no-such-thing", Some(HTML)),
        ] {
            let mut program = Browser::new(&world.app);
            if let Some(accept) = accept {
                program = program.with_header("accept", accept);
            }
            let answer = program.get(path).await;
            answer.expect(404);
            assert!(
                answer
                    .header("content-type")
                    .unwrap()
                    .starts_with("application/problem+json"),
                "{path} {accept:?}"
            );
        }
    }
);
