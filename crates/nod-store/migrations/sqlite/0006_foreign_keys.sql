-- Foreign keys with ON DELETE CASCADE: deleting a user or a sales unit deletes everything
-- tied to them (login requests, codes, tokens, consents, browsers, devices, activation
-- codes) in the database itself, so no caller has to remember a list of tables.
-- audit_log gets none: the security log outlives the users and sales units it names.
-- Keep in step with migrations/postgres.
--
-- SQLite cannot add a foreign key to an existing table, so each CHILD table is rebuilt
-- (https://www.sqlite.org/lang_altertable.html#otheralter): create x_new with every
-- column of migrations 0001-0005 and the keys, copy the rows whose parents exist (rows
-- whose user or sales unit is already gone are dropped: they could never be used), drop
-- x, rename x_new to x, and recreate x's indexes. The parents (users, sales_units) are
-- not rebuilt, so nothing that refers to them changes. The connection runs with
-- foreign_keys on; no table refers to a child table, so dropping one cascades nowhere.
-- The migrator runs this file in one transaction: it applies entirely or not at all.
--
-- Each foreign key column also gets an index (where no other index starts with it) so a
-- cascading delete does not scan the child table.

-- login_requests: user_id is NULL until the request is sent (and stays NULL for a number
-- no user has).
CREATE TABLE login_requests_new (
    id                    TEXT PRIMARY KEY,
    client_id             TEXT NOT NULL REFERENCES sales_units (client_id) ON DELETE CASCADE,
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
    user_id               TEXT REFERENCES users (id) ON DELETE CASCADE,
    challenge             INTEGER,
    choices               TEXT,
    remember_browser      INTEGER NOT NULL,
    amr                   TEXT,
    error                 TEXT,
    created_at            INTEGER NOT NULL,
    expires_at            INTEGER NOT NULL,
    auth_time             INTEGER,
    -- 0002
    ticket_hash           BLOB,
    resume_hash           BLOB,
    -- 0003
    kind                  TEXT NOT NULL DEFAULT 'browser',
    auth_req_id           TEXT,
    binding_message       TEXT,
    notification_token    TEXT,
    last_polled_at        INTEGER,
    delegated_answers     TEXT,
    -- 0004
    phone_hash            BLOB
);
INSERT INTO login_requests_new (
    id, client_id, redirect_uri, scopes, state, nonce, code_challenge, code_challenge_method,
    flow, app_callback_uri, final_redirect_is_app, acr_app_auth, prompt, response_mode,
    browser_binding, csrf_token, status, user_id, challenge, choices, remember_browser, amr,
    error, created_at, expires_at, auth_time, ticket_hash, resume_hash, kind, auth_req_id,
    binding_message, notification_token, last_polled_at, delegated_answers, phone_hash
)
SELECT
    id, client_id, redirect_uri, scopes, state, nonce, code_challenge, code_challenge_method,
    flow, app_callback_uri, final_redirect_is_app, acr_app_auth, prompt, response_mode,
    browser_binding, csrf_token, status, user_id, challenge, choices, remember_browser, amr,
    error, created_at, expires_at, auth_time, ticket_hash, resume_hash, kind, auth_req_id,
    binding_message, notification_token, last_polled_at, delegated_answers, phone_hash
FROM login_requests
WHERE client_id IN (SELECT client_id FROM sales_units)
  AND (user_id IS NULL OR user_id IN (SELECT id FROM users));
DROP TABLE login_requests;
ALTER TABLE login_requests_new RENAME TO login_requests;
CREATE INDEX login_requests_pending ON login_requests (user_id, status, expires_at);
CREATE INDEX login_requests_expiry ON login_requests (expires_at);
CREATE UNIQUE INDEX login_requests_ticket ON login_requests (ticket_hash) WHERE ticket_hash IS NOT NULL;
CREATE UNIQUE INDEX login_requests_auth_req ON login_requests (auth_req_id) WHERE auth_req_id IS NOT NULL;
CREATE INDEX login_requests_phone ON login_requests (phone_hash, status, expires_at) WHERE phone_hash IS NOT NULL;
CREATE INDEX login_requests_client ON login_requests (client_id);

-- auth_codes
CREATE TABLE auth_codes_new (
    code_hash             BLOB PRIMARY KEY,
    client_id             TEXT NOT NULL REFERENCES sales_units (client_id) ON DELETE CASCADE,
    user_id               TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
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
INSERT INTO auth_codes_new (
    code_hash, client_id, user_id, redirect_uri, scopes, nonce, code_challenge,
    code_challenge_method, sid, auth_time, amr, acr, auth_req_id, expires_at, redeemed_at
)
SELECT
    code_hash, client_id, user_id, redirect_uri, scopes, nonce, code_challenge,
    code_challenge_method, sid, auth_time, amr, acr, auth_req_id, expires_at, redeemed_at
FROM auth_codes
WHERE client_id IN (SELECT client_id FROM sales_units)
  AND user_id IN (SELECT id FROM users);
DROP TABLE auth_codes;
ALTER TABLE auth_codes_new RENAME TO auth_codes;
CREATE INDEX auth_codes_expiry ON auth_codes (expires_at);
CREATE INDEX auth_codes_user ON auth_codes (user_id);
CREATE INDEX auth_codes_client ON auth_codes (client_id);

-- access_tokens: code_hash gets no key, a token outlives its code (codes are purged an
-- hour after they expire).
CREATE TABLE access_tokens_new (
    token_hash BLOB PRIMARY KEY,
    client_id  TEXT NOT NULL REFERENCES sales_units (client_id) ON DELETE CASCADE,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    scopes     INTEGER NOT NULL,
    sid        TEXT NOT NULL,
    code_hash  BLOB,
    expires_at INTEGER NOT NULL
);
INSERT INTO access_tokens_new (token_hash, client_id, user_id, scopes, sid, code_hash, expires_at)
SELECT token_hash, client_id, user_id, scopes, sid, code_hash, expires_at
FROM access_tokens
WHERE client_id IN (SELECT client_id FROM sales_units)
  AND user_id IN (SELECT id FROM users);
DROP TABLE access_tokens;
ALTER TABLE access_tokens_new RENAME TO access_tokens;
CREATE INDEX access_tokens_code ON access_tokens (code_hash);
CREATE INDEX access_tokens_expiry ON access_tokens (expires_at);
CREATE INDEX access_tokens_user ON access_tokens (user_id);
CREATE INDEX access_tokens_client ON access_tokens (client_id);

-- consents: the primary key (user_id, client_id) serves the user's cascade.
CREATE TABLE consents_new (
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    client_id  TEXT NOT NULL REFERENCES sales_units (client_id) ON DELETE CASCADE,
    scopes     INTEGER NOT NULL,
    granted_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, client_id)
);
INSERT INTO consents_new (user_id, client_id, scopes, granted_at)
SELECT user_id, client_id, scopes, granted_at
FROM consents
WHERE client_id IN (SELECT client_id FROM sales_units)
  AND user_id IN (SELECT id FROM users);
DROP TABLE consents;
ALTER TABLE consents_new RENAME TO consents;
CREATE INDEX consents_client ON consents (client_id);

-- browsers
CREATE TABLE browsers_new (
    id           TEXT PRIMARY KEY,
    token_hash   BLOB NOT NULL UNIQUE,
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    label        TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL
);
INSERT INTO browsers_new (id, token_hash, user_id, label, created_at, last_used_at, expires_at)
SELECT id, token_hash, user_id, label, created_at, last_used_at, expires_at
FROM browsers
WHERE user_id IN (SELECT id FROM users);
DROP TABLE browsers;
ALTER TABLE browsers_new RENAME TO browsers;
CREATE INDEX browsers_user ON browsers (user_id);

-- devices
CREATE TABLE devices_new (
    id         TEXT PRIMARY KEY,
    token_hash BLOB NOT NULL UNIQUE,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL
);
INSERT INTO devices_new (id, token_hash, user_id, created_at)
SELECT id, token_hash, user_id, created_at
FROM devices
WHERE user_id IN (SELECT id FROM users);
DROP TABLE devices;
ALTER TABLE devices_new RENAME TO devices;
CREATE INDEX devices_user ON devices (user_id);

-- activation_codes
CREATE TABLE activation_codes_new (
    code_hash  BLOB PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    expires_at INTEGER NOT NULL
);
INSERT INTO activation_codes_new (code_hash, user_id, expires_at)
SELECT code_hash, user_id, expires_at
FROM activation_codes
WHERE user_id IN (SELECT id FROM users);
DROP TABLE activation_codes;
ALTER TABLE activation_codes_new RENAME TO activation_codes;
CREATE INDEX activation_codes_user ON activation_codes (user_id);
