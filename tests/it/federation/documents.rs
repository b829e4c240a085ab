//! What other servers read of us: WebFinger, NodeInfo, actors, notes,
//! outboxes and follower counts; and who may turn federation on.

use poem::http::Method;
use serde_json::json;

use super::*;
use crate::common::{Reply, TestApp, World};

async fn activity_json(world: &World, path: &str) -> Reply {
    let request = world
        .app
        .client
        .request(Method::GET, path)
        .header("accept", "application/activity+json");
    Reply::from(request.send().await.0).await
}

db_test!(
    groups_are_found_by_handle_and_read_as_actors,
    world_at_free_address(),
    |app: TestApp| async move {
        let world = World::new(app).await;
        let base = world.app.state.config.public_base_url();
        let host = base.trim_start_matches("http://").to_string();

        let found = world
            .app
            .get(
                &format!("/.well-known/webfinger?resource=acct:alpha@{host}"),
                None,
            )
            .await;
        found.expect(200);
        assert!(
            found
                .header("content-type")
                .unwrap()
                .starts_with("application/jrd+json")
        );
        let links = found.json()["links"].clone();
        assert_eq!(links[0]["href"], format!("{base}/groups/alpha"));
        assert_eq!(links[0]["type"], "application/activity+json");
        let site = world
            .app
            .get(
                &format!("/.well-known/webfinger?resource=acct:newsfeed@{host}"),
                None,
            )
            .await
            .expect(200)
            .json();
        assert_eq!(site["links"][0]["href"], format!("{base}/actor"));
        world
            .app
            .get(
                "/.well-known/webfinger?resource=acct:alpha@elsewhere.example",
                None,
            )
            .await
            .expect_problem(404, "not-found");
        world
            .app
            .get(
                &format!("/.well-known/webfinger?resource=acct:nobody@{host}"),
                None,
            )
            .await
            .expect_problem(404, "not-found");
        world
            .app
            .get("/.well-known/webfinger", None)
            .await
            .expect_problem(400, "bad-request");

        // The group's page is HTML for browsers and the actor for the fediverse.
        let page = world.app.get("/groups/alpha", None).await;
        page.expect(200);
        assert!(
            page.header("content-type")
                .unwrap()
                .starts_with("text/html")
        );
        assert!(page.header("vary").unwrap().contains("Accept"));
        let actor = activity_json(&world, "/groups/alpha")
            .await
            .expect(200)
            .json();
        assert_eq!(actor["type"], "Group");
        assert_eq!(actor["id"], format!("{base}/groups/alpha"));
        assert_eq!(actor["preferredUsername"], "alpha");
        assert_eq!(actor["endpoints"]["sharedInbox"], format!("{base}/inbox"));
        assert_eq!(actor["publicKey"]["owner"], actor["id"]);
        assert!(
            actor["publicKey"]["publicKeyPem"]
                .as_str()
                .unwrap()
                .starts_with("-----BEGIN PUBLIC KEY-----")
        );
        // The key is kept: the same on every read.
        let again = activity_json(&world, "/groups/alpha").await.json();
        assert_eq!(again["publicKey"], actor["publicKey"]);
        let site = activity_json(&world, "/actor").await.expect(200).json();
        assert_eq!(site["type"], "Application");
        activity_json(&world, "/groups/nope")
            .await
            .expect_problem(404, "not-found");

        let links = world
            .app
            .get("/.well-known/nodeinfo", None)
            .await
            .expect(200)
            .json();
        assert_eq!(links["links"][0]["href"], format!("{base}/nodeinfo/2.1"));
        let info = world
            .app
            .get("/nodeinfo/2.1", None)
            .await
            .expect(200)
            .json();
        assert_eq!(info["version"], "2.1");
        assert_eq!(info["software"]["name"], "newsfeed");
        assert_eq!(info["protocols"][0], "activitypub");
        assert_eq!(info["usage"]["users"]["total"], 2);
    }
);

db_test!(
    published_entries_are_notes_in_their_groups_outbox,
    world_at_free_address(),
    |app: TestApp| async move {
        let world = World::new(app).await;
        let base = world.app.state.config.public_base_url();
        let first = world
            .publish(json!({"title": "First <news>"}), json!({}))
            .await;
        let second = world.publish(json!({"title": "Second"}), json!({})).await;

        let note = activity_json(&world, &format!("/entries/{first}"))
            .await
            .expect(200)
            .json();
        assert_eq!(note["type"], "Note");
        assert_eq!(note["id"], format!("{base}/entries/{first}"));
        assert_eq!(note["attributedTo"], format!("{base}/groups/alpha"));
        assert!(
            note["content"]
                .as_str()
                .unwrap()
                .contains("First &lt;news&gt;")
        );
        assert!(note["@context"].is_array());
        activity_json(&world, "/entries/999999")
            .await
            .expect_problem(404, "not-found");

        let outbox = activity_json(&world, "/groups/alpha/outbox")
            .await
            .expect(200)
            .json();
        assert_eq!(outbox["totalItems"], 2);
        let page = activity_json(&world, "/groups/alpha/outbox?page=1")
            .await
            .expect(200)
            .json();
        let items = page["orderedItems"].as_array().unwrap();
        assert_eq!(items[0]["object"]["id"], format!("{base}/entries/{second}"));
        assert_eq!(items[0]["type"], "Create");
        assert!(page.get("next").is_none());
        activity_json(&world, "/groups/alpha/outbox?page=0")
            .await
            .expect_problem(400, "bad-request");
        assert_eq!(
            activity_json(&world, "/groups/beta/outbox").await.json()["totalItems"],
            0
        );
        assert_eq!(
            activity_json(&world, "/actor/outbox").await.json()["totalItems"],
            2
        );
    }
);

db_test!(
    owners_turn_federation_on_and_editors_cannot,
    |app: TestApp| async move {
        let world = World::new(app).await;
        let on = json!({"federated": true});
        world
            .app
            .patch("/api/v1/groups/alpha", Some(&world.editor), on.clone())
            .await
            .expect_problem(403, "forbidden");
        world
            .app
            .patch("/api/v1/groups/beta", Some(&world.owner), on.clone())
            .await
            .expect_problem(403, "forbidden");
        // Owners change that field alone.
        world
            .app
            .patch(
                "/api/v1/groups/alpha",
                Some(&world.owner),
                json!({"federated": true, "name": "Renamed"}),
            )
            .await
            .expect_problem(403, "forbidden");
        let group = world
            .app
            .patch("/api/v1/groups/alpha", Some(&world.owner), on)
            .await
            .expect(200)
            .json();
        assert_eq!(group["federated"], true);
        let group = world
            .app
            .get("/api/v1/groups/beta", None)
            .await
            .expect(200)
            .json();
        assert_eq!(group["federated"], false);
    }
);
