//! `newsfeed import-qgisfeed`: a QGIS-Feed dump in, the same `GET /` out.

use image::{ImageFormat, Rgb, RgbImage};
use newsfeed::domain::Role;
use serde_json::{Value, json};

use super::{databases, run, temp_dir, text};
use crate::common;

fn entry(pk: i64, fields: Value) -> Value {
    let mut base = json!({
        "title": format!("Entry {pk}"), "image": "", "content": format!("<p>News {pk}</p>"),
        "url": format!("https://qgis.org/{pk}"), "action_text": null, "author": 1,
        "image_height": null, "image_width": null,
        "created": "2019-05-05", "modified": "2019-05-06T10:00:00Z",
        "published": true, "sticky": false, "sorting": 0,
        "language_filter": null, "spatial_filter": null,
        "publish_from": "2019-06-01T00:00:00Z", "publish_to": null,
        "reviewers": [], "assigned_reviewer": null,
    });
    base.as_object_mut()
        .unwrap()
        .extend(fields.as_object().unwrap().clone());
    json!({"model": "qgisfeed.qgisfeedentry", "pk": pk, "fields": base})
}

/// A dump as `manage.py dumpdata qgisfeed auth.user` writes it, with the
/// awkward cases: bare-date and `Z` and offset times, an old row without
/// `status`, a polygon, a present and a missing picture, rows that are not
/// live, models that are not imported.
fn dump() -> Vec<Value> {
    vec![
        json!({"model": "auth.user", "pk": 1, "fields": {"password": "pbkdf2_sha256$1$x$y",
            "last_login": null, "is_superuser": true, "username": "admin", "first_name": "",
            "last_name": "", "email": "Admin@QGIS.org", "is_staff": true, "is_active": true,
            "date_joined": "2019-05-01T00:00:00Z", "groups": [], "user_permissions": []}}),
        json!({"model": "auth.user", "pk": 2, "fields": {"password": "!", "username": "reviewer",
            "first_name": "Rita", "last_name": "Viewer", "email": "", "is_superuser": false,
            "is_staff": true, "is_active": true}}),
        json!({"model": "auth.permission", "pk": 1, "fields": {"name": "Can add log entry",
            "content_type": 1, "codename": "add_logentry"}}),
        json!({"model": "qgisfeed.characterlimitconfiguration", "pk": 1,
            "fields": {"field_name": "content", "max_characters": 500}}),
        // An old row: no `status`, `published` decides; bare-date creation, milliseconds.
        {
            let mut old = entry(
                3,
                json!({"url": "", "publish_from": "2019-05-05T16:29:08.136Z", "modified": "2019-05-05"}),
            );
            old["fields"].as_object_mut().unwrap().remove("status");
            old
        },
        // Sticky, with a language, a polygon (Indonesia), an offset time and a call to action.
        entry(
            4,
            json!({"status": "published", "sticky": true, "sorting": 1, "language_filter": "en",
                "spatial_filter": "SRID=4326;POLYGON ((95 -11, 141 -11, 141 6, 95 6, 95 -11))",
                "publish_from": "2020-01-10T12:00:00+02:00",
                "action_text": "Double-click here to read more"}),
        ),
        entry(
            5,
            json!({"status": "published", "image": "feedimages/2021/03/01/present.png",
                "publish_from": "2021-03-01T08:00:00Z", "publish_to": "2099-12-31T00:00:00Z"}),
        ),
        entry(
            6,
            json!({"status": "published", "sorting": 2, "image": "feedimages/missing.png",
                "publish_from": "2018-01-01"}),
        ),
        entry(7, json!({"status": "pending_review", "published": false})),
        entry(
            8,
            json!({"status": "published", "publish_from": "2019-01-01T00:00:00Z",
                "publish_to": "2020-01-01T00:00:00Z"}),
        ),
        entry(
            9,
            json!({"status": "published", "publish_from": "2099-01-01T00:00:00Z"}),
        ),
        entry(42, json!({"status": "draft", "published": false})),
        json!({"model": "qgisfeed.feedentryreview", "pk": 1, "fields": {"entry": 7, "reviewer": 2,
            "comment": "Please add a link", "action": "request_changes",
            "created_at": "2019-05-07T09:00:00+01:00"}}),
    ]
}

/// What QGIS-Feed's `QgisEntriesView` answers to `GET /?json=1` for these
/// rows (its `values()` record per entry; no QGIS version, so the call to
/// action is appended), ordered by its `-sticky, -sorting, -publish_from`.
fn qgis_feed_answer() -> Value {
    json!([
        {"pk": 4, "publish_from": 1_578_650_400.0, "publish_to": null, "title": "Entry 4",
         "image": "", "sticky": true, "url": "https://qgis.org/4",
         "content": "<p>News 4</p><p><strong>Double-click here to read more</strong></p>"},
        {"pk": 6, "publish_from": 1_514_764_800.0, "publish_to": null, "title": "Entry 6",
         "image": "http://testserver/media/feedimages/missing.png", "sticky": false,
         "url": "https://qgis.org/6", "content": "<p>News 6</p>"},
        {"pk": 5, "publish_from": 1_614_585_600.0, "publish_to": 4_102_358_400.0,
         "title": "Entry 5", "image": "http://testserver/media/feedimages/2021/03/01/present.png",
         "sticky": false, "url": "https://qgis.org/5", "content": "<p>News 5</p>"},
        {"pk": 3, "publish_from": 1_557_073_748.136, "publish_to": null, "title": "Entry 3",
         "image": "", "sticky": false, "url": "", "content": "<p>News 3</p>"},
    ])
}

/// Ours against QGIS-Feed's, field by field; where they must differ:
/// instants are whole seconds here, pictures are ours (`/media/<hash>.jpg`),
/// and a picture that was missing is no picture rather than a broken link.
fn assert_same_as_qgis_feed(ours: &Value, missing_image: i64) {
    let ours = ours.as_array().unwrap();
    let theirs = qgis_feed_answer();
    let theirs = theirs.as_array().unwrap();
    let pks = |items: &[Value]| items.iter().map(|i| i["pk"].clone()).collect::<Vec<_>>();
    assert_eq!(pks(ours), pks(theirs), "same pks in the same order");
    for (our, their) in ours.iter().zip(theirs) {
        let mut our_keys: Vec<_> = our.as_object().unwrap().keys().collect();
        let mut their_keys: Vec<_> = their.as_object().unwrap().keys().collect();
        our_keys.sort();
        their_keys.sort();
        assert_eq!(our_keys, their_keys, "same fields");
        for field in ["title", "content", "url", "sticky"] {
            assert_eq!(our[field], their[field], "pk {}: {field}", our["pk"]);
        }
        for field in ["publish_from", "publish_to"] {
            match (our[field].as_f64(), their[field].as_f64()) {
                (Some(a), Some(b)) => assert!((a - b).abs() < 1.0, "pk {}: {field}", our["pk"]),
                (a, b) => assert_eq!(a, b, "pk {}: {field}", our["pk"]),
            }
        }
        let image = our["image"].as_str().unwrap();
        if our["pk"] == missing_image || their["image"] == "" {
            assert_eq!(image, "", "pk {}", our["pk"]);
        } else {
            assert!(
                image.contains("/media/") && image.ends_with(".jpg"),
                "{image}"
            );
        }
    }
}

pub(super) fn picture() -> Vec<u8> {
    let picture = RgbImage::from_fn(800, 600, |x, _| Rgb([(x % 256) as u8, 90, 160]));
    let mut bytes = std::io::Cursor::new(Vec::new());
    picture.write_to(&mut bytes, ImageFormat::Png).unwrap();
    bytes.into_inner()
}

pub(super) fn import(
    url: &str,
    file: &std::path::Path,
    media: &std::path::Path,
    store: &std::path::Path,
) -> std::process::Output {
    run(
        &[
            "import-qgisfeed",
            &file.display().to_string(),
            "--media-dir",
            &media.display().to_string(),
            "--media-store",
            &store.display().to_string(),
            "--database-url",
            url,
        ],
        "",
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_qgis_feed_dump_comes_over_with_its_pks_and_answers_the_same() {
    let dir = temp_dir();
    let media = dir.join("qgisfeed-media");
    std::fs::create_dir_all(media.join("feedimages/2021/03/01")).unwrap();
    std::fs::write(media.join("feedimages/2021/03/01/present.png"), picture()).unwrap();
    let good = dir.join("dump.json");
    std::fs::write(&good, serde_json::to_vec(&dump()).unwrap()).unwrap();
    let mut broken = dump();
    broken.push(entry(99, json!({"publish_from": "next tuesday"})));
    let bad = dir.join("bad.json");
    std::fs::write(&bad, serde_json::to_vec(&broken).unwrap()).unwrap();

    let (urls, _guards) = databases().await;
    for url in urls {
        let store = temp_dir().join("store");
        drop(newsfeed::db::connect(&url, 2).await.expect("migrate"));

        // A bad record stops the import, names its pk and writes nothing.
        let refused = import(&url, &bad, &media, &store);
        assert!(!refused.status.success());
        let stderr = text(&refused.stderr);
        assert!(
            stderr.contains("qgisfeed.qgisfeedentry pk 99: publish_from:"),
            "{stderr}"
        );

        let first = import(&url, &good, &media, &store);
        assert!(first.status.success(), "{}", text(&first.stderr));
        let stdout = text(&first.stdout);
        for line in [
            "group qgis-org: created",
            "auth.user: 2 created, 0 updated, 0 unchanged (1 without an email address)",
            "qgisfeed.qgisfeedentry: 8 created, 0 updated, 0 unchanged",
            "qgisfeed.feedentryreview: 1 created, 0 updated, 0 unchanged",
            "images: 1 stored, 1 missing (pk 6), 0 refused",
            "auth.permission: 1 skipped",
            "qgisfeed.characterlimitconfiguration: 1 skipped",
        ] {
            assert!(stdout.contains(line), "{line:?} in {stdout}");
        }
        assert!(
            text(&first.stderr).contains("pk 6"),
            "{}",
            text(&first.stderr)
        );

        let app = common::TestApp::builder()
            .config(|config| config.media_dir = Some(store.clone()))
            .open(&url)
            .await;
        let answer = app.get("/?json=1", None).await.expect(200).json();
        assert_same_as_qgis_feed(&answer, 6);
        // The picture is ours, re-encoded, and served.
        let image = answer[2]["image"].as_str().unwrap();
        let path = &image[image.find("/media/").unwrap()..];
        let served = app.client.get(path).send().await;
        served.assert_status_is_ok();
        served.assert_content_type("image/jpeg");
        // QGIS 4 opens the link from its own button: no call to action.
        let qgis4 = app
            .client
            .get("/")
            .header("user-agent", "Mozilla/5.0 QGIS/40000/Linux")
            .send()
            .await;
        let qgis4 = common::Reply::from(qgis4.0).await.expect(200).json();
        assert_eq!(qgis4[0]["content"], "<p>News 4</p>");
        // The language filter: `de` readers do not get the English entry.
        let german = app.get("/?json=1&lang=de", None).await.expect(200).json();
        let pks: Vec<i64> = german
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["pk"].as_i64().unwrap())
            .collect();
        assert_eq!(pks, [6, 5, 3]);

        // The review is in the history, by the reviewer, who is a moderator.
        let admin = app.user("root@example.org", Role::Admin).await;
        let history = app
            .get("/api/v1/entries/7/history", Some(&admin))
            .await
            .expect(200)
            .json();
        let text_of = history.to_string();
        assert!(text_of.contains("Please add a link"), "{text_of}");
        assert!(text_of.contains("Rita Viewer"), "{text_of}");
        let queue = app
            .get("/api/v1/moderation/queue", Some(&admin))
            .await
            .expect(200)
            .json();
        assert!(queue.to_string().contains("\"id\":7"), "{queue}");
        // Imported people have no password until they set one.
        app.post(
            "/api/v1/auth/login",
            None,
            json!({"email": "admin@qgis.org", "password": "pbkdf2_sha256$1$x$y"}),
        )
        .await
        .expect(401);

        // Running it again duplicates nothing.
        let again = import(&url, &good, &media, &store);
        assert!(again.status.success(), "{}", text(&again.stderr));
        let stdout = text(&again.stdout);
        assert!(
            stdout.contains("qgisfeed.qgisfeedentry: 0 created, 0 updated, 8 unchanged"),
            "{stdout}"
        );
        assert!(
            stdout.contains("auth.user: 0 created, 0 updated, 2 unchanged"),
            "{stdout}"
        );
        assert!(
            stdout.contains("qgisfeed.feedentryreview: 0 created, 0 updated, 1 unchanged"),
            "{stdout}"
        );
        let app = app.restart(|_| {}).await;
        assert_same_as_qgis_feed(&app.get("/?json=1", None).await.expect(200).json(), 6);

        // New entries continue above the highest imported pk.
        let next = app.draft(&admin, "qgis-org", "After the move").await;
        assert_eq!(next["id"], 43, "{url}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lookalike_addresses_are_merged_into_the_first_account_and_reported() {
    let user = |pk: i64, username: &str, email: &str| {
        json!({"model": "auth.user", "pk": pk, "fields": {"password": "!", "username": username,
            "first_name": "", "last_name": "", "email": email, "is_superuser": false,
            "is_staff": false, "is_active": true}})
    };
    let dir = temp_dir();
    let file = dir.join("lookalikes.json");
    // All-Cyrillic `асе` looks exactly like Latin `ace`.
    let users = vec![
        user(1, "ace", "ace@example.org"),
        user(2, "copycat", "\u{430}\u{441}\u{435}@example.org"),
        entry(5, json!({"author": 2})),
    ];
    std::fs::write(&file, serde_json::to_vec(&users).unwrap()).unwrap();
    let (urls, _guards) = databases().await;
    for url in urls {
        drop(newsfeed::db::connect(&url, 2).await.expect("migrate"));
        let merged_line = "auth.user pk 2: merged into auth.user pk 1 because an address that looks the same as ace@example.org";
        for _ in 0..2 {
            let imported = import(&url, &file, &dir, &dir.join("store"));
            assert!(imported.status.success(), "{}", text(&imported.stderr));
            let stdout = text(&imported.stdout);
            assert!(stdout.contains(merged_line), "{stdout}");
        }
        // The entry of the merged account is the first account's.
        let app = common::TestApp::builder().open(&url).await;
        let admin = app.user("root@example.org", Role::Admin).await;
        let people = app
            .get("/api/v1/users", Some(&admin))
            .await
            .expect(200)
            .json();
        let ace = people
            .as_array()
            .unwrap()
            .iter()
            .find(|person| person["email"] == "ace@example.org")
            .unwrap();
        let entry = app
            .get("/api/v1/entries/5", Some(&admin))
            .await
            .expect(200)
            .json();
        assert_eq!(entry["author_id"], ace["id"]);
        assert_eq!(people.as_array().map(Vec::len), Some(2), "{people}");
    }
}
