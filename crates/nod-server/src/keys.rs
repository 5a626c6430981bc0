//! Signing keys: kept in the database, published in the JWKS, signing ID tokens, and
//! rotated (`nod keys rotate`).
//!
//! A key's life: a rotation stores it with the time it starts signing (`active_from`),
//! and every instance publishes it from its next reload of the keys, before it signs.
//! From `active_from` on it signs, and the key it replaced stops signing; that one stays
//! published until the last token it signed has expired, then leaves the JWKS (the rules
//! are [`nod_core::signing::Schedule`]'s). Which key signs and which are published is
//! decided at each request from the time, so every instance that has loaded the keys
//! switches at the same moment; each instance rereads the keys on a timer
//! (`key_reload_interval`), well within the time a new key is published before it signs
//! (`key_publish_before`).
//!
//! The private keys are parsed when the keys are loaded; a signature (about 0.2 ms of CPU
//! for RSA, less for the others) runs on the calling task.

use std::sync::{Arc, PoisonError, RwLock};

use anyhow::{Context, anyhow, bail};
use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeyPair as RsaGenerator, KeySize};
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair as _, RSA_PKCS1_SHA256,
    RsaKeyPair,
};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use nod_core::Timestamp;
use nod_core::signing::{KeyTimes, Schedule, SigningAlg};
use nod_store::{AuditEvent, SigningKey, Store};
use serde::Serialize;
use serde_json::{Map, Value, json};

/// The keys in use: the stored keys, parsed, with when each is published and signs.
pub struct KeyRing {
    inner: RwLock<Arc<Keys>>,
    rng: SystemRandom,
    /// How long a replaced key stays published after it stopped signing.
    keep_after: i64,
}

struct Keys {
    /// The keys as stored when these were built: a reload that reads the same builds
    /// nothing.
    stored: Vec<SigningKey>,
    /// When each stored key is published and signs.
    schedule: Schedule,
    /// The stored keys, parsed, by the same index; `None` for those no longer published
    /// when these were built.
    entries: Vec<Option<Entry>>,
}

impl Keys {
    /// The keys published at `now`.
    fn published(&self, now: Timestamp) -> impl Iterator<Item = &Entry> {
        self.entries
            .iter()
            .enumerate()
            .filter(move |(i, _)| self.schedule.published(*i, now))
            .filter_map(|(_, e)| e.as_ref())
    }
}

struct Entry {
    alg: SigningAlg,
    /// Its JWK as the JWKS publishes it.
    jwk: Value,
    signer: Signer,
}

/// A private key, parsed, with its JWS header already encoded.
struct Signer {
    pair: Pair,
    /// `base64url({"alg":…,"kid":…,"typ":"JWT"})`.
    header: String,
}

enum Pair {
    Rsa(RsaKeyPair),
    Ec(EcdsaKeyPair),
    Ed(Ed25519KeyPair),
}

impl Pair {
    /// Parses a PKCS#8 private key of this algorithm.
    fn parse(alg: SigningAlg, der: &[u8]) -> anyhow::Result<Pair> {
        Ok(match alg {
            SigningAlg::Rs256 => Pair::Rsa(
                RsaKeyPair::from_pkcs8(der).map_err(|e| anyhow!("not a PKCS#8 RSA key: {e}"))?,
            ),
            SigningAlg::Es256 => Pair::Ec(
                EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, der)
                    .map_err(|e| anyhow!("not a PKCS#8 P-256 key: {e}"))?,
            ),
            SigningAlg::EdDsa => Pair::Ed(
                Ed25519KeyPair::from_pkcs8_maybe_unchecked(der)
                    .map_err(|e| anyhow!("not a PKCS#8 Ed25519 key: {e}"))?,
            ),
        })
    }

    /// The members of the public key's JWK (RFC 7518 §6.2, §6.3; RFC 8037 §2).
    fn public_jwk(&self) -> anyhow::Result<Map<String, Value>> {
        let b64 = |bytes: &[u8]| Value::String(URL_SAFE_NO_PAD.encode(bytes));
        let mut jwk = Map::new();
        match self {
            Pair::Rsa(pair) => {
                let public = pair.public_key();
                jwk.insert("kty".into(), "RSA".into());
                jwk.insert(
                    "n".into(),
                    b64(public.modulus().big_endian_without_leading_zero()),
                );
                jwk.insert(
                    "e".into(),
                    b64(public.exponent().big_endian_without_leading_zero()),
                );
            }
            Pair::Ec(pair) => {
                // The uncompressed point: 0x04, then x and y of 32 bytes each.
                let point = pair.public_key().as_ref();
                let (x, y) = match point {
                    [0x04, rest @ ..] if rest.len() == 64 => rest.split_at(32),
                    _ => bail!("a P-256 public key of unexpected form"),
                };
                jwk.insert("kty".into(), "EC".into());
                jwk.insert("crv".into(), "P-256".into());
                jwk.insert("x".into(), b64(x));
                jwk.insert("y".into(), b64(y));
            }
            Pair::Ed(pair) => {
                jwk.insert("kty".into(), "OKP".into());
                jwk.insert("crv".into(), "Ed25519".into());
                jwk.insert("x".into(), b64(pair.public_key().as_ref()));
            }
        }
        Ok(jwk)
    }

    /// The JWS signature of `message` (for ES256 the JOSE form, `r || s`).
    fn sign(&self, rng: &SystemRandom, message: &[u8]) -> anyhow::Result<Vec<u8>> {
        Ok(match self {
            Pair::Rsa(pair) => {
                let mut signature = vec![0; pair.public_modulus_len()];
                pair.sign(&RSA_PKCS1_SHA256, rng, message, &mut signature)
                    .map_err(|_| anyhow!("RSA signing failed"))?;
                signature
            }
            Pair::Ec(pair) => pair
                .sign(rng, message)
                .map_err(|_| anyhow!("ECDSA signing failed"))?
                .as_ref()
                .to_vec(),
            Pair::Ed(pair) => pair.sign(message).as_ref().to_vec(),
        })
    }
}

/// How long an instance waits for the first key another instance claimed to appear.
const FIRST_KEY_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// Stores the first signing key of a database. Instances starting together on an empty
/// database agree on one: the first to claim it (an atomic setting) stores its key, and
/// the others wait for that key rather than storing their own, which would leave each
/// instance signing with a key the others do not publish. If the claimant died before
/// storing it, the key of the one waiting is stored after [`FIRST_KEY_WAIT`].
async fn first_key(store: &dyn Store, key: &SigningKey) -> anyhow::Result<()> {
    let claimed = store
        .setting_or_init("first_signing_key", key.kid.as_bytes())
        .await?;
    if claimed == key.kid.as_bytes() {
        store.insert_signing_key(key).await?;
        return Ok(());
    }
    let started = std::time::Instant::now();
    while started.elapsed() < FIRST_KEY_WAIT {
        if !store.list_signing_keys().await?.is_empty() {
            return Ok(());
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    tracing::warn!("the first signing key was claimed but never stored; storing this one");
    store.insert_signing_key(key).await?;
    Ok(())
}

impl KeyRing {
    /// Loads the stored keys, generating the first one (of `first_alg`, active at once)
    /// when there is none. A key another replaced stays published `keep_after` seconds
    /// after it stopped signing (see [`keep_after`]).
    pub async fn load(
        store: &dyn Store,
        now: Timestamp,
        first_alg: SigningAlg,
        keep_after: i64,
    ) -> anyhow::Result<Self> {
        let mut stored = store.list_signing_keys().await?;
        if stored.is_empty() {
            let key =
                tokio::task::spawn_blocking(move || generate_key(first_alg, now, now)).await??;
            first_key(store, &key).await?;
            stored = store.list_signing_keys().await?;
        }
        Ok(Self {
            inner: RwLock::new(Arc::new(build(stored, now, keep_after)?)),
            rng: SystemRandom::new(),
            keep_after,
        })
    }

    /// Rereads the stored keys; true when they changed. On an error (a key that cannot be
    /// read) the keys in use stay.
    pub async fn reload(&self, store: &dyn Store, now: Timestamp) -> anyhow::Result<bool> {
        let stored = store.list_signing_keys().await?;
        if stored == self.current().stored {
            return Ok(false);
        }
        let keys = Arc::new(build(stored, now, self.keep_after)?);
        *self.inner.write().unwrap_or_else(PoisonError::into_inner) = keys;
        Ok(true)
    }

    fn current(&self) -> Arc<Keys> {
        self.inner
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The JWKS document: every key published now.
    pub fn jwks(&self, now: Timestamp) -> Value {
        let keys = self.current();
        let published: Vec<&Value> = keys.published(now).map(|e| &e.jwk).collect();
        json!({ "keys": published })
    }

    /// The algorithms of the ID tokens a client may see: RS256 (which OpenID Connect
    /// Discovery requires listed), then those of the keys published now.
    pub fn algorithms(&self, now: Timestamp) -> Vec<&'static str> {
        let keys = self.current();
        let mut algs = vec![SigningAlg::Rs256.as_str()];
        for e in keys.published(now) {
            if !algs.contains(&e.alg.as_str()) {
                algs.push(e.alg.as_str());
            }
        }
        algs
    }

    /// Signs claims as a compact JWS with the key that signs at `now`: that of the
    /// latest rotation among the published keys whose `active_from` has come.
    pub fn sign<T: Serialize>(&self, claims: &T, now: Timestamp) -> anyhow::Result<String> {
        let keys = self.current();
        let signer = &keys
            .schedule
            .signer(now)
            .and_then(|i| keys.entries[i].as_ref())
            .ok_or_else(|| anyhow!("no active signing key"))?
            .signer;
        let payload = serde_json::to_vec(claims)?;
        let mut jws = String::with_capacity(signer.header.len() + payload.len() * 4 / 3 + 350 + 8);
        jws.push_str(&signer.header);
        jws.push('.');
        URL_SAFE_NO_PAD.encode_string(&payload, &mut jws);
        let signature = signer.pair.sign(&self.rng, jws.as_bytes())?;
        jws.push('.');
        URL_SAFE_NO_PAD.encode_string(&signature, &mut jws);
        Ok(jws)
    }
}

/// How long a replaced key stays published after it stopped signing: the lifetime of the
/// tokens it signed (ID tokens; access tokens are opaque) and [`RETIRE_LEEWAY`].
///
/// [`RETIRE_LEEWAY`]: nod_core::signing::RETIRE_LEEWAY
pub fn keep_after(id_token_lifetime: i64) -> i64 {
    id_token_lifetime.saturating_add(nod_core::signing::RETIRE_LEEWAY)
}

/// The schedule of stored keys.
pub fn schedule(stored: &[SigningKey], keep_after: i64) -> Schedule {
    let times = stored
        .iter()
        .map(|k| KeyTimes {
            created_at: k.created_at,
            active_from: k.active_from,
            retired_at: k.retired_at,
        })
        .collect();
    Schedule::new(times, keep_after)
}

/// The keys of `stored`, those still published at `now` parsed. A key whose private key
/// does not parse as its algorithm, or whose stored public key is not that of its private
/// key, is an error.
fn build(stored: Vec<SigningKey>, now: Timestamp, keep_after: i64) -> anyhow::Result<Keys> {
    let schedule = schedule(&stored, keep_after);
    let entries = stored
        .iter()
        .enumerate()
        .map(|(i, k)| {
            schedule
                .published(i, now)
                .then(|| entry(k).with_context(|| format!("stored key {}", k.kid)))
                .transpose()
        })
        .collect::<anyhow::Result<_>>()?;
    Ok(Keys {
        stored,
        schedule,
        entries,
    })
}

fn entry(k: &SigningKey) -> anyhow::Result<Entry> {
    let alg = SigningAlg::parse(&k.alg).ok_or_else(|| anyhow!("unknown algorithm {}", k.alg))?;
    let pair = Pair::parse(alg, &k.private_der)?;
    let mut jwk = pair.public_jwk()?;
    let stored: Map<String, Value> =
        serde_json::from_str(&k.public_jwk).context("the public key is not a JSON object")?;
    if stored != jwk {
        bail!("the stored public key is not the private key's");
    }
    jwk.insert("use".into(), "sig".into());
    jwk.insert("alg".into(), alg.as_str().into());
    jwk.insert("kid".into(), k.kid.clone().into());
    let header = json!({ "alg": alg.as_str(), "kid": k.kid, "typ": "JWT" });
    Ok(Entry {
        alg,
        jwk: Value::Object(jwk),
        signer: Signer {
            pair,
            header: URL_SAFE_NO_PAD.encode(serde_json::to_vec(&header)?),
        },
    })
}

/// A new key of `alg` (RSA keys have 2048 bits), created at `now`, signing from
/// `active_from`. RSA key generation takes a while: call it off the async tasks.
pub fn generate_key(
    alg: SigningAlg,
    now: Timestamp,
    active_from: Timestamp,
) -> anyhow::Result<SigningKey> {
    let rng = SystemRandom::new();
    let der = match alg {
        SigningAlg::Rs256 => RsaGenerator::generate(KeySize::Rsa2048)
            .and_then(|pair| pair.as_der().map(|der| der.as_ref().to_vec()))
            .map_err(|_| anyhow!("RSA key generation failed"))?,
        SigningAlg::Es256 => EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            .map_err(|_| anyhow!("P-256 key generation failed"))?
            .as_ref()
            .to_vec(),
        SigningAlg::EdDsa => Ed25519KeyPair::generate_pkcs8(&rng)
            .map_err(|_| anyhow!("Ed25519 key generation failed"))?
            .as_ref()
            .to_vec(),
    };
    let public = Pair::parse(alg, &der)?.public_jwk()?;
    Ok(SigningKey {
        kid: format!("public:{}", uuid::Uuid::new_v4()),
        alg: alg.as_str().into(),
        private_der: der,
        public_jwk: Value::Object(public).to_string(),
        created_at: now,
        active_from,
        retired_at: None,
    })
}

/// What a rotation did: the new key, and when the keys it replaced leave the JWKS.
#[derive(Debug)]
pub struct Rotation {
    pub key: SigningKey,
    pub retire_at: Timestamp,
}

/// Rotates the signing key: stores a new key of `alg` that every instance publishes from
/// its next reload and that signs `publish_before` seconds from `now`, and retires the
/// keys it replaces `keep_after` seconds after that ([`keep_after`]), with the audit
/// entry `key_rotated`, in one transaction. The first key of a database signs at once.
pub async fn rotate(
    store: &dyn Store,
    alg: SigningAlg,
    now: Timestamp,
    publish_before: i64,
    keep_after: i64,
) -> anyhow::Result<Rotation> {
    anyhow::ensure!(
        publish_before >= 0,
        "the time a key is published before it signs cannot be negative"
    );
    let stored = store.list_signing_keys().await?;
    // On a database without keys nothing is published yet that clients could hold: the
    // first key signs at once.
    let active_from = if stored.is_empty() {
        now
    } else {
        now.saturating_add(publish_before)
    };
    // Rotations are ordered by `created_at` (the latest one's key signs once its time
    // has come): one in the same second as the one before counts a second later.
    let created_at = stored
        .iter()
        .map(|k| k.created_at.saturating_add(1))
        .fold(now, i64::max);
    let key =
        tokio::task::spawn_blocking(move || generate_key(alg, created_at, active_from)).await??;
    let retire_at = active_from.saturating_add(keep_after);
    let detail = format!("{} {}", key.kid, key.alg);
    let audit = AuditEvent {
        at: now,
        event: "key_rotated",
        user_id: None,
        client_id: None,
        detail: &detail,
    };
    store.rotate_signing_key(&key, retire_at, &audit).await?;
    Ok(Rotation { key, retire_at })
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::jwk::JwkSet;
    use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};

    const KEEP: i64 = 3900;

    fn ring(stored: Vec<SigningKey>, now: Timestamp) -> anyhow::Result<KeyRing> {
        Ok(KeyRing {
            inner: RwLock::new(Arc::new(build(stored, now, KEEP)?)),
            rng: SystemRandom::new(),
            keep_after: KEEP,
        })
    }

    fn claims() -> Value {
        json!({"sub": "x", "exp": 4_000_000_000u64})
    }

    /// Verifies a token as a client would: the key its header names, from the JWKS.
    fn verify(token: &str, jwks: &Value) -> Result<Value, String> {
        let header = decode_header(token).map_err(|e| e.to_string())?;
        let set: JwkSet = serde_json::from_value(jwks.clone()).map_err(|e| e.to_string())?;
        let kid = header.kid.ok_or("no kid")?;
        let jwk = set.find(&kid).ok_or("the kid is not in the JWKS")?;
        let key = DecodingKey::from_jwk(jwk).map_err(|e| e.to_string())?;
        let data = decode::<Value>(token, &key, &Validation::new(header.alg))
            .map_err(|e| e.to_string())?;
        Ok(data.claims)
    }

    #[test]
    fn each_algorithm_signs_tokens_its_jwks_verifies() {
        for (alg, expected) in [
            (SigningAlg::Rs256, Algorithm::RS256),
            (SigningAlg::Es256, Algorithm::ES256),
            (SigningAlg::EdDsa, Algorithm::EdDSA),
        ] {
            let key = generate_key(alg, 1000, 1000).unwrap();
            assert!(key.kid.starts_with("public:"));
            assert_eq!(key.alg, alg.as_str());
            let keys = ring(vec![key.clone()], 1000).unwrap();
            let token = keys.sign(&claims(), 1000).unwrap();
            let header = decode_header(&token).unwrap();
            assert_eq!(header.alg, expected);
            assert_eq!(header.kid.as_deref(), Some(key.kid.as_str()));
            assert_eq!(header.typ.as_deref(), Some("JWT"));
            let jwks = keys.jwks(1000);
            assert_eq!(verify(&token, &jwks).unwrap()["sub"], "x", "{alg}");
            assert_eq!(jwks["keys"][0]["alg"], alg.as_str());
            assert_eq!(jwks["keys"][0]["use"], "sig");
            assert!(
                jwks["keys"][0].get("d").is_none(),
                "no private member in the JWKS"
            );
            if alg == SigningAlg::Es256 {
                // JOSE's r || s, not DER.
                let signature = token.rsplit('.').next().unwrap();
                assert_eq!(URL_SAFE_NO_PAD.decode(signature).unwrap().len(), 64);
            }
            // The same key read back from the store signs the same way.
            let again = ring(vec![key], 1000).unwrap();
            assert!(verify(&again.sign(&claims(), 1000).unwrap(), &jwks).is_ok());
        }
    }

    #[test]
    fn a_tampered_token_does_not_verify() {
        for alg in SigningAlg::ALL {
            let key = generate_key(alg, 1000, 1000).unwrap();
            let keys = ring(vec![key], 1000).unwrap();
            let token = keys.sign(&claims(), 1000).unwrap();
            let other = keys
                .sign(&json!({"sub": "y", "exp": 4_000_000_000u64}), 1000)
                .unwrap();
            // The payload of one with the signature of the other.
            let parts: Vec<&str> = token.split('.').collect();
            let other_parts: Vec<&str> = other.split('.').collect();
            let forged = format!("{}.{}.{}", parts[0], other_parts[1], parts[2]);
            assert!(verify(&forged, &keys.jwks(1000)).is_err(), "{alg}");
        }
    }

    #[test]
    fn a_new_key_is_published_before_it_signs_and_the_old_one_until_its_tokens_expire() {
        let old = generate_key(SigningAlg::Rs256, 0, 0).unwrap();
        let mut replaced = old.clone();
        let new = generate_key(SigningAlg::Es256, 1000, 4600).unwrap();
        replaced.retired_at = Some(4600 + KEEP);
        let keys = ring(vec![replaced, new.clone()], 1000).unwrap();
        let kids = |now| -> Vec<String> {
            keys.jwks(now)["keys"]
                .as_array()
                .unwrap()
                .iter()
                .map(|k| k["kid"].as_str().unwrap().to_owned())
                .collect()
        };
        let signer = |now| {
            decode_header(keys.sign(&claims(), now).unwrap())
                .unwrap()
                .kid
        };

        assert_eq!(kids(1000), [old.kid.clone(), new.kid.clone()]);
        assert_eq!(keys.algorithms(1000), ["RS256", "ES256"]);
        assert_eq!(signer(1000).as_deref(), Some(old.kid.as_str()));
        assert_eq!(signer(4599).as_deref(), Some(old.kid.as_str()));
        let last_old_token = keys.sign(&claims(), 4599).unwrap();
        assert_eq!(signer(4600).as_deref(), Some(new.kid.as_str()));
        assert!(verify(&last_old_token, &keys.jwks(4600 + KEEP - 1)).is_ok());
        assert_eq!(kids(4600 + KEEP), std::slice::from_ref(&new.kid));
        assert!(verify(&last_old_token, &keys.jwks(4600 + KEEP)).is_err());
        assert_eq!(keys.algorithms(4600 + KEEP), ["RS256", "ES256"]);
        assert_eq!(signer(4600 + KEEP).as_deref(), Some(new.kid.as_str()));
    }

    #[test]
    fn a_replaced_key_stays_its_tokens_lifetime_whatever_date_was_stored() {
        let mut old = generate_key(SigningAlg::EdDsa, 0, 0).unwrap();
        let new = generate_key(SigningAlg::Rs256, 100, 200).unwrap();
        // Retired by a rotation that knew a shorter lifetime.
        old.retired_at = Some(210);
        let keys = ring(vec![old, new], 100).unwrap();
        assert_eq!(
            keys.jwks(200 + KEEP - 1)["keys"].as_array().unwrap().len(),
            2
        );
        assert_eq!(keys.jwks(200 + KEEP)["keys"].as_array().unwrap().len(), 1);
    }

    #[test]
    fn keys_no_longer_published_are_not_even_read() {
        let mut gone = generate_key(SigningAlg::Rs256, 0, 0).unwrap();
        gone.private_der = vec![1, 2, 3];
        gone.retired_at = Some(50);
        let new = generate_key(SigningAlg::Es256, 0, 10).unwrap();
        let keys = ring(vec![gone, new.clone()], 10 + KEEP).unwrap();
        assert_eq!(keys.jwks(10 + KEEP)["keys"][0]["kid"], new.kid.as_str());
    }

    #[test]
    fn stored_keys_that_do_not_match_their_algorithm_are_refused() {
        let mut key = generate_key(SigningAlg::Rs256, 1000, 1000).unwrap();
        for garbage in [vec![], vec![0x30, 0x82, 0xff], vec![0x04, 0x01, 0x00]] {
            key.private_der = garbage;
            assert!(ring(vec![key.clone()], 1000).is_err());
        }
        // Each algorithm's key, stored under another algorithm's name.
        for (stored_as, actual) in [
            (SigningAlg::Rs256, SigningAlg::Es256),
            (SigningAlg::Es256, SigningAlg::EdDsa),
            (SigningAlg::EdDsa, SigningAlg::Es256),
            (SigningAlg::Es256, SigningAlg::Rs256),
        ] {
            let mut key = generate_key(actual, 1000, 1000).unwrap();
            key.alg = stored_as.as_str().into();
            assert!(
                ring(vec![key], 1000).is_err(),
                "{actual} stored as {stored_as}"
            );
        }
        let mut key = generate_key(SigningAlg::Es256, 1000, 1000).unwrap();
        key.alg = "none".into();
        assert!(ring(vec![key], 1000).is_err(), "an unknown algorithm");
    }

    #[test]
    fn a_stored_public_key_that_is_not_the_private_keys_is_refused() {
        let mut key = generate_key(SigningAlg::Es256, 1000, 1000).unwrap();
        let other = generate_key(SigningAlg::Es256, 1000, 1000).unwrap();
        key.public_jwk = other.public_jwk;
        assert!(ring(vec![key.clone()], 1000).is_err());
        key.public_jwk = "not json".into();
        assert!(ring(vec![key], 1000).is_err());
    }

    #[test]
    fn without_an_active_key_nothing_is_signed() {
        let mut key = generate_key(SigningAlg::Rs256, 1000, 1000).unwrap();
        key.retired_at = Some(1000);
        let keys = ring(vec![key], 1000).unwrap();
        assert!(keys.sign(&json!({"sub": "x"}), 1000).is_err());
        let pending = generate_key(SigningAlg::Rs256, 1000, 2000).unwrap();
        let keys = ring(vec![pending], 1000).unwrap();
        assert!(
            keys.sign(&json!({"sub": "x"}), 1999).is_err(),
            "not before it is active"
        );
        assert!(keys.sign(&json!({"sub": "x"}), 2000).is_ok());
    }
}
