//! Sales units: the merchants' OAuth clients.

use async_trait::async_trait;
use nod_core::sales_unit::SalesUnit;

use super::rows::SalesUnitRow;
use super::{SqliteStore, convert, convert_all, db_error, json};
use crate::{Result, SalesUnitStore, StoreError};

#[async_trait]
impl SalesUnitStore for SqliteStore {
    async fn create_sales_unit(&self, u: &SalesUnit) -> Result<()> {
        sqlx::query(
            "INSERT INTO sales_units (client_id, secret_hash, name, redirect_uris, auth_method, msn, allow_nin, ciba_mode, ciba_notification_endpoint, webhook_url, created_at, consent_texts)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(&u.client_id)
        .bind(&u.secret_hash)
        .bind(&u.name)
        .bind(json(&u.redirect_uris)?)
        .bind(u.auth_method.as_str())
        .bind(&u.msn)
        .bind(u.allow_nin)
        .bind(u.ciba_mode.as_str())
        .bind(&u.ciba_notification_endpoint)
        .bind(&u.webhook_url)
        .bind(u.created_at)
        .bind(u.consent_texts.as_ref().map(json).transpose()?)
        .execute(&self.writer)
        .await
        .map_err(db_error)?;
        Ok(())
    }

    async fn get_sales_unit(&self, client_id: &str) -> Result<Option<SalesUnit>> {
        let row =
            sqlx::query_as::<_, SalesUnitRow>("SELECT * FROM sales_units WHERE client_id = $1")
                .bind(client_id)
                .fetch_optional(&self.reader)
                .await
                .map_err(db_error)?;
        convert(row)
    }

    async fn list_sales_units(&self) -> Result<Vec<SalesUnit>> {
        let rows =
            sqlx::query_as::<_, SalesUnitRow>("SELECT * FROM sales_units ORDER BY client_id")
                .fetch_all(&self.reader)
                .await
                .map_err(db_error)?;
        convert_all(rows)
    }

    async fn update_sales_unit(&self, u: &SalesUnit) -> Result<()> {
        let done = sqlx::query(
            "UPDATE sales_units SET secret_hash = $2, name = $3, redirect_uris = $4, auth_method = $5, msn = $6, allow_nin = $7, ciba_mode = $8, ciba_notification_endpoint = $9, webhook_url = $10, consent_texts = $11
             WHERE client_id = $1",
        )
        .bind(&u.client_id)
        .bind(&u.secret_hash)
        .bind(&u.name)
        .bind(json(&u.redirect_uris)?)
        .bind(u.auth_method.as_str())
        .bind(&u.msn)
        .bind(u.allow_nin)
        .bind(u.ciba_mode.as_str())
        .bind(&u.ciba_notification_endpoint)
        .bind(&u.webhook_url)
        .bind(u.consent_texts.as_ref().map(json).transpose()?)
        .execute(&self.writer)
        .await
        .map_err(db_error)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    async fn delete_sales_unit(&self, client_id: &str) -> Result<()> {
        // The foreign keys cascade to the unit's consents, codes, tokens and login
        // requests (migration 0006).
        let done = sqlx::query("DELETE FROM sales_units WHERE client_id = $1")
            .bind(client_id)
            .execute(&self.writer)
            .await
            .map_err(db_error)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }
}
