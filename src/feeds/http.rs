//! Rendered feed bytes and the HTTP caching around them.

use std::io::Write as _;

use bytes::Bytes;
use flate2::Compression;
use flate2::write::GzEncoder;
use poem::Response;
use poem::http::{HeaderMap, HeaderValue, StatusCode, header};
use sha2::{Digest, Sha256};

/// Bodies smaller than this are sent as they are: gzip would save next to nothing.
pub const MIN_GZIP_BYTES: usize = 256;

/// One rendered variant of a feed: served as is until the snapshot changes.
#[derive(Debug)]
pub struct Rendered {
    pub body: Bytes,
    pub content_type: &'static str,
    /// Strong validator: a hash of the body, equal on every instance.
    pub etag: String,
    /// Unix seconds of the latest change in the snapshot.
    pub modified_at: i64,
    /// The body gzip-compressed once, with its own ETag; `None` for small
    /// bodies and for variants rendered for one request only.
    pub gzip: Option<Encoded>,
}

/// A content-coded copy of a rendered body.
#[derive(Debug)]
pub struct Encoded {
    pub body: Bytes,
    /// The identity ETag with `-gzip` inside the quotes.
    pub etag: String,
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
            gzip: None,
        }
    }

    /// Adds the gzip copy (done once, when the variant is cached). The gzip
    /// header carries no time or name, so the bytes are equal on every instance.
    #[must_use]
    pub fn with_gzip(mut self) -> Self {
        if self.body.len() >= MIN_GZIP_BYTES && self.gzip.is_none() {
            let mut encoder =
                GzEncoder::new(Vec::with_capacity(self.body.len() / 2), Compression::best());
            let compressed = encoder
                .write_all(&self.body)
                .and_then(|()| encoder.finish());
            match compressed {
                // Keep it only when it is smaller.
                Ok(bytes) if bytes.len() < self.body.len() => {
                    let etag = format!("{}-gzip\"", self.etag.trim_end_matches('"'));
                    self.gzip = Some(Encoded {
                        body: bytes.into(),
                        etag,
                    });
                }
                Ok(_) => {}
                Err(error) => tracing::warn!(%error, "gzip of a feed failed; serving it plain"),
            }
        }
        self
    }

    /// The response to a GET (or HEAD) carrying `request` headers: 304 when the
    /// client's copy is current, else the bytes, gzip-coded when the client
    /// accepts gzip and a gzip copy exists.
    pub fn respond(&self, request: &HeaderMap, max_age: u32, vary_agent: bool) -> Response {
        let gzip = self.gzip.as_ref().filter(|_| accepts_gzip(request));
        let (body, etag) = match gzip {
            Some(encoded) => (&encoded.body, encoded.etag.as_str()),
            None => (&self.body, self.etag.as_str()),
        };
        let last_modified = last_modified(self.modified_at);
        let fresh = match request
            .get(header::IF_NONE_MATCH)
            .and_then(|v| v.to_str().ok())
        {
            // When both are sent, If-None-Match decides (RFC 9110 13.1.3).
            // Compared with the ETag of the representation selected for
            // this request, so caches learn which stored copy is current.
            Some(tags) => tags
                .split(',')
                .map(str::trim)
                .any(|tag| tag == "*" || tag.trim_start_matches("W/") == etag),
            None => request
                .get(header::IF_MODIFIED_SINCE)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| httpdate::parse_http_date(v).ok())
                .is_some_and(|since| since >= last_modified.1),
        };
        let mut builder = Response::builder()
            .header(header::ETAG, etag)
            .header(header::LAST_MODIFIED, last_modified.0)
            .header(header::CACHE_CONTROL, format!("public, max-age={max_age}"))
            .header(header::ACCESS_CONTROL_ALLOW_ORIGIN, "*")
            // `/` answers QGIS with JSON and browsers with HTML; every feed
            // may be gzip-coded.
            .header(
                header::VARY,
                if vary_agent {
                    "User-Agent, Accept-Encoding"
                } else {
                    "Accept-Encoding"
                },
            );
        if fresh {
            // A 304 carries the validators, not representation metadata
            // (RFC 9110 15.4.5).
            return builder.status(StatusCode::NOT_MODIFIED).finish();
        }
        if gzip.is_some() {
            builder = builder.header(header::CONTENT_ENCODING, "gzip");
        }
        builder.content_type(self.content_type).body(body.clone())
    }
}

/// Whether `Accept-Encoding` allows gzip (RFC 9110 12.5.3): `gzip` or `x-gzip`
/// with a non-zero weight, or else `*` with a non-zero weight.
fn accepts_gzip(request: &HeaderMap) -> bool {
    let mut star = None;
    for value in request.get_all(header::ACCEPT_ENCODING) {
        let Ok(value) = value.to_str() else { continue };
        for coding in value.split(',') {
            let mut parts = coding.split(';');
            let name = parts.next().unwrap_or_default().trim();
            let weight = parts
                .filter_map(|param| param.split_once('='))
                .find(|(key, _)| key.trim().eq_ignore_ascii_case("q"))
                .map_or(Some(1.0), |(_, q)| q.trim().parse::<f32>().ok());
            let allowed = weight.is_some_and(|q| q > 0.0);
            if name.eq_ignore_ascii_case("gzip") || name.eq_ignore_ascii_case("x-gzip") {
                return allowed;
            }
            if name == "*" {
                star = Some(allowed);
            }
        }
    }
    star.unwrap_or(false)
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
