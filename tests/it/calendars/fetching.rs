//! Fetching under guard: conditional GETs, size and time limits, redirects,
//! loopback only when allowed, files that are not calendars.

use std::sync::atomic::Ordering;

use super::*;

/// The errors of a run of `path` on `server`, subscribed as `alpha`'s owner.
async fn run_errors(world: &World, server: &CalendarServer, path: &str) -> (Value, String) {
    let id = subscribed(world, &server.url(path)).await;
    let run = sync(world, id).await;
    let errors = run["errors"].as_str().unwrap().to_string();
    (run, errors)
}

db_test!(
    an_unchanged_calendar_is_not_sent_again,
    world_at(NOW, false),
    |app| async move {
        let world = World::new(app).await;
        let server = CalendarServer::start().await;
        server.put("meetup", &fixture("meetup.ics"));
        let id = subscribed(&world, &server.url("/cal/meetup")).await;
        assert_eq!(sync(&world, id).await["new"], 2);
        let run = sync(&world, id).await;
        assert_eq!(run["fetched"], false, "{run}");
        assert_eq!(
            (
                run["new"].as_i64(),
                run["updated"].as_i64(),
                run["cancelled"].as_i64()
            ),
            (Some(0), Some(0), Some(0))
        );
        assert_eq!(server.source.not_modified.load(Ordering::SeqCst), 1);
        assert_eq!(entries(&world.app, &world.owner).await.len(), 2);
        // Changed at the source: sent again, and followed.
        server.put(
            "meetup",
            &fixture("meetup.ics").replace("QGIS user day 2027", "QGIS user day"),
        );
        let run = sync(&world, id).await;
        assert_eq!(
            (run["fetched"].as_bool(), run["updated"].as_i64()),
            (Some(true), Some(1)),
            "{run}"
        );
        assert!(
            entries(&world.app, &world.owner)
                .await
                .contains_key("QGIS user day")
        );
    }
);

db_test!(
    malformed_and_hostile_sources_fail_their_run_only,
    world_at(NOW, false),
    |app| async move {
        let world = World::new(app).await;
        let server = CalendarServer::start().await;
        server.put("malformed", &fixture("malformed.ics"));
        server.put("html", "<!doctype html><title>Sign in</title>");
        let (run, errors) = run_errors(&world, &server, "/cal/malformed").await;
        assert_eq!(run["new"], 1, "{run}");
        assert_eq!(errors.lines().count(), 3, "{errors}");
        assert!(
            errors.contains("no-start@example.org: it has no DTSTART"),
            "{errors}"
        );
        assert!(
            errors.contains("unknown time zone Mars/Olympus_Mons"),
            "{errors}"
        );
        let (_, errors) = run_errors(&world, &server, "/cal/html").await;
        assert!(errors.starts_with("not an iCalendar file"), "{errors}");
        let (_, errors) = run_errors(&world, &server, "/cal/missing").await;
        assert!(errors.contains("404"), "{errors}");
        let (_, errors) = run_errors(&world, &server, "/loop/0").await;
        assert!(errors.contains("too many redirects"), "{errors}");

        // 50 MB: refused by its announced length, and without one, at the limit.
        let (run, errors) = run_errors(&world, &server, "/huge").await;
        assert!(errors.contains("larger than"), "{errors}");
        assert_eq!(run["fetched"], false);
        server.source.chunks_sent.store(0, Ordering::SeqCst);
        let (_, errors) = run_errors(&world, &server, "/huge-chunked").await;
        assert!(errors.contains("larger than"), "{errors}");
        // 800 chunks make 50 MB; reading stopped at 5 MiB (80), plus what the buffers took.
        let chunks_sent = server.source.chunks_sent.load(Ordering::SeqCst);
        assert!(chunks_sent < 400, "sent {chunks_sent} chunks of 64 KiB");

        // A slow server: the run ends at the time limit; a second run meanwhile is refused.
        let started = std::time::Instant::now();
        let id = subscribed(&world, &server.url("/slow")).await;
        let path = format!("/api/v1/groups/alpha/calendars/{id}/sync");
        let (first, second) = tokio::join!(
            world.app.post(&path, Some(&world.owner), json!({})),
            async {
                tokio::time::sleep(std::time::Duration::from_millis(500)).await;
                world.app.post(&path, Some(&world.owner), json!({})).await
            }
        );
        second.expect_problem(409, "conflict");
        let errors = first.expect(200).json()["errors"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(errors.starts_with("fetching failed"), "{errors}");
        assert!(started.elapsed() < std::time::Duration::from_secs(30));
        // Nothing of it became an entry but the one good event.
        assert_eq!(entries(&world.app, &world.owner).await.len(), 1);
    }
);

db_test!(
    loopback_is_refused_without_the_flag,
    // Without the scheduled worker, which would take the runs this test asks for.
    World::builder().config(|config| config.calendar_worker = false),
    |app| async move {
        let world = World::new(app).await;
        let server = CalendarServer::start().await;
        server.put("meetup", &fixture("meetup.ics"));
        // What would not be fetched is refused when subscribing.
        let http = server.url("/cal/meetup");
        let https = http.replace("http://", "https://");
        for (url, why) in [
            (http.as_str(), "https only"),
            (https.as_str(), "not a public address"),
            ("https://localhost/cal.ics", "not a public address"),
        ] {
            let refused = subscribe(&world, &world.owner, url, false).await;
            let problem = refused.expect_field_error("url");
            assert!(problem.to_string().contains(why), "{url}: {problem}");
        }
        assert_eq!(server.source.requests.load(Ordering::SeqCst), 0);
        assert!(entries(&world.app, &world.owner).await.is_empty());
    }
);
