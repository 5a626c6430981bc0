-- Requests to merchants (Webhooks API events, CONSENT_REVOKED, CIBA pings) wait here
-- until they are sent: a restart, or another instance, sends what one could not.
-- `held_until`: an instance sending it holds it until then; one that dies lets go.
CREATE TABLE deliveries (
    id           TEXT PRIMARY KEY,
    url          TEXT NOT NULL,
    content_type TEXT NOT NULL,
    body         BLOB NOT NULL,
    auth         TEXT NOT NULL,
    secret       TEXT,
    attempts     INTEGER NOT NULL,
    due_at       INTEGER NOT NULL,
    held_until   INTEGER NOT NULL,
    created_at   INTEGER NOT NULL
);
CREATE INDEX deliveries_due ON deliveries (due_at);

-- Background work that one instance at a time does (the expiry purge): the instance
-- holding a lease until `until` does it; when it stops renewing, another takes over.
CREATE TABLE leases (
    name   TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    until  INTEGER NOT NULL
);
