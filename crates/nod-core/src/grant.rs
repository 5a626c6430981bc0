//! What a finished login grants: single-use authorization codes and opaque access tokens,
//! both stored only as hashes.

use uuid::Uuid;

use crate::Timestamp;
use crate::login::Amr;
use crate::pkce::ChallengeMethod;
use crate::scope::ScopeSet;

/// An authorization code, as stored (the code itself is known only to the client).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthCode {
    pub code_hash: Vec<u8>,
    pub client_id: String,
    pub user_id: Uuid,
    /// The redirect URI the token request must repeat; `None` for the CIBA redirect grant.
    pub redirect_uri: Option<String>,
    pub scopes: ScopeSet,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<ChallengeMethod>,
    /// The login session id (`sid`).
    pub sid: Uuid,
    pub auth_time: Timestamp,
    pub amr: Amr,
    pub acr: Option<String>,
    pub auth_req_id: Option<String>,
    pub expires_at: Timestamp,
}

/// An access token, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessToken {
    pub token_hash: Vec<u8>,
    pub client_id: String,
    pub user_id: Uuid,
    pub scopes: ScopeSet,
    pub sid: Uuid,
    /// The code it was issued for, so a replayed code revokes it.
    pub code_hash: Option<Vec<u8>>,
    pub expires_at: Timestamp,
}

/// The result of redeeming a code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Redemption {
    /// First use: the code, now spent.
    Redeemed(Box<AuthCode>),
    /// The code had been redeemed before; the tokens issued from it were revoked.
    Replayed,
    /// No such code, or expired.
    Unknown,
}
