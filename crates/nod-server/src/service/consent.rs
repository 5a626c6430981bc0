//! Consent: what a login still needs, the consents a person has given, and revoking one
//! (the sales unit's webhook hears `CONSENT_REVOKED`).

use nod_core::crypto;
use nod_core::login::{self, Consent, LoginRequest};
use nod_core::scope::ScopeSet;
use nod_core::webhook::{ConsentRevoked, unsecured_jwt};
use uuid::Uuid;

use super::engine::{Result, Service, ServiceError};
use nod_store::DeliveryAuth;

impl Service {
    /// The consentable scopes of a login the person has not agreed to yet.
    pub async fn missing_consent(&self, login: &LoginRequest) -> Result<ScopeSet> {
        let Some(user_id) = login.user_id else {
            return Ok(login.scopes.consentable());
        };
        let given = self.store.get_consent(user_id, &login.client_id).await?;
        Ok(login::missing_consent(
            login.scopes,
            given.as_ref(),
            login.prompt,
        ))
    }

    /// The consents a person has given, with the names of the sales units.
    pub async fn consents(&self, user_id: Uuid) -> Result<Vec<(Consent, String)>> {
        let consents = self.store.list_consents(user_id).await?;
        let mut out = Vec::with_capacity(consents.len());
        for consent in consents {
            let name = self.merchant_name(&consent.client_id).await?;
            out.push((consent, name));
        }
        Ok(out)
    }

    /// Revokes a consent: the next login asks again, and the sales unit's `webhook_url`
    /// (if it has one) hears `CONSENT_REVOKED` in the background, as the Login API sends
    /// it: a `text/plain` body holding an unsigned JWT whose claims are `exp`, `iat`,
    /// `nbf`, `sub` (the person's pairwise subject for the sales unit) and `event`.
    pub async fn revoke_consent(&self, user_id: Uuid, client_id: &str) -> Result<()> {
        if !self.store.revoke_consent(user_id, client_id).await? {
            return Err(ServiceError::NotFound("no consent for this client"));
        }
        self.audit("consent_revoked", Some(user_id), client_id, "")
            .await;
        if let Some(unit) = self.sales_unit(client_id).await?
            && let Some(url) = unit.webhook_url.clone()
        {
            let sub = crypto::pairwise_subject(&self.pairwise_key, client_id, user_id);
            let token = unsecured_jwt(&ConsentRevoked::new(sub.to_string(), self.now()))
                .map_err(anyhow::Error::from)?;
            self.outbox
                .send(url, "text/plain", token.into_bytes(), DeliveryAuth::None)
                .await;
        }
        Ok(())
    }
}
