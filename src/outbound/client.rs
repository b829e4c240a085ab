//! The one HTTP client for other servers. Names are resolved by our own
//! resolver, which drops private and loopback addresses (so a stranger's
//! URL cannot make us call our own network, nor a DNS answer change that
//! after the check), redirects are bounded and checked the same way, and
//! every answer is read under a size and a time limit.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::header::{self, HeaderMap, HeaderValue};
use rsa::RsaPrivateKey;
use url::Url;

use crate::domain::federation::{address, signature};

/// Longest wait for a connection, and for a whole exchange.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Redirects followed at most (each checked like the first URL).
const MAX_REDIRECTS: usize = 3;
/// Largest error text kept of an answer.
const ERROR_TEXT_CHARS: usize = 300;

/// An actor's key, to sign requests with.
pub struct Signer {
    pub key_id: String,
    pub key: RsaPrivateKey,
}

/// Why a request did not succeed, and when to try again if the server said.
#[derive(Debug)]
pub struct Failure {
    pub message: String,
    pub status: Option<u16>,
    /// Seconds from a `Retry-After` header.
    pub retry_after: Option<i64>,
}

impl Failure {
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            status: None,
            retry_after: None,
        }
    }

    /// A refusal that will not change by trying again: a 4xx other than
    /// 401 (the receiver may not have fetched our key yet), 408 and 429.
    pub fn is_permanent(&self) -> bool {
        self.status.is_some_and(|status| {
            (400..500).contains(&status) && !matches!(status, 401 | 408 | 429)
        })
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// What a server said identifies the version it sent (`ETag`, `Last-Modified`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Validators {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

/// A fetched document and its validators.
#[derive(Debug)]
pub struct Document {
    pub body: Vec<u8>,
    pub validators: Validators,
}

/// Resolves names and keeps only the addresses we may reach.
struct GuardedResolver {
    allow_private: bool,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_private = self.allow_private;
        Box::pin(async move {
            let found: Vec<SocketAddr> = tokio::net::lookup_host((name.as_str(), 0))
                .await?
                .filter(|socket| allow_private || address::is_public(socket.ip()))
                .collect();
            if found.is_empty() {
                let refused: Box<dyn std::error::Error + Send + Sync> =
                    format!("{} has no public address", name.as_str()).into();
                return Err(refused);
            }
            let addrs: Addrs = Box::new(found.into_iter());
            Ok(addrs)
        })
    }
}

/// Whether `url` may be requested at all: http(s) only (plain http and
/// literal private addresses only when allowed for tests).
fn check_url(url: &Url, allow_private: bool) -> Result<(), String> {
    match url.scheme() {
        "https" => {}
        "http" if allow_private => {}
        other => return Err(format!("{other}: URLs are not fetched (https only)")),
    }
    let host = url.host_str().ok_or("the URL has no host")?;
    let literal = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = literal.parse::<IpAddr>()
        && !allow_private
        && !address::is_public(ip)
    {
        return Err(format!("{host} is not a public address"));
    }
    if !allow_private && (host.eq_ignore_ascii_case("localhost") || host.ends_with(".localhost")) {
        return Err(format!("{host} is not a public address"));
    }
    Ok(())
}

/// The client, with its guard.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    allow_private: bool,
}

impl Client {
    pub fn new(allow_private: bool, user_agent: &str) -> Result<Self, String> {
        let redirects = reqwest::redirect::Policy::custom(move |attempt| {
            if attempt.previous().len() >= MAX_REDIRECTS {
                attempt.error("too many redirects")
            } else if let Err(refused) = check_url(attempt.url(), allow_private) {
                attempt.error(refused)
            } else {
                attempt.follow()
            }
        });
        let http = reqwest::Client::builder()
            .user_agent(user_agent)
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(REQUEST_TIMEOUT)
            .redirect(redirects)
            .dns_resolver(Arc::new(GuardedResolver { allow_private }))
            .build()
            .map_err(|error| error.to_string())?;
        Ok(Self {
            http,
            allow_private,
        })
    }

    /// Why `url` would not be fetched at all (not http(s), a private or
    /// loopback address), said before anything is asked of it.
    pub fn refusal(&self, url: &str) -> Option<String> {
        let url = Url::parse(url).ok()?;
        check_url(&url, self.allow_private).err()
    }

    /// GETs `url` as JSON (at most `max_bytes`), signed when `signer` is given
    /// (servers in authorized-fetch mode answer only signed fetches).
    pub async fn get_json(
        &self,
        url: &str,
        accept: &str,
        signer: Option<&Signer>,
        max_bytes: usize,
    ) -> Result<serde_json::Value, Failure> {
        let url = Url::parse(url).map_err(|_| Failure::new(format!("{url:.80} is not a URL")))?;
        check_url(&url, self.allow_private).map_err(Failure::new)?;
        let mut headers = HeaderMap::new();
        headers.insert(
            header::ACCEPT,
            HeaderValue::from_str(accept).map_err(|_| Failure::new("bad Accept"))?,
        );
        if let Some(signer) = signer {
            sign(&mut headers, "get", &url, None, signer)?;
        }
        let response = send(self.http.get(url).headers(headers)).await?;
        let body = read_ok(response, max_bytes).await?;
        serde_json::from_slice(&body).map_err(|_| Failure::new("the answer is not JSON"))
    }

    /// GETs a document `url` conditionally: `Ok(None)` when the server says
    /// it has not changed since `validators`. An answer that announces more
    /// than `max_bytes` is refused before its body is read.
    pub async fn get_document(
        &self,
        url: &str,
        validators: &Validators,
        max_bytes: usize,
    ) -> Result<Option<Document>, Failure> {
        let url = Url::parse(url).map_err(|_| Failure::new(format!("{url:.80} is not a URL")))?;
        check_url(&url, self.allow_private).map_err(Failure::new)?;
        let mut headers = HeaderMap::new();
        let conditions = [
            (header::IF_NONE_MATCH, &validators.etag),
            (header::IF_MODIFIED_SINCE, &validators.last_modified),
        ];
        for (name, value) in conditions {
            if let Some(value) = value.as_deref().and_then(|v| HeaderValue::from_str(v).ok()) {
                headers.insert(name, value);
            }
        }
        let response = send(self.http.get(url).headers(headers)).await?;
        if response.status() == reqwest::StatusCode::NOT_MODIFIED {
            return Ok(None);
        }
        if response
            .content_length()
            .is_some_and(|length| length > max_bytes as u64)
        {
            return Err(Failure::new(format!(
                "the answer is larger than {max_bytes} bytes"
            )));
        }
        let header_text = |name: header::HeaderName| {
            response
                .headers()
                .get(name)
                .and_then(|value| value.to_str().ok())
                .map(str::to_string)
        };
        let validators = Validators {
            etag: header_text(header::ETAG),
            last_modified: header_text(header::LAST_MODIFIED),
        };
        let body = read_ok(response, max_bytes).await?;
        Ok(Some(Document { body, validators }))
    }

    /// POSTs `body` to `url`, signed when `signer` is given.
    pub async fn post(
        &self,
        url: &str,
        content_type: &str,
        body: Vec<u8>,
        signer: Option<&Signer>,
    ) -> Result<(), Failure> {
        let url = Url::parse(url).map_err(|_| Failure::new(format!("{url:.80} is not a URL")))?;
        check_url(&url, self.allow_private).map_err(Failure::new)?;
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_str(content_type).map_err(|_| Failure::new("bad Content-Type"))?,
        );
        if let Some(signer) = signer {
            sign(&mut headers, "post", &url, Some(&body), signer)?;
        }
        let response = send(self.http.post(url).headers(headers).body(body)).await?;
        read_ok(response, 64 * 1024).await.map(drop)
    }
}

/// The body of a request to a social network's API.
pub enum Body {
    Empty,
    Json(serde_json::Value),
    Form(Vec<(&'static str, String)>),
    Bytes {
        content_type: &'static str,
        bytes: Vec<u8>,
    },
    Multipart(reqwest::multipart::Form),
}

/// A request to a social network's API.
pub struct ApiRequest<'a> {
    pub method: reqwest::Method,
    pub url: String,
    pub bearer: Option<&'a str>,
    pub headers: Vec<(&'static str, String)>,
    pub body: Body,
}

/// Largest API answer read (JSON documents, never media).
const API_ANSWER_BYTES: usize = 256 * 1024;

impl Client {
    /// Sends an API request and reads its JSON answer (`null` when empty).
    /// Errors never carry the URL: some APIs (Telegram's) put a secret in it.
    pub async fn call(&self, request: ApiRequest<'_>) -> Result<serde_json::Value, Failure> {
        let url =
            Url::parse(&request.url).map_err(|_| Failure::new("the server's URL is invalid"))?;
        check_url(&url, self.allow_private).map_err(Failure::new)?;
        let mut builder = self.http.request(request.method, url);
        if let Some(token) = request.bearer {
            builder = builder.bearer_auth(token);
        }
        for (name, value) in request.headers {
            builder = builder.header(name, value);
        }
        builder = match request.body {
            Body::Empty => builder,
            Body::Json(value) => builder
                .header(header::CONTENT_TYPE, "application/json")
                .body(value.to_string()),
            Body::Form(pairs) => builder
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(
                    url::form_urlencoded::Serializer::new(String::new())
                        .extend_pairs(pairs)
                        .finish(),
                ),
            Body::Bytes {
                content_type,
                bytes,
            } => builder
                .header(header::CONTENT_TYPE, content_type)
                .body(bytes),
            Body::Multipart(form) => builder.multipart(form),
        };
        let response = builder
            .send()
            .await
            .map_err(|error| Failure::new(describe(&error.without_url())))?;
        let body = read_ok(response, API_ANSWER_BYTES).await?;
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(serde_json::Value::Null);
        }
        serde_json::from_slice(&body).map_err(|_| Failure::new("the answer is not JSON"))
    }
}

/// Adds `Host`, `Date`, `Digest` (with a body) and `Signature` to `headers`.
fn sign(
    headers: &mut HeaderMap,
    method: &str,
    url: &Url,
    body: Option<&[u8]>,
    signer: &Signer,
) -> Result<(), Failure> {
    let host = match url.port() {
        Some(port) => format!("{}:{port}", url.host_str().unwrap_or_default()),
        None => url.host_str().unwrap_or_default().to_string(),
    };
    let date = httpdate::fmt_http_date(std::time::SystemTime::now());
    let target = match url.query() {
        Some(query) => format!("{}?{query}", url.path()),
        None => url.path().to_string(),
    };
    let digest = body.map(signature::digest);
    let mut lines = vec![
        format!("(request-target): {method} {target}"),
        format!("host: {host}"),
        format!("date: {date}"),
    ];
    let mut signed = vec!["(request-target)", "host", "date"];
    if let Some(digest) = &digest {
        lines.push(format!("digest: {digest}"));
        signed.push("digest");
    }
    let value = signature::sign(&signer.key, &lines.join("\n")).map_err(Failure::new)?;
    let header_value =
        |text: &str| HeaderValue::from_str(text).map_err(|_| Failure::new("unsignable header"));
    headers.insert(header::HOST, header_value(&host)?);
    headers.insert(header::DATE, header_value(&date)?);
    if let Some(digest) = &digest {
        headers.insert("digest", header_value(digest)?);
    }
    headers.insert(
        "signature",
        header_value(&signature::header_value(&signer.key_id, &signed, &value))?,
    );
    Ok(())
}

/// The body of a 2xx answer (at most `max_bytes`), or why there is none.
async fn read_ok(mut response: reqwest::Response, max_bytes: usize) -> Result<Vec<u8>, Failure> {
    let status = response.status();
    let header_retry_after = response
        .headers()
        .get(header::RETRY_AFTER)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.trim().parse::<i64>().ok());
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|error| Failure::new(describe(&error)))?
    {
        if body.len() + chunk.len() > max_bytes {
            return Err(Failure::new(format!(
                "the answer is larger than {max_bytes} bytes"
            )));
        }
        body.extend_from_slice(&chunk);
    }
    if status.is_success() {
        return Ok(body);
    }
    // Telegram's Bot API says when to retry in its JSON answer instead.
    let retry_after = header_retry_after.or_else(|| {
        serde_json::from_slice::<serde_json::Value>(&body)
            .ok()?
            .pointer("/parameters/retry_after")?
            .as_i64()
    });
    let text: String = String::from_utf8_lossy(&body)
        .chars()
        .filter(|character| !character.is_control())
        .take(ERROR_TEXT_CHARS)
        .collect();
    Err(Failure {
        message: format!("{status}: {text}"),
        status: Some(status.as_u16()),
        retry_after,
    })
}

/// Sends `request`; a failure to get an answer says why.
async fn send(request: reqwest::RequestBuilder) -> Result<reqwest::Response, Failure> {
    request
        .send()
        .await
        .map_err(|error| Failure::new(describe(&error)))
}

/// A transport error in a line, with its cause (a refused address says so).
fn describe(error: &reqwest::Error) -> String {
    let mut message = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_https_urls_pass_unless_private_is_allowed() {
        let check = |url: &str, allow| check_url(&Url::parse(url).unwrap(), allow);
        assert!(check("https://mastodon.example/inbox", false).is_ok());
        assert!(check("http://mastodon.example/inbox", false).is_err());
        assert!(check("https://127.0.0.1/inbox", false).is_err());
        assert!(check("https://[::1]/inbox", false).is_err());
        assert!(check("https://169.254.169.254/latest", false).is_err());
        assert!(check("https://localhost/inbox", false).is_err());
        assert!(check("file:///etc/passwd", true).is_err());
        assert!(check("http://127.0.0.1:8080/inbox", true).is_ok());
    }
}
