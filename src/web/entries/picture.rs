//! The picture of the entry form. The form is sent as `multipart/form-data`
//! (a urlencoded body is still read, without a file): its file `image_file`
//! is streamed to a temporary file, never more than `--image-max-bytes` of
//! it kept, and goes through the API's pipeline (`service::media::accept`)
//! on Preview as on Save, so the picture shown in the preview is the stored
//! 500x354 one and Save does not need the file again: the form carries its
//! path in `image`, and this session remembers which paths it uploaded, so
//! nobody else can attach a picture that is not published yet. Pictures no
//! entry ends up using are removed by the media sweep.

use poem::http::{StatusCode, header};
use poem::web::Multipart;
use poem::{FromRequest, Request, RequestBody};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::AppState;
use crate::domain::FieldError;
use crate::domain::media::hash_of;
use crate::error::AppError;
use crate::service::media;
use crate::web::context::{Ctx, Viewer, WebError, WebResult};
use crate::web::forms::Form;

/// The file input's name (DESIGN.md).
pub const FILE_FIELD: &str = "image_file";
/// The checkbox that removes the picture.
const REMOVE_FIELD: &str = "image_remove";
/// The session's list of the pictures it uploaded (hashes, newest last).
const UPLOADED_KEY: &str = "uploaded_pictures";
/// How many of them it remembers (one per open form is plenty).
const UPLOADED_KEPT: usize = 20;

/// A file sent in `image_file`: its first `--image-max-bytes` on disk, and
/// how many bytes it had in all.
pub struct Upload {
    file: std::fs::File,
    size: usize,
}

/// The body of the entry form: its text fields and the file, if one was chosen.
pub struct EntryFormBody {
    pub form: Form,
    pub upload: Option<Upload>,
}

fn state_of(request: &Request) -> poem::Result<&AppState> {
    request.data::<AppState>().ok_or_else(|| {
        poem::Error::from_string(
            "application state missing",
            StatusCode::INTERNAL_SERVER_ERROR,
        )
    })
}

fn too_large(max: usize) -> poem::Error {
    poem::Error::from_string(
        format!("the form's text is larger than {max} bytes"),
        StatusCode::PAYLOAD_TOO_LARGE,
    )
}

fn unreadable(error: impl std::fmt::Display) -> poem::Error {
    poem::Error::from_string(
        format!("the form cannot be read: {error}"),
        StatusCode::BAD_REQUEST,
    )
}

impl<'a> FromRequest<'a> for EntryFormBody {
    async fn from_request(request: &'a Request, body: &mut RequestBody) -> poem::Result<Self> {
        let multipart = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .is_some_and(|value| value.starts_with("multipart/form-data"));
        if !multipart {
            let bytes = Vec::<u8>::from_request(request, body).await?;
            return Ok(Self {
                form: Form::parse(&bytes),
                upload: None,
            });
        }
        let config = &state_of(request)?.config;
        let fields = Multipart::from_request(request, body).await?;
        read_multipart(fields, config.max_body_bytes, config.image_max_bytes).await
    }
}

/// The text fields (together at most `text_max` bytes, as a urlencoded form
/// may have) and the file (kept up to `file_max` bytes, counted to the end).
async fn read_multipart(
    mut fields: Multipart,
    text_max: usize,
    file_max: usize,
) -> poem::Result<EntryFormBody> {
    let mut pairs = Vec::new();
    let mut upload = None;
    let mut text_bytes = 0;
    while let Some(field) = fields.next_field().await.map_err(unreadable)? {
        let name = field.name().unwrap_or_default().to_string();
        if name == FILE_FIELD {
            let chosen = field.file_name().is_some_and(|name| !name.is_empty());
            let file = to_disk(field.into_async_read(), file_max).await?;
            // An empty file input sends a part without a name and bytes.
            if chosen || file.size > 0 {
                upload = Some(file);
            }
            continue;
        }
        let mut text = Vec::new();
        let limit = (text_max - text_bytes) as u64 + 1;
        field
            .into_async_read()
            .take(limit)
            .read_to_end(&mut text)
            .await
            .map_err(unreadable)?;
        text_bytes += text.len();
        if text_bytes > text_max {
            return Err(too_large(text_max));
        }
        let text = String::from_utf8(text).map_err(unreadable)?;
        pairs.push((name, text));
    }
    Ok(EntryFormBody {
        form: Form::from_pairs(pairs),
        upload,
    })
}

/// Writes at most `max` bytes of `reader` to a temporary file and counts
/// the rest without keeping it.
async fn to_disk(
    mut reader: impl tokio::io::AsyncRead + Send + Unpin,
    max: usize,
) -> poem::Result<Upload> {
    let internal = |error: std::io::Error| {
        poem::Error::from_string(
            format!("cannot keep the upload: {error}"),
            StatusCode::INTERNAL_SERVER_ERROR,
        )
    };
    let mut file = tokio::fs::File::from_std(tempfile::tempfile().map_err(internal)?);
    let mut size = 0;
    let mut chunk = vec![0; 64 * 1024];
    loop {
        let read = reader.read(&mut chunk).await.map_err(unreadable)?;
        if read == 0 {
            break;
        }
        let kept = read.min(max.saturating_sub(size));
        if kept > 0 {
            file.write_all(&chunk[..kept]).await.map_err(internal)?;
        }
        size += read;
    }
    file.flush().await.map_err(internal)?;
    let mut file = file.into_std().await;
    std::io::Seek::rewind(&mut file).map_err(internal)?;
    Ok(Upload { file, size })
}

/// What became of the picture fields of a form.
#[derive(Default)]
pub struct PictureOutcome {
    pub errors: Vec<FieldError>,
    /// The file was over `--image-max-bytes` (the page answers 413).
    pub too_large: bool,
}

impl PictureOutcome {
    fn refused(message: impl Into<String>) -> Self {
        Self {
            errors: vec![FieldError::new(FILE_FIELD, message)],
            too_large: false,
        }
    }
}

/// Settles the form's `image` for this request: an uploaded file processed
/// and stored (it replaces the picture), the picture removed when
/// "Remove picture" is ticked, or the picture the form carried, which for
/// anyone but a moderator must be `stored` (the entry's), none, or one
/// this session uploaded.
pub async fn settle(
    ctx: &Ctx<'_>,
    viewer: &Viewer,
    form: &mut Form,
    upload: Option<Upload>,
    stored: &str,
) -> Result<PictureOutcome, WebError> {
    if let Some(Upload { file, size }) = upload {
        let services = ctx.services();
        return match media::accept(services, &viewer.principal, FILE_FIELD, size, file).await {
            Ok(path) => {
                remember(ctx, &path);
                form.set("image", &path);
                Ok(PictureOutcome::default())
            }
            Err(AppError::TooLarge(message)) => Ok(PictureOutcome {
                too_large: true,
                ..PictureOutcome::refused(message)
            }),
            Err(AppError::Validation(errors)) => Ok(PictureOutcome {
                errors,
                too_large: false,
            }),
            Err(other) => Err(other.into()),
        };
    }
    if form.checked(REMOVE_FIELD) {
        form.set("image", "");
        return Ok(PictureOutcome::default());
    }
    let posted = form.text("image").trim().to_string();
    if viewer.is_moderator() || posted.is_empty() || posted == stored {
        return Ok(PictureOutcome::default());
    }
    let refusal = match hash_of(&posted) {
        Some(hash) if uploaded_here(ctx, hash) => return Ok(PictureOutcome::default()),
        Some(_) => "is not one you uploaded here (or it was too long ago); choose the file again",
        None => "choose a file to upload; only moderators may link an image from another site",
    };
    form.set("image", stored);
    Ok(PictureOutcome::refused(refusal))
}

fn uploaded(ctx: &Ctx<'_>) -> Vec<String> {
    ctx.session()
        .get::<Vec<String>>(UPLOADED_KEY)
        .unwrap_or_default()
}

fn uploaded_here(ctx: &Ctx<'_>, hash: &str) -> bool {
    uploaded(ctx).iter().any(|known| known == hash)
}

/// Remembers that this session uploaded the picture at `path`.
fn remember(ctx: &Ctx<'_>, path: &str) {
    let Some(hash) = hash_of(path) else {
        return;
    };
    let mut known = uploaded(ctx);
    known.retain(|other| other != hash);
    known.push(hash.to_string());
    let excess = known.len().saturating_sub(UPLOADED_KEPT);
    known.drain(..excess);
    ctx.session().set(UPLOADED_KEY, known);
}

/// Errors of the form as its reader sees the fields: without the "Image
/// URL" field (moderators only), an error of `image` is the picture's.
pub fn shown_errors(errors: &mut [FieldError], moderator: bool) {
    if moderator {
        return;
    }
    for error in errors.iter_mut().filter(|error| error.field == "image") {
        error.field = FILE_FIELD.to_string();
    }
}

/// The form shown again answers 413 when the file was too large.
pub fn answer(outcome: &PictureOutcome, page: WebResult) -> WebResult {
    let mut response = page?;
    if outcome.too_large {
        response.set_status(StatusCode::PAYLOAD_TOO_LARGE);
    }
    Ok(response)
}
