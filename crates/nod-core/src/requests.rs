//! The JSON request bodies of the app API and the webhooks API: the wire types the server
//! deserializes, kept here (no web framework) so their parsing is checked on its own.

use serde::Deserialize;

use crate::login::DelegatedAnswer;

/// `POST /app-api/v1/devices`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct RegisterDeviceRequest {
    pub phone_number: Option<String>,
    pub activation_code: Option<String>,
    /// What the person calls this app, shown in their list of apps.
    pub name: Option<String>,
}

/// `POST /app-api/v1/login-requests/open`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct OpenRequest {
    pub ticket: Option<String>,
}

/// `POST /app-api/v1/login-requests/{id}/approve`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ApproveRequest {
    pub challenge: Option<u8>,
    #[serde(default)]
    pub remember_browser: bool,
    /// The answer to the consent question, when the consent is asked in the app.
    pub consent: Option<bool>,
    /// Answers to the sales unit's consent questions (`delegatedConsents`).
    pub delegated_consents: Option<Vec<DelegatedAnswer>>,
}

/// `POST /app-api/v1/login-requests/{id}/reject`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct RejectRequest {
    /// `rejected` (the default), `not_me` or `cancelled`; anything else reaches the
    /// merchant as `unknown_reject_reason`.
    pub reason: Option<String>,
}

/// `POST /app-api/v1/login-requests/{id}/outcome` (test mode only).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct OutcomeRequest {
    /// `rejected`, `wrong_challenge`, `unknown_reject_reason`, `outdated_app_version`,
    /// `old_app` or `expire_now`.
    pub outcome: Option<String>,
}

/// The Webhooks API's `RegisterRequest` (`POST /webhooks/v1/webhooks`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegisterWebhookRequest {
    #[serde(default)]
    pub url: String,
    #[serde(default)]
    pub events: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_parse_as_the_api_documents_them() {
        let approve: ApproveRequest = serde_json::from_str(
            r#"{"challenge":42,"delegated_consents":[{"id":"news","accepted":true}]}"#,
        )
        .unwrap();
        assert_eq!(approve.challenge, Some(42));
        assert!(!approve.remember_browser);
        assert_eq!(approve.delegated_consents.unwrap()[0].id, "news");
        assert!(serde_json::from_str::<ApproveRequest>(r#"{"challenge":300}"#).is_err());
        let webhook: RegisterWebhookRequest = serde_json::from_str("{}").unwrap();
        assert!(webhook.url.is_empty() && webhook.events.is_empty());
        assert!(serde_json::from_str::<RegisterWebhookRequest>(r#"{"uri":"x"}"#).is_err());
    }
}
