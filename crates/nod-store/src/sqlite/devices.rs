//! Remembered browsers and registered devices (the app).

use async_trait::async_trait;
use nod_core::Timestamp;
use nod_core::grant::AuthCode;
use nod_core::login::{Consent, Device, RememberedBrowser};
use nod_core::user::User;
use uuid::Uuid;

use super::login_requests::{insert_audit, insert_code};
use super::rows::{BrowserRow, DeviceRow, RememberedRow};
use super::{SqliteStore, convert, db_error};
use crate::{AuditEvent, DeviceStore, Result};

pub(super) async fn insert_browser<'e, E>(
    executor: E,
    b: &RememberedBrowser,
    token_hash: &[u8],
) -> Result<()>
where
    E: sqlx::Executor<'e, Database = sqlx::Sqlite>,
{
    sqlx::query(
        "INSERT INTO browsers (id, token_hash, user_id, label, created_at, last_used_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(b.id.to_string())
    .bind(token_hash)
    .bind(b.user_id.to_string())
    .bind(&b.label)
    .bind(b.created_at)
    .bind(b.last_used_at)
    .bind(b.expires_at)
    .execute(executor)
    .await
    .map_err(db_error)?;
    Ok(())
}

#[async_trait]
impl DeviceStore for SqliteStore {
    async fn create_browser(&self, b: &RememberedBrowser, token_hash: &[u8]) -> Result<()> {
        insert_browser(&self.writer, b, token_hash).await
    }

    async fn use_browser(
        &self,
        token_hash: &[u8],
        now: Timestamp,
    ) -> Result<Option<RememberedBrowser>> {
        sqlx::query_as::<_, BrowserRow>(
            "UPDATE browsers SET last_used_at = $2 WHERE token_hash = $1 AND expires_at > $2 RETURNING *",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(&self.writer)
        .await
        .map_err(db_error)?
        .map(RememberedBrowser::try_from)
        .transpose()
    }

    async fn get_remembered(
        &self,
        token_hash: &[u8],
        client_id: &str,
        now: Timestamp,
    ) -> Result<Option<(User, Option<Consent>)>> {
        let row = sqlx::query_as::<_, RememberedRow>(
            "SELECT u.id, u.phone_number, u.given_name, u.family_name, u.email, u.birthdate, u.nin,
                    u.addresses, u.email_verified, u.active, u.created_at,
                    c.scopes AS consent_scopes, c.granted_at AS consent_granted_at
             FROM browsers b
             JOIN users u ON u.id = b.user_id
             LEFT JOIN consents c ON c.user_id = b.user_id AND c.client_id = $2
             WHERE b.token_hash = $1 AND b.expires_at > $3",
        )
        .bind(token_hash)
        .bind(client_id)
        .bind(now)
        .fetch_optional(&self.reader)
        .await
        .map_err(db_error)?;
        row.map(|r| r.into_parts(client_id)).transpose()
    }

    async fn finish_remembered(
        &self,
        token_hash: &[u8],
        code: &AuthCode,
        now: Timestamp,
        audit: &[AuditEvent<'_>],
    ) -> Result<bool> {
        let mut tx = self.writer.begin().await.map_err(db_error)?;
        let touched = sqlx::query(
            "UPDATE browsers SET last_used_at = $2 WHERE token_hash = $1 AND expires_at > $2",
        )
        .bind(token_hash)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?
        .rows_affected();
        if touched != 1 {
            return Ok(false);
        }
        insert_code(&mut *tx, code).await?;
        insert_audit(&mut tx, audit).await?;
        tx.commit().await.map_err(db_error)?;
        Ok(true)
    }

    async fn list_browsers(&self, user_id: Uuid, now: Timestamp) -> Result<Vec<RememberedBrowser>> {
        sqlx::query_as::<_, BrowserRow>(
            "SELECT * FROM browsers WHERE user_id = $1 AND expires_at > $2 ORDER BY created_at",
        )
        .bind(user_id.to_string())
        .bind(now)
        .fetch_all(&self.reader)
        .await
        .map_err(db_error)?
        .into_iter()
        .map(RememberedBrowser::try_from)
        .collect()
    }

    async fn delete_browser(&self, user_id: Uuid, id: Uuid) -> Result<bool> {
        let done = sqlx::query("DELETE FROM browsers WHERE id = $1 AND user_id = $2")
            .bind(id.to_string())
            .bind(user_id.to_string())
            .execute(&self.writer)
            .await
            .map_err(db_error)?;
        Ok(done.rows_affected() == 1)
    }

    async fn create_device(&self, d: &Device, token_hash: &[u8]) -> Result<()> {
        sqlx::query(
            "INSERT INTO devices (id, token_hash, user_id, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(d.id.to_string())
        .bind(token_hash)
        .bind(d.user_id.to_string())
        .bind(d.created_at)
        .execute(&self.writer)
        .await
        .map_err(db_error)?;
        Ok(())
    }

    async fn get_device(&self, token_hash: &[u8]) -> Result<Option<Device>> {
        let row = sqlx::query_as::<_, DeviceRow>(
            "SELECT id, user_id, created_at FROM devices WHERE token_hash = $1",
        )
        .bind(token_hash)
        .fetch_optional(&self.reader)
        .await
        .map_err(db_error)?;
        convert(row)
    }
}
