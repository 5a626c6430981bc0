//! The PostgreSQL store: a pool of connections to one database that several Nod
//! instances may share. One file per aggregate implements its store trait; [`rows`] reads
//! what they store back, strictly; [`migrate`] brings the schema up to date.
//!
//! # Pool
//!
//! A [`PgPool`] of at most [`MAX_CONNECTIONS`] connections, opened as they are needed
//! (the first at once, so a server that cannot be reached fails at start-up). A request
//! that finds them all busy waits at most [`ACQUIRE_TIMEOUT`] for one, then fails with
//! [`StoreError::Unavailable`] (a 503) rather than queueing without end. The pool checks
//! an idle connection before handing it out (sqlx's default), so the connections a
//! server restart broke are replaced rather than failing one request each.
//! Every statement goes through `sqlx::query` with bound parameters: sqlx prepares each
//! statement once per connection and keeps it (room for [`STATEMENT_CACHE`], more than
//! the store has), so its text is parsed once per connection.
//!
//! # Transactions and concurrency
//!
//! The SQLite store has one writer, so its transactions run one after another. Here
//! transactions run at once, at PostgreSQL's default isolation, READ COMMITTED: each
//! statement sees what was committed when it started. Every move must still give the
//! answer running them one at a time would give, so each is written so that it cannot
//! be split:
//!
//! - A move of one row is one conditional statement (`UPDATE … WHERE status = … RETURNING`,
//!   compare-and-set). Of two at once, the second waits for the first's row lock, then
//!   checks its condition again against the row the first committed, and matches nothing.
//!   What a move stores alongside (the code, the consent, the audit entries) is written
//!   in the same transaction, after the move matched.
//! - Single-use things (codes, tickets, resume tokens, activation codes) are spent by
//!   such a statement, so exactly one spender gets them. A code spent twice is found
//!   spent by the second redemption, which then revokes the tokens issued from it.
//! - Upserts are `INSERT … ON CONFLICT`: atomic under the unique index.
//! - A limit checked by counting rows (requests waiting for one phone number or person,
//!   webhook registrations of a sales unit per event) cannot be one statement alone:
//!   two transactions would count the same rows and both insert. So the transaction
//!   first takes a transaction-scoped advisory lock (`pg_advisory_xact_lock`) on what
//!   is counted (the phone number's hash and the person, the sales unit), then counts
//!   and inserts in one statement that starts after the lock is granted, so it sees
//!   every row inserted under that lock before. The lock is released at commit or
//!   rollback. Locks of one kind share the first key ([`Lock`]), so they never collide
//!   with another kind's or with another application's; the second is `hashtext` of
//!   the key, computed by the server, so every instance agrees on it (a collision only
//!   makes two unrelated requests wait for each other). A
//!   transaction that takes two takes them in one order (the number before the person),
//!   so two transactions never wait for each other in a circle.
//!
//! A transaction is a [`sqlx::Transaction`]: it commits only when the move matched and
//! everything it stores was written; dropped uncommitted (an error, a move that did not
//! match), it is rolled back.
//!
//! # Errors
//!
//! [`db_error`] maps what PostgreSQL and sqlx answer: a unique (23505) or foreign-key
//! (23503) violation is a [`StoreError::Conflict`], as on SQLite; a connection that
//! cannot be opened or broke, a pool with no free connection in time, a server shutting
//! down (57P01 and the rest of class 57), a connection exception (class 08), too many
//! connections (53300) and a serialization failure or deadlock (40001, 40P01) are
//! [`StoreError::Unavailable`]: the request may succeed later.
//! A value that cannot be decoded as the column's type is [`StoreError::Corrupt`].

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::postgres::{PgArguments, PgConnectOptions, PgPoolOptions, PgRow};
use sqlx::{PgConnection, PgExecutor, PgPool, Postgres};

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

/// Connections the pool opens at most.
const MAX_CONNECTIONS: u32 = 16;
/// How long a request waits for a free connection before the store is `Unavailable`.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);
/// Prepared statements kept per connection (the store has about eighty).
const STATEMENT_CACHE: usize = 256;

/// The PostgreSQL implementation of [`Store`].
#[derive(Clone)]
pub struct PgStore {
    pool: PgPool,
}

/// The kinds of advisory lock the store takes: the first key of
/// `pg_advisory_xact_lock(int, int)`, Nod's own so that no other use of advisory locks
/// in the same database collides with them.
#[derive(Debug, Clone, Copy)]
#[repr(i32)]
enum Lock {
    /// The schema migrations (a session lock, see [`migrate`]).
    Migrations = 0x4e6f_6400,
    /// The login requests waiting for one phone number (keyed by its hash, hex).
    Phone = 0x4e6f_6401,
    /// The login requests waiting for one person (keyed by the user id).
    Person = 0x4e6f_6402,
    /// The webhook registrations of one sales unit (keyed by its client id).
    Webhooks = 0x4e6f_6403,
}

impl PgStore {
    /// Connects to the database a `postgres://` or `postgresql://` URL names. One
    /// connection is opened at once, so a server that cannot be reached fails here.
    pub async fn connect(url: &str) -> Result<Self> {
        let options = PgConnectOptions::from_str(url)
            .map_err(|e| StoreError::Other(Box::new(e)))?
            .statement_cache_capacity(STATEMENT_CACHE);
        let pool = PgPoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(options)
            .await
            .map_err(|e| match e {
                sqlx::Error::Configuration(_) => StoreError::Other(Box::new(e)),
                e => StoreError::Unavailable(Box::new(e)),
            })?;
        Ok(Self { pool })
    }

    /// Brings the schema up to date.
    pub async fn migrate(&self) -> Result<()> {
        migrate::run(&self.pool).await
    }

    /// Begins a transaction (READ COMMITTED); rolled back if dropped uncommitted.
    async fn begin(&self) -> Result<sqlx::Transaction<'static, Postgres>> {
        self.pool.begin().await.map_err(db_error)
    }
}

/// A statement with its parameters bound.
type Query<'q> = sqlx::query::Query<'q, Postgres, PgArguments>;

/// Runs a statement that returns no rows, on the pool or in a transaction; the number
/// of rows it changed.
async fn execute<'c>(conn: impl PgExecutor<'c>, query: Query<'_>) -> Result<u64> {
    query
        .execute(conn)
        .await
        .map(|done| done.rows_affected())
        .map_err(db_error)
}

/// The first row a statement returns, read with `read`.
async fn query_opt<'c, T>(
    conn: impl PgExecutor<'c>,
    query: Query<'_>,
    read: impl FnOnce(&PgRow) -> Result<T>,
) -> Result<Option<T>> {
    match query.fetch_optional(conn).await.map_err(db_error)? {
        Some(row) => read(&row).map(Some),
        None => Ok(None),
    }
}

/// Every row a statement returns, each read with `read`.
async fn query_all<'c, T>(
    conn: impl PgExecutor<'c>,
    query: Query<'_>,
    read: impl FnMut(&PgRow) -> Result<T>,
) -> Result<Vec<T>> {
    let rows = query.fetch_all(conn).await.map_err(db_error)?;
    rows.iter().map(read).collect()
}

/// Takes an advisory lock of `kind` on `key` until the transaction ends (see the module
/// documentation).
async fn lock(conn: &mut PgConnection, kind: Lock, key: &str) -> Result<()> {
    execute(
        &mut *conn,
        sqlx::query("SELECT pg_advisory_xact_lock($1, hashtext($2))")
            .bind(kind as i32)
            .bind(key),
    )
    .await?;
    Ok(())
}

/// Commits a transaction.
async fn commit(tx: sqlx::Transaction<'_, Postgres>) -> Result<()> {
    tx.commit().await.map_err(db_error)
}

/// Writes audit entries.
async fn insert_audit(conn: &mut PgConnection, events: &[AuditEvent<'_>]) -> Result<()> {
    for e in events {
        execute(
            &mut *conn,
            sqlx::query(
                "INSERT INTO audit_log (at, event, user_id, client_id, detail) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(e.at)
            .bind(e.event)
            .bind(e.user_id.map(|u| u.to_string()))
            .bind(e.client_id)
            .bind(e.detail),
        )
        .await?;
    }
    Ok(())
}

/// A value as the JSON text column stores it.
fn json<T: serde::Serialize + ?Sized>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|e| StoreError::Other(Box::new(e)))
}

/// Whether a PostgreSQL error code (SQLSTATE) says the database cannot serve the request
/// now, though it may later.
fn unavailable_code(code: &str) -> bool {
    code.starts_with("08") // connection exception
        || code.starts_with("57") // operator intervention: admin shutdown, crash shutdown, …
        || matches!(
            code,
            "40001" // serialization failure
            | "40P01" // deadlock detected
            | "53300" // too many connections
            | "53000" // insufficient resources
        )
}

/// Maps database errors (see the module documentation).
fn db_error(e: sqlx::Error) -> StoreError {
    match e {
        sqlx::Error::Database(ref db) => {
            let code = db.code().unwrap_or_default();
            match code.as_ref() {
                // unique_violation, foreign_key_violation (the user or sales unit a row
                // belongs to was deleted at the same moment)
                "23505" | "23503" => StoreError::Conflict(db.message().to_owned()),
                code if unavailable_code(code) => StoreError::Unavailable(Box::new(e)),
                _ => StoreError::Other(Box::new(e)),
            }
        }
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => StoreError::Unavailable(Box::new(e)),
        sqlx::Error::ColumnDecode { ref index, .. } => {
            let column = index.clone();
            rows::corrupt(&column, e)
        }
        sqlx::Error::Decode(_) => rows::corrupt("a column", e),
        e => StoreError::Other(Box::new(e)),
    }
}

#[async_trait]
impl Store for PgStore {
    async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map(|_| ())
            .map_err(|e| StoreError::Unavailable(Box::new(e)))
    }

    async fn count_waiting(&self, now: Timestamp) -> Result<i64> {
        query_opt(
            &self.pool,
            sqlx::query(
                "SELECT COUNT(*) FROM login_requests WHERE status = $1 AND expires_at > $2",
            )
            .bind(nod_core::login::Status::Waiting.as_str())
            .bind(now),
            |row| sqlx::Row::try_get(row, 0).map_err(db_error),
        )
        .await
        .map(Option::unwrap_or_default)
    }

    fn pool_stats(&self) -> PoolStats {
        PoolStats {
            open: self.pool.size(),
            idle: u32::try_from(self.pool.num_idle()).unwrap_or(u32::MAX),
            max: self.pool.options().get_max_connections(),
        }
    }
}

#[cfg(test)]
mod tests;
