-- Nod's schema, SQLite. Times are Unix seconds; ids are UUID text; secrets are stored
-- only as SHA-256 hashes (BLOB). Keep in step with migrations/postgres.

CREATE TABLE settings (
    name  TEXT PRIMARY KEY,
    value BLOB NOT NULL
);

CREATE TABLE sales_units (
    client_id                  TEXT PRIMARY KEY,
    secret_hash                BLOB NOT NULL,
    name                       TEXT NOT NULL,
    redirect_uris              TEXT NOT NULL, -- JSON array
    auth_method                TEXT NOT NULL,
    msn                        TEXT,
    allow_nin                  INTEGER NOT NULL,
    ciba_mode                  TEXT NOT NULL,
    ciba_notification_endpoint TEXT,
    webhook_url                TEXT,
    created_at                 INTEGER NOT NULL
);

CREATE TABLE users (
    id           TEXT PRIMARY KEY,
    phone_number TEXT NOT NULL UNIQUE,
    given_name   TEXT NOT NULL,
    family_name  TEXT NOT NULL,
    email        TEXT NOT NULL,
    birthdate    TEXT NOT NULL,
    nin          TEXT NOT NULL,
    addresses    TEXT NOT NULL, -- JSON array, at most three
    active       INTEGER NOT NULL,
    created_at   INTEGER NOT NULL
);

CREATE TABLE signing_keys (
    kid         TEXT PRIMARY KEY,
    alg         TEXT NOT NULL,
    private_der BLOB NOT NULL, -- PKCS#8
    public_n    TEXT NOT NULL, -- base64url
    public_e    TEXT NOT NULL, -- base64url
    created_at  INTEGER NOT NULL,
    active_from INTEGER NOT NULL,
    retired_at  INTEGER
);

CREATE TABLE login_requests (
    id                    TEXT PRIMARY KEY,
    client_id             TEXT NOT NULL,
    redirect_uri          TEXT NOT NULL,
    scopes                INTEGER NOT NULL,
    state                 TEXT NOT NULL,
    nonce                 TEXT,
    code_challenge        TEXT,
    code_challenge_method TEXT,
    flow                  TEXT NOT NULL,
    app_callback_uri      TEXT,
    final_redirect_is_app INTEGER NOT NULL,
    acr_app_auth          INTEGER NOT NULL,
    prompt                TEXT NOT NULL,
    response_mode         TEXT NOT NULL,
    browser_binding       BLOB NOT NULL,
    csrf_token            TEXT NOT NULL,
    status                TEXT NOT NULL,
    user_id               TEXT,
    challenge             INTEGER,
    choices               TEXT,
    remember_browser      INTEGER NOT NULL,
    amr                   TEXT,
    error                 TEXT,
    created_at            INTEGER NOT NULL,
    expires_at            INTEGER NOT NULL,
    auth_time             INTEGER
);
CREATE INDEX login_requests_pending ON login_requests (user_id, status, expires_at);
CREATE INDEX login_requests_expiry ON login_requests (expires_at);

CREATE TABLE auth_codes (
    code_hash             BLOB PRIMARY KEY,
    client_id             TEXT NOT NULL,
    user_id               TEXT NOT NULL,
    redirect_uri          TEXT,
    scopes                INTEGER NOT NULL,
    nonce                 TEXT,
    code_challenge        TEXT,
    code_challenge_method TEXT,
    sid                   TEXT NOT NULL,
    auth_time             INTEGER NOT NULL,
    amr                   TEXT NOT NULL,
    acr                   TEXT,
    auth_req_id           TEXT,
    expires_at            INTEGER NOT NULL,
    redeemed_at           INTEGER
);
CREATE INDEX auth_codes_expiry ON auth_codes (expires_at);

CREATE TABLE access_tokens (
    token_hash BLOB PRIMARY KEY,
    client_id  TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    scopes     INTEGER NOT NULL,
    sid        TEXT NOT NULL,
    code_hash  BLOB,
    expires_at INTEGER NOT NULL
);
CREATE INDEX access_tokens_code ON access_tokens (code_hash);
CREATE INDEX access_tokens_expiry ON access_tokens (expires_at);

CREATE TABLE consents (
    user_id    TEXT NOT NULL,
    client_id  TEXT NOT NULL,
    scopes     INTEGER NOT NULL,
    granted_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, client_id)
);

CREATE TABLE browsers (
    id           TEXT PRIMARY KEY,
    token_hash   BLOB NOT NULL UNIQUE,
    user_id      TEXT NOT NULL,
    label        TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL
);
CREATE INDEX browsers_user ON browsers (user_id);

CREATE TABLE devices (
    id         TEXT PRIMARY KEY,
    token_hash BLOB NOT NULL UNIQUE,
    user_id    TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX devices_user ON devices (user_id);

CREATE TABLE audit_log (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    at        INTEGER NOT NULL,
    event     TEXT NOT NULL,
    user_id   TEXT,
    client_id TEXT,
    detail    TEXT NOT NULL
);
CREATE INDEX audit_log_at ON audit_log (at);
