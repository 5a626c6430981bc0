-- Registered apps get a name (for the person's list of them), when they were last used,
-- and an expiry that each use pushes on: an app unused for the idle lifetime must be
-- registered again. Apps registered before this get a whole idle lifetime (90 days, the
-- default) from the upgrade. Keep in step with migrations/sqlite.
ALTER TABLE devices ADD COLUMN name TEXT;
ALTER TABLE devices ADD COLUMN last_used_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE devices ADD COLUMN expires_at BIGINT NOT NULL DEFAULT 0;
UPDATE devices SET last_used_at = created_at, expires_at = CAST(extract(epoch FROM now()) AS BIGINT) + 7776000;
CREATE INDEX devices_expires ON devices (expires_at);
