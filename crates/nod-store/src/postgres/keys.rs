//! Signing keys, settings and the audit log.

use async_trait::async_trait;

use super::rows::{self, Columns, signing_key_columns};
use super::{PgStore, db_error, execute, insert_audit, query_all, query_opt};
use crate::{AuditEvent, KeyStore, Result, SigningKey, StoreError};

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
        execute(
            &self.pool,
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
            .bind(k.retired_at),
        )
        .await?;
        Ok(())
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
}
