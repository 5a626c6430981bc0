-- The purge of expired rows finds them by expires_at, a batch at a time: every table it
-- purges has an index on that column but browsers and activation_codes, which it scanned.

CREATE INDEX browsers_expiry ON browsers (expires_at);
CREATE INDEX activation_codes_expiry ON activation_codes (expires_at);
