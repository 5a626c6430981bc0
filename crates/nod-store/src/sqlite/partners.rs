//! Partners (partner keys): the partner, the MSNs it may act for, its access tokens, and
//! the lookup of a sales unit by MSN.

use async_trait::async_trait;
use nod_core::Timestamp;
use nod_core::partner::{Partner, PartnerToken};

use super::rows::{self, Columns, partner_columns, partner_token_columns, sales_unit_columns};
use super::{SqliteStore, commit, execute, query_all, query_opt};
use crate::{MsnMatch, PartnerStore, Result, StoreError};

#[async_trait]
impl PartnerStore for SqliteStore {
    async fn create_partner(&self, p: &Partner) -> Result<()> {
        self.transaction(|tx| {
            execute(
                &tx,
                "INSERT INTO partners (id, secret_hash, name, created_at) VALUES (?1, ?2, ?3, ?4)",
                rusqlite::params![p.id, p.secret_hash, p.name, p.created_at],
            )?;
            for msn in &p.msns {
                execute(
                    &tx,
                    "INSERT OR IGNORE INTO partner_msns (partner_id, msn) VALUES (?1, ?2)",
                    [&p.id, msn],
                )?;
            }
            commit(tx)
        })
    }

    async fn get_partner(&self, id: &str) -> Result<Option<Partner>> {
        const SQL: &str = concat!(
            "SELECT ",
            partner_columns!(),
            " FROM partners WHERE id = ?1"
        );
        self.read(|conn| {
            let Some(partner) = query_opt(conn, SQL, [id], rows::partner)? else {
                return Ok(None);
            };
            let msns = query_all(
                conn,
                "SELECT msn FROM partner_msns WHERE partner_id = ?1 ORDER BY msn",
                [id],
                |row| Columns::new(row).get("msn"),
            )?;
            Ok(Some(Partner { msns, ..partner }))
        })
    }

    async fn list_partners(&self) -> Result<Vec<Partner>> {
        const SQL: &str = concat!("SELECT ", partner_columns!(), " FROM partners ORDER BY id");
        self.read(|conn| {
            let partners = query_all(conn, SQL, [], rows::partner)?;
            let pairs: Vec<(String, String)> = query_all(
                conn,
                "SELECT partner_id, msn FROM partner_msns ORDER BY partner_id, msn",
                [],
                |row| {
                    let mut c = Columns::new(row);
                    Ok((c.get("partner_id")?, c.get("msn")?))
                },
            )?;
            Ok(partners
                .into_iter()
                .map(|partner| {
                    let msns = pairs
                        .iter()
                        .filter(|(id, _)| *id == partner.id)
                        .map(|(_, msn)| msn.clone())
                        .collect();
                    Partner { msns, ..partner }
                })
                .collect())
        })
    }

    async fn delete_partner(&self, id: &str) -> Result<()> {
        // The foreign keys cascade to its MSNs and tokens.
        let done = self.write(|conn| execute(conn, "DELETE FROM partners WHERE id = ?1", [id]))?;
        if done == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    async fn insert_partner_token(&self, t: &PartnerToken) -> Result<()> {
        self.write(|conn| {
            execute(
                conn,
                "INSERT INTO partner_tokens (token_hash, partner_id, expires_at) VALUES (?1, ?2, ?3)",
                rusqlite::params![t.token_hash, t.partner_id, t.expires_at],
            )
        })?;
        Ok(())
    }

    async fn get_partner_token(
        &self,
        token_hash: &[u8],
        now: Timestamp,
    ) -> Result<Option<PartnerToken>> {
        const SQL: &str = concat!(
            "SELECT ",
            partner_token_columns!(),
            " FROM partner_tokens WHERE token_hash = ?1 AND expires_at > ?2"
        );
        self.read(|conn| {
            query_opt(
                conn,
                SQL,
                rusqlite::params![token_hash, now],
                rows::partner_token,
            )
        })
    }

    async fn sales_unit_by_msn(&self, msn: &str) -> Result<MsnMatch> {
        // Two rows are enough to tell one from several (index sales_units_msn).
        const SQL: &str = concat!(
            "SELECT ",
            sales_unit_columns!(),
            " FROM sales_units WHERE msn = ?1 ORDER BY client_id LIMIT 2"
        );
        let mut units = self.read(|conn| query_all(conn, SQL, [msn], rows::sales_unit))?;
        Ok(match units.len() {
            0 => MsnMatch::None,
            1 => MsnMatch::One(Box::new(units.remove(0))),
            _ => MsnMatch::Ambiguous,
        })
    }
}
