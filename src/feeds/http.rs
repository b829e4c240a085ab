//! Rendered feed bytes and the HTTP caching around them.

use std::io::Write as _;
use std::sync::OnceLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use flate2::Compression;
use flate2::write::GzEncoder;
use poem::Response;
use poem::http::{HeaderMap, HeaderValue, StatusCode, header};
use sha2::{Digest, Sha256};

/// Bodies smaller than this are sent as they are: gzip would save next to nothing.
pub const MIN_GZIP_BYTES: usize = 256;

/// One rendered variant of a feed: served as is until the snapshot changes.
/// Its header values are prepared once, so serving it formats nothing.
#[derive(Debug)]
pub struct Rendered {
    pub body: Bytes,
    pub content_type: HeaderValue,
    /// Strong validator: a hash of the body, equal on every instance.
    pub etag: HeaderValue,
    /// The latest change in the snapshot, as sent and as compared.
    last_modified: (HeaderValue, SystemTime),
    /// The body gzip-compressed once, with its own ETag; `None` for small
    /// bodies and for variants rendered for one request only.
    pub gzip: Option<Encoded>,
    /// `Link` to the WebSub hubs and the feed itself (RSS and Atom, when hubs are set).
    pub link: Option<HeaderValue>,
    /// The response headers of each answer ([`Answer::slot`]), made on the
    /// first request with the caching they were made for: a variant is
    /// served with one caching, and cloning a map costs far less than
    /// building it.
    prepared: [OnceLock<(Caching, HeaderMap)>; 4],
}

/// Which of a variant's four answers a request gets.
#[derive(Clone, Copy)]
struct Answer {
    gzip: bool,
    not_modified: bool,
}

impl Answer {
    fn slot(self) -> usize {
        usize::from(self.gzip) * 2 + usize::from(self.not_modified)
    }
}

/// A content-coded copy of a rendered body.
#[derive(Debug)]
pub struct Encoded {
    pub body: Bytes,
    /// The identity ETag with `-gzip` inside the quotes.
    pub etag: HeaderValue,
}

/// How long a shared cache (a CDN) may serve a feed past its `max-age`
/// while it fetches a fresh copy (RFC 5861).
pub const STALE_WHILE_REVALIDATE_SECS: u32 = 600;
/// How long it may serve one while the service answers with errors or not at all.
pub const STALE_IF_ERROR_SECS: u32 = 86_400;

/// How a feed is cached by clients, prepared once per setting.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caching {
    /// `public, max-age=N`, and for feeds how long stale copies may serve.
    pub cache_control: HeaderValue,
    /// `Vary`: `/` answers QGIS with JSON and browsers with HTML; every
    /// feed may be gzip-coded.
    pub vary: HeaderValue,
}

impl Caching {
    /// A feed's: fresh for `max_age` seconds, then served stale by shared
    /// caches while they revalidate or while the service is down.
    pub fn feed(max_age: u32, vary_agent: bool) -> Self {
        Self::new(
            format!(
                "public, max-age={max_age}, stale-while-revalidate={STALE_WHILE_REVALIDATE_SECS}, stale-if-error={STALE_IF_ERROR_SECS}"
            ),
            vary_agent,
        )
    }

    /// The start page's: revalidated on every visit.
    pub fn page() -> Self {
        Self::new("public, max-age=0".into(), true)
    }

    fn new(cache_control: String, vary_agent: bool) -> Self {
        Self {
            cache_control: HeaderValue::from_str(&cache_control)
                .unwrap_or(HeaderValue::from_static("no-cache")),
            vary: HeaderValue::from_static(if vary_agent {
                "User-Agent, Accept-Encoding"
            } else {
                "Accept-Encoding"
            }),
        }
    }
}

/// A header value of characters that are always valid in one (hex, digits,
/// ASCII punctuation).
fn ascii_value(text: &str) -> HeaderValue {
    HeaderValue::from_str(text).unwrap_or(HeaderValue::from_static("\"\""))
}

impl Rendered {
    pub fn new(body: impl Into<Bytes>, content_type: &'static str, modified_at: i64) -> Self {
        let body = body.into();
        let digest = Sha256::digest(&body);
        let time = UNIX_EPOCH + Duration::from_secs(u64::try_from(modified_at).unwrap_or(0));
        Self {
            etag: ascii_value(&format!("\"{}\"", hex::encode(&digest[..12]))),
            body,
            content_type: HeaderValue::from_static(content_type),
            last_modified: (ascii_value(&httpdate::fmt_http_date(time)), time),
            gzip: None,
            link: None,
            prepared: Default::default(),
        }
    }

    /// Adds a `Link` header naming `hubs` and the feed's own URL (WebSub discovery).
    #[must_use]
    pub fn with_hubs(mut self, hubs: &[String], self_url: &str) -> Self {
        if !hubs.is_empty() {
            let mut links: Vec<String> = hubs
                .iter()
                .map(|hub| format!("<{hub}>; rel=\"hub\""))
                .collect();
            links.push(format!("<{self_url}>; rel=\"self\""));
            self.link = HeaderValue::from_str(&links.join(", ")).ok();
        }
        self
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
                    let identity = self.etag.to_str().unwrap_or_default();
                    let etag = ascii_value(&format!("{}-gzip\"", identity.trim_end_matches('"')));
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
    pub fn respond(&self, request: &HeaderMap, caching: &Caching) -> Response {
        let gzip = self.gzip.as_ref().filter(|_| accepts_gzip(request));
        let (body, etag) = match gzip {
            Some(encoded) => (&encoded.body, &encoded.etag),
            None => (&self.body, &self.etag),
        };
        let fresh = match request
            .get(header::IF_NONE_MATCH)
            .and_then(|v| v.to_str().ok())
        {
            // When both are sent, If-None-Match decides (RFC 9110 13.1.3).
            // Compared with the ETag of the representation selected for
            // this request, so caches learn which stored copy is current.
            Some(tags) => tags.split(',').map(str::trim).any(|tag| {
                tag == "*" || tag.trim_start_matches("W/").as_bytes() == etag.as_bytes()
            }),
            None => request
                .get(header::IF_MODIFIED_SINCE)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| httpdate::parse_http_date(v).ok())
                .is_some_and(|since| since >= self.last_modified.1),
        };
        let answer = Answer {
            gzip: gzip.is_some(),
            not_modified: fresh,
        };
        let mut response = Response::default();
        *response.headers_mut() = match &self.prepared[answer.slot()]
            .get_or_init(|| (caching.clone(), self.headers(answer, caching)))
        {
            (prepared_for, headers) if prepared_for == caching => headers.clone(),
            _ => self.headers(answer, caching),
        };
        if fresh {
            // A 304 carries the validators, not representation metadata
            // (RFC 9110 15.4.5).
            response.set_status(StatusCode::NOT_MODIFIED);
        } else {
            response.set_body(body.clone());
        }
        response
    }

    fn headers(&self, answer: Answer, caching: &Caching) -> HeaderMap {
        let etag = match (&self.gzip, answer.gzip) {
            (Some(encoded), true) => &encoded.etag,
            _ => &self.etag,
        };
        let mut headers = HeaderMap::with_capacity(10);
        headers.insert(header::ETAG, etag.clone());
        headers.insert(header::LAST_MODIFIED, self.last_modified.0.clone());
        headers.insert(header::CACHE_CONTROL, caching.cache_control.clone());
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            HeaderValue::from_static("*"),
        );
        headers.insert(header::VARY, caching.vary.clone());
        headers.insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
        if let Some(link) = &self.link {
            headers.insert(header::LINK, link.clone());
        }
        if !answer.not_modified {
            if answer.gzip {
                headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
            }
            headers.insert(header::CONTENT_TYPE, self.content_type.clone());
        }
        headers
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

/// A refused feed request: status and a plain reason, CORS-readable.
pub fn plain_error(status: StatusCode, message: &str) -> Response {
    let mut response = Response::builder()
        .status(status)
        .content_type("text/plain; charset=utf-8")
        .body(format!("{message}\n"));
    let headers = response.headers_mut();
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}
