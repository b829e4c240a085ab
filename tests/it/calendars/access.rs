//! Who may subscribe, read, run and end a group's calendars.

use super::*;

db_test!(
    owners_and_admins_manage_members_and_moderators_read,
    world_at(NOW, false),
    |app| async move {
        let world = World::new(app).await;
        let url = "https://calendar.example.org/qgis.ics";
        subscribe(&world, &world.editor, url, false)
            .await
            .expect_problem(403, "forbidden");
        subscribe(&world, &world.other_editor, url, false)
            .await
            .expect_problem(403, "forbidden");
        subscribe(&world, &world.outsider, url, false)
            .await
            .expect_problem(403, "forbidden");
        world
            .app
            .post(
                "/api/v1/groups/alpha/calendars",
                None,
                json!({"url": url, "kind": "event"}),
            )
            .await
            .expect(401);
        subscribe(&world, &world.admin, url, false)
            .await
            .expect(201);
        let id = subscribed(&world, url).await;

        let list = "/api/v1/groups/alpha/calendars";
        for reader in [&world.owner, &world.editor, &world.moderator, &world.admin] {
            let found = world.app.get(list, Some(reader)).await.expect(200).json();
            assert_eq!(found.as_array().map(Vec::len), Some(2));
        }
        world
            .app
            .get(list, Some(&world.other_editor))
            .await
            .expect_problem(403, "forbidden");
        world.app.get(list, None).await.expect(401);

        let one = format!("/api/v1/groups/alpha/calendars/{id}");
        world.app.get(&one, Some(&world.editor)).await.expect(200);
        world
            .app
            .get(
                &format!("/api/v1/groups/beta/calendars/{id}"),
                Some(&world.admin),
            )
            .await
            .expect(404);
        world
            .app
            .post(&format!("{one}/sync"), Some(&world.editor), json!({}))
            .await
            .expect_problem(403, "forbidden");
        world
            .app
            .delete(&one, Some(&world.editor))
            .await
            .expect_problem(403, "forbidden");
        world.app.delete(&one, Some(&world.owner)).await.expect(204);
        world.app.get(&one, Some(&world.owner)).await.expect(404);
    }
);

db_test!(
    what_cannot_be_subscribed_is_refused,
    world_at(NOW, false),
    |app| async move {
        let world = World::new(app).await;
        let post = |body: Value| {
            let world = &world;
            async move {
                world
                    .app
                    .post("/api/v1/groups/alpha/calendars", Some(&world.owner), body)
                    .await
            }
        };
        post(json!({"url": "ftp://example.org/x.ics", "kind": "event"}))
            .await
            .expect_field_error("url");
        post(json!({"url": "not a url", "kind": "event"}))
            .await
            .expect_field_error("url");
        post(json!({"url": "https://example.org/x.ics", "kind": "announcement"}))
            .await
            .expect_field_error("kind");
        post(json!({"url": "https://example.org/x.ics", "kind": "event", "extra": 1}))
            .await
            .expect(400);
    }
);
