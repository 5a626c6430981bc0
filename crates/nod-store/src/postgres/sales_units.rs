//! Sales units: the merchants' OAuth clients.

use async_trait::async_trait;
use nod_core::sales_unit::SalesUnit;

use super::rows::{self, sales_unit_columns};
use super::{PgStore, execute, json, query_all, query_opt};
use crate::{Result, SalesUnitStore, StoreError};

#[async_trait]
impl SalesUnitStore for PgStore {
    async fn create_sales_unit(&self, u: &SalesUnit) -> Result<()> {
        let redirect_uris = json(&u.redirect_uris)?;
        let consent_texts = u.consent_texts.as_ref().map(json).transpose()?;
        execute(
            &self.pool,
            sqlx::query(
                "INSERT INTO sales_units (client_id, secret_hash, name, redirect_uris, auth_method, msn, allow_nin, ciba_mode, ciba_notification_endpoint, webhook_url, created_at, consent_texts)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
            )
            .bind(&u.client_id)
            .bind(&u.secret_hash)
            .bind(&u.name)
            .bind(redirect_uris)
            .bind(u.auth_method.as_str())
            .bind(&u.msn)
            .bind(u.allow_nin)
            .bind(u.ciba_mode.as_str())
            .bind(&u.ciba_notification_endpoint)
            .bind(&u.webhook_url)
            .bind(u.created_at)
            .bind(consent_texts),
        )
        .await?;
        Ok(())
    }

    async fn get_sales_unit(&self, client_id: &str) -> Result<Option<SalesUnit>> {
        const SQL: &str = concat!(
            "SELECT ",
            sales_unit_columns!(),
            " FROM sales_units WHERE client_id = $1"
        );
        query_opt(
            &self.pool,
            sqlx::query(SQL).bind(client_id),
            rows::sales_unit,
        )
        .await
    }

    async fn list_sales_units(&self) -> Result<Vec<SalesUnit>> {
        const SQL: &str = concat!(
            "SELECT ",
            sales_unit_columns!(),
            " FROM sales_units ORDER BY client_id"
        );
        query_all(&self.pool, sqlx::query(SQL), rows::sales_unit).await
    }

    async fn update_sales_unit(&self, u: &SalesUnit) -> Result<()> {
        let redirect_uris = json(&u.redirect_uris)?;
        let consent_texts = u.consent_texts.as_ref().map(json).transpose()?;
        let done = execute(
            &self.pool,
            sqlx::query(
                "UPDATE sales_units SET secret_hash = $2, name = $3, redirect_uris = $4, auth_method = $5, msn = $6, allow_nin = $7, ciba_mode = $8, ciba_notification_endpoint = $9, webhook_url = $10, consent_texts = $11
                 WHERE client_id = $1",
            )
            .bind(&u.client_id)
            .bind(&u.secret_hash)
            .bind(&u.name)
            .bind(redirect_uris)
            .bind(u.auth_method.as_str())
            .bind(&u.msn)
            .bind(u.allow_nin)
            .bind(u.ciba_mode.as_str())
            .bind(&u.ciba_notification_endpoint)
            .bind(&u.webhook_url)
            .bind(consent_texts),
        )
        .await?;
        if done == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    async fn delete_sales_unit(&self, client_id: &str) -> Result<()> {
        // The foreign keys cascade to the unit's consents, codes, tokens, login requests
        // and webhook registrations.
        let done = execute(
            &self.pool,
            sqlx::query("DELETE FROM sales_units WHERE client_id = $1").bind(client_id),
        )
        .await?;
        if done == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }
}
