//! Users, and the activation codes that register their devices.

use async_trait::async_trait;
use nod_core::Timestamp;
use nod_core::user::User;
use uuid::Uuid;

use super::rows::{self, user_columns};
use super::{PgStore, Query, commit, execute, json, query_all, query_opt};
use crate::{Result, StoreError, UserStore};

/// Inserts a user (or, with `or_ignore`, skips one whose id or phone number is taken).
fn insert_user(u: &User, or_ignore: bool) -> Result<Query<'_>> {
    macro_rules! insert {
        ($tail:literal) => {
            concat!(
                "INSERT INTO users (id, phone_number, given_name, family_name, email, birthdate, nin, addresses, email_verified, active, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                $tail
            )
        };
    }
    let sql = if or_ignore {
        insert!(" ON CONFLICT DO NOTHING")
    } else {
        insert!("")
    };
    Ok(sqlx::query(sql)
        .bind(u.id.to_string())
        .bind(&u.phone_number)
        .bind(&u.given_name)
        .bind(&u.family_name)
        .bind(&u.email)
        .bind(&u.birthdate)
        .bind(&u.nin)
        .bind(json(&u.addresses)?)
        .bind(u.email_verified)
        .bind(u.active)
        .bind(u.created_at))
}

#[async_trait]
impl UserStore for PgStore {
    async fn create_user(&self, u: &User) -> Result<()> {
        execute(&self.pool, insert_user(u, false)?).await?;
        Ok(())
    }

    async fn import_users(&self, users: &[User]) -> Result<usize> {
        let mut tx = self.begin().await?;
        let mut created = 0;
        for u in users {
            created += execute(&mut *tx, insert_user(u, true)?).await?;
        }
        commit(tx).await?;
        Ok(created as usize)
    }

    async fn get_user(&self, id: Uuid) -> Result<Option<User>> {
        const SQL: &str = concat!("SELECT ", user_columns!(), " FROM users WHERE id = $1");
        query_opt(
            &self.pool,
            sqlx::query(SQL).bind(id.to_string()),
            rows::user,
        )
        .await
    }

    async fn get_user_by_phone(&self, phone_number: &str) -> Result<Option<User>> {
        const SQL: &str = concat!(
            "SELECT ",
            user_columns!(),
            " FROM users WHERE phone_number = $1"
        );
        query_opt(&self.pool, sqlx::query(SQL).bind(phone_number), rows::user).await
    }

    async fn list_users(&self, limit: i64, offset: i64) -> Result<Vec<User>> {
        const SQL: &str = concat!(
            "SELECT ",
            user_columns!(),
            " FROM users ORDER BY phone_number LIMIT $1 OFFSET $2"
        );
        query_all(
            &self.pool,
            sqlx::query(SQL).bind(limit).bind(offset),
            rows::user,
        )
        .await
    }

    async fn delete_user(&self, id: Uuid) -> Result<()> {
        // The foreign keys cascade to everything tied to the user.
        let done = execute(
            &self.pool,
            sqlx::query("DELETE FROM users WHERE id = $1").bind(id.to_string()),
        )
        .await?;
        if done == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    async fn create_activation_code(
        &self,
        user_id: Uuid,
        code_hash: &[u8],
        expires_at: Timestamp,
    ) -> Result<()> {
        execute(
            &self.pool,
            sqlx::query(
                "INSERT INTO activation_codes (code_hash, user_id, expires_at) VALUES ($1, $2, $3)",
            )
            .bind(code_hash)
            .bind(user_id.to_string())
            .bind(expires_at),
        )
        .await?;
        Ok(())
    }

    async fn consume_activation_code(
        &self,
        user_id: Uuid,
        code_hash: &[u8],
        now: Timestamp,
    ) -> Result<bool> {
        let done = execute(
            &self.pool,
            sqlx::query(
                "DELETE FROM activation_codes WHERE code_hash = $1 AND user_id = $2 AND expires_at > $3",
            )
            .bind(code_hash)
            .bind(user_id.to_string())
            .bind(now),
        )
        .await?;
        Ok(done == 1)
    }
}
