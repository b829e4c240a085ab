//! Whole responses pinned with insta: what clients parse, byte for byte modulo ids and clocks.

use futures_util::future::join_all;
use newsfeed::clock::Clock;
use newsfeed::error::ProblemType;
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};

use crate::common::{self, World};

/// Replaces what changes from run to run (ids, instants) with placeholders.
fn stable(mut value: Value) -> Value {
    for item in value.as_array_mut().into_iter().flatten() {
        item["pk"] = json!("[pk]");
        item["publish_from"] = json!("[publish_from]");
    }
    value
}

db_test!(qgis_feed_response, |app: common::TestApp| async move {
    let world = World::new(app).await;
    let app = &world.app;
    let entry = app
        .post(
            "/api/v1/entries",
            Some(&world.admin),
            json!({"group": "alpha", "kind": "meetup", "title": "QGIS <Meetup> & more",
                   "content": "<p onclick=\"x()\">Join us <a href=\"https://qgis.org\">here</a><script>bad()</script></p>",
                   "url": "https://qgis.org/meetup", "image": "https://qgis.org/m.png",
                   "language": "en", "starts_at": "2030-05-01T18:00:00Z",
                   "ends_at": "2030-05-01T20:00:00Z", "timezone": "Europe/Berlin"}),
        )
        .await
        .expect(201)
        .json();
    let id = entry["id"].as_i64().expect("id");
    app.submit_and_approve(
        &world.editor,
        &world.moderator,
        id,
        json!({"sticky": true, "publish_to": "2031-01-01T00:00:00Z"}),
    )
    .await;
    let feed = app.get("/?json=1&lang=en", None).await;
    insta::assert_json_snapshot!("qgis_feed", stable(feed.expect(200).json()));
});

db_test!(
    validation_problem_response,
    |app: common::TestApp| async move {
        let world = World::new(app).await;
        let problem = world
            .app
            .post(
                "/api/v1/entries",
                Some(&world.editor),
                json!({"group": "alpha", "kind": "crowdfunding", "title": "",
                   "content": "<p>x</p>", "url": "javascript:alert(1)",
                   "goal_amount": -5, "currency": "EURO"}),
            )
            .await
            .expect_problem(422, "validation");
        insta::assert_json_snapshot!("entry_validation_problem", problem);
    }
);

/// A fixed instant (2030-03-17T17:46:40Z): with a manual clock every
/// timestamp in a response is known.
const T0: i64 = 1_900_000_000;

fn at(seconds: i64) -> String {
    chrono::DateTime::from_timestamp(seconds, 0)
        .expect("instant")
        .to_rfc3339()
}

fn fixed_world() -> common::TestAppBuilder {
    World::builder().clock(Clock::manual(T0))
}

db_test!(
    me_and_entry_bodies,
    fixed_world(),
    |app: common::TestApp| async move {
        let world = World::new(app).await;
        let app = &world.app;
        let me = app
            .get("/api/v1/me", Some(&world.editor))
            .await
            .expect(200)
            .json();
        insta::assert_json_snapshot!("me", me);
        let entry = app
            .post(
                "/api/v1/entries",
                Some(&world.editor),
                json!({"group": "alpha", "kind": "event", "title": "QGIS Day",
                   "content": "<p>Talks and workshops</p>", "url": "https://qgis.org/day",
                   "language": "en", "starts_at": at(T0 + 864_000), "ends_at": at(T0 + 871_200),
                   "timezone": "Europe/Berlin", "location_name": "Bonn",
                   "latitude": 50.73, "longitude": 7.1,
                   "target_area": [[6.0, 50.0], [8.0, 50.0], [8.0, 51.0], [6.0, 51.0]]}),
            )
            .await
            .expect(201)
            .json();
        insta::assert_json_snapshot!("entry", entry);
    }
);

// Pages of entries are written by serde (`SerdeJson`), a single entry by
// poem-openapi's `ToJSON`: every field of every kind, in every state,
// must read the same from both.
db_test!(
    pages_of_entries_write_each_entry_as_the_entry_itself,
    fixed_world(),
    |app: common::TestApp| async move {
        let world = World::new(app).await;
        let app = &world.app;
        let bodies = [
            json!({"kind": "meetup", "title": "QGIS Stammtisch", "content": "<p>Monthly</p>",
                   "language": "de", "starts_at": "2030-04-18T16:30:00Z",
                   "ends_at": "2030-04-18T18:30:00Z", "timezone": "Europe/Zurich",
                   "location_name": "Zurich", "latitude": 47.37, "longitude": 8.54,
                   "online_url": "https://meet.example.org/q", "attendance": "hybrid",
                   "recurrence": "FREQ=MONTHLY;BYDAY=3TH;COUNT=4",
                   "exdates": ["2030-05-16T18:30"],
                   "moved_occurrences": {"2030-06-20T18:30": "2030-06-27T19:00"},
                   "target_area": [[6.0, 46.0], [10.0, 46.0], [10.0, 48.0]],
                   "translations": {"fr": {"title": "Rencontre QGIS", "content": "<p>Mensuel</p>"},
                                    "it": {"title": "Incontro", "call_to_action": "Vieni"}}}),
            json!({"kind": "crowdfunding", "title": "QGIS \"plugin\" & more",
                   "content": "<p>Fund <a href=\"https://qgis.org\">it</a></p>",
                   "goal_amount": 5000.5, "currency": "EUR", "deadline": at(T0 + 2_000_000),
                   "raised_amount": 1200.25, "url": "https://qgis.org/fund"}),
            json!({"kind": "announcement", "title": "QGIS 4.0 ✓ released",
                   "content": "<p>Now</p>", "image": "https://qgis.org/img.png",
                   "image_alt": "The QGIS logo", "call_to_action": "Download",
                   "publish_from": at(T0 + 3_600), "publish_to": at(T0 + 864_000)}),
        ];
        let mut ids = Vec::new();
        for mut body in bodies {
            body["group"] = json!("alpha");
            let created = app
                .post("/api/v1/entries", Some(&world.admin), body)
                .await
                .expect(201)
                .json();
            ids.push(created["id"].as_i64().expect("id"));
        }
        app.post(
            &format!("/api/v1/entries/{}/submit", ids[0]),
            Some(&world.editor),
            json!({}),
        )
        .await
        .expect(200);
        app.submit_and_approve(
            &world.editor,
            &world.moderator,
            ids[1],
            json!({"sticky": true, "priority": 3}),
        )
        .await;

        let page = app
            .get("/api/v1/entries?limit=200", Some(&world.admin))
            .await;
        page.expect(200);
        assert_eq!(
            page.header("content-type"),
            Some("application/json; charset=utf-8")
        );
        let page = page.json();
        let queue = app
            .get("/api/v1/moderation/queue", Some(&world.moderator))
            .await
            .expect(200)
            .json();
        assert_eq!(page["total"], 3);
        assert_eq!(queue["total"], 1);
        let listed = page["items"].as_array().expect("items");
        let queued = queue["items"].as_array().expect("items");
        assert_eq!(listed.len(), 3);
        assert_eq!(queued[0]["id"], ids[0]);
        for item in listed.iter().chain(queued) {
            let id = item["id"].as_i64().expect("id");
            let alone = app
                .get(&format!("/api/v1/entries/{id}"), Some(&world.admin))
                .await
                .expect(200)
                .json();
            assert_eq!(*item, alone, "entry {id} in a page and alone");
        }
        // The instants are written, not only their nulls.
        let funded = listed
            .iter()
            .find(|item| item["id"] == ids[1])
            .expect("funded");
        assert_eq!(funded["publication"], "live");
        assert!(
            funded["published_until"]
                .as_str()
                .is_some_and(|at| at.ends_with("+00:00"))
        );
        assert!(
            queued[0]["submitted_at"]
                .as_str()
                .is_some_and(|at| at.ends_with("+00:00"))
        );
        assert_eq!(queued[0]["translations"]["it"]["title"], "Incontro");
    }
);

/// One entry of every kind, live in a world whose clock stands still.
async fn publish_one_of_each(world: &World) {
    for body in [
        json!({"kind": "announcement", "title": "QGIS 4.0 <released> & more",
               "content": "<p>Read <a href=\"https://qgis.org\">here</a></p>",
               "url": "https://qgis.org/", "image": "https://qgis.org/img.png", "language": "en",
               "call_to_action": "Download"}),
        json!({"kind": "meetup", "title": "QGIS-Treffen Bonn", "content": "<p>Alle willkommen</p>",
               "language": "de", "starts_at": at(T0 + 864_000), "ends_at": at(T0 + 874_800),
               "timezone": "Europe/Berlin", "location_name": "Bonn, Haus 1",
               "latitude": 50.73, "longitude": 7.1}),
        json!({"kind": "event", "title": "Encontro online", "content": "<p>Online</p>",
               "starts_at": at(T0 + 1_728_000), "ends_at": at(T0 + 1_738_800),
               "timezone": "America/Sao_Paulo", "online_url": "https://meet.example.org/qgis"}),
        json!({"kind": "crowdfunding", "title": "Fund the docs", "content": "<p>Help</p>",
               "goal_amount": 5000, "currency": "BRL", "deadline": at(T0 + 8_640_000)}),
    ] {
        world.publish(body, json!({})).await;
        // Distinct publication instants, so the order is by time, not by id.
        world.app.clock.advance(60);
    }
}

db_test!(
    every_feed_format,
    fixed_world(),
    |app: common::TestApp| async move {
        let world = World::new(app).await;
        publish_one_of_each(&world).await;
        let app = &world.app;
        let qgis = app.get("/?json=1", None).await.expect(200).json();
        insta::assert_json_snapshot!("feed_qgis", qgis);
        let json_feed = app.get("/feed.json", None).await.expect(200).json();
        insta::assert_json_snapshot!("feed_json", json_feed);
        for (name, path) in [
            ("feed_rss", "/feed.rss"),
            ("feed_atom", "/feed.atom"),
            ("feed_ics", "/feed.ics"),
        ] {
            let text = app.get(path, None).await.expect(200).text.clone();
            insta::assert_snapshot!(name, text.replace("\r\n", "\n"));
        }
    }
);

// The request that produces each problem type, and the problem it gets.
db_test!(
    every_problem_type,
    fixed_world().config(|c| {
        c.login_attempts = 1;
        c.max_body_bytes = 1024;
    }),
    |app: common::TestApp| async move {
        let world = World::new(app).await;
        let app = &world.app;
        let draft = app.draft(&world.editor, "alpha", "Draft").await;
        let id = draft["id"].as_i64().expect("id");
        let raw = |method: &str, path: &str, content_type: &str, body: String| {
            let request = match method {
                "DELETE" => app.client.delete(path),
                _ => app.client.post(path),
            };
            request
                .header("authorization", format!("Bearer {}", world.admin))
                .content_type(content_type)
                .body(body)
                .send()
        };
        let mut problems = Vec::new();
        let bad_json = raw("POST", "/api/v1/entries", "application/json", "{".into()).await;
        problems.push(("bad-request", common::Reply::from(bad_json.0).await));
        problems.push(("unauthorized", app.get("/api/v1/me", None).await));
        problems.push((
            "forbidden",
            app.post(
                "/api/v1/groups",
                Some(&world.editor),
                json!({"slug": "x1", "name": "X"}),
            )
            .await,
        ));
        problems.push((
            "not-found",
            app.get("/api/v1/entries/999999", Some(&world.admin)).await,
        ));
        let delete_me = raw("DELETE", "/api/v1/me", "application/json", String::new()).await;
        problems.push(("method-not-allowed", common::Reply::from(delete_me.0).await));
        problems.push((
            "stale-version",
            app.patch(
                &format!("/api/v1/entries/{id}"),
                Some(&world.editor),
                json!({"version": 7, "title": "Late"}),
            )
            .await,
        ));
        // Deleting what was once published is not possible.
        let live = app
            .published(&world.editor, &world.moderator, "alpha", "Live")
            .await;
        problems.push((
            "invalid-transition",
            app.delete(&format!("/api/v1/entries/{live}"), Some(&world.editor))
                .await,
        ));
        problems.push((
            "duplicate",
            app.post(
                "/api/v1/groups",
                Some(&world.admin),
                json!({"slug": "alpha", "name": "Again"}),
            )
            .await,
        ));
        let admin_id = app.get("/api/v1/me", Some(&world.admin)).await.json()["id"].clone();
        problems.push((
            "conflict",
            app.patch(
                &format!("/api/v1/users/{admin_id}"),
                Some(&world.admin),
                json!({"role": "member"}),
            )
            .await,
        ));
        let large = raw(
            "POST",
            "/api/v1/entries",
            "application/json",
            "x".repeat(2048),
        )
        .await;
        problems.push(("payload-too-large", common::Reply::from(large.0).await));
        let text = raw("POST", "/api/v1/entries", "text/plain", "hello".into()).await;
        problems.push(("unsupported-media-type", common::Reply::from(text.0).await));
        problems.push((
            "validation",
            app.post(
                "/api/v1/entries",
                Some(&world.editor),
                json!({"group": "alpha", "kind": "announcement", "title": "", "content": "<p>x</p>"}),
            )
            .await,
        ));
        for _ in 0..2 {
            app.post(
                "/api/v1/auth/login",
                None,
                json!({"email": "editor@example.org", "password": "wrong password"}),
            )
            .await;
        }
        problems.push((
            "rate-limited",
            app.post(
                "/api/v1/auth/login",
                None,
                json!({"email": "editor@example.org", "password": "wrong password"}),
            )
            .await,
        ));
        app.patch(
            "/api/v1/groups/alpha",
            Some(&world.admin),
            json!({"status": "suspended"}),
        )
        .await
        .expect(200);
        problems.push((
            "group-inactive",
            app.post(
                "/api/v1/entries",
                Some(&world.editor),
                json!({"group": "alpha", "kind": "announcement", "title": "t", "content": "c"}),
            )
            .await,
        ));
        // A stored status outside the known set is a data error, never a silent default.
        app.state
            .services
            .db
            .execute_unprepared(&format!(
                "UPDATE entries SET status = 'bogus' WHERE id = {id}"
            ))
            .await
            .expect("corrupt a row");
        problems.push((
            "internal",
            app.get(&format!("/api/v1/entries/{id}"), Some(&world.editor))
                .await,
        ));

        for (slug, reply) in &problems {
            let status = reply.status.as_u16();
            let problem = reply.expect_problem(status, slug);
            insta::assert_json_snapshot!(format!("problem_{slug}"), problem);
        }
        // Every problem type has its snapshot: here, or (`unavailable`, which
        // needs a full password queue) in `unavailable_problem`.
        let mut pinned: Vec<&str> = problems.iter().map(|(slug, _)| *slug).collect();
        pinned.push("unavailable");
        pinned.sort_unstable();
        let mut all: Vec<&str> = ProblemType::ALL.iter().map(|kind| kind.slug()).collect();
        all.sort_unstable();
        assert_eq!(pinned, all, "a problem type without a snapshot");
        let (_, not_allowed) = &problems[4];
        assert_eq!(not_allowed.header("allow"), Some("GET, HEAD"));
        let (_, limited) = &problems[12];
        assert_eq!(problems[12].0, "rate-limited");
        assert!(limited.header("retry-after").is_some());
    }
);

db_test!(
    unavailable_problem,
    fixed_world().config(|c| c.password_queue = 0),
    |app: common::TestApp| async move {
        // More logins at once than hashes may run: some are turned away.
        let logins = (0..50).map(|n| {
            app.post(
                "/api/v1/auth/login",
                None,
                json!({"email": format!("u{n}@example.org"), "password": "guess"}),
            )
        });
        let replies = join_all(logins).await;
        let busy = replies
            .iter()
            .find(|reply| reply.status == 503)
            .expect("a login turned away");
        let problem = busy.expect_problem(503, "unavailable");
        insta::assert_json_snapshot!("problem_unavailable", problem);
    }
);
