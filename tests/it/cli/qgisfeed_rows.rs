//! Every row QGIS-Feed's model can hold imports (issue 23, item 1): a dump
//! generated from its model definitions (`models.py` and migrations
//! 0001-0020 at 04e2d32; the row kinds R1-R22 of the derivation in
//! /work/notes/qgisfeed-derivation.md), each row checked in the database
//! through the API and in the report by its pk and reason.

use newsfeed::domain::Role;
use serde_json::{Value, json};

use super::qgisfeed::{import, picture};
use super::{databases, temp_dir, text};
use crate::common;

/// A `qgisfeed.qgisfeedentry` with every field of the newest migration,
/// published, live since 2019 with no end; `fields` override them.
fn entry(pk: i64, fields: Value) -> Value {
    let mut base = json!({
        "title": format!("Entry {pk}"), "image": "", "content": format!("<p>News {pk}</p>"),
        "url": format!("https://qgis.org/{pk}"), "action_text": null, "author": 1,
        "image_height": null, "image_width": null,
        "created": "2019-05-05T16:29:08.136", "modified": "2019-05-06T10:00:00",
        "status": "published", "published": true, "sticky": false, "sorting": 0,
        "language_filter": null, "spatial_filter": null,
        "publish_from": "2019-06-01T00:00:00", "publish_to": null,
        "reviewers": [], "assigned_reviewer": null,
    });
    let object = base.as_object_mut().unwrap();
    for (key, value) in fields.as_object().unwrap() {
        if value == "<absent>" {
            object.remove(key);
        } else {
            object.insert(key.clone(), value.clone());
        }
    }
    json!({"model": "qgisfeed.qgisfeedentry", "pk": pk, "fields": base})
}

/// A row of the dump and what it must become here.
struct Case {
    pk: i64,
    fields: Value,
    /// Our status.
    status: &'static str,
    /// In the feeds now.
    live: bool,
    /// What its report line says, `None`: imported exactly, no line.
    reason: Option<&'static str>,
}

fn case(
    pk: i64,
    fields: Value,
    status: &'static str,
    live: bool,
    reason: Option<&'static str>,
) -> Case {
    Case {
        pk,
        fields,
        status,
        live,
        reason,
    }
}

/// R1-R17 and R21: every entry row kind, fields null, empty and at their bounds.
fn entry_cases() -> Vec<Case> {
    let square = "POLYGON ((0 0, 10 0, 10 10, 0 10, 0 0))";
    let many: Vec<String> = (0..1001)
        .map(|i| format!("{} {}", f64::from(i) * 0.01, (f64::from(i) * 0.1).sin()))
        .collect();
    let many = format!("SRID=4326;POLYGON (({}, 0 0))", many.join(", "));
    vec![
        // R1: published, no start; R2: no dates at all.
        case(
            101,
            json!({"publish_from": null, "publish_to": "2090-01-01T00:00:00"}),
            "approved",
            true,
            None,
        ),
        case(
            102,
            json!({"publish_from": null}),
            "approved",
            true,
            Some("no dates: live with no end, as in QGIS-Feed"),
        ),
        case(
            103,
            json!({"publish_from": null, "status": "draft", "published": false}),
            "draft",
            false,
            None,
        ),
        // R3: the window closed before it opened (QGIS-Feed's own fixture pk 9), or at once.
        case(
            9,
            json!({"publish_from": "2019-06-12T13:54:38Z", "publish_to": "1999-06-12T13:54:40Z"}),
            "unpublished",
            false,
            Some("its window closed before it opened"),
        ),
        case(
            104,
            json!({"publish_to": "2019-06-01T00:00:00"}),
            "unpublished",
            false,
            Some("its window closed before it opened"),
        ),
        // R4: an end after 2100 (fixture pks 6 and 12).
        case(
            6,
            json!({"publish_to": "2999-01-01"}),
            "approved",
            true,
            Some("publish_to 2999-01-01 is after 2100: stored as no end"),
        ),
        // R5: a start after 2100, dates before 1970.
        case(
            105,
            json!({"publish_from": "2150-01-01T00:00:00"}),
            "draft",
            false,
            Some("publish_from 2150-01-01T00:00:00 is after 2100"),
        ),
        case(
            106,
            json!({"publish_from": null, "publish_to": "1960-01-01"}),
            "unpublished",
            false,
            Some("publish_to 1960-01-01 is before 1970: expired"),
        ),
        case(
            107,
            json!({"publish_from": "0001-01-01T00:00:00"}),
            "approved",
            true,
            Some("publish_from 0001-01-01T00:00:00 is before 1970: stored as 1970-01-01"),
        ),
        // R6: expired and upcoming while published.
        case(
            108,
            json!({"publish_to": "2020-01-01T00:00:00"}),
            "approved",
            false,
            None,
        ),
        case(
            109,
            json!({"publish_from": "2090-01-01T00:00:00"}),
            "approved",
            false,
            None,
        ),
        // R7: dumps older than migration 0015 have no status.
        case(
            110,
            json!({"status": "<absent>", "published": false}),
            "draft",
            false,
            None,
        ),
        case(111, json!({"status": "<absent>"}), "approved", true, None),
        // R8: every status of migration 0015, `rejected` (no migration), an unknown one.
        case(
            112,
            json!({"status": "rejected", "published": false}),
            "rejected",
            false,
            None,
        ),
        case(
            113,
            json!({"status": "archived", "published": false}),
            "draft",
            false,
            Some("status \"archived\" is unknown"),
        ),
        case(
            114,
            json!({"status": "archived"}),
            "approved",
            true,
            Some("published decides"),
        ),
        case(
            115,
            json!({"status": "pending_review", "published": false}),
            "pending",
            false,
            None,
        ),
        case(
            116,
            json!({"status": "changes_requested", "published": false}),
            "changes_requested",
            false,
            None,
        ),
        case(
            117,
            json!({"status": "approved", "published": false}),
            "pending",
            false,
            None,
        ),
        case(
            118,
            json!({"status": "published", "published": false}),
            "unpublished",
            false,
            None,
        ),
        case(
            126,
            json!({"status": "draft", "published": false, "publish_from": null}),
            "draft",
            false,
            None,
        ),
        // R9: the flag and the status disagree.
        case(
            119,
            json!({"status": "draft"}),
            "approved",
            true,
            Some("status \"draft\" with published=true: published decides"),
        ),
        // R10: titles.
        case(
            120,
            json!({"title": ""}),
            "draft",
            false,
            Some("the title is empty"),
        ),
        case(
            121,
            json!({"title": " \n\t "}),
            "draft",
            false,
            Some("the title is empty"),
        ),
        case(
            122,
            json!({"title": "Line\nbreak\u{202E}"}),
            "approved",
            true,
            Some("the title had line breaks, control or direction characters: removed"),
        ),
        case(
            123,
            json!({"title": "<b>Bold</b> news"}),
            "approved",
            true,
            None,
        ),
        case(
            124,
            json!({"title": "T".repeat(255)}),
            "approved",
            true,
            None,
        ),
        // R11: contents.
        case(
            125,
            json!({"content": ""}),
            "draft",
            false,
            Some("the content has no text once sanitized"),
        ),
        case(
            127,
            json!({"content": "<p></p><img src=\"x.png\">"}),
            "draft",
            false,
            Some("the content has no text once sanitized"),
        ),
        case(
            128,
            json!({"content": "<p>Hi</p><script>alert(1)</script>"}),
            "approved",
            true,
            Some("content sanitized"),
        ),
        case(
            129,
            json!({"content": "<p>Bell\u{7}</p>"}),
            "approved",
            true,
            Some("the content had control characters: removed"),
        ),
        case(
            130,
            json!({"content": format!("<p>{}</p>", "long ".repeat(1000))}),
            "approved",
            true,
            None,
        ),
        // R12: links.
        case(131, json!({"url": null}), "approved", true, None),
        case(132, json!({"url": ""}), "approved", true, None),
        case(
            133,
            json!({"url": "ftp://ftp.qgis.org/pub"}),
            "approved",
            true,
            Some("url \"ftp://ftp.qgis.org/pub\" is not an http(s) link: imported without it"),
        ),
        case(
            134,
            json!({"url": "www.qgis.org"}),
            "approved",
            true,
            Some("url \"www.qgis.org\" is not an http(s) link"),
        ),
        case(
            135,
            json!({"url": "javascript:alert(1)"}),
            "approved",
            true,
            Some("url \"javascript:alert(1)\" is not an http(s) link"),
        ),
        case(
            136,
            json!({"url": "mailto:news@qgis.org", "status": "draft", "published": false}),
            "draft",
            false,
            Some("url \"mailto:news@qgis.org\""),
        ),
        // R13: pictures.
        case(137, json!({"image": null}), "approved", true, None),
        case(
            138,
            json!({"image": "feedimages/2019/05/05/present.png"}),
            "approved",
            true,
            None,
        ),
        case(
            139,
            json!({"image": "feedimages/rust.png"}),
            "approved",
            true,
            Some("its picture feedimages/rust.png is missing: imported without it"),
        ),
        case(
            140,
            json!({"image": "feedimages/not-an-image.png"}),
            "approved",
            true,
            Some("its picture feedimages/not-an-image.png was refused"),
        ),
        case(
            141,
            json!({"image": "feedimages/a-directory"}),
            "approved",
            true,
            Some("its picture feedimages/a-directory was refused (cannot read it"),
        ),
        case(
            142,
            json!({"image": "../../etc/passwd"}),
            "approved",
            true,
            Some("its picture ../../etc/passwd is missing"),
        ),
        // R14: languages.
        case(
            143,
            json!({"language_filter": ""}),
            "approved",
            true,
            Some("language_filter is empty: for every language"),
        ),
        case(
            144,
            json!({"language_filter": "bh"}),
            "draft",
            false,
            Some("language_filter \"bh\" is not a language code known here"),
        ),
        case(
            145,
            json!({"language_filter": "deu"}),
            "draft",
            false,
            Some("language_filter \"deu\" is not a language code known here"),
        ),
        case(
            146,
            json!({"language_filter": "DE"}),
            "approved",
            true,
            Some("language_filter \"DE\" stored as de"),
        ),
        case(
            147,
            json!({"language_filter": "?!"}),
            "draft",
            false,
            Some("language_filter \"?!\" is not a language code"),
        ),
        case(
            148,
            json!({"language_filter": "pt"}),
            "approved",
            true,
            None,
        ),
        // R15: spatial filters.
        case(
            150,
            json!({"spatial_filter": format!("SRID=4326;{square}")}),
            "approved",
            true,
            None,
        ),
        case(
            151,
            json!({"spatial_filter": "SRID=3857;POLYGON ((0 0, 1113194.9079327357 0, 1113194.9079327357 1118889.9748579597, 0 1118889.9748579597, 0 0))"}),
            "approved",
            true,
            Some("spatial_filter converted from SRID 3857 to lon/lat"),
        ),
        case(
            152,
            json!({"spatial_filter": "SRID=4326;MULTIPOLYGON (((0 0, 10 0, 10 10, 0 0)))"}),
            "approved",
            true,
            Some("spatial_filter a MULTIPOLYGON of one polygon"),
        ),
        case(
            153,
            json!({"spatial_filter": "SRID=4326;MULTIPOLYGON (((0 0, 1 0, 1 1, 0 0)), ((5 5, 6 5, 6 6, 5 5)))"}),
            "draft",
            false,
            Some("several polygons is not supported; imported without its area"),
        ),
        case(
            154,
            json!({"spatial_filter": "SRID=4326;POLYGON ((0 0, 9 0, 9 9, 0 0), (1 1, 2 1, 2 2, 1 1))"}),
            "draft",
            false,
            Some("holes are not supported"),
        ),
        case(
            155,
            json!({"spatial_filter": "SRID=4326;POLYGON EMPTY"}),
            "draft",
            false,
            Some("(3D or empty) is not supported"),
        ),
        case(
            156,
            json!({"spatial_filter": "SRID=4326;POLYGON Z ((0 0 1, 1 0 1, 1 1 1, 0 0 1))"}),
            "draft",
            false,
            Some("(3D or empty) is not supported"),
        ),
        case(
            157,
            json!({"spatial_filter": "SRID=32632;POLYGON ((0 0, 1 0, 1 1, 0 0))"}),
            "draft",
            false,
            Some("SRID=32632 is neither 4326"),
        ),
        case(
            158,
            json!({"spatial_filter": many}),
            "draft",
            false,
            Some("must have 3 to 1000 points"),
        ),
        case(
            159,
            json!({"spatial_filter": "SRID=4326;POLYGON ((0 0, 10 0, 10 95, 0 0))"}),
            "draft",
            false,
            Some("lat in -90..90"),
        ),
        case(
            160,
            json!({"spatial_filter": "SRID=4326;POLYGON ((0 0, 10 10, 10 0, 0 10, 0 0))"}),
            "approved",
            true,
            None,
        ),
        case(161, json!({"spatial_filter": ""}), "approved", true, None),
        // R16: calls to action (migration 0019).
        case(162, json!({"action_text": ""}), "approved", true, None),
        case(
            163,
            json!({"action_text": "   "}),
            "approved",
            true,
            Some("action_text is blank: dropped"),
        ),
        case(
            164,
            json!({"action_text": "Read\nmore"}),
            "approved",
            true,
            Some("action_text had line breaks or control characters: made one line"),
        ),
        case(
            165,
            json!({"action_text": "x".repeat(300)}),
            "approved",
            true,
            Some("action_text is longer than 255 characters: cut"),
        ),
        case(
            166,
            json!({"action_text": "<b>raw</b>", "status": "<absent>"}),
            "approved",
            true,
            None,
        ),
        // R17: the highest sorting; sticky on a row that is not published.
        case(
            167,
            json!({"sorting": 2_147_483_647_i64, "sticky": true, "status": "draft", "published": false}),
            "draft",
            false,
            None,
        ),
        // R21: naive, aware, offset, bare-date and microsecond times.
        case(
            168,
            json!({"publish_from": "2019-05-05T16:29:08.123456", "created": "2019-05-05", "modified": "2019-05-05"}),
            "approved",
            true,
            None,
        ),
        case(
            169,
            json!({"publish_from": "2019-05-05T18:29:08+02:00", "publish_to": "2090-01-01T00:00:00.000Z"}),
            "approved",
            true,
            None,
        ),
        // Nulls where the model allows them (0010: url; 0019: action_text).
        case(
            170,
            json!({"url": null, "action_text": null, "image": null, "language_filter": null,
            "spatial_filter": null, "publish_to": null, "assigned_reviewer": null}),
            "approved",
            true,
            None,
        ),
    ]
}

/// R18: users with and without passwords and addresses, staff, superusers,
/// inactive, `qgis_user`, lookalikes and collisions.
fn users() -> Vec<Value> {
    let user = |pk: i64,
                username: &str,
                email: &str,
                password: &str,
                staff: bool,
                superuser: bool,
                active: bool| {
        json!({"model": "auth.user", "pk": pk, "fields": {"password": password,
            "last_login": null, "is_superuser": superuser, "username": username, "first_name": "",
            "last_name": "", "email": email, "is_staff": staff, "is_active": active,
            "date_joined": "2019-05-01T00:00:00", "groups": [], "user_permissions": []}})
    };
    let in_groups = |mut user: Value, groups: Value| {
        user["fields"]["groups"] = groups;
        user
    };
    vec![
        // QGIS-Feed's permission groups (signals.py): approvers become moderators.
        json!({"model": "auth.group", "pk": 10, "fields": {"name": "qgisfeedentry_approver",
            "permissions": [31, 32]}}),
        json!({"model": "auth.group", "pk": 11, "fields": {"name": "qgisfeedentry_authors",
            "permissions": [31]}}),
        in_groups(
            user(8, "approver", "approver@qgis.org", "", true, false, true),
            json!([11, 10]),
        ),
        in_groups(
            user(9, "author", "author@qgis.org", "", true, false, true),
            json!([11]),
        ),
        // A group the dump does not hold: nobody can tell, the report says so.
        in_groups(
            user(
                12,
                "unknown-group",
                "unknown@qgis.org",
                "",
                true,
                false,
                true,
            ),
            json!([99]),
        ),
        user(
            1,
            "admin",
            "Admin@QGIS.org",
            "pbkdf2_sha256$260000$salt$hash",
            true,
            true,
            true,
        ),
        user(2, "staff", "ace@qgis.org", "!x", true, false, true),
        // Created by QGIS-Feed's middleware: no address, no password.
        user(3, "qgis_user", "", "", false, false, true),
        user(4, "Дмитрий", "", "!", false, false, true),
        // All-Cyrillic `асе` looks exactly like Latin `ace`.
        user(
            5,
            "copycat",
            "\u{430}\u{441}\u{435}@qgis.org",
            "",
            false,
            false,
            true,
        ),
        // Same invented address as qgis_user.
        user(6, "QGIS_User", "not an address", "", false, false, true),
        user(
            7,
            "gone",
            "gone@example.org",
            "pbkdf2_sha256$1$a$b",
            false,
            false,
            false,
        ),
    ]
}

/// R19 and R20: reviews of every action, and the models not imported.
fn other_records() -> Vec<Value> {
    let review = |pk: i64, entry: i64, reviewer: i64, action: &str, comment: &str| {
        json!({"model": "qgisfeed.feedentryreview", "pk": pk, "fields": {"entry": entry,
            "reviewer": reviewer, "comment": comment, "action": action,
            "created_at": "2019-05-07T09:00:00.5"}})
    };
    vec![
        review(1, 112, 1, "reject", ""),
        review(2, 115, 2, "escalate", "Needs a look"),
        review(3, 116, 5, "request_changes", "Add a link"),
        review(4, 101, 1, "approve", "ok"),
        json!({"model": "qgisfeed.feedentryrevision", "pk": 1, "fields": {"entry": 101, "user": 1,
            "title": "Old", "content": "", "url": null, "changed_at": "2019-05-05T00:00:00",
            "change_summary": ""}}),
        json!({"model": "qgisfeed.feedentryrevision", "pk": 2, "fields": {"entry": 101, "user": 1,
            "title": "Older", "content": "x", "url": "", "changed_at": "2019-05-04T00:00:00",
            "change_summary": "", "field_changes": []}}),
        json!({"model": "qgisfeed.feedentryrevision", "pk": 3, "fields": {"entry": 102, "user": 8,
            "title": "Typo", "content": "x", "url": null, "changed_at": "2026-03-01T10:00:00.123456",
            "change_summary": "Fixed the title",
            "field_changes": [{"label": "Title", "old": "Tpyo", "new": "Typo"}]}}),
        json!({"model": "qgisfeed.savedspatialfilter", "pk": 1, "fields": {"user": 1, "name": "EU",
            "description": "", "geometry": "SRID=4326;POLYGON ((0 0, 1 0, 1 1, 0 0))",
            "created_at": "2026-06-09T00:00:00"}}),
        json!({"model": "qgisfeed.savedspatialfilter", "pk": 2, "fields": {"user": 8,
            "name": "Mercator", "description": "two\nlines",
            "geometry": "SRID=3857;MULTIPOLYGON (((0 0, 1113194.9 0, 1113194.9 1118889.97, 0 0)))",
            "created_at": "2026-06-10T00:00:00Z"}}),
        json!({"model": "qgisfeed.savedspatialfilter", "pk": 3, "fields": {"user": 8,
            "name": "Holed", "description": "",
            "geometry": "SRID=4326;POLYGON ((0 0, 9 0, 9 9, 0 0), (1 1, 2 1, 2 2, 1 1))",
            "created_at": "2026-06-10"}}),
        json!({"model": "qgisfeed.characterlimitconfiguration", "pk": 1,
            "fields": {"field_name": "content", "max_characters": 500}}),
        json!({"model": "qgisfeed.dailyqgisuservisit", "pk": 1, "fields": {"date": "2024-01-01",
            "qgis_version": {"33600": 3, "33601": 1}, "platform": {"Windows": 3, "Ubuntu": 2},
            "country": {"ID": 2}}}),
        json!({"model": "qgisfeed.dailyqgisuservisit", "pk": 2, "fields": {"date": "2024-01-02",
            "qgis_version": {}, "platform": {}, "country": []}}),
    ]
}

fn write(dir: &std::path::Path, name: &str, records: &[Value]) -> std::path::PathBuf {
    let file = dir.join(name);
    std::fs::write(&file, serde_json::to_vec(records).unwrap()).unwrap();
    file
}

/// QGIS-Feed's media directory: one picture, one file that is not one, a directory.
fn media(dir: &std::path::Path) -> std::path::PathBuf {
    let media = dir.join("media");
    std::fs::create_dir_all(media.join("feedimages/2019/05/05")).unwrap();
    std::fs::create_dir_all(media.join("feedimages/a-directory")).unwrap();
    std::fs::write(media.join("feedimages/2019/05/05/present.png"), picture()).unwrap();
    std::fs::write(media.join("feedimages/not-an-image.png"), b"just text").unwrap();
    media
}

fn seconds(value: &Value) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(value.as_str()?)
        .ok()
        .map(|time| time.timestamp())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_row_qgis_feed_can_store_imports_and_the_report_names_each_difference() {
    let dir = temp_dir();
    let media = media(&dir);
    let cases = entry_cases();
    let mut records = users();
    records.extend(cases.iter().map(|case| entry(case.pk, case.fields.clone())));
    records.extend(other_records());
    let file = write(&dir, "dump.json", &records);

    let (urls, _guards) = databases().await;
    for url in urls {
        let store = temp_dir().join("store");
        drop(newsfeed::db::connect(&url, 2).await.expect("migrate"));
        let imported = import(&url, &file, &media, &store);
        assert!(imported.status.success(), "{}", text(&imported.stderr));
        let stdout = text(&imported.stdout);
        for line in [
            format!("qgisfeed.qgisfeedentry: {} created, 0 updated, 0 unchanged", cases.len()),
            "qgisfeed.feedentryreview: 4 created, 0 updated, 0 unchanged".into(),
            "auth.user: 8 created, 0 updated, 2 unchanged (3 without an email address)".into(),
            "images: 1 stored, 2 missing (pk 139, 142), 2 refused (pk 140, 141)".into(),
            "qgisfeed.feedentryrevision: 3 created, 0 updated, 0 unchanged".into(),
            "qgisfeed.savedspatialfilter: 2 created, 0 updated, 0 unchanged".into(),
            "qgisfeed.dailyqgisuservisit: 1 days, 5 counts (each replaces what was counted for its day and value)".into(),
            "qgisfeed.characterlimitconfiguration: 1 skipped".into(),
            "qgisfeed.savedspatialfilter pk 2: imported, geometry a MULTIPOLYGON of one polygon in SRID 3857, taken as that polygon in lon/lat".into(),
            "qgisfeed.dailyqgisuservisit pk 2: country not counted because it is not an object of counts".into(),
            "auth.user pk 12: not known as an approver because its auth.group 99 is not in the dump (dump auth.group too)".into(),
            "auth.user pk 5: merged into auth.user pk 2 because an address that looks the same as ace@qgis.org".into(),
            "auth.user pk 6: merged into auth.user pk 3 because the same address qgis_user@qgisfeed.invalid".into(),
            "qgisfeed.feedentryreview pk 2: imported as comment because action \"escalate\" is unknown: recorded as a comment".into(),
        ] {
            assert!(stdout.contains(&line), "{line:?} in {stdout}");
        }
        let lines_of = |pk: i64| -> Vec<&str> {
            let prefix = format!("qgisfeed.qgisfeedentry pk {pk}: ");
            stdout
                .lines()
                .filter(|line| line.starts_with(&prefix))
                .collect()
        };

        let app = common::TestApp::builder()
            .config(|config| config.media_dir = Some(store.clone()))
            .open(&url)
            .await;
        let admin = app.user("root@example.org", Role::Admin).await;
        for case in &cases {
            let got = app
                .get(&format!("/api/v1/entries/{}", case.pk), Some(&admin))
                .await
                .expect(200)
                .json();
            assert_eq!(
                (got["status"].as_str(), got["live"].as_bool()),
                (Some(case.status), Some(case.live)),
                "pk {}: {got}",
                case.pk
            );
            let lines = lines_of(case.pk);
            match case.reason {
                None => assert!(lines.is_empty(), "pk {}: {lines:?}", case.pk),
                Some(reason) => {
                    let head = format!(
                        "qgisfeed.qgisfeedentry pk {}: imported as {} because ",
                        case.pk, case.status
                    );
                    assert!(
                        lines
                            .iter()
                            .any(|line| line.starts_with(&head) && line.contains(reason)),
                        "pk {}: {reason:?} in {lines:?}",
                        case.pk
                    );
                }
            }
        }
        assert_rows_kept_their_fields(&app, &admin).await;
        assert_people(&app, &admin).await;
        let history = app
            .get("/api/v1/entries/115/history", Some(&admin))
            .await
            .expect(200)
            .json()
            .to_string();
        assert!(history.contains("Needs a look"), "{history}");
        assert_around_the_entries(&app, &admin, &stdout).await;

        // Again: nothing changes, and the report says the same.
        let again = import(&url, &file, &media, &store);
        assert!(again.status.success(), "{}", text(&again.stderr));
        let again = text(&again.stdout);
        let unchanged = format!(
            "qgisfeed.qgisfeedentry: 0 created, 0 updated, {} unchanged",
            cases.len()
        );
        assert!(again.contains(&unchanged), "{again}");
        let notes = |report: &str| -> Vec<String> {
            report
                .lines()
                .filter(|line| line.contains(" pk "))
                .map(str::to_string)
                .collect()
        };
        assert_eq!(notes(&again), notes(&stdout));
    }
}

/// Revisions in the history, saved areas, daily statistics and approvers.
async fn assert_around_the_entries(app: &common::TestApp, admin: &str, report: &str) {
    let history = app
        .get("/api/v1/entries/102/history", Some(admin))
        .await
        .expect(200)
        .json();
    let edit = history
        .as_array()
        .unwrap()
        .iter()
        .find(|line| line["comment"] == "Fixed the title")
        .unwrap_or_else(|| panic!("the revision in {history}"));
    assert_eq!(edit["action"], "edit", "{edit}");
    assert_eq!(edit["changes"]["Title"], json!(["Tpyo", "Typo"]), "{edit}");
    assert_eq!(edit["actor"], "approver", "{edit}");

    let areas = app
        .get("/api/v1/areas", Some(admin))
        .await
        .expect(200)
        .json();
    let names: Vec<&str> = areas["areas"]
        .as_array()
        .unwrap()
        .iter()
        .map(|area| area["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 2, "{areas}");
    assert!(
        names.contains(&"EU") && names.contains(&"Mercator"),
        "{areas}"
    );
    assert!(
        report.contains("qgisfeed.savedspatialfilter pk 3: not imported because its geometry"),
        "{report}"
    );

    let stats = |by: &str| {
        let path = format!("/api/v1/stats/feed?from=2024-01-01&to=2024-01-02{by}");
        async move { app.get(&path, Some(admin)).await.expect(200).json() }
    };
    let rows = |answer: Value| -> Vec<(String, String, i64)> {
        answer["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|row| {
                (
                    row["day"].as_str().unwrap().to_string(),
                    row["value"].as_str().unwrap().to_string(),
                    row["requests"].as_i64().unwrap(),
                )
            })
            .collect()
    };
    let day = |value: &str, requests: i64| ("2024-01-01".to_string(), value.to_string(), requests);
    assert_eq!(
        rows(stats("&by=version").await),
        [day("3.36", 4), day("unknown", 1)]
    );
    assert_eq!(
        rows(stats("&by=platform").await),
        [day("windows", 3), day("linux", 2)]
    );
    assert_eq!(rows(stats("&by=country").await), [day("ID", 2)]);
    assert_eq!(rows(stats("").await), [day("total", 5)]);

    let people = app
        .get("/api/v1/users", Some(admin))
        .await
        .expect(200)
        .json();
    let role = |email: &str| {
        people
            .as_array()
            .unwrap()
            .iter()
            .find(|person| person["email"] == email)
            .map(|person| person["role"].as_str().unwrap().to_string())
    };
    assert_eq!(role("approver@qgis.org").as_deref(), Some("moderator"));
    assert_eq!(role("author@qgis.org").as_deref(), Some("member"));
    assert_eq!(role("unknown@qgis.org").as_deref(), Some("member"));
}

/// What the rows hold here, field by field, where it is not plain.
async fn assert_rows_kept_their_fields(app: &common::TestApp, admin: &str) {
    let entry = |pk: i64| {
        let path = format!("/api/v1/entries/{pk}");
        async move { app.get(&path, Some(admin)).await.expect(200).json() }
    };
    let pk9 = entry(9).await;
    assert_eq!(seconds(&pk9["publish_to"]), Some(929_195_680), "{pk9}");
    assert_eq!(pk9["publish_from"], Value::Null);
    assert_eq!(entry(6).await["publish_to"], Value::Null);
    assert_eq!(seconds(&entry(107).await["publish_from"]), Some(0));
    assert_eq!(entry(120).await["title"], "Untitled (QGIS-Feed pk 120)");
    assert_eq!(entry(122).await["title"], "Line break");
    assert_eq!(entry(123).await["title"], "<b>Bold</b> news");
    assert_eq!(entry(128).await["content"], "<p>Hi</p>");
    assert_eq!(entry(133).await["url"], "");
    assert_eq!(entry(146).await["language"], "de");
    assert_eq!(entry(143).await["language"], Value::Null);
    assert_eq!(entry(144).await["language"], Value::Null);
    let converted = entry(151).await;
    let corner = &converted["target_area"][2];
    assert!(
        (corner[0].as_f64().unwrap() - 10.0).abs() < 1e-6
            && (corner[1].as_f64().unwrap() - 10.0).abs() < 1e-6,
        "{converted}"
    );
    assert_eq!(
        entry(152).await["target_area"].as_array().map(Vec::len),
        Some(4)
    );
    assert_eq!(entry(153).await["target_area"], Value::Null);
    assert_eq!(entry(164).await["call_to_action"], "Read more");
    assert_eq!(
        entry(165).await["call_to_action"]
            .as_str()
            .map(|text| text.chars().count()),
        Some(255)
    );
    assert_eq!(entry(167).await["priority"], 2_147_483_647_i64);
    assert_eq!(
        seconds(&entry(168).await["publish_from"]),
        Some(1_557_073_748)
    );
    assert_eq!(
        seconds(&entry(169).await["publish_from"]),
        Some(1_557_073_748)
    );
    let pictured = entry(138).await;
    assert!(
        pictured["image"].as_str().unwrap().ends_with(".jpg"),
        "{pictured}"
    );
    assert_eq!(entry(139).await["image"], "");
}

/// Accounts: invented addresses, merges, inactive people, no passwords.
async fn assert_people(app: &common::TestApp, admin: &str) {
    let people = app
        .get("/api/v1/users", Some(admin))
        .await
        .expect(200)
        .json();
    let emails: Vec<&str> = people
        .as_array()
        .unwrap()
        .iter()
        .map(|person| person["email"].as_str().unwrap())
        .collect();
    for email in [
        "admin@qgis.org",
        "ace@qgis.org",
        "qgis_user@qgisfeed.invalid",
        "user4@qgisfeed.invalid",
        "gone@example.org",
    ] {
        assert!(emails.contains(&email), "{email} in {emails:?}");
    }
    assert_eq!(emails.len(), 9, "{emails:?}");
    let gone = people
        .as_array()
        .unwrap()
        .iter()
        .find(|person| person["email"] == "gone@example.org")
        .unwrap();
    assert_eq!(gone["disabled"], true);
    app.post(
        "/api/v1/auth/login",
        None,
        json!({"email": "gone@example.org", "password": "pbkdf2_sha256$1$a$b"}),
    )
    .await
    .expect(401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_dump_names_what_is_wrong_and_writes_nothing() {
    let dir = temp_dir();
    let media = media(&dir);
    let admin = users()
        .into_iter()
        .find(|record| record["fields"]["username"] == "admin")
        .unwrap();
    let review = |entry: i64, reviewer: i64| {
        json!({"model": "qgisfeed.feedentryreview", "pk": 1, "fields": {"entry": entry,
            "reviewer": reviewer, "comment": "", "action": "approve",
            "created_at": "2019-05-07T09:00:00"}})
    };
    let malformed = [
        (
            vec![
                admin.clone(),
                entry(5, json!({})),
                entry(5, json!({"title": "Again"})),
            ],
            "qgisfeed.qgisfeedentry pk 5: duplicate pk",
        ),
        (
            vec![admin.clone(), admin.clone(), entry(5, json!({}))],
            "auth.user pk 1: duplicate pk",
        ),
        (
            vec![admin.clone(), entry(5, json!({"author": 77}))],
            "qgisfeed.qgisfeedentry pk 5: author Pk(77) is not in the dump",
        ),
        (
            vec![admin.clone(), entry(5, json!({})), review(6, 1)],
            "qgisfeed.feedentryreview pk 1: entry 6 is not in the dump",
        ),
        (
            vec![admin.clone(), entry(5, json!({})), review(5, 9)],
            "qgisfeed.feedentryreview pk 1: reviewer Pk(9) is not in the dump",
        ),
        (
            vec![
                admin.clone(),
                entry(5, json!({})),
                json!({"model": "qgisfeed.feedentryrevision", "pk": 4, "fields": {"entry": 6,
                    "user": 1, "title": "", "content": "", "changed_at": "2026-01-01"}}),
            ],
            "qgisfeed.feedentryrevision pk 4: entry 6 is not in the dump",
        ),
        (
            vec![
                admin.clone(),
                json!({"model": "qgisfeed.savedspatialfilter", "pk": 2, "fields": {"user": 5,
                    "name": "X", "geometry": "POLYGON ((0 0, 1 0, 1 1, 0 0))",
                    "created_at": "2026-01-01"}}),
            ],
            "qgisfeed.savedspatialfilter pk 2: user Pk(5) is not in the dump",
        ),
        (
            vec![
                admin.clone(),
                json!({"model": "qgisfeed.dailyqgisuservisit", "pk": 1, "fields": {
                    "date": "yesterday", "qgis_version": {}, "platform": {}, "country": {}}}),
            ],
            "qgisfeed.dailyqgisuservisit pk 1: date: \"yesterday\" is not a date",
        ),
        (
            vec![
                admin.clone(),
                entry(5, json!({"publish_from": "next tuesday"})),
            ],
            "qgisfeed.qgisfeedentry pk 5: publish_from:",
        ),
    ];
    let not_a_list = dir.join("object.json");
    std::fs::write(&not_a_list, br#"{"model": "auth.user"}"#).unwrap();
    let not_json = dir.join("text.json");
    std::fs::write(&not_json, b"model,pk\nauth.user,1\n").unwrap();
    let mut files: Vec<(std::path::PathBuf, &str)> = vec![
        (not_a_list, "not a JSON array of {model, pk, fields}"),
        (not_json, "not a JSON array of {model, pk, fields}"),
    ];
    for (index, (records, message)) in malformed.iter().enumerate() {
        files.push((write(&dir, &format!("bad{index}.json"), records), message));
    }
    let (urls, _guards) = databases().await;
    for url in urls {
        drop(newsfeed::db::connect(&url, 2).await.expect("migrate"));
        for (file, message) in &files {
            let refused = import(&url, file, &media, &dir.join("store"));
            assert!(!refused.status.success(), "{message}");
            let stderr = text(&refused.stderr);
            assert!(stderr.contains(message), "{message:?} in {stderr}");
        }
        // Nothing written: no group, no account, no entry.
        let app = common::TestApp::builder().open(&url).await;
        let admin = app.user("root@example.org", Role::Admin).await;
        let people = app
            .get("/api/v1/users", Some(&admin))
            .await
            .expect(200)
            .json();
        assert_eq!(people.as_array().map(Vec::len), Some(1), "{people}");
        app.get("/api/v1/entries/5", Some(&admin)).await.expect(404);
    }
}
