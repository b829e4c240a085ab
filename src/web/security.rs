//! Headers every page carries: what it may load, that it may not be framed
//! (except the embed pages under `/embed/`, made to be), how much of its
//! address it leaks.

use std::sync::Arc;

use poem::http::{HeaderValue, header};
use poem::{Endpoint, IntoResponse, Request, Response};

/// Scripts and styles only from our own assets (no inline code), images
/// from anywhere on https (entries link them) and `blob:` (a picture chosen
/// in the entry form, shown before it is sent), forms only to ourselves.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' https: data: blob:; \
                   form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

/// The same for the pages other sites frame (`/embed/...`): any site may.
const EMBED_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' https: data:; \
                         form-action 'self'; frame-ancestors *; base-uri 'none'; object-src 'none'";

/// Swagger UI (`/api/docs`) is a third-party page that inlines its bundle.
const DOCS_CSP: &str = "default-src 'none'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; \
                        script-src 'self' 'unsafe-inline'; connect-src 'self'; base-uri 'none'; frame-ancestors 'none'";

/// Adds the page headers to every HTML response (Swagger UI and the embed
/// pages get their own policies; only embed pages may be framed).
pub async fn page_headers<E: Endpoint>(
    endpoint: Arc<E>,
    request: Request,
) -> poem::Result<Response> {
    let path = request.uri().path();
    let policy = if path.starts_with("/api/docs") {
        DOCS_CSP
    } else if path.starts_with("/embed/") {
        EMBED_CSP
    } else {
        CSP
    };
    let mut response = endpoint.call(request).await?.into_response();
    let html = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("text/html"));
    if html {
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(policy),
        );
        if policy != EMBED_CSP {
            headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        }
        headers.insert(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        );
    }
    response.headers_mut().insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    Ok(response)
}
