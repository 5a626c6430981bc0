//! Signing keys, settings and the audit log.

use async_trait::async_trait;

use super::rows::SigningKeyRow;
use super::{SqliteStore, db_error, insert_audit_event};
use crate::{AuditEvent, KeyStore, Result, SigningKey};

#[async_trait]
impl KeyStore for SqliteStore {
    async fn list_signing_keys(&self) -> Result<Vec<SigningKey>> {
        let rows = sqlx::query_as::<_, SigningKeyRow>(
            "SELECT * FROM signing_keys ORDER BY active_from, kid",
        )
        .fetch_all(&self.reader)
        .await
        .map_err(db_error)?;
        Ok(rows.into_iter().map(SigningKey::from).collect())
    }

    async fn insert_signing_key(&self, k: &SigningKey) -> Result<()> {
        sqlx::query(
            "INSERT INTO signing_keys (kid, alg, private_der, public_n, public_e, created_at, active_from, retired_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&k.kid)
        .bind(&k.alg)
        .bind(&k.private_der)
        .bind(&k.public_n)
        .bind(&k.public_e)
        .bind(k.created_at)
        .bind(k.active_from)
        .bind(k.retired_at)
        .execute(&self.writer)
        .await
        .map_err(db_error)?;
        Ok(())
    }

    async fn setting_or_init(&self, name: &str, initial: &[u8]) -> Result<Vec<u8>> {
        sqlx::query_scalar(
            "INSERT INTO settings (name, value) VALUES ($1, $2)
             ON CONFLICT (name) DO UPDATE SET value = settings.value
             RETURNING value",
        )
        .bind(name)
        .bind(initial)
        .fetch_one(&self.writer)
        .await
        .map_err(db_error)
    }

    async fn record_audit(&self, e: &AuditEvent<'_>) -> Result<()> {
        insert_audit_event(&self.writer, e).await
    }
}
