//! Signing keys, settings and the audit log.

use async_trait::async_trait;

use super::rows::{self, Columns, signing_key_columns};
use super::{SqliteStore, execute, insert_audit, query_all, query_opt};
use crate::{AuditEvent, KeyStore, Result, SigningKey, StoreError};

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
        self.write(|conn| {
            execute(
                conn,
                "INSERT INTO signing_keys (kid, alg, private_der, public_n, public_e, created_at, active_from, retired_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                rusqlite::params![
                    k.kid,
                    k.alg,
                    k.private_der,
                    k.public_n,
                    k.public_e,
                    k.created_at,
                    k.active_from,
                    k.retired_at,
                ],
            )
        })?;
        Ok(())
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
}
