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

    /// Writes `bytes` as `<hash>.jpg`: to a temporary file first, synced and
    /// then renamed, so a reader never sees half a picture.
    pub async fn save(&self, hash: &str, bytes: Vec<u8>) -> std::io::Result<()> {
        let (dir, path) = (self.dir.clone(), self.path(hash));
        let temporary = self.dir.join(format!(".{hash}.{}.tmp", std::process::id()));
        tokio::task::spawn_blocking(move || {
            std::fs::create_dir_all(&dir)?;
            let mut file = std::fs::File::create(&temporary)?;
            file.write_all(&bytes)?;
            file.sync_all()?;
            std::fs::rename(&temporary, &path)
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

/// A file in the media directory.
#[derive(Clone, Debug)]
pub struct StoredFile {
    pub path: PathBuf,
    /// `None` for a temporary file left by an interrupted upload.
    pub hash: Option<String>,
    pub modified: SystemTime,
}
