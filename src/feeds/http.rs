//! Rendered feed bytes and the HTTP caching around them.

use bytes::Bytes;
use poem::Response;
use poem::http::{HeaderMap, HeaderValue, StatusCode, header};
use sha2::{Digest, Sha256};

/// One rendered variant of a feed: served as is until the snapshot changes.
#[derive(Debug)]
pub struct Rendered {
    pub body: Bytes,
    pub content_type: &'static str,
    /// Strong validator: a hash of the body, equal on every instance.
    pub etag: String,
    /// Unix seconds of the latest change in the snapshot.
    pub modified_at: i64,
}

impl Rendered {
    pub fn new(body: impl Into<Bytes>, content_type: &'static str, modified_at: i64) -> Self {
        let body = body.into();
        let digest = Sha256::digest(&body);
        Self {
            etag: format!("\"{}\"", hex::encode(&digest[..12])),
            body,
            content_type,
            modified_at,
        }
    }

    /// The response to a GET (or HEAD) carrying `request` headers: 304 when the
    /// client's copy is current, else the bytes.
    pub fn respond(&self, request: &HeaderMap, max_age: u32, vary_agent: bool) -> Response {
        let last_modified = last_modified(self.modified_at);
        let fresh = match request
            .get(header::IF_NONE_MATCH)
            .and_then(|v| v.to_str().ok())
        {
            // When both are sent, If-None-Match decides (RFC 9110 13.1.3).
            Some(tags) => tags
                .split(',')
                .map(str::trim)
                .any(|tag| tag == "*" || tag.trim_start_matches("W/") == self.etag),
            None => request
                .get(header::IF_MODIFIED_SINCE)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| httpdate::parse_http_date(v).ok())
                .is_some_and(|since| since >= last_modified.1),
        };
        let mut builder = Response::builder()
            .header(header::ETAG, self.etag.as_str())
            .header(header::LAST_MODIFIED, last_modified.0)
            .header(header::CACHE_CONTROL, format!("public, max-age={max_age}"))
            .header(header::ACCESS_CONTROL_ALLOW_ORIGIN, "*");
        if vary_agent {
            // `/` answers QGIS with JSON and browsers with HTML.
            builder = builder.header(header::VARY, "User-Agent");
        }
        if fresh {
            builder.status(StatusCode::NOT_MODIFIED).finish()
        } else {
            builder
                .content_type(self.content_type)
                .body(self.body.clone())
        }
    }
}

fn last_modified(seconds: i64) -> (String, std::time::SystemTime) {
    let time =
        std::time::UNIX_EPOCH + std::time::Duration::from_secs(u64::try_from(seconds).unwrap_or(0));
    (httpdate::fmt_http_date(time), time)
}

/// A refused feed request: status and a plain reason, CORS-readable.
pub fn plain_error(status: StatusCode, message: &str) -> Response {
    let mut response = Response::builder()
        .status(status)
        .content_type("text/plain; charset=utf-8")
        .body(format!("{message}\n"));
    response.headers_mut().insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    response
}
