//! Users, and the activation codes that register their devices.

use async_trait::async_trait;
use nod_core::Timestamp;
use nod_core::user::User;
use rusqlite::Connection;
use uuid::Uuid;

use super::rows::{self, user_columns};
use super::{SqliteStore, commit, execute, json, query_all, query_opt};
use crate::{Result, StoreError, UserStore};

/// Inserts a user (or, with `or_ignore`, skips one whose phone number is taken); the
/// number of rows inserted.
fn insert_user(conn: &Connection, u: &User, or_ignore: bool) -> Result<usize> {
    macro_rules! insert {
        ($verb:literal) => {
            concat!(
                $verb,
                " INTO users (id, phone_number, given_name, family_name, email, birthdate, nin, addresses, email_verified, active, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
            )
        };
    }
    let sql = if or_ignore {
        insert!("INSERT OR IGNORE")
    } else {
        insert!("INSERT")
    };
    execute(
        conn,
        sql,
        rusqlite::params![
            u.id.to_string(),
            u.phone_number,
            u.given_name,
            u.family_name,
            u.email,
            u.birthdate,
            u.nin,
            json(&u.addresses)?,
            u.email_verified,
            u.active,
            u.created_at,
        ],
    )
}

#[async_trait]
impl UserStore for SqliteStore {
    async fn create_user(&self, u: &User) -> Result<()> {
        self.write(|conn| insert_user(conn, u, false))?;
        Ok(())
    }

    async fn import_users(&self, users: &[User]) -> Result<usize> {
        self.transaction(|tx| {
            let mut created = 0;
            for u in users {
                created += insert_user(&tx, u, true)?;
            }
            commit(tx)?;
            Ok(created)
        })
    }

    async fn get_user(&self, id: Uuid) -> Result<Option<User>> {
        const SQL: &str = concat!("SELECT ", user_columns!(), " FROM users WHERE id = ?1");
        self.read(|conn| query_opt(conn, SQL, [id.to_string()], rows::user))
    }

    async fn get_user_by_phone(&self, phone_number: &str) -> Result<Option<User>> {
        const SQL: &str = concat!(
            "SELECT ",
            user_columns!(),
            " FROM users WHERE phone_number = ?1"
        );
        self.read(|conn| query_opt(conn, SQL, [phone_number], rows::user))
    }

    async fn list_users(&self, limit: i64, offset: i64) -> Result<Vec<User>> {
        const SQL: &str = concat!(
            "SELECT ",
            user_columns!(),
            " FROM users ORDER BY phone_number LIMIT ?1 OFFSET ?2"
        );
        self.read(|conn| query_all(conn, SQL, [limit, offset], rows::user))
    }

    async fn delete_user(&self, id: Uuid) -> Result<()> {
        // The foreign keys cascade to everything tied to the user (migration 0006).
        let done =
            self.write(|conn| execute(conn, "DELETE FROM users WHERE id = ?1", [id.to_string()]))?;
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
        self.write(|conn| {
            execute(
                conn,
                "INSERT INTO activation_codes (code_hash, user_id, expires_at) VALUES (?1, ?2, ?3)",
                rusqlite::params![code_hash, user_id.to_string(), expires_at],
            )
        })?;
        Ok(())
    }

    async fn consume_activation_code(
        &self,
        user_id: Uuid,
        code_hash: &[u8],
        now: Timestamp,
    ) -> Result<bool> {
        let done = self.write(|conn| {
            execute(
                conn,
                "DELETE FROM activation_codes WHERE code_hash = ?1 AND user_id = ?2 AND expires_at > ?3",
                rusqlite::params![code_hash, user_id.to_string(), now],
            )
        })?;
        Ok(done == 1)
    }
}
