//! Sales units: the merchants' OAuth clients.

use async_trait::async_trait;
use nod_core::sales_unit::SalesUnit;

use super::rows::{self, sales_unit_columns};
use super::{SqliteStore, execute, json, query_all, query_opt};
use crate::{Result, SalesUnitStore, StoreError};

#[async_trait]
impl SalesUnitStore for SqliteStore {
    async fn create_sales_unit(&self, u: &SalesUnit) -> Result<()> {
        let redirect_uris = json(&u.redirect_uris)?;
        let consent_texts = u.consent_texts.as_ref().map(json).transpose()?;
        self.write(|conn| {
            execute(
                conn,
                "INSERT INTO sales_units (client_id, secret_hash, name, redirect_uris, auth_method, msn, allow_nin, ciba_mode, ciba_notification_endpoint, webhook_url, created_at, consent_texts)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
                rusqlite::params![
                    u.client_id,
                    u.secret_hash,
                    u.name,
                    redirect_uris,
                    u.auth_method.as_str(),
                    u.msn,
                    u.allow_nin,
                    u.ciba_mode.as_str(),
                    u.ciba_notification_endpoint,
                    u.webhook_url,
                    u.created_at,
                    consent_texts,
                ],
            )
        })?;
        Ok(())
    }

    async fn get_sales_unit(&self, client_id: &str) -> Result<Option<SalesUnit>> {
        const SQL: &str = concat!(
            "SELECT ",
            sales_unit_columns!(),
            " FROM sales_units WHERE client_id = ?1"
        );
        self.read(|conn| query_opt(conn, SQL, [client_id], rows::sales_unit))
    }

    async fn list_sales_units(&self) -> Result<Vec<SalesUnit>> {
        const SQL: &str = concat!(
            "SELECT ",
            sales_unit_columns!(),
            " FROM sales_units ORDER BY client_id"
        );
        self.read(|conn| query_all(conn, SQL, [], rows::sales_unit))
    }

    async fn update_sales_unit(&self, u: &SalesUnit) -> Result<()> {
        let redirect_uris = json(&u.redirect_uris)?;
        let consent_texts = u.consent_texts.as_ref().map(json).transpose()?;
        let done = self.write(|conn| {
            execute(
                conn,
                "UPDATE sales_units SET secret_hash = ?2, name = ?3, redirect_uris = ?4, auth_method = ?5, msn = ?6, allow_nin = ?7, ciba_mode = ?8, ciba_notification_endpoint = ?9, webhook_url = ?10, consent_texts = ?11
                 WHERE client_id = ?1",
                rusqlite::params![
                    u.client_id,
                    u.secret_hash,
                    u.name,
                    redirect_uris,
                    u.auth_method.as_str(),
                    u.msn,
                    u.allow_nin,
                    u.ciba_mode.as_str(),
                    u.ciba_notification_endpoint,
                    u.webhook_url,
                    consent_texts,
                ],
            )
        })?;
        if done == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    async fn delete_sales_unit(&self, client_id: &str) -> Result<()> {
        // The foreign keys cascade to the unit's consents, codes, tokens and login
        // requests (migration 0006).
        let done = self.write(|conn| {
            execute(
                conn,
                "DELETE FROM sales_units WHERE client_id = ?1",
                [client_id],
            )
        })?;
        if done == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }
}
