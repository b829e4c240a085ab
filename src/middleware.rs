//! Request-level guards shared by every route.

use std::sync::Arc;

use poem::http::{HeaderValue, StatusCode, header};
use poem::{Endpoint, IntoResponse, Request, Response};

use crate::error::any_error_to_problem;

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

/// The methods each documented path answers, for the `Allow` header of a 405
/// (RFC 9110 requires it).
pub struct AllowedMethods(Vec<(Vec<String>, HeaderValue)>);

impl AllowedMethods {
    pub fn from_spec(spec: &str) -> Self {
        let spec: serde_json::Value = serde_json::from_str(spec).unwrap_or_default();
        let paths = spec["paths"].as_object().cloned().unwrap_or_default();
        Self(
            paths
                .iter()
                .filter_map(|(path, operations)| {
                    let mut methods: Vec<String> = operations
                        .as_object()?
                        .keys()
                        .map(|method| method.to_uppercase())
                        .collect();
                    if methods.iter().any(|method| method == "GET") {
                        methods.push("HEAD".into());
                    }
                    let segments = path.split('/').map(str::to_string).collect();
                    Some((segments, HeaderValue::from_str(&methods.join(", ")).ok()?))
                })
                .collect(),
        )
    }

    fn for_path(&self, path: &str) -> Option<&HeaderValue> {
        let segments: Vec<&str> = path.split('/').collect();
        self.0.iter().find_map(|(pattern, methods)| {
            let matches = pattern.len() == segments.len()
                && pattern
                    .iter()
                    .zip(&segments)
                    .all(|(want, got)| want.starts_with('{') || want == got);
            matches.then_some(methods)
        })
    }
}

/// Adds `Allow` to 405 answers.
pub async fn allow_on_405<E: Endpoint>(
    endpoint: Arc<E>,
    request: Request,
    allowed: Arc<AllowedMethods>,
) -> poem::Result<Response> {
    let path = request.uri().path().to_string();
    let mut response = match endpoint.call(request).await {
        Ok(response) => response.into_response(),
        Err(error) if error.status() == StatusCode::METHOD_NOT_ALLOWED => {
            any_error_to_problem(error).await
        }
        Err(error) => return Err(error),
    };
    if response.status() == StatusCode::METHOD_NOT_ALLOWED {
        if let Some(methods) = allowed.for_path(&path) {
            response
                .headers_mut()
                .insert(header::ALLOW, methods.clone());
        }
    }
    Ok(response)
}
