//! Sales units kept in memory for a moment: authorize and the token endpoint read the same
//! one at every login. A change made with `nod sales-unit` (another process, or another
//! instance) is seen within [`FRESH_FOR`]; an unknown client id is never remembered, so a
//! new sales unit works at once and made-up client ids cannot fill the memory.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use nod_core::sales_unit::SalesUnit;

/// How long a sales unit read from the store is used without reading it again.
const FRESH_FOR: Duration = Duration::from_secs(1);

/// Most sales units kept; past it, the stale ones go (and, if none is stale, all).
const MOST: usize = 10_000;

#[derive(Default)]
pub struct SalesUnitCache(Mutex<HashMap<String, (Instant, Arc<SalesUnit>)>>);

impl SalesUnitCache {
    pub(super) fn get(&self, client_id: &str) -> Option<Arc<SalesUnit>> {
        let map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        map.get(client_id)
            .filter(|(read_at, _)| read_at.elapsed() < FRESH_FOR)
            .map(|(_, unit)| Arc::clone(unit))
    }

    pub(super) fn put(&self, unit: Arc<SalesUnit>) {
        let mut map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if map.len() >= MOST {
            map.retain(|_, (read_at, _)| read_at.elapsed() < FRESH_FOR);
            if map.len() >= MOST {
                map.clear();
            }
        }
        map.insert(unit.client_id.clone(), (Instant::now(), unit));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(client_id: &str) -> Arc<SalesUnit> {
        Arc::new(SalesUnit {
            client_id: client_id.into(),
            secret_hash: vec![],
            name: "Shop".into(),
            redirect_uris: vec![],
            auth_method: nod_core::sales_unit::AuthMethod::ClientSecretBasic,
            msn: None,
            allow_nin: false,
            ciba_mode: nod_core::sales_unit::CibaMode::Poll,
            ciba_notification_endpoint: None,
            webhook_url: None,
            consent_texts: None,
            created_at: 0,
        })
    }

    #[test]
    fn a_unit_is_kept_for_a_moment_then_read_again() {
        let cache = SalesUnitCache::default();
        assert!(cache.get("shop").is_none());
        cache.put(unit("shop"));
        assert_eq!(
            cache.get("shop").map(|u| u.client_id.clone()).as_deref(),
            Some("shop")
        );
        assert!(cache.get("other").is_none());
        // Stale: as if read more than FRESH_FOR ago.
        if let Some(entry) = cache.0.lock().unwrap().get_mut("shop") {
            entry.0 = Instant::now() - FRESH_FOR;
        }
        assert!(cache.get("shop").is_none());
    }

    #[test]
    fn the_cache_stays_bounded() {
        let cache = SalesUnitCache::default();
        for i in 0..MOST + 5 {
            cache.put(unit(&format!("shop-{i}")));
        }
        assert!(cache.0.lock().unwrap().len() <= MOST);
        assert!(
            cache.get(&format!("shop-{}", MOST + 4)).is_some(),
            "the newest is kept"
        );
    }
}
