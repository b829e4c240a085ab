//! A reader gets the texts of their language: an entry for every language
//! written in German with a French translation reaches a French reader in
//! French, others in German, in QGIS and every feed.

use serde_json::{Value, json};

use super::api::german_and_french;
use crate::common::{self, World};
use crate::feeds::support::{NEW_QGIS, OLD_QGIS, fetch, qgis};

/// QGIS 4 shows the call to action as a button of its own.
const QGIS_4: &str = "Mozilla/5.0 QGIS/40000/Linux";

fn titles(items: &[Value]) -> Vec<&str> {
    items
        .iter()
        .map(|item| item["title"].as_str().unwrap_or_default())
        .collect()
}

/// An entry for every language with German main texts and a French
/// translation; returns its id.
async fn for_everyone(w: &World) -> i64 {
    let mut body = german_and_french();
    body["language"] = Value::Null;
    w.publish(body, json!({})).await
}

db_test!(
    qgis_readers_get_their_language_or_the_main_one,
    |app: common::TestApp| async move {
        let w = World::new(app).await;
        let app = &w.app;
        for_everyone(&w).await;
        let french = qgis(app, "/?lang=fr", QGIS_4).await;
        assert_eq!(titles(&french), ["Rencontre à Berne"]);
        assert_eq!(french[0]["content"], "<p>On se retrouve.</p>");
        let mut keys: Vec<&String> = french[0].as_object().expect("object").keys().collect();
        keys.sort();
        assert_eq!(
            keys,
            [
                "content",
                "image",
                "pk",
                "publish_from",
                "publish_to",
                "sticky",
                "title",
                "url"
            ],
            "the QGIS object keeps its keys"
        );
        // QGIS before 4 gets the call to action in the text, translated too.
        for agent in [NEW_QGIS, OLD_QGIS] {
            let old = qgis(app, "/?lang=fr_CH", agent).await;
            assert_eq!(
                old[0]["content"],
                "<p>On se retrouve.</p><p><strong>S&#39;inscrire</strong></p>"
            );
        }
        assert_eq!(
            titles(&qgis(app, "/?lang=de", NEW_QGIS).await),
            ["Treffen in Bern"]
        );
        assert_eq!(
            titles(&qgis(app, "/?lang=en", NEW_QGIS).await),
            ["Treffen in Bern"]
        );
        assert_eq!(titles(&qgis(app, "/", NEW_QGIS).await), ["Treffen in Bern"]);
        // The first language picks: cached variants do not mix them up.
        assert_eq!(
            titles(&qgis(app, "/?lang=fr,de", NEW_QGIS).await),
            ["Rencontre à Berne"]
        );
        assert_eq!(
            titles(&qgis(app, "/?lang=de,fr", NEW_QGIS).await),
            ["Treffen in Bern"]
        );
        assert_eq!(
            titles(&qgis(app, "/?lang=fr&after=1", NEW_QGIS).await),
            ["Rencontre à Berne"]
        );
        assert_eq!(
            titles(&qgis(app, "/?lang=de&after=1", NEW_QGIS).await),
            ["Treffen in Bern"]
        );
    }
);

db_test!(
    targeting_stays_language_or_area,
    |app: common::TestApp| async move {
        let w = World::new(app).await;
        let app = &w.app;
        // Main language German: a translation does not widen who gets it.
        w.publish(german_and_french(), json!({})).await;
        assert!(qgis(app, "/?lang=fr", NEW_QGIS).await.is_empty());
        assert_eq!(
            titles(&qgis(app, "/?lang=de", NEW_QGIS).await),
            ["Treffen in Bern"]
        );
        // A reader inside its area gets it, in their language.
        let mut body = german_and_french();
        body["title"] = json!("Im Gebiet");
        body["target_area"] = json!([[0.0, 0.0], [10.0, 0.0], [10.0, 10.0], [0.0, 10.0]]);
        w.publish(body, json!({})).await;
        assert_eq!(
            titles(&qgis(app, "/?lang=fr&lat=5&lon=5", NEW_QGIS).await),
            ["Rencontre à Berne"]
        );
    }
);

db_test!(
    feeds_pick_the_readers_language,
    |app: common::TestApp| async move {
        let w = World::new(app).await;
        let app = &w.app;
        let id = for_everyone(&w).await;
        let json_feed = |lang: &'static str| async move {
            fetch(app, &format!("/feed.json?lang={lang}"), &[])
                .await
                .expect(200)
                .json()
        };
        let french = json_feed("fr").await;
        let item = &french["items"][0];
        assert_eq!(item["title"], "Rencontre à Berne");
        assert_eq!(item["content_html"], "<p>On se retrouve.</p>");
        assert_eq!(item["language"], "fr");
        let english = json_feed("en").await;
        assert_eq!(english["items"][0]["title"], "Treffen in Bern");
        assert!(
            english["items"][0].get("language").is_none(),
            "main texts of an entry for every language"
        );
        let rss = fetch(app, "/feed.rss?lang=fr", &[])
            .await
            .expect(200)
            .text
            .clone();
        assert!(rss.contains("<title>Rencontre à Berne</title>"), "{rss}");
        let atom = fetch(app, "/feed.atom?lang=de", &[])
            .await
            .expect(200)
            .text
            .clone();
        assert!(
            atom.contains("Treffen in Bern") && !atom.contains("Rencontre"),
            "{atom}"
        );
        let atom = fetch(app, "/feed.atom?lang=fr", &[])
            .await
            .expect(200)
            .text
            .clone();
        assert!(atom.contains("Rencontre à Berne"), "{atom}");
        let _ = id;
    }
);

db_test!(
    calendars_carry_every_language,
    |app: common::TestApp| async move {
        let w = World::new(app).await;
        let app = &w.app;
        let starts = crate::common::now() + 86_400;
        let mut body = german_and_french();
        for (key, value) in [
            ("kind", json!("event")),
            ("starts_at", json!(crate::feeds::support::rfc3339(starts))),
            (
                "ends_at",
                json!(crate::feeds::support::rfc3339(starts + 3600)),
            ),
            ("timezone", json!("Europe/Zurich")),
        ] {
            body[key] = value;
        }
        let id = w.publish(body, json!({})).await;
        let ics = fetch(app, &format!("/entries/{id}.ics"), &[])
            .await
            .expect(200)
            .text
            .clone();
        let unfolded = ics.replace("\r\n ", "");
        for line in [
            "SUMMARY;LANGUAGE=de:Treffen in Bern",
            "DESCRIPTION;LANGUAGE=de:Wir treffen uns.",
            "DESCRIPTION;LANGUAGE=fr:Rencontre à Berne\\n\\nOn se retrouve.",
        ] {
            assert!(unfolded.contains(line), "{line} in {unfolded}");
        }
        let read = crate::common::python_reads(
            r#"
import icalendar, json, sys
event = next(iter(icalendar.Calendar.from_ical(sys.stdin.buffer.read()).walk("VEVENT")))
def texts(name):
    value = event.get(name)
    return [[v.params.get("LANGUAGE"), str(v)] for v in (value if isinstance(value, list) else [value])]
print(json.dumps({"summary": texts("SUMMARY"), "description": texts("DESCRIPTION")}))
"#,
            ics.as_bytes(),
        );
        assert_eq!(
            read["summary"],
            json!([["de", "Treffen in Bern"]]),
            "one SUMMARY"
        );
        assert_eq!(
            read["description"],
            json!([
                ["de", "Wir treffen uns."],
                ["fr", "Rencontre à Berne\n\nOn se retrouve."]
            ])
        );
    }
);
