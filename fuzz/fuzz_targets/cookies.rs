//! The `Cookie` header of a browser, read as the server reads it (each `;`-separated
//! cookie parsed and percent-decoded into a jar, as axum-extra's `CookieJar` does), and
//! its signed browser binding (`nod_bid`) and remember-me token (`nod_remember`), under
//! both the plain and the `__Host-` names.
//!
//! Checks: nothing panics; a binding value is accepted only when it is exactly a value
//! Nod signed: the input's bytes also edit a signed value at chosen places, and the edited
//! value verifies if and only if it is unchanged (no second spelling of a signature, no
//! forgery by truncation or padding).
#![no_main]

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use libfuzzer_sys::fuzz_target;
use nod_core::crypto;
use sha2::Sha256;

/// A value signed as `crypto::signed_binding` signs one, with a fixed secret.
fn signed(key: &[u8]) -> String {
    let secret = "Q2sTvTz8YfH3f0m1nHRyVbqk0dwTXIxlRH1aJx8mXWo";
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("any key length");
    mac.update(secret.as_bytes());
    let tag = URL_SAFE_NO_PAD.encode(&mac.finalize().into_bytes()[..16]);
    format!("{secret}.{tag}")
}

fuzz_target!(|data: &[u8]| {
    let key = crypto::binding_key(b"fuzzing pairwise key");
    let valid = signed(&key);
    assert!(crypto::verify_binding(&key, &valid));

    // The header, as the server's cookie jar reads it.
    if let Ok(header) = std::str::from_utf8(data) {
        let mut jar = cookie::CookieJar::new();
        for part in header.split(';') {
            if let Ok(c) = cookie::Cookie::parse_encoded(part.to_owned()) {
                jar.add_original(c);
            }
        }
        for name in ["nod_bid", "__Host-nod_bid"] {
            if let Some(c) = jar.get(name)
                && crypto::verify_binding(&key, c.value())
            {
                assert_eq!(c.value(), valid, "a binding Nod did not sign was accepted");
            }
        }
        for name in ["nod_remember", "__Host-nod_remember"] {
            if let Some(c) = jar.get(name) {
                let _ = crypto::hash_secret(c.value());
            }
        }
    }

    // Edits of a signed value: (position, byte) pairs; a position past the end appends.
    let mut edited = valid.clone().into_bytes();
    for pair in data.chunks_exact(2).take(8) {
        let at = usize::from(pair[0]);
        match at.cmp(&edited.len()) {
            std::cmp::Ordering::Less if pair[1] == 0 => {
                edited.remove(at);
            }
            std::cmp::Ordering::Less => edited[at] = pair[1],
            _ => edited.push(pair[1]),
        }
    }
    if let Ok(edited) = String::from_utf8(edited) {
        assert_eq!(
            crypto::verify_binding(&key, &edited),
            edited == valid,
            "{edited:?} against {valid:?}"
        );
    }
});
