//! The fediverse from outside: the app served over TCP at its public URL,
//! followed by an independent implementation (Fedify, `fedify.rs`), by a
//! signing stand-in we control (`inbox.rs`, for the hostile cases), and
//! read as documents (`documents.rs`).

mod admin;
mod documents;
mod fedify;
mod inbox;
mod websub;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use newsfeed::domain::federation::signature;
use poem::http::StatusCode;
use poem::web::{Data, Path};
use poem::{EndpointExt, Request, Response, Route, get, handler, post};
use serde_json::{Value, json};

use crate::common::{TestApp, TestAppBuilder, World};

/// A loopback address nobody listens on yet.
pub fn free_address() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("address").to_string()
}

/// The world's builder, its public URL a free loopback address, federating over loopback.
pub fn world_at_free_address() -> TestAppBuilder {
    let address = free_address();
    World::builder().config(move |config| {
        config.public_url = Some(format!("http://{address}"));
        config.federation_allow_private = true;
    })
}

/// Serves `app` on the address of its public URL.
pub async fn serve(app: TestApp) -> (World, String) {
    let base = app.state.config.public_base_url();
    let address = base.trim_start_matches("http://").to_string();
    let endpoint = newsfeed::app(app.state.clone());
    let listener = poem::listener::TcpListener::bind(address.clone());
    tokio::spawn(async move {
        let _ = poem::Server::new(listener).run(endpoint).await;
    });
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(&address).await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    (World::new(app).await, base)
}

/// Turns federation on for `alpha`, as its owner.
pub async fn federate_alpha(world: &World) {
    world
        .app
        .patch(
            "/api/v1/groups/alpha",
            Some(&world.owner),
            json!({"federated": true}),
        )
        .await
        .expect(200);
}

/// Polls `read` every 100 ms until `done` holds (at most 20 s), and returns the last reading.
pub async fn eventually<T, F, Fut>(what: &str, mut read: F, done: impl Fn(&T) -> bool) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = T>,
    T: std::fmt::Debug,
{
    let mut last = read().await;
    for _ in 0..200 {
        if done(&last) {
            return last;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        last = read().await;
    }
    panic!("{what} did not happen within 20 s; last seen: {last:?}");
}

/// One request the stand-in received.
#[derive(Clone, Debug)]
pub struct Received {
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

/// A remote server we control: one actor (`/users/test`) with its own key,
/// an inbox and a WebSub hub that record what arrives, and a redirect loop.
pub struct StandIn {
    pub origin: String,
    pub actor: String,
    pub key_id: String,
    pub private_pem: String,
    pub received: Arc<Mutex<Vec<Received>>>,
}

struct StandInState {
    actor: Value,
    received: Arc<Mutex<Vec<Received>>>,
}

#[handler]
fn stand_in_actor(state: Data<&Arc<StandInState>>) -> Response {
    Response::builder()
        .content_type("application/activity+json")
        .body(state.actor.to_string())
}

#[handler]
async fn stand_in_record(
    state: Data<&Arc<StandInState>>,
    request: &Request,
    body: String,
) -> StatusCode {
    let headers = request
        .headers()
        .iter()
        .map(|(name, value)| {
            (
                name.to_string(),
                value.to_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    state.received.lock().unwrap().push(Received {
        path: request.uri().path().to_string(),
        headers,
        body,
    });
    StatusCode::ACCEPTED
}

#[handler]
fn stand_in_loop(Path(step): Path<u32>) -> Response {
    Response::builder()
        .status(StatusCode::FOUND)
        .header("location", format!("/loop/{}", step + 1))
        .finish()
}

impl StandIn {
    pub async fn start() -> Self {
        let address = free_address();
        let origin = format!("http://{address}");
        let actor = format!("{origin}/users/test");
        let key_id = format!("{actor}#main-key");
        let (public_pem, private_pem) = signature::generate_key().unwrap();
        let received = Arc::new(Mutex::new(Vec::new()));
        let state = Arc::new(StandInState {
            actor: json!({
                "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
                "id": actor, "type": "Person", "preferredUsername": "test",
                "inbox": format!("{actor}/inbox"),
                "endpoints": {"sharedInbox": format!("{origin}/inbox")},
                "publicKey": {"id": key_id, "owner": actor, "publicKeyPem": public_pem},
            }),
            received: received.clone(),
        });
        let routes = Route::new()
            .at("/users/test", get(stand_in_actor))
            .at("/users/test/inbox", post(stand_in_record))
            .at("/inbox", post(stand_in_record))
            .at("/hub", post(stand_in_record))
            .at("/loop/:step", get(stand_in_loop))
            .data(state);
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
            origin,
            actor,
            key_id,
            private_pem,
            received,
        }
    }

    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }
}

/// Headers of a POST of `body` to `path` on `host`, signed by `key_id` with `private_pem`.
pub fn signed_headers(
    host: &str,
    path: &str,
    body: &[u8],
    key_id: &str,
    private_pem: &str,
    date: &str,
) -> Vec<(String, String)> {
    let digest = signature::digest(body);
    let text =
        format!("(request-target): post {path}\nhost: {host}\ndate: {date}\ndigest: {digest}");
    let key = signature::private_key(private_pem).unwrap();
    let signed = signature::sign(&key, &text).unwrap();
    vec![
        ("host".into(), host.into()),
        ("date".into(), date.into()),
        ("digest".into(), digest),
        (
            "signature".into(),
            signature::header_value(
                key_id,
                &["(request-target)", "host", "date", "digest"],
                &signed,
            ),
        ),
        ("content-type".into(), "application/activity+json".into()),
    ]
}

pub fn http_date_now() -> String {
    httpdate::fmt_http_date(std::time::SystemTime::now())
}

/// POSTs `activity` to `path` of `app` with `headers`.
pub async fn post_signed(
    app: &TestApp,
    path: &str,
    body: &[u8],
    headers: &[(String, String)],
) -> crate::common::Reply {
    let mut request = app.client.post(path).body(body.to_vec());
    for (name, value) in headers {
        request = request.header(name.as_str(), value.as_str());
    }
    crate::common::Reply::from(request.send().await.0).await
}
