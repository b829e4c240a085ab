//! The entry form's translations, as a browser without JavaScript uses
//! them: a language added by sending the form, its texts saved, shown to
//! readers of that language and to moderators, edited, removed.

use serde_json::json;

use crate::common::{TestApp, World};
use crate::web::support::{Browser, Page};

const EDITOR: &str = "editor@example.org";
const MODERATOR: &str = "mod@example.org";
const NEW: &str = "/my/entries/new?kind=announcement";

/// A German announcement as its form sends it, with `more` fields.
fn announcement<'a>(more: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut fields = vec![
        ("kind", "announcement"),
        ("group", "alpha"),
        ("title", "Treffen in Bonn"),
        ("content", "Wir treffen uns."),
        ("language", "de"),
        ("publish_from", ""),
        ("publish_to", ""),
        ("translations", ""),
    ];
    // What `more` gives replaces the default (a form sends a field once).
    fields.retain(|(name, _)| !more.iter().any(|(given, _)| given == name));
    fields.extend_from_slice(more);
    fields
}

/// Whether "Language of a new translation" offers `code`.
fn offered(page: &Page, code: &str) -> bool {
    let start = page
        .text
        .find("<select id=\"translations\"")
        .expect("the choice");
    let choice = &page.text[start..];
    let choice = &choice[..choice.find("</select>").unwrap()];
    choice.contains(&format!("<option value=\"{code}\">"))
}

/// The id of the entry a saved form went to.
fn saved_id(page: &Page) -> i64 {
    page.expect(303)
        .location()
        .trim_start_matches("/my/entries/")
        .parse()
        .unwrap()
}

db_test!(
    a_french_translation_from_the_form_to_readers_and_moderators,
    World::builder(),
    |app: TestApp| async move {
        let world = World::new(app).await;
        let editor = Browser::signed_in(&world.app, EDITOR).await;
        let form = editor.get(NEW).await;
        form.expect(200)
            .expect_text("<label for=\"translations\">Language of a new translation</label>")
            .expect_text("value=\"translate\" class=\"secondary\">Add a translation</button>")
            // The part the script copies stays out of what the form sends.
            .expect_text("<template id=\"translation-template\">");
        assert!(!form.has("name=\"translations.fr.title\""));

        // Without the script, "Add a translation" sends the form and gets it
        // back with an empty French part; nothing is stored.
        let added = editor
            .post(
                NEW,
                &announcement(&[("translations", "fr"), ("intent", "translate")]),
            )
            .await;
        added
            .expect(200)
            .expect_text("<legend>French (fr)</legend>")
            .expect_text("name=\"translations.fr.title\" type=\"text\" value=\"\"")
            .expect_text("lang=\"fr\"")
            .expect_text("Remove the French (fr) translation");
        added.expect_text("name=\"title\" type=\"text\" value=\"Treffen in Bonn\"");
        // French is no longer offered; neither is the main language.
        assert!(offered(&form, "fr") && offered(&added, "it"));
        assert!(!offered(&added, "fr") && !offered(&added, "de"));
        let listed = world
            .app
            .get("/api/v1/entries?group=alpha", Some(&world.editor))
            .await
            .json();
        assert_eq!(listed["items"].as_array().map(Vec::len), Some(0));

        // Its title is required: the error is next to it.
        let missing = editor
            .post(
                NEW,
                &announcement(&[
                    ("translations.fr.title", " "),
                    ("translations.fr.content", "On se retrouve."),
                    ("intent", "submit"),
                ]),
            )
            .await;
        missing.expect(422);
        assert_eq!(
            missing.field_error("translations.fr.title").as_deref(),
            Some("must not be empty")
        );
        missing
            .expect_text("href=\"#translations.fr.title\">Title in French (fr) must not be empty");
        missing.expect_text(">On se retrouve.</textarea>");

        let created = editor
            .post(
                NEW,
                &announcement(&[
                    ("translations.fr.title", "Rencontre à Bonn"),
                    (
                        "translations.fr.content",
                        "On se retrouve.\n\nVenez nombreux.",
                    ),
                    ("translations.fr.call_to_action", "S'inscrire"),
                    ("translations.fr.image_alt", ""),
                    ("intent", "submit"),
                ]),
            )
            .await;
        let id = saved_id(&created);
        let stored = world
            .app
            .get(&format!("/api/v1/entries/{id}"), Some(&world.editor))
            .await
            .json();
        assert_eq!(
            stored["translations"],
            json!({"fr": {"title": "Rencontre à Bonn",
                          "content": "<p>On se retrouve.</p><p>Venez nombreux.</p>",
                          "call_to_action": "S'inscrire", "image_alt": null}})
        );

        // The moderator reviews every translation before approving.
        let moderator = Browser::signed_in(&world.app, MODERATOR).await;
        let review = moderator.get(&format!("/moderation/{id}")).await;
        review
            .expect(200)
            .expect_text("In other languages")
            .expect_text("<h3 id=\"translation-fr\">French (fr)</h3>")
            .expect_text("<dd lang=\"fr\">Rencontre à Bonn</dd>")
            .expect_text("<dd class=\"muted\">the main description</dd>");
        assert!(!review.has("{&quot;fr&quot;"), "not as JSON");
        moderator
            .post(
                &format!("/moderation/{id}/approve"),
                &[("version", &stored["version"].to_string())],
            )
            .await
            .expect(303);

        let french = editor.get(&format!("/entries/{id}?lang=fr")).await;
        french
            .expect(200)
            .expect_text("<h1>Rencontre à Bonn</h1>")
            .expect_text("Venez nombreux.");
        editor
            .get(&format!("/entries/{id}"))
            .await
            .expect_text("<h1>Treffen in Bonn</h1>");
    }
);

db_test!(
    editing_keeps_changes_and_removes_translations,
    World::builder(),
    |app: TestApp| async move {
        let world = World::new(app).await;
        let id = world
            .publish(
                json!({"title": "Treffen", "language": "de",
                       "translations": {"fr": {"title": "Rencontre"},
                                        "it": {"title": "Incontro", "content": "<p>Ciao</p>"}}}),
                json!({}),
            )
            .await;
        let editor = Browser::signed_in(&world.app, EDITOR).await;
        let edit = format!("/my/entries/{id}/edit");
        let form = editor.get(&edit).await;
        form.expect(200)
            .expect_text("<legend>French (fr)</legend>")
            .expect_text("<legend>Italian (it)</legend>")
            .expect_text(">&#60;p&#62;Ciao&#60;/p&#62;</textarea>");
        form.expect_text("name=\"translations.fr.title\" type=\"text\" value=\"Rencontre\"");
        let version = form.input_value("version").unwrap();
        let fields = |more: &[(&'static str, &'static str)]| {
            let mut fields = vec![
                ("version", version.as_str()),
                ("title", "Treffen"),
                ("content", "<p>Some news</p>"),
                ("language", "de"),
                ("translations", ""),
            ];
            fields.extend_from_slice(more);
            fields
        };

        // An edit of one translation of a live entry goes to review; the
        // moderator sees what it changes.
        let saved = editor
            .post(
                &edit,
                &fields(&[
                    ("translations.fr.title", "Rencontre à Bonn"),
                    ("translations.it.title", "Incontro"),
                    ("translations.it.content", "<p>Ciao</p>"),
                    ("intent", "submit"),
                ]),
            )
            .await;
        assert_eq!(saved_id(&saved), id);
        let entry = world
            .app
            .get(&format!("/api/v1/entries/{id}"), Some(&world.editor))
            .await
            .json();
        assert_eq!(entry["status"], "pending");
        assert_eq!(entry["translations"]["fr"]["title"], "Rencontre à Bonn");
        assert_eq!(entry["translations"]["it"]["content"], "<p>Ciao</p>");
        let moderator = Browser::signed_in(&world.app, MODERATOR).await;
        let review = moderator.get(&format!("/moderation/{id}")).await;
        review
            .expect(200)
            .expect_text("What this edit changes in the live entry")
            .expect_text(
                "<th scope=\"row\">translations.fr.title</th><td><del>Rencontre</del></td><td><ins>Rencontre à Bonn</ins></td>",
            );
        assert!(
            !review.has("translations.it."),
            "unchanged texts are not listed"
        );
        // The live French text stays until the edit is approved.
        editor
            .get(&format!("/entries/{id}?lang=fr"))
            .await
            .expect_text("<h1>Rencontre</h1>");

        // "Remove" without the script: the form comes back without Italian.
        let version = world
            .app
            .get(&format!("/api/v1/entries/{id}"), Some(&world.editor))
            .await
            .json()["version"]
            .to_string();
        let removed = editor
            .post(
                &edit,
                &[
                    ("version", version.as_str()),
                    ("title", "Treffen"),
                    ("content", "<p>Some news</p>"),
                    ("language", "de"),
                    ("translations", ""),
                    ("translations.fr.title", "Rencontre à Bonn"),
                    ("translations.it.title", "Incontro"),
                    ("translation_remove", "it"),
                ],
            )
            .await;
        removed
            .expect(200)
            .expect_text("<legend>French (fr)</legend>");
        assert!(!removed.has("name=\"translations.it.title\""));
        assert!(offered(&removed, "it"), "Italian is offered again");
        // Saving the form as it came back stores the removal.
        editor
            .post(
                &edit,
                &[
                    ("version", version.as_str()),
                    ("title", "Treffen"),
                    ("content", "<p>Some news</p>"),
                    ("language", "de"),
                    ("translations", ""),
                    ("translations.fr.title", "Rencontre à Bonn"),
                    ("intent", "save"),
                ],
            )
            .await
            .expect(303);
        let entry = world
            .app
            .get(&format!("/api/v1/entries/{id}"), Some(&world.editor))
            .await
            .json();
        assert_eq!(
            entry["translations"],
            json!({"fr": {"title": "Rencontre à Bonn", "content": "",
                          "call_to_action": null, "image_alt": null}})
        );
    }
);

db_test!(
    languages_the_domain_refuses_are_said_next_to_the_list,
    World::builder(),
    |app: TestApp| async move {
        let world = World::new(app).await;
        let editor = Browser::signed_in(&world.app, EDITOR).await;
        editor.get(NEW).await.expect(200);
        let bogus = editor
            .post(
                NEW,
                &announcement(&[("translations.zz.title", "Zz"), ("intent", "save")]),
            )
            .await;
        bogus.expect(422);
        let error = bogus.field_error("translations").unwrap_or_default();
        assert!(error.contains("not an ISO 639-1 code"), "{error}");
        // Adding the main language is refused, and nothing is added.
        let main = editor
            .post(
                NEW,
                &announcement(&[("translations", "de"), ("intent", "translate")]),
            )
            .await;
        main.expect(422);
        let error = main.field_error("translations").unwrap_or_default();
        assert!(error.contains("is the main language"), "{error}");
        // Choosing no language says so.
        let none = editor
            .post(NEW, &announcement(&[("intent", "translate")]))
            .await;
        none.expect(422);
        assert!(none.field_error("translations").is_some());
        // A form without its CSRF token is refused, translation or not.
        editor
            .post_raw(
                NEW,
                &announcement(&[("translations", "fr"), ("intent", "translate")]),
            )
            .await
            .expect(403);
        let listed = world
            .app
            .get("/api/v1/entries?group=alpha", Some(&world.editor))
            .await
            .json();
        assert_eq!(listed["items"].as_array().map(Vec::len), Some(0));
    }
);

db_test!(
    a_draft_keeps_translations_and_their_removal,
    World::builder(),
    |app: TestApp| async move {
        let world = World::new(app).await;
        let id = world
            .publish(
                json!({"title": "Treffen", "language": "de",
                       "translations": {"fr": {"title": "Rencontre"}}}),
                json!({}),
            )
            .await;
        let editor = Browser::signed_in(&world.app, EDITOR).await;
        let edit = format!("/my/entries/{id}/edit");
        editor.get(&edit).await.expect(200);
        // The script keeps the form as typed: French removed, Italian added.
        let key = format!("entry:{id}");
        editor
            .post(
                "/my/drafts",
                &[
                    ("draft_key", key.as_str()),
                    ("title", "Treffen"),
                    ("translations", ""),
                    ("translations.it.title", "Incontro"),
                    ("translations.xx.title", "not a language"),
                ],
            )
            .await
            .expect(200);
        let back = editor.get(&edit).await;
        back.expect(200)
            .expect_text("Your unsaved changes are back")
            .expect_text("<legend>Italian (it)</legend>");
        back.expect_text("name=\"translations.it.title\" type=\"text\" value=\"Incontro\"");
        assert!(
            !back.has("name=\"translations.fr.title\""),
            "French stays removed"
        );
        assert!(
            !back.has("translations.xx"),
            "only known languages are kept"
        );
    }
);
