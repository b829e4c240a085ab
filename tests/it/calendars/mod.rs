//! Calendar subscriptions and imports: calendar files written by other
//! software (tests/fixtures/calendars), served by the test over loopback.

mod access;
mod fetching;
mod sync;

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use newsfeed::clock::Clock;
use poem::http::{StatusCode, header};
use poem::web::{Data, Path};
use poem::{Body, EndpointExt, Request, Response, Route, handler};
use serde_json::{Value, json};

use crate::common::{Reply, TestApp, TestAppBuilder, World};

/// 2027-01-15, before the events of our own files.
pub const NOW: i64 = 1_800_000_000;

/// `POST /api/v1/groups/alpha/calendars/import` of `file` as the group's
/// owner, its events to become `kind`.
pub async fn import_file(world: &World, file: Vec<u8>, kind: &str) -> Reply {
    use poem::test::{TestForm, TestFormField};
    let form = TestForm::new()
        .field(
            TestFormField::bytes(file)
                .name("file")
                .filename("calendar.ics")
                .content_type("text/calendar"),
        )
        .text("kind", kind);
    let response = world
        .app
        .client
        .post("/api/v1/groups/alpha/calendars/import")
        .header("authorization", format!("Bearer {}", world.owner))
        .multipart(form)
        .send()
        .await;
    Reply::from(response.0).await
}

/// A calendar file of tests/fixtures/calendars.
pub fn fixture(name: &str) -> String {
    let path = format!(
        "{}/tests/fixtures/calendars/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{path}: {error}"))
}

/// The world on a manual clock at `now`, fetching from loopback, without
/// the scheduled worker (tests run each sync themselves) unless `worker`.
pub fn world_at(now: i64, worker: bool) -> TestAppBuilder {
    World::builder()
        .clock(Clock::manual(now))
        .config(move |config| {
            config.fetch_allow_private = true;
            config.calendar_worker = worker;
            // Login tokens outlive the moves of the clock.
            config.token_ttl = 20 * 366 * 86_400;
        })
}

/// The calendars a test serves, by name, and what was asked of them.
#[derive(Default)]
pub struct Source {
    files: Mutex<HashMap<String, String>>,
    pub requests: AtomicUsize,
    pub not_modified: AtomicUsize,
    /// Chunks of 64 KiB the 50 MB answers sent.
    pub chunks_sent: AtomicUsize,
}

/// A calendar server on a loopback port.
pub struct CalendarServer {
    pub base: String,
    pub source: Arc<Source>,
}

impl CalendarServer {
    pub async fn start() -> Self {
        let source = Arc::new(Source::default());
        let address = crate::federation::free_address();
        let routes = Route::new()
            .at("/cal/:name", calendar)
            .at("/loop/:step", redirect_loop)
            .at("/slow", slow)
            .at("/huge", huge)
            .at("/huge-chunked", huge_chunked)
            .data(source.clone());
        let listener = poem::listener::TcpListener::bind(address.clone());
        tokio::spawn(async move {
            let _ = poem::Server::new(listener).run(routes).await;
        });
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(&address).await.is_ok() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Self {
            base: format!("http://{address}"),
            source,
        }
    }

    /// Serves `text` at `/cal/{name}` from now on.
    pub fn put(&self, name: &str, text: &str) {
        self.source
            .files
            .lock()
            .unwrap()
            .insert(name.into(), text.into());
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

/// A calendar with an ETag of its text; `If-None-Match` with it gets 304.
#[handler]
fn calendar(request: &Request, Path(name): Path<String>, source: Data<&Arc<Source>>) -> Response {
    source.requests.fetch_add(1, Ordering::SeqCst);
    let Some(text) = source.files.lock().unwrap().get(&name).cloned() else {
        return StatusCode::NOT_FOUND.into();
    };
    let etag = format!("\"{:x}\"", {
        use std::hash::{Hash, Hasher};
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        text.hash(&mut hasher);
        hasher.finish()
    });
    let matches = request
        .headers()
        .get(header::IF_NONE_MATCH)
        .is_some_and(|value| value.to_str().ok() == Some(etag.as_str()));
    if matches {
        source.not_modified.fetch_add(1, Ordering::SeqCst);
        return Response::builder()
            .status(StatusCode::NOT_MODIFIED)
            .header(header::ETAG, etag)
            .finish();
    }
    Response::builder()
        .header(header::CONTENT_TYPE, "text/calendar; charset=utf-8")
        .header(header::ETAG, etag)
        .body(text)
}

/// Redirects to the next step, forever.
#[handler]
fn redirect_loop(Path(step): Path<u32>) -> Response {
    Response::builder()
        .status(StatusCode::FOUND)
        .header(header::LOCATION, format!("/loop/{}", step + 1))
        .finish()
}

/// Starts a calendar, then stalls for a minute.
#[handler]
fn slow() -> Response {
    let stream = futures_util::stream::unfold(0, |step| async move {
        if step > 0 {
            tokio::time::sleep(Duration::from_secs(60)).await;
        }
        let chunk: Result<Vec<u8>, std::io::Error> = Ok(b"BEGIN:VCALENDAR\r\n".to_vec());
        (step < 2).then_some((chunk, step + 1))
    });
    Response::builder()
        .header(header::CONTENT_TYPE, "text/calendar")
        .body(Body::from_bytes_stream(stream))
}

const HUGE_BYTES: usize = 50 * 1024 * 1024;
const CHUNK_BYTES: usize = 64 * 1024;

/// 50 MB of blanks, made as they are sent.
fn huge_body(source: Arc<Source>) -> Body {
    let stream = futures_util::stream::unfold(0usize, move |sent| {
        let source = source.clone();
        async move {
            (sent < HUGE_BYTES).then(|| {
                source.chunks_sent.fetch_add(1, Ordering::SeqCst);
                let chunk: Result<Vec<u8>, std::io::Error> = Ok(vec![b' '; CHUNK_BYTES]);
                (chunk, sent + CHUNK_BYTES)
            })
        }
    });
    Body::from_bytes_stream(stream)
}

/// 50 MB announced by `Content-Length`.
#[handler]
fn huge(source: Data<&Arc<Source>>) -> Response {
    Response::builder()
        .header(header::CONTENT_TYPE, "text/calendar")
        .header(header::CONTENT_LENGTH, HUGE_BYTES.to_string())
        .body(huge_body(source.clone()))
}

/// 50 MB in chunks, its length unannounced.
#[handler]
fn huge_chunked(source: Data<&Arc<Source>>) -> Response {
    Response::builder()
        .header(header::CONTENT_TYPE, "text/calendar")
        .body(huge_body(source.clone()))
}

/// Subscribes `alpha` to `url` as `token`; returns the reply.
pub async fn subscribe(world: &World, token: &str, url: &str, auto_approve: bool) -> Reply {
    world
        .app
        .post(
            "/api/v1/groups/alpha/calendars",
            Some(token),
            json!({"url": url, "kind": "meetup", "auto_approve": auto_approve}),
        )
        .await
}

/// Subscribes `alpha` (as its owner) and returns the subscription's id.
pub async fn subscribed(world: &World, url: &str) -> i64 {
    subscribe(world, &world.owner, url, false)
        .await
        .expect(201)
        .json()["id"]
        .as_i64()
        .unwrap()
}

/// Runs subscription `id` now as the owner; returns the run.
pub async fn sync(world: &World, id: i64) -> Value {
    world
        .app
        .post(
            &format!("/api/v1/groups/alpha/calendars/{id}/sync"),
            Some(&world.owner),
            json!({}),
        )
        .await
        .expect(200)
        .json()
}

/// `alpha`'s entries (as its owner), newest first.
pub async fn entry_list(app: &TestApp, owner: &str) -> Vec<Value> {
    let list = app
        .get("/api/v1/entries?group=alpha&limit=200", Some(owner))
        .await
        .expect(200)
        .json();
    list["items"].as_array().unwrap().clone()
}

/// `alpha`'s entries (as its owner), by title.
pub async fn entries(app: &TestApp, owner: &str) -> HashMap<String, Value> {
    entry_list(app, owner)
        .await
        .into_iter()
        .map(|entry| (entry["title"].as_str().unwrap().to_string(), entry))
        .collect()
}
