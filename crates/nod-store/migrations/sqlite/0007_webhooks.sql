-- The merchant's side of the Vipps MobilePay API platform: access tokens of the access
-- token API (POST /accesstoken/get) and webhook registrations of the Webhooks API.
-- Keep in step with migrations/postgres.

-- Merchant API access tokens: opaque, stored only as SHA-256 hashes, valid until
-- expires_at. A table of their own, not access_tokens: those are a person's tokens
-- (user, scopes, session) that userinfo accepts; these name only a sales unit, so one
-- can never be taken for the other.
CREATE TABLE merchant_tokens (
    token_hash BLOB PRIMARY KEY,
    client_id  TEXT NOT NULL REFERENCES sales_units (client_id) ON DELETE CASCADE,
    expires_at INTEGER NOT NULL
);
CREATE INDEX merchant_tokens_client ON merchant_tokens (client_id);
CREATE INDEX merchant_tokens_expiry ON merchant_tokens (expires_at);

-- Webhook registrations. events is a JSON array of event type names (never empty, no
-- duplicates); the limit per sales unit and event is checked with json_each in the
-- statement that inserts. secret is a signing key, not a password: every notification
-- is signed with HMAC-SHA256 keyed with it, so it is stored as it is, not hashed.
CREATE TABLE webhooks (
    id         TEXT PRIMARY KEY,
    client_id  TEXT NOT NULL REFERENCES sales_units (client_id) ON DELETE CASCADE,
    url        TEXT NOT NULL,
    events     TEXT NOT NULL,
    secret     TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX webhooks_client ON webhooks (client_id, created_at);
