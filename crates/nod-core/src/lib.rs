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
pub mod params;
pub mod pkce;
pub mod sales_unit;
pub mod scope;
pub mod user;
pub mod userinfo;

/// Seconds since the Unix epoch.
pub type Timestamp = i64;

pub use error::{ErrorCode, OAuthError};

/// An enum stored in the database as one of its names. The names live only in `as_str`;
/// reading an unknown name back gives `None`, never a silent default.
pub trait StoredEnum: Sized + Copy + 'static {
    /// Every value, so a stored name can be looked up.
    const ALL: &'static [Self];

    /// The stored (and, where it has one, the wire) name.
    fn as_str(self) -> &'static str;

    /// The value a stored name stands for.
    fn from_stored(s: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|v| v.as_str() == s)
    }
}

/// Implements [`StoredEnum`] from the type's inherent `as_str`.
macro_rules! stored_enum {
    ($ty:ty => [$($variant:ident),+ $(,)?]) => {
        impl $crate::StoredEnum for $ty {
            const ALL: &'static [Self] = &[$(Self::$variant),+];
            fn as_str(self) -> &'static str {
                <$ty>::as_str(self)
            }
        }
    };
}
pub(crate) use stored_enum;
