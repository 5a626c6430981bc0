//! Signing keys: RS256 keys generated on first start and kept in the database, the JWKS
//! that publishes them, and signing ID tokens. The private key is parsed once, when the
//! keys are loaded; a signature (about 0.2 ms of CPU) runs on the calling task.

use std::sync::{Arc, PoisonError, RwLock};

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeyPair, KeySize};
use aws_lc_rs::signature::{KeyPair as _, RSA_PKCS1_SHA256, RsaKeyPair};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use nod_core::Timestamp;
use nod_store::{SigningKey, Store};
use serde::Serialize;
use serde_json::{Value, json};

/// The keys in use: the one that signs, and the JWKS document with every published key.
pub struct KeyRing {
    inner: RwLock<Arc<Keys>>,
    rng: SystemRandom,
}

struct Keys {
    signing: Option<Signer>,
    jwks: Value,
}

/// The active key, parsed, with its JWS header already encoded.
struct Signer {
    pair: RsaKeyPair,
    /// `base64url({"alg":"RS256","kid":…,"typ":"JWT"})`.
    header: String,
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
    /// Loads the stored keys, generating the first one when there is none.
    pub async fn load(store: &dyn Store, now: Timestamp) -> anyhow::Result<Self> {
        let mut stored = store.list_signing_keys().await?;
        if stored.is_empty() {
            let key = tokio::task::spawn_blocking(move || generate_key(now)).await??;
            first_key(store, &key).await?;
            stored = store.list_signing_keys().await?;
        }
        Ok(Self {
            inner: RwLock::new(Arc::new(build(&stored, now)?)),
            rng: SystemRandom::new(),
        })
    }

    /// Rereads the stored keys (after a rotation).
    pub async fn reload(&self, store: &dyn Store, now: Timestamp) -> anyhow::Result<()> {
        let stored = store.list_signing_keys().await?;
        let keys = Arc::new(build(&stored, now)?);
        *self.inner.write().unwrap_or_else(PoisonError::into_inner) = keys;
        Ok(())
    }

    fn current(&self) -> Arc<Keys> {
        self.inner
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub fn jwks(&self) -> Value {
        self.current().jwks.clone()
    }

    /// Signs claims as a compact JWS (RS256) with the active key.
    pub fn sign<T: Serialize>(&self, claims: &T) -> anyhow::Result<String> {
        let keys = self.current();
        let signer = keys
            .signing
            .as_ref()
            .ok_or_else(|| anyhow::anyhow!("no active signing key"))?;
        let payload = serde_json::to_vec(claims)?;
        let modulus = signer.pair.public_modulus_len();
        let mut jws = String::with_capacity(
            signer.header.len() + payload.len() * 4 / 3 + modulus * 4 / 3 + 8,
        );
        jws.push_str(&signer.header);
        jws.push('.');
        URL_SAFE_NO_PAD.encode_string(&payload, &mut jws);
        let mut signature = vec![0; modulus];
        signer
            .pair
            .sign(&RSA_PKCS1_SHA256, &self.rng, jws.as_bytes(), &mut signature)
            .map_err(|_| anyhow::anyhow!("RSA signing failed"))?;
        jws.push('.');
        URL_SAFE_NO_PAD.encode_string(&signature, &mut jws);
        Ok(jws)
    }
}

fn build(stored: &[SigningKey], now: Timestamp) -> anyhow::Result<Keys> {
    let published: Vec<Value> = stored
        .iter()
        .filter(|k| k.retired_at.is_none_or(|r| r > now))
        .map(|k| {
            json!({
                "kty": "RSA",
                "use": "sig",
                "alg": k.alg,
                "kid": k.kid,
                "n": k.public_n,
                "e": k.public_e,
            })
        })
        .collect();
    let signing = stored
        .iter()
        .filter(|k| k.active_from <= now && k.retired_at.is_none())
        .max_by_key(|k| k.active_from)
        .map(|k| -> anyhow::Result<Signer> {
            let pair = RsaKeyPair::from_pkcs8(&k.private_der).map_err(|e| {
                anyhow::anyhow!("stored key {} is not a PKCS#8 RSA key: {e}", k.kid)
            })?;
            let header = json!({ "alg": "RS256", "kid": k.kid, "typ": "JWT" });
            Ok(Signer {
                pair,
                header: URL_SAFE_NO_PAD.encode(serde_json::to_vec(&header)?),
            })
        })
        .transpose()?;
    Ok(Keys {
        signing,
        jwks: json!({ "keys": published }),
    })
}

/// A new RSA 2048 key, active at once.
pub(crate) fn generate_key(now: Timestamp) -> anyhow::Result<SigningKey> {
    let pair = KeyPair::generate(KeySize::Rsa2048)
        .map_err(|_| anyhow::anyhow!("RSA key generation failed"))?;
    let der = pair
        .as_der()
        .map_err(|_| anyhow::anyhow!("RSA key encoding failed"))?;
    let public = pair.public_key();
    Ok(SigningKey {
        kid: format!("public:{}", uuid::Uuid::new_v4()),
        alg: "RS256".into(),
        private_der: der.as_ref().to_vec(),
        public_n: URL_SAFE_NO_PAD.encode(public.modulus().big_endian_without_leading_zero()),
        public_e: URL_SAFE_NO_PAD.encode(public.exponent().big_endian_without_leading_zero()),
        created_at: now,
        active_from: now,
        retired_at: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};

    fn ring(stored: &[SigningKey]) -> anyhow::Result<KeyRing> {
        Ok(KeyRing {
            inner: RwLock::new(Arc::new(build(stored, 1000)?)),
            rng: SystemRandom::new(),
        })
    }

    #[test]
    fn generated_keys_sign_tokens_the_jwks_verifies() {
        let key = generate_key(1000).unwrap();
        assert!(key.kid.starts_with("public:"));
        let keys = ring(std::slice::from_ref(&key)).unwrap();
        let token = keys
            .sign(&json!({"sub": "x", "exp": 4_000_000_000u64}))
            .unwrap();
        let header = decode_header(&token).unwrap();
        assert_eq!(header.alg, Algorithm::RS256);
        assert_eq!(header.kid.as_deref(), Some(key.kid.as_str()));
        assert_eq!(header.typ.as_deref(), Some("JWT"));
        let decoding = DecodingKey::from_rsa_components(&key.public_n, &key.public_e).unwrap();
        let data = decode::<Value>(&token, &decoding, &Validation::new(Algorithm::RS256)).unwrap();
        assert_eq!(data.claims["sub"], "x");
        assert_eq!(keys.jwks()["keys"][0]["kid"], key.kid);
    }

    #[test]
    fn a_tampered_token_does_not_verify() {
        let key = generate_key(1000).unwrap();
        let keys = ring(std::slice::from_ref(&key)).unwrap();
        let token = keys
            .sign(&json!({"sub": "x", "exp": 4_000_000_000u64}))
            .unwrap();
        let other = keys
            .sign(&json!({"sub": "y", "exp": 4_000_000_000u64}))
            .unwrap();
        // The payload of one with the signature of the other.
        let parts: Vec<&str> = token.split('.').collect();
        let other_parts: Vec<&str> = other.split('.').collect();
        let forged = format!("{}.{}.{}", parts[0], other_parts[1], parts[2]);
        let decoding = DecodingKey::from_rsa_components(&key.public_n, &key.public_e).unwrap();
        assert!(decode::<Value>(&forged, &decoding, &Validation::new(Algorithm::RS256)).is_err());
    }

    #[test]
    fn stored_keys_that_are_not_rsa_are_refused() {
        let mut key = generate_key(1000).unwrap();
        for garbage in [vec![], vec![0x30, 0x82, 0xff], vec![0x04, 0x01, 0x00]] {
            key.private_der = garbage;
            assert!(ring(std::slice::from_ref(&key)).is_err());
        }
        let rng = SystemRandom::new();
        let ec = aws_lc_rs::signature::EcdsaKeyPair::generate_pkcs8(
            &aws_lc_rs::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
            &rng,
        )
        .unwrap();
        key.private_der = ec.as_ref().to_vec();
        assert!(
            ring(std::slice::from_ref(&key)).is_err(),
            "a PKCS#8 key that is not RSA"
        );
    }

    #[test]
    fn without_an_active_key_nothing_is_signed() {
        let mut key = generate_key(1000).unwrap();
        key.retired_at = Some(1000);
        let keys = ring(std::slice::from_ref(&key)).unwrap();
        assert!(keys.sign(&json!({"sub": "x"})).is_err());
    }
}
