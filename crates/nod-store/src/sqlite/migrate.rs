//! The schema migrations: the SQL files of `migrations/sqlite`, embedded, applied in
//! order by a small runner that keeps the books exactly as earlier versions of Nod did
//! (they used the `sqlx` migrator), so a database they created upgrades in place.
//!
//! The table `_sqlx_migrations` records each applied version with its description (the
//! file name after the number, `_` read as a space), `success`, the SHA-384 of the file's
//! SQL text as `checksum`, and the `execution_time` in nanoseconds. On each run:
//!
//! - a recorded version that failed, a recorded version this Nod does not know (the
//!   database was migrated by a newer one), or a recorded version whose checksum differs
//!   from the file's (the file was changed after it was applied) is refused with
//!   [`StoreError::Migration`], and nothing is applied;
//! - every version not recorded is applied in order, each in one transaction together
//!   with its record, as `sqlx` did: it applies entirely or not at all.
//!
//! Migrations run on the writer, with `foreign_keys` on as on every connection (`sqlx`
//! ran them so too; the pragma cannot change inside a transaction anyway). Migration 0006,
//! which rebuilds the child tables to add their keys, is written for that: see its
//! header.

use std::time::Instant;

use rusqlite::{Connection, TransactionBehavior};
use sha2::{Digest, Sha384};

use super::{db_error, execute, query_all};
use crate::{Result, StoreError};

/// One migration: its version, description and SQL.
pub(super) struct Migration {
    pub(super) version: i64,
    pub(super) description: &'static str,
    pub(super) sql: &'static str,
}

impl Migration {
    /// What `_sqlx_migrations.checksum` records: the SHA-384 of the SQL text.
    pub(super) fn checksum(&self) -> Vec<u8> {
        Sha384::digest(self.sql.as_bytes()).to_vec()
    }
}

macro_rules! migrations {
    ($($version:literal $file:literal $description:literal,)*) => {
        &[$(Migration {
            version: $version,
            description: $description,
            sql: include_str!(concat!("../../migrations/sqlite/", $file)),
        },)*]
    };
}

/// Every migration, in order.
pub(super) const MIGRATIONS: &[Migration] = migrations![
    1 "0001_init.sql" "init",
    2 "0002_app_journeys.sql" "app journeys",
    3 "0003_ciba.sql" "ciba",
    4 "0004_phone_limits.sql" "phone limits",
    5 "0005_activation_codes.sql" "activation codes",
    6 "0006_foreign_keys.sql" "foreign keys",
    7 "0007_webhooks.sql" "webhooks",
    8 "0008_email_verified.sql" "email verified",
    9 "0009_partners.sql" "partners",
    10 "0010_expiry_indexes.sql" "expiry indexes",
    11 "0011_outbox.sql" "outbox",
    12 "0012_phone_budgets.sql" "phone budgets",
    13 "0013_device_lifetimes.sql" "device lifetimes",
    14 "0014_key_algorithms_and_audit.sql" "key algorithms and audit",
];

/// The table, as `sqlx` creates it.
const CREATE_TABLE: &str = "CREATE TABLE IF NOT EXISTS _sqlx_migrations (
    version BIGINT PRIMARY KEY,
    description TEXT NOT NULL,
    installed_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    success BOOLEAN NOT NULL,
    checksum BLOB NOT NULL,
    execution_time BIGINT NOT NULL
)";

/// Why a database cannot be migrated.
#[derive(Debug, thiserror::Error)]
enum Refused {
    #[error("migration {0} failed when it was applied; the database needs repair")]
    Failed(i64),
    #[error("migration {0} was applied but is unknown to this version of Nod")]
    Unknown(i64),
    #[error("migration {0} was applied with a different checksum (its file was changed)")]
    Changed(i64),
}

fn refused(why: Refused) -> StoreError {
    StoreError::Migration(Box::new(why))
}

fn failed(e: StoreError) -> StoreError {
    match e {
        StoreError::Migration(_) => e,
        e => StoreError::Migration(Box::new(e)),
    }
}

/// Brings the schema up to date (see the module documentation).
pub(super) fn run(conn: &mut Connection) -> Result<()> {
    apply(conn, MIGRATIONS).map_err(failed)
}

/// Applies `migrations` (in order) that the database has not recorded yet.
pub(super) fn apply(conn: &mut Connection, migrations: &[Migration]) -> Result<()> {
    conn.execute_batch(CREATE_TABLE).map_err(db_error)?;
    let applied = query_all(
        conn,
        "SELECT version, success, checksum FROM _sqlx_migrations ORDER BY version",
        [],
        |row| {
            let version: i64 = row.get(0).map_err(db_error)?;
            let success: bool = row.get(1).map_err(db_error)?;
            let checksum: Vec<u8> = row.get(2).map_err(db_error)?;
            Ok((version, success, checksum))
        },
    )?;
    if let Some((version, ..)) = applied.iter().find(|(_, success, _)| !success) {
        return Err(refused(Refused::Failed(*version)));
    }
    for (version, _, checksum) in &applied {
        let known = migrations.iter().find(|m| m.version == *version);
        match known {
            None => return Err(refused(Refused::Unknown(*version))),
            Some(m) if m.checksum() != *checksum => {
                return Err(refused(Refused::Changed(*version)));
            }
            Some(_) => {}
        }
    }
    for m in migrations {
        if applied.iter().any(|(version, ..)| *version == m.version) {
            continue;
        }
        let started = Instant::now();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(db_error)?;
        // Another process may have applied it since the list was read.
        let recorded = query_all(
            &tx,
            "SELECT 1 FROM _sqlx_migrations WHERE version = ?1",
            [m.version],
            |_| Ok(()),
        )?;
        if !recorded.is_empty() {
            continue;
        }
        tx.execute_batch(m.sql).map_err(db_error)?;
        let nanos = i64::try_from(started.elapsed().as_nanos()).unwrap_or(i64::MAX);
        execute(
            &tx,
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time)
             VALUES (?1, ?2, TRUE, ?3, ?4)",
            (m.version, m.description, m.checksum(), nanos),
        )?;
        tx.commit().map_err(db_error)?;
    }
    Ok(())
}
