//! Translations through the entries API: stored, returned, validated, and
//! an edit of one on a live entry reviewed like any other.

use serde_json::{Value, json};

use crate::api::support::{act, entry, id_of};
use crate::common::{self, World};
use crate::feeds::support::{NEW_QGIS, qgis};

/// An announcement in German with a French translation.
pub fn german_and_french() -> Value {
    json!({"group": "alpha", "kind": "announcement", "language": "de",
           "title": "Treffen in Bern", "content": "<p>Wir treffen uns.</p>",
           "call_to_action": "Anmelden",
           "translations": {"FR": {"title": "Rencontre à Berne",
                                   "content": "<p>On se retrouve.</p>",
                                   "call_to_action": "S'inscrire",
                                   "image_alt": "La salle"}}})
}

db_test!(
    translations_are_stored_and_returned,
    |app: common::TestApp| async move {
        let w = World::new(app).await;
        let created = w
            .app
            .post("/api/v1/entries", Some(&w.editor), german_and_french())
            .await
            .expect(201)
            .json();
        assert_eq!(
            created["translations"],
            json!({"fr": {"title": "Rencontre à Berne", "content": "<p>On se retrouve.</p>",
                          "call_to_action": "S'inscrire", "image_alt": "La salle"}}),
            "codes are stored lower-case"
        );
        let stored = entry(&w.app, &w.editor, id_of(&created)).await;
        assert_eq!(stored["translations"], created["translations"]);
        // An entry without any has an empty object.
        let plain = w.app.draft(&w.editor, "alpha", "Plain").await;
        assert_eq!(plain["translations"], json!({}));
    }
);

// Each case: the translations sent, the field the 422 names.
fn invalid_cases() -> Vec<(Value, &'static str)> {
    let many: serde_json::Map<String, Value> = [
        "en", "fr", "it", "es", "pt", "nl", "pl", "cs", "sv", "da", "fi",
    ]
    .into_iter()
    .map(|code| (code.to_string(), json!({"title": "T"})))
    .collect();
    vec![
        (json!({"xx": {"title": "T"}}), "translations"),
        (json!({"english": {"title": "T"}}), "translations"),
        (json!({"de": {"title": "T"}}), "translations"),
        (json!({"fr": {"title": " "}}), "translations.fr.title"),
        (json!({"fr": {"title": "a\nb"}}), "translations.fr.title"),
        (
            json!({"fr": {"title": "x".repeat(256)}}),
            "translations.fr.title",
        ),
        (
            json!({"fr": {"title": "T", "call_to_action": "a\u{7}"}}),
            "translations.fr.call_to_action",
        ),
        (
            json!({"fr": {"title": "T", "image_alt": "x".repeat(256)}}),
            "translations.fr.image_alt",
        ),
        (
            json!({"fr": {"title": "T", "content": format!("<p>{}</p>", "x".repeat(501))}}),
            "translations.fr.content",
        ),
        (
            json!({"fr": {"title": "T", "content": "a\u{0}b"}}),
            "translations.fr.content",
        ),
        (Value::Object(many), "translations"),
    ]
}

db_test!(
    invalid_translations_name_their_field,
    |app: common::TestApp| async move {
        let w = World::new(app).await;
        for (translations, field) in invalid_cases() {
            let mut body = german_and_french();
            body["translations"] = translations.clone();
            w.app
                .post("/api/v1/entries", Some(&w.editor), body)
                .await
                .expect_field_error(field);
        }
        // Unknown keys in a translation are refused as elsewhere.
        let mut body = german_and_french();
        body["translations"] = json!({"fr": {"title": "T", "summary": "x"}});
        let reply = w.app.post("/api/v1/entries", Some(&w.editor), body).await;
        assert!(
            reply.status.is_client_error(),
            "unknown field: {}",
            reply.status
        );
    }
);

db_test!(
    translated_html_is_sanitized_as_the_main_text,
    |app: common::TestApp| async move {
        let w = World::new(app).await;
        let mut body = german_and_french();
        body["translations"] = json!({"fr": {"title": "T",
            "content": "<p onclick=\"x()\">Salut <script>alert(1)</script><b>toi</b></p>"}});
        let created = w
            .app
            .post("/api/v1/entries", Some(&w.editor), body)
            .await
            .expect(201)
            .json();
        assert_eq!(
            created["translations"]["fr"]["content"],
            "<p>Salut <b>toi</b></p>"
        );
    }
);

db_test!(
    an_edit_of_one_translation_of_a_live_entry_is_reviewed,
    |app: common::TestApp| async move {
        let w = World::new(app).await;
        let app = &w.app;
        let mut body = german_and_french();
        body["language"] = Value::Null;
        let id = w.publish(body, json!({})).await;
        let french = |items: Vec<Value>| items[0]["title"].as_str().map(str::to_string);
        assert_eq!(
            french(qgis(app, "/?lang=fr", NEW_QGIS).await).as_deref(),
            Some("Rencontre à Berne")
        );
        let live = entry(app, &w.editor, id).await;
        let mut translations = live["translations"].clone();
        translations["fr"]["title"] = json!("Rencontre à Berne, 2e édition");
        let edited = app
            .patch(
                &format!("/api/v1/entries/{id}"),
                Some(&w.editor),
                json!({"version": live["version"], "translations": translations}),
            )
            .await
            .expect(200)
            .json();
        assert_eq!(
            (&edited["status"], &edited["live"]),
            (&json!("pending"), &json!(true))
        );
        let history = app
            .get(&format!("/api/v1/entries/{id}/history"), Some(&w.moderator))
            .await
            .expect(200)
            .json();
        let edit = history
            .as_array()
            .expect("history")
            .iter()
            .rev()
            .find(|event| event["action"] == "edit")
            .cloned()
            .expect("an edit event");
        assert!(
            edit.to_string().contains("2e édition"),
            "the review shows the changed translation: {edit}"
        );
        // The live French text stays until the edit is approved.
        assert_eq!(
            french(qgis(app, "/?lang=fr", NEW_QGIS).await).as_deref(),
            Some("Rencontre à Berne")
        );
        act(app, &w.moderator, id, "approve", json!({}))
            .await
            .expect(200);
        assert_eq!(
            french(qgis(app, "/?lang=fr", NEW_QGIS).await).as_deref(),
            Some("Rencontre à Berne, 2e édition")
        );
    }
);
