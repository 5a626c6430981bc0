//! Merchant-initiated login (CIBA): starting a request for a person, `user-exists`,
//! redeeming `auth_req_id` (poll and ping), and the notification ping-mode clients get.

use nod_core::ciba::{self, PollAnswer};
use nod_core::grant::AccessToken;
use nod_core::login::LoginRequest;
use nod_core::params::Params;
use nod_core::sales_unit::{CibaMode, SalesUnit};
use nod_core::webhook::WebhookEvent;
use nod_core::{ErrorCode, OAuthError, crypto};
use serde_json::json;

use super::engine::{Result, Service, ServiceError, audit_entry};
use super::tokens::{Grant, TokenResponse};
use crate::events::LoginEvent;
use nod_store::DeliveryAuth;

/// A started merchant-initiated login.
#[derive(Debug)]
pub struct CibaStarted {
    pub auth_req_id: String,
    pub expires_in: i64,
    pub interval: i64,
}

impl Service {
    /// Starts a merchant-initiated login: the request goes to the person's app at once,
    /// unless too many are waiting for them already (checked and taken in one statement).
    pub async fn start_ciba(&self, unit: &SalesUnit, params: &Params) -> Result<CibaStarted> {
        self.within_limit(
            &self.ciba_limiter,
            Some(unit.client_id.clone()),
            "too many merchant-initiated logins from this client this minute",
        )?;
        let request = ciba::validate(params, unit)?;
        let now = self.now();
        let user = self
            .store
            .get_user_by_phone(&request.phone_number)
            .await?
            .filter(|u| u.may_log_in(now))
            .ok_or_else(|| {
                OAuthError::new(
                    ErrorCode::InvalidUser,
                    "no active user of 15 or more has this phone number",
                )
            })?;
        let phone_hash = crypto::hash_secret(&request.phone_number);
        let expires_in = request.expires_in;
        let login = request.into_login_request(&unit.client_id, user.id, now);
        let limits = self.number_limits();
        if !self
            .store
            .create_ciba_request(&login, &phone_hash, limits, now)
            .await?
        {
            let retry_after = self
                .number_retry_after(user.id, &phone_hash, limits)
                .await?;
            return Err(ServiceError::TooMany {
                retry_after,
                description: "too many login requests for this person; try again later",
            });
        }
        self.events.send(LoginEvent::Sent {
            id: login.id,
            user_id: user.id,
        });
        let auth_req_id = login
            .ciba
            .map(|c| c.auth_req_id)
            .ok_or_else(|| anyhow::anyhow!("a merchant-initiated request without auth_req_id"))?;
        Ok(CibaStarted {
            auth_req_id,
            expires_in,
            interval: ciba::INTERVAL,
        })
    }

    /// Whether a merchant-initiated login can reach the person with this `login_hint`.
    pub async fn user_exists(&self, unit: &SalesUnit, login_hint: &str) -> Result<bool> {
        self.within_limit(
            &self.user_exists_limiter,
            Some(unit.client_id.clone()),
            "too many user-exists questions from this client this minute",
        )?;
        let phone = ciba::parse_login_hint(login_hint)?;
        let now = self.now();
        Ok(self
            .store
            .get_user_by_phone(&phone)
            .await?
            .is_some_and(|u| u.may_log_in(now)))
    }

    /// The token endpoint's CIBA grant: pending until the person answers, then the
    /// tokens, once.
    pub async fn redeem_auth_req_id(
        &self,
        unit: &SalesUnit,
        auth_req_id: &str,
    ) -> Result<TokenResponse> {
        let unknown = || OAuthError::invalid_grant("unknown auth_req_id");
        if auth_req_id.len() > 100 {
            return Err(unknown().into());
        }
        let login = self
            .store
            .get_ciba_request(auth_req_id, &unit.client_id)
            .await?
            .ok_or_else(unknown)?;
        let now = self.now();
        let answer = ciba::poll_answer(&login, unit.ciba_mode, now);
        if let PollAnswer::Pending { .. } = answer {
            self.store.record_poll(login.id, now).await?;
        }
        if let Some(error) = answer.error() {
            return Err(error.into());
        }
        let (Some(user_id), Some(amr)) = (login.user_id, login.amr) else {
            return Err(anyhow::anyhow!("a confirmed request without a user").into());
        };
        let audit = [audit_entry(
            now,
            "login_completed",
            Some(user_id),
            &unit.client_id,
            "merchant_initiated",
        )];
        let lifetime = self.config.ciba_access_token_lifetime;
        let access_token = crypto::random_secret();
        let token = AccessToken {
            token_hash: crypto::hash_secret(&access_token).to_vec(),
            client_id: unit.client_id.clone(),
            user_id,
            scopes: login.scopes,
            sid: login.id,
            code_hash: None,
            expires_at: now + lifetime,
        };
        if !self
            .store
            .finish_ciba_request(login.id, now, &token, &audit)
            .await?
        {
            return Err(PollAnswer::AlreadyRedeemed
                .error()
                .unwrap_or_else(unknown)
                .into());
        }
        let grant = Grant {
            user_id,
            scopes: login.scopes,
            sid: login.id,
            nonce: login.nonce.clone(),
            auth_time: login.auth_time.unwrap_or(now),
            amr,
            acr: None,
            auth_req_id: Some(auth_req_id.to_owned()),
            lifetime,
        };
        self.token_response(unit, grant, access_token, now)
    }

    /// Tells the merchant that the person answered a merchant-initiated login (approved
    /// or rejected), in the background with retries: every webhook of the sales unit
    /// registered for `login.merchant-initiated.ping.v1` hears `{"auth_req_id": …}`
    /// whatever the delivery mode, and a ping-mode client's notification endpoint hears
    /// it with its `client_notification_token` (not for a login to a web page: that
    /// merchant gets the code in the browser, not by redeeming `auth_req_id`).
    pub(super) async fn notify_merchant(&self, login: &LoginRequest) {
        let Some(ciba) = &login.ciba else { return };
        let body = json!({ "auth_req_id": ciba.auth_req_id });
        self.send_event(&login.client_id, WebhookEvent::MerchantInitiatedPing, &body)
            .await;
        if login.finishes_in_app() {
            return;
        }
        let unit = match self.sales_unit(&login.client_id).await {
            Ok(Some(unit)) => unit,
            Ok(None) => return,
            Err(e) => {
                tracing::warn!(error = %e, "ping: sales unit lookup failed");
                return;
            }
        };
        if let (CibaMode::Ping, Some(endpoint), Some(token)) = (
            unit.ciba_mode,
            unit.ciba_notification_endpoint.clone(),
            ciba.notification_token.clone(),
        ) {
            self.outbox
                .send_json(endpoint, &body, DeliveryAuth::Bearer(token))
                .await;
        }
    }

    /// Deletes expired codes, tokens, login requests and browsers, and audit entries
    /// older than the retention (`audit_retention_days`).
    pub async fn purge_expired(&self) -> Result<u64> {
        let now = self.now();
        let expired = self.store.purge_expired(now).await?;
        let retention = self.config.audit_retention_days.saturating_mul(86_400);
        let audit = self
            .store
            .purge_audit(now.saturating_sub(retention))
            .await?;
        Ok(expired + audit)
    }
}
