//! The calendars as calendar apps read them: series expanded by an
//! independent parser (Python `icalendar` with `recurring-ical-events`) and
//! compared with what the service says, time zones with their VTIMEZONE,
//! a cancellation reaching every format, and ended events kept a while.

use chrono::TimeZone;
use chrono_tz::Tz;
use newsfeed::clock::Clock;
use serde_json::{Value, json};

use crate::common::{self, World, python_reads};
use crate::feeds::support::{NEW_QGIS, event, fetch, publish, qgis, rfc3339};

/// Expands every VEVENT of the calendar on stdin over all time and prints
/// each occurrence, in start order, with what a calendar app shows of it.
/// Each VTIMEZONE is also read as a zone of its own (not looked up by
/// name) and the offset it gives at each start printed beside the offset
/// the time zone database gives, so a wrong VTIMEZONE shows.
const EXPAND: &str = r#"
import sys, json, datetime, zoneinfo, icalendar, recurring_ical_events
calendar = icalendar.Calendar.from_ical(sys.stdin.buffer.read())
ours = {tz["TZID"]: tz.to_tz(lookup_tzid=False) for tz in calendar.walk("VTIMEZONE")}
utc = datetime.timezone.utc
out = []
for event in recurring_ical_events.of(calendar).between(
        datetime.datetime(2000, 1, 1, tzinfo=utc), datetime.datetime(2100, 1, 1, tzinfo=utc)):
    start, end = event["DTSTART"].dt, event["DTEND"].dt
    tzid = event["DTSTART"].params.get("TZID")
    offsets = None
    if tzid:
        local = start.replace(tzinfo=None)
        offsets = [local.replace(tzinfo=ours[tzid]).utcoffset().total_seconds(),
                   local.replace(tzinfo=zoneinfo.ZoneInfo(tzid)).utcoffset().total_seconds()]
    out.append({
        "uid": str(event["UID"]),
        "start": int(start.timestamp()),
        "end": int(end.timestamp()),
        "local": start.strftime("%Y-%m-%dT%H:%M"),
        "tzid": tzid,
        "offsets": offsets,
        "status": str(event.get("STATUS")),
        "sequence": int(event.get("SEQUENCE", 0)),
        "summary": str(event.get("SUMMARY")),
        "location": str(event.get("LOCATION")),
        "conference": [str(c) for c in (event.get("CONFERENCE") if isinstance(event.get("CONFERENCE"), list) else [event.get("CONFERENCE")] if event.get("CONFERENCE") else [])],
    })
out.sort(key=lambda o: (o["start"], o["uid"]))
print(json.dumps({"occurrences": out, "vtimezones": sorted(ours)}))
"#;

/// The occurrences an independent parser reads from the calendar at `path`.
async fn expanded(app: &common::TestApp, path: &str) -> Value {
    let reply = fetch(app, path, &[]).await;
    reply.expect(200);
    assert_eq!(
        reply.header("content-type"),
        Some("text/calendar; charset=utf-8"),
        "{path}"
    );
    python_reads(EXPAND, reply.text.as_bytes())
}

/// `local` (`YYYY-MM-DDTHH:MM`) in `zone`, as unix seconds.
fn at(zone: Tz, local: &str) -> i64 {
    let naive = chrono::NaiveDateTime::parse_from_str(local, "%Y-%m-%dT%H:%M").unwrap();
    zone.from_local_datetime(&naive)
        .single()
        .unwrap()
        .timestamp()
}

/// Occurrences of entry `id` in what [`EXPAND`] printed: (start, end) in UTC.
fn of_entry(parsed: &Value, id: i64) -> Vec<(i64, i64)> {
    parsed["occurrences"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["uid"] == format!("entry-{id}@127.0.0.1"))
        .map(|o| (o["start"].as_i64().unwrap(), o["end"].as_i64().unwrap()))
        .collect()
}

/// Every occurrence's offset as our VTIMEZONE gives it equals the time
/// zone database's.
fn check_offsets(parsed: &Value) {
    for occurrence in parsed["occurrences"].as_array().unwrap() {
        if let Some(offsets) = occurrence["offsets"].as_array() {
            assert_eq!(offsets[0], offsets[1], "VTIMEZONE offset: {occurrence}");
        }
    }
}

/// Publishes a series in `alpha` and returns its id.
async fn series(world: &World, title: &str, fields: Value) -> i64 {
    let mut body = json!({"kind": "meetup", "title": title, "content": "<p>Monthly</p>",
                          "location_name": "ETH Zürich, HG E 1.1",
                          "url": "https://example.org/meetup"});
    for (key, value) in fields.as_object().unwrap() {
        body[key] = value.clone();
    }
    publish(world, body, json!({})).await
}

db_test!(
    a_monthly_series_with_one_cancelled_and_one_moved_expands_alike,
    |app: common::TestApp| async move {
        let world = World::new(app).await;
        let app = &world.app;
        let zurich: Tz = "Europe/Zurich".parse().unwrap();
        // The 3rd Thursdays of January to June 2030; clocks change on 31 March.
        let rule_dates = [
            "2030-01-17T18:30",
            "2030-02-21T18:30",
            "2030-03-21T18:30",
            "2030-04-18T18:30",
            "2030-05-16T18:30",
            "2030-06-20T18:30",
        ];
        let length = 2 * 3600;
        let first = at(zurich, rule_dates[0]);
        let id = series(
            &world,
            "QGIS-Treff",
            json!({"starts_at": rfc3339(first), "ends_at": rfc3339(first + length),
                   "timezone": "Europe/Zurich", "attendance": "hybrid",
                   "online_url": "https://meet.example.org/qgis-treff",
                   "recurrence": "FREQ=MONTHLY;BYDAY=3TH;COUNT=6",
                   "exdates": ["2030-02-21T18:30"],
                   "moved_occurrences": {"2030-04-18T18:30": "2030-04-25T19:00"}}),
        )
        .await;
        let mut expected: Vec<(i64, i64)> = rule_dates
            .iter()
            .filter(|local| **local != "2030-02-21T18:30")
            .map(|local| match *local {
                "2030-04-18T18:30" => at(zurich, "2030-04-25T19:00"),
                other => at(zurich, other),
            })
            .map(|start| (start, start + length))
            .collect();
        expected.sort_unstable();
        assert_eq!(expected.len(), 5);

        // What the API says comes next is the first of them.
        let entry = app
            .get(&format!("/api/v1/entries/{id}"), Some(&world.editor))
            .await
            .expect(200)
            .json();
        assert_eq!(entry["next_occurrence"], json!(rfc3339(expected[0].0)));

        for path in [
            "/feed.ics".to_string(),
            "/groups/alpha/feed.ics".into(),
            format!("/entries/{id}.ics"),
        ] {
            let parsed = expanded(app, &path).await;
            assert_eq!(of_entry(&parsed, id), expected, "{path}: {parsed}");
            assert_eq!(parsed["vtimezones"], json!(["Europe/Zurich"]), "{path}");
            check_offsets(&parsed);
            let occurrences = parsed["occurrences"].as_array().unwrap();
            assert!(
                occurrences
                    .iter()
                    .all(|o| o["tzid"] == "Europe/Zurich" && o["status"] == "CONFIRMED"),
                "{path}: {parsed}"
            );
            // Wall-clock time holds across the change to summer time.
            let locals: Vec<&str> = occurrences
                .iter()
                .map(|o| o["local"].as_str().unwrap())
                .collect();
            assert_eq!(
                locals,
                [
                    "2030-01-17T18:30",
                    "2030-03-21T18:30",
                    "2030-04-25T19:00",
                    "2030-05-16T18:30",
                    "2030-06-20T18:30"
                ],
                "{path}"
            );
            assert!(
                occurrences.iter().all(|o| {
                    o["location"] == "ETH Zürich, HG E 1.1"
                        && o["conference"] == json!(["https://meet.example.org/qgis-treff"])
                }),
                "{path}: {parsed}"
            );
        }

        // One VEVENT with the rule, one for the moved occurrence.
        let text = fetch(app, &format!("/entries/{id}.ics"), &[]).await.text;
        assert_eq!(text.matches("BEGIN:VEVENT\r\n").count(), 2, "{text}");
        assert_eq!(text.matches("\r\nRRULE:").count(), 1, "{text}");
        for line in [
            "DTSTART;TZID=Europe/Zurich:20300117T183000",
            "DTEND;TZID=Europe/Zurich:20300117T203000",
            "RRULE:FREQ=MONTHLY;BYDAY=3TH;COUNT=6",
            "EXDATE;TZID=Europe/Zurich:20300221T183000",
            "RECURRENCE-ID;TZID=Europe/Zurich:20300418T183000",
            "DTSTART;TZID=Europe/Zurich:20300425T190000",
            "CONFERENCE;VALUE=URI;FEATURE=VIDEO:https://meet.example.org/qgis-treff",
            "TZID:Europe/Zurich",
        ] {
            assert!(text.contains(&format!("\r\n{line}\r\n")), "{line}:\n{text}");
        }
        assert_eq!(text.matches("BEGIN:VTIMEZONE").count(), 1, "{text}");
        // The JSON Feed says the same.
        let feed = fetch(app, "/feed.json", &[]).await.json();
        let extension = &feed["items"][0]["_newsfeed"];
        assert_eq!(extension["recurrence"], "FREQ=MONTHLY;BYDAY=3TH;COUNT=6");
        assert_eq!(extension["next_occurrence"], json!(rfc3339(expected[0].0)));
        assert_eq!(extension["attendance"], "hybrid");
        assert_eq!(extension["event_status"], "confirmed");
        assert_eq!(extension["sequence"], 1);
    }
);

db_test!(
    a_weekly_series_keeps_its_hour_when_sydney_leaves_summer_time,
    |app: common::TestApp| async move {
        let world = World::new(app).await;
        let app = &world.app;
        let sydney: Tz = "Australia/Sydney".parse().unwrap();
        // Sydney leaves summer time on Sunday 7 April 2030.
        let locals = [
            "2030-03-21T18:30",
            "2030-03-28T18:30",
            "2030-04-04T18:30",
            "2030-04-11T18:30",
            "2030-04-18T18:30",
            "2030-04-25T18:30",
        ];
        let first = at(sydney, locals[0]);
        let id = series(
            &world,
            "Sydney QGIS",
            json!({"starts_at": rfc3339(first), "timezone": "Australia/Sydney",
                   "recurrence": "FREQ=WEEKLY;BYDAY=TH;COUNT=6"}),
        )
        .await;
        // Without an end, each lasts the default length.
        let length = i64::from(app.state.config.event_default_hours) * 3600;
        let expected: Vec<(i64, i64)> = locals
            .iter()
            .map(|local| (at(sydney, local), at(sydney, local) + length))
            .collect();
        let gaps: std::collections::BTreeSet<i64> =
            expected.windows(2).map(|w| w[1].0 - w[0].0).collect();
        assert_eq!(gaps.len(), 2, "one week is an hour longer");
        let parsed = expanded(app, "/feed.ics").await;
        assert_eq!(of_entry(&parsed, id), expected, "{parsed}");
        check_offsets(&parsed);
        assert_eq!(parsed["vtimezones"], json!(["Australia/Sydney"]));
        let text = fetch(app, "/feed.ics", &[]).await.text;
        // The VTIMEZONE has the start's offset and the change within the series.
        for line in [
            "TZOFFSETFROM:+1100",
            "TZOFFSETTO:+1000",
            "TZNAME:AEST",
            "DTSTART:20300407T030000",
        ] {
            assert!(text.contains(&format!("\r\n{line}\r\n")), "{line}:\n{text}");
        }
    }
);

db_test!(
    a_cancellation_without_review_reaches_every_format,
    |app: common::TestApp| async move {
        let world = World::new(app).await;
        let app = &world.app;
        let id = event(&world, "Map night", 86_400).await;
        let sequence_of = |text: &str| -> i64 {
            text.split("\r\n")
                .find_map(|line| line.strip_prefix("SEQUENCE:"))
                .unwrap_or_else(|| panic!("no SEQUENCE in {text}"))
                .parse()
                .unwrap()
        };
        let before = fetch(app, &format!("/entries/{id}.ics"), &[]).await.text;
        assert!(before.contains("\r\nSTATUS:CONFIRMED\r\n"), "{before}");
        let version = app
            .get(&format!("/api/v1/entries/{id}"), Some(&world.editor))
            .await
            .expect(200)
            .json()["version"]
            .clone();
        app.post(
            &format!("/api/v1/entries/{id}/event-status"),
            Some(&world.editor),
            json!({"event_status": "cancelled", "version": version}),
        )
        .await
        .expect(200);

        let items = qgis(app, "/", NEW_QGIS).await;
        let title = items[0]["title"].as_str().unwrap();
        assert!(title.starts_with("Cancelled: "), "QGIS: {title}");
        for path in ["/feed.rss", "/feed.atom", "/feed.json"] {
            let text = fetch(app, path, &[]).await.expect(200).text.clone();
            let feed = feed_rs::parser::parse(text.as_bytes()).unwrap();
            let title = &feed.entries[0].title.as_ref().unwrap().content;
            assert_eq!(title, "Cancelled: Map night", "{path}");
        }
        let feed = fetch(app, "/feed.json", &[]).await.json();
        assert_eq!(feed["items"][0]["_newsfeed"]["event_status"], "cancelled");
        for path in [format!("/entries/{id}.ics"), "/feed.ics".into()] {
            let after = fetch(app, &path, &[]).await.text;
            assert!(
                after.contains("\r\nSTATUS:CANCELLED\r\n"),
                "{path}: {after}"
            );
            assert!(
                sequence_of(&after) > sequence_of(&before),
                "{path}: {after}"
            );
            let parsed = python_reads(EXPAND, after.as_bytes());
            let occurrence = &parsed["occurrences"][0];
            assert_eq!(occurrence["status"], "CANCELLED", "{path}");
            assert_eq!(occurrence["summary"], "Cancelled: Map night", "{path}");
        }
    }
);

const START: i64 = 1_900_000_000;

db_test!(
    ended_events_stay_in_calendars_for_ninety_days,
    World::builder().clock(Clock::manual(START)),
    |app: common::TestApp| async move {
        let world = World::new(app).await;
        let app = &world.app;
        let starts = START + 86_400;
        let id = publish(
            &world,
            json!({"kind": "event", "title": "Past soon", "starts_at": rfc3339(starts),
                   "ends_at": rfc3339(starts + 7200), "timezone": "Europe/Berlin"}),
            json!({}),
        )
        .await;
        let in_calendar = |text: &str| text.contains(&format!("UID:entry-{id}@"));
        // Ten days after its end: out of QGIS and the news feeds, still in calendars.
        app.clock.advance(86_400 + 7200 + 10 * 86_400);
        app.state.feeds.refresh().await.unwrap();
        assert!(qgis(app, "/", NEW_QGIS).await.is_empty());
        let news = fetch(app, "/feed.json", &[]).await.json();
        assert_eq!(news["items"], json!([]));
        for path in [
            "/feed.ics".to_string(),
            "/groups/alpha/feed.ics".into(),
            format!("/entries/{id}.ics"),
        ] {
            let text = fetch(app, &path, &[]).await.expect(200).text.clone();
            assert!(in_calendar(&text), "{path}: {text}");
            assert!(text.contains("\r\nSTATUS:CONFIRMED\r\n"), "{path}");
        }
        // Past ninety days it is gone (and the snapshot rebuilt by itself).
        app.clock.advance(80 * 86_400);
        app.state.feeds.refresh().await.unwrap();
        let text = fetch(app, "/feed.ics", &[]).await.expect(200).text.clone();
        assert!(!in_calendar(&text), "{text}");
        fetch(app, &format!("/entries/{id}.ics"), &[])
            .await
            .expect_problem(404, "not-found");
    }
);

db_test!(
    one_entry_calendar_is_a_file_and_only_for_published_events,
    World::builder().config(|config| config.feed_max_items = 1),
    |app: common::TestApp| async move {
        let world = World::new(app).await;
        let app = &world.app;
        let first = event(&world, "First", 86_400).await;
        let second = event(&world, "Second", 2 * 86_400).await;
        let news = publish(&world, json!({"title": "News"}), json!({})).await;
        let draft = app.draft(&world.editor, "alpha", "Draft").await["id"]
            .as_i64()
            .unwrap();

        let reply = fetch(app, &format!("/entries/{first}.ics"), &[]).await;
        reply.expect(200);
        assert_eq!(
            reply.header("content-type"),
            Some("text/calendar; charset=utf-8")
        );
        assert_eq!(
            reply.header("content-disposition"),
            Some(format!("attachment; filename=\"entry-{first}.ics\"").as_str())
        );
        assert_eq!(reply.text.matches("BEGIN:VEVENT").count(), 1);
        assert!(reply.text.contains("\r\nSUMMARY:First\r\n"));
        let etag = reply.header("etag").unwrap().to_string();
        let again = fetch(
            app,
            &format!("/entries/{first}.ics"),
            &[("if-none-match", &etag)],
        )
        .await;
        again.expect(304);

        // The calendars are not capped like the news feeds.
        let calendar = fetch(app, "/feed.ics", &[]).await.text;
        for id in [first, second] {
            assert!(calendar.contains(&format!("UID:entry-{id}@")), "{calendar}");
        }
        assert_eq!(
            fetch(app, "/feed.json", &[]).await.json()["items"]
                .as_array()
                .unwrap()
                .len(),
            1
        );

        for id in [news, draft, 999_999, i64::MAX] {
            fetch(app, &format!("/entries/{id}.ics"), &[])
                .await
                .expect_problem(404, "not-found");
        }
        // Beyond an i64, and not a number: still not found, never a 500.
        for path in ["/entries/99999999999999999999.ics", "/entries/x1.ics"] {
            let reply = fetch(app, path, &[]).await;
            assert_eq!(reply.status.as_u16(), 404, "{path}");
        }
        // Retracted: the feeds say cancelled, the entry's own file is gone.
        crate::feeds::support::unpublish(&world, first).await;
        fetch(app, &format!("/entries/{first}.ics"), &[])
            .await
            .expect_problem(404, "not-found");
        let calendar = fetch(app, "/feed.ics", &[]).await.text;
        assert!(calendar.contains("\r\nSTATUS:CANCELLED\r\n"), "{calendar}");
    }
);
