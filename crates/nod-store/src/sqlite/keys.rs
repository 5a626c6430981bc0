//! Signing keys, settings and the audit log.

use async_trait::async_trait;
use nod_core::Timestamp;
use uuid::Uuid;

use super::grants::PURGE_BATCH;
use super::rows::{self, Columns, audit_columns, signing_key_columns};
use super::{SqliteStore, commit, execute, insert_audit, query_all, query_opt};
use crate::{AuditEntry, AuditEvent, KeyStore, Result, SigningKey, StoreError};

const INSERT_KEY: &str = "INSERT INTO signing_keys (kid, alg, private_der, public_jwk, created_at, active_from, retired_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";

fn insert_key(conn: &rusqlite::Connection, k: &SigningKey) -> Result<usize> {
    execute(
        conn,
        INSERT_KEY,
        rusqlite::params![
            k.kid,
            k.alg,
            k.private_der,
            k.public_jwk,
            k.created_at,
            k.active_from,
            k.retired_at,
        ],
    )
}

#[async_trait]
impl KeyStore for SqliteStore {
    async fn list_signing_keys(&self) -> Result<Vec<SigningKey>> {
        const SQL: &str = concat!(
            "SELECT ",
            signing_key_columns!(),
            " FROM signing_keys ORDER BY active_from, kid"
        );
        self.read(|conn| query_all(conn, SQL, [], rows::signing_key))
    }

    async fn insert_signing_key(&self, k: &SigningKey) -> Result<()> {
        self.write(|conn| insert_key(conn, k))?;
        Ok(())
    }

    async fn rotate_signing_key(
        &self,
        key: &SigningKey,
        retire_at: Timestamp,
        audit: &AuditEvent<'_>,
    ) -> Result<()> {
        self.transaction(|tx| {
            execute(
                &tx,
                "UPDATE signing_keys SET retired_at = ?1 WHERE retired_at IS NULL",
                [retire_at],
            )?;
            insert_key(&tx, key)?;
            insert_audit(&tx, std::slice::from_ref(audit))?;
            commit(tx)
        })
    }

    async fn setting_or_init(&self, name: &str, initial: &[u8]) -> Result<Vec<u8>> {
        self.write(|conn| {
            query_opt(
                conn,
                "INSERT INTO settings (name, value) VALUES (?1, ?2)
                 ON CONFLICT (name) DO UPDATE SET value = settings.value
                 RETURNING value",
                rusqlite::params![name, initial],
                |row| Columns::new(row).get("value"),
            )
        })?
        .ok_or_else(|| StoreError::Other("the setting was not stored".into()))
    }

    async fn record_audit(&self, e: &AuditEvent<'_>) -> Result<()> {
        self.write(|conn| insert_audit(conn, std::slice::from_ref(e)))
    }

    async fn list_audit(
        &self,
        since: Option<Timestamp>,
        user_id: Option<Uuid>,
        limit: i64,
    ) -> Result<Vec<AuditEntry>> {
        // One statement per filter, so that each reads its index: (at), or (user_id, at).
        const ALL: &str = concat!(
            "SELECT ",
            audit_columns!(),
            " FROM audit_log WHERE at >= ?1 ORDER BY at DESC, id DESC LIMIT ?2"
        );
        const OF_USER: &str = concat!(
            "SELECT ",
            audit_columns!(),
            " FROM audit_log WHERE user_id = ?3 AND at >= ?1 ORDER BY at DESC, id DESC LIMIT ?2"
        );
        let since = since.unwrap_or(i64::MIN);
        self.read(|conn| match user_id {
            Some(user) => query_all(
                conn,
                OF_USER,
                rusqlite::params![since, limit, user.to_string()],
                rows::audit_entry,
            ),
            None => query_all(
                conn,
                ALL,
                rusqlite::params![since, limit],
                rows::audit_entry,
            ),
        })
    }

    async fn purge_audit(&self, before: Timestamp) -> Result<u64> {
        const SQL: &str =
            "DELETE FROM audit_log WHERE id IN (SELECT id FROM audit_log WHERE at < ?1 LIMIT ?2)";
        let mut removed = 0;
        loop {
            // In batches, resting between them as the expiry purge does.
            let started = std::time::Instant::now();
            let deleted = self.write_fair(|conn| execute(conn, SQL, [before, PURGE_BATCH]))?;
            removed += deleted as u64;
            if (deleted as i64) < PURGE_BATCH {
                return Ok(removed);
            }
            tokio::time::sleep(started.elapsed()).await;
        }
    }
}
