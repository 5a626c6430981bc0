//! Remembered browsers and registered devices (the app).

use async_trait::async_trait;
use nod_core::Timestamp;
use nod_core::grant::AuthCode;
use nod_core::login::{Consent, Device, RememberedBrowser};
use nod_core::user::User;
use sqlx::PgConnection;
use uuid::Uuid;

use super::login_requests::insert_code;
use super::rows::{self, browser_columns, device_columns};
use super::{PgStore, commit, db_error, execute, insert_audit, query_all, query_opt};
use crate::{AuditEvent, DeviceStore, Result};

pub(super) async fn insert_browser(
    conn: &mut PgConnection,
    b: &RememberedBrowser,
    token_hash: &[u8],
) -> Result<()> {
    execute(
        conn,
        sqlx::query(
            "INSERT INTO browsers (id, token_hash, user_id, label, created_at, last_used_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(b.id.to_string())
        .bind(token_hash)
        .bind(b.user_id.to_string())
        .bind(&b.label)
        .bind(b.created_at)
        .bind(b.last_used_at)
        .bind(b.expires_at),
    )
    .await?;
    Ok(())
}

#[async_trait]
impl DeviceStore for PgStore {
    async fn create_browser(&self, b: &RememberedBrowser, token_hash: &[u8]) -> Result<()> {
        let mut conn = self.pool.acquire().await.map_err(db_error)?;
        insert_browser(&mut conn, b, token_hash).await
    }

    async fn use_browser(
        &self,
        token_hash: &[u8],
        now: Timestamp,
    ) -> Result<Option<RememberedBrowser>> {
        const SQL: &str = concat!(
            "UPDATE browsers SET last_used_at = $2 WHERE token_hash = $1 AND expires_at > $2 RETURNING ",
            browser_columns!()
        );
        query_opt(
            &self.pool,
            sqlx::query(SQL).bind(token_hash).bind(now),
            rows::browser,
        )
        .await
    }

    async fn get_remembered(
        &self,
        token_hash: &[u8],
        client_id: &str,
        now: Timestamp,
    ) -> Result<Option<(User, Option<Consent>)>> {
        // The user's columns (as `user_columns!`), then the consent's, if any.
        const SQL: &str =
            "SELECT u.id, u.phone_number, u.given_name, u.family_name, u.email, u.birthdate, u.nin,
                    u.addresses, u.email_verified, u.active, u.created_at,
                    c.scopes AS consent_scopes, c.granted_at AS consent_granted_at
             FROM browsers b
             JOIN users u ON u.id = b.user_id
             LEFT JOIN consents c ON c.user_id = u.id AND c.client_id = $2
             WHERE b.token_hash = $1 AND b.expires_at > $3";
        query_opt(
            &self.pool,
            sqlx::query(SQL).bind(token_hash).bind(client_id).bind(now),
            |row| rows::remembered(row, client_id),
        )
        .await
    }

    async fn finish_remembered(
        &self,
        token_hash: &[u8],
        code: &AuthCode,
        now: Timestamp,
        audit: &[AuditEvent<'_>],
    ) -> Result<bool> {
        let mut tx = self.begin().await?;
        let touched = execute(
            &mut *tx,
            sqlx::query(
                "UPDATE browsers SET last_used_at = $2 WHERE token_hash = $1 AND expires_at > $2",
            )
            .bind(token_hash)
            .bind(now),
        )
        .await?;
        if touched != 1 {
            return Ok(false);
        }
        insert_code(&mut tx, code).await?;
        insert_audit(&mut tx, audit).await?;
        commit(tx).await?;
        Ok(true)
    }

    async fn list_browsers(&self, user_id: Uuid, now: Timestamp) -> Result<Vec<RememberedBrowser>> {
        const SQL: &str = concat!(
            "SELECT ",
            browser_columns!(),
            " FROM browsers WHERE user_id = $1 AND expires_at > $2 ORDER BY created_at"
        );
        query_all(
            &self.pool,
            sqlx::query(SQL).bind(user_id.to_string()).bind(now),
            rows::browser,
        )
        .await
    }

    async fn delete_browser(&self, user_id: Uuid, id: Uuid) -> Result<bool> {
        let done = execute(
            &self.pool,
            sqlx::query("DELETE FROM browsers WHERE id = $1 AND user_id = $2")
                .bind(id.to_string())
                .bind(user_id.to_string()),
        )
        .await?;
        Ok(done == 1)
    }

    async fn create_device(&self, d: &Device, token_hash: &[u8]) -> Result<()> {
        execute(
            &self.pool,
            sqlx::query(
                "INSERT INTO devices (id, token_hash, user_id, name, created_at, last_used_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(d.id.to_string())
            .bind(token_hash)
            .bind(d.user_id.to_string())
            .bind(&d.name)
            .bind(d.created_at)
            .bind(d.last_used_at)
            .bind(d.expires_at),
        )
        .await?;
        Ok(())
    }

    async fn get_device(&self, token_hash: &[u8], now: Timestamp) -> Result<Option<Device>> {
        const SQL: &str = concat!(
            "SELECT ",
            device_columns!(),
            " FROM devices WHERE token_hash = $1 AND expires_at > $2"
        );
        query_opt(
            &self.pool,
            sqlx::query(SQL).bind(token_hash).bind(now),
            rows::device,
        )
        .await
    }

    async fn use_device(&self, id: Uuid, now: Timestamp, expires_at: Timestamp) -> Result<()> {
        execute(
            &self.pool,
            sqlx::query(
                "UPDATE devices SET last_used_at = $2, expires_at = $3 WHERE id = $1 AND expires_at > $2",
            )
            .bind(id.to_string())
            .bind(now)
            .bind(expires_at),
        )
        .await?;
        Ok(())
    }

    async fn list_devices(&self, user_id: Uuid, now: Timestamp) -> Result<Vec<Device>> {
        const SQL: &str = concat!(
            "SELECT ",
            device_columns!(),
            " FROM devices WHERE user_id = $1 AND expires_at > $2 ORDER BY created_at DESC, id"
        );
        query_all(
            &self.pool,
            sqlx::query(SQL).bind(user_id.to_string()).bind(now),
            rows::device,
        )
        .await
    }

    async fn delete_device(
        &self,
        user_id: Uuid,
        id: Uuid,
        audit: &[AuditEvent<'_>],
    ) -> Result<bool> {
        let mut tx = self.begin().await?;
        let done = execute(
            &mut *tx,
            sqlx::query("DELETE FROM devices WHERE id = $1 AND user_id = $2")
                .bind(id.to_string())
                .bind(user_id.to_string()),
        )
        .await?;
        if done != 1 {
            return Ok(false);
        }
        insert_audit(&mut tx, audit).await?;
        commit(tx).await?;
        Ok(true)
    }
}
