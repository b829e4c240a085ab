//! Messages in the reader's words: fields named by their labels, the
//! summary in form order, Preview as strict as Save, every password problem
//! at once.

use crate::common::{PASSWORD, TestApp, World};
use crate::web::support::{Browser, Page};

const EDITOR: &str = "editor@example.org";

/// The sentences of the error summary at the top of `page`, in order.
fn summary(page: &Page) -> Vec<String> {
    let start = page.text.find("id=\"error-summary\"").expect("a summary");
    let end = start + page.text[start..].find("</ul>").expect("its list");
    page.text[start..end]
        .split("\">")
        .skip(2)
        .filter_map(|item| item.split("</a>").next())
        .map(str::to_string)
        .collect()
}

fn broken_meetup(intent: &str) -> Vec<(&str, &str)> {
    vec![
        ("kind", "meetup"),
        ("group", "alpha"),
        ("title", ""),
        ("content", "Everyone welcome."),
        ("timezone", "Europe/Berlin"),
        ("starts_at", "2030-03-04T18:00"),
        ("ends_at", "2030-03-04T17:00"),
        ("latitude", "north"),
        ("longitude", "7.1"),
        ("language", "de"),
        ("publish_from", "2030-03-01T00:00"),
        ("publish_to", "2030-02-01T00:00"),
        ("intent", intent),
    ]
}

db_test!(
    errors_name_fields_by_their_labels_in_form_order,
    World::builder(),
    |app: TestApp| async move {
        let world = World::new(app).await;
        let browser = Browser::signed_in(&world.app, EDITOR).await;
        let form = "/my/entries/new?kind=meetup";
        let saved = browser.submit(form, form, &broken_meetup("save")).await;
        saved.expect(422);
        assert_eq!(
            summary(&saved),
            [
                "Title must not be empty",
                "Ends must be after Starts",
                "Latitude must be a number such as 50.7339",
                "Publish until must be after Publish from",
            ]
        );
        assert_eq!(
            saved.field_error("ends_at").as_deref(),
            Some("must be after Starts")
        );
        assert!(!saved.has("starts_at</"), "no internal names shown");
        // Preview refuses the same things with the same words.
        let previewed = browser.post(form, &broken_meetup("preview")).await;
        previewed.expect(422);
        assert_eq!(summary(&previewed), summary(&saved));
        // Without the unreadable latitude, the domain's verdict alone.
        let mut fields = broken_meetup("save");
        fields.retain(|(name, _)| *name != "latitude");
        fields.push(("latitude", "50.73"));
        let saved = browser.post(form, &fields).await;
        saved.expect(422);
        let fields: Vec<(&str, &str)> = fields
            .into_iter()
            .map(|(name, value)| (name, if name == "intent" { "preview" } else { value }))
            .collect();
        let previewed = browser.post(form, &fields).await;
        assert_eq!(summary(&previewed), summary(&saved));
        assert_eq!(summary(&saved).len(), 3);
    }
);

db_test!(
    amounts_have_examples_that_are_amounts,
    World::builder(),
    |app: TestApp| async move {
        let world = World::new(app).await;
        let browser = Browser::signed_in(&world.app, EDITOR).await;
        let form = "/my/entries/new?kind=crowdfunding";
        browser.get(form).await.expect(200).expect_text("e.g. 5000");
        let page = browser
            .submit(
                form,
                form,
                &[
                    ("kind", "crowdfunding"),
                    ("group", "alpha"),
                    ("title", "Fund it"),
                    ("content", "Please."),
                    ("goal_amount", "lots"),
                    ("currency", "EUR"),
                    ("deadline", "2030-03-04T18:00"),
                    ("intent", "save"),
                ],
            )
            .await;
        page.expect(422);
        assert_eq!(
            page.field_error("goal_amount").as_deref(),
            Some("must be a number such as 5000 or 1250.50")
        );
        assert!(!page.has("50.73"), "no latitude as an example");
    }
);

db_test!(
    a_new_password_reports_every_problem_at_once,
    World::builder(),
    |app: TestApp| async move {
        let world = World::new(app).await;
        let browser = Browser::signed_in(&world.app, EDITOR).await;
        let page = browser
            .submit(
                "/account",
                "/account",
                &[
                    ("current_password", PASSWORD),
                    ("password", "short"),
                    ("password_confirmation", "shorter"),
                ],
            )
            .await;
        page.expect(422);
        assert_eq!(
            summary(&page),
            [
                "New password must be 8 to 1024 characters",
                "New password again must be the same as the new password",
            ]
        );
    }
);
