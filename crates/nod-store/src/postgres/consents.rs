//! Consents: the scopes a person agreed to share with each sales unit.

use async_trait::async_trait;
use nod_core::Timestamp;
use nod_core::login::Consent;
use nod_core::scope::ScopeSet;
use sqlx::PgConnection;
use uuid::Uuid;

use super::rows::{self, consent_columns};
use super::{PgStore, db_error, execute, query_all, query_opt};
use crate::{ConsentStore, Result};

/// Adds scopes to a consent, creating it if needed (atomically, under the primary key).
pub(super) async fn upsert_consent(
    conn: &mut PgConnection,
    user_id: Uuid,
    client_id: &str,
    scopes: ScopeSet,
    now: Timestamp,
) -> Result<()> {
    execute(
        conn,
        sqlx::query(
            "INSERT INTO consents (user_id, client_id, scopes, granted_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (user_id, client_id) DO UPDATE SET scopes = consents.scopes | excluded.scopes, granted_at = excluded.granted_at",
        )
        .bind(user_id.to_string())
        .bind(client_id)
        .bind(scopes.bits())
        .bind(now),
    )
    .await?;
    Ok(())
}

#[async_trait]
impl ConsentStore for PgStore {
    async fn get_consent(&self, user_id: Uuid, client_id: &str) -> Result<Option<Consent>> {
        const SQL: &str = concat!(
            "SELECT ",
            consent_columns!(),
            " FROM consents WHERE user_id = $1 AND client_id = $2"
        );
        query_opt(
            &self.pool,
            sqlx::query(SQL).bind(user_id.to_string()).bind(client_id),
            rows::consent,
        )
        .await
    }

    async fn grant_consent(
        &self,
        user_id: Uuid,
        client_id: &str,
        scopes: ScopeSet,
        now: Timestamp,
    ) -> Result<()> {
        let mut conn = self.pool.acquire().await.map_err(db_error)?;
        upsert_consent(&mut conn, user_id, client_id, scopes, now).await
    }

    async fn list_consents(&self, user_id: Uuid) -> Result<Vec<Consent>> {
        const SQL: &str = concat!(
            "SELECT ",
            consent_columns!(),
            " FROM consents WHERE user_id = $1 ORDER BY client_id"
        );
        query_all(
            &self.pool,
            sqlx::query(SQL).bind(user_id.to_string()),
            rows::consent,
        )
        .await
    }

    async fn revoke_consent(&self, user_id: Uuid, client_id: &str) -> Result<bool> {
        let done = execute(
            &self.pool,
            sqlx::query("DELETE FROM consents WHERE user_id = $1 AND client_id = $2")
                .bind(user_id.to_string())
                .bind(client_id),
        )
        .await?;
        Ok(done == 1)
    }
}
