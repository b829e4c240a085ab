//! Fakes of the three networks' APIs (none can run here: Mastodon needs
//! Ruby, PostgreSQL and Redis; Telegram is a closed service; a Bluesky PDS
//! needs a PLC directory). Each is named a fake, checks every request
//! against the published reference (recording what breaks it as a
//! violation, answered 400) and answers as the reference documents:
//!
//! - Mastodon: docs.joinmastodon.org, API as of Mastodon 4.3
//!   (`POST /api/v1/media`, `POST /api/v1/statuses`, `DELETE
//!   /api/v1/statuses/:id`; OAuth bearer tokens; errors `{"error": ...}`).
//! - Telegram: core.telegram.org/bots/api, Bot API 8.x (`sendMessage`,
//!   `sendPhoto`, `deleteMessage` at `/bot<token>/<method>`; answers
//!   `{"ok", "result"}`; errors carry `error_code`, `description` and
//!   `parameters.retry_after` on 429).
//! - Bluesky: the atproto lexicons (`com.atproto.server.createSession`,
//!   `com.atproto.repo.uploadBlob`, `com.atproto.repo.createRecord`,
//!   `com.atproto.repo.deleteRecord`, records `app.bsky.feed.post` with
//!   `app.bsky.richtext.facet#link` facets and `app.bsky.embed.external`).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use poem::http::StatusCode;
use poem::web::{Data, Multipart};
use poem::{EndpointExt, Request, Response, Route, handler};
use serde_json::{Value, json};
use unicode_segmentation::UnicodeSegmentation;

use crate::federation::free_address;

pub const MASTODON_TOKEN: &str = "mastodon-secret-token-4a1f";
pub const BLUESKY_PASSWORD: &str = "bsky-app-pass-9c2e";
pub const BLUESKY_HANDLE: &str = "group.bsky.example";
pub const TELEGRAM_TOKEN: &str = "123456:telegram-secret-Ab9";
pub const TELEGRAM_CHAT: &str = "@qgisnews";
const BLUESKY_DID: &str = "did:plc:fakegroup";
const BLUESKY_JWT: &str = "fake-access-jwt";

/// Which network a fake stands in for.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Network {
    Mastodon,
    Bluesky,
    Telegram,
}

/// How the fake answers from now on.
#[derive(Clone, Debug)]
pub enum Answer {
    /// As documented for a success.
    Success,
    /// This error status, with `Retry-After` seconds if given.
    Error(u16, Option<u64>),
    /// Never in time (the client's timeout ends it).
    Hang,
}

/// One request the fake received: a multipart body is kept by part.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub authorization: Option<String>,
    pub content_type: String,
    pub idempotency_key: Option<String>,
    pub json: Value,
    /// Form fields, and multipart parts (a file part's value is its size).
    pub fields: Vec<(String, String)>,
    pub files: Vec<(String, String, usize)>,
}

struct Shared {
    network: Network,
    answer: Mutex<Answer>,
    recorded: Mutex<Vec<Recorded>>,
    violations: Mutex<Vec<String>>,
}

/// A fake network API on a loopback port.
pub struct Fake {
    pub origin: String,
    shared: Arc<Shared>,
}

impl Fake {
    pub async fn start(network: Network) -> Self {
        let address = free_address();
        let shared = Arc::new(Shared {
            network,
            answer: Mutex::new(Answer::Success),
            recorded: Mutex::default(),
            violations: Mutex::default(),
        });
        let routes = Route::new().at("/*path", serve).data(shared.clone());
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
            origin: format!("http://{address}"),
            shared,
        }
    }

    pub fn answer(&self, answer: Answer) {
        *self.shared.answer.lock().unwrap() = answer;
    }

    pub fn recorded(&self) -> Vec<Recorded> {
        self.shared.recorded.lock().unwrap().clone()
    }

    /// Asserts that every request so far followed the reference.
    #[track_caller]
    pub fn assert_no_violations(&self) {
        let violations = self.shared.violations.lock().unwrap().clone();
        assert!(
            violations.is_empty(),
            "requests broke the reference: {violations:#?}"
        );
    }
}

async fn record(request: &Request, body: poem::Body) -> Recorded {
    let header = |name: &str| {
        request
            .headers()
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::to_string)
    };
    let content_type = header("content-type").unwrap_or_default();
    let mut recorded = Recorded {
        method: request.method().to_string(),
        path: request.uri().path().to_string(),
        authorization: header("authorization"),
        idempotency_key: header("idempotency-key"),
        content_type: content_type.clone(),
        json: Value::Null,
        fields: Vec::new(),
        files: Vec::new(),
    };
    if content_type.starts_with("multipart/form-data") {
        let Ok(mut multipart) = <Multipart as poem::FromRequest>::from_request(
            request,
            &mut poem::RequestBody::new(body),
        )
        .await
        else {
            return recorded;
        };
        while let Ok(Some(field)) = multipart.next_field().await {
            let name = field.name().unwrap_or_default().to_string();
            match field.file_name().map(str::to_string) {
                Some(file_name) => {
                    let part_type = field.content_type().unwrap_or_default().to_string();
                    let bytes = field.bytes().await.unwrap_or_default();
                    recorded.files.push((name, part_type, bytes.len()));
                    let _ = file_name;
                }
                None => {
                    let text = field.text().await.unwrap_or_default();
                    recorded.fields.push((name, text));
                }
            }
        }
        return recorded;
    }
    let bytes = body.into_vec().await.unwrap_or_default();
    if content_type.starts_with("application/json") {
        recorded.json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    } else if content_type.starts_with("application/x-www-form-urlencoded") {
        recorded.fields = url::form_urlencoded::parse(&bytes).into_owned().collect();
    } else if !bytes.is_empty() {
        recorded
            .files
            .push(("body".into(), content_type, bytes.len()));
    }
    recorded
}

#[handler]
async fn serve(request: &Request, body: poem::Body, shared: Data<&Arc<Shared>>) -> Response {
    let recorded = record(request, body).await;
    shared.recorded.lock().unwrap().push(recorded.clone());
    let answer = shared.answer.lock().unwrap().clone();
    let network = shared.network;
    match answer {
        Answer::Hang => {
            tokio::time::sleep(Duration::from_secs(60)).await;
            json_response(StatusCode::GATEWAY_TIMEOUT, json!({}))
        }
        Answer::Error(status, retry_after) => {
            let mut response = json_response(
                StatusCode::from_u16(status).unwrap(),
                error_body(network, status, retry_after),
            );
            if let Some(seconds) = retry_after {
                response
                    .headers_mut()
                    .insert("retry-after", seconds.to_string().parse().unwrap());
            }
            response
        }
        Answer::Success => match check(network, &recorded) {
            Ok(answer) => json_response(StatusCode::OK, answer),
            Err(violation) => {
                shared.violations.lock().unwrap().push(format!(
                    "{} {}: {violation}",
                    recorded.method, recorded.path
                ));
                json_response(StatusCode::BAD_REQUEST, json!({"error": violation}))
            }
        },
    }
}

fn json_response(status: StatusCode, body: Value) -> Response {
    Response::builder()
        .status(status)
        .content_type("application/json")
        .body(body.to_string())
}

/// The error document each network sends.
fn error_body(network: Network, status: u16, retry_after: Option<u64>) -> Value {
    match network {
        Network::Mastodon => json!({"error": format!("fake error {status}")}),
        Network::Bluesky => {
            json!({"error": "InvalidRequest", "message": format!("fake error {status}")})
        }
        Network::Telegram => {
            let mut body = json!({"ok": false, "error_code": status, "description": format!("fake error {status}")});
            if let Some(seconds) = retry_after {
                body["parameters"] = json!({"retry_after": seconds});
            }
            body
        }
    }
}

fn require(condition: bool, violation: &str) -> Result<(), String> {
    if condition {
        Ok(())
    } else {
        Err(violation.to_string())
    }
}

fn field<'a>(recorded: &'a Recorded, name: &str) -> Option<&'a str> {
    recorded
        .fields
        .iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.as_str())
}

fn check(network: Network, recorded: &Recorded) -> Result<Value, String> {
    match network {
        Network::Mastodon => check_mastodon(recorded),
        Network::Bluesky => check_bluesky(recorded),
        Network::Telegram => check_telegram(recorded),
    }
}

fn check_mastodon(recorded: &Recorded) -> Result<Value, String> {
    require(
        recorded.authorization.as_deref() == Some(&format!("Bearer {MASTODON_TOKEN}")),
        "Authorization: Bearer <access token> is required",
    )?;
    match (recorded.method.as_str(), recorded.path.as_str()) {
        ("POST", "/api/v1/media") => {
            require(
                recorded.content_type.starts_with("multipart/form-data"),
                "media is multipart/form-data",
            )?;
            require(
                recorded.files.iter().any(|(name, kind, size)| {
                    name == "file" && kind.starts_with("image/") && *size > 0
                }),
                "a `file` part with the image is required",
            )?;
            let description = field(recorded, "description").unwrap_or_default();
            require(
                description.chars().count() <= 1500,
                "description is at most 1500 characters",
            )?;
            Ok(
                json!({"id": "22348641", "type": "image", "url": "https://files.example/1.jpg",
                      "preview_url": "https://files.example/1s.jpg", "description": description, "blurhash": null}),
            )
        }
        ("POST", "/api/v1/statuses") => {
            require(
                recorded
                    .content_type
                    .starts_with("application/x-www-form-urlencoded")
                    || recorded.content_type.starts_with("application/json"),
                "statuses takes form or JSON parameters",
            )?;
            let status = field(recorded, "status").unwrap_or_default();
            let media = recorded
                .fields
                .iter()
                .filter(|(key, _)| key == "media_ids[]")
                .count();
            require(
                !status.is_empty() || media > 0,
                "status is required without media_ids[]",
            )?;
            require(media <= 4, "at most 4 media_ids[]")?;
            require(
                field(recorded, "visibility")
                    .is_none_or(|v| ["public", "unlisted", "private", "direct"].contains(&v)),
                "visibility is public, unlisted, private or direct",
            )?;
            require(
                recorded.idempotency_key.is_some(),
                "the fake expects an Idempotency-Key",
            )?;
            Ok(
                json!({"id": "103270115826048975", "url": "https://mastodon.example/@group/103270115826048975",
                      "content": status, "visibility": field(recorded, "visibility").unwrap_or("public"),
                      "media_attachments": []}),
            )
        }
        ("DELETE", path) if path.starts_with("/api/v1/statuses/") => {
            Ok(json!({"id": path.trim_start_matches("/api/v1/statuses/"), "text": ""}))
        }
        _ => Err("no such method".into()),
    }
}

fn check_telegram(recorded: &Recorded) -> Result<Value, String> {
    let prefix = format!("/bot{TELEGRAM_TOKEN}/");
    let method = recorded
        .path
        .strip_prefix(&prefix)
        .ok_or("the path is /bot<token>/<method> with the bot's token")?;
    require(
        recorded.method == "POST" || recorded.method == "GET",
        "GET or POST",
    )?;
    let param = |name: &str| -> Option<String> {
        match recorded.json.get(name) {
            Some(Value::String(text)) => Some(text.clone()),
            Some(Value::Number(number)) => Some(number.to_string()),
            _ => field(recorded, name).map(str::to_string),
        }
    };
    require(
        param("chat_id").as_deref() == Some(TELEGRAM_CHAT),
        "chat_id is the chat's",
    )?;
    let message = |extra: Value| {
        let mut result = json!({"message_id": 4242, "date": 1_900_000_000,
            "chat": {"id": -1001234567890_i64, "type": "channel", "title": "QGIS news", "username": "qgisnews"}});
        for (key, value) in extra.as_object().unwrap() {
            result[key] = value.clone();
        }
        json!({"ok": true, "result": result})
    };
    match method {
        "sendMessage" => {
            let text = param("text").unwrap_or_default();
            require(
                !text.is_empty() && text.encode_utf16().count() <= 4096,
                "text is 1-4096 characters",
            )?;
            Ok(message(json!({"text": text})))
        }
        "sendPhoto" => {
            require(
                recorded
                    .files
                    .iter()
                    .any(|(name, _, size)| name == "photo" && *size > 0)
                    || param("photo").is_some(),
                "photo is required",
            )?;
            let caption = param("caption").unwrap_or_default();
            require(
                caption.encode_utf16().count() <= 1024,
                "caption is 0-1024 characters",
            )?;
            Ok(message(
                json!({"caption": caption, "photo": [{"file_id": "AgAD", "width": 500, "height": 354}]}),
            ))
        }
        "deleteMessage" => {
            require(
                param("message_id").is_some_and(|id| id.parse::<i64>().is_ok()),
                "message_id is an integer",
            )?;
            Ok(json!({"ok": true, "result": true}))
        }
        _ => Err(format!("no method {method}")),
    }
}

fn check_bluesky(recorded: &Recorded) -> Result<Value, String> {
    require(recorded.method == "POST", "these procedures are POSTed")?;
    let bearer = recorded.authorization.as_deref() == Some(&format!("Bearer {BLUESKY_JWT}"));
    match recorded.path.as_str() {
        "/xrpc/com.atproto.server.createSession" => {
            require(
                recorded.content_type.starts_with("application/json"),
                "input is application/json",
            )?;
            require(
                recorded.json["identifier"] == BLUESKY_HANDLE
                    && recorded.json["password"] == BLUESKY_PASSWORD,
                "identifier and password are the account's",
            )?;
            Ok(
                json!({"accessJwt": BLUESKY_JWT, "refreshJwt": "fake-refresh", "handle": BLUESKY_HANDLE, "did": BLUESKY_DID}),
            )
        }
        "/xrpc/com.atproto.repo.uploadBlob" => {
            require(bearer, "Authorization: Bearer <accessJwt>")?;
            let size = recorded.files.first().map_or(0, |(_, _, size)| *size);
            require(
                recorded.content_type == "image/jpeg" && size > 0,
                "the blob's bytes with its MIME type",
            )?;
            Ok(
                json!({"blob": {"$type": "blob", "ref": {"$link": "bafkreifakeblob"}, "mimeType": "image/jpeg", "size": size}}),
            )
        }
        "/xrpc/com.atproto.repo.createRecord" => {
            require(bearer, "Authorization: Bearer <accessJwt>")?;
            let input = &recorded.json;
            require(input["repo"] == BLUESKY_DID, "repo is the session's DID")?;
            require(
                input["collection"] == "app.bsky.feed.post",
                "collection is app.bsky.feed.post",
            )?;
            check_post_record(&input["record"])?;
            Ok(
                json!({"uri": format!("at://{BLUESKY_DID}/app.bsky.feed.post/3kfakerkey"), "cid": "bafyreifakecid"}),
            )
        }
        "/xrpc/com.atproto.repo.deleteRecord" => {
            require(bearer, "Authorization: Bearer <accessJwt>")?;
            let input = &recorded.json;
            require(
                input["repo"] == BLUESKY_DID
                    && input["collection"] == "app.bsky.feed.post"
                    && input["rkey"] == "3kfakerkey",
                "repo, collection and rkey of the record",
            )?;
            Ok(json!({}))
        }
        _ => Err("no such procedure".into()),
    }
}

/// An `app.bsky.feed.post` as its lexicon defines it.
fn check_post_record(record: &Value) -> Result<(), String> {
    require(record["$type"] == "app.bsky.feed.post", "record $type")?;
    let text = record["text"].as_str().ok_or("text is required")?;
    require(
        text.graphemes(true).count() <= 300 && text.len() <= 3000,
        "text: at most 300 graphemes, 3000 bytes",
    )?;
    require(
        record["createdAt"]
            .as_str()
            .is_some_and(|at| chrono::DateTime::parse_from_rfc3339(at).is_ok()),
        "createdAt is a datetime",
    )?;
    for facet in record["facets"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
    {
        let start = facet["index"]["byteStart"].as_u64().ok_or("byteStart")? as usize;
        let end = facet["index"]["byteEnd"].as_u64().ok_or("byteEnd")? as usize;
        let feature = &facet["features"][0];
        require(
            feature["$type"] == "app.bsky.richtext.facet#link",
            "link facet $type",
        )?;
        require(
            end <= text.len() && start < end && text.get(start..end) == feature["uri"].as_str(),
            "a link facet's byte range covers its uri",
        )?;
    }
    let embed = &record["embed"];
    require(embed["$type"] == "app.bsky.embed.external", "embed $type")?;
    let external = &embed["external"];
    require(
        external["uri"].is_string()
            && external["title"].is_string()
            && external["description"].is_string(),
        "external has uri, title and description",
    )?;
    if !external["thumb"].is_null() {
        require(external["thumb"]["$type"] == "blob", "thumb is a blob")?;
    }
    Ok(())
}

/// The JSON an account of `network` is connected with, on `fake`.
pub fn account(network: Network, fake: &Fake, group: Option<&str>) -> Value {
    let (name, credentials) = match network {
        Network::Mastodon => ("mastodon", json!({"access_token": MASTODON_TOKEN})),
        Network::Bluesky => (
            "bluesky",
            json!({"handle": BLUESKY_HANDLE, "app_password": BLUESKY_PASSWORD}),
        ),
        Network::Telegram => (
            "telegram",
            json!({"bot_token": TELEGRAM_TOKEN, "chat_id": TELEGRAM_CHAT}),
        ),
    };
    let mut body = json!({"network": name, "server": fake.origin, "credentials": credentials});
    if let Some(group) = group {
        body["group"] = json!(group);
    }
    body
}

/// Every secret the fakes' accounts use.
pub const SECRETS: [&str; 3] = [MASTODON_TOKEN, BLUESKY_PASSWORD, TELEGRAM_TOKEN];

pub fn method_of(recorded: &[Recorded]) -> Vec<String> {
    recorded
        .iter()
        .map(|request| {
            let path = request.path.rsplit('/').next().unwrap_or_default();
            format!("{} {path}", request.method)
        })
        .collect()
}
