//! Stored pictures on disk, named by the SHA-256 of their bytes: a name
//! never changes meaning, so they are cached forever, and the same picture
//! uploaded twice is stored once.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::domain::media;

#[derive(Clone, Debug)]
pub struct MediaStore {
    dir: PathBuf,
}

impl MediaStore {
    pub fn new(dir: PathBuf) -> Self {
        Self { dir }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, hash: &str) -> PathBuf {
        self.dir.join(format!("{hash}.jpg"))
    }

    /// Writes `bytes` as `<hash>.jpg`: to a temporary file of its own first
    /// (two uploads of the same picture at once never share one), synced
    /// and then renamed, so a reader never sees half a picture.
    pub async fn save(&self, hash: &str, bytes: Vec<u8>) -> std::io::Result<()> {
        let (dir, path) = (self.dir.clone(), self.path(hash));
        let temporary = self
            .dir
            .join(format!(".{hash}.{:016x}.tmp", rand::random::<u64>()));
        tokio::task::spawn_blocking(move || {
            std::fs::create_dir_all(&dir)?;
            let written =
                write_synced(&temporary, &bytes).and_then(|()| std::fs::rename(&temporary, &path));
            if written.is_err() {
                // Best effort: the sweep removes what is left.
                std::fs::remove_file(&temporary).ok();
            }
            written
        })
        .await
        .map_err(std::io::Error::other)?
    }

    /// The bytes of picture `hash`, if stored.
    pub async fn read(&self, hash: &str) -> std::io::Result<Option<Vec<u8>>> {
        match tokio::fs::read(self.path(hash)).await {
            Ok(bytes) => Ok(Some(bytes)),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// Removes picture `hash`; one that is already gone is fine.
    pub async fn remove(&self, hash: &str) -> std::io::Result<()> {
        match tokio::fs::remove_file(self.path(hash)).await {
            Err(error) if error.kind() != std::io::ErrorKind::NotFound => Err(error),
            _ => Ok(()),
        }
    }

    /// Every stored picture (and leftover temporary file) with its age.
    pub async fn list(&self) -> std::io::Result<Vec<StoredFile>> {
        let mut files = Vec::new();
        let mut entries = match tokio::fs::read_dir(&self.dir).await {
            Ok(entries) => entries,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(files),
            Err(error) => return Err(error),
        };
        while let Some(entry) = entries.next_entry().await? {
            let name = entry.file_name().to_string_lossy().into_owned();
            let modified = entry.metadata().await?.modified()?;
            let hash = media::hash_of(&name).map(str::to_string);
            if hash.is_some() || name.ends_with(".tmp") {
                files.push(StoredFile {
                    path: entry.path(),
                    hash,
                    modified,
                });
            }
        }
        Ok(files)
    }
}

/// Writes `bytes` to a new file at `path` (never one that exists) and syncs it.
fn write_synced(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// A file in the media directory.
#[derive(Clone, Debug)]
pub struct StoredFile {
    pub path: PathBuf,
    /// `None` for a temporary file left by an interrupted upload.
    pub hash: Option<String>,
    pub modified: SystemTime,
}

#[cfg(test)]
mod tests {
    use super::*;
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_same_picture_saved_many_times_at_once_is_saved_every_time() {
        let dir = std::env::temp_dir().join(format!("newsfeed-store-{:x}", rand::random::<u64>()));
        let store = MediaStore::new(dir.clone());
        let hash = "ab".repeat(32);
        let saves = (0..32).map(|_| store.save(&hash, vec![7; 256 * 1024]));
        let results = futures_util::future::join_all(saves).await;
        let stored = store.read(&hash).await.ok().flatten();
        let left = store
            .list()
            .await
            .map(|files| files.len())
            .unwrap_or_default();
        std::fs::remove_dir_all(&dir).ok();
        assert!(results.iter().all(Result::is_ok), "{results:?}");
        assert_eq!(stored.map(|bytes| bytes.len()), Some(256 * 1024));
        assert_eq!(left, 1, "no temporary file is left");
    }
}
