//! Every lookup the store makes uses an index: `EXPLAIN QUERY PLAN` of each shows no
//! full scan of a table, except the listings that read a whole (small) table on
//! purpose. The cascades of migration 0006 are lookups by the child's key column too.

use super::*;

/// The steps of a statement's plan, as `EXPLAIN QUERY PLAN` describes them.
fn plan(store: &SqliteStore, sql: &str) -> Vec<String> {
    store
        .read(|conn| {
            let mut statement = conn
                .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
                .map_err(db_error)?;
            let rows = statement
                .query_map([], |row| row.get::<_, String>(3))
                .map_err(db_error)?;
            rows.collect::<rusqlite::Result<_>>().map_err(db_error)
        })
        .unwrap()
}

/// A step that reads a whole table (or a whole index without a bound).
fn is_full_scan(step: &str) -> bool {
    step.starts_with("SCAN ") && !step.contains("VIRTUAL TABLE")
}

/// The lookups of the store, with literal values for the parameters.
const LOOKUPS: &[&str] = &[
    // devices
    "SELECT * FROM devices WHERE token_hash = x'00' AND expires_at > 0",
    "SELECT * FROM devices WHERE user_id = 'u' AND expires_at > 0 ORDER BY created_at DESC, id",
    "UPDATE devices SET last_used_at = 1, expires_at = 2 WHERE id = 'd' AND expires_at > 1",
    "DELETE FROM devices WHERE id = 'd' AND user_id = 'u'",
    // login requests
    "SELECT spent_until FROM phone_budgets WHERE phone_hash = x'00'",
    "INSERT INTO phone_budgets (phone_hash, spent_until) VALUES (x'00', 1) ON CONFLICT (phone_hash) DO UPDATE SET spent_until = MAX(spent_until, 0) + 1",
    "SELECT * FROM login_requests WHERE id = 'x'",
    "SELECT COUNT(*) FROM login_requests WHERE (phone_hash = x'00' OR user_id = 'u') AND status = 'waiting' AND expires_at > 0",
    "UPDATE login_requests SET status = 'failed' WHERE id = 'x' AND expires_at > 0 AND ('u' IS NULL OR user_id = 'u') AND status IN ('new', 'waiting')",
    "UPDATE login_requests SET status = 'waiting' WHERE ticket_hash = x'00' AND status = 'new' AND expires_at > 0",
    "UPDATE login_requests SET resume_hash = NULL WHERE id = 'x' AND resume_hash = x'00'",
    "SELECT * FROM login_requests WHERE auth_req_id = 'a' AND client_id = 'c'",
    "SELECT * FROM login_requests WHERE user_id = 'u' AND status = 'waiting' AND expires_at > 0 ORDER BY created_at",
    // codes and tokens
    "SELECT *, redeemed_at FROM auth_codes WHERE code_hash = x'00' AND client_id = 'c'",
    "UPDATE auth_codes SET redeemed_at = 1 WHERE code_hash = x'00'",
    "DELETE FROM access_tokens WHERE code_hash = x'00'",
    "DELETE FROM access_tokens WHERE token_hash = x'00' AND client_id = 'c'",
    "SELECT * FROM access_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = x'00' AND t.expires_at > 0",
    "SELECT * FROM merchant_tokens WHERE token_hash = x'00' AND expires_at > 0",
    // consents, browsers, devices
    "SELECT * FROM consents WHERE user_id = 'u' AND client_id = 'c'",
    "SELECT * FROM consents WHERE user_id = 'u' ORDER BY client_id",
    "DELETE FROM consents WHERE user_id = 'u' AND client_id = 'c'",
    "UPDATE browsers SET last_used_at = 1 WHERE token_hash = x'00' AND expires_at > 0",
    "SELECT * FROM browsers b JOIN users u ON u.id = b.user_id LEFT JOIN consents c ON c.user_id = b.user_id AND c.client_id = 'c' WHERE b.token_hash = x'00' AND b.expires_at > 0",
    "SELECT * FROM browsers WHERE user_id = 'u' AND expires_at > 0 ORDER BY created_at",
    "DELETE FROM browsers WHERE id = 'b' AND user_id = 'u'",
    "SELECT * FROM devices WHERE token_hash = x'00'",
    // users and activation codes
    "SELECT * FROM users WHERE id = 'u'",
    "SELECT * FROM users WHERE phone_number = '47'",
    "DELETE FROM activation_codes WHERE code_hash = x'00' AND user_id = 'u' AND expires_at > 0",
    // sales units, webhooks, partners, keys
    "SELECT * FROM sales_units WHERE client_id = 'c'",
    "SELECT * FROM sales_units WHERE msn = '1' ORDER BY client_id LIMIT 2",
    "SELECT * FROM webhooks WHERE client_id = 'c' ORDER BY created_at, id",
    // the outbox and the leases
    "UPDATE deliveries SET held_until = 2 WHERE id IN (SELECT id FROM deliveries WHERE due_at <= 1 AND held_until <= 1 ORDER BY due_at LIMIT 64)",
    "DELETE FROM deliveries WHERE id = 'd'",
    "UPDATE deliveries SET attempts = 1, due_at = 2, held_until = 0 WHERE id = 'd'",
    "INSERT INTO leases (name, holder, until) VALUES ('purge', 'a', 2) ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, until = excluded.until WHERE leases.holder = excluded.holder OR leases.until <= 1",
    "SELECT * FROM webhooks w WHERE client_id = 'c' AND EXISTS (SELECT 1 FROM json_each(w.events) WHERE value = 'e') ORDER BY created_at, id",
    "SELECT 1 FROM webhooks w, json_each(w.events) e WHERE w.client_id = 'c' AND e.value IN (SELECT value FROM json_each('[]')) GROUP BY e.value HAVING COUNT(*) >= 1",
    "DELETE FROM webhooks WHERE id = 'w' AND client_id = 'c'",
    "SELECT * FROM partners WHERE id = 'p'",
    "SELECT msn FROM partner_msns WHERE partner_id = 'p' ORDER BY msn",
    "SELECT * FROM partner_tokens WHERE token_hash = x'00' AND expires_at > 0",
    "INSERT INTO settings (name, value) VALUES ('n', x'00') ON CONFLICT (name) DO UPDATE SET value = settings.value",
    // the cascades: deleting a user, a sales unit or a partner looks up its children
    "SELECT 1 FROM login_requests WHERE user_id = 'u'",
    "SELECT 1 FROM login_requests WHERE client_id = 'c'",
    "SELECT 1 FROM auth_codes WHERE user_id = 'u'",
    "SELECT 1 FROM auth_codes WHERE client_id = 'c'",
    "SELECT 1 FROM access_tokens WHERE user_id = 'u'",
    "SELECT 1 FROM access_tokens WHERE client_id = 'c'",
    "SELECT 1 FROM consents WHERE user_id = 'u'",
    "SELECT 1 FROM consents WHERE client_id = 'c'",
    "SELECT 1 FROM browsers WHERE user_id = 'u'",
    "SELECT 1 FROM devices WHERE user_id = 'u'",
    "SELECT 1 FROM activation_codes WHERE user_id = 'u'",
    "SELECT 1 FROM merchant_tokens WHERE client_id = 'c'",
    "SELECT 1 FROM webhooks WHERE client_id = 'c'",
    "SELECT 1 FROM partner_msns WHERE partner_id = 'p'",
    "SELECT 1 FROM partner_tokens WHERE partner_id = 'p'",
    // the purge, one batch of each table
    "DELETE FROM devices WHERE rowid IN (SELECT rowid FROM devices WHERE expires_at < 0 LIMIT 100)",
    "DELETE FROM phone_budgets WHERE phone_hash IN (SELECT phone_hash FROM phone_budgets WHERE spent_until < 0 LIMIT 100)",
    "DELETE FROM auth_codes WHERE rowid IN (SELECT rowid FROM auth_codes WHERE expires_at < 0 LIMIT 100)",
    "DELETE FROM access_tokens WHERE rowid IN (SELECT rowid FROM access_tokens WHERE expires_at < 0 LIMIT 100)",
    "DELETE FROM merchant_tokens WHERE rowid IN (SELECT rowid FROM merchant_tokens WHERE expires_at < 0 LIMIT 100)",
    "DELETE FROM partner_tokens WHERE rowid IN (SELECT rowid FROM partner_tokens WHERE expires_at < 0 LIMIT 100)",
    "DELETE FROM login_requests WHERE rowid IN (SELECT rowid FROM login_requests WHERE expires_at < 0 LIMIT 100)",
    "DELETE FROM browsers WHERE rowid IN (SELECT rowid FROM browsers WHERE expires_at < 0 LIMIT 100)",
    "DELETE FROM activation_codes WHERE rowid IN (SELECT rowid FROM activation_codes WHERE expires_at < 0 LIMIT 100)",
];

#[tokio::test]
async fn every_lookup_uses_an_index() {
    let (_dir, store) = store().await;
    let mut scans = Vec::new();
    for sql in LOOKUPS {
        let steps = plan(&store, sql);
        if steps.iter().any(|step| is_full_scan(step)) {
            scans.push(format!("{sql}\n    {}", steps.join("; ")));
        }
    }
    assert!(scans.is_empty(), "full scans:\n{}", scans.join("\n"));
}

#[tokio::test]
async fn listings_read_their_table_in_order() {
    // The listings of users (a page at a time), sales units and partners read the table
    // in the order of an index, which is what they are for; they need no sort.
    let (_dir, store) = store().await;
    for (sql, table) in [
        (
            "SELECT * FROM users ORDER BY phone_number LIMIT 10 OFFSET 0",
            "users",
        ),
        (
            "SELECT * FROM sales_units ORDER BY client_id",
            "sales_units",
        ),
        ("SELECT * FROM partners ORDER BY id", "partners"),
        (
            "SELECT partner_id, msn FROM partner_msns ORDER BY partner_id, msn",
            "partner_msns",
        ),
    ] {
        let steps = plan(&store, sql);
        assert!(
            steps
                .iter()
                .all(|step| step.starts_with(&format!("SCAN {table}"))),
            "{sql}: {steps:?}"
        );
    }
}

#[tokio::test]
async fn partner_lookups_use_an_index() {
    let (_dir, store) = store().await;
    for (sql, index) in [
        (
            "SELECT * FROM sales_units WHERE msn = '1' ORDER BY client_id LIMIT 2",
            "INDEX sales_units_msn",
        ),
        (
            "SELECT msn FROM partner_msns WHERE partner_id = 'p' ORDER BY msn",
            "PRIMARY KEY",
        ),
        (
            "SELECT * FROM partner_tokens WHERE token_hash = x'00' AND expires_at > 0",
            "INDEX sqlite_autoindex_partner_tokens_1",
        ),
        (
            "SELECT * FROM partner_tokens WHERE partner_id = 'p'",
            "INDEX partner_tokens_partner",
        ),
        (
            "SELECT * FROM partner_tokens WHERE expires_at < 0",
            "INDEX partner_tokens_expiry",
        ),
    ] {
        let plan = plan(&store, sql).join("; ");
        assert!(plan.contains(index), "{sql}: {plan}");
    }
}
