-- Signing keys of every algorithm Nod signs with (RS256, ES256, EdDSA): the public key is
-- kept as the members of its JWK, a JSON object (`public_jwk`), instead of RSA's modulus
-- and exponent. Every key stored before is RS256 and keeps its values:
-- {"kty":"RSA","n":…,"e":…}. The audit log gets an index for one person's entries,
-- newest first (`nod audit list --user`). Keep in step with migrations/sqlite.

ALTER TABLE signing_keys ADD COLUMN public_jwk TEXT;
UPDATE signing_keys
    SET public_jwk = json_build_object('kty', 'RSA', 'n', public_n, 'e', public_e)::text;
ALTER TABLE signing_keys ALTER COLUMN public_jwk SET NOT NULL;
ALTER TABLE signing_keys DROP COLUMN public_n, DROP COLUMN public_e;

CREATE INDEX audit_log_user ON audit_log (user_id, at);
