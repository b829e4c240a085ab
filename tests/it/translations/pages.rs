//! The entry page in the reader's language, linking its other versions.

use serde_json::{Value, json};

use super::api::german_and_french;
use crate::common::{self, World};
use crate::feeds::support::fetch;

db_test!(
    the_entry_page_speaks_the_readers_language,
    |app: common::TestApp| async move {
        let w = World::new(app).await;
        let app = &w.app;
        let mut body = german_and_french();
        body["language"] = Value::Null;
        body["url"] = json!("https://example.org/treffen");
        let id = w.publish(body, json!({})).await;
        let path = format!("/entries/{id}");
        let french = fetch(app, &format!("{path}?lang=fr"), &[]).await;
        let french = &french.expect(200).text;
        assert!(french.contains("<h1>Rencontre à Berne</h1>"), "{french}");
        assert!(french.contains("On se retrouve."));
        assert!(french.contains("S&#39;inscrire"), "{french}");
        assert!(french.contains(r#"lang="fr""#));
        let browser = fetch(
            app,
            &path,
            &[("accept-language", "fr-CH, fr;q=0.9, de;q=0.8")],
        )
        .await;
        assert!(
            browser
                .expect(200)
                .text
                .contains("<h1>Rencontre à Berne</h1>")
        );
        let german = fetch(app, &path, &[("accept-language", "en-GB,en;q=0.9")]).await;
        let german = &german.expect(200).text;
        assert!(german.contains("<h1>Treffen in Bern</h1>"));
        for link in [
            format!(
                r#"<link rel="alternate" hreflang="x-default" href="http://127.0.0.1:8080/entries/{id}">"#
            ),
            format!(
                r#"<link rel="alternate" hreflang="fr" href="http://127.0.0.1:8080/entries/{id}?lang=fr">"#
            ),
        ] {
            assert!(german.contains(&link), "{link} in {german}");
        }
    }
);

db_test!(
    embeds_pick_by_their_lang,
    |app: common::TestApp| async move {
        let w = World::new(app).await;
        let app = &w.app;
        let mut body = german_and_french();
        body["language"] = Value::Null;
        let id = w.publish(body, json!({})).await;
        let list = fetch(app, "/embed/groups/alpha?lang=fr", &[]).await;
        assert!(list.expect(200).text.contains("Rencontre à Berne"));
        let list = fetch(app, "/embed/groups/alpha?lang=en", &[]).await;
        assert!(list.expect(200).text.contains("Treffen in Bern"));
        let one = fetch(app, &format!("/embed/entries/{id}?lang=fr"), &[]).await;
        assert!(one.expect(200).text.contains("Rencontre à Berne"));
        // The script reads the JSON Feed, which picks the same way.
        let feed = fetch(app, "/groups/alpha/feed.json?lang=fr", &[]).await;
        assert_eq!(feed.expect(200).json()["items"][0]["language"], "fr");
    }
);
