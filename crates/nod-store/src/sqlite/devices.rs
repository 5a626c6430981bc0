//! Remembered browsers and registered devices (the app).

use async_trait::async_trait;
use nod_core::Timestamp;
use nod_core::grant::AuthCode;
use nod_core::login::{Consent, Device, RememberedBrowser};
use nod_core::user::User;
use rusqlite::Connection;
use uuid::Uuid;

use super::login_requests::insert_code;
use super::rows::{self, browser_columns, device_columns};
use super::{SqliteStore, commit, execute, insert_audit, query_all, query_opt};
use crate::{AuditEvent, DeviceStore, Result};

pub(super) fn insert_browser(
    conn: &Connection,
    b: &RememberedBrowser,
    token_hash: &[u8],
) -> Result<()> {
    execute(
        conn,
        "INSERT INTO browsers (id, token_hash, user_id, label, created_at, last_used_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        rusqlite::params![
            b.id.to_string(),
            token_hash,
            b.user_id.to_string(),
            b.label,
            b.created_at,
            b.last_used_at,
            b.expires_at,
        ],
    )?;
    Ok(())
}

#[async_trait]
impl DeviceStore for SqliteStore {
    async fn create_browser(&self, b: &RememberedBrowser, token_hash: &[u8]) -> Result<()> {
        self.write(|conn| insert_browser(conn, b, token_hash))
    }

    async fn use_browser(
        &self,
        token_hash: &[u8],
        now: Timestamp,
    ) -> Result<Option<RememberedBrowser>> {
        const SQL: &str = concat!(
            "UPDATE browsers SET last_used_at = ?2 WHERE token_hash = ?1 AND expires_at > ?2 RETURNING ",
            browser_columns!()
        );
        self.write(|conn| query_opt(conn, SQL, rusqlite::params![token_hash, now], rows::browser))
    }

    async fn get_remembered(
        &self,
        token_hash: &[u8],
        client_id: &str,
        now: Timestamp,
    ) -> Result<Option<(User, Option<Consent>)>> {
        // The user's columns (as `user_columns!`), then the consent's. Subqueries, not
        // joins: SQLite prepares a join again whenever a table in it has changed (here, at
        // every login, as the browser is marked used); these it never does.
        const SQL: &str =
            "SELECT u.id, u.phone_number, u.given_name, u.family_name, u.email, u.birthdate, u.nin,
                    u.addresses, u.email_verified, u.active, u.created_at,
                    (SELECT scopes FROM consents WHERE user_id = u.id AND client_id = ?2)
                        AS consent_scopes,
                    (SELECT granted_at FROM consents WHERE user_id = u.id AND client_id = ?2)
                        AS consent_granted_at
             FROM users u
             WHERE u.id = (SELECT user_id FROM browsers WHERE token_hash = ?1 AND expires_at > ?3)";
        self.read(|conn| {
            query_opt(
                conn,
                SQL,
                rusqlite::params![token_hash, client_id, now],
                |row| rows::remembered(row, client_id),
            )
        })
    }

    async fn finish_remembered(
        &self,
        token_hash: &[u8],
        code: &AuthCode,
        now: Timestamp,
        audit: &[AuditEvent<'_>],
    ) -> Result<bool> {
        self.transaction(|tx| {
            let touched = execute(
                &tx,
                "UPDATE browsers SET last_used_at = ?2 WHERE token_hash = ?1 AND expires_at > ?2",
                rusqlite::params![token_hash, now],
            )?;
            if touched != 1 {
                return Ok(false);
            }
            insert_code(&tx, code)?;
            insert_audit(&tx, audit)?;
            commit(tx)?;
            Ok(true)
        })
    }

    async fn list_browsers(&self, user_id: Uuid, now: Timestamp) -> Result<Vec<RememberedBrowser>> {
        const SQL: &str = concat!(
            "SELECT ",
            browser_columns!(),
            " FROM browsers WHERE user_id = ?1 AND expires_at > ?2 ORDER BY created_at"
        );
        self.read(|conn| {
            query_all(
                conn,
                SQL,
                rusqlite::params![user_id.to_string(), now],
                rows::browser,
            )
        })
    }

    async fn delete_browser(&self, user_id: Uuid, id: Uuid) -> Result<bool> {
        let done = self.write(|conn| {
            execute(
                conn,
                "DELETE FROM browsers WHERE id = ?1 AND user_id = ?2",
                [id.to_string(), user_id.to_string()],
            )
        })?;
        Ok(done == 1)
    }

    async fn create_device(&self, d: &Device, token_hash: &[u8]) -> Result<()> {
        self.write(|conn| {
            execute(
                conn,
                "INSERT INTO devices (id, token_hash, user_id, name, created_at, last_used_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                rusqlite::params![
                    d.id.to_string(),
                    token_hash,
                    d.user_id.to_string(),
                    d.name,
                    d.created_at,
                    d.last_used_at,
                    d.expires_at,
                ],
            )
        })?;
        Ok(())
    }

    async fn get_device(&self, token_hash: &[u8], now: Timestamp) -> Result<Option<Device>> {
        const SQL: &str = concat!(
            "SELECT ",
            device_columns!(),
            " FROM devices WHERE token_hash = ?1 AND expires_at > ?2"
        );
        self.read(|conn| query_opt(conn, SQL, rusqlite::params![token_hash, now], rows::device))
    }

    async fn use_device(&self, id: Uuid, now: Timestamp, expires_at: Timestamp) -> Result<()> {
        self.write(|conn| {
            execute(
                conn,
                "UPDATE devices SET last_used_at = ?2, expires_at = ?3 WHERE id = ?1 AND expires_at > ?2",
                rusqlite::params![id.to_string(), now, expires_at],
            )
        })?;
        Ok(())
    }

    async fn list_devices(&self, user_id: Uuid, now: Timestamp) -> Result<Vec<Device>> {
        const SQL: &str = concat!(
            "SELECT ",
            device_columns!(),
            " FROM devices WHERE user_id = ?1 AND expires_at > ?2 ORDER BY created_at DESC, id"
        );
        self.read(|conn| {
            query_all(
                conn,
                SQL,
                rusqlite::params![user_id.to_string(), now],
                rows::device,
            )
        })
    }

    async fn delete_device(
        &self,
        user_id: Uuid,
        id: Uuid,
        audit: &[AuditEvent<'_>],
    ) -> Result<bool> {
        self.transaction(|tx| {
            let done = execute(
                &tx,
                "DELETE FROM devices WHERE id = ?1 AND user_id = ?2",
                [id.to_string(), user_id.to_string()],
            )?;
            if done != 1 {
                return Ok(false);
            }
            insert_audit(&tx, audit)?;
            commit(tx)?;
            Ok(true)
        })
    }
}
