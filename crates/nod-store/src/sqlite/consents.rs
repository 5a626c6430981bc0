//! Consents: the scopes a person agreed to share with each sales unit.

use async_trait::async_trait;
use nod_core::Timestamp;
use nod_core::login::Consent;
use nod_core::scope::ScopeSet;
use rusqlite::Connection;
use uuid::Uuid;

use super::rows::{self, consent_columns};
use super::{SqliteStore, execute, query_all, query_opt};
use crate::{ConsentStore, Result};

/// Adds scopes to a consent, creating it if needed.
pub(super) fn upsert_consent(
    conn: &Connection,
    user_id: Uuid,
    client_id: &str,
    scopes: ScopeSet,
    now: Timestamp,
) -> Result<()> {
    execute(
        conn,
        "INSERT INTO consents (user_id, client_id, scopes, granted_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (user_id, client_id) DO UPDATE SET scopes = consents.scopes | excluded.scopes, granted_at = excluded.granted_at",
        rusqlite::params![user_id.to_string(), client_id, scopes.bits(), now],
    )?;
    Ok(())
}

#[async_trait]
impl ConsentStore for SqliteStore {
    async fn get_consent(&self, user_id: Uuid, client_id: &str) -> Result<Option<Consent>> {
        const SQL: &str = concat!(
            "SELECT ",
            consent_columns!(),
            " FROM consents WHERE user_id = ?1 AND client_id = ?2"
        );
        self.read(|conn| {
            query_opt(
                conn,
                SQL,
                rusqlite::params![user_id.to_string(), client_id],
                rows::consent,
            )
        })
    }

    async fn grant_consent(
        &self,
        user_id: Uuid,
        client_id: &str,
        scopes: ScopeSet,
        now: Timestamp,
    ) -> Result<()> {
        self.write(|conn| upsert_consent(conn, user_id, client_id, scopes, now))
    }

    async fn list_consents(&self, user_id: Uuid) -> Result<Vec<Consent>> {
        const SQL: &str = concat!(
            "SELECT ",
            consent_columns!(),
            " FROM consents WHERE user_id = ?1 ORDER BY client_id"
        );
        self.read(|conn| query_all(conn, SQL, [user_id.to_string()], rows::consent))
    }

    async fn revoke_consent(&self, user_id: Uuid, client_id: &str) -> Result<bool> {
        let done = self.write(|conn| {
            execute(
                conn,
                "DELETE FROM consents WHERE user_id = ?1 AND client_id = ?2",
                rusqlite::params![user_id.to_string(), client_id],
            )
        })?;
        Ok(done == 1)
    }
}
