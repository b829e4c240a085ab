//! What a stranger can send to an inbox: nothing unsigned, nothing forged,
//! nothing replayed into a second effect, no fetch of our own network.

use serde_json::{Value, json};

use super::*;
use crate::common::{TestApp, World};

fn follow(stand_in: &StandIn, base: &str, slug: &str) -> Value {
    json!({"@context": "https://www.w3.org/ns/activitystreams",
           "id": format!("{}/follows/{slug}", stand_in.actor), "type": "Follow",
           "actor": stand_in.actor, "object": format!("{base}/groups/{slug}")})
}

fn host(base: &str) -> String {
    base.trim_start_matches("http://").to_string()
}

async fn followers(world: &World) -> u64 {
    world
        .app
        .get("/groups/alpha/followers", None)
        .await
        .expect(200)
        .json()["totalItems"]
        .as_u64()
        .unwrap()
}

db_test!(
    unsigned_stale_and_tampered_requests_are_refused,
    world_at_free_address(),
    |app: TestApp| async move {
        let world = World::new(app).await;
        let base = world.app.state.config.public_base_url();
        let stand_in = StandIn::start().await;
        let body = follow(&stand_in, &base, "alpha").to_string();
        let path = "/groups/alpha/inbox";

        let unsigned = super::post_signed(&world.app, path, body.as_bytes(), &[]).await;
        let problem = unsigned.expect_problem(401, "unauthorized");
        assert!(
            problem["detail"].as_str().unwrap().contains("not signed"),
            "{problem}"
        );

        let signed = |body: &[u8], date: &str| {
            signed_headers(
                &host(&base),
                path,
                body,
                &stand_in.key_id,
                &stand_in.private_pem,
                date,
            )
        };
        // The body changed after signing.
        let headers = signed(body.as_bytes(), &http_date_now());
        let tampered = body.replace("Follow", "Like");
        let reply = super::post_signed(&world.app, path, tampered.as_bytes(), &headers).await;
        assert!(
            reply.expect_problem(401, "unauthorized")["detail"]
                .as_str()
                .unwrap()
                .contains("Digest")
        );

        // Signed a day ago (a replay of an old request).
        let old = httpdate::fmt_http_date(
            std::time::SystemTime::now() - std::time::Duration::from_secs(86_400),
        );
        let reply = super::post_signed(
            &world.app,
            path,
            body.as_bytes(),
            &signed(body.as_bytes(), &old),
        )
        .await;
        assert!(
            reply.expect_problem(401, "unauthorized")["detail"]
                .as_str()
                .unwrap()
                .contains("12 hours")
        );

        // A garbled Signature header.
        let mut garbled = signed(body.as_bytes(), &http_date_now());
        garbled.retain(|(name, _)| name != "signature");
        garbled.push(("signature".into(), "keyId=\"x\",signature=\"%%%\"".into()));
        super::post_signed(&world.app, path, body.as_bytes(), &garbled)
            .await
            .expect_problem(401, "unauthorized");

        // A huge body is refused before it is read.
        let huge = vec![b' '; 2 * 1024 * 1024];
        let reply =
            super::post_signed(&world.app, path, &huge, &signed(&huge, &http_date_now())).await;
        assert_eq!(reply.status.as_u16(), 413, "{}", reply.text);

        // Nothing of it was recorded.
        assert_eq!(followers(&world).await, 0);
    }
);

db_test!(
    a_key_on_a_private_address_is_not_fetched,
    World::builder(),
    |app: TestApp| async move {
        let world = World::new(app).await;
        let base = world.app.state.config.public_base_url();
        let stand_in = StandIn::start().await;
        let body = follow(&stand_in, &base, "alpha").to_string();
        let path = "/groups/alpha/inbox";
        let refusal = |key_id: String| {
            let headers = signed_headers(
                &host(&base),
                path,
                body.as_bytes(),
                &key_id,
                &stand_in.private_pem,
                &http_date_now(),
            );
            let world = &world;
            let body = body.clone();
            async move {
                let reply = super::post_signed(&world.app, path, body.as_bytes(), &headers).await;
                reply.expect_problem(401, "unauthorized")["detail"]
                    .as_str()
                    .unwrap()
                    .to_string()
            }
        };
        // Plain http, loopback, a cloud's metadata address, a private network, localhost.
        assert!(
            refusal(stand_in.key_id.clone())
                .await
                .contains("https only")
        );
        let https = stand_in.key_id.replace("http://", "https://");
        assert!(refusal(https).await.contains("not a public address"));
        for key_id in [
            "https://169.254.169.254/latest/meta-data#key",
            "https://10.0.0.1/users/a#key",
            "https://[::1]/users/a#key",
            "https://localhost/users/a#key",
        ] {
            assert!(
                refusal(key_id.to_string())
                    .await
                    .contains("not a public address"),
                "{key_id}"
            );
        }
        assert!(stand_in.received().is_empty());
    }
);

db_test!(
    a_follow_is_accepted_once_and_forgeries_and_strangers_objects_are_refused,
    world_at_free_address(),
    |app: TestApp| async move {
        let world = World::new(app).await;
        let base = world.app.state.config.public_base_url();
        let stand_in = StandIn::start().await;
        let path = "/groups/alpha/inbox";
        let send = |activity: Value, key_id: String, pem: String| {
            let world = &world;
            let host = host(&base);
            async move {
                let body = activity.to_string();
                let headers = signed_headers(
                    &host,
                    path,
                    body.as_bytes(),
                    &key_id,
                    &pem,
                    &http_date_now(),
                );
                super::post_signed(&world.app, path, body.as_bytes(), &headers).await
            }
        };
        let own = || (stand_in.key_id.clone(), stand_in.private_pem.clone());

        // Federation is off for a group until its owner turns it on: the follow is rejected.
        let (key, pem) = own();
        send(follow(&stand_in, &base, "alpha"), key, pem)
            .await
            .expect(202);
        let rejected = eventually(
            "a Reject",
            || async { stand_in.received() },
            |got| !got.is_empty(),
        )
        .await;
        assert_eq!(
            serde_json::from_str::<Value>(&rejected[0].body).unwrap()["type"],
            "Reject"
        );
        assert_eq!(followers(&world).await, 0);

        federate_alpha(&world).await;
        let (key, pem) = own();
        let request = follow(&stand_in, &base, "alpha");
        send(request.clone(), key.clone(), pem.clone())
            .await
            .expect(202);
        // The same request again (a replay) changes nothing.
        send(request, key, pem).await.expect(202);
        assert_eq!(followers(&world).await, 1);

        // The Accept arrives signed by the group's key, which its actor publishes.
        let accepted = eventually(
            "an Accept",
            || async { stand_in.received() },
            |got| got.iter().any(|r| r.body.contains("\"Accept\"")),
        )
        .await;
        let accept = accepted
            .iter()
            .find(|r| r.body.contains("\"Accept\""))
            .unwrap();
        let header = |name: &str| {
            accept
                .headers
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.as_str())
        };
        let parsed = signature::parse(header("signature").unwrap()).unwrap();
        assert_eq!(parsed.key_id, format!("{base}/groups/alpha#main-key"));
        let actor = world
            .app
            .call(poem::http::Method::GET, "/groups/alpha", None, None)
            .await;
        assert!(actor.text.contains("<html") || actor.text.contains("<!DOCTYPE"));
        let mut request = world.app.client.get("/groups/alpha");
        request = request.header("accept", "application/activity+json");
        let actor = crate::common::Reply::from(request.send().await.0)
            .await
            .expect(200)
            .json();
        let key =
            signature::public_key(actor["publicKey"]["publicKeyPem"].as_str().unwrap()).unwrap();
        let text = signature::signing_string(
            &parsed.headers,
            "POST",
            "/users/test/inbox",
            None,
            None,
            header,
        )
        .unwrap();
        assert!(
            signature::verify(&key, &text, &parsed.signature),
            "our Accept's signature verifies"
        );
        assert!(signature::digest_matches(
            header("digest").unwrap(),
            accept.body.as_bytes()
        ));

        // Signed with another key under the stand-in's key id: a forgery.
        let (_, forger_pem) = signature::generate_key().unwrap();
        let reply = send(
            follow(&stand_in, &base, "alpha"),
            stand_in.key_id.clone(),
            forger_pem,
        )
        .await;
        assert!(
            reply.expect_problem(401, "unauthorized")["detail"]
                .as_str()
                .unwrap()
                .contains("verify")
        );

        // The stand-in's key, but another actor in the activity.
        let mut impostor = follow(&stand_in, &base, "alpha");
        impostor["actor"] = json!("http://127.0.0.1:9/users/someone-else");
        let (key, pem) = own();
        let reply = send(impostor, key, pem).await;
        assert!(
            reply.expect_problem(401, "unauthorized")["detail"]
                .as_str()
                .unwrap()
                .contains("belong")
        );

        // A key id that redirects without end.
        let looping = format!("{}/loop/0#main-key", stand_in.origin);
        let reply = send(
            follow(&stand_in, &base, "alpha"),
            looping,
            stand_in.private_pem.clone(),
        )
        .await;
        assert!(
            reply.expect_problem(401, "unauthorized")["detail"]
                .as_str()
                .unwrap()
                .contains("redirect")
        );

        // Following what does not exist.
        let (key, pem) = own();
        send(follow(&stand_in, &base, "no-such-group"), key, pem)
            .await
            .expect_problem(404, "not-found");

        // Anything else is acknowledged and ignored.
        let like = json!({"id": format!("{}/likes/1", stand_in.actor), "type": "Like",
                          "actor": stand_in.actor, "object": format!("{base}/entries/999999")});
        let (key, pem) = own();
        send(like, key, pem).await.expect(202);

        // Undo of the follow ends it; a re-follow and the actor's Delete end it too.
        let undo = json!({"id": format!("{}/undo/1", stand_in.actor), "type": "Undo",
                          "actor": stand_in.actor, "object": follow(&stand_in, &base, "alpha")});
        let (key, pem) = own();
        send(undo, key, pem).await.expect(202);
        assert_eq!(followers(&world).await, 0);
        let (key, pem) = own();
        send(follow(&stand_in, &base, "alpha"), key, pem)
            .await
            .expect(202);
        assert_eq!(followers(&world).await, 1);
        let delete = json!({"id": format!("{}#delete", stand_in.actor), "type": "Delete",
                            "actor": stand_in.actor, "object": stand_in.actor});
        let (key, pem) = own();
        send(delete, key, pem).await.expect(202);
        assert_eq!(followers(&world).await, 0);
    }
);
