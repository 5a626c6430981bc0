//! Rate limits: a fixed window per minute and key (an address, a sales unit), kept in
//! memory, per instance. An address is the TCP peer's: behind a proxy all browsers share
//! one, so set the limits with that in mind.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::Mutex;

use nod_core::Timestamp;

/// Counts per key in the current minute.
pub struct RateLimiter<K = IpAddr> {
    per_minute: u32,
    windows: Mutex<HashMap<K, (Timestamp, u32)>>,
}

impl<K: Hash + Eq> RateLimiter<K> {
    pub fn new(per_minute: u32) -> Self {
        Self {
            per_minute,
            windows: Mutex::new(HashMap::new()),
        }
    }

    /// Counts one attempt; false when the key is over its limit this minute (no key, no
    /// limit).
    pub fn allow(&self, address: Option<K>, now: Timestamp) -> bool {
        let Some(address) = address else { return true };
        let Ok(mut windows) = self.windows.lock() else {
            return true;
        };
        let minute = now.div_euclid(60);
        if windows.len() > 100_000 {
            windows.retain(|_, (m, _)| *m == minute);
        }
        let entry = windows.entry(address).or_insert((minute, 0));
        if entry.0 != minute {
            *entry = (minute, 0);
        }
        entry.1 += 1;
        entry.1 <= self.per_minute
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_per_address_and_minute() {
        let limiter = RateLimiter::new(2);
        let a = Some(IpAddr::from([127, 0, 0, 1]));
        let b = Some(IpAddr::from([127, 0, 0, 2]));
        assert!(limiter.allow(a, 60));
        assert!(limiter.allow(a, 61));
        assert!(!limiter.allow(a, 62));
        assert!(limiter.allow(b, 62));
        assert!(limiter.allow(a, 120), "a new minute");
        assert!(limiter.allow(None, 62));
    }
}
