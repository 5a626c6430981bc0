//! Consents: the scopes a person agreed to share with each sales unit.

use async_trait::async_trait;
use nod_core::Timestamp;
use nod_core::login::Consent;
use nod_core::scope::ScopeSet;
use uuid::Uuid;

use super::rows::ConsentRow;
use super::{SqliteStore, db_error};
use crate::{ConsentStore, Result};

/// Adds scopes to a consent, creating it if needed.
pub(super) async fn upsert_consent<'e, E>(
    executor: E,
    user_id: Uuid,
    client_id: &str,
    scopes: ScopeSet,
    now: Timestamp,
) -> Result<()>
where
    E: sqlx::Executor<'e, Database = sqlx::Sqlite>,
{
    sqlx::query(
        "INSERT INTO consents (user_id, client_id, scopes, granted_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (user_id, client_id) DO UPDATE SET scopes = consents.scopes | excluded.scopes, granted_at = excluded.granted_at",
    )
    .bind(user_id.to_string())
    .bind(client_id)
    .bind(scopes.bits())
    .bind(now)
    .execute(executor)
    .await
    .map_err(db_error)?;
    Ok(())
}

#[async_trait]
impl ConsentStore for SqliteStore {
    async fn get_consent(&self, user_id: Uuid, client_id: &str) -> Result<Option<Consent>> {
        sqlx::query_as::<_, ConsentRow>(
            "SELECT * FROM consents WHERE user_id = $1 AND client_id = $2",
        )
        .bind(user_id.to_string())
        .bind(client_id)
        .fetch_optional(&self.reader)
        .await
        .map_err(db_error)?
        .map(Consent::try_from)
        .transpose()
    }

    async fn grant_consent(
        &self,
        user_id: Uuid,
        client_id: &str,
        scopes: ScopeSet,
        now: Timestamp,
    ) -> Result<()> {
        upsert_consent(&self.writer, user_id, client_id, scopes, now).await
    }

    async fn list_consents(&self, user_id: Uuid) -> Result<Vec<Consent>> {
        sqlx::query_as::<_, ConsentRow>(
            "SELECT * FROM consents WHERE user_id = $1 ORDER BY client_id",
        )
        .bind(user_id.to_string())
        .fetch_all(&self.reader)
        .await
        .map_err(db_error)?
        .into_iter()
        .map(Consent::try_from)
        .collect()
    }

    async fn revoke_consent(&self, user_id: Uuid, client_id: &str) -> Result<bool> {
        let done = sqlx::query("DELETE FROM consents WHERE user_id = $1 AND client_id = $2")
            .bind(user_id.to_string())
            .bind(client_id)
            .execute(&self.writer)
            .await
            .map_err(db_error)?;
        Ok(done.rows_affected() == 1)
    }
}
