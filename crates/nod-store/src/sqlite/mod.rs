//! The SQLite store: one file in WAL mode, one writer connection and a small pool of
//! read-only connections, all driven synchronously by `rusqlite` on the task that calls
//! the store. One file per aggregate implements its store trait; [`rows`] reads what they
//! store back, strictly; [`migrate`] brings the schema up to date.
//!
//! # Why synchronously
//!
//! An indexed read from SQLite's page cache takes a few microseconds and a WAL commit
//! (without fsync, see below) tens of microseconds: less than handing the statement to
//! another thread and waking the task when it is done. So every trait method does its
//! SQLite work inline, on the calling task, and never `.await`s while it holds a
//! connection; there are no worker threads and no `spawn_blocking` on the request path.
//!
//! # Connections
//!
//! - The writer: one `Connection` behind a `parking_lot::Mutex`, locked only for the
//!   synchronous duration of one operation (one statement, or one `BEGIN IMMEDIATE`
//!   transaction for a move that writes several). SQLite allows one writer at a time, so
//!   queueing on the mutex beats busy-waiting in the database. A panic while it was held
//!   rolls its transaction back and releases it (the lock does not poison). Work done in
//!   many turns (the purge, the checkpointer's pause) hands the writer on fairly after
//!   each turn, so waiting requests are not starved by it.
//! - The readers: a read runs on the writer when nobody holds it (the writer's page
//!   cache survives its own commits; every other connection drops its cache at each
//!   commit and reads its pages again), else on one of the read-only connections in a
//!   `Mutex<Vec<_>>`: a read pops one (or opens a new one when all are busy) and pushes
//!   it back after, holding the lock only for the pop and the push. Since no read awaits, there are never more readers in use
//!   than threads running tasks; at most [`IDLE_READERS`] are kept.
//! - The checkpointer: a thread of its own with its own connection (see below).
//!
//! Every statement is prepared once per connection and cached (`prepare_cached`, with
//! room for [`STATEMENT_CACHE`] statements).
//!
//! # PRAGMAs, and why
//!
//! - `journal_mode = WAL` (set once, on the writer; it is stored in the file): readers
//!   never block the writer nor the writer them, and a commit appends to the WAL instead
//!   of rewriting pages in place.
//! - `synchronous = NORMAL` (every connection): in WAL mode a commit does not fsync; the
//!   WAL is fsynced when it is checkpointed. A commit that returned is in the OS page
//!   cache, so it survives the process being killed (`kill -9`, a crash); only a power
//!   loss or kernel crash can lose the last commits, never corrupt the file.
//! - `foreign_keys = ON` (every connection): the keys of migration 0006 cascade deletes.
//! - `busy_timeout = 5000` ms (every connection): another process holding the write lock
//!   (a `nod` command run beside the server) is waited for rather than failed at once.
//! - `wal_autocheckpoint = 0` (the writer and the readers): no commit ever runs a
//!   checkpoint (which fsyncs and copies pages) on the request path; the checkpointer
//!   thread does it instead.
//! - `cache_size = -16384` (16 MiB per connection): the hot tables and indexes of a busy
//!   server stay in each connection's page cache.
//! - `mmap_size = 0`: no memory-mapped I/O. The database file grows with every code,
//!   token and audit entry, and each connection then remaps it (an `munmap` with a TLB
//!   shootdown on every core): 6% of the server's CPU in the benchmark, more than the
//!   `read` calls it saves.
//!
//! # Checkpoints
//!
//! The checkpointer thread runs `PRAGMA wal_checkpoint(PASSIVE)` about every
//! [`CHECKPOINT_EVERY`]: it copies the WAL back into the database without waiting for
//! (or blocking) readers and the writer. Under a steady stream of commits a passive
//! checkpoint never catches up (new frames arrive while it copies), so the WAL would
//! never start over and would grow without end. When more than [`RESTART_ABOVE_FRAMES`]
//! frames are in the WAL, the checkpointer therefore catches up with more passive
//! checkpoints, each copying what was written during the one before, until one finds at
//! most [`PAUSE_COPIES_AT_MOST`] new frames; then it takes the writer for one more
//! checkpoint of just those: with nothing left to copy, the next commit starts the WAL
//! over from its beginning. The writer is held for that short copy and its two fsyncs
//! only (and handed on fairly after it), never for a `TRUNCATE` (which waits for every
//! reader and shrinks the file, and stalled requests for up to 200 ms in the benchmark).
//! A round that has not caught up after [`CATCH_UP_PASSES`] passes is followed by the
//! next at once; past [`PAUSE_ANYWAY_ABOVE_FRAMES`] the writer is taken even so, which
//! bounds the WAL under a flood of writes at the price of a longer pause. The WAL file
//! keeps the size it grew to and is reused. The checkpointer stops when the store is
//! dropped (the channel it waits on closes), and logs each pause at `debug`.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::Duration;

use async_trait::async_trait;
use rusqlite::{Connection, OpenFlags, Params, Row, ToSql};

use crate::{AuditEvent, PoolStats, Result, Store, StoreError};
use nod_core::Timestamp;

mod consents;
mod devices;
mod grants;
mod keys;
mod login_requests;
mod migrate;
mod outbox;
mod partners;
mod rows;
mod sales_units;
mod users;
mod webhooks;

#[cfg(test)]
mod tests;

/// Prepared statements cached per connection (the store has about a hundred).
const STATEMENT_CACHE: usize = 256;
/// Idle read-only connections kept for the next reads.
const IDLE_READERS: usize = 16;
/// How often the checkpointer copies the WAL back into the database.
const CHECKPOINT_EVERY: Duration = Duration::from_secs(1);
/// Frames in the WAL (4 KiB each) above which the checkpointer pauses writes for a
/// moment so the WAL can start over.
const RESTART_ABOVE_FRAMES: i64 = 4096;
/// Passive checkpoints, at most, that catch up with the writes before writes are paused.
const CATCH_UP_PASSES: usize = 4;
/// Frames, at most, left for the checkpoint with writes paused to copy (2 MiB).
const PAUSE_COPIES_AT_MOST: i64 = 512;
/// Frames in the WAL (1 GiB) above which the checkpointer pauses writes even when the
/// passive checkpoints have not caught up with them.
const PAUSE_ANYWAY_ABOVE_FRAMES: i64 = 262_144;
/// How long a checkpoint waits for a lock held by another process before it tries again
/// later.
const CHECKPOINT_BUSY_TIMEOUT: Duration = Duration::from_millis(100);
/// The checkpointer thread's name (short enough for Linux to show it whole).
const CHECKPOINTER: &str = "nod-checkpoint";
/// How long a connection waits for a lock held by another connection or process.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The SQLite implementation of [`Store`].
#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    writer: parking_lot::Mutex<Connection>,
    readers: Mutex<Vec<Connection>>,
    /// Dropped with the store, which stops the checkpointer.
    checkpointer: Mutex<Option<mpsc::Sender<()>>>,
}

impl SqliteStore {
    /// Opens (creating if needed) the database a `sqlite://path` URL names.
    pub async fn connect(url: &str) -> Result<Self> {
        let path = database_path(url)?;
        let writer = open(
            &path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE,
        )
        .map_err(unavailable)?;
        let mode: String = writer
            .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))
            .map_err(unavailable)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Other(
                format!("the database cannot use WAL mode (journal_mode is {mode})").into(),
            ));
        }
        // One reader now: a file the readers cannot open fails here, not on first use.
        let reader = open_reader(&path).map_err(unavailable)?;
        let inner = Arc::new(Inner {
            path,
            writer: parking_lot::Mutex::new(writer),
            readers: Mutex::new(vec![reader]),
            checkpointer: Mutex::new(None),
        });
        let stop = spawn_checkpointer(&inner)?;
        *inner
            .checkpointer
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(stop);
        Ok(Self { inner })
    }

    /// Brings the schema up to date.
    pub async fn migrate(&self) -> Result<()> {
        self.write(migrate::run)
    }

    /// Runs `f` on the writer, holding it for the synchronous duration of `f` only.
    fn write<T>(&self, f: impl FnOnce(&mut Connection) -> Result<T>) -> Result<T> {
        let (mut writer, shortened) = self.writer()?;
        let result = f(&mut writer);
        restore_busy_timeout(&writer, shortened);
        result
    }

    /// The writer, within [`BUSY_TIMEOUT`] in all: when another process holds the
    /// database, whoever holds the writer waits out SQLite's busy timeout, and a request
    /// queued behind it must not wait for each one before it and then its own timeout
    /// (`Unavailable`: a 503). A writer that had to be waited for gets what is left of
    /// the timeout for its own busy wait.
    fn writer(&self) -> Result<(parking_lot::MutexGuard<'_, Connection>, bool)> {
        if let Some(conn) = self.inner.writer.try_lock() {
            return Ok((conn, false));
        }
        let asked = std::time::Instant::now();
        let busy = || StoreError::Unavailable("the database stayed busy".into());
        let conn = self
            .inner
            .writer
            .try_lock_for(BUSY_TIMEOUT)
            .ok_or_else(busy)?;
        let left = BUSY_TIMEOUT.saturating_sub(asked.elapsed());
        if left < Duration::from_millis(10) {
            return Err(busy());
        }
        conn.busy_timeout(left).map_err(db_error)?;
        Ok((conn, true))
    }

    /// Runs `f` on the writer like [`Self::write`], then hands the writer to the longest
    /// waiting thread, if any, before this one can take it again: for work done in many
    /// turns (the purge), which would otherwise take the lock back before a woken waiter
    /// runs, and keep every request that writes waiting until it is all done.
    fn write_fair<T>(&self, f: impl FnOnce(&mut Connection) -> Result<T>) -> Result<T> {
        let (mut writer, shortened) = self.writer()?;
        let result = f(&mut writer);
        restore_busy_timeout(&writer, shortened);
        parking_lot::MutexGuard::unlock_fair(writer);
        result
    }

    /// Runs `f` in one `BEGIN IMMEDIATE` transaction on the writer. `f` commits; a
    /// transaction it does not commit (an error, a move that did not match) is rolled
    /// back when it is dropped.
    fn transaction<T>(&self, f: impl FnOnce(Transaction<'_>) -> Result<T>) -> Result<T> {
        self.write(|conn| f(Transaction::begin(conn)?))
    }

    /// Runs `f` on the writer when no one holds it, else on a read-only connection from
    /// the pool. The writer's page cache stays valid across its own commits, while every
    /// commit makes the other connections drop theirs and read their pages again.
    fn read<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        if let Some(writer) = self.inner.writer.try_lock() {
            return f(&writer);
        }
        let idle = self
            .inner
            .readers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        let conn = match idle {
            Some(conn) => conn,
            None => open_reader(&self.inner.path).map_err(unavailable)?,
        };
        let result = f(&conn);
        let mut readers = self
            .inner
            .readers
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if readers.len() < IDLE_READERS {
            readers.push(conn);
        }
        result
    }
}

/// The file a `sqlite://path` (or `sqlite:path`) URL names.
fn database_path(url: &str) -> Result<PathBuf> {
    let path = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .ok_or(StoreError::UnsupportedUrl("expected sqlite://path"))?;
    if path.is_empty() || path.starts_with(":memory:") {
        return Err(StoreError::UnsupportedUrl(
            "an SQLite database URL names a file: sqlite://path",
        ));
    }
    if path.contains('?') {
        return Err(StoreError::UnsupportedUrl(
            "an SQLite database URL takes no parameters: sqlite://path",
        ));
    }
    Ok(PathBuf::from(path))
}

/// Opens a connection and sets what every connection of the store uses (see the module
/// documentation for why).
fn open(path: &Path, flags: OpenFlags) -> rusqlite::Result<Connection> {
    let conn = Connection::open_with_flags(path, flags | OpenFlags::SQLITE_OPEN_NO_MUTEX)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    conn.execute_batch(
        "PRAGMA synchronous = NORMAL;
         PRAGMA foreign_keys = ON;
         PRAGMA wal_autocheckpoint = 0;
         PRAGMA cache_size = -16384;
         PRAGMA mmap_size = 0;",
    )?;
    Ok(conn)
}

fn open_reader(path: &Path) -> rusqlite::Result<Connection> {
    open(path, OpenFlags::SQLITE_OPEN_READ_ONLY)
}

/// Starts the checkpointer thread; it stops when the returned sender is dropped (with
/// the store: the thread holds the store only weakly).
fn spawn_checkpointer(inner: &Arc<Inner>) -> Result<mpsc::Sender<()>> {
    let conn = open(&inner.path, OpenFlags::SQLITE_OPEN_READ_WRITE).map_err(unavailable)?;
    conn.busy_timeout(CHECKPOINT_BUSY_TIMEOUT)
        .map_err(unavailable)?;
    let store = Arc::downgrade(inner);
    let (stop, stopped) = mpsc::channel::<()>();
    std::thread::Builder::new()
        .name(CHECKPOINTER.into())
        .spawn(move || {
            let mut wait = CHECKPOINT_EVERY;
            while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(wait) {
                // A checkpoint that fails (another process held a lock) is simply tried
                // again next time; one that fell behind the writes goes on at once.
                wait = match checkpoint(&conn, &store) {
                    Ok(Round::Behind) => Duration::ZERO,
                    Ok(Round::Done) | Err(_) => CHECKPOINT_EVERY,
                };
            }
        })
        .map_err(|e| StoreError::Other(Box::new(e)))?;
    Ok(stop)
}

/// One round of the checkpointer: a passive checkpoint, and when the WAL has not started
/// over for a while, a second one with writes paused (see the module documentation).
fn checkpoint(conn: &Connection, store: &Weak<Inner>) -> rusqlite::Result<Round> {
    let (mut frames, _) = passive_checkpoint(conn)?;
    if frames <= RESTART_ABOVE_FRAMES {
        return Ok(Round::Done);
    }
    // Catch up without the writer first, so that the pause copies a little, not a lot.
    // What a pass reports is the WAL as it was when the pass began: the frames written
    // while it copied are seen by the next pass only. So the passes go on until one finds
    // few frames written during the pass before it, all of them copied.
    let mut caught_up = false;
    for _ in 0..CATCH_UP_PASSES {
        let (now, copied) = passive_checkpoint(conn)?;
        let written_meanwhile = now - frames;
        frames = now;
        if copied == now && written_meanwhile <= PAUSE_COPIES_AT_MOST {
            caught_up = true;
            break;
        }
    }
    if !caught_up && frames <= PAUSE_ANYWAY_ABOVE_FRAMES {
        return Ok(Round::Behind);
    }
    if let Some(inner) = store.upgrade() {
        let writer = inner.writer.lock();
        let paused = std::time::Instant::now();
        let copied = passive_checkpoint(conn);
        let held = paused.elapsed();
        parking_lot::MutexGuard::unlock_fair(writer);
        let (frames, _) = copied?;
        tracing::debug!(
            frames,
            caught_up,
            held_ms = held.as_secs_f64() * 1e3,
            "checkpoint with writes paused"
        );
    }
    Ok(Round::Done)
}

/// How a round of the checkpointer ended.
enum Round {
    /// Nothing to do until the next round.
    Done,
    /// The writes outran the passive checkpoints: the next round starts at once.
    Behind,
}

/// `PRAGMA wal_checkpoint(PASSIVE)`: the frames in the WAL, and how many of them are
/// copied back into the database.
fn passive_checkpoint(conn: &Connection) -> rusqlite::Result<(i64, i64)> {
    // The pragma answers (busy, frames in the WAL, frames checkpointed).
    conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |row| {
        Ok((row.get(1)?, row.get(2)?))
    })
}

fn unavailable(e: rusqlite::Error) -> StoreError {
    StoreError::Unavailable(Box::new(e))
}

/// Sets the writer's busy timeout back after [`SqliteStore::writer`] shortened it. One
/// that cannot be set back stays shorter: the next holder gets its answer sooner.
fn restore_busy_timeout(writer: &Connection, shortened: bool) {
    if shortened {
        let _ = writer.busy_timeout(BUSY_TIMEOUT);
    }
}

/// Maps database errors: uniqueness and foreign-key violations become `Conflict`, a
/// busy, locked or unreachable database `Unavailable`, a value that cannot be decoded
/// `Corrupt`.
fn db_error(e: rusqlite::Error) -> StoreError {
    use rusqlite::ErrorCode;
    use rusqlite::ffi;
    match e {
        rusqlite::Error::SqliteFailure(failure, message)
            if matches!(
                failure.extended_code,
                ffi::SQLITE_CONSTRAINT_UNIQUE
                    | ffi::SQLITE_CONSTRAINT_PRIMARYKEY
                    // The user or sales unit a row belongs to was deleted at the same moment.
                    | ffi::SQLITE_CONSTRAINT_FOREIGNKEY
            ) =>
        {
            StoreError::Conflict(message.unwrap_or_else(|| failure.to_string()))
        }
        rusqlite::Error::SqliteFailure(failure, _)
            if matches!(
                failure.code,
                ErrorCode::DatabaseBusy
                    | ErrorCode::DatabaseLocked
                    | ErrorCode::CannotOpen
                    | ErrorCode::SystemIoFailure
                    | ErrorCode::FileLockingProtocolFailed
            ) =>
        {
            unavailable(e)
        }
        rusqlite::Error::InvalidColumnType(_, ref column, _) => {
            let column = column.clone();
            rows::corrupt(&column, e)
        }
        rusqlite::Error::FromSqlConversionFailure(index, _, _)
        | rusqlite::Error::IntegralValueOutOfRange(index, _) => {
            rows::corrupt(&format!("column {index}"), e)
        }
        e => StoreError::Other(Box::new(e)),
    }
}

/// A value as the JSON text column stores it.
fn json<T: serde::Serialize + ?Sized>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|e| StoreError::Other(Box::new(e)))
}

/// Runs a statement that returns no rows; the number of rows it changed.
fn execute(conn: &Connection, sql: &str, params: impl Params) -> Result<usize> {
    conn.prepare_cached(sql)
        .and_then(|mut statement| statement.execute(params))
        .map_err(db_error)
}

/// The first row a statement returns, read with `read`.
fn query_opt<T>(
    conn: &Connection,
    sql: &str,
    params: impl Params,
    read: impl FnOnce(&Row<'_>) -> Result<T>,
) -> Result<Option<T>> {
    let mut statement = conn.prepare_cached(sql).map_err(db_error)?;
    let mut rows = statement.query(params).map_err(db_error)?;
    match rows.next().map_err(db_error)? {
        Some(row) => read(row).map(Some),
        None => Ok(None),
    }
}

/// Every row a statement returns, each read with `read`.
fn query_all<T>(
    conn: &Connection,
    sql: &str,
    params: impl Params,
    mut read: impl FnMut(&Row<'_>) -> Result<T>,
) -> Result<Vec<T>> {
    let mut statement = conn.prepare_cached(sql).map_err(db_error)?;
    let mut rows = statement.query(params).map_err(db_error)?;
    let mut all = Vec::new();
    while let Some(row) = rows.next().map_err(db_error)? {
        all.push(read(row)?);
    }
    Ok(all)
}

/// A `BEGIN IMMEDIATE` transaction on the writer, rolled back when dropped uncommitted.
/// `BEGIN`, `COMMIT` and `ROLLBACK` are prepared once per connection like every other
/// statement (a `rusqlite::Transaction` parses them anew each time).
pub(super) struct Transaction<'c> {
    conn: &'c Connection,
    open: bool,
}

impl<'c> Transaction<'c> {
    fn begin(conn: &'c Connection) -> Result<Self> {
        // A rollback that failed earlier left a transaction open: end it first.
        if !conn.is_autocommit() {
            execute(conn, "ROLLBACK", [])?;
        }
        execute(conn, "BEGIN IMMEDIATE", [])?;
        Ok(Self { conn, open: true })
    }
}

impl std::ops::Deref for Transaction<'_> {
    type Target = Connection;

    fn deref(&self) -> &Connection {
        self.conn
    }
}

impl Drop for Transaction<'_> {
    fn drop(&mut self) {
        if self.open {
            // A rollback that fails here is done by the next `begin` on this connection.
            let _ = execute(self.conn, "ROLLBACK", []);
        }
    }
}

/// Commits a transaction.
fn commit(mut tx: Transaction<'_>) -> Result<()> {
    execute(tx.conn, "COMMIT", [])?;
    tx.open = false;
    Ok(())
}

/// Writes audit entries.
fn insert_audit(conn: &Connection, events: &[AuditEvent<'_>]) -> Result<()> {
    for e in events {
        let user_id = e.user_id.map(|u| u.to_string());
        execute(
            conn,
            "INSERT INTO audit_log (at, event, user_id, client_id, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
            (e.at, e.event, user_id, e.client_id, e.detail),
        )?;
    }
    Ok(())
}

/// Parameters for a statement, as `rusqlite` binds them.
type Param<'a> = &'a dyn ToSql;

#[async_trait]
impl Store for SqliteStore {
    async fn ping(&self) -> Result<()> {
        self.read(|conn| {
            conn.prepare_cached("SELECT 1")
                .and_then(|mut statement| statement.query_row([], |_| Ok(())))
                .map_err(unavailable)
        })
    }

    async fn count_waiting(&self, now: Timestamp) -> Result<i64> {
        self.read(|conn| {
            query_opt(
                conn,
                "SELECT COUNT(*) FROM login_requests WHERE status = ?1 AND expires_at > ?2",
                rusqlite::params![nod_core::login::Status::Waiting.as_str(), now],
                |row| row.get(0).map_err(db_error),
            )
            .map(Option::unwrap_or_default)
        })
    }

    /// The writer and the read-only connections kept idle (a reader in use is not
    /// counted: it is opened on demand and kept only while fewer than
    /// [`IDLE_READERS`] are idle).
    fn pool_stats(&self) -> PoolStats {
        let idle_readers = self.inner.readers.lock().map_or(0, |readers| readers.len());
        let idle_readers = u32::try_from(idle_readers).unwrap_or(u32::MAX);
        let writer_idle = u32::from(!self.inner.writer.is_locked());
        PoolStats {
            open: 1 + idle_readers,
            idle: idle_readers + writer_idle,
            max: 1 + u32::try_from(IDLE_READERS).unwrap_or(u32::MAX),
        }
    }
}
