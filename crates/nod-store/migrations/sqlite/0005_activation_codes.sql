-- Activation codes: how a device registers for a person outside test mode. Single use,
-- short-lived, stored only as SHA-256 hashes. Keep in step with migrations/postgres.

CREATE TABLE activation_codes (
    code_hash  BLOB PRIMARY KEY,
    user_id    TEXT NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX activation_codes_user ON activation_codes (user_id);
