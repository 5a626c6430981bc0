-- Whether a user's e-mail address is verified (userinfo's `email_verified`). Users stored
-- before this migration keep what userinfo said about them until now: verified.
-- Numbered 0008: 0007 is taken by another change in progress. Keep in step with
-- migrations/postgres.

ALTER TABLE users ADD COLUMN email_verified INTEGER NOT NULL DEFAULT 1;
