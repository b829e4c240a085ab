//! Errors as RFC 9457 problem documents, decided once: every failure, ours
//! or poem's, gets a stable problem `type` URI under `<public url>/problems/`.

use std::sync::Arc;

use poem::http::{HeaderValue, StatusCode, header};
use poem::{Endpoint, IntoResponse, Request, Response};
use poem_openapi::registry::{MetaMediaType, MetaResponse, MetaResponses, Registry};
use poem_openapi::types::{ToJSON, Type};
use poem_openapi::{ApiResponse, Object};

use crate::error::AppError;
pub use crate::error::ProblemType;

pub const PROBLEM_JSON: &str = "application/problem+json";

/// The status a problem is answered with, as the HTTP type.
pub fn http_status(kind: ProblemType) -> StatusCode {
    StatusCode::from_u16(kind.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// A field that failed validation.
#[derive(Object, Clone, Debug)]
#[oai(rename = "FieldError")]
pub struct FieldErrorOut {
    /// The request field, as named in the request body.
    pub field: String,
    /// What is wrong with it.
    pub message: String,
}

/// An RFC 9457 problem document.
#[derive(Object, Clone, Debug)]
pub struct Problem {
    /// A URI naming the kind of problem: `<public url>/problems/` followed by
    /// one of `bad-request`, `unauthorized`, `forbidden`, `not-found`,
    /// `method-not-allowed`, `stale-version`, `invalid-transition`,
    /// `duplicate`, `group-inactive`, `conflict`, `payload-too-large`,
    /// `unsupported-media-type`, `validation`, `rate-limited`, `internal`,
    /// `unavailable`. Each URI serves a description.
    #[oai(rename = "type")]
    pub kind: String,
    /// Short summary of the kind of problem.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong in this request.
    pub detail: String,
    /// Per-field validation errors.
    #[oai(skip_serializing_if_is_none)]
    pub errors: Option<Vec<FieldErrorOut>>,
    /// On a version conflict: the version the resource has now.
    #[oai(skip_serializing_if_is_none)]
    pub current_version: Option<i32>,
}

impl From<AppError> for poem::Error {
    fn from(error: AppError) -> Self {
        let status = http_status(ProblemType::of(&error));
        poem::Error::new(error, status)
    }
}

/// The statuses every API operation may answer with a problem document.
const PROBLEM_STATUSES: [(u16, &str); 10] = [
    (400, "The request could not be parsed"),
    (401, "Missing or invalid credentials"),
    (403, "Authenticated, but not allowed to do this"),
    (404, "No such resource"),
    (
        409,
        "Conflict with the current state (stale version, duplicate, wrong status)",
    ),
    (413, "Request body too large"),
    (
        415,
        "The body is not JSON (send `Content-Type: application/json`)",
    ),
    (422, "A field failed validation"),
    (429, "Too many attempts"),
    (503, "Too busy right now; retry after `Retry-After` seconds"),
];

impl ApiResponse for AppError {
    fn meta() -> MetaResponses {
        MetaResponses {
            responses: PROBLEM_STATUSES
                .iter()
                .map(|(status, description)| MetaResponse {
                    description,
                    status: Some(*status),
                    status_range: None,
                    content: vec![MetaMediaType {
                        content_type: PROBLEM_JSON,
                        schema: Problem::schema_ref(),
                    }],
                    headers: vec![],
                })
                .collect(),
        }
    }

    fn register(registry: &mut Registry) {
        Problem::register(registry);
    }
}

/// Renders every error that reaches the top of the router.
pub struct Problems {
    /// `<public url>/problems/`
    base: String,
    /// The documented paths, for the `Allow` of a 405.
    routes: Arc<crate::routes::Routes>,
}

impl Problems {
    pub fn new(public_url: &str, routes: Arc<crate::routes::Routes>) -> Self {
        Self {
            base: format!("{}/problems/", public_url.trim_end_matches('/')),
            routes,
        }
    }

    fn document(&self, kind: ProblemType, detail: String) -> Problem {
        Problem {
            kind: format!("{}{}", self.base, kind.slug()),
            title: kind.title().into(),
            status: kind.status(),
            detail,
            errors: None,
            current_version: None,
        }
    }

    /// The problem document of `error`.
    pub fn of_app_error(&self, error: &AppError) -> (Problem, Option<u64>) {
        let kind = ProblemType::of(error);
        let detail = if error.is_internal() {
            // Never show database internals to clients; they are logged instead.
            log_internal(error);
            "internal error".to_string()
        } else {
            error.to_string()
        };
        let mut problem = self.document(kind, detail);
        match error {
            AppError::Validation(errors) => {
                problem.errors = Some(
                    errors
                        .iter()
                        .map(|e| FieldErrorOut {
                            field: e.field.clone(),
                            message: e.message.clone(),
                        })
                        .collect(),
                );
            }
            AppError::StaleVersion { current_version } => {
                problem.current_version = Some(*current_version);
            }
            _ => {}
        }
        let retry_after = match error {
            AppError::RateLimited { retry_after }
            | AppError::Unavailable { retry_after }
            | AppError::DatabaseUnavailable { retry_after, .. } => Some(*retry_after),
            _ => None,
        };
        (problem, retry_after)
    }

    fn render(&self, path: &str, error: poem::Error) -> Response {
        let (problem, retry_after) = match error.downcast_ref::<AppError>() {
            Some(app_error) => self.of_app_error(app_error),
            None => {
                let status = error.status();
                let kind = ProblemType::for_status(status.as_u16());
                let detail = if status.is_server_error() {
                    tracing::error!(%error, "request failed");
                    "internal error".to_string()
                } else if status == StatusCode::UNAUTHORIZED {
                    // poem says only "authorization error".
                    "missing or malformed credentials: send `Authorization: Bearer <token>`".into()
                } else {
                    truncated(&error.to_string())
                };
                let mut problem = self.document(kind, detail);
                problem.status = status.as_u16();
                (problem, None)
            }
        };
        let mut response = problem_response(&problem);
        if response.status() == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"newsfeed\""),
            );
        }
        if let Some(retry_after) = retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
        }
        self.add_allow(path, &mut response);
        response
    }

    fn add_allow(&self, path: &str, response: &mut Response) {
        if response.status() == StatusCode::METHOD_NOT_ALLOWED {
            if let Some(methods) = self.routes.allow(path) {
                response
                    .headers_mut()
                    .insert(header::ALLOW, methods.clone());
            }
        }
    }
}

/// Longest `detail` taken from a parser message, which may quote the input.
const MAX_DETAIL_CHARS: usize = 300;

fn truncated(text: &str) -> String {
    if text.chars().count() > MAX_DETAIL_CHARS {
        format!(
            "{}…",
            text.chars().take(MAX_DETAIL_CHARS).collect::<String>()
        )
    } else {
        text.to_string()
    }
}

fn log_internal(error: &AppError) {
    let mut chain = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        chain.push_str(": ");
        chain.push_str(&cause.to_string());
        source = cause.source();
    }
    tracing::error!(error = %chain, "request failed");
}

/// A problem document as a response.
pub fn problem_response(problem: &Problem) -> Response {
    let status = StatusCode::from_u16(problem.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    Response::builder()
        .status(status)
        .content_type(PROBLEM_JSON)
        .body(problem.to_json_string())
}

/// Middleware: turns every error below it into its problem document.
pub async fn render_errors<E: Endpoint>(
    endpoint: Arc<E>,
    request: Request,
    problems: Arc<Problems>,
) -> poem::Result<Response> {
    let path = request.uri().path().to_string();
    Ok(match endpoint.call(request).await {
        Ok(response) => {
            let mut response = response.into_response();
            problems.add_allow(&path, &mut response);
            response
        }
        // Web pages answer their own errors with a page.
        Err(error) if error.is_from_response() => error.into_response(),
        Err(error) => problems.render(&path, error),
    })
}

/// `GET /problems/{slug}`: what a problem type means, for people who follow the URI.
#[poem::handler]
pub fn describe(poem::web::Path(slug): poem::web::Path<String>) -> Response {
    match ProblemType::from_slug(&slug) {
        Some(kind) => Response::builder()
            .content_type("text/plain; charset=utf-8")
            .body(format!(
                "{} ({} {})\n\n{}\n",
                kind.title(),
                kind.status(),
                http_status(kind).canonical_reason().unwrap_or_default(),
                kind.description()
            )),
        None => Response::builder()
            .status(StatusCode::NOT_FOUND)
            .content_type("text/plain; charset=utf-8")
            .body("no such problem type\n"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_type_is_documented_in_the_spec_and_slugs_are_unique() {
        let spec = crate::openapi().spec();
        for kind in ProblemType::ALL {
            assert!(
                spec.contains(&format!("`{}`", kind.slug())),
                "{kind:?} not in the spec"
            );
            assert_eq!(ProblemType::from_slug(kind.slug()), Some(kind));
            assert!(http_status(kind).is_client_error() || http_status(kind).is_server_error());
        }
    }
}
