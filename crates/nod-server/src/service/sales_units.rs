//! Reading a sales unit through the cache of the last second ([`super::unit_cache`]).

use std::sync::Arc;

use nod_core::sales_unit::SalesUnit;

use super::engine::{Result, Service};

impl Service {
    /// The sales unit with this client id, from memory when read less than a second ago.
    pub(super) async fn sales_unit(&self, client_id: &str) -> Result<Option<Arc<SalesUnit>>> {
        if let Some(unit) = self.sales_units.get(client_id) {
            return Ok(Some(unit));
        }
        let Some(unit) = self.store.get_sales_unit(client_id).await? else {
            return Ok(None);
        };
        let unit = Arc::new(unit);
        self.sales_units.put(Arc::clone(&unit));
        Ok(Some(unit))
    }
}
