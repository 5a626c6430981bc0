//! Codes and access tokens: single-use redemption, token lookup, and the purge of
//! whatever has expired.

use async_trait::async_trait;
use nod_core::Timestamp;
use nod_core::grant::{AccessToken, MerchantToken, Redemption};
use nod_core::user::User;

use super::rows::{AccessTokenUserRow, AuthCodeRow, MerchantTokenRow};
use super::{SqliteStore, convert, db_error};
use crate::{GrantStore, Result};

#[async_trait]
impl GrantStore for SqliteStore {
    async fn redeem_code(
        &self,
        code_hash: &[u8],
        client_id: &str,
        now: Timestamp,
    ) -> Result<Redemption> {
        let mut tx = self.writer.begin().await.map_err(db_error)?;
        let row = sqlx::query_as::<_, AuthCodeRow>(
            "UPDATE auth_codes SET redeemed_at = $3
             WHERE code_hash = $1 AND client_id = $2 AND redeemed_at IS NULL AND expires_at > $3
             RETURNING *",
        )
        .bind(code_hash)
        .bind(client_id)
        .bind(now)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_error)?;
        let result = match row {
            Some(row) => Redemption::Redeemed(Box::new(row.try_into()?)),
            None => {
                let replayed = sqlx::query(
                    "SELECT 1 FROM auth_codes WHERE code_hash = $1 AND client_id = $2 AND redeemed_at IS NOT NULL",
                )
                .bind(code_hash)
                .bind(client_id)
                .fetch_optional(&mut *tx)
                .await
                .map_err(db_error)?
                .is_some();
                if replayed {
                    let revoked = sqlx::query("DELETE FROM access_tokens WHERE code_hash = $1")
                        .bind(code_hash)
                        .execute(&mut *tx)
                        .await
                        .map_err(db_error)?
                        .rows_affected();
                    Redemption::Replayed {
                        tokens_revoked: revoked > 0,
                    }
                } else {
                    Redemption::Unknown
                }
            }
        };
        tx.commit().await.map_err(db_error)?;
        Ok(result)
    }

    async fn insert_access_token(&self, t: &AccessToken) -> Result<()> {
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
        .bind(t.expires_at)
        .execute(&self.writer)
        .await
        .map_err(db_error)?;
        Ok(())
    }

    async fn revoke_access_token(&self, token_hash: &[u8], client_id: &str) -> Result<bool> {
        let done =
            sqlx::query("DELETE FROM access_tokens WHERE token_hash = $1 AND client_id = $2")
                .bind(token_hash)
                .bind(client_id)
                .execute(&self.writer)
                .await
                .map_err(db_error)?;
        Ok(done.rows_affected() == 1)
    }

    async fn get_access_token_with_user(
        &self,
        token_hash: &[u8],
        now: Timestamp,
    ) -> Result<Option<(AccessToken, User)>> {
        let row = sqlx::query_as::<_, AccessTokenUserRow>(
            "SELECT t.token_hash, t.client_id, t.user_id, t.scopes, t.sid, t.code_hash, t.expires_at,
                    u.id, u.phone_number, u.given_name, u.family_name, u.email, u.birthdate, u.nin,
                    u.addresses, u.email_verified, u.active, u.created_at
             FROM access_tokens t JOIN users u ON u.id = t.user_id
             WHERE t.token_hash = $1 AND t.expires_at > $2",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(&self.reader)
        .await
        .map_err(db_error)?;
        convert(row)
    }

    async fn insert_merchant_token(&self, t: &MerchantToken) -> Result<()> {
        sqlx::query(
            "INSERT INTO merchant_tokens (token_hash, client_id, expires_at) VALUES ($1, $2, $3)",
        )
        .bind(&t.token_hash)
        .bind(&t.client_id)
        .bind(t.expires_at)
        .execute(&self.writer)
        .await
        .map_err(db_error)?;
        Ok(())
    }

    async fn get_merchant_token(
        &self,
        token_hash: &[u8],
        now: Timestamp,
    ) -> Result<Option<MerchantToken>> {
        let row = sqlx::query_as::<_, MerchantTokenRow>(
            "SELECT * FROM merchant_tokens WHERE token_hash = $1 AND expires_at > $2",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(&self.reader)
        .await
        .map_err(db_error)?;
        convert(row)
    }

    async fn purge_expired(&self, now: Timestamp) -> Result<u64> {
        let mut removed = 0;
        // Codes stay a while after expiry so a late replay still revokes its tokens.
        let statements = [
            ("DELETE FROM auth_codes WHERE expires_at < $1", now - 3600),
            ("DELETE FROM access_tokens WHERE expires_at < $1", now),
            ("DELETE FROM merchant_tokens WHERE expires_at < $1", now),
            ("DELETE FROM partner_tokens WHERE expires_at < $1", now),
            (
                "DELETE FROM login_requests WHERE expires_at < $1",
                now - 3600,
            ),
            ("DELETE FROM browsers WHERE expires_at < $1", now),
            ("DELETE FROM activation_codes WHERE expires_at < $1", now),
        ];
        for (sql, before) in statements {
            removed += sqlx::query(sql)
                .bind(before)
                .execute(&self.writer)
                .await
                .map_err(db_error)?
                .rows_affected();
        }
        Ok(removed)
    }
}
