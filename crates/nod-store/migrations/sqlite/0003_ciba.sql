-- Merchant-initiated login (CIBA): the kind of a login request, its auth_req_id (which is
-- useless without the client's credentials, so it is kept as is to notify ping clients),
-- binding message, ping token and last poll; the person's answers to the sales unit's
-- consent questions; and those questions. Keep in step with migrations/postgres.

ALTER TABLE login_requests ADD COLUMN kind TEXT NOT NULL DEFAULT 'browser';
ALTER TABLE login_requests ADD COLUMN auth_req_id TEXT;
ALTER TABLE login_requests ADD COLUMN binding_message TEXT;
ALTER TABLE login_requests ADD COLUMN notification_token TEXT;
ALTER TABLE login_requests ADD COLUMN last_polled_at INTEGER;
ALTER TABLE login_requests ADD COLUMN delegated_answers TEXT;
CREATE UNIQUE INDEX login_requests_auth_req ON login_requests (auth_req_id) WHERE auth_req_id IS NOT NULL;

ALTER TABLE sales_units ADD COLUMN consent_texts TEXT;
