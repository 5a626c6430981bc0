//! Sales units: a merchant's OAuth client, with its redirect URIs, the name people see,
//! its merchant serial number and what it is allowed to do.

use serde::{Deserialize, Serialize};

use crate::Timestamp;
use crate::scope::{Scope, ScopeSet};

/// How a sales unit authenticates at the token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum AuthMethod {
    #[default]
    ClientSecretBasic,
    ClientSecretPost,
}

impl AuthMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ClientSecretBasic => "client_secret_basic",
            Self::ClientSecretPost => "client_secret_post",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "client_secret_basic" => Some(Self::ClientSecretBasic),
            "client_secret_post" => Some(Self::ClientSecretPost),
            _ => None,
        }
    }
}

/// How a sales unit learns that a merchant-initiated login finished.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum CibaMode {
    #[default]
    Poll,
    Ping,
}

impl CibaMode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Poll => "poll",
            Self::Ping => "ping",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "poll" => Some(Self::Poll),
            "ping" => Some(Self::Ping),
            _ => None,
        }
    }
}

crate::stored::stored_enum!(AuthMethod => [ClientSecretBasic, ClientSecretPost]);
crate::stored::stored_enum!(CibaMode => [Poll, Ping]);

/// A stored sales unit. The secret is kept only as its SHA-256 hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SalesUnit {
    pub client_id: String,
    pub secret_hash: Vec<u8>,
    pub name: String,
    pub redirect_uris: Vec<String>,
    pub auth_method: AuthMethod,
    pub msn: Option<String>,
    pub allow_nin: bool,
    pub ciba_mode: CibaMode,
    pub ciba_notification_endpoint: Option<String>,
    pub webhook_url: Option<String>,
    /// The questions a merchant-initiated login asks in the app (the `delegatedConsents`
    /// scope), if the sales unit defines any.
    pub consent_texts: Option<ConsentTexts>,
    pub created_at: Timestamp,
}

/// A sales unit's consent questions, in the `delegatedConsents` shape without the answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConsentTexts {
    pub language: String,
    pub heading: String,
    pub text: String,
    pub terms_description: String,
    pub confirm_consent_button_text: String,
    pub links: ConsentLinks,
    pub consents: Vec<ConsentQuestion>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConsentLinks {
    pub terms_link_text: String,
    pub terms_link_url: String,
    pub privacy_statement_link_text: String,
    pub privacy_statement_link_url: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConsentQuestion {
    pub id: String,
    pub required: bool,
    pub text_displayed_to_user: String,
}

impl ConsentTexts {
    /// Checks a definition an operator gives.
    pub fn validate(&self) -> Result<(), String> {
        if self.consents.is_empty() || self.consents.len() > 20 {
            return Err("consent texts have 1 to 20 consents".into());
        }
        let mut ids: Vec<&str> = self.consents.iter().map(|c| c.id.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        if ids.len() != self.consents.len() || ids.iter().any(|id| id.is_empty() || id.len() > 100)
        {
            return Err("every consent needs its own id of 1 to 100 characters".into());
        }
        Ok(())
    }
}

impl SalesUnit {
    /// The scopes this sales unit may ask for in the browser.
    pub fn allowed_browser_scopes(&self) -> ScopeSet {
        Scope::ALL
            .into_iter()
            .filter(|s| match s {
                Scope::Nin => self.allow_nin,
                Scope::DelegatedConsents => false,
                _ => true,
            })
            .collect()
    }

    pub fn has_redirect_uri(&self, uri: &str) -> bool {
        self.redirect_uris.iter().any(|r| r == uri)
    }
}

/// Checks a redirect URI a sales unit registers: absolute, no fragment, and `https`
/// unless it points at this machine or is an app's own scheme.
pub fn validate_redirect_uri(uri: &str) -> Result<(), String> {
    let parsed =
        url::Url::parse(uri).map_err(|e| format!("'{uri}' is not an absolute URI: {e}"))?;
    if parsed.fragment().is_some() {
        return Err(format!("'{uri}' must not have a fragment"));
    }
    if uri.len() > 2000 {
        return Err("redirect URIs are at most 2000 characters".into());
    }
    Ok(())
}

/// Checks a client id an operator chooses.
pub fn validate_client_id(id: &str) -> Result<(), String> {
    if id.is_empty() || id.len() > 100 {
        return Err("a client id has 1 to 100 characters".into());
    }
    if !id
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    {
        return Err("a client id has only letters, digits, '-', '_' and '.'".into());
    }
    Ok(())
}

/// Operator-chosen secrets must be long enough to be as hard to guess as generated ones.
pub fn validate_chosen_secret(secret: &str) -> Result<(), String> {
    if secret.len() < 32 {
        return Err(
            "a client secret must have at least 32 characters; leave it out to have one generated"
                .into(),
        );
    }
    if secret.len() > 512 || secret.chars().any(|c| c.is_control()) {
        return Err("a client secret has at most 512 printable characters".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_uris_must_be_absolute_without_fragment() {
        assert!(validate_redirect_uri("https://shop.example/cb").is_ok());
        assert!(validate_redirect_uri("myapp://callback").is_ok());
        assert!(validate_redirect_uri("/cb").is_err());
        assert!(validate_redirect_uri("https://shop.example/cb#x").is_err());
    }

    #[test]
    fn chosen_secrets_must_be_long() {
        assert!(validate_chosen_secret("short").is_err());
        assert!(validate_chosen_secret(&"x".repeat(32)).is_ok());
        assert!(validate_client_id("shop-1").is_ok());
        assert!(validate_client_id("shop 1").is_err());
    }
}
