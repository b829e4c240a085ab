//! The database goes away: writes are refused at once with 503 and
//! `Retry-After` (never a hang), the feeds and public pages keep answering
//! from the snapshot, and everything works again when it is back.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

use crate::common::{Reply, TestApp, World};

/// Longest a refused write may take while the database is away.
const REFUSED_WITHIN: Duration = Duration::from_secs(5);

/// A TCP relay in front of PostgreSQL that the test cuts and restores: a
/// real network outage as the app sees one (open connections dropped, new
/// ones closed as soon as they arrive).
struct Relay {
    port: u16,
    up: Arc<AtomicBool>,
    links: Arc<std::sync::Mutex<Vec<JoinHandle<()>>>>,
    accept: JoinHandle<()>,
}

impl Relay {
    async fn start(target: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind relay");
        let port = listener.local_addr().expect("relay address").port();
        let up = Arc::new(AtomicBool::new(true));
        let links = Arc::new(std::sync::Mutex::new(Vec::new()));
        let accept = tokio::spawn({
            let (up, links) = (up.clone(), links.clone());
            async move {
                while let Ok((mut client, _)) = listener.accept().await {
                    if !up.load(Ordering::SeqCst) {
                        continue; // dropped: the client sees the connection close
                    }
                    let target = target.clone();
                    let link = tokio::spawn(async move {
                        if let Ok(mut server) = TcpStream::connect(&target).await {
                            let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                        }
                    });
                    links.lock().expect("links").push(link);
                }
            }
        });
        Self {
            port,
            up,
            links,
            accept,
        }
    }

    fn cut(&self) {
        self.up.store(false, Ordering::SeqCst);
        for link in self.links.lock().expect("links").drain(..) {
            link.abort();
        }
    }

    fn restore(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.cut();
        self.accept.abort();
    }
}

async fn new_entry(app: &TestApp, editor: &str) -> Reply {
    app.post(
        "/api/v1/entries",
        Some(editor),
        serde_json::json!({"group": "alpha", "kind": "announcement", "title": "Sent",
                           "content": "<p>Sent while the database may be away</p>"}),
    )
    .await
}

/// While the database cannot write: a write is refused quickly with 503,
/// `Retry-After` and a sentence saying why; the feeds and the entry's page
/// still show entry `live`.
async fn writes_refused_feeds_served(app: &TestApp, editor: &str, live: i64, why: &str) {
    let started = Instant::now();
    let refused = new_entry(app, editor).await;
    let waited = started.elapsed();
    let problem = refused.expect_problem(503, "unavailable");
    assert!(waited < REFUSED_WITHIN, "the write hung for {waited:?}");
    assert_eq!(refused.header("retry-after"), Some("5"));
    assert!(
        problem["detail"].as_str().unwrap().contains(why),
        "{problem}"
    );

    let qgis = app.get("/?json=1", None).await;
    qgis.expect(200);
    assert!(
        qgis.json()
            .as_array()
            .unwrap()
            .iter()
            .any(|item| item["pk"] == live),
        "{}",
        qgis.text
    );
    let page = format!("/entries/{live}");
    for path in ["/feed.rss", "/feed.json", "/feed.atom", "/", &page] {
        let answer = app.get(path, None).await;
        answer.expect(200);
        assert!(
            answer.text.contains("Still here"),
            "{path}: {}",
            answer.text
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(postgres_tests),
    ignore = "set NEWSFEED_TEST_DATABASE_URL to run it on PostgreSQL"
)]
async fn postgres_away_refuses_writes_at_once_and_serves_the_feeds() {
    let Some(app) = TestApp::builder().postgres().await else {
        return;
    };
    let world = World::new(app).await;
    let live = world
        .app
        .published(&world.editor, &world.moderator, "alpha", "Still here")
        .await;
    let mut url = url::Url::parse(&world.app.state.config.database_url).expect("url");
    let target = format!(
        "{}:{}",
        url.host_str().expect("host"),
        url.port().unwrap_or(5432)
    );
    let relay = Relay::start(target).await;
    url.set_port(Some(relay.port)).expect("port");
    let World { app, editor, .. } = world;
    let app = app
        .restart(|config| config.database_url = url.to_string())
        .await;

    relay.cut();
    writes_refused_feeds_served(&app, &editor, live, "the database cannot be reached").await;

    relay.restore();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let reply = new_entry(&app, &editor).await;
        if reply.status == 201 {
            break;
        }
        reply.expect_problem(503, "unavailable");
        assert!(Instant::now() < deadline, "writes never came back");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_read_only_refuses_writes_and_serves_the_feeds() {
    let world = World::new(TestApp::builder().sqlite().await).await;
    let live = world
        .app
        .published(&world.editor, &world.moderator, "alpha", "Still here")
        .await;
    let read_only = world
        .app
        .state
        .config
        .database_url
        .replace("mode=rwc", "mode=ro");
    let World { app, editor, .. } = world;
    let app = app.restart(|config| config.database_url = read_only).await;

    writes_refused_feeds_served(&app, &editor, live, "the database is read-only").await;
}
