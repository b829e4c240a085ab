//! Entry pictures: upload (through the image pipeline), removal, serving,
//! and the sweep of files no revision uses any more.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, OnceLock, mpsc};
use std::time::{Duration, SystemTime};

use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QuerySelect, Set};
use tokio::sync::Semaphore;

use super::Services;
use super::entries::{self, EntryView, live_revision_of};
use crate::domain::authz::Principal;
use crate::domain::entry::EntryPatch;
use crate::domain::lifecycle::EditRequest;
use crate::domain::limits::{MEDIA_GRACE_SECS, PICTURE_MEMORY_MIB, PICTURES_AT_ONCE};
use crate::domain::media::{self, MEDIA_PREFIX};
use crate::entities::{entry, media as media_row};
use crate::error::{AppError, AppResult};
use crate::media::{ImageRefusal, Picture, decode, inspect};

/// Pictures processed at once, per process.
static RUNNING: Semaphore = Semaphore::const_new(PICTURES_AT_ONCE);
/// The memory, in MiB, the pictures being processed may hold together.
static MEMORY: Semaphore = Semaphore::const_new(PICTURE_MEMORY_MIB as usize);

type Job = Box<dyn FnOnce() + Send>;

/// The threads pictures are processed on: always the same
/// `PICTURES_AT_ONCE`, started on first use. The allocator keeps what a
/// thread frees for that thread a while; on a fixed few threads the next
/// picture reuses it, where the many threads of tokio's blocking pool
/// would each keep some (12 uploads at once: 380 MiB above idle on the blocking pool, 266 here,
/// with a budget of 160 MiB).
fn picture_threads() -> &'static mpsc::Sender<Job> {
    static THREADS: OnceLock<mpsc::Sender<Job>> = OnceLock::new();
    THREADS.get_or_init(|| {
        let (sender, receiver) = mpsc::channel::<Job>();
        let receiver = Arc::new(Mutex::new(receiver));
        for n in 0..PICTURES_AT_ONCE {
            let receiver = receiver.clone();
            let started = std::thread::Builder::new()
                .name(format!("picture-{n}"))
                .spawn(move || {
                    while let Some(job) = receiver.lock().ok().and_then(|jobs| jobs.recv().ok()) {
                        // A decoder that panics loses its picture, not the thread.
                        std::panic::catch_unwind(std::panic::AssertUnwindSafe(job)).ok();
                    }
                });
            if let Err(error) = started {
                tracing::error!(%error, "cannot start a picture thread");
            }
        }
        sender
    })
}

/// Runs `work` on a picture thread.
async fn off_the_runtime<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> AppResult<T> {
    let (done, result) = tokio::sync::oneshot::channel();
    picture_threads()
        .send(Box::new(move || {
            done.send(work()).ok();
        }))
        .map_err(|_| AppError::internal("no picture thread", "the picture threads stopped"))?;
    result
        .await
        .map_err(|error| AppError::internal("image pipeline stopped", error))
}

fn closed(error: tokio::sync::AcquireError) -> AppError {
    AppError::internal("image pipeline closed", error)
}

/// Runs the picture pipeline on the bytes `read` gives, within the bounds
/// of the process: at most `PICTURES_AT_ONCE` at a time (the file is read
/// into memory only then, on the blocking thread), and together within
/// `PICTURE_MEMORY_MIB` as their headers estimate it. The permits go with
/// the blocking work, so a request that stops waiting does not free them
/// while its picture is still processed.
pub async fn process(
    read: impl FnOnce() -> std::io::Result<Vec<u8>> + Send + 'static,
) -> AppResult<Result<Picture, ImageRefusal>> {
    let running = RUNNING.acquire().await.map_err(closed)?;
    let (bytes, running, inspected) = off_the_runtime(move || {
        let bytes = read()?;
        let inspected = inspect(&bytes);
        Ok::<_, std::io::Error>((bytes, running, inspected))
    })
    .await?
    .map_err(|error| AppError::internal("cannot read the picture", error))?;
    let inspected = match inspected {
        Ok(inspected) => inspected,
        Err(refusal) => return Ok(Err(refusal)),
    };
    let memory = MEMORY
        .acquire_many(inspected.memory_mib)
        .await
        .map_err(closed)?;
    off_the_runtime(move || {
        let _permits = (running, memory);
        decode(&bytes, &inspected)
    })
    .await
}

/// Makes the uploaded `file` (of `size` bytes) the picture of entry `id`
/// (an edit based on `version`): processed into the stored JPEG first, so a
/// refused picture changes nothing.
pub async fn upload(
    services: &Services,
    principal: &Principal,
    id: i64,
    version: Option<i32>,
    size: usize,
    file: std::fs::File,
) -> AppResult<EntryView> {
    refuse_too_large(services, size)?;
    // Who may edit is known before any pixel is decoded.
    let view = entries::get(services, principal, id).await?;
    if !principal.can_write_entries(view.entry.group_id) {
        return Err(AppError::Forbidden(
            "only the entry's group may change its picture".into(),
        ));
    }
    let path = accept(services, principal, "file", size, file).await?;
    set_image(services, principal, id, version, path).await
}

/// 413 for a file over `--image-max-bytes`, before any of it is read.
fn refuse_too_large(services: &Services, size: usize) -> AppResult<()> {
    let max = services.config.image_max_bytes;
    if size > max {
        return Err(AppError::TooLarge(format!(
            "the image has {size} bytes; at most {max} are accepted"
        )));
    }
    Ok(())
}

/// Processes the uploaded `file` (of `size` bytes) into a stored picture,
/// recorded as `principal`'s, without attaching it to any entry: its path
/// (`/media/<hash>.jpg`). A refusal is an error of form field `field`. The
/// sweep removes it within a day unless some entry uses it by then.
pub async fn accept(
    services: &Services,
    principal: &Principal,
    field: &str,
    size: usize,
    mut file: std::fs::File,
) -> AppResult<String> {
    refuse_too_large(services, size)?;
    let read = move || {
        let mut bytes = Vec::with_capacity(size);
        std::io::Read::read_to_end(&mut file, &mut bytes).map(|_| bytes)
    };
    let picture = process(read)
        .await?
        .map_err(|refusal| AppError::field(field, refusal.to_string()))?;
    store(services, principal, &picture).await?;
    Ok(media::media_path(&picture.hash))
}

/// Removes the picture of entry `id` (an edit based on `version`); the file
/// stays while any revision uses it, and until the sweep after that.
pub async fn remove(
    services: &Services,
    principal: &Principal,
    id: i64,
    version: Option<i32>,
) -> AppResult<EntryView> {
    set_image(services, principal, id, version, String::new()).await
}

async fn set_image(
    services: &Services,
    principal: &Principal,
    id: i64,
    version: Option<i32>,
    image: String,
) -> AppResult<EntryView> {
    let request = EditRequest {
        version,
        patch: EntryPatch {
            image: Some(image),
            ..EntryPatch::default()
        },
        ..EditRequest::default()
    };
    entries::update(services, principal, id, request).await
}

/// Records the picture as used now, then writes its file: the sweep spares
/// recently used rows, so it cannot remove a file an upload is writing.
async fn store(services: &Services, principal: &Principal, picture: &Picture) -> AppResult<()> {
    record_picture(
        &services.db,
        services,
        picture,
        Some(principal.attributed_user_id()),
    )
    .await?;
    save_picture(services, picture).await
}

/// Records `picture` as stored and used now (in `db`, which may be a
/// transaction), on behalf of `created_by`.
pub async fn record_picture(
    db: &impl sea_orm::ConnectionTrait,
    services: &Services,
    picture: &Picture,
    created_by: Option<i64>,
) -> AppResult<()> {
    let now = services.now();
    media_row::Entity::insert(media_row::ActiveModel {
        hash: Set(picture.hash.clone()),
        bytes: Set(i64::try_from(picture.jpeg.len()).unwrap_or(i64::MAX)),
        width: Set(i32::try_from(picture.width).unwrap_or(i32::MAX)),
        height: Set(i32::try_from(picture.height).unwrap_or(i32::MAX)),
        created_by: Set(created_by),
        created_at: Set(now),
        last_used_at: Set(now),
    })
    .on_conflict(
        OnConflict::column(media_row::Column::Hash)
            .update_column(media_row::Column::LastUsedAt)
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// Writes the file of `picture` into the store (a file no row describes is
/// removed by the sweep after the grace period).
pub async fn save_picture(services: &Services, picture: &Picture) -> AppResult<()> {
    services
        .media
        .save(&picture.hash, picture.jpeg.clone())
        .await
        .map_err(|error| AppError::internal("cannot store the picture", error))
}

/// The bytes of stored picture `hash`.
pub async fn read(services: &Services, hash: &str) -> AppResult<Vec<u8>> {
    if !media::is_hash(hash) {
        return Err(AppError::not_found("picture"));
    }
    services
        .media
        .read(hash)
        .await
        .map_err(|error| AppError::internal("cannot read the picture", error))?
        .ok_or_else(|| AppError::not_found("picture"))
}

/// What a sweep did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SweepReport {
    pub removed: usize,
    pub kept: usize,
}

/// The pictures some stored revision (working or live) of any entry uses.
async fn referenced(services: &Services) -> AppResult<HashSet<String>> {
    let pattern = format!("%{MEDIA_PREFIX}%");
    let rows = entry::Entity::find()
        .filter(
            Condition::any()
                .add(entry::Column::Image.like(pattern.clone()))
                .add(entry::Column::LiveRevision.like(pattern)),
        )
        .all(&services.db)
        .await?;
    let mut used = HashSet::new();
    for row in &rows {
        used.extend(media::hash_of(&row.image).map(str::to_string));
        if let Some(live) = live_revision_of(row)? {
            used.extend(media::hash_of(&live.fields.image).map(str::to_string));
        }
    }
    Ok(used)
}

/// Removes pictures that no revision uses and nobody uploaded within
/// `MEDIA_GRACE_SECS`, and files left without a row (an upload that stopped
/// half-way) once they are that old.
pub async fn sweep(services: &Services) -> AppResult<SweepReport> {
    let used = referenced(services).await?;
    let cutoff = services.now() - MEDIA_GRACE_SECS;
    let stale: Vec<String> = media_row::Entity::find()
        .select_only()
        .column(media_row::Column::Hash)
        .filter(media_row::Column::LastUsedAt.lt(cutoff))
        .into_tuple()
        .all(&services.db)
        .await?;
    let mut report = SweepReport::default();
    for hash in stale {
        if used.contains(&hash) {
            report.kept += 1;
            continue;
        }
        // Only if still stale: an upload of the same picture since keeps it.
        let deleted = media_row::Entity::delete_many()
            .filter(media_row::Column::Hash.eq(hash.as_str()))
            .filter(media_row::Column::LastUsedAt.lt(cutoff))
            .exec(&services.db)
            .await?;
        if deleted.rows_affected == 1 {
            remove_file(services, &hash).await?;
            report.removed += 1;
        }
    }
    report.removed += sweep_orphans(services).await?;
    Ok(report)
}

async fn remove_file(services: &Services, hash: &str) -> AppResult<()> {
    services
        .media
        .remove(hash)
        .await
        .map_err(|error| AppError::internal("cannot remove a picture", error))
}

/// Files on disk that no row describes, older than the grace period by the
/// file system's clock.
async fn sweep_orphans(services: &Services) -> AppResult<usize> {
    let files = services
        .media
        .list()
        .await
        .map_err(|error| AppError::internal("cannot list the media directory", error))?;
    let grace = Duration::from_secs(MEDIA_GRACE_SECS.unsigned_abs());
    let old = |modified: SystemTime| {
        SystemTime::now()
            .duration_since(modified)
            .is_ok_and(|age| age > grace)
    };
    let known: HashSet<String> = media_row::Entity::find()
        .select_only()
        .column(media_row::Column::Hash)
        .into_tuple()
        .all(&services.db)
        .await?
        .into_iter()
        .collect();
    let mut removed = 0;
    for file in files.into_iter().filter(|file| old(file.modified)) {
        if file.hash.as_ref().is_none_or(|hash| !known.contains(hash)) {
            tokio::fs::remove_file(&file.path)
                .await
                .map_err(|error| AppError::internal("cannot remove a stray file", error))?;
            removed += 1;
        }
    }
    Ok(removed)
}
