-- Mobile, app-to-app and automatic-return journeys: the single-use ticket of the deep link
-- that opens the app, and the single-use token of an app-to-app resume_uri. Both are stored
-- only as SHA-256 hashes. Keep in step with migrations/postgres.

ALTER TABLE login_requests ADD COLUMN ticket_hash BLOB;
ALTER TABLE login_requests ADD COLUMN resume_hash BLOB;
CREATE UNIQUE INDEX login_requests_ticket ON login_requests (ticket_hash) WHERE ticket_hash IS NOT NULL;
