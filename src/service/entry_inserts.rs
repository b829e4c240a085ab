//! New entries written together. Under load, submissions arrive while a
//! transaction is being written; when each waited for a transaction of its
//! own, every one cost four trips to the database inside SQLite's single
//! writer (begin, the entry, its history line, commit), one after another.
//! Here a submission joins a queue, and whoever finds the queue empty sets
//! off a flush that takes everything queued by the time it runs and writes
//! it in one transaction: two multi-row inserts however many entries
//! there are (group commit). Each submission is answered only after the
//! commit that holds it, so nothing acknowledged is lost.

use std::sync::{Arc, Mutex, PoisonError};

use sea_orm::{DatabaseConnection, DbErr, EntityTrait, Set};
use tokio::sync::oneshot;

use crate::entities::{entry, entry_event};
use crate::error::{AppError, AppResult, outage};

/// At most this many entries in one statement: an entry binds about fifty
/// values, SQLite takes at most 32,766 in a statement.
const MOST_PER_STATEMENT: usize = 64;

/// The queue of entries waiting to be written (see the module's comment).
pub struct EntryInserts {
    shared: Arc<Shared>,
}

struct Shared {
    db: DatabaseConnection,
    /// SQLite's write turn, the one `Services::begin_write` takes.
    writer: Option<Arc<tokio::sync::Mutex<()>>>,
    queue: Mutex<Vec<Insert>>,
    /// One flush at a time, so the next one finds a full queue.
    flushing: tokio::sync::Mutex<()>,
}

/// A new entry and the history line that records its creation (its
/// `entry_id` is set once the entry has one).
struct Insert {
    entry: entry::ActiveModel,
    line: entry_event::ActiveModel,
    reply: oneshot::Sender<AppResult<entry::Model>>,
}

impl EntryInserts {
    pub fn new(db: DatabaseConnection, writer: Option<Arc<tokio::sync::Mutex<()>>>) -> Self {
        Self {
            shared: Arc::new(Shared {
                db,
                writer,
                queue: Mutex::new(Vec::new()),
                flushing: tokio::sync::Mutex::new(()),
            }),
        }
    }

    /// Writes `entry` and its creation `line`, returning the stored entry
    /// once it is committed.
    pub async fn insert(
        &self,
        entry: entry::ActiveModel,
        line: entry_event::ActiveModel,
    ) -> AppResult<entry::Model> {
        let (reply, answer) = oneshot::channel();
        let first = {
            let mut queue = self
                .shared
                .queue
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            queue.push(Insert { entry, line, reply });
            queue.len() == 1
        };
        // A queue that was not empty has a flush on its way, which takes
        // this entry too. The flush runs on a task of its own: a client
        // that goes away must not roll back the others' entries.
        if first {
            tokio::spawn(self.shared.clone().flush());
        }
        answer
            .await
            .map_err(|_| AppError::internal("writing a new entry", "the flush ended unanswered"))?
    }
}

impl Shared {
    async fn flush(self: Arc<Self>) {
        let _one_at_a_time = self.flushing.lock().await;
        let mut inserts = self.take_queued();
        while !inserts.is_empty() {
            let rest = inserts.split_off(inserts.len().min(MOST_PER_STATEMENT));
            if let Some(reason) = self.write(inserts).await {
                // Each would wait as long again for a database that did not
                // answer: the rest, and what queued meanwhile, are told now.
                refuse(rest.into_iter().chain(self.take_queued()), reason);
                return;
            }
            inserts = rest;
        }
    }

    fn take_queued(&self) -> Vec<Insert> {
        std::mem::take(&mut *self.queue.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// Writes `inserts` in one transaction and answers each. When that
    /// fails for another reason than an outage, each is tried alone, so
    /// that a refused row fails only its own request. Returns why the
    /// database is unavailable, if it is.
    async fn write(&self, inserts: Vec<Insert>) -> Option<&'static str> {
        let failure = match self.write_together(&inserts).await {
            Ok(saved) => {
                for (insert, entry) in inserts.into_iter().zip(saved) {
                    let _gone = insert.reply.send(Ok(entry));
                }
                return None;
            }
            Err(failure) => failure,
        };
        if let Some(reason) = outage(&failure) {
            tracing::warn!(error = %failure, "database unavailable");
            refuse(inserts, reason);
            return Some(reason);
        }
        let mut inserts = inserts.into_iter();
        while let Some(insert) = inserts.next() {
            if let Some(reason) = self.write_alone(insert).await {
                refuse(inserts, reason);
                return Some(reason);
            }
        }
        None
    }

    async fn write_alone(&self, insert: Insert) -> Option<&'static str> {
        let (answer, unavailable) = match self.write_together(std::slice::from_ref(&insert)).await {
            Ok(mut saved) => (
                saved
                    .pop()
                    .ok_or_else(|| AppError::internal("writing a new entry", "no row came back")),
                None,
            ),
            Err(failure) => {
                let unavailable = outage(&failure);
                (Err(AppError::from(failure)), unavailable)
            }
        };
        let _gone = insert.reply.send(answer);
        unavailable
    }

    /// The entries in the order of `inserts`, committed.
    async fn write_together(&self, inserts: &[Insert]) -> Result<Vec<entry::Model>, DbErr> {
        let txn = super::begin_write(&self.db, self.writer.as_deref()).await?;
        let mut saved =
            entry::Entity::insert_many(inserts.iter().map(|insert| insert.entry.clone()))
                .exec_with_returning(&*txn)
                .await?;
        if saved.len() != inserts.len() {
            return Err(DbErr::Custom(format!(
                "{} entries inserted, {} came back",
                inserts.len(),
                saved.len()
            )));
        }
        // Both databases number the rows of one INSERT in the order of its
        // VALUES, but neither promises to return them in that order.
        saved.sort_unstable_by_key(|entry| entry.id);
        let lines = inserts.iter().zip(&saved).map(|(insert, entry)| {
            let mut line = insert.line.clone();
            line.entry_id = Set(entry.id);
            line
        });
        entry_event::Entity::insert_many(lines)
            .exec_without_returning(&*txn)
            .await?;
        txn.commit().await?;
        Ok(saved)
    }
}

/// Answers each of `inserts`: the database is unavailable, for `reason`.
fn refuse(inserts: impl IntoIterator<Item = Insert>, reason: &'static str) {
    for insert in inserts {
        let _gone = insert.reply.send(Err(AppError::unavailable(reason)));
    }
}
