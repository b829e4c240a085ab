//! What a subscription brings in, and how it follows its source.

use serde_json::json;

use super::*;

db_test!(
    meetup_and_nextcloud_events_arrive_in_the_queue,
    world_at(NOW, false),
    |app| async move {
        let world = World::new(app).await;
        let server = CalendarServer::start().await;
        server.put("meetup", &fixture("meetup.ics"));
        server.put("nextcloud", &fixture("nextcloud.ics"));
        let meetup = subscribed(&world, &server.url("/cal/meetup")).await;
        let run = sync(&world, meetup).await;
        assert_eq!(
            (run["fetched"].as_bool(), run["new"].as_i64()),
            (Some(true), Some(2)),
            "{run}"
        );
        assert_eq!(run["errors"], "");
        let nextcloud = subscribed(&world, &server.url("/cal/nextcloud")).await;
        let run = sync(&world, nextcloud).await;
        assert_eq!(run["new"], 3, "{run}");
        assert!(
            run["errors"]
                .as_str()
                .unwrap()
                .contains("only its first occurrence is kept"),
            "{run}"
        );

        let found = entries(&world.app, &world.owner).await;
        let stammtisch = &found["QGIS Stammtisch Zürich"];
        assert_eq!(stammtisch["status"], "pending");
        assert_eq!(stammtisch["kind"], "meetup");
        assert_eq!(stammtisch["timezone"], "Europe/Zurich");
        assert_eq!(stammtisch["starts_at"], "2027-02-18T17:30:00+00:00");
        assert_eq!(
            stammtisch["url"],
            "https://www.meetup.com/qgis-ch/events/301/"
        );
        assert_eq!(
            stammtisch["location_name"],
            "Restaurant Zum Beispiel (Bahnhofstrasse 1, Zürich, Switzerland)"
        );
        let content = stammtisch["content"].as_str().unwrap();
        assert!(
            content.contains("Bring your maps &amp; questions: &lt;b&gt;everyone"),
            "{content}"
        );
        let series = &found["QGIS meetup (online)"];
        assert_eq!(series["recurrence"], "FREQ=MONTHLY;BYDAY=3TH;COUNT=6");
        assert_eq!(series["exdates"], json!(["2027-05-20T19:00"]));
        assert_eq!(series["timezone"], "Europe/Brussels");
        assert_eq!(found["Field trip"]["event_status"], "cancelled");
        assert!(found["Daily mapathon"]["recurrence"].is_null());

        let queue = world
            .app
            .get(
                "/api/v1/moderation/queue?group=alpha",
                Some(&world.moderator),
            )
            .await
            .expect(200)
            .json();
        assert_eq!(queue["items"].as_array().map(Vec::len), Some(5), "{queue}");

        let shown = world
            .app
            .get(
                &format!("/api/v1/groups/alpha/calendars/{meetup}"),
                Some(&world.owner),
            )
            .await
            .expect(200)
            .json();
        assert_eq!(shown["runs"][0]["new"], 2);
        assert_eq!(shown["auto_approve_in_effect"], false);
        // Another run of an unchanged calendar brings nothing twice (UIDs).
        let again = sync(&world, meetup).await;
        assert_eq!(
            (again["new"].as_i64(), again["updated"].as_i64()),
            (Some(0), Some(0))
        );
        assert_eq!(entries(&world.app, &world.owner).await.len(), 5);

        // Once the Stammtisch is over, Meetup drops it: that is no cancellation.
        world.app.state.services.clock.advance(40 * 86_400);
        let meetup_file = fixture("meetup.ics");
        let first = meetup_file.find("BEGIN:VEVENT").unwrap();
        let end = meetup_file.find("END:VEVENT\n").unwrap() + "END:VEVENT\n".len();
        server.put(
            "meetup",
            &format!("{}{}", &meetup_file[..first], &meetup_file[end..]),
        );
        let run = sync(&world, meetup).await;
        assert_eq!(
            (run["fetched"].as_bool(), run["cancelled"].as_i64()),
            (Some(true), Some(0)),
            "{run}"
        );
        let found = entries(&world.app, &world.owner).await;
        assert_eq!(found["QGIS Stammtisch Zürich"]["event_status"], "confirmed");
    }
);

db_test!(
    real_exports_of_google_and_thunderbird,
    world_at(1_725_148_800, false),
    |app| async move {
        // 2024-09-01: before the events of the Google and Thunderbird exports.
        let world = World::new(app).await;
        let server = CalendarServer::start().await;
        server.put("google", &fixture("google_calendar.ics"));
        server.put("thunderbird", &fixture("thunderbird.ics"));
        let google = subscribed(&world, &server.url("/cal/google")).await;
        assert_eq!(sync(&world, google).await["new"], 1);
        let thunderbird = subscribed(&world, &server.url("/cal/thunderbird")).await;
        let run = sync(&world, thunderbird).await;
        assert_eq!(
            (run["new"].as_i64(), run["errors"].as_str()),
            (Some(1), Some("")),
            "{run}"
        );
        // Both exports hold one "event with alarms".
        let found = entry_list(&world.app, &world.owner).await;
        assert_eq!(found.len(), 2);
        let google = found
            .iter()
            .find(|entry| entry["timezone"] == "UTC")
            .expect("the Google event, in UTC");
        assert_eq!(google["starts_at"], "2024-10-04T18:15:00+00:00");
        assert_eq!(google["content"], "<p>event with alarms</p>");
        let thunderbird = found
            .iter()
            .find(|entry| entry["timezone"] == "Europe/London")
            .expect("the Thunderbird event, in London");
        // 15:00 BST.
        assert_eq!(thunderbird["starts_at"], "2024-10-23T14:00:00+00:00");
    }
);

db_test!(
    imports_of_google_birthdays_and_a_zimbra_series,
    world_at(1_346_457_600, false),
    |app| async move {
        // 2012-09-01: before the first occurrences of the ical.js samples.
        let world = World::new(app).await;
        let run = import(&world, &fixture("zimbra_recurring.ics")).await;
        assert_eq!(run["new"], 1, "{run}");
        assert!(
            run["errors"]
                .as_str()
                .unwrap()
                .contains("repeat rule is not supported"),
            "{run}"
        );
        let run = import(&world, &fixture("google_birthday.ics")).await;
        assert_eq!(run["new"], 1, "{run}");
        let found = entries(&world.app, &world.owner).await;
        let zimbra = &found["Crazy Event Thingy!"];
        assert_eq!(zimbra["timezone"], "America/Los_Angeles");
        assert_eq!(zimbra["starts_at"], "2012-10-02T17:00:00+00:00");
        assert_eq!(zimbra["location_name"], "PLACE");
        let birthday = &found["PErson #2's birthday"];
        assert_eq!(birthday["starts_at"], "2014-12-10T00:00:00+00:00");
        // The same file again: recognised by UID, nothing new.
        let again = import(&world, &fixture("google_birthday.ics")).await;
        assert_eq!(
            (again["new"].as_i64(), again["updated"].as_i64()),
            (Some(0), Some(0))
        );
        let broken = import(&world, "<html>not a calendar</html>").await;
        assert!(
            broken["errors"]
                .as_str()
                .unwrap()
                .starts_with("not an iCalendar file"),
            "{broken}"
        );
    }
);

/// Imports `text` into `alpha` as its owner; returns the run.
async fn import(world: &World, text: &str) -> Value {
    import_file(world, text.as_bytes().to_vec(), "event")
        .await
        .expect(200)
        .json()
}

const ONE_EVENT: &str = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//ours//EN\r\n\
BEGIN:VEVENT\r\nUID:one@example.org\r\nSUMMARY:TITLE\r\nDESCRIPTION:From the source\r\nDTSTART:20270318T183000Z\r\n\
DTEND:20270318T203000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";

fn one_event(title: &str) -> String {
    ONE_EVENT.replace("TITLE", title)
}

/// The one entry of `alpha` (as its owner).
async fn only_entry(world: &World) -> Value {
    let found = entries(&world.app, &world.owner).await;
    assert_eq!(found.len(), 1, "{found:?}");
    found.into_values().next().unwrap()
}

db_test!(
    the_source_wins_until_the_entry_is_edited_here,
    world_at(NOW, false),
    |app| async move {
        let world = World::new(app).await;
        let server = CalendarServer::start().await;
        server.put("one", &one_event("First"));
        // An admin's auto_approve is in effect: unedited changes go live at once.
        let created = subscribe(&world, &world.admin, &server.url("/cal/one"), true).await;
        let created = created.expect(201).json();
        assert_eq!(created["auto_approve_in_effect"], true);
        let id = created["id"].as_i64().unwrap();
        assert_eq!(sync(&world, id).await["new"], 1);
        let entry = only_entry(&world).await;
        assert_eq!(
            (entry["status"].as_str(), entry["title"].as_str()),
            (Some("approved"), Some("First"))
        );

        server.put("one", &one_event("Second"));
        assert_eq!(sync(&world, id).await["updated"], 1);
        let entry = only_entry(&world).await;
        assert_eq!(
            (entry["status"].as_str(), entry["title"].as_str()),
            (Some("approved"), Some("Second"))
        );

        // Edited here: from now on the source's changes wait for review, over the edit.
        let entry_id = entry["id"].as_i64().unwrap();
        world
            .app
            .patch(
                &format!("/api/v1/entries/{entry_id}"),
                Some(&world.editor),
                json!({"content": "<p>Our words</p>", "version": entry["version"]}),
            )
            .await
            .expect(200);
        world
            .app
            .post(
                &format!("/api/v1/moderation/entries/{entry_id}/approve"),
                Some(&world.moderator),
                json!({}),
            )
            .await
            .expect(200);
        server.put("one", &one_event("Third"));
        assert_eq!(sync(&world, id).await["updated"], 1);
        let entry = only_entry(&world).await;
        assert_eq!(
            (entry["status"].as_str(), entry["title"].as_str()),
            (Some("pending"), Some("Third"))
        );
        assert_eq!(entry["content"], "<p>Our words</p>");
        // What is live stays the approved revision until the edit is reviewed.
        let live = world
            .app
            .get(&format!("/entries/{entry_id}.json"), None)
            .await;
        assert!(live.expect(200).text.contains("Second"), "{}", live.text);

        // Gone from the source: cancelled here, live at once, never deleted.
        server.put(
            "one",
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//ours//EN\r\nEND:VCALENDAR\r\n",
        );
        let run = sync(&world, id).await;
        assert_eq!(run["cancelled"], 1, "{run}");
        let entry = only_entry(&world).await;
        assert_eq!(entry["event_status"], "cancelled");
        let ics = world
            .app
            .get(&format!("/entries/{entry_id}.ics"), None)
            .await;
        assert!(
            ics.expect(200).text.contains("STATUS:CANCELLED"),
            "{}",
            ics.text
        );
        // Cancelled once only.
        assert_eq!(sync(&world, id).await["cancelled"], 0);
    }
);

db_test!(
    an_owners_auto_approve_waits_for_an_admin,
    world_at(NOW, false),
    |app| async move {
        let world = World::new(app).await;
        let server = CalendarServer::start().await;
        server.put("one", &one_event("Trusted?"));
        let created = subscribe(&world, &world.owner, &server.url("/cal/one"), true).await;
        let created = created.expect(201).json();
        assert_eq!(
            (
                created["auto_approve"].as_bool(),
                created["auto_approve_in_effect"].as_bool()
            ),
            (Some(true), Some(false))
        );
        let id = created["id"].as_i64().unwrap();
        sync(&world, id).await;
        assert_eq!(only_entry(&world).await["status"], "pending");
        let path = format!("/api/v1/groups/alpha/calendars/{id}");
        let allowed = world
            .app
            .patch(&path, Some(&world.admin), json!({"auto_approve": true}))
            .await;
        assert_eq!(allowed.expect(200).json()["auto_approve_in_effect"], true);
        server.put("one", &one_event("Trusted!"));
        sync(&world, id).await;
        assert_eq!(only_entry(&world).await["status"], "approved");
        // Changing only the kind keeps it.
        let kind = world
            .app
            .patch(&path, Some(&world.owner), json!({"kind": "event"}))
            .await
            .expect(200)
            .json();
        assert_eq!(
            (
                kind["kind"].as_str(),
                kind["auto_approve_in_effect"].as_bool()
            ),
            (Some("event"), Some(true))
        );
        world
            .app
            .patch(&path, Some(&world.owner), json!({"kind": "announcement"}))
            .await
            .expect_field_error("kind");
        // The owner's own change withdraws the admin's allowance.
        let mine = world
            .app
            .patch(&path, Some(&world.owner), json!({"auto_approve": true}))
            .await;
        assert_eq!(mine.expect(200).json()["auto_approve_in_effect"], false);
    }
);

db_test!(
    the_worker_fetches_due_calendars,
    world_at(NOW, true),
    |app| async move {
        let world = World::new(app).await;
        let server = CalendarServer::start().await;
        server.put("one", &one_event("Scheduled"));
        let id = subscribed(&world, &server.url("/cal/one")).await;
        let path = format!("/api/v1/groups/alpha/calendars/{id}");
        let shown = crate::federation::eventually(
            "the first scheduled run",
            || async { world.app.get(&path, Some(&world.owner)).await.json() },
            |shown| {
                shown["runs"]
                    .as_array()
                    .is_some_and(|runs| !runs.is_empty())
            },
        )
        .await;
        assert_eq!(shown["runs"][0]["new"], 1);
        assert_eq!(shown["next_fetch_at"], "2027-01-15T14:00:00+00:00");
        assert_eq!(only_entry(&world).await["title"], "Scheduled");
        // Six hours later, the next run.
        world.app.state.services.clock.advance(6 * 3600);
        crate::federation::eventually(
            "the second scheduled run",
            || async { world.app.get(&path, Some(&world.owner)).await.json() },
            |shown| shown["runs"].as_array().is_some_and(|runs| runs.len() == 2),
        )
        .await;
    }
);
