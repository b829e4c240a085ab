//! `GET /` answers QGIS 3.22, 3.36 and 4.0 with the entries, in the order,
//! that QGIS-Feed's newest `views.py` gives for the same rows: each answer
//! is compared with a transcription of that view (below), run on the rows
//! as QGIS-Feed would hold them.

use newsfeed::clock::Clock;
use newsfeed::entities::entry;
use sea_orm::{ActiveModelTrait, EntityTrait, Set};
use serde_json::{Value, json};

use crate::common::{self, World};
use crate::feeds::support::{pks, qgis, rfc3339, unpublish};

/// 2030-03-17T17:46:40Z: entries are created then.
const START: i64 = 1_900_000_000;
/// The client's last fetch (`after`).
const AFTER: i64 = START + 1000;
/// When entries are edited: after the client's last fetch.
const EDITED: i64 = START + 1500;
/// When the clients ask.
const NOW: i64 = START + 2000;
/// The end of every window that is still open.
const FAR: i64 = START + 100_000;

/// The square (lon 6..8, lat 50..51.5) area-only entries go to, and a
/// point inside it.
const AREA: [[f64; 2]; 4] = [[6.0, 50.0], [8.0, 50.0], [8.0, 51.5], [6.0, 51.5]];
const INSIDE: (f64, f64) = (7.1, 50.7);

/// A row as QGIS-Feed's `QgisFeedEntry` holds it: the fields its view reads.
#[derive(Clone, Debug)]
struct Row {
    pk: i64,
    published: bool,
    publish_from: Option<i64>,
    publish_to: Option<i64>,
    /// `auto_now`: the last save.
    modified: i64,
    sticky: bool,
    sorting: i32,
    language_filter: Option<&'static str>,
    /// Whether `spatial_filter` is the square [`AREA`].
    spatial_filter: bool,
}

/// What a client asks: its `QGIS/<version>`, `lang`, `after` and where it is.
#[derive(Clone, Copy, Debug)]
struct Request {
    version: u32,
    langs: &'static [&'static str],
    after: Option<i64>,
    /// Where QGIS-Feed's GeoIP places the client. newsfeed takes `lat`/`lon`
    /// (QGIS-Feed ignores them since 4d2e497): the test sends the place as
    /// `lat`/`lon`, so both filter by the same position.
    point: Option<(f64, f64)>,
}

/// QGIS-Feed's `QgisEntriesView.get` (views.py at 04e2d32, the derivation
/// is /work/notes/qgisfeed-derivation.md §3.1), JSON branch, for `rows` at `now`:
///
/// ```text
/// live(e)    := published and (from is None or from <= now) and (to is None or to >= now)   # models.py:41-54
/// not_upc(e) := not (from is not None and from >= now)                                    # PR 142
/// if after is None:               S = {live}                                             # views.py:183-184
/// elif ver is None or ver<33600:  S = {live, from is not None and from >= after}         # views.py:188-190
/// else:                           S = {published, not_upc, (modified >= after            # views.py:193-201
///                                                           or from >= after)}           #   (expired included)
/// if langs and point: S = {language in langs or contains(area, point) or both None}     # views.py:237-267
/// elif langs:         S = {language in langs or both None}
/// elif point:         S = {contains(area, point) or both None}
/// ORDER BY sticky DESC, sorting DESC, publish_from DESC (NULLS FIRST, PostgreSQL)[:20]   # models.py:352, views.py:59
/// ```
///
/// QGIS-Feed leaves ties unspecified; newsfeed breaks them by newest pk,
/// and so does this transcription.
fn qgis_feed(rows: &[Row], now: i64, request: Request) -> Vec<i64> {
    let live = |e: &Row| {
        e.published
            && e.publish_from.is_none_or(|from| from <= now)
            && e.publish_to.is_none_or(|to| to >= now)
    };
    // Django's exclude(publish_from__gte=now) keeps NULLs.
    let not_upcoming = |e: &Row| e.publish_from.is_none_or(|from| from < now);
    let selected = |e: &Row| match request.after {
        None => live(e),
        Some(after) if request.version < 33600 => {
            live(e) && e.publish_from.is_some_and(|from| from >= after)
        }
        Some(after) => {
            e.published
                && not_upcoming(e)
                && (e.modified >= after || e.publish_from.is_some_and(|from| from >= after))
        }
    };
    let reaches = |e: &Row| {
        let neither = e.language_filter.is_none() && !e.spatial_filter;
        let speaks = e
            .language_filter
            .is_some_and(|language| request.langs.contains(&language));
        // ST_Contains: the boundary is not inside (the test's points are well inside or out).
        let inside = request.point.is_some_and(|(lon, lat)| {
            e.spatial_filter
                && lon > AREA[0][0]
                && lon < AREA[1][0]
                && lat > AREA[0][1]
                && lat < AREA[2][1]
        });
        match (request.langs.is_empty(), request.point.is_some()) {
            (false, true) => speaks || inside || neither,
            (false, false) => speaks || neither,
            (true, true) => inside || neither,
            (true, false) => true,
        }
    };
    let mut answer: Vec<&Row> = rows.iter().filter(|e| selected(e) && reaches(e)).collect();
    answer.sort_by(|a, b| {
        let from = |e: &Row| e.publish_from.unwrap_or(i64::MAX);
        b.sticky
            .cmp(&a.sticky)
            .then(b.sorting.cmp(&a.sorting))
            .then(from(b).cmp(&from(a)))
            .then(b.pk.cmp(&a.pk))
    });
    answer.iter().take(20).map(|e| e.pk).collect()
}

/// One entry of the scenario: what is created through the API and the row
/// QGIS-Feed would hold for it.
struct Scenario<'a> {
    world: &'a World,
    rows: Vec<Row>,
}

impl Scenario<'_> {
    /// Publishes an announcement with `fields`, from `from` until `to`,
    /// approved at [`START`] with `approval` (sticky, priority).
    async fn publish(&mut self, fields: Value, from: i64, to: i64, approval: Value) -> i64 {
        let mut approval = approval;
        approval["publish_from"] = json!(rfc3339(from));
        approval["publish_to"] = json!(rfc3339(to));
        let pk = self.world.publish(fields.clone(), approval.clone()).await;
        self.rows.push(Row {
            pk,
            published: true,
            publish_from: Some(from),
            publish_to: Some(to),
            modified: START,
            sticky: approval["sticky"].as_bool().unwrap_or(false),
            sorting: approval["priority"].as_i64().unwrap_or(0) as i32,
            language_filter: fields["language"].as_str().map(|code| match code {
                "de" => "de",
                _ => "fr",
            }),
            spatial_filter: fields.get("target_area").is_some(),
        });
        pk
    }

    fn row(&mut self, pk: i64) -> &mut Row {
        self.rows
            .iter_mut()
            .find(|row| row.pk == pk)
            .expect("a row")
    }

    /// Makes `pk` a row as imported from QGIS-Feed without `publish_from`,
    /// last saved at `modified` (the API cannot make one: approval always
    /// publishes from some instant).
    async fn without_publish_from(&mut self, pk: i64, modified: i64) {
        let db = &self.world.app.state.services.db;
        let model = entry::Entity::find_by_id(pk)
            .one(db)
            .await
            .expect("read")
            .expect("the entry");
        let mut live: Value =
            serde_json::from_str(model.live_revision.as_deref().expect("live")).expect("json");
        live["publish_from"] = Value::Null;
        live.as_object_mut().expect("object").remove("notified_at");
        let mut active: entry::ActiveModel = model.into();
        active.live_revision = Set(Some(live.to_string()));
        active.publish_from = Set(None);
        active.live_changed_at = Set(Some(modified));
        active.update(db).await.expect("update");
        let row = self.row(pk);
        row.publish_from = None;
        row.modified = modified;
    }

    /// The group edits its live entry with `patch` and the moderator
    /// approves the edit with `approval`, at [`EDITED`].
    async fn edit(&mut self, pk: i64, patch: Value, approval: Value) {
        let app = &self.world.app;
        let path = format!("/api/v1/entries/{pk}");
        let version = app
            .get(&path, Some(&self.world.editor))
            .await
            .expect(200)
            .json()["version"]
            .clone();
        let mut patch = patch;
        patch["version"] = version;
        app.patch(&path, Some(&self.world.editor), patch)
            .await
            .expect(200);
        app.post(
            &format!("/api/v1/moderation/entries/{pk}/approve"),
            Some(&self.world.moderator),
            approval.clone(),
        )
        .await
        .expect(200);
        let row = self.row(pk);
        row.modified = EDITED;
        if let Some(to) = approval["publish_to"].as_str() {
            row.publish_to = Some(
                chrono::DateTime::parse_from_rfc3339(to)
                    .expect("rfc3339")
                    .timestamp(),
            );
        }
    }
}

db_test!(
    answers_as_qgis_feed_would,
    World::builder().clock(Clock::manual(START)),
    |app: common::TestApp| async move {
        let world = World::new(app).await;
        let mut scenario = Scenario {
            world: &world,
            rows: Vec::new(),
        };
        let none = json!({});
        // Live, seen by the client long ago.
        let seen = scenario
            .publish(json!({"title": "Seen"}), START - 3000, FAR, none.clone())
            .await;
        // Opens after the client's last fetch.
        let opened = scenario
            .publish(json!({"title": "Opened"}), EDITED, FAR, none.clone())
            .await;
        // Live, retitled (an update) after the last fetch.
        let retitled = scenario
            .publish(
                json!({"title": "Retitled"}),
                START - 2000,
                FAR,
                none.clone(),
            )
            .await;
        // Imported without publish_from: one unchanged since, one changed after the last fetch.
        let legacy = scenario
            .publish(json!({"title": "Legacy"}), START - 2500, FAR, none.clone())
            .await;
        let legacy_changed = scenario
            .publish(
                json!({"title": "Legacy, changed"}),
                START - 2500,
                FAR,
                none.clone(),
            )
            .await;
        let upcoming = scenario
            .publish(
                json!({"title": "Upcoming"}),
                START + 50_000,
                FAR,
                none.clone(),
            )
            .await;
        // Set to end in the past after the last fetch: "set publish_to in the past to remove it".
        let removed = scenario
            .publish(json!({"title": "Removed"}), START - 3000, FAR, none.clone())
            .await;
        // Expired before the last fetch, unchanged since.
        let expired = scenario
            .publish(
                json!({"title": "Expired"}),
                START - 3000,
                START + 500,
                none.clone(),
            )
            .await;
        let unpublished = scenario
            .publish(
                json!({"title": "Unpublished"}),
                START - 3000,
                FAR,
                none.clone(),
            )
            .await;
        unpublish(&world, unpublished).await;
        scenario.row(unpublished).published = false;
        // Sticky and priority ties, one of them without publish_from.
        let sticky = json!({"sticky": true});
        let pinned_old = scenario
            .publish(
                json!({"title": "Pinned old"}),
                START - 1000,
                FAR,
                sticky.clone(),
            )
            .await;
        let pinned_new = scenario
            .publish(json!({"title": "Pinned new"}), START - 500, FAR, sticky)
            .await;
        let high = json!({"priority": 5});
        let high_dated = scenario
            .publish(json!({"title": "High"}), START - 100, FAR, high.clone())
            .await;
        let high_legacy = scenario
            .publish(json!({"title": "High, legacy"}), START - 100, FAR, high)
            .await;
        // Audiences: language only (one published since the last fetch), area only.
        let german = scenario
            .publish(
                json!({"title": "Deutsch", "language": "de"}),
                START + 1200,
                FAR,
                none.clone(),
            )
            .await;
        let french = scenario
            .publish(
                json!({"title": "Français", "language": "fr"}),
                START - 200,
                FAR,
                none.clone(),
            )
            .await;
        let local = scenario
            .publish(
                json!({"title": "Local", "target_area": AREA}),
                START - 100,
                FAR,
                none.clone(),
            )
            .await;
        scenario.without_publish_from(legacy, START - 4000).await;
        scenario
            .without_publish_from(legacy_changed, START + 1200)
            .await;
        scenario
            .without_publish_from(high_legacy, START - 4000)
            .await;
        world.app.clock.advance(EDITED - START);
        scenario
            .edit(retitled, json!({"title": "Retitled, new date"}), json!({}))
            .await;
        scenario
            .edit(
                removed,
                json!({"content": "<p>Over.</p>"}),
                json!({"publish_to": rfc3339(START + 800)}),
            )
            .await;
        world.app.clock.advance(NOW - EDITED);
        world.app.state.feeds.refresh().await.expect("refresh");

        let rows = scenario.rows.clone();
        let expected_somewhere = [
            seen,
            opened,
            retitled,
            legacy,
            legacy_changed,
            removed,
            pinned_old,
            pinned_new,
            high_dated,
            high_legacy,
            german,
            french,
            local,
        ];
        let mut seen_anywhere = std::collections::BTreeSet::new();
        for (agent, version) in [
            ("Mozilla/5.0 QGIS/32216/Windows 10", 32216),
            ("Mozilla/5.0 QGIS/33600/Linux", 33600),
            ("Mozilla/5.0 QGIS/40000/Linux", 40000),
        ] {
            for (query, langs, after, point) in [
                ("", &[][..], None, None),
                ("lang=de", &["de"][..], None, None),
                ("lang=de,fr", &["de", "fr"][..], None, None),
                ("after={AFTER}", &[][..], Some(AFTER), None),
                ("after={AFTER}&lang=de", &["de"][..], Some(AFTER), None),
                ("lat={LAT}&lon={LON}", &[][..], None, Some(INSIDE)),
                (
                    "lat={LAT}&lon={LON}&lang=fr",
                    &["fr"][..],
                    None,
                    Some(INSIDE),
                ),
                (
                    "after={AFTER}&lat={LAT}&lon={LON}",
                    &[][..],
                    Some(AFTER),
                    Some(INSIDE),
                ),
            ] {
                let query = query
                    .replace("{AFTER}", &AFTER.to_string())
                    .replace("{LAT}", &INSIDE.1.to_string())
                    .replace("{LON}", &INSIDE.0.to_string());
                let request = Request {
                    version,
                    langs,
                    after,
                    point,
                };
                let items = qgis(&world.app, &format!("/?{query}"), agent).await;
                let expected = qgis_feed(&rows, NOW, request);
                assert_eq!(pks(&items), expected, "{agent} /?{query}");
                seen_anywhere.extend(expected);
                for item in &items {
                    let pk = item["pk"].as_i64().expect("pk");
                    let row = rows.iter().find(|row| row.pk == pk).expect("a row");
                    // Sent as QGIS-Feed sends them: no publish_from for imported rows
                    // without one, and a past publish_to for what was removed.
                    assert_eq!(
                        item["publish_from"].as_f64(),
                        row.publish_from.map(|from| from as f64),
                        "{item}"
                    );
                    assert_eq!(
                        item["publish_to"].as_f64(),
                        row.publish_to.map(|to| to as f64),
                        "{item}"
                    );
                }
            }
        }
        // Every state the scenario sets up decided some answer, and those
        // never sent were never sent.
        assert_eq!(seen_anywhere.into_iter().collect::<Vec<_>>(), {
            let mut all = expected_somewhere.to_vec();
            all.sort();
            all
        });
        for never in [upcoming, expired, unpublished] {
            assert!(!expected_somewhere.contains(&never));
        }
    }
);
