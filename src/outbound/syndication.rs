//! Cross-posting over each network's API, through the guarded client:
//! Mastodon (`POST /api/v1/media`, `POST /api/v1/statuses`, `DELETE
//! /api/v1/statuses/:id`), Bluesky (a session, the picture as a blob, an
//! `app.bsky.feed.post` record with link facets and an external card,
//! `deleteRecord`), Telegram's Bot API (`sendPhoto`/`sendMessage`,
//! `deleteMessage`).

use reqwest::Method;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

use super::client::{ApiRequest, Body, Client, Failure};
use crate::domain::Network;
use crate::domain::syndication::{self, Credentials};

/// Longest alt text Mastodon keeps.
const MASTODON_ALT_CHARS: usize = 1500;
/// The record type of a Bluesky post.
const BLUESKY_POST: &str = "app.bsky.feed.post";

/// A picture to attach, with its alt text.
pub struct Picture {
    pub bytes: Vec<u8>,
    pub alt: String,
}

/// A post to make.
pub struct Post {
    pub text: String,
    /// The entry's page (Bluesky's link card points there).
    pub link: String,
    pub title: String,
    pub description: String,
    pub language: Option<String>,
    pub picture: Option<Picture>,
    /// The same on every attempt, so Mastodon makes the post once.
    pub idempotency_key: String,
    /// RFC 3339 (Bluesky's `createdAt`).
    pub created_at: String,
}

/// What to do on the network.
pub enum Action {
    Create(Box<Post>),
    Delete { remote_id: String },
}

/// One request of the queue to a network, with the account's credentials.
pub struct Job {
    pub server: String,
    pub credentials: Credentials,
    pub action: Action,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Job({:?} at {})", self.credentials, self.server)
    }
}

/// A post made: its id on the network, and its address when it has one.
#[derive(Debug)]
pub struct Posted {
    pub remote_id: String,
    pub url: Option<String>,
}

/// Does `job`; a new post's id and address, or nothing for a deletion.
pub async fn run(client: &Client, job: &Job) -> Result<Option<Posted>, Failure> {
    let server = job.server.as_str();
    match (&job.credentials, &job.action) {
        (Credentials::Mastodon { access_token }, Action::Create(post)) => {
            mastodon_post(client, server, access_token, post)
                .await
                .map(Some)
        }
        (Credentials::Mastodon { access_token }, Action::Delete { remote_id }) => {
            let url = format!("{server}/api/v1/statuses/{}", path_segment(remote_id)?);
            let request = api(Method::DELETE, url, Some(access_token), Body::Empty);
            client.call(request).await.map(|_| None)
        }
        (
            Credentials::Bluesky {
                handle,
                app_password,
            },
            action,
        ) => {
            let session = bluesky_session(client, server, handle, app_password).await?;
            match action {
                Action::Create(post) => {
                    bluesky_post(client, server, &session, post).await.map(Some)
                }
                Action::Delete { remote_id } => bluesky_delete(client, server, &session, remote_id)
                    .await
                    .map(|()| None),
            }
        }
        (Credentials::Telegram { bot_token, chat_id }, Action::Create(post)) => {
            telegram_post(client, &telegram_url(server, bot_token), chat_id, post)
                .await
                .map(Some)
        }
        (Credentials::Telegram { bot_token, chat_id }, Action::Delete { remote_id }) => {
            let message_id: i64 = remote_id
                .parse()
                .map_err(|_| Failure::new("the stored Telegram message id is not a number"))?;
            let url = format!("{}/deleteMessage", telegram_url(server, bot_token));
            let body = Body::Json(json!({"chat_id": chat_id, "message_id": message_id}));
            client
                .call(api(Method::POST, url, None, body))
                .await
                .map(|_| None)
        }
    }
}

fn api(method: Method, url: String, bearer: Option<&str>, body: Body) -> ApiRequest<'_> {
    ApiRequest {
        method,
        url,
        bearer,
        headers: Vec::new(),
        body,
    }
}

/// The text at `pointer` of an answer, or a failure naming what is missing.
fn text_at(answer: &Value, pointer: &str) -> Result<String, Failure> {
    match answer.pointer(pointer) {
        Some(Value::String(text)) if !text.is_empty() => Ok(text.clone()),
        Some(Value::Number(number)) => Ok(number.to_string()),
        _ => Err(Failure::new(format!("the answer has no {pointer}"))),
    }
}

/// An id put into a path: only what ids are made of.
fn path_segment(id: &str) -> Result<&str, Failure> {
    if !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        Ok(id)
    } else {
        Err(Failure::new("the stored post id is not one"))
    }
}

fn jpeg(picture: &Picture, name: &str) -> Result<Part, Failure> {
    Part::bytes(picture.bytes.clone())
        .file_name(name.to_string())
        .mime_str("image/jpeg")
        .map_err(|_| Failure::new("bad picture type"))
}

async fn mastodon_post(
    client: &Client,
    server: &str,
    token: &str,
    post: &Post,
) -> Result<Posted, Failure> {
    let mut form = vec![
        ("status", post.text.clone()),
        ("visibility", "public".to_string()),
    ];
    if let Some(language) = &post.language {
        form.push(("language", language.clone()));
    }
    if let Some(picture) = &post.picture {
        let alt: String = picture.alt.chars().take(MASTODON_ALT_CHARS).collect();
        let upload = Form::new()
            .part("file", jpeg(picture, "picture.jpg")?)
            .text("description", alt);
        let url = format!("{server}/api/v1/media");
        let media = client
            .call(api(Method::POST, url, Some(token), Body::Multipart(upload)))
            .await?;
        form.push(("media_ids[]", text_at(&media, "/id")?));
    }
    let mut request = api(
        Method::POST,
        format!("{server}/api/v1/statuses"),
        Some(token),
        Body::Form(form),
    );
    request
        .headers
        .push(("Idempotency-Key", post.idempotency_key.clone()));
    let status = client.call(request).await?;
    Ok(Posted {
        remote_id: text_at(&status, "/id")?,
        url: status["url"].as_str().map(str::to_string),
    })
}

/// A Bluesky session: its access token and the account's DID.
struct Session {
    access_jwt: String,
    did: String,
}

fn xrpc(server: &str, method: &str) -> String {
    format!("{server}/xrpc/{method}")
}

async fn bluesky_session(
    client: &Client,
    server: &str,
    handle: &str,
    app_password: &str,
) -> Result<Session, Failure> {
    let body = Body::Json(json!({"identifier": handle, "password": app_password}));
    let url = xrpc(server, "com.atproto.server.createSession");
    let answer = client.call(api(Method::POST, url, None, body)).await?;
    Ok(Session {
        access_jwt: text_at(&answer, "/accessJwt")?,
        did: text_at(&answer, "/did")?,
    })
}

async fn bluesky_post(
    client: &Client,
    server: &str,
    session: &Session,
    post: &Post,
) -> Result<Posted, Failure> {
    let token = Some(session.access_jwt.as_str());
    let mut external =
        json!({"uri": post.link, "title": post.title, "description": post.description});
    if let Some(picture) = &post.picture {
        let body = Body::Bytes {
            content_type: "image/jpeg",
            bytes: picture.bytes.clone(),
        };
        let url = xrpc(server, "com.atproto.repo.uploadBlob");
        let uploaded = client.call(api(Method::POST, url, token, body)).await?;
        external["thumb"] = uploaded
            .get("blob")
            .cloned()
            .ok_or_else(|| Failure::new("the answer has no blob"))?;
    }
    let facets: Vec<Value> = syndication::links(&post.text)
        .into_iter()
        .map(|(start, end, uri)| {
            json!({
                "index": {"byteStart": start, "byteEnd": end},
                "features": [{"$type": "app.bsky.richtext.facet#link", "uri": uri}],
            })
        })
        .collect();
    let mut record = json!({
        "$type": BLUESKY_POST,
        "text": post.text,
        "createdAt": post.created_at,
        "facets": facets,
        "embed": {"$type": "app.bsky.embed.external", "external": external},
    });
    if let Some(language) = &post.language {
        record["langs"] = json!([language]);
    }
    let body =
        Body::Json(json!({"repo": session.did, "collection": BLUESKY_POST, "record": record}));
    let url = xrpc(server, "com.atproto.repo.createRecord");
    let created = client.call(api(Method::POST, url, token, body)).await?;
    let uri = text_at(&created, "/uri")?;
    let rkey = uri.rsplit('/').next().unwrap_or_default();
    Ok(Posted {
        url: Some(format!(
            "https://bsky.app/profile/{}/post/{rkey}",
            session.did
        )),
        remote_id: uri,
    })
}

async fn bluesky_delete(
    client: &Client,
    server: &str,
    session: &Session,
    uri: &str,
) -> Result<(), Failure> {
    // at://<did>/app.bsky.feed.post/<rkey>
    let parts: Vec<&str> = uri.trim_start_matches("at://").split('/').collect();
    let [repo, collection, rkey] = parts.as_slice() else {
        return Err(Failure::new(
            "the stored post URI is not an at:// record URI",
        ));
    };
    let body = Body::Json(json!({"repo": repo, "collection": collection, "rkey": rkey}));
    let url = xrpc(server, "com.atproto.repo.deleteRecord");
    client
        .call(api(Method::POST, url, Some(&session.access_jwt), body))
        .await
        .map(drop)
}

/// The Bot API's base for a bot (the token is part of the path).
fn telegram_url(server: &str, bot_token: &str) -> String {
    format!("{server}/bot{bot_token}")
}

async fn telegram_post(
    client: &Client,
    bot: &str,
    chat_id: &str,
    post: &Post,
) -> Result<Posted, Failure> {
    let fits_caption = syndication::length(Network::Telegram, &post.text)
        <= syndication::limit(Network::Telegram, true);
    let answer = match &post.picture {
        Some(picture) if fits_caption => {
            let form = Form::new()
                .text("chat_id", chat_id.to_string())
                .text("caption", post.text.clone())
                .part("photo", jpeg(picture, "picture.jpg")?);
            let url = format!("{bot}/sendPhoto");
            client
                .call(api(Method::POST, url, None, Body::Multipart(form)))
                .await?
        }
        _ => {
            let body = Body::Json(json!({"chat_id": chat_id, "text": post.text}));
            let url = format!("{bot}/sendMessage");
            client.call(api(Method::POST, url, None, body)).await?
        }
    };
    let message_id = text_at(&answer, "/result/message_id")?;
    let url = answer
        .pointer("/result/chat/username")
        .and_then(Value::as_str)
        .map(|channel| format!("https://t.me/{channel}/{message_id}"));
    Ok(Posted {
        remote_id: message_id,
        url,
    })
}
