-- Signing keys of every algorithm Nod signs with (RS256, ES256, EdDSA): the public key is
-- kept as the members of its JWK, a JSON object (`public_jwk`), instead of RSA's modulus
-- and exponent. Every key stored before is RS256 and keeps its values:
-- {"kty":"RSA","n":…,"e":…}. The table is rebuilt (see 0006) so that the new column has
-- no default. The audit log gets an index for one person's entries, newest first
-- (`nod audit list --user`). Keep in step with migrations/postgres.

CREATE TABLE signing_keys_new (
    kid         TEXT PRIMARY KEY,
    alg         TEXT NOT NULL,
    private_der BLOB NOT NULL, -- PKCS#8
    public_jwk  TEXT NOT NULL, -- JSON: the public JWK's key members
    created_at  INTEGER NOT NULL,
    active_from INTEGER NOT NULL,
    retired_at  INTEGER
);
INSERT INTO signing_keys_new (kid, alg, private_der, public_jwk, created_at, active_from, retired_at)
    SELECT kid, alg, private_der, json_object('kty', 'RSA', 'n', public_n, 'e', public_e),
           created_at, active_from, retired_at
    FROM signing_keys;
DROP TABLE signing_keys;
ALTER TABLE signing_keys_new RENAME TO signing_keys;

CREATE INDEX audit_log_user ON audit_log (user_id, at);
