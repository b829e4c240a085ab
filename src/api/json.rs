//! `JsonBody<T>`: a JSON request body read with serde, so that a field of the
//! wrong type is a 422 naming that field (`title: invalid type: integer `5`,
//! expected a string`), not a parser's 400. `SerdeJson<T>`: a JSON response
//! written by serde straight into its bytes. The schema of both is `T`'s,
//! exactly as poem-openapi's own `Json<T>` documents it.

use std::ops::Deref;

use poem::{FromRequest, IntoResponse, Request, RequestBody, Response};
use poem_openapi::payload::Json;
use poem_openapi::payload::{ParsePayload, Payload};
use poem_openapi::registry::{MetaMediaType, MetaRequest, MetaResponses, MetaSchemaRef, Registry};
use poem_openapi::types::{ToJSON, Type};
use poem_openapi::{ApiExtractor, ApiExtractorType, ApiResponse, ExtractParamOptions};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::domain::FieldError;
use crate::error::AppError;

/// Longest part of a parser message that is echoed back (it may quote input).
const MAX_ECHO_CHARS: usize = 160;

const JSON: &str = "application/json; charset=utf-8";

pub struct JsonBody<T>(pub T);

impl<T> Deref for JsonBody<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: Type> Payload for JsonBody<T> {
    const CONTENT_TYPE: &'static str = JSON;

    fn check_content_type(content_type: &str) -> bool {
        content_type.parse::<mime::Mime>().is_ok_and(|mime| {
            mime.type_() == "application"
                && (mime.subtype() == "json" || mime.suffix().is_some_and(|s| s == "json"))
        })
    }

    fn schema_ref() -> MetaSchemaRef {
        T::schema_ref()
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }
}

impl<T: Type + DeserializeOwned + Send> ParsePayload for JsonBody<T> {
    const IS_REQUIRED: bool = T::IS_REQUIRED;

    async fn from_request(request: &Request, body: &mut RequestBody) -> poem::Result<Self> {
        let data = <Vec<u8> as FromRequest>::from_request(request, body).await?;
        Ok(Self(parse(&data)?))
    }
}

/// `data` as a `T`; an empty body is `null`.
fn parse<T: DeserializeOwned>(data: &[u8]) -> Result<T, AppError> {
    let data: &[u8] = if data.is_empty() { b"null" } else { data };
    // Every body is an object (or nothing); serde would also read a struct
    // from an array, field by field.
    if !matches!(data.trim_ascii_start().first(), Some(b'{' | b'n')) {
        return Err(AppError::BadRequest(
            "the body must be a JSON object".into(),
        ));
    }
    let mut deserializer = serde_json::Deserializer::from_slice(data);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(refusal)?;
    deserializer.end().map_err(|error| {
        AppError::BadRequest(format!(
            "the body is not valid JSON: {}",
            without_position(&error)
        ))
    })?;
    Ok(value)
}

/// What a client is told about a body that does not parse.
fn refusal(error: serde_path_to_error::Error<serde_json::Error>) -> AppError {
    let path = error.path().to_string();
    let inner = error.into_inner();
    let message = without_position(&inner);
    match inner.classify() {
        serde_json::error::Category::Data if message.starts_with("unknown field") => {
            AppError::BadRequest(message)
        }
        serde_json::error::Category::Data if path != "." => {
            AppError::Validation(vec![FieldError::new(path, message)])
        }
        serde_json::error::Category::Data => {
            if let Some(field) = missing_field(&message) {
                AppError::Validation(vec![FieldError::new(field, "is required")])
            } else {
                AppError::BadRequest(format!("the body must be a JSON object: {message}"))
            }
        }
        _ => AppError::BadRequest(format!("the body is not valid JSON: {message}")),
    }
}

/// serde's message without its ` at line 1 column 12`, cut to a readable length.
fn without_position(error: &serde_json::Error) -> String {
    let text = error.to_string();
    let text = match text.rfind(" at line ") {
        Some(index) => &text[..index],
        None => &text,
    };
    if text.chars().count() > MAX_ECHO_CHARS {
        format!("{}…", text.chars().take(MAX_ECHO_CHARS).collect::<String>())
    } else {
        text.to_string()
    }
}

/// `missing field `email`` -> `email`.
fn missing_field(message: &str) -> Option<String> {
    let rest = message.strip_prefix("missing field `")?;
    Some(rest.split('`').next()?.to_string())
}

impl<'a, T: Type + DeserializeOwned + Send> ApiExtractor<'a> for JsonBody<T> {
    const TYPES: &'static [ApiExtractorType] = &[ApiExtractorType::RequestObject];

    type ParamType = ();
    type ParamRawType = ();

    fn register(registry: &mut Registry) {
        <Self as Payload>::register(registry);
    }

    fn request_meta() -> Option<MetaRequest> {
        Some(MetaRequest {
            description: None,
            content: vec![MetaMediaType {
                content_type: <Self as Payload>::CONTENT_TYPE,
                schema: <Self as Payload>::schema_ref(),
            }],
            required: <Self as ParsePayload>::IS_REQUIRED,
        })
    }

    async fn from_request(
        request: &'a Request,
        body: &mut RequestBody,
        _param_opts: ExtractParamOptions<Self::ParamType>,
    ) -> poem::Result<Self> {
        match request.content_type() {
            Some(content_type) if Self::check_content_type(content_type) => {
                <Self as ParsePayload>::from_request(request, body).await
            }
            Some(content_type) => Err(poem_openapi::error::ContentTypeError::NotSupported {
                content_type: content_type.to_string(),
            }
            .into()),
            None => Err(poem_openapi::error::ContentTypeError::ExpectContentType.into()),
        }
    }
}

/// A 200 answer of `T` as JSON, documented by poem-openapi's `Json<T>`,
/// but written by `T`'s serde `Serialize` rather than through a
/// `serde_json::Value` per field (a map with owned keys per object): for
/// the long pages of entries, most of whose cost that tree was. `T`'s
/// `Serialize` must write what its `ToJSON` would (tests compare them).
pub struct SerdeJson<T>(pub T);

impl<T: Serialize + Send> IntoResponse for SerdeJson<T> {
    fn into_response(self) -> Response {
        match serde_json::to_vec(&self.0) {
            Ok(body) => Response::builder().content_type(JSON).body(body),
            // Only a map with keys that are not strings fails; none is sent.
            Err(error) => poem::Error::from(AppError::internal("writing a JSON answer", error))
                .into_response(),
        }
    }
}

impl<T: ToJSON + Serialize + Send> ApiResponse for SerdeJson<T> {
    fn meta() -> MetaResponses {
        Json::<T>::meta()
    }

    fn register(registry: &mut Registry) {
        <Json<T> as ApiResponse>::register(registry);
    }
}

/// Date-times for `SerdeJson`, as poem-openapi's `ToJSON` writes them
/// (`to_rfc3339`: `+00:00`, not chrono serde's `Z`).
pub mod rfc3339 {
    use chrono::{DateTime, Utc};
    use serde::Serializer;

    pub fn one<S: Serializer>(at: &DateTime<Utc>, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&at.to_rfc3339())
    }

    pub fn optional<S: Serializer>(
        at: &Option<DateTime<Utc>>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match at {
            Some(at) => one(at, serializer),
            None => serializer.serialize_none(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Sample {
        title: String,
        points: Option<Vec<Vec<f64>>>,
    }

    fn parse(text: &str) -> Result<Sample, AppError> {
        super::parse(text.as_bytes())
    }

    fn described(result: Result<Sample, AppError>) -> String {
        match result {
            Err(AppError::Validation(errors)) => {
                format!("422 {}: {}", errors[0].field, errors[0].message)
            }
            Err(AppError::BadRequest(message)) => format!("400 {message}"),
            other => format!("{other:?}"),
        }
    }

    #[test]
    fn wrong_types_name_their_field() {
        assert_eq!(
            described(parse(r#"{"title": 5}"#)),
            "422 title: invalid type: integer `5`, expected a string"
        );
        assert_eq!(
            described(parse(r#"{"title": "t", "points": [[1, "x"]]}"#)),
            "422 points[0][1]: invalid type: string \"x\", expected f64"
        );
        assert_eq!(described(parse(r#"{}"#)), "422 title: is required");
        assert!(
            described(parse(r#"{"title": "t", "extra": 1}"#))
                .starts_with("400 unknown field `extra`")
        );
        assert!(described(parse("[1]")).starts_with("400 the body must be a JSON object"));
        assert!(described(parse("{")).starts_with("400 the body is not valid JSON"));
        assert!(
            described(parse(r#"{"title": "t"} x"#)).starts_with("400 the body is not valid JSON")
        );
        let long = format!(r#"{{"title": {}}}"#, "1".repeat(5000));
        assert!(described(parse(&long)).len() < 400);
    }
}
