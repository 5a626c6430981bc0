-- Nod's schema, PostgreSQL: the whole schema of migrations/sqlite 0001 to 0010 at once.
-- No PostgreSQL database of Nod existed before all ten steps were written, so this file
-- creates what they add up to, and 0002 to 0010 are placeholders that keep the version
-- numbers of the two folders in step (a test checks they do). A change to the schema
-- from now on is a new version in both folders.
--
-- The same tables, columns and meanings as SQLite: times are Unix seconds (BIGINT), ids
-- are UUID text (read back strictly, as on SQLite), secrets are stored only as SHA-256
-- hashes (BYTEA), JSON is text. Foreign keys cascade deletes from users and sales units
-- (and partners) to everything tied to them; audit_log has none (the security log
-- outlives the users and sales units it names). Every foreign key column is the first
-- column of an index, so a cascading delete does not scan the child table; every table
-- the purge visits has an index on expires_at.
--
-- Keys and columns a list is ordered by are COLLATE "C": they sort by bytes, as SQLite
-- sorts them, whatever the database's default collation.

CREATE TABLE settings (
    name  TEXT PRIMARY KEY,
    value BYTEA NOT NULL
);

CREATE TABLE sales_units (
    client_id                  TEXT COLLATE "C" PRIMARY KEY,
    secret_hash                BYTEA NOT NULL,
    name                       TEXT NOT NULL,
    redirect_uris              TEXT NOT NULL, -- JSON array
    auth_method                TEXT NOT NULL,
    msn                        TEXT COLLATE "C",
    allow_nin                  BOOLEAN NOT NULL,
    ciba_mode                  TEXT NOT NULL,
    ciba_notification_endpoint TEXT,
    webhook_url                TEXT,
    created_at                 BIGINT NOT NULL,
    consent_texts              TEXT -- JSON (0003)
);
-- MSNs are not unique in existing data: the lookup reads at most two rows (0009).
CREATE INDEX sales_units_msn ON sales_units (msn);

CREATE TABLE users (
    id             TEXT PRIMARY KEY,
    phone_number   TEXT COLLATE "C" NOT NULL UNIQUE,
    given_name     TEXT NOT NULL,
    family_name    TEXT NOT NULL,
    email          TEXT NOT NULL,
    birthdate      TEXT NOT NULL,
    nin            TEXT NOT NULL,
    addresses      TEXT NOT NULL, -- JSON array, at most three
    active         BOOLEAN NOT NULL,
    created_at     BIGINT NOT NULL,
    email_verified BOOLEAN NOT NULL DEFAULT TRUE -- 0008
);

CREATE TABLE signing_keys (
    kid         TEXT COLLATE "C" PRIMARY KEY,
    alg         TEXT NOT NULL,
    private_der BYTEA NOT NULL, -- PKCS#8
    public_n    TEXT NOT NULL, -- base64url
    public_e    TEXT NOT NULL, -- base64url
    created_at  BIGINT NOT NULL,
    active_from BIGINT NOT NULL,
    retired_at  BIGINT
);

-- user_id is NULL until the request is sent (and stays NULL for a number no user has).
CREATE TABLE login_requests (
    id                    TEXT PRIMARY KEY,
    client_id             TEXT COLLATE "C" NOT NULL REFERENCES sales_units (client_id) ON DELETE CASCADE,
    redirect_uri          TEXT NOT NULL,
    scopes                BIGINT NOT NULL,
    state                 TEXT NOT NULL,
    nonce                 TEXT,
    code_challenge        TEXT,
    code_challenge_method TEXT,
    flow                  TEXT NOT NULL,
    app_callback_uri      TEXT,
    final_redirect_is_app BOOLEAN NOT NULL,
    acr_app_auth          BOOLEAN NOT NULL,
    prompt                TEXT NOT NULL,
    response_mode         TEXT NOT NULL,
    browser_binding       BYTEA NOT NULL,
    csrf_token            TEXT NOT NULL,
    status                TEXT NOT NULL,
    user_id               TEXT REFERENCES users (id) ON DELETE CASCADE,
    challenge             BIGINT,
    choices               TEXT,
    remember_browser      BOOLEAN NOT NULL,
    amr                   TEXT,
    error                 TEXT,
    created_at            BIGINT NOT NULL,
    expires_at            BIGINT NOT NULL,
    auth_time             BIGINT,
    -- 0002: the single-use ticket of the deep link that opens the app, and the
    -- single-use token of an app-to-app resume_uri.
    ticket_hash           BYTEA,
    resume_hash           BYTEA,
    -- 0003: merchant-initiated login (CIBA).
    kind                  TEXT NOT NULL DEFAULT 'browser',
    auth_req_id           TEXT,
    binding_message       TEXT,
    notification_token    TEXT,
    last_polled_at        BIGINT,
    delegated_answers     TEXT, -- JSON
    -- 0004: SHA-256 of the MSISDN a request was sent to, known or not.
    phone_hash            BYTEA
);
CREATE INDEX login_requests_pending ON login_requests (user_id, status, expires_at);
CREATE INDEX login_requests_expiry ON login_requests (expires_at);
CREATE UNIQUE INDEX login_requests_ticket ON login_requests (ticket_hash) WHERE ticket_hash IS NOT NULL;
CREATE UNIQUE INDEX login_requests_auth_req ON login_requests (auth_req_id) WHERE auth_req_id IS NOT NULL;
CREATE INDEX login_requests_phone ON login_requests (phone_hash, status, expires_at) WHERE phone_hash IS NOT NULL;
CREATE INDEX login_requests_client ON login_requests (client_id);

CREATE TABLE auth_codes (
    code_hash             BYTEA PRIMARY KEY,
    client_id             TEXT COLLATE "C" NOT NULL REFERENCES sales_units (client_id) ON DELETE CASCADE,
    user_id               TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    redirect_uri          TEXT,
    scopes                BIGINT NOT NULL,
    nonce                 TEXT,
    code_challenge        TEXT,
    code_challenge_method TEXT,
    sid                   TEXT NOT NULL,
    auth_time             BIGINT NOT NULL,
    amr                   TEXT NOT NULL,
    acr                   TEXT,
    auth_req_id           TEXT,
    expires_at            BIGINT NOT NULL,
    redeemed_at           BIGINT
);
CREATE INDEX auth_codes_expiry ON auth_codes (expires_at);
CREATE INDEX auth_codes_user ON auth_codes (user_id);
CREATE INDEX auth_codes_client ON auth_codes (client_id);

-- code_hash gets no key: a token outlives its code (codes are purged an hour after they
-- expire).
CREATE TABLE access_tokens (
    token_hash BYTEA PRIMARY KEY,
    client_id  TEXT COLLATE "C" NOT NULL REFERENCES sales_units (client_id) ON DELETE CASCADE,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    scopes     BIGINT NOT NULL,
    sid        TEXT NOT NULL,
    code_hash  BYTEA,
    expires_at BIGINT NOT NULL
);
CREATE INDEX access_tokens_code ON access_tokens (code_hash);
CREATE INDEX access_tokens_expiry ON access_tokens (expires_at);
CREATE INDEX access_tokens_user ON access_tokens (user_id);
CREATE INDEX access_tokens_client ON access_tokens (client_id);

-- The primary key (user_id, client_id) serves the user's cascade.
CREATE TABLE consents (
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    client_id  TEXT COLLATE "C" NOT NULL REFERENCES sales_units (client_id) ON DELETE CASCADE,
    scopes     BIGINT NOT NULL,
    granted_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, client_id)
);
CREATE INDEX consents_client ON consents (client_id);

CREATE TABLE browsers (
    id           TEXT PRIMARY KEY,
    token_hash   BYTEA NOT NULL UNIQUE,
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    label        TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    last_used_at BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL
);
CREATE INDEX browsers_user ON browsers (user_id);
CREATE INDEX browsers_expiry ON browsers (expires_at);

CREATE TABLE devices (
    id         TEXT PRIMARY KEY,
    token_hash BYTEA NOT NULL UNIQUE,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL
);
CREATE INDEX devices_user ON devices (user_id);

-- 0005: single use, short-lived.
CREATE TABLE activation_codes (
    code_hash  BYTEA PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    expires_at BIGINT NOT NULL
);
CREATE INDEX activation_codes_user ON activation_codes (user_id);
CREATE INDEX activation_codes_expiry ON activation_codes (expires_at);

CREATE TABLE audit_log (
    id        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at        BIGINT NOT NULL,
    event     TEXT NOT NULL,
    user_id   TEXT,
    client_id TEXT,
    detail    TEXT NOT NULL
);
CREATE INDEX audit_log_at ON audit_log (at);

-- 0007: merchant API access tokens, a table of their own (not access_tokens: those are a
-- person's tokens that userinfo accepts; these name only a sales unit).
CREATE TABLE merchant_tokens (
    token_hash BYTEA PRIMARY KEY,
    client_id  TEXT COLLATE "C" NOT NULL REFERENCES sales_units (client_id) ON DELETE CASCADE,
    expires_at BIGINT NOT NULL
);
CREATE INDEX merchant_tokens_client ON merchant_tokens (client_id);
CREATE INDEX merchant_tokens_expiry ON merchant_tokens (expires_at);

-- 0007: webhook registrations. events is a JSON array of event type names (never empty,
-- no duplicates); the limit per sales unit and event is checked, under a lock of the
-- sales unit's registrations, in the statement that inserts. secret is a signing key
-- (every notification is signed with HMAC-SHA256 keyed with it), stored as it is.
CREATE TABLE webhooks (
    id         TEXT COLLATE "C" PRIMARY KEY,
    client_id  TEXT COLLATE "C" NOT NULL REFERENCES sales_units (client_id) ON DELETE CASCADE,
    url        TEXT NOT NULL,
    events     TEXT NOT NULL,
    secret     TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX webhooks_client ON webhooks (client_id, created_at);

-- 0009: partners (the Vipps "partner keys"), the MSNs each may act for (the primary key
-- serves the lookup by partner), and their access tokens, deleted with their partner.
CREATE TABLE partners (
    id          TEXT COLLATE "C" PRIMARY KEY,
    secret_hash BYTEA NOT NULL,
    name        TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);

CREATE TABLE partner_msns (
    partner_id TEXT COLLATE "C" NOT NULL REFERENCES partners (id) ON DELETE CASCADE,
    msn        TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (partner_id, msn)
);

CREATE TABLE partner_tokens (
    token_hash BYTEA PRIMARY KEY,
    partner_id TEXT COLLATE "C" NOT NULL REFERENCES partners (id) ON DELETE CASCADE,
    expires_at BIGINT NOT NULL
);
CREATE INDEX partner_tokens_partner ON partner_tokens (partner_id);
CREATE INDEX partner_tokens_expiry ON partner_tokens (expires_at);
