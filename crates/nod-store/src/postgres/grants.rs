//! Codes and access tokens: single-use redemption, token lookup, and the purge of
//! whatever has expired.

use async_trait::async_trait;
use nod_core::Timestamp;
use nod_core::grant::{AccessToken, AuthCode, MerchantToken, Redemption};
use nod_core::user::User;
use sqlx::PgConnection;

use super::rows::{self, Columns, auth_code_columns, merchant_token_columns};
use super::{PgStore, commit, execute, query_opt};
use crate::{GrantStore, Result};

/// Rows one purge statement deletes at most, so that no statement holds many row locks
/// (or runs long) while requests go on.
pub(super) const PURGE_BATCH: i64 = 1000;

/// Deletes up to `$2` rows of `$table` (by its primary key `$key`) that expired before
/// `$1`, found by its `expires_at` index. The outer condition is checked again on each
/// row as it is deleted, so a row whose expiry moved meanwhile stays.
macro_rules! purge {
    ($table:literal, $key:literal) => {
        concat!(
            "DELETE FROM ",
            $table,
            " WHERE ",
            $key,
            " IN (SELECT ",
            $key,
            " FROM ",
            $table,
            " WHERE expires_at < $1 LIMIT $2) AND expires_at < $1"
        )
    };
}

pub(super) async fn insert_token(conn: &mut PgConnection, t: &AccessToken) -> Result<()> {
    execute(
        conn,
        sqlx::query(
            "INSERT INTO access_tokens (token_hash, client_id, user_id, scopes, sid, code_hash, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&t.token_hash)
        .bind(&t.client_id)
        .bind(t.user_id.to_string())
        .bind(t.scopes.bits())
        .bind(t.sid.to_string())
        .bind(&t.code_hash)
        .bind(t.expires_at),
    )
    .await?;
    Ok(())
}

#[async_trait]
impl GrantStore for PgStore {
    async fn redeem_code_issuing(
        &self,
        code_hash: &[u8],
        client_id: &str,
        now: Timestamp,
        issue: &(dyn for<'c> Fn(&'c AuthCode) -> Option<AccessToken> + Sync),
    ) -> Result<Redemption> {
        // Spent by one conditional update: of two redemptions at once, the second waits
        // for the first's row lock, finds the code spent, and is a replay.
        const SPEND: &str = concat!(
            "UPDATE auth_codes SET redeemed_at = $3
             WHERE code_hash = $1 AND client_id = $2 AND redeemed_at IS NULL AND expires_at > $3
             RETURNING ",
            auth_code_columns!()
        );
        let mut tx = self.begin().await?;
        let spent = query_opt(
            &mut *tx,
            sqlx::query(SPEND).bind(code_hash).bind(client_id).bind(now),
            rows::auth_code,
        )
        .await?;
        let result = if let Some(code) = spent {
            if let Some(token) = issue(&code) {
                insert_token(&mut tx, &token).await?;
            }
            Redemption::Redeemed(Box::new(code))
        } else {
            // Not spendable: spent before (a replay), expired unspent, or unknown.
            let redeemed = query_opt(
                &mut *tx,
                sqlx::query(
                    "SELECT redeemed_at FROM auth_codes WHERE code_hash = $1 AND client_id = $2",
                )
                .bind(code_hash)
                .bind(client_id),
                |row| Columns::new(row).get::<Option<Timestamp>>("redeemed_at"),
            )
            .await?;
            match redeemed {
                Some(Some(_)) => {
                    let revoked = execute(
                        &mut *tx,
                        sqlx::query("DELETE FROM access_tokens WHERE code_hash = $1")
                            .bind(code_hash),
                    )
                    .await?;
                    Redemption::Replayed {
                        tokens_revoked: revoked > 0,
                    }
                }
                Some(None) | None => Redemption::Unknown,
            }
        };
        commit(tx).await?;
        Ok(result)
    }

    async fn insert_access_token(&self, t: &AccessToken) -> Result<()> {
        let mut conn = self.pool.acquire().await.map_err(super::db_error)?;
        insert_token(&mut conn, t).await
    }

    async fn revoke_access_token(&self, token_hash: &[u8], client_id: &str) -> Result<bool> {
        let done = execute(
            &self.pool,
            sqlx::query("DELETE FROM access_tokens WHERE token_hash = $1 AND client_id = $2")
                .bind(token_hash)
                .bind(client_id),
        )
        .await?;
        Ok(done == 1)
    }

    async fn get_access_token_with_user(
        &self,
        token_hash: &[u8],
        now: Timestamp,
    ) -> Result<Option<(AccessToken, User)>> {
        // One round trip: the token's columns, then the user's (`user_columns!`), each
        // named with the prefix `u_`.
        const SQL: &str =
            "SELECT t.token_hash, t.client_id, t.user_id, t.scopes, t.sid, t.code_hash, t.expires_at,
                    u.id AS u_id, u.phone_number AS u_phone_number, u.given_name AS u_given_name,
                    u.family_name AS u_family_name, u.email AS u_email, u.birthdate AS u_birthdate,
                    u.nin AS u_nin, u.addresses AS u_addresses, u.email_verified AS u_email_verified,
                    u.active AS u_active, u.created_at AS u_created_at
             FROM access_tokens t JOIN users u ON u.id = t.user_id
             WHERE t.token_hash = $1 AND t.expires_at > $2";
        query_opt(
            &self.pool,
            sqlx::query(SQL).bind(token_hash).bind(now),
            rows::access_token_with_user,
        )
        .await
    }

    async fn insert_merchant_token(&self, t: &MerchantToken) -> Result<()> {
        execute(
            &self.pool,
            sqlx::query(
                "INSERT INTO merchant_tokens (token_hash, client_id, expires_at) VALUES ($1, $2, $3)",
            )
            .bind(&t.token_hash)
            .bind(&t.client_id)
            .bind(t.expires_at),
        )
        .await?;
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
            " FROM merchant_tokens WHERE token_hash = $1 AND expires_at > $2"
        );
        query_opt(
            &self.pool,
            sqlx::query(SQL).bind(token_hash).bind(now),
            rows::merchant_token,
        )
        .await
    }

    async fn purge_expired(&self, now: Timestamp) -> Result<u64> {
        // Codes stay a while after expiry so a late replay still revokes its tokens.
        let statements = [
            (purge!("auth_codes", "code_hash"), now - 3600),
            (purge!("access_tokens", "token_hash"), now),
            (purge!("merchant_tokens", "token_hash"), now),
            (purge!("partner_tokens", "token_hash"), now),
            (purge!("login_requests", "id"), now - 3600),
            (purge!("browsers", "id"), now),
            (purge!("activation_codes", "code_hash"), now),
            (purge!("devices", "id"), now),
            // Budgets that are whole again (milliseconds).
            (
                "DELETE FROM phone_budgets WHERE phone_hash IN (SELECT phone_hash FROM phone_budgets WHERE spent_until < $1 LIMIT $2) AND spent_until < $1",
                now.saturating_mul(1000),
            ),
        ];
        let mut removed = 0;
        for (sql, before) in statements {
            loop {
                let deleted =
                    execute(&self.pool, sqlx::query(sql).bind(before).bind(PURGE_BATCH)).await?;
                removed += deleted;
                if deleted < PURGE_BATCH as u64 {
                    break;
                }
            }
        }
        Ok(removed)
    }
}
