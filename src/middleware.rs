//! Request-level guards shared by every route.

use std::sync::Arc;

use poem::http::{HeaderValue, StatusCode, header};
use poem::{Endpoint, IntoResponse, Request, Response};

/// Refuses bodies over `max` bytes with 413, whether or not the client sent
/// `Content-Length` (bodies without one are read up to the limit).
pub async fn limit_body<E: Endpoint>(
    endpoint: Arc<E>,
    mut request: Request,
    max: usize,
) -> poem::Result<Response> {
    let too_large = || {
        poem::Error::from_string(
            format!("request body larger than {max} bytes"),
            StatusCode::PAYLOAD_TOO_LARGE,
        )
    };
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<usize>().ok());
    let empty = match declared {
        Some(length) if length > max => return Err(too_large()),
        Some(length) => length == 0,
        // Chunked, or a body with no declared length at all.
        None => {
            let body = request
                .take_body()
                .into_bytes_limit(max)
                .await
                .map_err(|_| too_large())?;
            let empty = body.is_empty();
            request.set_body(body);
            empty
        }
    };
    // `curl -X POST …/submit` sends no body and no type; the actions take an
    // optional JSON body, so read "nothing" as "no JSON" rather than 415.
    if empty
        && request.method() == poem::http::Method::POST
        && !request.headers().contains_key(header::CONTENT_TYPE)
    {
        request.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
    }
    Ok(endpoint.call(request).await?.into_response())
}

/// Pages may load only our own scripts and styles, and never be framed.
const PAGE_POLICY: &str = "default-src 'none'; img-src 'self' https: data:; style-src 'self' 'unsafe-inline'; \
     script-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";
/// Swagger UI inlines its bundle.
const DOCS_POLICY: &str = "default-src 'none'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; \
     script-src 'self' 'unsafe-inline'; connect-src 'self'; base-uri 'none'; frame-ancestors 'none'";

/// `nosniff` on everything; on HTML, a strict Content-Security-Policy, no
/// framing and no referrer beyond our own origin.
pub async fn security_headers<E: Endpoint>(
    endpoint: Arc<E>,
    request: Request,
) -> poem::Result<Response> {
    let docs = request.uri().path().starts_with("/api/docs");
    let mut response = endpoint.call(request).await?.into_response();
    let html = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("text/html"));
    let headers = response.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if html {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(if docs { DOCS_POLICY } else { PAGE_POLICY }),
        );
        headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        headers.insert(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        );
    }
    Ok(response)
}
