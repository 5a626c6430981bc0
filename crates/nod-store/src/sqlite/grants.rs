//! Codes and access tokens: single-use redemption, token lookup, and the purge of
//! whatever has expired.

use async_trait::async_trait;
use nod_core::Timestamp;
use nod_core::grant::{AccessToken, AuthCode, MerchantToken, Redemption};
use nod_core::user::User;
use rusqlite::Connection;

use super::rows::{self, auth_code_columns, merchant_token_columns, user_columns};
use super::{SqliteStore, commit, execute, query_opt};
use crate::{GrantStore, Result};

/// Rows one purge statement deletes at most: each batch holds the writer for about a
/// millisecond (a write waiting behind one is hardly slower), so requests keep going
/// while a large backlog is purged.
pub(super) const PURGE_BATCH: i64 = 100;

/// Deletes up to `?2` rows of `$table` that expired before `?1` (found by its
/// `expires_at` index).
macro_rules! purge {
    ($table:literal) => {
        concat!(
            "DELETE FROM ",
            $table,
            " WHERE rowid IN (SELECT rowid FROM ",
            $table,
            " WHERE expires_at < ?1 LIMIT ?2)"
        )
    };
}

pub(super) fn insert_token(conn: &Connection, t: &AccessToken) -> Result<()> {
    execute(
        conn,
        "INSERT INTO access_tokens (token_hash, client_id, user_id, scopes, sid, code_hash, expires_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        rusqlite::params![
            t.token_hash,
            t.client_id,
            t.user_id.to_string(),
            t.scopes.bits(),
            t.sid.to_string(),
            t.code_hash,
            t.expires_at,
        ],
    )?;
    Ok(())
}

#[async_trait]
impl GrantStore for SqliteStore {
    async fn redeem_code_issuing(
        &self,
        code_hash: &[u8],
        client_id: &str,
        now: Timestamp,
        issue: &(dyn for<'c> Fn(&'c AuthCode) -> Option<AccessToken> + Sync),
    ) -> Result<Redemption> {
        // A read and an update by key rather than `UPDATE … RETURNING`, which builds a
        // temporary table for the returned row at every redemption; the writer is held
        // for the whole transaction, so the two are one step.
        const FIND: &str = concat!(
            "SELECT ",
            auth_code_columns!(),
            ", redeemed_at FROM auth_codes WHERE code_hash = ?1 AND client_id = ?2"
        );
        self.transaction(|tx| {
            let found = query_opt(&tx, FIND, rusqlite::params![code_hash, client_id], |row| {
                let redeemed_at: Option<Timestamp> =
                    row.get(14).map_err(|e| rows::corrupt("redeemed_at", e))?;
                Ok((rows::auth_code(row)?, redeemed_at))
            })?;
            let result = match found {
                Some((code, None)) if code.expires_at > now => {
                    execute(
                        &tx,
                        "UPDATE auth_codes SET redeemed_at = ?2 WHERE code_hash = ?1",
                        rusqlite::params![code_hash, now],
                    )?;
                    if let Some(token) = issue(&code) {
                        insert_token(&tx, &token)?;
                    }
                    Redemption::Redeemed(Box::new(code))
                }
                Some((_, Some(_))) => {
                    let revoked = execute(
                        &tx,
                        "DELETE FROM access_tokens WHERE code_hash = ?1",
                        [code_hash],
                    )?;
                    Redemption::Replayed {
                        tokens_revoked: revoked > 0,
                    }
                }
                Some((_, None)) | None => Redemption::Unknown,
            };
            commit(tx)?;
            Ok(result)
        })
    }

    async fn insert_access_token(&self, t: &AccessToken) -> Result<()> {
        self.write(|conn| insert_token(conn, t))
    }

    async fn revoke_access_token(&self, token_hash: &[u8], client_id: &str) -> Result<bool> {
        let done = self.write(|conn| {
            execute(
                conn,
                "DELETE FROM access_tokens WHERE token_hash = ?1 AND client_id = ?2",
                rusqlite::params![token_hash, client_id],
            )
        })?;
        Ok(done == 1)
    }

    async fn get_access_token_with_user(
        &self,
        token_hash: &[u8],
        now: Timestamp,
    ) -> Result<Option<(AccessToken, User)>> {
        // Two statements rather than a join: SQLite prepares a join again whenever a table
        // in it has changed (here, at every new token), a single-table lookup never.
        const TOKEN: &str =
            "SELECT token_hash, client_id, user_id, scopes, sid, code_hash, expires_at
             FROM access_tokens WHERE token_hash = ?1 AND expires_at > ?2";
        const USER: &str = concat!("SELECT ", user_columns!(), " FROM users WHERE id = ?1");
        self.read(|conn| {
            let Some(token) = query_opt(
                conn,
                TOKEN,
                rusqlite::params![token_hash, now],
                rows::access_token,
            )?
            else {
                return Ok(None);
            };
            let user = query_opt(conn, USER, [token.user_id.to_string()], rows::user)?;
            Ok(user.map(|user| (token, user)))
        })
    }

    async fn insert_merchant_token(&self, t: &MerchantToken) -> Result<()> {
        self.write(|conn| {
            execute(
                conn,
                "INSERT INTO merchant_tokens (token_hash, client_id, expires_at) VALUES (?1, ?2, ?3)",
                rusqlite::params![t.token_hash, t.client_id, t.expires_at],
            )
        })?;
        Ok(())
    }

    async fn get_merchant_token(
        &self,
        token_hash: &[u8],
        now: Timestamp,
    ) -> Result<Option<MerchantToken>> {
        const SQL: &str = concat!(
            "SELECT ",
            merchant_token_columns!(),
            " FROM merchant_tokens WHERE token_hash = ?1 AND expires_at > ?2"
        );
        self.read(|conn| {
            query_opt(
                conn,
                SQL,
                rusqlite::params![token_hash, now],
                rows::merchant_token,
            )
        })
    }

    async fn purge_expired(&self, now: Timestamp) -> Result<u64> {
        // Codes stay a while after expiry so a late replay still revokes its tokens.
        let statements = [
            (purge!("auth_codes"), now - 3600),
            (purge!("access_tokens"), now),
            (purge!("merchant_tokens"), now),
            (purge!("partner_tokens"), now),
            (purge!("login_requests"), now - 3600),
            (purge!("browsers"), now),
            (purge!("activation_codes"), now),
            (purge!("devices"), now),
            // Budgets that are whole again (milliseconds).
            (
                "DELETE FROM phone_budgets WHERE phone_hash IN (SELECT phone_hash FROM phone_budgets WHERE spent_until < ?1 LIMIT ?2)",
                now.saturating_mul(1000),
            ),
        ];
        let mut removed = 0;
        for (sql, before) in statements {
            loop {
                // The writer is taken for one batch at a time and handed to whoever waits
                // for it after each. Between batches the purge rests as long as the batch
                // took: it never takes more than half the writer's time, nor writes the
                // WAL faster than half the writer could, so the checkpointer keeps up.
                let started = std::time::Instant::now();
                let deleted = self.write_fair(|conn| execute(conn, sql, [before, PURGE_BATCH]))?;
                removed += deleted as u64;
                if (deleted as i64) < PURGE_BATCH {
                    break;
                }
                tokio::time::sleep(started.elapsed()).await;
            }
        }
        Ok(removed)
    }
}
