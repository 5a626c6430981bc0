//! The schema migrations: the SQL files of `migrations/postgres`, embedded, applied in
//! order by a small runner that keeps the same books as the SQLite runner (and as the
//! `sqlx` migrator): the table `_sqlx_migrations` records each applied version with its
//! description, `success`, the SHA-384 of the file's SQL text as `checksum`, and the
//! `execution_time` in nanoseconds. (`sqlx`'s own migrator cannot be used: its `migrate`
//! feature pulls in a `libsqlite3-sys` that conflicts with the one `rusqlite` links.)
//!
//! On each run, under a session advisory lock so that instances starting together migrate
//! one after another:
//!
//! - a recorded version that failed, a recorded version this Nod does not know (the
//!   database was migrated by a newer one), or a recorded version whose checksum differs
//!   from the file's (the file was changed after it was applied) is refused with
//!   [`StoreError::Migration`], and nothing is applied;
//! - every version not recorded is applied in order, each in one transaction together
//!   with its record: it applies entirely or not at all.
//!
//! The folder holds the same versions as `migrations/sqlite` (a test checks it): see
//! `0001_init.sql`.

use std::time::Instant;

use sha2::{Digest, Sha384};
use sqlx::{Acquire, PgConnection, PgPool, Row};

use super::{Lock, db_error, execute};
use crate::{Result, StoreError};

/// One migration: its version, description and SQL.
pub(super) struct Migration {
    pub(super) version: i64,
    description: &'static str,
    sql: &'static str,
}

impl Migration {
    /// What `_sqlx_migrations.checksum` records: the SHA-384 of the SQL text.
    fn checksum(&self) -> Vec<u8> {
        Sha384::digest(self.sql.as_bytes()).to_vec()
    }
}

macro_rules! migrations {
    ($($version:literal $file:literal $description:literal,)*) => {
        &[$(Migration {
            version: $version,
            description: $description,
            sql: include_str!(concat!("../../migrations/postgres/", $file)),
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

/// The table, as `sqlx` creates it in PostgreSQL.
const CREATE_TABLE: &str = "CREATE TABLE IF NOT EXISTS _sqlx_migrations (
    version BIGINT PRIMARY KEY,
    description TEXT NOT NULL,
    installed_on TIMESTAMPTZ NOT NULL DEFAULT now(),
    success BOOLEAN NOT NULL,
    checksum BYTEA NOT NULL,
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

fn failed(e: StoreError) -> StoreError {
    match e {
        StoreError::Migration(_) => e,
        e => StoreError::Migration(Box::new(e)),
    }
}

/// Brings the schema up to date (see the module documentation).
pub(super) async fn run(pool: &PgPool) -> Result<()> {
    let mut conn = pool.acquire().await.map_err(db_error)?;
    execute(
        &mut *conn,
        sqlx::query("SELECT pg_advisory_lock($1, hashtext(current_database()))")
            .bind(Lock::Migrations as i32),
    )
    .await?;
    let result = apply(&mut conn, MIGRATIONS).await;
    let unlocked = execute(
        &mut *conn,
        sqlx::query("SELECT pg_advisory_unlock($1, hashtext(current_database()))")
            .bind(Lock::Migrations as i32),
    )
    .await;
    if unlocked.is_err() {
        // The lock would stay with the connection in the pool: close it instead.
        let _ = conn.detach();
    }
    result.map_err(failed)
}

/// Applies `migrations` (in order) that the database has not recorded yet.
pub(super) async fn apply(conn: &mut PgConnection, migrations: &[Migration]) -> Result<()> {
    sqlx::raw_sql(CREATE_TABLE)
        .execute(&mut *conn)
        .await
        .map_err(db_error)?;
    let applied: Vec<(i64, bool, Vec<u8>)> =
        sqlx::query("SELECT version, success, checksum FROM _sqlx_migrations ORDER BY version")
            .fetch_all(&mut *conn)
            .await
            .map_err(db_error)?
            .iter()
            .map(|row| Ok((row.try_get(0)?, row.try_get(1)?, row.try_get(2)?)))
            .collect::<Result<_, sqlx::Error>>()
            .map_err(db_error)?;
    let refused = |why: Refused| Err(StoreError::Migration(Box::new(why)));
    if let Some((version, ..)) = applied.iter().find(|(_, success, _)| !success) {
        return refused(Refused::Failed(*version));
    }
    for (version, _, checksum) in &applied {
        match migrations.iter().find(|m| m.version == *version) {
            None => return refused(Refused::Unknown(*version)),
            Some(m) if m.checksum() != *checksum => return refused(Refused::Changed(*version)),
            Some(_) => {}
        }
    }
    for m in migrations {
        if applied.iter().any(|(version, ..)| *version == m.version) {
            continue;
        }
        let started = Instant::now();
        let mut tx = conn.begin().await.map_err(db_error)?;
        sqlx::raw_sql(m.sql)
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        let nanos = i64::try_from(started.elapsed().as_nanos()).unwrap_or(i64::MAX);
        execute(
            &mut *tx,
            sqlx::query(
                "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time)
                 VALUES ($1, $2, TRUE, $3, $4)",
            )
            .bind(m.version)
            .bind(m.description)
            .bind(m.checksum())
            .bind(nanos),
        )
        .await?;
        tx.commit().await.map_err(db_error)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    /// The migration files of a folder, sorted.
    fn files(folder: &str) -> Vec<String> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(folder);
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        names
    }

    fn version(name: &str) -> i64 {
        name.split_once('_').unwrap().0.parse().unwrap()
    }

    #[test]
    fn both_folders_hold_the_same_versions() {
        let sqlite: Vec<i64> = files("migrations/sqlite")
            .iter()
            .map(|n| version(n))
            .collect();
        let postgres: Vec<i64> = files("migrations/postgres")
            .iter()
            .map(|n| version(n))
            .collect();
        assert_eq!(sqlite, postgres);
        assert_eq!(files("migrations/sqlite"), files("migrations/postgres"));
    }

    #[test]
    fn the_list_is_the_directory() {
        let names = files("migrations/postgres");
        assert_eq!(names.len(), MIGRATIONS.len());
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/postgres");
        for (name, m) in names.iter().zip(MIGRATIONS) {
            let (version, rest) = name.split_once('_').unwrap();
            let description = rest.trim_end_matches(".sql").replace('_', " ");
            assert_eq!(version.parse::<i64>().unwrap(), m.version, "{name}");
            assert_eq!(description, m.description, "{name}");
            assert_eq!(
                std::fs::read_to_string(dir.join(name)).unwrap(),
                m.sql,
                "{name}"
            );
        }
    }
}
