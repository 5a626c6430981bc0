//! Logins the demo merchant started, kept in memory by `state`.

use std::collections::HashMap;
use std::sync::Mutex;

use nod_core::Timestamp;

/// How long a started demo login is remembered.
const SESSION_LIFETIME: i64 = 900;

/// Logins the demo merchant started, by `state`: kept on the server, because the
/// automatic-return journey comes back in a browser without the starting browser's cookies.
#[derive(Default)]
pub struct DemoSessions(Mutex<HashMap<String, DemoSession>>);

#[derive(Clone)]
pub(super) struct DemoSession {
    pub journey: &'static str,
    pub verifier: String,
    pub nonce: String,
    pub created_at: Timestamp,
}

impl DemoSessions {
    pub(super) fn insert(&self, state: String, session: DemoSession) {
        if let Ok(mut map) = self.0.lock() {
            let now = session.created_at;
            map.retain(|_, s| now - s.created_at < SESSION_LIFETIME);
            map.insert(state, session);
        }
    }

    pub(super) fn take(&self, state: &str) -> Option<DemoSession> {
        self.0.lock().ok()?.remove(state)
    }

    pub(super) fn peek(&self, state: &str) -> Option<DemoSession> {
        self.0.lock().ok()?.get(state).cloned()
    }
}
