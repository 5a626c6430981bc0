//! The merchant's API platform side: access tokens of the access token API, the
//! webhooks API (register, list, delete) and sending Webhooks API events to every
//! registration of a sales unit for the event.

use std::sync::Arc;

use nod_core::grant::MerchantToken;
use nod_core::sales_unit::SalesUnit;
use nod_core::webhook::{self, Webhook, WebhookEvent};
use nod_core::{OAuthError, Timestamp, crypto};
use uuid::Uuid;

use super::engine::{AuthScheme, Result, Service, ServiceError};
use nod_store::DeliveryAuth;

/// A merchant API access token just issued.
#[derive(Debug)]
pub struct IssuedMerchantToken {
    pub access_token: String,
    pub expires_in: i64,
    pub issued_at: Timestamp,
    pub expires_at: Timestamp,
}

impl Service {
    /// `POST /accesstoken/get`: the sales unit's credentials (from the `client_id` and
    /// `client_secret` headers, whatever its token endpoint method), or a partner's (see
    /// [`Service::issue_partner_token`]), for an opaque Bearer
    /// token valid `merchant_token_lifetime` seconds. The token is random (256 bits) and
    /// stored only as its SHA-256 hash, in a table of its own (see
    /// [`MerchantToken`]): it names a sales unit, never a person, so userinfo can never
    /// accept it.
    pub async fn issue_merchant_token(
        &self,
        client_id: &str,
        secret: &str,
        msn: Option<&[u8]>,
    ) -> Result<IssuedMerchantToken> {
        let unit = match self.check_client_secret(client_id, secret, msn).await {
            // Not a sales unit's credentials: perhaps a partner's (partner keys).
            Err(ServiceError::InvalidClient { .. }) => {
                return self.issue_partner_token(client_id, secret, msn).await;
            }
            other => other?,
        };
        let now = self.now();
        let access_token = crypto::random_secret();
        let expires_at = now + self.config.merchant_token_lifetime;
        self.store
            .insert_merchant_token(&MerchantToken {
                token_hash: crypto::hash_secret(&access_token).to_vec(),
                client_id: unit.client_id.clone(),
                expires_at,
            })
            .await?;
        self.audit("merchant_token_issued", None, &unit.client_id, "")
            .await;
        Ok(IssuedMerchantToken {
            access_token,
            expires_in: self.config.merchant_token_lifetime,
            issued_at: now,
            expires_at,
        })
    }

    /// The sales unit a merchant API token (the `Authorization: Bearer` of the webhooks
    /// API) belongs to; `InvalidToken` when it is missing, unknown or expired, `Refused`
    /// (403) for a partner's token: the webhooks API is for sales units only. A
    /// `Merchant-Serial-Number`, when sent, must be the sales unit's.
    pub async fn merchant_by_token(
        &self,
        token: Option<&str>,
        msn: Option<&[u8]>,
    ) -> Result<Arc<SalesUnit>> {
        let token = token.ok_or(ServiceError::InvalidToken(
            "an access token from POST /accesstoken/get is required (Authorization: Bearer …)",
        ))?;
        let invalid = || ServiceError::InvalidToken("the access token is unknown or has expired");
        let Some(stored) = self
            .store
            .get_merchant_token(&crypto::hash_secret(token), self.now())
            .await?
        else {
            if self.is_partner_token(token).await? {
                return Err(ServiceError::Refused(
                    "a partner access token cannot use the webhooks API; use the sales unit's own credentials at POST /accesstoken/get",
                ));
            }
            return Err(invalid());
        };
        let unit = self
            .sales_unit(&stored.client_id)
            .await?
            .ok_or_else(invalid)?;
        check_msn(&unit, msn)?;
        Ok(unit)
    }

    /// Checks a sales unit's secret, whatever its token endpoint authentication method.
    async fn check_client_secret(
        &self,
        client_id: &str,
        secret: &str,
        msn: Option<&[u8]>,
    ) -> Result<Arc<SalesUnit>> {
        let refused = || ServiceError::InvalidClient {
            description: "unknown client_id or wrong client_secret",
            scheme: AuthScheme::None,
        };
        let unit = self.sales_unit(client_id).await?.ok_or_else(refused)?;
        if !crypto::verify_secret(secret, &unit.secret_hash) {
            return Err(refused());
        }
        check_msn(&unit, msn)?;
        Ok(unit)
    }

    /// `POST /webhooks/v1/webhooks`: a new registration with a new secret, unless the URL
    /// or an event is invalid, or the sales unit has [`webhook::MAX_PER_EVENT`]
    /// registrations for one of the events already.
    pub async fn register_webhook(
        &self,
        unit: &SalesUnit,
        url: &str,
        events: &[String],
    ) -> Result<Webhook> {
        let events = webhook::validate_registration(url, events).map_err(ServiceError::Invalid)?;
        let registration = Webhook {
            id: Uuid::new_v4(),
            client_id: unit.client_id.clone(),
            url: url.to_owned(),
            events,
            secret: webhook::new_secret(),
            created_at: self.now(),
        };
        if !self
            .store
            .create_webhook(&registration, webhook::MAX_PER_EVENT)
            .await?
        {
            return Err(ServiceError::Invalid(vec![webhook::Invalid {
                name: "events",
                reason: format!(
                    "at most {} webhooks can be registered per event; delete one first",
                    webhook::MAX_PER_EVENT
                ),
            }]));
        }
        self.audit(
            "webhook_registered",
            None,
            &unit.client_id,
            &registration.id.to_string(),
        )
        .await;
        Ok(registration)
    }

    /// `GET /webhooks/v1/webhooks`: the sales unit's registrations.
    pub async fn webhooks(&self, unit: &SalesUnit) -> Result<Vec<Webhook>> {
        Ok(self.store.list_webhooks(&unit.client_id).await?)
    }

    /// `DELETE /webhooks/v1/webhooks/{id}`: `NotFound` for a malformed id, an unknown one
    /// or another sales unit's (the same answer, so there is nothing to probe).
    pub async fn delete_webhook(&self, unit: &SalesUnit, id: &str) -> Result<()> {
        let not_found = || ServiceError::NotFound("no such webhook");
        let id = Uuid::parse_str(id).map_err(|_| not_found())?;
        if !self.store.delete_webhook(&unit.client_id, id).await? {
            return Err(not_found());
        }
        self.audit("webhook_deleted", None, &unit.client_id, &id.to_string())
            .await;
        Ok(())
    }

    /// Sends an event to every registration of the sales unit for it, each signed with
    /// its own secret, in the background. A failed lookup is logged: the move that
    /// caused the event has happened already.
    pub(super) async fn send_event(
        &self,
        client_id: &str,
        event: WebhookEvent,
        body: &serde_json::Value,
    ) {
        let registrations = match self.store.list_webhooks_for_event(client_id, event).await {
            Ok(registrations) => registrations,
            Err(e) => {
                tracing::warn!(error = %e, event = event.as_str(), "webhook lookup failed");
                return;
            }
        };
        for registration in registrations {
            self.outbox
                .send_json(
                    registration.url,
                    body,
                    DeliveryAuth::Hmac(registration.secret),
                )
                .await;
        }
    }
}

/// A `Merchant-Serial-Number` header, when sent, must be the sales unit's MSN (a unit
/// without one accepts any).
fn check_msn(unit: &SalesUnit, msn: Option<&[u8]>) -> Result<()> {
    if let (Some(sent), Some(own)) = (msn, unit.msn.as_deref())
        && sent != own.as_bytes()
    {
        return Err(OAuthError::invalid_request(
            "Merchant-Serial-Number does not match this client",
        )
        .into());
    }
    Ok(())
}
