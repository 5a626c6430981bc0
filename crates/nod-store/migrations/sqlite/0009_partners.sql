-- Partners (the Vipps "partner keys"): integrators with credentials of their own that act
-- for the sales units whose merchant serial numbers they were given. Keep in step with
-- migrations/postgres. (0008 belongs to another change.)

-- A partner: its client id, the SHA-256 hash of its secret (256 random bits, or a chosen
-- secret of at least 32 characters), and the name operators see.
CREATE TABLE partners (
    id          TEXT PRIMARY KEY,
    secret_hash BLOB NOT NULL,
    name        TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);

-- The MSNs a partner may act for, one row each. An MSN need not belong to a sales unit
-- (yet): the sales unit is looked up by MSN on every call. The primary key serves the
-- lookup by partner.
CREATE TABLE partner_msns (
    partner_id TEXT NOT NULL REFERENCES partners (id) ON DELETE CASCADE,
    msn        TEXT NOT NULL,
    PRIMARY KEY (partner_id, msn)
) WITHOUT ROWID;

-- Partners' access tokens from POST /accesstoken/get: opaque, stored only as SHA-256
-- hashes, valid until expires_at, deleted with their partner. A table of their own, not
-- merchant_tokens: those name a sales unit (client_id NOT NULL REFERENCES sales_units)
-- and open the webhooks API; these name a partner and open only the calls partner keys
-- are documented for, so one can never be taken for the other.
CREATE TABLE partner_tokens (
    token_hash BLOB PRIMARY KEY,
    partner_id TEXT NOT NULL REFERENCES partners (id) ON DELETE CASCADE,
    expires_at INTEGER NOT NULL
);
CREATE INDEX partner_tokens_partner ON partner_tokens (partner_id);
CREATE INDEX partner_tokens_expiry ON partner_tokens (expires_at);

-- A partner names a sales unit by its MSN (the Merchant-Serial-Number header, msn at
-- authorize). MSNs are not unique in existing data, so this index is not UNIQUE: the
-- lookup reads at most two rows and refuses an MSN that several sales units share.
CREATE INDEX sales_units_msn ON sales_units (msn);
