//! Several instances on one PostgreSQL: a change made through one shows in the
//! feeds of the others (LISTEN/NOTIFY), without waiting for a scheduled reload.

use std::time::{Duration, Instant};

use newsfeed::AppState;
use poem::EndpointExt;
use poem::test::TestClient;

use crate::common::{TestApp, World};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(postgres_tests),
    ignore = "set NEWSFEED_TEST_DATABASE_URL to run it on PostgreSQL"
)]
async fn a_change_on_one_instance_reaches_the_others() {
    // Only PostgreSQL has several instances; SQLite serves from one process.
    let Some(app) = TestApp::builder().postgres().await else {
        return;
    };
    let other = AppState::new((*app.state.config).clone())
        .await
        .expect("second instance");
    let other_client = TestClient::new(newsfeed::app(other).boxed());
    let world = World::new(app).await;
    let id = world
        .app
        .published(&world.editor, &world.moderator, "alpha", "Cluster news")
        .await;

    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let response = other_client.get("/?json=1").send().await.0;
        let body = response.into_body().into_string().await.expect("body");
        let items: serde_json::Value = serde_json::from_str(&body).expect("json");
        if items
            .as_array()
            .is_some_and(|items| items.iter().any(|item| item["pk"] == id))
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the other instance never saw entry {id}: {body}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
