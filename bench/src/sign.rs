//! The ceiling RS256 puts on logins: every login's ID token is one RSA 2048 PKCS#1 v1.5
//! SHA-256 signature, so one core cannot issue more ID tokens per second than this.

use std::time::{Duration, Instant};

use anyhow::anyhow;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeyPair, KeySize};
use aws_lc_rs::signature::RSA_PKCS1_SHA256;
use serde::Serialize;

#[derive(Clone, Copy, Debug, Serialize)]
pub(crate) struct SignResult {
    pub(crate) signatures: u64,
    pub(crate) seconds: f64,
    pub(crate) per_second: f64,
    pub(crate) ms_per_signature: f64,
}

/// Signs a JWT-sized message over and over on the calling thread for about `run`.
pub(crate) fn measure(run: Duration) -> anyhow::Result<SignResult> {
    let key = KeyPair::generate(KeySize::Rsa2048).map_err(|_| anyhow!("RSA key generation"))?;
    let rng = SystemRandom::new();
    // About the size of an ID token's signing input (header and claims, base64url).
    let message = [b'e'; 600];
    let mut signature = vec![0u8; key.public_modulus_len()];
    let started = Instant::now();
    let mut signatures = 0u64;
    while started.elapsed() < run || signatures == 0 {
        key.sign(&RSA_PKCS1_SHA256, &rng, &message, &mut signature)
            .map_err(|_| anyhow!("RSA signing"))?;
        signatures += 1;
    }
    let seconds = started.elapsed().as_secs_f64();
    Ok(SignResult {
        signatures,
        seconds,
        per_second: signatures as f64 / seconds,
        ms_per_signature: seconds * 1000.0 / signatures as f64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_agree_with_each_other() -> anyhow::Result<()> {
        let r = measure(Duration::from_millis(20))?;
        assert!(r.signatures >= 1);
        assert!((r.per_second * r.ms_per_signature - 1000.0).abs() < 1e-6);
        Ok(())
    }
}
