//! Entry pictures: upload (multipart) and removal, and the stored files.

use poem::web::Data;
use poem_openapi::param::{Header, Path, Query};
use poem_openapi::payload::{Binary, Json};
use poem_openapi::types::multipart::Upload;
use poem_openapi::{ApiResponse, Multipart, OpenApi};

use super::entries::EntryOut;
use super::{ApiTags, BearerAuth};
use crate::AppState;
use crate::domain::media;
use crate::error::{AppError, AppResult};
use crate::service::media as pictures;

pub struct MediaApi;

/// A picture for an entry.
#[derive(Multipart, Debug)]
struct ImageUpload {
    /// A JPEG, PNG or WebP file (judged by its bytes, not its name or type).
    /// It is cropped and scaled to fill 500x354 and stored as a JPEG without
    /// metadata; at most `--image-max-bytes` (10 MiB by default).
    file: Upload,
    /// The version of the entry this change is based on; a stale one gets 409.
    version: i32,
}

/// `Cache-Control` of stored pictures: their names change with their bytes.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

#[derive(ApiResponse)]
enum PictureResponse {
    /// The picture.
    #[oai(status = 200, content_type = "image/jpeg")]
    Picture(
        Binary<Vec<u8>>,
        #[oai(header = "ETag")] String,
        #[oai(header = "Cache-Control")] String,
    ),
    /// Unchanged since the `ETag` sent in `If-None-Match`.
    #[oai(status = 304)]
    NotModified(
        #[oai(header = "ETag")] String,
        #[oai(header = "Cache-Control")] String,
    ),
}

#[OpenApi(tag = "ApiTags::Media")]
impl MediaApi {
    /// Set the entry's picture from an uploaded file (an edit: a live entry's
    /// new picture waits for review while the old one stays published).
    #[oai(path = "/api/v1/entries/:id/image", method = "post")]
    async fn upload(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<i64>,
        form: ImageUpload,
    ) -> AppResult<Json<EntryOut>> {
        let size = form.file.size();
        let view = pictures::upload(
            &state.services,
            &auth.0,
            *id,
            Some(form.version),
            size,
            form.file.into_file().into_std().await,
        )
        .await?;
        Ok(Json(view.into()))
    }

    /// Remove the entry's picture (an edit based on `version`).
    #[oai(path = "/api/v1/entries/:id/image", method = "delete")]
    async fn remove(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<i64>,
        /// The version of the entry this change is based on.
        version: Query<i32>,
    ) -> AppResult<Json<EntryOut>> {
        let view = pictures::remove(&state.services, &auth.0, *id, Some(*version)).await?;
        Ok(Json(view.into()))
    }

    /// A stored picture, `<sha256>.jpg`: 500x354 JPEG, cacheable forever.
    #[oai(path = "/media/:file", method = "get")]
    async fn picture(
        &self,
        state: Data<&AppState>,
        file: Path<String>,
        #[oai(name = "If-None-Match")] if_none_match: Header<Option<String>>,
    ) -> AppResult<PictureResponse> {
        let hash = media::hash_of(&file).ok_or_else(|| AppError::not_found("picture"))?;
        let etag = format!("\"{hash}\"");
        let matches = if_none_match.as_deref().is_some_and(|tags| {
            tags.split(',')
                .any(|tag| tag.trim() == etag || tag.trim() == "*")
        });
        let bytes = pictures::read(&state.services, hash).await?;
        if matches {
            return Ok(PictureResponse::NotModified(etag, IMMUTABLE.into()));
        }
        Ok(PictureResponse::Picture(
            Binary(bytes),
            etag,
            IMMUTABLE.into(),
        ))
    }
}
