//! Signing keys, settings and the audit log.

use async_trait::async_trait;
use nod_core::Timestamp;
use sqlx::PgConnection;
use uuid::Uuid;

use super::grants::PURGE_BATCH;
use super::rows::{self, Columns, audit_columns, signing_key_columns};
use super::{PgStore, commit, db_error, execute, insert_audit, query_all, query_opt};
use crate::{AuditEntry, AuditEvent, KeyStore, Result, SigningKey, StoreError};

async fn insert_key(conn: &mut PgConnection, k: &SigningKey) -> Result<u64> {
    execute(
        conn,
        sqlx::query(
            "INSERT INTO signing_keys (kid, alg, private_der, public_jwk, created_at, active_from, retired_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&k.kid)
        .bind(&k.alg)
        .bind(&k.private_der)
        .bind(&k.public_jwk)
        .bind(k.created_at)
        .bind(k.active_from)
        .bind(k.retired_at),
    )
    .await
}

#[async_trait]
impl KeyStore for PgStore {
    async fn list_signing_keys(&self) -> Result<Vec<SigningKey>> {
        const SQL: &str = concat!(
            "SELECT ",
            signing_key_columns!(),
            " FROM signing_keys ORDER BY active_from, kid"
        );
        query_all(&self.pool, sqlx::query(SQL), rows::signing_key).await
    }

    async fn insert_signing_key(&self, k: &SigningKey) -> Result<()> {
        let mut conn = self.pool.acquire().await.map_err(db_error)?;
        insert_key(&mut conn, k).await?;
        Ok(())
    }

    async fn rotate_signing_key(
        &self,
        key: &SigningKey,
        retire_at: Timestamp,
        audit: &AuditEvent<'_>,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        execute(
            &mut *tx,
            sqlx::query("UPDATE signing_keys SET retired_at = $1 WHERE retired_at IS NULL")
                .bind(retire_at),
        )
        .await?;
        insert_key(&mut tx, key).await?;
        insert_audit(&mut tx, std::slice::from_ref(audit)).await?;
        commit(tx).await
    }

    async fn setting_or_init(&self, name: &str, initial: &[u8]) -> Result<Vec<u8>> {
        // Of two first starts at once, the second waits for the first's row under the
        // unique index, then takes the branch that returns it.
        query_opt(
            &self.pool,
            sqlx::query(
                "INSERT INTO settings (name, value) VALUES ($1, $2)
                 ON CONFLICT (name) DO UPDATE SET value = settings.value
                 RETURNING value",
            )
            .bind(name)
            .bind(initial),
            |row| Columns::new(row).get("value"),
        )
        .await?
        .ok_or_else(|| StoreError::Other("the setting was not stored".into()))
    }

    async fn record_audit(&self, e: &AuditEvent<'_>) -> Result<()> {
        let mut conn = self.pool.acquire().await.map_err(db_error)?;
        insert_audit(&mut conn, std::slice::from_ref(e)).await
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
            " FROM audit_log WHERE at >= $1 ORDER BY at DESC, id DESC LIMIT $2"
        );
        const OF_USER: &str = concat!(
            "SELECT ",
            audit_columns!(),
            " FROM audit_log WHERE user_id = $3 AND at >= $1 ORDER BY at DESC, id DESC LIMIT $2"
        );
        let since = since.unwrap_or(i64::MIN);
        let query = match user_id {
            Some(user) => sqlx::query(OF_USER)
                .bind(since)
                .bind(limit)
                .bind(user.to_string()),
            None => sqlx::query(ALL).bind(since).bind(limit),
        };
        query_all(&self.pool, query, rows::audit_entry).await
    }

    async fn purge_audit(&self, before: Timestamp) -> Result<u64> {
        const SQL: &str =
            "DELETE FROM audit_log WHERE id IN (SELECT id FROM audit_log WHERE at < $1 LIMIT $2)";
        let mut removed = 0;
        loop {
            let deleted =
                execute(&self.pool, sqlx::query(SQL).bind(before).bind(PURGE_BATCH)).await?;
            removed += deleted;
            if deleted < PURGE_BATCH as u64 {
                return Ok(removed);
            }
        }
    }
}
