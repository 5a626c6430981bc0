-- Requests to merchants (Webhooks API events, CONSENT_REVOKED, CIBA pings) wait here
-- until they are sent: a restart, or another instance, sends what one could not.
-- `held_until`: an instance sending it holds it until then; one that dies lets go.
CREATE TABLE deliveries (
    id           TEXT PRIMARY KEY,
    url          TEXT NOT NULL,
    content_type TEXT NOT NULL,
    body         BYTEA NOT NULL,
    auth         TEXT NOT NULL,
    secret       TEXT,
    attempts     BIGINT NOT NULL,
    due_at       BIGINT NOT NULL,
    held_until   BIGINT NOT NULL,
    created_at   BIGINT NOT NULL
);
CREATE INDEX deliveries_due ON deliveries (due_at);

-- Background work that one instance at a time does (the expiry purge): the instance
-- holding a lease until `until` does it; when it stops renewing, another takes over.
CREATE TABLE leases (
    name   TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    until  BIGINT NOT NULL
);
