//! The outbox queue under workers that claim at the same moment: every due
//! mail is taken by exactly one of them.

use std::collections::BTreeSet;

use newsfeed::service::outbox::queue;
use serde_json::json;

use crate::common::{TestApp, World};

db_test!(
    workers_claiming_at_once_never_take_one_mail_twice,
    World::builder().config(|config| {
        // The test is the only worker.
        config.mail_worker = false;
        config.access_requests_per_hour = 1000;
    }),
    |app: TestApp| async move {
        let world = World::new(app).await;
        for n in 0..45 {
            world
                .app
                .post(
                    "/api/v1/access-requests",
                    None,
                    json!({"group_name": format!("QGIS Town {n}"),
                           "contact_email": format!("town{n}@example.org"), "country": "FR"}),
                )
                .await
                .expect(201);
        }
        let services = &world.app.state.services;
        let claims = (0..4).map(|_| queue::claim_due(services));
        let mut seen = BTreeSet::new();
        let mut claimed = 0;
        for messages in futures_util::future::join_all(claims).await {
            for message in messages.expect("claim") {
                for id in message.ids {
                    claimed += 1;
                    seen.insert(id);
                }
            }
        }
        // Rows another worker holds are left for the next round: claim
        // until nothing is left.
        loop {
            let messages = queue::claim_due(services).await.expect("claim");
            if messages.is_empty() {
                break;
            }
            for message in messages {
                for id in message.ids {
                    claimed += 1;
                    seen.insert(id);
                }
            }
        }
        assert_eq!(claimed, seen.len(), "a mail was claimed twice");
        assert_eq!(seen.len(), 45, "every mail was claimed");
    }
);
