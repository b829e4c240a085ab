//! Access requests, invitations and password resets by mail.

use newsfeed::domain::{GroupRole, Role};
use newsfeed::service::accounts::{self, Invitation, Invited};
use newsfeed::service::auth;
use serde_json::json;

use crate::common::{TestApp, World};
use crate::mail::smtp::SmtpSink;

db_test!(
    admins_hear_of_access_requests_and_the_requester_of_the_answer,
    |app: TestApp| async move {
        let sink = SmtpSink::running();
        let app = app.restart(|c| c.smtp_url = Some(sink.url())).await;
        let world = World::new(app).await;
        let request = world
            .app
            .post(
                "/api/v1/access-requests",
                None,
                json!({"group_name": "QGIS Lyon", "contact_email": "lyon@example.org",
                       "country": "FR", "message": "We meet monthly."}),
            )
            .await
            .expect(201)
            .json();
        let received = sink.wait_for(1).await;
        assert_eq!(received[0].to, ["admin@example.org"]);
        assert_eq!(received[0].topic(), "Access request: QGIS Lyon");
        assert!(received[0].data.contains("/admin/access-requests"));
        assert!(received[0].data.contains("We meet monthly."));
        world
            .app
            .post(
                &format!("/api/v1/access-requests/{}/reject", request["id"]),
                Some(&world.admin),
                json!({"comment": "Please apply as QGIS France."}),
            )
            .await
            .expect(200);
        let received = sink.wait_for(2).await;
        assert_eq!(received[1].to, ["lyon@example.org"]);
        assert_eq!(
            received[1].topic(),
            "Your access request for QGIS Lyon was not approved"
        );
        assert!(received[1].data.contains("Please apply as QGIS France."));

        // Approved: the contact hears of it and is invited to own the group.
        let request = world
            .app
            .post(
                "/api/v1/access-requests",
                None,
                json!({"group_name": "QGIS France", "contact_email": "france@example.org",
                       "country": "FR"}),
            )
            .await
            .expect(201)
            .json();
        sink.wait_for(3).await;
        world
            .app
            .post(
                &format!("/api/v1/access-requests/{}/approve", request["id"]),
                Some(&world.admin),
                json!({}),
            )
            .await
            .expect(200);
        let mut received = sink.wait_for(5).await.split_off(3);
        // The invitation first.
        received.sort_by_key(|mail| !mail.topic().contains("invites you"));
        assert!(
            received
                .iter()
                .all(|mail| mail.to == ["france@example.org"])
        );
        assert!(
            received[0].topic().ends_with("invites you to QGIS France"),
            "{}",
            received[0].topic()
        );
        assert!(received[0].data.contains("/invite/"));
        assert!(
            received[1].topic().contains("approved"),
            "{}",
            received[1].topic()
        );
        let members = world
            .app
            .get(
                &format!(
                    "/api/v1/groups/{}/members",
                    request["slug"].as_str().unwrap()
                ),
                Some(&world.admin),
            )
            .await
            .expect(200)
            .json();
        assert_eq!(members[0]["role"], "owner", "{members}");
    }
);

db_test!(
    invitations_and_resets_carry_their_links,
    |app: TestApp| async move {
        let sink = SmtpSink::running();
        let app = app.restart(|c| c.smtp_url = Some(sink.url())).await;
        let world = World::new(app).await;
        let services = &world.app.state.services;
        // What the admin pages and the reset form call.
        let admin = auth::authenticate(services, &world.admin).await.unwrap();
        let invitation = Invitation {
            email: "new@example.org".into(),
            display_name: String::new(),
            role: Role::Member,
            group: Some(("alpha".into(), GroupRole::Editor)),
        };
        let Invited::Link(invited) = accounts::invite(services, &admin, invitation)
            .await
            .unwrap()
        else {
            panic!("a new address gets a link")
        };
        let reset = accounts::request_reset(services, "editor@example.org", "test")
            .await
            .unwrap()
            .unwrap();
        let mut received = sink.wait_for(2).await;
        received.sort_by_key(|mail| mail.to.clone());
        let host = world.app.state.config.public_host().unwrap();
        assert_eq!(received[0].to, ["editor@example.org"]);
        assert_eq!(
            received[0].subject(),
            format!("[{host}] Reset your password")
        );
        assert!(
            received[0].data.contains(&reset.link),
            "{}",
            received[0].data
        );
        assert_eq!(received[1].to, ["new@example.org"]);
        assert!(
            received[1].topic().ends_with("invites you to Group alpha"),
            "{}",
            received[1].topic()
        );
        assert!(
            received[1].data.contains(&invited.link),
            "{}",
            received[1].data
        );
        // The mailed links open their pages.
        for link in [&invited.link, &reset.link] {
            let path = link.replace(&world.app.state.config.public_base_url(), "");
            world.app.get(&path, None).await.expect(200);
        }
    }
);
