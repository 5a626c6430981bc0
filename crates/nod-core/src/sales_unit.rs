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
    /// Where the Login API's own webhook (`CONSENT_REVOKED`) is POSTed: an absolute
    /// `http` or `https` URL.
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
    pub fn validate(&self) -> Result<(), SalesUnitError> {
        if self.consents.is_empty() || self.consents.len() > 20 {
            return Err(SalesUnitError::ConsentCount);
        }
        let mut ids: Vec<&str> = self.consents.iter().map(|c| c.id.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        if ids.len() != self.consents.len() || ids.iter().any(|id| id.is_empty() || id.len() > 100)
        {
            return Err(SalesUnitError::ConsentIds);
        }
        Ok(())
    }
}

/// Why a sales unit, or a secret chosen for one, cannot be stored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SalesUnitError {
    #[error("a client id has 1 to 100 characters: letters, digits, '-', '_' and '.'")]
    ClientId,
    #[error("a sales unit name has 1 to 100 characters")]
    Name,
    #[error("a sales unit needs at least one redirect URI")]
    NoRedirectUri,
    #[error("redirect URI '{uri}' {problem}")]
    RedirectUri { uri: String, problem: UriProblem },
    #[error("ciba_mode ping needs a ciba_notification_endpoint")]
    PingWithoutEndpoint,
    #[error("ciba_notification_endpoint '{uri}' {problem}")]
    NotificationEndpoint { uri: String, problem: UriProblem },
    #[error("webhook_url '{uri}' {problem}")]
    WebhookUrl { uri: String, problem: UriProblem },
    #[error("a merchant serial number is 1 to 20 digits")]
    Msn,
    #[error("consent texts have 1 to 20 consents")]
    ConsentCount,
    #[error("every consent needs its own id of 1 to 100 characters")]
    ConsentIds,
    #[error("a client secret must have at least 32 characters; leave it out to have one generated")]
    SecretTooShort,
    #[error("a client secret has at most 512 printable characters")]
    SecretInvalid,
}

/// What is wrong with a URI a sales unit registers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum UriProblem {
    #[error("is not an absolute URI")]
    NotAbsolute,
    #[error("must not have a fragment")]
    Fragment,
    #[error("is longer than 2000 characters")]
    TooLong,
    #[error("must be an http or https URL (Nod POSTs to it)")]
    NotHttp,
    #[error("has a scheme a browser must never be sent to (javascript:, data:, file:, …)")]
    DangerousScheme,
    #[error("must be https, or http to this machine only (localhost, 127.0.0.1, [::1])")]
    PlainHttp,
}

/// Schemes a redirect URI may never have: a browser sent there runs the URL as code or
/// shows a local file.
const DANGEROUS_SCHEMES: &[&str] = &["javascript", "data", "vbscript", "file", "about", "blob"];

/// Checks a redirect URI: as [`check_uri`]; `https`, `http` to the loopback interface only
/// (RFC 8252 §7.3), or an app's own scheme (`myapp://callback`), never one of
/// [`DANGEROUS_SCHEMES`] (OAuth 2.0 Security BCP, RFC 9700 §4.1 and §2.6).
fn check_redirect_uri(uri: &str) -> Result<(), UriProblem> {
    check_uri(uri)?;
    let parsed = url::Url::parse(uri).map_err(|_| UriProblem::NotAbsolute)?;
    match parsed.scheme() {
        scheme if DANGEROUS_SCHEMES.contains(&scheme) => Err(UriProblem::DangerousScheme),
        "http" if !is_loopback(parsed.host()) => Err(UriProblem::PlainHttp),
        _ => Ok(()),
    }
}

/// `localhost`, `127.0.0.0/8` or `[::1]`.
fn is_loopback(host: Option<url::Host<&str>>) -> bool {
    match host {
        Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// Checks a URI a sales unit registers: absolute, without a fragment, at most 2000
/// characters.
fn check_uri(uri: &str) -> Result<(), UriProblem> {
    if uri.len() > 2000 {
        return Err(UriProblem::TooLong);
    }
    let parsed = url::Url::parse(uri).map_err(|_| UriProblem::NotAbsolute)?;
    if parsed.fragment().is_some() {
        return Err(UriProblem::Fragment);
    }
    Ok(())
}

/// Checks a URI Nod sends requests to: as [`check_uri`], and `http` or `https`.
fn check_http_uri(uri: &str) -> Result<(), UriProblem> {
    check_uri(uri)?;
    if !(uri.starts_with("http://") || uri.starts_with("https://")) {
        return Err(UriProblem::NotHttp);
    }
    Ok(())
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

    /// Checks every rule a sales unit must pass before it is stored (its secret is
    /// checked by [`validate_chosen_secret`] before it is hashed); the first broken rule
    /// is the error.
    pub fn validate(&self) -> Result<(), SalesUnitError> {
        if !is_client_id(&self.client_id) {
            return Err(SalesUnitError::ClientId);
        }
        if self.name.trim().is_empty() || self.name.chars().count() > 100 {
            return Err(SalesUnitError::Name);
        }
        if self.redirect_uris.is_empty() {
            return Err(SalesUnitError::NoRedirectUri);
        }
        for uri in &self.redirect_uris {
            check_redirect_uri(uri).map_err(|problem| SalesUnitError::RedirectUri {
                uri: uri.clone(),
                problem,
            })?;
        }
        match (&self.ciba_notification_endpoint, self.ciba_mode) {
            (None, CibaMode::Ping) => return Err(SalesUnitError::PingWithoutEndpoint),
            (Some(uri), _) => {
                check_uri(uri).map_err(|problem| SalesUnitError::NotificationEndpoint {
                    uri: uri.clone(),
                    problem,
                })?;
            }
            (None, CibaMode::Poll) => {}
        }
        if let Some(uri) = &self.webhook_url {
            check_http_uri(uri).map_err(|problem| SalesUnitError::WebhookUrl {
                uri: uri.clone(),
                problem,
            })?;
        }
        if let Some(msn) = &self.msn
            && !((1..=20).contains(&msn.len()) && msn.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(SalesUnitError::Msn);
        }
        if let Some(texts) = &self.consent_texts {
            texts.validate()?;
        }
        Ok(())
    }
}

/// Checks a client id an operator chooses.
fn is_client_id(id: &str) -> bool {
    (1..=100).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// Operator-chosen secrets must be long enough to be as hard to guess as generated ones.
pub fn validate_chosen_secret(secret: &str) -> Result<(), SalesUnitError> {
    if secret.len() < 32 {
        return Err(SalesUnitError::SecretTooShort);
    }
    if secret.len() > 512 || secret.chars().any(|c| c.is_control()) {
        return Err(SalesUnitError::SecretInvalid);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shop() -> SalesUnit {
        SalesUnit {
            client_id: "shop-1".into(),
            secret_hash: vec![0; 32],
            name: "Coffee Shop".into(),
            redirect_uris: vec!["https://shop.example/cb".into(), "myapp://callback".into()],
            auth_method: AuthMethod::ClientSecretBasic,
            msn: Some("123456".into()),
            allow_nin: false,
            ciba_mode: CibaMode::Poll,
            ciba_notification_endpoint: None,
            webhook_url: None,
            consent_texts: None,
            created_at: 0,
        }
    }

    /// The shop with one change, validated.
    fn with(change: impl FnOnce(&mut SalesUnit)) -> Result<(), SalesUnitError> {
        let mut unit = shop();
        change(&mut unit);
        unit.validate()
    }

    fn texts(ids: &[&str]) -> ConsentTexts {
        ConsentTexts {
            language: "en".into(),
            heading: "Consents".into(),
            text: "Please answer".into(),
            terms_description: "Terms".into(),
            confirm_consent_button_text: "OK".into(),
            links: ConsentLinks {
                terms_link_text: "Terms".into(),
                terms_link_url: "https://shop.example/terms".into(),
                privacy_statement_link_text: "Privacy".into(),
                privacy_statement_link_url: "https://shop.example/privacy".into(),
            },
            consents: ids
                .iter()
                .map(|id| ConsentQuestion {
                    id: (*id).into(),
                    required: false,
                    text_displayed_to_user: "Newsletter?".into(),
                })
                .collect(),
        }
    }

    #[test]
    fn a_complete_sales_unit_is_valid() {
        assert_eq!(shop().validate(), Ok(()));
    }

    #[test]
    fn client_ids_are_short_and_plain() {
        assert_eq!(with(|u| u.client_id = "a.b_c-1".into()), Ok(()));
        for bad in ["", "shop 1", "shop/1", "søk"] {
            assert_eq!(
                with(|u| u.client_id = bad.into()),
                Err(SalesUnitError::ClientId),
                "{bad}"
            );
        }
        assert_eq!(
            with(|u| u.client_id = "x".repeat(101)),
            Err(SalesUnitError::ClientId)
        );
    }

    #[test]
    fn names_have_1_to_100_characters() {
        assert_eq!(with(|u| u.name = " ".into()), Err(SalesUnitError::Name));
        assert_eq!(with(|u| u.name = "Ø".repeat(100)), Ok(()));
        assert_eq!(
            with(|u| u.name = "Ø".repeat(101)),
            Err(SalesUnitError::Name)
        );
    }

    #[test]
    fn redirect_uris_must_be_absolute_without_fragment() {
        assert_eq!(
            with(|u| u.redirect_uris.clear()),
            Err(SalesUnitError::NoRedirectUri)
        );
        for (uri, problem) in [
            ("/cb", UriProblem::NotAbsolute),
            ("https://shop.example/cb#x", UriProblem::Fragment),
            (
                "javascript:alert(document.cookie)",
                UriProblem::DangerousScheme,
            ),
            ("JavaScript:alert(1)", UriProblem::DangerousScheme),
            (
                "data:text/html,<script>alert(1)</script>",
                UriProblem::DangerousScheme,
            ),
            ("file:///etc/passwd", UriProblem::DangerousScheme),
            ("vbscript:msgbox", UriProblem::DangerousScheme),
            ("http://shop.example/cb", UriProblem::PlainHttp),
            ("http://192.168.1.10/cb", UriProblem::PlainHttp),
            ("http://localhost.shop.example/cb", UriProblem::PlainHttp),
        ] {
            assert_eq!(
                with(|u| u.redirect_uris.push(uri.into())),
                Err(SalesUnitError::RedirectUri {
                    uri: uri.into(),
                    problem
                })
            );
        }
        for good in [
            "https://shop.example/cb",
            "http://localhost:3000/callback",
            "http://LOCALHOST/cb",
            "http://127.0.0.1:8080/cb",
            "http://[::1]/cb",
            "myapp://callback",
            "no.vipps.shop:/oauth",
        ] {
            assert_eq!(
                with(|u| u.redirect_uris = vec![good.into()]),
                Ok(()),
                "{good}"
            );
        }
        let long = format!("https://shop.example/{}", "x".repeat(2000));
        assert!(matches!(
            with(|u| u.redirect_uris = vec![long]),
            Err(SalesUnitError::RedirectUri {
                problem: UriProblem::TooLong,
                ..
            })
        ));
    }

    #[test]
    fn ping_mode_needs_a_valid_endpoint() {
        assert_eq!(
            with(|u| u.ciba_mode = CibaMode::Ping),
            Err(SalesUnitError::PingWithoutEndpoint)
        );
        assert_eq!(
            with(|u| {
                u.ciba_mode = CibaMode::Ping;
                u.ciba_notification_endpoint = Some("https://shop.example/ping".into());
            }),
            Ok(())
        );
        assert!(matches!(
            with(|u| u.ciba_notification_endpoint = Some("ping".into())),
            Err(SalesUnitError::NotificationEndpoint { .. })
        ));
    }

    #[test]
    fn webhook_url_is_an_absolute_http_url() {
        for good in [
            "https://shop.example/hook",
            "http://127.0.0.1:8080/hook?x=1",
        ] {
            assert_eq!(
                with(|u| u.webhook_url = Some(good.into())),
                Ok(()),
                "{good}"
            );
        }
        assert!(matches!(
            with(|u| u.webhook_url = Some("hook".into())),
            Err(SalesUnitError::WebhookUrl { .. })
        ));
        assert_eq!(
            with(|u| u.webhook_url = Some("ftp://shop.example/hook".into())),
            Err(SalesUnitError::WebhookUrl {
                uri: "ftp://shop.example/hook".into(),
                problem: UriProblem::NotHttp
            })
        );
    }

    #[test]
    fn msn_is_1_to_20_digits() {
        assert_eq!(with(|u| u.msn = None), Ok(()));
        for bad in ["", "12ab", "123456789012345678901"] {
            assert_eq!(
                with(|u| u.msn = Some(bad.into())),
                Err(SalesUnitError::Msn),
                "{bad}"
            );
        }
    }

    #[test]
    fn consent_texts_have_distinct_ids() {
        assert_eq!(with(|u| u.consent_texts = Some(texts(&["a", "b"]))), Ok(()));
        assert_eq!(
            with(|u| u.consent_texts = Some(texts(&[]))),
            Err(SalesUnitError::ConsentCount)
        );
        assert_eq!(
            with(|u| u.consent_texts = Some(texts(&["a", "a"]))),
            Err(SalesUnitError::ConsentIds)
        );
        assert_eq!(
            with(|u| u.consent_texts = Some(texts(&[""]))),
            Err(SalesUnitError::ConsentIds)
        );
    }

    #[test]
    fn chosen_secrets_must_be_long_and_printable() {
        assert_eq!(
            validate_chosen_secret("short"),
            Err(SalesUnitError::SecretTooShort)
        );
        assert_eq!(validate_chosen_secret(&"x".repeat(32)), Ok(()));
        assert_eq!(
            validate_chosen_secret(&format!("{}\n", "x".repeat(32))),
            Err(SalesUnitError::SecretInvalid)
        );
        assert_eq!(
            validate_chosen_secret(&"x".repeat(513)),
            Err(SalesUnitError::SecretInvalid)
        );
    }
}
