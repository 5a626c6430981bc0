//! Users, and the activation codes that register their devices.

use async_trait::async_trait;
use nod_core::Timestamp;
use nod_core::user::User;
use uuid::Uuid;

use super::rows::UserRow;
use super::{SqliteStore, convert, convert_all, db_error, json};
use crate::{Result, StoreError, UserStore};

async fn insert_user<'e, E>(executor: E, u: &User, or_ignore: bool) -> Result<u64>
where
    E: sqlx::Executor<'e, Database = sqlx::Sqlite>,
{
    let verb = if or_ignore {
        "INSERT OR IGNORE"
    } else {
        "INSERT"
    };
    let sql = format!(
        "{verb} INTO users (id, phone_number, given_name, family_name, email, birthdate, nin, addresses, email_verified, active, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
    );
    let done = sqlx::query(&sql)
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
        .bind(u.created_at)
        .execute(executor)
        .await
        .map_err(db_error)?;
    Ok(done.rows_affected())
}

#[async_trait]
impl UserStore for SqliteStore {
    async fn create_user(&self, u: &User) -> Result<()> {
        insert_user(&self.writer, u, false).await.map(|_| ())
    }

    async fn import_users(&self, users: &[User]) -> Result<usize> {
        let mut tx = self.writer.begin().await.map_err(db_error)?;
        let mut created = 0;
        for u in users {
            created += insert_user(&mut *tx, u, true).await? as usize;
        }
        tx.commit().await.map_err(db_error)?;
        Ok(created)
    }

    async fn get_user(&self, id: Uuid) -> Result<Option<User>> {
        let row = sqlx::query_as::<_, UserRow>("SELECT * FROM users WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(&self.reader)
            .await
            .map_err(db_error)?;
        convert(row)
    }

    async fn get_user_by_phone(&self, phone_number: &str) -> Result<Option<User>> {
        let row = sqlx::query_as::<_, UserRow>("SELECT * FROM users WHERE phone_number = $1")
            .bind(phone_number)
            .fetch_optional(&self.reader)
            .await
            .map_err(db_error)?;
        convert(row)
    }

    async fn list_users(&self, limit: i64, offset: i64) -> Result<Vec<User>> {
        let rows = sqlx::query_as::<_, UserRow>(
            "SELECT * FROM users ORDER BY phone_number LIMIT $1 OFFSET $2",
        )
        .bind(limit)
        .bind(offset)
        .fetch_all(&self.reader)
        .await
        .map_err(db_error)?;
        convert_all(rows)
    }

    async fn delete_user(&self, id: Uuid) -> Result<()> {
        // The foreign keys cascade to everything tied to the user (migration 0006).
        let done = sqlx::query("DELETE FROM users WHERE id = $1")
            .bind(id.to_string())
            .execute(&self.writer)
            .await
            .map_err(db_error)?;
        if done.rows_affected() == 0 {
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
        sqlx::query(
            "INSERT INTO activation_codes (code_hash, user_id, expires_at) VALUES ($1, $2, $3)",
        )
        .bind(code_hash)
        .bind(user_id.to_string())
        .bind(expires_at)
        .execute(&self.writer)
        .await
        .map_err(db_error)?;
        Ok(())
    }

    async fn consume_activation_code(
        &self,
        user_id: Uuid,
        code_hash: &[u8],
        now: Timestamp,
    ) -> Result<bool> {
        let done = sqlx::query(
            "DELETE FROM activation_codes WHERE code_hash = $1 AND user_id = $2 AND expires_at > $3",
        )
        .bind(code_hash)
        .bind(user_id.to_string())
        .bind(now)
        .execute(&self.writer)
        .await
        .map_err(db_error)?;
        Ok(done.rows_affected() == 1)
    }
}
