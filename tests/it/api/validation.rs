//! Input validation as a client sees it: 422 naming each bad field, 400 for
//! bodies that are not the documented JSON, 413 for bodies that are too large.

use poem::http::{Method, header};
use serde_json::{Value, json};

use crate::api::support::{entry, entry_in, id_of};
use crate::common::{self, Reply, TestApp, World};

fn base(kind: &str) -> Value {
    let mut body = json!({"group": "alpha", "kind": kind, "title": "A title",
                          "content": "<p>Some text</p>"});
    let extra = match kind {
        "event" | "meetup" => json!({"starts_at": "2030-05-01T09:00:00Z",
                                     "ends_at": "2030-05-01T17:00:00Z",
                                     "timezone": "Europe/Berlin"}),
        "crowdfunding" => json!({"goal_amount": 5000.0, "currency": "EUR",
                                 "deadline": "2030-06-01T00:00:00Z"}),
        _ => json!({}),
    };
    for (key, value) in extra.as_object().expect("object") {
        body[key] = value.clone();
    }
    body
}

/// `base(kind)` with `changes` applied; a `null` in `changes` removes the field.
fn with(kind: &str, changes: Value) -> Value {
    let mut body = base(kind);
    for (key, value) in changes.as_object().expect("object") {
        if value.is_null() {
            body.as_object_mut().expect("object").remove(key);
        } else {
            body[key] = value.clone();
        }
    }
    body
}

/// Posts a body as raw bytes with a JSON content type and, like an HTTP/1.1
/// client, its `Content-Length`.
async fn raw(app: &TestApp, method: Method, path: &str, token: &str, body: Vec<u8>) -> Reply {
    let response = app
        .client
        .request(method, path)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::CONTENT_LENGTH, body.len())
        .body(body)
        .send()
        .await;
    Reply::from(response.0).await
}

/// The same without `Content-Length` or `Transfer-Encoding`, as an HTTP/2
/// client may send it.
async fn raw_unframed(app: &TestApp, path: &str, body: Vec<u8>) -> Reply {
    let response = app
        .client
        .request(Method::POST, path)
        .header(header::CONTENT_TYPE, "application/json")
        .body(body)
        .send()
        .await;
    Reply::from(response.0).await
}

db_test!(
    every_kind_accepts_a_complete_valid_entry,
    |app: common::TestApp| async move {
        let w = World::new(app).await;
        for kind in ["announcement", "event", "meetup", "crowdfunding"] {
            let mut body = base(kind);
            body["url"] = json!("https://qgis.org/news");
            body["image"] = json!("http://qgis.org/x.png");
            body["language"] = json!("PT");
            body["call_to_action"] = json!("Read more");
            body["publish_from"] = json!("2030-01-01T00:00:00Z");
            body["publish_to"] = json!("2031-01-01T00:00:00Z");
            body["target_area"] = json!([[0.0, 0.0], [10.0, 0.0], [10.0, 10.0]]);
            if kind == "event" || kind == "meetup" {
                body["location_name"] = json!("FOSS4G venue");
                body["latitude"] = json!(-23.5);
                body["longitude"] = json!(-46.6);
                body["online_url"] = json!("https://meet.example.org/qgis");
            }
            // Admins may link an external image (editors upload one).
            let created = w
                .app
                .post("/api/v1/entries", Some(&w.admin), body)
                .await
                .expect(201)
                .json();
            assert_eq!(created["kind"], kind);
            assert_eq!(created["status"], "draft");
            assert_eq!(created["version"], 1);
            assert_eq!(created["language"], "pt", "languages are stored lower-case");
            if kind == "crowdfunding" {
                assert_eq!(created["currency"], "EUR");
                assert_eq!(created["goal_amount"], 5000.0);
            }
        }
    }
);

// Each case: kind, changes to a valid body, the field the 422 must name.
#[rustfmt::skip]
fn invalid_cases() -> Vec<(&'static str, Value, &'static str)> {
    let long = |n: usize| "x".repeat(n);
    vec![
        ("announcement", json!({"group": null}), "group"),
        ("announcement", json!({"kind": null}), "kind"),
        ("announcement", json!({"version": 1}), "version"),
        ("announcement", json!({"title": "   "}), "title"),
        ("announcement", json!({"title": long(256)}), "title"),
        ("announcement", json!({"title": "tab\tinside"}), "title"),
        ("announcement", json!({"content": ""}), "content"),
        ("announcement", json!({"content": "<p></p><script>x()</script>"}), "content"),
        ("announcement", json!({"content": format!("<p>{}</p>", long(501))}), "content"),
        ("announcement", json!({"url": "javascript:alert(1)"}), "url"),
        ("announcement", json!({"url": "ftp://qgis.org/file"}), "url"),
        ("announcement", json!({"url": "qgis.org"}), "url"),
        ("announcement", json!({"url": format!("https://qgis.org/{}", long(2048))}), "url"),
        ("announcement", json!({"image": "data:image/png;base64,AAAA"}), "image"),
        ("announcement", json!({"language": "xx"}), "language"),
        ("announcement", json!({"language": "english"}), "language"),
        ("announcement", json!({"target_area": [[0.0, 0.0], [1.0, 1.0]]}), "target_area"),
        ("announcement", json!({"target_area": [[0.0, 0.0], [1.0, 1.0], [200.0, 1.0]]}), "target_area"),
        ("announcement", json!({"target_area": [[0.0, 0.0], [1.0, 1.0], [1.0, 95.0]]}), "target_area"),
        ("announcement", json!({"target_area": [[0.0, 0.0, 0.0], [1.0, 1.0], [2.0, 0.0]]}), "target_area"),
        ("announcement", json!({"call_to_action": long(256)}), "call_to_action"),
        ("announcement", json!({"publish_from": "2030-02-01T00:00:00Z", "publish_to": "2030-01-01T00:00:00Z"}), "publish_to"),
        ("announcement", json!({"publish_from": "2030-02-01T00:00:00Z", "publish_to": "2030-02-01T00:00:00Z"}), "publish_to"),
        ("announcement", json!({"publish_to": "2200-01-01T00:00:00Z"}), "publish_to"),
        ("announcement", json!({"publish_from": "1960-01-01T00:00:00Z"}), "publish_from"),
        ("announcement", json!({"starts_at": "2030-05-01T09:00:00Z"}), "starts_at"),
        ("announcement", json!({"timezone": "Europe/Berlin"}), "timezone"),
        ("announcement", json!({"location_name": "Hall"}), "location_name"),
        ("announcement", json!({"latitude": 1.0, "longitude": 1.0}), "latitude"),
        ("announcement", json!({"online_url": "https://x.org"}), "online_url"),
        ("announcement", json!({"currency": "EUR"}), "currency"),
        ("announcement", json!({"goal_amount": 10.0}), "goal_amount"),
        ("announcement", json!({"deadline": "2030-01-01T00:00:00Z"}), "deadline"),
        ("event", json!({"starts_at": null}), "starts_at"),
        ("event", json!({"event_status": "maybe"}), "event_status"),
        ("event", json!({"attendance": "telepathy"}), "attendance"),
        ("event", json!({"attendance": "in_person", "online_url": "https://meet.example.org"}), "online_url"),
        ("event", json!({"recurrence": "FREQ=MONTHLY;BYDAY=3TH"}), "recurrence"),
        ("event", json!({"recurrence": "FREQ=DAILY;COUNT=3"}), "recurrence"),
        ("event", json!({"recurrence": "FREQ=WEEKLY;COUNT=501"}), "recurrence"),
        ("event", json!({"exdates": ["2030-05-08T11:00"]}), "exdates"),
        ("event", json!({"recurrence": "FREQ=WEEKLY;COUNT=3", "exdates": ["2030-05-09T11:00"]}), "exdates"),
        ("event", json!({"recurrence": "FREQ=WEEKLY;COUNT=3", "moved_occurrences": {"2030-05-08T11:00": "soon"}}), "moved_occurrences"),
        ("event", json!({"raised_amount": 10.0}), "raised_amount"),
        ("announcement", json!({"event_status": "cancelled"}), "event_status"),
        ("announcement", json!({"recurrence": "FREQ=WEEKLY;COUNT=3"}), "recurrence"),
        ("announcement", json!({"image_alt": "a\u{7}b"}), "image_alt"),
        ("crowdfunding", json!({"raised_amount": -1.0}), "raised_amount"),
        ("event", json!({"timezone": null}), "timezone"),
        ("event", json!({"ends_at": "2030-05-01T08:59:59Z"}), "ends_at"),
        ("event", json!({"timezone": "Mars/Olympus_Mons"}), "timezone"),
        ("event", json!({"timezone": "CEST+2"}), "timezone"),
        ("event", json!({"latitude": 90.5, "longitude": 0.0}), "latitude"),
        ("event", json!({"latitude": 0.0, "longitude": -180.5}), "longitude"),
        ("event", json!({"latitude": 10.0}), "longitude"),
        ("event", json!({"longitude": 10.0}), "latitude"),
        ("event", json!({"online_url": "javascript:alert(1)"}), "online_url"),
        ("event", json!({"location_name": long(256)}), "location_name"),
        ("event", json!({"goal_amount": 10.0}), "goal_amount"),
        ("meetup", json!({"starts_at": null}), "starts_at"),
        ("meetup", json!({"ends_at": "2030-04-30T00:00:00Z"}), "ends_at"),
        ("meetup", json!({"timezone": "Nowhere/City"}), "timezone"),
        ("meetup", json!({"currency": "EUR"}), "currency"),
        ("crowdfunding", json!({"goal_amount": null}), "goal_amount"),
        ("crowdfunding", json!({"currency": null}), "currency"),
        ("crowdfunding", json!({"deadline": null}), "deadline"),
        ("crowdfunding", json!({"goal_amount": 0.0}), "goal_amount"),
        ("crowdfunding", json!({"goal_amount": -5.0}), "goal_amount"),
        ("crowdfunding", json!({"goal_amount": 1e16}), "goal_amount"),
        ("crowdfunding", json!({"currency": "EURO"}), "currency"),
        ("crowdfunding", json!({"currency": "XYZ"}), "currency"),
        ("crowdfunding", json!({"deadline": "2101-01-01T00:00:00Z"}), "deadline"),
        ("crowdfunding", json!({"starts_at": "2030-05-01T09:00:00Z"}), "starts_at"),
        ("crowdfunding", json!({"latitude": 1.0, "longitude": 1.0}), "latitude"),
    ]
}

db_test!(
    every_field_rule_names_its_field,
    |app: common::TestApp| async move {
        let w = World::new(app).await;
        let mut failures = Vec::new();
        for (kind, changes, field) in invalid_cases() {
            let reply = w
                .app
                .post(
                    "/api/v1/entries",
                    Some(&w.editor),
                    with(kind, changes.clone()),
                )
                .await;
            let fields: Vec<String> = if reply.status == 422
                && reply.header("content-type") == Some("application/problem+json")
            {
                reply.json()["errors"]
                    .as_array()
                    .map(|errors| {
                        errors
                            .iter()
                            .filter_map(|error| {
                                assert!(error["message"].is_string(), "{error}");
                                error["field"].as_str().map(str::to_string)
                            })
                            .collect()
                    })
                    .unwrap_or_default()
            } else {
                Vec::new()
            };
            if !fields.iter().any(|f| f == field) {
                failures.push(format!(
                    "{kind} {changes}: expected 422 naming `{field}`, got {} {}",
                    reply.status,
                    reply.text.chars().take(300).collect::<String>()
                ));
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
        // Nothing was stored.
        let list = w
            .app
            .get("/api/v1/entries", Some(&w.editor))
            .await
            .expect(200)
            .json();
        assert_eq!(list["total"], 0, "{list}");
    }
);

db_test!(
    all_bad_fields_are_reported_at_once,
    |app: common::TestApp| async move {
        let w = World::new(app).await;
        let reply = w
            .app
            .post(
                "/api/v1/entries",
                Some(&w.editor),
                with(
                    "event",
                    json!({"title": "", "url": "nope", "timezone": "Bad/Zone", "language": "zz"}),
                ),
            )
            .await;
        for field in ["title", "url", "timezone", "language"] {
            reply.expect_field_error(field);
        }
    }
);

db_test!(
    updates_are_validated_too,
    |app: common::TestApp| async move {
        let w = World::new(app).await;
        let app = &w.app;
        let id = entry_in(&w, "draft", "to update").await;
        let path = format!("/api/v1/entries/{id}");
        let version = entry(app, &w.editor, id).await["version"].clone();
        // The version is required on update.
        let reply = app
            .patch(&path, Some(&w.editor), json!({"title": "x"}))
            .await;
        reply.expect_field_error("version");
        // Kind and group are fixed.
        let reply = app
            .patch(
                &path,
                Some(&w.editor),
                json!({"version": version, "kind": "event"}),
            )
            .await;
        reply.expect_field_error("kind");
        let reply = app
            .patch(
                &path,
                Some(&w.editor),
                json!({"version": version, "group": "beta"}),
            )
            .await;
        reply.expect_field_error("group");
        let reply = app
            .patch(
                &path,
                Some(&w.editor),
                json!({"version": version, "url": "javascript:x"}),
            )
            .await;
        reply.expect_field_error("url");
        // `null` clears an optional field, and clearing a required kind field is refused.
        let event = app
            .post("/api/v1/entries", Some(&w.editor), base("event"))
            .await
            .expect(201)
            .json();
        let reply = app
            .patch(
                &format!("/api/v1/entries/{}", id_of(&event)),
                Some(&w.editor),
                json!({"version": event["version"], "timezone": null}),
            )
            .await;
        reply.expect_field_error("timezone");
        let cleared = app
            .patch(
                &path,
                Some(&w.editor),
                json!({"version": version, "language": null}),
            )
            .await
            .expect(200)
            .json();
        assert_eq!(cleared["language"], Value::Null);
        // Nothing of the refused updates stuck.
        assert_eq!(entry(app, &w.editor, id).await["url"], "");
    }
);

db_test!(
    unknown_fields_are_refused_with_400,
    |app: common::TestApp| async move {
        let w = World::new(app).await;
        let app = &w.app;
        let id = entry_in(&w, "pending", "unknowns").await;
        let mut cases = vec![
            ("/api/v1/entries".to_string(), Method::POST, {
                let mut body = base("announcement");
                body["colour"] = json!("red");
                body
            }),
            (
                format!("/api/v1/entries/{id}"),
                Method::PATCH,
                json!({"version": 2, "titel": "typo"}),
            ),
            (
                "/api/v1/auth/login".to_string(),
                Method::POST,
                json!({"email": "a@b.org", "password": "x", "remember": true}),
            ),
            (
                "/api/v1/groups".to_string(),
                Method::POST,
                json!({"slug": "gamma", "name": "Gamma", "owner": "me"}),
            ),
            (
                "/api/v1/groups/alpha/members".to_string(),
                Method::POST,
                json!({"email": "outsider@example.org", "role": "editor", "admin": true}),
            ),
            (
                "/api/v1/groups/alpha/tokens".to_string(),
                Method::POST,
                json!({"name": "ci", "scopes": ["all"]}),
            ),
            (
                "/api/v1/access-requests".to_string(),
                Method::POST,
                json!({"group_name": "G", "contact_email": "g@example.org", "approved": true}),
            ),
            (
                "/api/v1/users".to_string(),
                Method::POST,
                json!({"email": "n@example.org", "password": "long enough", "display_name": "N",
                   "role": "member", "is_admin": true}),
            ),
        ];
        for action in [
            "approve",
            "reject",
            "request-changes",
            "unpublish",
            "comment",
        ] {
            cases.push((
                format!("/api/v1/moderation/entries/{id}/{action}"),
                Method::POST,
                json!({"comment": "x", "force": true}),
            ));
        }
        cases.push((
            format!("/api/v1/entries/{id}/withdraw"),
            Method::POST,
            json!({"reason": "x"}),
        ));
        for (path, method, body) in cases {
            let reply = app
                .call(method.clone(), &path, Some(&w.admin), Some(body))
                .await;
            assert_eq!(reply.status, 400, "{method} {path}: {}", reply.text);
            reply.expect_problem(400, "bad-request");
        }
        // Nothing happened to the entry.
        assert_eq!(entry(app, &w.admin, id).await["status"], "pending");
    }
);

db_test!(
    malformed_json_is_400_and_mistyped_values_422,
    |app: common::TestApp| async move {
        let w = World::new(app).await;
        let app = &w.app;
        for body in [
            &b"{"[..],
            b"{\"group\": \"alpha\",}",
            b"not json at all",
            b"[1, 2, 3]",
            b"",
        ] {
            let reply = raw(
                app,
                Method::POST,
                "/api/v1/entries",
                &w.editor,
                body.to_vec(),
            )
            .await;
            assert_eq!(
                reply.status,
                400,
                "{}: {}",
                String::from_utf8_lossy(body),
                reply.text
            );
            reply.expect_problem(400, "bad-request");
        }
        // Well-formed JSON with a value of the wrong kind names the field.
        for (body, field) in [
            (
                json!({"group": "alpha", "kind": "poem", "title": "t", "content": "x"}),
                "kind",
            ),
            (
                json!({"group": "alpha", "kind": "event", "title": "t", "content": "x",
                       "starts_at": "tomorrow"}),
                "starts_at",
            ),
            (
                json!({"group": "alpha", "kind": "announcement", "title": "t", "content": "x",
                       "target_area": [[1, "east"]]}),
                "target_area[0][1]",
            ),
        ] {
            app.post("/api/v1/entries", Some(&w.editor), body)
                .await
                .expect_field_error(field);
        }
        // A body that is not JSON at all (wrong content type) is refused too, not a 500.
        let response = app
            .client
            .post("/api/v1/entries")
            .header(header::AUTHORIZATION, format!("Bearer {}", w.editor))
            .header(header::CONTENT_TYPE, "text/plain")
            .body("hello")
            .send()
            .await;
        let reply = Reply::from(response.0).await;
        assert!(
            reply.status == 400 || reply.status == 415,
            "{} {}",
            reply.status,
            reply.text
        );
        assert_eq!(
            reply.header("content-type"),
            Some("application/problem+json")
        );
    }
);

db_test!(
    oversized_bodies_are_413,
    |app: common::TestApp| async move {
        let w = World::new(app).await;
        let app = &w.app;
        let max = app.state.config.max_body_bytes;
        let huge = "x".repeat(max + 1024);
        // Declared length over the limit.
        let reply = raw(
            app,
            Method::POST,
            "/api/v1/entries",
            &w.editor,
            serde_json::to_vec(&with("announcement", json!({"content": huge}))).expect("json"),
        )
        .await;
        reply.expect_problem(413, "payload-too-large");
        // A body with no declared length (HTTP/2 needs none) is cut at the limit too.
        let reply = raw_unframed(
            app,
            "/api/v1/access-requests",
            serde_json::to_vec(
                &json!({"group_name": "Big", "contact_email": "b@example.org", "message": huge}),
            )
            .expect("json"),
        )
        .await;
        reply.expect_problem(413, "payload-too-large");
        // Just under the limit is parsed (and then refused for its content length).
        let under = "x".repeat(max - 200);
        let reply = app
            .post(
                "/api/v1/entries",
                Some(&w.editor),
                with("announcement", json!({"content": under})),
            )
            .await;
        reply.expect_field_error("content");
    }
);

db_test!(
    other_resources_name_their_bad_fields,
    |app: common::TestApp| async move {
        let w = World::new(app).await;
        let app = &w.app;
        let admin = Some(w.admin.as_str());
        for (body, field) in [
            (
                json!({"email": "not-an-email", "password": "long enough", "display_name": "A", "role": "member"}),
                "email",
            ),
            (
                json!({"email": "a@example.org", "password": "short", "display_name": "A", "role": "member"}),
                "password",
            ),
            (
                json!({"email": "a@example.org", "password": "long enough", "display_name": "  ", "role": "member"}),
                "display_name",
            ),
        ] {
            app.post("/api/v1/users", admin, body)
                .await
                .expect_field_error(field);
        }
        // A second account with the same email, in any case, conflicts.
        app.post(
        "/api/v1/users",
        admin,
        json!({"email": "EDITOR@example.org", "password": "long enough", "display_name": "E", "role": "member"}),
    )
    .await
    .expect_problem(409, "duplicate");
        for (body, field) in [
            (json!({"slug": "Bad Slug", "name": "G"}), "slug"),
            (json!({"slug": "-bad", "name": "G"}), "slug"),
            (json!({"slug": "g1", "name": ""}), "name"),
            (
                json!({"slug": "g2", "name": "G", "country": "XX"}),
                "country",
            ),
            (
                json!({"slug": "g3", "name": "G", "website": "javascript:alert(1)"}),
                "website",
            ),
        ] {
            app.post("/api/v1/groups", admin, body)
                .await
                .expect_field_error(field);
        }
        app.post(
            "/api/v1/groups",
            admin,
            json!({"slug": "alpha", "name": "Again"}),
        )
        .await
        .expect_problem(409, "duplicate");
        app.patch("/api/v1/groups/alpha", admin, json!({"slug": "renamed"}))
            .await
            .expect_field_error("slug");
        app.post("/api/v1/groups/alpha/tokens", admin, json!({"name": " "}))
            .await
            .expect_field_error("name");
        for (body, field) in [
            (
                json!({"group_name": "", "contact_email": "a@example.org"}),
                "group_name",
            ),
            (
                json!({"group_name": "G", "contact_email": "nope"}),
                "contact_email",
            ),
            (
                json!({"group_name": "G", "slug": "Not A Slug", "contact_email": "a@example.org"}),
                "slug",
            ),
            (
                json!({"group_name": "G", "country": "ZZ", "contact_email": "a@example.org"}),
                "country",
            ),
            (
                json!({"group_name": "G", "contact_email": "a@example.org", "message": "m".repeat(2001)}),
                "message",
            ),
        ] {
            app.post("/api/v1/access-requests", None, body)
                .await
                .expect_field_error(field);
        }
        // Adding someone who has no account is a 404, not a silent success.
        app.post(
            "/api/v1/groups/alpha/members",
            admin,
            json!({"email": "nobody@example.org", "role": "editor"}),
        )
        .await
        .expect_problem(404, "not-found");
        // Paging bounds.
        for query in ["limit=0", "limit=201", "limit=x", "offset=-1"] {
            app.get(&format!("/api/v1/entries?{query}"), admin)
                .await
                .expect_problem(400, "bad-request");
        }
        // Unknown entry ids are 404.
        app.get("/api/v1/entries/999999", admin)
            .await
            .expect_problem(404, "not-found");
        app.get("/api/v1/entries/abc", admin)
            .await
            .expect_problem(400, "bad-request");
    }
);

// NUL is valid in JSON strings and URLs but not in PostgreSQL text: every
// place a client can put one gets a 4xx, never a 500.
db_test!(
    nul_characters_are_refused_not_500,
    |app: common::TestApp| async move {
        let w = World::new(app).await;
        let app = &w.app;
        let pending = entry_in(&w, "pending", "nul").await;
        let admin = Some(w.admin.as_str());
        let mut failures = Vec::new();
        let mut check = |what: &str, reply: Reply| {
            if !(400..500).contains(&reply.status.as_u16())
                || reply.header("content-type") != Some("application/problem+json")
            {
                failures.push(format!("{what}: {} {}", reply.status, reply.text));
            }
        };
        for path in [
            "/api/v1/groups/a%00b",
            "/api/v1/groups/a%00b/members",
            "/api/v1/entries?group=a%00b",
            "/api/v1/moderation/queue?group=a%00b",
            "/api/v1/moderation/queue?lang=e%00",
        ] {
            check(path, app.get(path, admin).await);
        }
        let entry_body = |field: &str, value: &str| {
            let mut body = with("event", json!({}));
            body[field] = json!(value);
            body
        };
        for field in [
            "title",
            "url",
            "image",
            "language",
            "call_to_action",
            "timezone",
            "location_name",
            "online_url",
        ] {
            let value = match field {
                "url" | "image" | "online_url" => "https://qgis.org/a\u{0}b",
                _ => "a\u{0}b",
            };
            check(
                field,
                app.post("/api/v1/entries", Some(&w.editor), entry_body(field, value))
                    .await,
            );
        }
        let nul = "a\u{0}b";
        let posts = [
            ("/api/v1/groups", json!({"slug": "nul-1", "name": nul})),
            (
                "/api/v1/groups",
                json!({"slug": "nul-2", "name": "N", "contact": nul}),
            ),
            (
                "/api/v1/groups",
                json!({"slug": "nul-3", "name": "N", "website": "https://x.org/\u{0}"}),
            ),
            ("/api/v1/groups/alpha/tokens", json!({"name": nul})),
            (
                "/api/v1/groups/alpha/members",
                json!({"email": "a\u{0}@example.org", "role": "editor"}),
            ),
            (
                "/api/v1/users",
                json!({"email": "n@example.org", "password": "long enough", "display_name": nul, "role": "member"}),
            ),
            (
                "/api/v1/users",
                json!({"email": "n\u{0}@example.org", "password": "long enough", "display_name": "N", "role": "member"}),
            ),
            (
                "/api/v1/access-requests",
                json!({"group_name": nul, "slug": "nul-4", "contact_email": "a@example.org"}),
            ),
            (
                "/api/v1/access-requests",
                json!({"group_name": "N", "message": nul, "contact_email": "a@example.org"}),
            ),
            (
                "/api/v1/access-requests",
                json!({"group_name": "N", "website": "https://x.org/\u{0}", "contact_email": "a@example.org"}),
            ),
            (
                "/api/v1/auth/login",
                json!({"email": "a\u{0}@example.org", "password": "whatever"}),
            ),
        ];
        for (path, body) in posts {
            check(
                &format!("{path} {body}"),
                app.post(path, admin, body.clone()).await,
            );
        }
        for action in ["comment", "reject", "request-changes"] {
            check(
                action,
                app.post(
                    &format!("/api/v1/moderation/entries/{pending}/{action}"),
                    admin,
                    json!({"comment": nul}),
                )
                .await,
            );
        }
        let me = app
            .get("/api/v1/me", Some(&w.outsider))
            .await
            .expect(200)
            .json();
        check(
            "update user",
            app.patch(
                &format!("/api/v1/users/{}", me["id"]),
                admin,
                json!({"display_name": nul}),
            )
            .await,
        );
        assert!(failures.is_empty(), "{}", failures.join("\n"));
        // The entry is untouched.
        assert_eq!(entry(app, &w.admin, pending).await["status"], "pending");
    }
);

db_test!(
    text_fields_take_only_json_strings,
    |app: common::TestApp| async move {
        let w = World::new(app).await;
        let app = &w.app;
        let mut number_title = base("announcement");
        number_title["title"] = json!(5);
        let cases = [
            ("/api/v1/entries", number_title),
            ("/api/v1/groups/alpha/tokens", json!({"name": false})),
            ("/api/v1/groups", json!({"slug": "gamma", "name": 12})),
            (
                "/api/v1/access-requests",
                json!({"group_name": true, "contact_email": "g@example.org"}),
            ),
        ];
        for ((path, body), field) in cases
            .into_iter()
            .zip(["title", "name", "name", "group_name"])
        {
            let reply = app.post(path, Some(&w.admin), body).await;
            let problem = reply.expect_field_error(field);
            assert!(
                problem["errors"][0]["message"].as_str().is_some_and(|m| m
                    .starts_with("invalid type")
                    && m.contains("expected a string")),
                "{path}: {problem}"
            );
        }
        // Nothing was created by the refused requests.
        let tokens = app.get("/api/v1/groups/alpha/tokens", Some(&w.admin)).await;
        assert_eq!(tokens.expect(200).json(), json!([]));
    }
);

db_test!(
    null_for_a_required_field_is_refused_not_ignored,
    |app: common::TestApp| async move {
        let w = World::new(app).await;
        let app = &w.app;
        let id = entry_in(&w, "draft", "Keep me").await;
        let version = entry(app, &w.editor, id).await["version"].clone();
        for field in ["title", "content", "url", "image"] {
            let mut body = json!({"version": version});
            body[field] = Value::Null;
            app.patch(&format!("/api/v1/entries/{id}"), Some(&w.editor), body)
                .await
                .expect_field_error(field);
        }
        assert_eq!(entry(app, &w.editor, id).await["title"], "Keep me");
        for field in ["name", "country", "website", "contact", "status"] {
            let mut body = json!({});
            body[field] = Value::Null;
            app.patch("/api/v1/groups/alpha", Some(&w.admin), body)
                .await
                .expect_field_error(field);
        }
        let editor = app.get("/api/v1/me", Some(&w.editor)).await.json()["id"].clone();
        for field in ["display_name", "role", "disabled"] {
            let mut body = json!({});
            body[field] = Value::Null;
            app.patch(&format!("/api/v1/users/{editor}"), Some(&w.admin), body)
                .await
                .expect_field_error(field);
        }
    }
);
