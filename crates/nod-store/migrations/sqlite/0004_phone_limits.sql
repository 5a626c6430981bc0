-- Push-bombing defence on the phone-number form: which number a browser login was sent to
-- (SHA-256 of the MSISDN, known or not), to limit how many wait for one number at once.
-- Keep in step with migrations/postgres.

ALTER TABLE login_requests ADD COLUMN phone_hash BLOB;
CREATE INDEX login_requests_phone ON login_requests (phone_hash, status, expires_at) WHERE phone_hash IS NOT NULL;
