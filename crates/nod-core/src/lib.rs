//! Nod's domain: sales units, users, scopes, login requests, consent, authorization
//! codes, tokens, pairwise subjects and the validation rules of the OpenID Connect
//! endpoints. No web framework, no database and no clock reads live here: the
//! current time comes in as an argument.

pub mod authorize;
pub mod ciba;
pub mod crypto;
pub mod demo;
pub mod error;
pub mod grant;
pub mod links;
pub mod login;
pub mod msisdn;
pub mod nin;
pub mod params;
pub mod partner;
pub mod pkce;
pub mod requests;
pub mod sales_unit;
pub mod scenario;
pub mod scope;
pub mod signing;
mod stored;
pub mod user;
pub mod userinfo;
pub mod webhook;

/// Seconds since the Unix epoch.
pub type Timestamp = i64;

pub use error::{ErrorCode, OAuthError};
pub use stored::StoredEnum;
