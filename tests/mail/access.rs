//! Access requests, invitations and password resets by mail.

use newsfeed::service::outbox;
use sea_orm::TransactionTrait;
use serde_json::json;

use crate::common::{TestApp, World};
use crate::smtp::SmtpSink;

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
        assert_eq!(received[0].subject(), "Access request: QGIS Lyon");
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
            received[1].subject(),
            "Your access request for QGIS Lyon was not approved"
        );
        assert!(received[1].data.contains("Please apply as QGIS France."));
    }
);

db_test!(
    invitations_and_resets_carry_their_links,
    |app: TestApp| async move {
        let sink = SmtpSink::running();
        let app = app.restart(|c| c.smtp_url = Some(sink.url())).await;
        let services = &app.state.services;
        // What the web pages will call, in the transaction that stores the token.
        let txn = services.db.begin().await.unwrap();
        outbox::enqueue_invitation(
            &txn,
            services,
            "new@example.org",
            "http://127.0.0.1:8080/invite/tok-123",
            "Ada",
            Some("QGIS Bonn"),
        )
        .await
        .unwrap();
        outbox::enqueue_password_reset(
            &txn,
            services,
            "ada@example.org",
            "http://127.0.0.1:8080/reset/tok-456",
        )
        .await
        .unwrap();
        txn.commit().await.unwrap();
        let mut received = sink.wait_for(2).await;
        received.sort_by_key(|mail| mail.to.clone());
        assert_eq!(received[0].to, ["ada@example.org"]);
        assert_eq!(received[0].subject(), "Reset your password on 127.0.0.1");
        assert!(
            received[0]
                .data
                .contains("http://127.0.0.1:8080/reset/tok-456")
        );
        assert_eq!(received[1].to, ["new@example.org"]);
        assert_eq!(received[1].subject(), "Ada invites you to QGIS Bonn");
        assert!(
            received[1]
                .data
                .contains("http://127.0.0.1:8080/invite/tok-123")
        );
    }
);
