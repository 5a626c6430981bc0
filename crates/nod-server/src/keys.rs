//! Signing keys: RS256 keys generated on first start and kept in the database, the JWKS
//! that publishes them, and signing ID tokens off the async reactor.

use std::sync::Arc;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::{KeyPair, KeySize};
use aws_lc_rs::signature::KeyPair as _;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use nod_core::Timestamp;
use nod_store::{SigningKey, Store};
use serde::Serialize;
use serde_json::{Value, json};
use tokio::sync::RwLock;

/// The keys in use: the one that signs, and the JWKS document with every published key.
pub struct KeyRing {
    inner: RwLock<Arc<Keys>>,
}

struct Keys {
    signing: Option<(String, EncodingKey)>,
    jwks: Value,
}

impl KeyRing {
    /// Loads the stored keys, generating the first one when there is none.
    pub async fn load(store: &dyn Store, now: Timestamp) -> anyhow::Result<Self> {
        let mut stored = store.list_signing_keys().await?;
        if stored.is_empty() {
            let key = tokio::task::spawn_blocking(move || generate_key(now)).await??;
            store.insert_signing_key(&key).await?;
            stored = store.list_signing_keys().await?;
        }
        Ok(Self {
            inner: RwLock::new(Arc::new(build(&stored, now)?)),
        })
    }

    /// Rereads the stored keys (after a rotation).
    pub async fn reload(&self, store: &dyn Store, now: Timestamp) -> anyhow::Result<()> {
        let stored = store.list_signing_keys().await?;
        *self.inner.write().await = Arc::new(build(&stored, now)?);
        Ok(())
    }

    pub async fn jwks(&self) -> Value {
        self.inner.read().await.jwks.clone()
    }

    /// Signs claims as a compact JWS with the active key, on a blocking thread (RSA
    /// signing takes about a millisecond).
    pub async fn sign<T: Serialize + Send + 'static>(&self, claims: T) -> anyhow::Result<String> {
        let keys = self.inner.read().await.clone();
        tokio::task::spawn_blocking(move || {
            let (kid, key) = keys
                .signing
                .as_ref()
                .ok_or_else(|| anyhow::anyhow!("no active signing key"))?;
            let mut header = Header::new(Algorithm::RS256);
            header.kid = Some(kid.clone());
            header.typ = Some("JWT".into());
            Ok(jsonwebtoken::encode(&header, &claims, key)?)
        })
        .await?
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
        .map(|k| -> anyhow::Result<(String, EncodingKey)> {
            let pkcs1 = pkcs1_from_pkcs8(&k.private_der)
                .ok_or_else(|| anyhow::anyhow!("stored key {} is not PKCS#8 RSA", k.kid))?;
            Ok((k.kid.clone(), EncodingKey::from_rsa_der(pkcs1)))
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

/// `rsaEncryption` (RFC 8017 Appendix C).
const RSA_ENCRYPTION: pkcs8::ObjectIdentifier =
    pkcs8::ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");

/// The RSAPrivateKey (PKCS#1) inside a PKCS#8 PrivateKeyInfo, which is what the signer takes.
fn pkcs1_from_pkcs8(der: &[u8]) -> Option<&[u8]> {
    let info = pkcs8::PrivateKeyInfo::try_from(der).ok()?;
    (info.algorithm.oid == RSA_ENCRYPTION).then_some(info.private_key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{DecodingKey, Validation, decode};

    #[test]
    fn generated_keys_sign_tokens_the_jwks_verifies() {
        let key = generate_key(1000).unwrap();
        assert!(key.kid.starts_with("public:"));
        let keys = build(std::slice::from_ref(&key), 1000).unwrap();
        let (kid, encoding) = keys.signing.as_ref().unwrap();
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(kid.clone());
        let token = jsonwebtoken::encode(
            &header,
            &json!({"sub": "x", "exp": 4_000_000_000u64}),
            encoding,
        )
        .unwrap();
        let decoding = DecodingKey::from_rsa_components(&key.public_n, &key.public_e).unwrap();
        let data = decode::<Value>(&token, &decoding, &Validation::new(Algorithm::RS256)).unwrap();
        assert_eq!(data.claims["sub"], "x");
        assert_eq!(keys.jwks["keys"][0]["kid"], key.kid);
    }

    #[test]
    fn der_parsing_refuses_garbage() {
        assert!(pkcs1_from_pkcs8(&[]).is_none());
        assert!(pkcs1_from_pkcs8(&[0x30, 0x82, 0xff]).is_none());
        assert!(pkcs1_from_pkcs8(&[0x04, 0x01, 0x00]).is_none());
        let rng = aws_lc_rs::rand::SystemRandom::new();
        let ec = aws_lc_rs::signature::EcdsaKeyPair::generate_pkcs8(
            &aws_lc_rs::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
            &rng,
        )
        .unwrap();
        assert!(
            pkcs1_from_pkcs8(ec.as_ref()).is_none(),
            "a PKCS#8 key that is not RSA"
        );
    }
}
