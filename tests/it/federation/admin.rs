//! `/admin/fediverse`: handles, followers and failed deliveries, for admins only.

use newsfeed::domain::DeliveryKind;
use newsfeed::service::federation::queue::{self, Delivery};

use super::*;
use crate::common::{TestApp, World};
use crate::web::support::Browser;

db_test!(
    admins_see_followers_and_retry_failed_deliveries,
    world_at_free_address(),
    |app: TestApp| async move {
        let world = World::new(app).await;
        let base = world.app.state.config.public_base_url();
        let host = base.trim_start_matches("http://").to_string();
        let stand_in = StandIn::start().await;
        federate_alpha(&world).await;
        let follow = json!({"id": format!("{}/follows/1", stand_in.actor), "type": "Follow",
                            "actor": stand_in.actor, "object": format!("{base}/groups/alpha")})
        .to_string();
        let headers = signed_headers(
            &host,
            "/groups/alpha/inbox",
            follow.as_bytes(),
            &stand_in.key_id,
            &stand_in.private_pem,
            &http_date_now(),
        );
        post_signed(
            &world.app,
            "/groups/alpha/inbox",
            follow.as_bytes(),
            &headers,
        )
        .await
        .expect(202);

        // A receiver that refuses for good (405: its address takes no POST).
        let services = &world.app.state.services;
        queue::insert(
            &services.db,
            services,
            Delivery {
                kind: DeliveryKind::ActivityPub,
                target: format!("{}/loop/0", stand_in.origin),
                actor: Some("site".into()),
                body: "{}".into(),
                entry_id: None,
            },
        )
        .await
        .unwrap();
        services.deliveries.wake.notify_one();
        let failed = eventually(
            "the refused delivery",
            || queue::failures(services, 10),
            |got| got.as_ref().is_ok_and(|rows| !rows.is_empty()),
        )
        .await
        .unwrap();

        let admin = Browser::signed_in(&world.app, "admin@example.org").await;
        let page = admin.get("/admin/fediverse").await;
        page.expect(200);
        page.expect_text(&format!("@alpha@{host}"));
        page.expect_text(&stand_in.actor);
        page.expect_text("405");
        let retry = format!("/admin/fediverse/deliveries/{}/retry", failed[0].id);
        assert!(page.has(&format!("action=\"{retry}\"")), "{}", page.text);
        admin.post(&retry, &[]).await.expect(303);

        let owner = Browser::signed_in(&world.app, "owner@example.org").await;
        owner.get("/admin/fediverse").await.expect(403);
        owner.post(&retry, &[]).await.expect(403);
    }
);
