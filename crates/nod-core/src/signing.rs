//! Signing keys' rules: the JWS algorithms Nod signs ID tokens with, and how long a key
//! stays published in the JWKS once another replaced it.

use serde::{Deserialize, Serialize};

use crate::Timestamp;

/// A JWS algorithm Nod signs with (RFC 7518 §3.1, RFC 8037 §3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum SigningAlg {
    /// RSASSA-PKCS1-v1_5 with SHA-256, a 2048-bit key: what every OpenID Connect client
    /// verifies (OpenID Connect Core §15.1).
    #[default]
    #[serde(rename = "RS256")]
    Rs256,
    /// ECDSA on P-256 with SHA-256; the signature is `r || s` (64 bytes).
    #[serde(rename = "ES256")]
    Es256,
    /// EdDSA with Ed25519.
    #[serde(rename = "EdDSA")]
    EdDsa,
}

impl SigningAlg {
    pub const ALL: [SigningAlg; 3] = [SigningAlg::Rs256, SigningAlg::Es256, SigningAlg::EdDsa];

    /// The `alg` name of the JWS header and the JWK.
    pub fn as_str(self) -> &'static str {
        match self {
            SigningAlg::Rs256 => "RS256",
            SigningAlg::Es256 => "ES256",
            SigningAlg::EdDsa => "EdDSA",
        }
    }

    /// The algorithm of an `alg` name, exactly as written.
    pub fn parse(name: &str) -> Option<SigningAlg> {
        Self::ALL.into_iter().find(|a| a.as_str() == name)
    }
}

impl std::fmt::Display for SigningAlg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Clock differences between the instances and the clients, and the leeway clients give
/// an expired token: a replaced key stays published this much longer than its last
/// token's lifetime.
pub const RETIRE_LEEWAY: i64 = 300;

/// The times of a stored key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyTimes {
    pub created_at: Timestamp,
    /// When it starts signing.
    pub active_from: Timestamp,
    /// When it leaves the JWKS, as stored by the rotation that replaced it.
    pub retired_at: Option<Timestamp>,
}

impl KeyTimes {
    /// Whether `other` comes from a later rotation (created later; of two created in the
    /// same second, the one that signs later).
    fn replaced_by(&self, other: &KeyTimes) -> bool {
        (other.created_at, other.active_from) > (self.created_at, self.active_from)
    }
}

/// Where a key is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyStatus {
    /// Published, signing later.
    Next,
    /// Signing now.
    Signing,
    /// Published, no longer (or never) signing: until its last token has expired.
    Retiring,
    /// No longer published.
    Retired,
}

impl KeyStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyStatus::Next => "next",
            KeyStatus::Signing => "signing",
            KeyStatus::Retiring => "retiring",
            KeyStatus::Retired => "retired",
        }
    }
}

/// The life of every key of a database: when each leaves the JWKS, and which signs when.
///
/// Each rotation stores a key and sets the `retired_at` of the keys before it. The key
/// that signs at a moment is the key of the latest rotation among the published keys
/// whose `active_from` has come. A key leaves the JWKS at its `retired_at`, but never
/// before `keep_after` seconds after a later rotation's key started signing: the last
/// token it signed must verify until it expires, whatever date the rotation stored (it
/// may have known a shorter token lifetime than this instance gives).
#[derive(Debug, Clone)]
pub struct Schedule {
    keys: Vec<KeyTimes>,
    until: Vec<Option<Timestamp>>,
}

impl Schedule {
    pub fn new(keys: Vec<KeyTimes>, keep_after: i64) -> Schedule {
        let until = keys
            .iter()
            .map(|k| {
                let retired_at = k.retired_at?;
                let next = keys
                    .iter()
                    .filter(|other| k.replaced_by(other))
                    .map(|other| other.active_from)
                    .min();
                Some(match next {
                    Some(next) => retired_at.max(next.saturating_add(keep_after)),
                    None => retired_at,
                })
            })
            .collect();
        Schedule { keys, until }
    }

    /// When key `i` leaves the JWKS; `None`: not before a rotation replaces it.
    pub fn published_until(&self, i: usize) -> Option<Timestamp> {
        self.until.get(i).copied().flatten()
    }

    /// Whether key `i` is in the JWKS at `now`.
    pub fn published(&self, i: usize, now: Timestamp) -> bool {
        i < self.keys.len() && self.published_until(i).is_none_or(|until| until > now)
    }

    /// The key that signs at `now`, if any.
    pub fn signer(&self, now: Timestamp) -> Option<usize> {
        (0..self.keys.len())
            .filter(|&i| self.keys[i].active_from <= now && self.published(i, now))
            .max_by_key(|&i| (self.keys[i].created_at, self.keys[i].active_from, i))
    }

    pub fn status(&self, i: usize, now: Timestamp) -> KeyStatus {
        if !self.published(i, now) {
            return KeyStatus::Retired;
        }
        if self.signer(now) == Some(i) {
            return KeyStatus::Signing;
        }
        let k = &self.keys[i];
        let overtaken = self
            .keys
            .iter()
            .any(|other| k.replaced_by(other) && other.active_from <= k.active_from);
        if k.active_from > now && !overtaken {
            KeyStatus::Next
        } else {
            KeyStatus::Retiring
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn algorithms_are_named_as_jose_names_them() {
        for alg in SigningAlg::ALL {
            assert_eq!(SigningAlg::parse(alg.as_str()), Some(alg));
            assert_eq!(
                serde_json::to_value(alg).unwrap(),
                serde_json::json!(alg.as_str())
            );
        }
        assert_eq!(SigningAlg::parse("EdDSA"), Some(SigningAlg::EdDsa));
        assert_eq!(SigningAlg::parse("rs256"), None);
        assert_eq!(SigningAlg::parse("none"), None);
        assert_eq!(SigningAlg::default(), SigningAlg::Rs256);
    }

    fn key(created_at: i64, active_from: i64, retired_at: Option<i64>) -> KeyTimes {
        KeyTimes {
            created_at,
            active_from,
            retired_at,
        }
    }

    #[test]
    fn a_rotation_publishes_the_new_key_first_and_the_old_one_until_its_tokens_expired() {
        // Rotated at 1000: the new key signs from 4600; tokens live 3600 s (+300).
        let keep = 3900;
        let s = Schedule::new(
            vec![key(0, 0, Some(4600 + keep)), key(1000, 4600, None)],
            keep,
        );
        let status = |now| [s.status(0, now), s.status(1, now)];
        assert_eq!(status(1000), [KeyStatus::Signing, KeyStatus::Next]);
        assert_eq!(s.signer(4599), Some(0));
        assert_eq!(status(4600), [KeyStatus::Retiring, KeyStatus::Signing]);
        assert!(s.published(0, 4600 + keep - 1));
        assert_eq!(
            status(4600 + keep),
            [KeyStatus::Retired, KeyStatus::Signing]
        );
        assert_eq!(s.published_until(0), Some(4600 + keep));
        assert_eq!(s.published_until(1), None);
    }

    #[test]
    fn a_stored_date_too_early_for_the_token_lifetime_is_extended() {
        let s = Schedule::new(vec![key(0, 0, Some(210)), key(100, 200, None)], 3900);
        assert_eq!(s.published_until(0), Some(4100));
        let s = Schedule::new(vec![key(0, 0, Some(9000)), key(100, 200, None)], 3900);
        assert_eq!(s.published_until(0), Some(9000));
    }

    #[test]
    fn the_latest_rotation_signs_once_its_time_has_come() {
        let keep = 100;
        // Rotated at 10 (signing from 1000), then at 20 again (signing from 50): the
        // second rotation's key signs from 50, and the first one's never does.
        let s = Schedule::new(
            vec![
                key(0, 0, Some(50 + keep)),
                key(10, 1000, Some(50 + keep)),
                key(20, 50, None),
            ],
            keep,
        );
        assert_eq!(s.signer(20), Some(0));
        assert_eq!(s.status(1, 20), KeyStatus::Retiring, "it will never sign");
        assert_eq!(s.signer(50), Some(2));
        assert_eq!(s.signer(1000), Some(2));
        assert_eq!(s.status(1, 1000), KeyStatus::Retired);
        // Rotated at 10 (from 100), then at 20 (from 5000): the first one's key signs
        // from 100 until the second one's takes over.
        let s = Schedule::new(
            vec![
                key(0, 0, Some(100 + keep)),
                key(10, 100, Some(5000 + keep)),
                key(20, 5000, None),
            ],
            keep,
        );
        assert_eq!(s.status(1, 20), KeyStatus::Next);
        assert_eq!(s.signer(100), Some(1));
        assert_eq!(s.signer(4999), Some(1));
        assert_eq!(s.signer(5000), Some(2));
        assert!(s.published(1, 5000 + keep - 1));
    }

    #[test]
    fn a_retired_key_without_a_successor_signs_nothing() {
        let s = Schedule::new(vec![key(0, 0, Some(10))], 100);
        assert_eq!(s.signer(9), Some(0));
        assert_eq!(s.signer(10), None);
        assert_eq!(s.status(0, 10), KeyStatus::Retired);
        assert!(!s.published(5, 0));
        assert_eq!(Schedule::new(vec![], 100).signer(0), None);
    }
}
