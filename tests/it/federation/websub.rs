//! WebSub: feeds name their hubs, and the hubs are pinged once per change.

use serde_json::json;

use super::*;
use crate::common::{TestApp, World};

fn pinged_feeds(stand_in: &StandIn) -> Vec<String> {
    let mut feeds: Vec<String> = stand_in
        .received()
        .into_iter()
        .filter(|request| request.path == "/hub")
        .map(|request| {
            let form: Vec<(String, String)> = url::form_urlencoded::parse(request.body.as_bytes())
                .into_owned()
                .collect();
            assert!(
                form.contains(&("hub.mode".into(), "publish".into())),
                "{form:?}"
            );
            form.into_iter()
                .find(|(name, _)| name == "hub.url")
                .map(|(_, url)| url)
                .unwrap()
        })
        .collect();
    feeds.sort();
    feeds
}

db_test!(
    hubs_are_named_by_the_feeds_and_pinged_once_per_change,
    |app: TestApp| async move {
        let stand_in = StandIn::start().await;
        let hub = format!("{}/hub", stand_in.origin);
        let app = app
            .restart(|config| {
                config.websub_hubs = vec![hub.clone()];
                config.federation_allow_private = true;
            })
            .await;
        let world = World::new(app).await;
        let base = world.app.state.config.public_base_url();

        let rss = world
            .app
            .get("/feed.rss", None)
            .await
            .expect(200)
            .text
            .clone();
        assert!(
            rss.contains(&format!("href=\"{hub}\"")) && rss.contains("rel=\"hub\""),
            "{rss}"
        );
        let atom = world.app.get("/groups/alpha/feed.atom", None).await;
        assert!(
            atom.text.contains(&format!("href=\"{hub}\"")),
            "{}",
            atom.text
        );
        assert_eq!(
            atom.header("link"),
            Some(
                format!("<{hub}>; rel=\"hub\", <{base}/groups/alpha/feed.atom>; rel=\"self\"")
                    .as_str()
            )
        );
        assert!(
            world
                .app
                .get("/feed.json", None)
                .await
                .header("link")
                .is_none()
        );

        let expected = |times: usize| {
            let mut feeds = Vec::new();
            for _ in 0..times {
                for path in [
                    "/feed.atom",
                    "/feed.rss",
                    "/groups/alpha/feed.atom",
                    "/groups/alpha/feed.rss",
                ] {
                    feeds.push(format!("{base}{path}"));
                }
            }
            feeds.sort();
            feeds
        };
        let id = world.publish(json!({"title": "Pinged"}), json!({})).await;
        eventually(
            "the pings of a publication",
            || async { pinged_feeds(&stand_in) },
            |got| *got == expected(1),
        )
        .await;

        world
            .app
            .post(
                &format!("/api/v1/moderation/entries/{id}/unpublish"),
                Some(&world.moderator),
                json!({"comment": "gone"}),
            )
            .await
            .expect(200);
        eventually(
            "the pings of an unpublication",
            || async { pinged_feeds(&stand_in) },
            |got| *got == expected(2),
        )
        .await;
        // Nothing more comes for the same change.
        tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
        assert_eq!(pinged_feeds(&stand_in), expected(2));
    }
);
