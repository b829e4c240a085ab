//! The public calendar: `/events` by month from the snapshot, the archive
//! from the database, and what an entry page gives calendars and search
//! engines (read by `extruct`, a parser that is not ours).

use newsfeed::clock::Clock;
use serde_json::{Value, json};

use crate::common::{TestApp, World, python_reads};
use crate::web::support::Browser;

/// Sunday 17 March 2030, 17:46:40 UTC.
const START: i64 = 1_900_000_000;

fn world() -> crate::common::TestAppBuilder {
    World::builder().clock(Clock::manual(START))
}

/// A monthly meetup on the 3rd Thursday (18 April to 18 July 2030, in
/// Zurich) whose May meeting is cancelled, attended in person and online.
fn series(title: &str) -> Value {
    json!({"kind": "meetup", "title": title, "content": "<p>Maps &amp; beer</p>",
           "starts_at": "2030-04-18T16:30:00Z", "ends_at": "2030-04-18T18:30:00Z",
           "timezone": "Europe/Zurich", "recurrence": "FREQ=MONTHLY;BYDAY=3TH;COUNT=4",
           "exdates": ["2030-05-16T18:30"], "location_name": "ETH Zürich, HG E 1",
           "latitude": 47.3763, "longitude": 8.5477, "attendance": "hybrid",
           "online_url": "https://meet.example.org/qgis"})
}

fn cancelled_event() -> Value {
    json!({"kind": "event", "title": "QGIS Day Bonn", "starts_at": "2030-04-25T07:00:00Z",
           "ends_at": "2030-04-25T15:00:00Z", "timezone": "Europe/Berlin",
           "location_name": "Bonn", "event_status": "cancelled"})
}

db_test!(
    events_are_listed_by_month_and_filtered,
    world(),
    |app: TestApp| async move {
        let world = World::new(app).await;
        let meetup = world.publish(series("Stammtisch"), json!({})).await;
        let event = world.publish(cancelled_event(), json!({})).await;
        world
            .publish(json!({"title": "Not an event"}), json!({}))
            .await;
        let browser = Browser::new(&world.app);
        let page = browser.get("/events").await;
        page.expect(200)
            .expect_text("<a href=\"/events\" aria-current=\"page\">Events</a>")
            .expect_text("<a href=\"/archive\">Archive</a>");
        let text = &page.text;
        // Three meetings (May's is cancelled) and the event, in time order.
        for month in ["April 2030", "June 2030", "July 2030"] {
            assert!(text.contains(&format!(">{month}</h2>")), "{month}: {text}");
        }
        assert!(!text.contains("May 2030"), "{text}");
        assert!(!text.contains("Not an event"));
        assert_eq!(
            text.matches(&format!("href=\"/entries/{meetup}\"")).count(),
            3
        );
        let first = text.find("Thu 18 April 2030, 18:30–20:30 CEST").unwrap();
        let bonn = text.find("Thu 25 April 2030, 09:00–17:00 CEST").unwrap();
        let june = text.find("Thu 20 June 2030, 18:30–20:30 CEST").unwrap();
        assert!(first < bonn && bonn < june);
        page.expect_text("<span class=\"badge rejected\">Cancelled</span>")
            .expect_text("In person and online")
            .expect_text("webcal://");
        // Filters by kind, title, group and language; pages of two.
        let meetups = browser.get("/events?kind=meetup").await;
        assert!(!meetups.has(&format!("/entries/{event}\"")) && meetups.has("Stammtisch"));
        let found = browser.get("/events?q=bonn").await;
        assert!(found.has("QGIS Day Bonn") && !found.has("Stammtisch"));
        let beta = browser.get("/events?group=beta,nobody").await;
        beta.expect(200).expect_text("No upcoming events");
        let alpha = browser.get("/events?group=beta,alpha&lang=de").await;
        alpha.expect_text("Stammtisch");
        let paged = browser.get("/events?limit=2").await;
        paged
            .expect_text("1–2 of 4")
            .expect_text("href=\"?limit=2&#38;offset=2\" rel=\"next\"");
        let last = browser.get("/events?limit=2&offset=2").await;
        last.expect_text("3–4 of 4").expect_text("rel=\"prev\"");
        assert!(!last.has("rel=\"next\""));
        // Country filter: alpha and beta are in Germany.
        assert!(browser.get("/events?country=de").await.has("Stammtisch"));
        browser
            .get("/events?country=BR")
            .await
            .expect(200)
            .expect_text("No upcoming events");
        // A group's calendar.
        browser
            .get("/groups/alpha/events")
            .await
            .expect(200)
            .expect_text("Stammtisch")
            .expect_text("/groups/alpha/feed.ics");
        browser
            .get("/groups/beta/events")
            .await
            .expect(200)
            .expect_text("No upcoming events");
        browser.get("/groups/nope/events").await.expect(404);
        browser
            .get("/events?offset=nonsense&limit=-3")
            .await
            .expect(200);
        // The group page and the start page offer their calendar as a subscription.
        browser
            .get("/groups/alpha")
            .await
            .expect_text("href=\"webcal://")
            .expect_text("/groups/alpha/feed.ics\"");
        let home = world.app.get("/", None).await;
        assert!(home.text.contains("href=\"webcal://"), "{}", home.text);
        // An event years ahead is listed too (only a series is cut at a year).
        world
            .publish(
                json!({"kind": "event", "title": "Far ahead", "starts_at": "2034-05-04T16:00:00Z",
                       "ends_at": "2034-05-04T19:00:00Z", "timezone": "Europe/Berlin"}),
                json!({}),
            )
            .await;
        browser
            .get("/events?q=far")
            .await
            .expect_text(">May 2034</h2>")
            .expect_text("Far ahead");
    }
);

/// The JSON-LD `extruct` reads from a page.
fn json_ld(html: &str) -> Value {
    python_reads(
        "import sys, json, extruct\n\
         data = extruct.extract(sys.stdin.read(), base_url='http://localhost/', syntaxes=['json-ld'])\n\
         print(json.dumps(data['json-ld']))",
        html.as_bytes(),
    )
}

db_test!(
    an_event_page_offers_calendars_and_json_ld,
    world(),
    |app: TestApp| async move {
        let world = World::new(app).await;
        let mut fields = series("Stammtisch </script><!-- & \"friends\"");
        fields["image"] = json!("https://example.org/stammtisch.jpg");
        fields["image_alt"] = json!("People around a map");
        let id = world.publish(fields, json!({})).await;
        let browser = Browser::new(&world.app);
        let page = browser.get(&format!("/entries/{id}")).await;
        page.expect(200)
            .expect_text("<dt>Next</dt><dd>Thu 18 April 2030, 18:30–20:30 CEST")
            .expect_text("Repeats every month on the 3rd Thursday, 4 times")
            .expect_text("<dt>Attendance</dt><dd>In person and online</dd>")
            .expect_text("href=\"https://meet.example.org/qgis\"")
            .expect_text("alt=\"People around a map\"")
            .expect_text(&format!("href=\"/entries/{id}.ics\""))
            .expect_text("href=\"https://calendar.google.com/calendar/render?action=TEMPLATE&#38;text=Stammtisch+%3C%2Fscript%3E%3C%21--+%26+%22friends%22&#38;dates=20300418T163000Z%2F20300418T183000Z&#38;ctz=Europe%2FZurich")
            .expect_text("recur=RRULE%3AFREQ%3DMONTHLY%3BBYDAY%3D3TH%3BCOUNT%3D4")
            .expect_text("href=\"https://outlook.live.com/calendar/0/deeplink/compose?path=%2Fcalendar%2Faction%2Fcompose&#38;rru=addevent&#38;subject=Stammtisch")
            .expect_text("startdt=2030-04-18T18%3A30%3A00%2B02%3A00&#38;enddt=2030-04-18T20%3A30%3A00%2B02%3A00&#38;location=ETH+Z%C3%BCrich%2C+HG+E+1");
        // The title cannot close the script element.
        assert_eq!(page.text.matches("</script>").count(), 2, "{}", page.text);
        let data = json_ld(&page.text);
        let event = &data[0];
        assert_eq!(event["@type"], "Event");
        assert_eq!(event["name"], "Stammtisch </script><!-- & \"friends\"");
        assert_eq!(event["startDate"], "2030-04-18T18:30:00+02:00");
        assert_eq!(event["endDate"], "2030-04-18T20:30:00+02:00");
        assert_eq!(event["eventStatus"], "https://schema.org/EventScheduled");
        assert_eq!(
            event["eventAttendanceMode"],
            "https://schema.org/MixedEventAttendanceMode"
        );
        assert_eq!(event["location"][0]["@type"], "Place");
        assert_eq!(event["location"][0]["address"], "ETH Zürich, HG E 1");
        assert_eq!(event["location"][0]["geo"]["latitude"], 47.3763);
        assert_eq!(event["location"][1]["@type"], "VirtualLocation");
        assert_eq!(event["location"][1]["url"], "https://meet.example.org/qgis");
        assert_eq!(event["image"][0], "https://example.org/stammtisch.jpg");
        assert_eq!(event["description"], "Maps & beer");
        assert_eq!(event["organizer"]["@type"], "Organization");
        assert!(
            event["organizer"]["url"]
                .as_str()
                .unwrap()
                .ends_with("/groups/alpha")
        );

        // Cancelled, in person.
        let id = world.publish(cancelled_event(), json!({})).await;
        let page = browser.get(&format!("/entries/{id}")).await;
        page.expect(200)
            .expect_text("<span class=\"badge rejected\">Cancelled</span>")
            .expect_text("text=Cancelled%3A+QGIS+Day+Bonn");
        assert!(!page.has("<dt>Online</dt>"), "{}", page.text);
        let event = &json_ld(&page.text)[0];
        assert_eq!(event["eventStatus"], "https://schema.org/EventCancelled");
        assert_eq!(
            event["eventAttendanceMode"],
            "https://schema.org/OfflineEventAttendanceMode"
        );
        assert_eq!(event["location"]["@type"], "Place");
        assert!(event["location"].get("geo").is_none());

        // Crowdfunding: progress, and a NewsArticle.
        let id = world
            .publish(
                json!({"kind": "crowdfunding", "title": "Fund the plugin", "goal_amount": 2000,
                       "currency": "EUR", "deadline": "2030-06-01T00:00:00Z", "raised_amount": 500}),
                json!({}),
            )
            .await;
        let page = browser.get(&format!("/entries/{id}")).await;
        page.expect(200)
            .expect_text("<strong>500 EUR</strong> raised of 2000 EUR · until 2030-06-01 00:00 UTC")
            .expect_text(
                "<progress max=\"2000\" value=\"500\" aria-label=\"25% of the goal raised\">",
            );
        assert!(!page.has("Add to calendar"));
        let article = &json_ld(&page.text)[0];
        assert_eq!(article["@type"], "NewsArticle");
        assert_eq!(article["headline"], "Fund the plugin");
        assert_eq!(article["author"]["name"], article["publisher"]["name"]);
        assert!(
            article["datePublished"]
                .as_str()
                .unwrap()
                .starts_with("2030-03-17T")
        );
        world
            .app
            .get("/", None)
            .await
            .expect(200)
            .text
            .contains("raised of 2000 EUR")
            .then_some(())
            .expect("the card shows the campaign");
    }
);

db_test!(
    the_archive_holds_what_ended_as_published,
    world(),
    |app: TestApp| async move {
        let world = World::new(app).await;
        let news = world
            .publish(json!({"title": "Release 3.40 is out"}), json!({}))
            .await;
        let meetup = world
            .publish(
                json!({"kind": "meetup", "title": "Spring meetup", "starts_at": "2030-03-20T17:00:00Z",
                       "ends_at": "2030-03-20T19:00:00Z", "timezone": "Europe/Berlin", "location_name": "Köln"}),
                json!({}),
            )
            .await;
        let live = world
            .publish(
                json!({"title": "Still live", "publish_to": "2030-06-01T00:00:00Z"}),
                json!({}),
            )
            .await;
        // An edit waits for review: its title is nobody's business yet.
        let version = world
            .app
            .get(&format!("/api/v1/entries/{news}"), Some(&world.editor))
            .await
            .json()["version"]
            .clone();
        world
            .app
            .patch(
                &format!("/api/v1/entries/{news}"),
                Some(&world.editor),
                json!({"version": version, "title": "Secret plans"}),
            )
            .await
            .expect(200);
        // Taken down by a moderator: never in the archive.
        let spam = world
            .publish(json!({"title": "Cheap pills"}), json!({}))
            .await;
        world
            .app
            .post(
                &format!("/api/v1/moderation/entries/{spam}/unpublish"),
                Some(&world.moderator),
                json!({"comment": "spam"}),
            )
            .await
            .expect(200);
        let browser = Browser::new(&world.app);
        browser
            .get("/archive")
            .await
            .expect(200)
            .expect_text("Nothing has ended yet");
        browser.get(&format!("/entries/{meetup}")).await.expect(200);
        world.app.clock.advance(11 * 86_400);
        world.app.state.feeds.refresh().await.expect("refresh");
        let page = browser.get("/archive").await;
        page.expect(200)
            .expect_text("<a href=\"/archive\" aria-current=\"page\">Archive</a>");
        let (first, second) = (
            page.text.find("Release 3.40 is out").expect("the news"),
            page.text.find("Spring meetup").expect("the meetup"),
        );
        assert!(first < second, "latest end first");
        assert!(
            !page.has("Secret plans") && !page.has("Still live") && !page.has("Cheap pills"),
            "{}",
            page.text
        );
        page.expect_text("Wed 20 March 2030, 18:00–20:00 CET");
        assert!(
            browser
                .get("/archive?q=secret")
                .await
                .has("Nothing in the archive matches")
        );
        let found = browser.get("/archive?q=RELEASE").await;
        assert!(found.has("Release 3.40") && !found.has("Spring meetup"));
        // The text and the place are searched too; wildcards are plain characters.
        let found = browser.get("/archive?q=k%C3%B6ln").await;
        assert!(found.has("Spring meetup") && !found.has("Release 3.40"));
        for wildcard in ["%25", "_", "%5C"] {
            assert!(
                browser
                    .get(&format!("/archive?q={wildcard}"))
                    .await
                    .has("Nothing in the archive matches"),
                "{wildcard}"
            );
        }
        browser
            .get("/archive?limit=1")
            .await
            .expect_text("1–1 of 2")
            .expect_text("rel=\"next\"");
        // Its page stays, marked as ended, without calendar links.
        let page = browser.get(&format!("/entries/{meetup}")).await;
        page.expect(200)
            .expect_text("This has ended")
            .expect_text("<dt>When</dt>");
        assert!(!page.has("Add to calendar"));
        browser
            .get(&format!("/entries/{news}"))
            .await
            .expect(200)
            .expect_text("Release 3.40 is out");
        assert!(!browser.get("/events").await.has("Spring meetup"));
        browser.get(&format!("/entries/{live}")).await.expect(200);
        browser.get(&format!("/entries/{spam}")).await.expect(404);
    }
);

db_test!(
    the_form_repeats_in_plain_words_and_the_group_cancels_at_once,
    world(),
    |app: TestApp| async move {
        let world = World::new(app).await;
        let browser = Browser::signed_in(&world.app, "editor@example.org").await;
        let form = browser.get("/my/entries/new?kind=meetup").await;
        form.expect(200)
            .expect_text("In QGIS and the feeds from approval, until its dates are set.")
            .expect_text("<summary>Adjust the publication window</summary>")
            .expect_text("name=\"image_alt\"")
            .expect_text("<option value=\"monthly_weekday\"");
        let fields = [
            ("kind", "meetup"),
            ("group", "alpha"),
            ("title", "Stammtisch"),
            ("content", "Maps and beer."),
            ("timezone", "Europe/Zurich"),
            ("starts_at", "2030-04-18T18:30"),
            ("ends_at", "2030-04-18T20:30"),
            ("location_name", "Zürich"),
            ("attendance", "in_person"),
            ("event_status", "tentative"),
            ("repeat", "monthly_weekday"),
            ("repeat_interval", "1"),
            ("repeat_count", "4"),
            ("repeat_until", ""),
            ("recurrence", ""),
            ("exdates", ""),
            ("moved_occurrences", "2030-06-20T18:30 -> 2030-06-27T19:00"),
            ("publish_from", ""),
            ("publish_to", ""),
            ("intent", "save"),
        ];
        let saved = browser.post("/my/entries/new?kind=meetup", &fields).await;
        let id: i64 = saved
            .expect(303)
            .location()
            .trim_start_matches("/my/entries/")
            .parse()
            .unwrap();
        let entry = world
            .app
            .get(&format!("/api/v1/entries/{id}"), Some(&world.editor))
            .await
            .json();
        assert_eq!(entry["recurrence"], "FREQ=MONTHLY;BYDAY=3TH;COUNT=4");
        assert_eq!(entry["event_status"], "tentative");
        assert_eq!(
            entry["moved_occurrences"]["2030-06-20T18:30"],
            "2030-06-27T19:00"
        );
        // The last meeting, 18 July, ends the window.
        let edit = browser.get(&format!("/my/entries/{id}/edit")).await;
        edit.expect(200)
            .expect_text("In QGIS and the feeds from approval until Thu 18 July 2030, 20:30 CEST.")
            .expect_text("<option value=\"rule\" selected>")
            .expect_text("value=\"FREQ=MONTHLY;BYDAY=3TH;COUNT=4\"");
        // A series without an end is refused next to the field.
        let mut endless = fields.to_vec();
        endless.retain(|(name, _)| *name != "repeat_count");
        let refused = browser.post("/my/entries/new?kind=meetup", &endless).await;
        refused.expect(422);
        assert!(
            refused
                .field_error("recurrence")
                .unwrap()
                .contains("must end"),
            "{}",
            refused.text
        );
        let version = entry["version"].as_i64().unwrap();
        world
            .app
            .submit_and_approve(&world.editor, &world.moderator, id, json!({}))
            .await;
        let moderated = world
            .app
            .get(&format!("/api/v1/entries/{id}"), Some(&world.editor))
            .await
            .json();
        assert!(moderated["version"].as_i64().unwrap() > version);
        // Published: the group cancels one meeting and confirms the rest, without review.
        let page = browser.get(&format!("/my/entries/{id}")).await;
        page.expect(200)
            .expect_text("Published: change it at once")
            .expect_text(
                "<option value=\"2030-05-16T18:30\">Thu 16 May 2030, 18:30–20:30 CEST</option>",
            );
        let version = page.input_value("version").unwrap();
        browser
            .post(
                &format!("/my/entries/{id}/cancel-occurrence"),
                &[("version", &version), ("occurrence", "2030-05-16T18:30")],
            )
            .await
            .expect(303);
        let page = browser.get(&format!("/my/entries/{id}")).await;
        let version = page.input_value("version").unwrap();
        assert!(!page.has("<option value=\"2030-05-16T18:30\">"));
        browser
            .post(
                &format!("/my/entries/{id}/event-status"),
                &[("version", &version), ("event_status", "cancelled")],
            )
            .await
            .expect(303);
        let public = browser.get(&format!("/entries/{id}")).await;
        public
            .expect(200)
            .expect_text("<span class=\"badge rejected\">Cancelled</span>");
        let events = browser.get("/events").await;
        assert!(
            !events.has("May 2030") && events.has("Thu 27 June 2030, 19:00–21:00 CEST"),
            "{}",
            events.text
        );
        // A stale version changes nothing.
        browser
            .post(
                &format!("/my/entries/{id}/event-status"),
                &[("version", &version), ("event_status", "confirmed")],
            )
            .await
            .expect(409);
        // Someone else's group may not.
        let other = Browser::signed_in(&world.app, "other@example.org").await;
        other.get(&format!("/entries/{id}")).await.expect(200);
        assert_ne!(
            other
                .post(
                    &format!("/my/entries/{id}/event-status"),
                    &[("version", &version), ("event_status", "confirmed")],
                )
                .await
                .status
                .as_u16(),
            303
        );
    }
);
