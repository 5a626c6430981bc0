//! Random secrets, their hashes, and the derived values of the protocol: pairwise
//! subjects and `at_hash`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// SHA-256 of a secret, the form in which random secrets are stored. A fast hash is
/// right here: every secret hashed with it carries 256 bits of randomness.
pub type SecretHash = [u8; 32];

/// A new random secret: 256 bits, base64url without padding (43 characters).
pub fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Letters of activation codes: Crockford's base32, no I, L, O or U to misread.
const CODE_ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// A new activation code for a person to type into the app: 60 random bits as
/// `XXXX-XXXX-XXXX`. Single use and short-lived, so this is plenty.
pub fn activation_code() -> String {
    let mut rng = rand::rng();
    let mut code = String::with_capacity(14);
    for i in 0..12 {
        if i > 0 && i % 4 == 0 {
            code.push('-');
        }
        let index = (rng.next_u32() % 32) as usize;
        code.push(char::from(CODE_ALPHABET[index]));
    }
    code
}

/// An activation code as typed (any case, with or without dashes and spaces) in its
/// canonical form; `None` when it cannot be one.
pub fn normalize_activation_code(typed: &str) -> Option<String> {
    let code: String = typed
        .chars()
        .filter(|c| !matches!(c, '-' | ' '))
        .map(|c| c.to_ascii_uppercase())
        .collect();
    (code.len() == 12 && code.bytes().all(|b| CODE_ALPHABET.contains(&b))).then_some(code)
}

/// The stored form of a secret.
pub fn hash_secret(secret: &str) -> SecretHash {
    Sha256::digest(secret.as_bytes()).into()
}

/// Compares a presented secret with a stored hash in constant time.
pub fn verify_secret(secret: &str, hash: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    hash_secret(secret).as_slice().ct_eq(hash).into()
}

/// The pairwise subject of a user at a sales unit: a UUID derived with HMAC-SHA256 from
/// the installation's pairwise key, so it is stable forever and differs per sales unit.
pub fn pairwise_subject(key: &[u8], client_id: &str, user_id: Uuid) -> Uuid {
    // HMAC accepts keys of any length, so `new_from_slice` cannot fail.
    let mut mac = match Hmac::<Sha256>::new_from_slice(key) {
        Ok(mac) => mac,
        Err(_) => return Uuid::nil(),
    };
    mac.update(client_id.as_bytes());
    mac.update(&[0]);
    mac.update(user_id.as_bytes());
    let digest = mac.finalize().into_bytes();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_custom_bytes(bytes).into_uuid()
}

/// The key that signs browser binding values, derived from the installation's pairwise
/// key (the same for every instance) for this one purpose.
pub fn binding_key(pairwise_key: &[u8]) -> [u8; 32] {
    mac(pairwise_key, &[b"nod browser binding"])
}

/// A new browser binding value: a random secret, a dot, and a MAC of the secret under
/// `key` (128 bits), so that Nod recognizes the values it issued and adopts no other.
pub fn signed_binding(key: &[u8]) -> String {
    let secret = random_secret();
    let tag = URL_SAFE_NO_PAD.encode(&mac(key, &[secret.as_bytes()])[..16]);
    format!("{secret}.{tag}")
}

/// Whether a browser binding value is one [`signed_binding`] made with `key` (in
/// constant time).
pub fn verify_binding(key: &[u8], value: &str) -> bool {
    use subtle::ConstantTimeEq;
    let Some((secret, tag)) = value.split_once('.') else {
        return false;
    };
    let Ok(tag) = URL_SAFE_NO_PAD.decode(tag) else {
        return false;
    };
    secret.len() == 43 && tag.len() == 16 && mac(key, &[secret.as_bytes()])[..16].ct_eq(&tag).into()
}

/// HMAC-SHA256 of the parts, one after another.
fn mac(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    // HMAC accepts keys of any length, so `new_from_slice` cannot fail.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) else {
        return [0; 32];
    };
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

/// `at_hash` (OpenID Connect Core §3.1.3.6) for an RS256-signed ID token.
pub fn at_hash(access_token: &str) -> String {
    let digest = Sha256::digest(access_token.as_bytes());
    URL_SAFE_NO_PAD.encode(&digest[..16])
}

/// The S256 code challenge of a PKCE verifier (RFC 7636 §4.2).
pub fn s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binding_values_are_recognized_only_with_their_key() {
        let key = binding_key(b"pairwise");
        let value = signed_binding(&key);
        assert!(verify_binding(&key, &value));
        assert!(!verify_binding(&binding_key(b"another"), &value));
        let (secret, _) = value.split_once('.').unwrap();
        for forged in [
            secret.to_owned(),
            format!("{secret}."),
            format!("{secret}.AAAAAAAAAAAAAAAAAAAAAA"),
            format!("x{value}"),
            value.replace('.', ""),
            String::new(),
            "a.b".to_owned(),
        ] {
            assert!(!verify_binding(&key, &forged), "{forged}");
        }
        assert_ne!(signed_binding(&key), value, "each value is new");
    }

    #[test]
    fn secrets_are_long_and_distinct() {
        let a = random_secret();
        let b = random_secret();
        assert_eq!(a.len(), 43);
        assert_ne!(a, b);
        assert!(verify_secret(&a, &hash_secret(&a)));
        assert!(!verify_secret(&b, &hash_secret(&a)));
        assert!(!verify_secret(&a, &[0u8; 3]));
    }

    #[test]
    fn activation_codes_are_typeable() {
        let code = activation_code();
        assert_eq!(code.len(), 14);
        let canonical = normalize_activation_code(&code).unwrap();
        assert_eq!(
            normalize_activation_code(&code.to_lowercase().replace('-', " ")).as_deref(),
            Some(canonical.as_str())
        );
        assert!(
            normalize_activation_code("ABCD-EFGH-IJKL").is_none(),
            "I and L are not in the alphabet"
        );
        assert!(normalize_activation_code("ABC").is_none());
        assert_ne!(activation_code(), code);
    }

    #[test]
    fn pairwise_subjects_differ_per_client_and_are_stable() {
        let user = Uuid::new_v4();
        let a = pairwise_subject(b"key", "client-a", user);
        assert_eq!(a, pairwise_subject(b"key", "client-a", user));
        assert_ne!(a, pairwise_subject(b"key", "client-b", user));
        assert_ne!(a, pairwise_subject(b"other", "client-a", user));
    }

    #[test]
    fn s256_matches_rfc7636_appendix_b() {
        assert_eq!(
            s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }
}
