//! Events are events: the publication window follows the entry, what is
//! over is refused, series expand in the venue's zone, and a group changes
//! its live event's status and occurrences without a new review.

use newsfeed::clock::Clock;
use serde_json::{Value, json};

use crate::common::{self, TestApp, World};

/// 2030-03-17T17:46:40Z, a Sunday.
const START: i64 = 1_900_000_000;
const HOUR: i64 = 3600;
const DAY: i64 = 86_400;

fn at(seconds: i64) -> String {
    chrono::DateTime::from_timestamp(seconds, 0)
        .unwrap()
        .to_rfc3339()
}

fn instant(value: &Value) -> i64 {
    chrono::DateTime::parse_from_rfc3339(value.as_str().unwrap_or_else(|| panic!("{value}")))
        .unwrap()
        .timestamp()
}

fn on_a_manual_clock() -> common::TestAppBuilder {
    World::builder().clock(Clock::manual(START))
}

/// An event in `alpha` from `starts` for two hours, with `extra` fields.
fn event(starts: i64, extra: Value) -> Value {
    let mut body = json!({"kind": "event", "title": "QGIS day",
        "starts_at": at(starts), "ends_at": at(starts + 2 * HOUR),
        "timezone": "Europe/Zurich", "location_name": "Zurich"});
    for (key, value) in extra.as_object().unwrap() {
        body[key] = value.clone();
    }
    body
}

async fn entry(world: &World, id: i64) -> Value {
    world
        .app
        .get(&format!("/api/v1/entries/{id}"), Some(&world.editor))
        .await
        .expect(200)
        .json()
}

/// The QGIS array (`json=1` answers like a current QGIS).
async fn qgis(app: &TestApp) -> Vec<Value> {
    let reply = app.get("/?json=1", None).await;
    reply.expect(200);
    reply.json().as_array().unwrap().clone()
}

async fn draft(world: &World, body: Value) -> i64 {
    let mut body = body;
    body["group"] = json!("alpha");
    body["content"] = json!("<p>Come along</p>");
    if body.get("kind").is_none() {
        body["kind"] = json!("announcement");
        body["title"] = json!("News");
    }
    world
        .app
        .post("/api/v1/entries", Some(&world.editor), body)
        .await
        .expect(201)
        .json()["id"]
        .as_i64()
        .unwrap()
}

async fn submit(world: &World, id: i64) -> common::Reply {
    world
        .app
        .post(
            &format!("/api/v1/entries/{id}/submit"),
            Some(&world.editor),
            json!({}),
        )
        .await
}

async fn approve(world: &World, id: i64, approval: Value) -> common::Reply {
    world
        .app
        .post(
            &format!("/api/v1/moderation/entries/{id}/approve"),
            Some(&world.moderator),
            approval,
        )
        .await
}

db_test!(
    the_window_follows_the_entry,
    on_a_manual_clock(),
    |app: TestApp| async move {
        let world = World::new(app).await;
        // An event six months ahead is published until it ends, not for ten days.
        let starts = START + 200 * DAY;
        let id = world.publish(event(starts, json!({})), json!({})).await;
        let published = entry(&world, id).await;
        assert_eq!(
            published["publish_to"],
            Value::Null,
            "the stored end stays unset"
        );
        assert_eq!(instant(&published["published_until"]), starts + 2 * HOUR);
        assert_eq!(published["publication"], "live");
        assert_eq!(published["live"], true);
        let item = qgis(&world.app)
            .await
            .into_iter()
            .find(|item| item["pk"] == id)
            .expect("in QGIS");
        assert_eq!(
            item["publish_to"].as_f64(),
            Some((starts + 2 * HOUR) as f64)
        );

        // An editor may end earlier, never later than the event.
        let later = world
            .publish(
                event(starts, json!({"publish_to": at(starts + 30 * DAY)})),
                json!({}),
            )
            .await;
        assert_eq!(
            instant(&entry(&world, later).await["published_until"]),
            starts + 2 * HOUR
        );
        let earlier = world
            .publish(
                event(starts, json!({"publish_to": at(START + 5 * DAY)})),
                json!({}),
            )
            .await;
        assert_eq!(
            instant(&entry(&world, earlier).await["published_until"]),
            START + 5 * DAY
        );
        // A moderator's end at approval is held to the event's end too.
        let moderated = world
            .publish(
                event(starts, json!({})),
                json!({"publish_to": at(starts + 9 * DAY)}),
            )
            .await;
        assert_eq!(
            instant(&entry(&world, moderated).await["published_until"]),
            starts + 2 * HOUR
        );
        // A window that would open after the event ended publishes nothing.
        let too_late = draft(
            &world,
            event(starts, json!({"publish_from": at(starts + 3 * HOUR)})),
        )
        .await;
        submit(&world, too_late).await.expect(200);
        approve(&world, too_late, json!({}))
            .await
            .expect_field_error("publish_from");
        // Without an end, an event lasts --event-default-hours (2).
        let open = world
            .publish(event(starts, json!({"ends_at": null})), json!({}))
            .await;
        assert_eq!(
            instant(&entry(&world, open).await["published_until"]),
            starts + 2 * HOUR
        );

        // Announcements: --announcement-days (10) from approval; campaigns: the deadline.
        let news = world.publish(json!({}), json!({})).await;
        assert_eq!(
            instant(&entry(&world, news).await["published_until"]),
            START + 10 * DAY
        );
        let campaign = world
            .publish(
                json!({"kind": "crowdfunding", "goal_amount": 5000.0, "currency": "EUR",
                       "deadline": at(START + 40 * DAY)}),
                json!({}),
            )
            .await;
        assert_eq!(
            instant(&entry(&world, campaign).await["published_until"]),
            START + 40 * DAY
        );

        // A window that opens later is upcoming, not live.
        let scheduled = world
            .publish(json!({"publish_from": at(START + DAY)}), json!({}))
            .await;
        let scheduled = entry(&world, scheduled).await;
        assert_eq!(scheduled["publication"], "upcoming");
        assert_eq!(scheduled["live"], false);
        assert_eq!(instant(&scheduled["published_until"]), START + 11 * DAY);
    }
);

db_test!(
    announcements_last_the_configured_days,
    on_a_manual_clock().config(|config| config.announcement_days = 3),
    |app: TestApp| async move {
        let world = World::new(app).await;
        let news = world.publish(json!({}), json!({})).await;
        assert_eq!(
            instant(&entry(&world, news).await["published_until"]),
            START + 3 * DAY
        );
    }
);

db_test!(
    what_is_over_is_refused_and_what_runs_is_not,
    on_a_manual_clock(),
    |app: TestApp| async move {
        let world = World::new(app).await;
        // Ended two days ago: it may be written down, not sent out.
        let ended = draft(&world, event(START - 2 * DAY, json!({}))).await;
        submit(&world, ended).await.expect_field_error("ends_at");
        // Running now (started an hour ago): it may go out.
        let running = draft(&world, event(START - HOUR, json!({}))).await;
        submit(&world, running).await.expect(200);
        approve(&world, running, json!({})).await.expect(200);
        assert_eq!(entry(&world, running).await["live"], true);
        // A campaign whose deadline passed.
        let campaign = draft(
            &world,
            json!({"kind": "crowdfunding", "title": "Fund it", "goal_amount": 10.0,
                   "currency": "EUR", "deadline": at(START - 1)}),
        )
        .await;
        submit(&world, campaign)
            .await
            .expect_field_error("deadline");
        // Submitted while upcoming, over by the time a moderator looks.
        let late = draft(&world, event(START + HOUR, json!({}))).await;
        submit(&world, late).await.expect(200);
        world.app.clock.advance(4 * HOUR);
        let refused = approve(&world, late, json!({})).await;
        let problem = refused.expect_field_error("ends_at");
        assert!(
            problem["detail"].as_str().unwrap().contains("past events"),
            "{problem}"
        );
        assert_eq!(entry(&world, late).await["status"], "pending");
    }
);

db_test!(
    an_event_leaves_the_feeds_by_itself_when_it_ends,
    on_a_manual_clock(),
    |app: TestApp| async move {
        let world = World::new(app).await;
        let id = world
            .publish(event(START + HOUR, json!({})), json!({}))
            .await;
        assert!(qgis(&world.app).await.iter().any(|item| item["pk"] == id));
        world.app.clock.advance(4 * HOUR);
        // The snapshot's scheduler rebuilds at the event's end: no request triggers it.
        let mut gone = false;
        for _ in 0..100 {
            if !qgis(&world.app).await.iter().any(|item| item["pk"] == id) {
                gone = true;
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        assert!(gone, "the ended event left the QGIS answer");
        let ended = entry(&world, id).await;
        assert_eq!(ended["publication"], "ended");
        assert_eq!(ended["live"], false);
        assert_eq!(ended["status"], "approved");
    }
);

/// A monthly meetup on the 3rd Thursday at 18:30 in Zurich, four times
/// from 18 April 2030 (CEST, UTC+2).
fn third_thursdays() -> Value {
    json!({"kind": "meetup", "title": "QGIS Stammtisch",
           "starts_at": "2030-04-18T16:30:00Z", "ends_at": "2030-04-18T18:30:00Z",
           "timezone": "Europe/Zurich", "location_name": "Zurich",
           "recurrence": "freq=monthly;byday=3th;count=4"})
}

async fn change(world: &World, id: i64, body: Value) -> common::Reply {
    let version = entry(world, id).await["version"].clone();
    let mut body = body;
    body["version"] = version;
    world
        .app
        .post(
            &format!("/api/v1/entries/{id}/live-changes"),
            Some(&world.editor),
            body,
        )
        .await
}

db_test!(
    a_series_runs_to_its_last_occurrence_and_changes_without_review,
    on_a_manual_clock(),
    |app: TestApp| async move {
        let world = World::new(app).await;
        let id = world.publish(third_thursdays(), json!({})).await;
        let series = entry(&world, id).await;
        assert_eq!(series["recurrence"], "FREQ=MONTHLY;BYDAY=3TH;COUNT=4");
        assert_eq!(series["next_occurrence"], "2030-04-18T16:30:00+00:00");
        // Published until the last occurrence (18 July) ends.
        assert_eq!(series["published_until"], "2030-07-18T18:30:00+00:00");
        let sequence_before = series["version"].as_i64().unwrap();

        // The group cancels the first occurrence and moves the third: no review.
        let changed = change(
            &world,
            id,
            json!({"exdates": ["2030-04-18T18:30"],
                   "moved_occurrences": {"2030-06-20T18:30": "2030-06-27T19:00"}}),
        )
        .await;
        changed.expect(200);
        let changed = changed.json();
        assert_eq!(changed["status"], "approved");
        assert_eq!(changed["live"], true);
        assert_eq!(changed["next_occurrence"], "2030-05-16T16:30:00+00:00");
        assert!(changed["version"].as_i64().unwrap() > sequence_before);
        // Cancelling the last one moves the end of the window to the moved one's end.
        let shortened = change(
            &world,
            id,
            json!({"exdates": ["2030-04-18T18:30", "2030-07-18T18:30"]}),
        )
        .await;
        assert_eq!(
            shortened.expect(200).json()["published_until"],
            "2030-06-27T19:00:00+00:00"
        );
        // The history says who changed what.
        let history = world
            .app
            .get(
                &format!("/api/v1/entries/{id}/history"),
                Some(&world.editor),
            )
            .await
            .expect(200)
            .json();
        let updates: Vec<&Value> = history
            .as_array()
            .unwrap()
            .iter()
            .filter(|line| line["action"] == "update")
            .collect();
        assert_eq!(updates.len(), 2, "{history}");
        assert!(updates[0]["changes"]["exdates"].is_array(), "{history}");

        // What is not an occurrence is named.
        change(&world, id, json!({"exdates": ["2030-04-19T18:30"]}))
            .await
            .expect_field_error("exdates");
        // Editing anything else still goes through review.
        change(&world, id, json!({"title": "Renamed"}))
            .await
            .expect_problem(400, "bad-request");
    }
);

db_test!(
    a_series_must_end_and_start_on_its_rule,
    on_a_manual_clock(),
    |app: TestApp| async move {
        let world = World::new(app).await;
        let mut unbounded = third_thursdays();
        unbounded["recurrence"] = json!("FREQ=MONTHLY;BYDAY=3TH");
        unbounded["group"] = json!("alpha");
        unbounded["content"] = json!("<p>x</p>");
        let problem = world
            .app
            .post("/api/v1/entries", Some(&world.editor), unbounded.clone())
            .await
            .expect_field_error("recurrence");
        assert!(
            problem["detail"].as_str().unwrap().contains("COUNT"),
            "{problem}"
        );
        unbounded["recurrence"] = json!("FREQ=WEEKLY;COUNT=200");
        let problem = world
            .app
            .post("/api/v1/entries", Some(&world.editor), unbounded.clone())
            .await
            .expect_field_error("recurrence");
        assert!(
            problem["detail"].as_str().unwrap().contains("2 years"),
            "{problem}"
        );
        // 17 April 2030 is a Wednesday, not a 3rd Thursday.
        unbounded["recurrence"] = json!("FREQ=MONTHLY;BYDAY=3TH;COUNT=3");
        unbounded["starts_at"] = json!("2030-04-17T16:30:00Z");
        unbounded["ends_at"] = json!("2030-04-17T18:30:00Z");
        world
            .app
            .post("/api/v1/entries", Some(&world.editor), unbounded)
            .await
            .expect_field_error("recurrence");
    }
);

db_test!(
    a_group_cancels_its_live_event_without_review,
    on_a_manual_clock(),
    |app: TestApp| async move {
        let world = World::new(app).await;
        let id = world
            .publish(event(START + 20 * DAY, json!({})), json!({}))
            .await;
        let path = format!("/api/v1/entries/{id}/event-status");
        let version = entry(&world, id).await["version"].clone();
        // Only its group, only with the current version, only known statuses.
        world
            .app
            .post(
                &path,
                Some(&world.other_editor),
                json!({"event_status": "cancelled", "version": version}),
            )
            .await
            .expect_problem(404, "not-found");
        world
            .app
            .post(
                &path,
                Some(&world.editor),
                json!({"event_status": "cancelled", "version": 1}),
            )
            .await
            .expect_problem(409, "stale-version");
        world
            .app
            .post(
                &path,
                Some(&world.editor),
                json!({"event_status": "gone", "version": version}),
            )
            .await
            .expect_field_error("event_status");

        let cancelled = world
            .app
            .post(
                &path,
                Some(&world.editor),
                json!({"event_status": "cancelled", "version": version}),
            )
            .await;
        let cancelled = cancelled.expect(200).json();
        assert_eq!(cancelled["event_status"], "cancelled");
        assert_eq!(cancelled["status"], "approved", "no new review");
        // It stays in the feeds until its original end, so people learn of it.
        assert_eq!(cancelled["live"], true);
        let item = qgis(&world.app)
            .await
            .into_iter()
            .find(|item| item["pk"] == id)
            .expect("still in QGIS");
        assert_eq!(item["title"], "Cancelled: QGIS day");

        // A draft has nothing published to change.
        let draft_id = draft(&world, event(START + 20 * DAY, json!({}))).await;
        world
            .app
            .post(
                &format!("/api/v1/entries/{draft_id}/event-status"),
                Some(&world.editor),
                json!({"event_status": "cancelled", "version": 1}),
            )
            .await
            .expect_problem(409, "invalid-transition");
    }
);

db_test!(
    a_campaign_reports_what_it_raised_without_review,
    on_a_manual_clock(),
    |app: TestApp| async move {
        let world = World::new(app).await;
        let id = world
            .publish(
                json!({"kind": "crowdfunding", "goal_amount": 5000.0, "currency": "EUR",
                       "deadline": at(START + 40 * DAY)}),
                json!({}),
            )
            .await;
        let raised = change(&world, id, json!({"raised_amount": 1250.5})).await;
        assert_eq!(raised.expect(200).json()["raised_amount"], 1250.5);
        let item = qgis(&world.app)
            .await
            .into_iter()
            .find(|item| item["pk"] == id)
            .expect("in QGIS");
        assert!(
            item["content"]
                .as_str()
                .unwrap()
                .contains("1250.5 of 5000 EUR raised"),
            "{item}"
        );
        change(&world, id, json!({"raised_amount": -3.0}))
            .await
            .expect_field_error("raised_amount");
        let news = world.publish(json!({}), json!({})).await;
        change(&world, news, json!({"raised_amount": 3.0}))
            .await
            .expect_field_error("raised_amount");
    }
);

db_test!(
    new_dates_give_a_new_window_once_approved,
    on_a_manual_clock(),
    |app: TestApp| async move {
        let world = World::new(app).await;
        let starts = START + 30 * DAY;
        let id = world.publish(event(starts, json!({})), json!({})).await;
        let version = entry(&world, id).await["version"].clone();
        world
            .app
            .patch(
                &format!("/api/v1/entries/{id}"),
                Some(&world.editor),
                json!({"version": version, "starts_at": at(starts + 7 * DAY),
                       "ends_at": at(starts + 7 * DAY + 3 * HOUR)}),
            )
            .await
            .expect(200);
        // In review, the approved dates stay published.
        let pending = entry(&world, id).await;
        assert_eq!(pending["status"], "pending");
        assert_eq!(instant(&pending["published_until"]), starts + 2 * HOUR);
        approve(&world, id, json!({})).await.expect(200);
        assert_eq!(
            instant(&entry(&world, id).await["published_until"]),
            starts + 7 * DAY + 3 * HOUR
        );
    }
);
