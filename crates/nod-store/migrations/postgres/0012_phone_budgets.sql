-- Push-bombing defence: how many login requests a phone number has been sent lately,
-- however they ended (cancelling each at once does not get past it). One row per number,
-- a budget that refills at an even pace (the generic cell rate algorithm): `spent_until`
-- (milliseconds) is when the budget is whole again; a request may be sent while it is no
-- later than a window minus one request's share from now. Keep in step with
-- migrations/sqlite.
CREATE TABLE phone_budgets (
    phone_hash  BYTEA PRIMARY KEY,
    spent_until BIGINT NOT NULL
);
CREATE INDEX phone_budgets_spent ON phone_budgets (spent_until);
