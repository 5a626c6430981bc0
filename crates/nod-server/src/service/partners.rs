//! Partner keys: a partner's access token from `POST /accesstoken/get`, a partner acting
//! for a sales unit named by its merchant serial number (the `Merchant-Serial-Number`
//! header at the token, revocation and CIBA endpoints), and the sales unit an
//! authorization request names by `msn`.

use nod_core::partner::{Partner, PartnerToken};
use nod_core::sales_unit::{AuthMethod, SalesUnit};
use nod_core::{OAuthError, crypto};
use nod_store::MsnMatch;

use super::engine::{AuthScheme, Result, Service, ServiceError};
use super::merchant::IssuedMerchantToken;

/// What a partner sends to act for a sales unit: its access token (`Authorization:
/// Bearer`), the `Merchant-Serial-Number` header and, if the form has one, `client_id`.
#[derive(Debug)]
pub struct PartnerCredentials {
    pub token: String,
    pub msn: Option<Vec<u8>>,
    pub body_client_id: Option<String>,
}

/// The answer for a partner that cannot act for the sales unit it names: the same
/// 401 `invalid_client` as for a wrong client secret, challenging with Bearer.
fn refused(description: &'static str) -> ServiceError {
    ServiceError::InvalidClient {
        description,
        scheme: AuthScheme::Bearer,
    }
}

impl Service {
    /// The partner these `POST /accesstoken/get` credentials authenticate, if they are a
    /// partner's: a token like a sales unit's (random, stored hashed, valid
    /// `merchant_token_lifetime` seconds) but naming the partner, in `partner_tokens`.
    /// A `Merchant-Serial-Number`, when sent, must be one the partner may act for; the
    /// token is not bound to it (each call names its sales unit).
    pub(super) async fn issue_partner_token(
        &self,
        client_id: &str,
        secret: &str,
        msn: Option<&[u8]>,
    ) -> Result<IssuedMerchantToken> {
        let partner = self
            .store
            .get_partner(client_id)
            .await?
            .filter(|p| crypto::verify_secret(secret, &p.secret_hash))
            .ok_or(ServiceError::InvalidClient {
                description: "unknown client_id or wrong client_secret",
                scheme: AuthScheme::None,
            })?;
        if let Some(msn) = msn.filter(|m| !m.is_empty())
            && partner_msn(&partner, msn).is_none()
        {
            return Err(OAuthError::invalid_request(
                "this partner may not act for the sales unit with this Merchant-Serial-Number",
            )
            .into());
        }
        let now = self.now();
        let access_token = crypto::random_secret();
        let expires_at = now + self.config.merchant_token_lifetime;
        self.store
            .insert_partner_token(&PartnerToken {
                token_hash: crypto::hash_secret(&access_token).to_vec(),
                partner_id: partner.id.clone(),
                expires_at,
            })
            .await?;
        self.audit("partner_token_issued", None, "", &partner.id)
            .await;
        Ok(IssuedMerchantToken {
            access_token,
            expires_in: self.config.merchant_token_lifetime,
            issued_at: now,
            expires_at,
        })
    }

    /// Whether a Bearer token is a valid partner token (the webhooks API refuses them
    /// with 403 rather than calling them unknown).
    pub(super) async fn is_partner_token(&self, token: &str) -> Result<bool> {
        Ok(self
            .store
            .get_partner_token(&crypto::hash_secret(token), self.now())
            .await?
            .is_some())
    }

    /// The sales unit a partner acts for (token endpoint, revocation, CIBA start,
    /// user-exists), as the Vipps partner keys have it: a valid partner token, the
    /// `Merchant-Serial-Number` header (400 `invalid_request` without it), an MSN the
    /// partner may act for and that names exactly one sales unit, which authenticates
    /// with `client_secret_basic` ("The target client must be configured with
    /// client_secret_basic"). Every refusal but the missing header is 401
    /// `invalid_client`.
    pub async fn authenticate_partner(&self, creds: &PartnerCredentials) -> Result<SalesUnit> {
        let token = self
            .store
            .get_partner_token(&crypto::hash_secret(&creds.token), self.now())
            .await?
            .ok_or_else(|| {
                refused("the Bearer token is not a partner access token from POST /accesstoken/get, or it has expired")
            })?;
        let msn = creds.msn.as_deref().filter(|m| !m.is_empty()).ok_or_else(|| {
            OAuthError::invalid_request(
                "a partner access token needs the Merchant-Serial-Number header naming the sales unit",
            )
        })?;
        let partner = self
            .store
            .get_partner(&token.partner_id)
            .await?
            .ok_or_else(|| refused("the partner of this access token no longer exists"))?;
        let msn = partner_msn(&partner, msn).ok_or_else(|| {
            refused("this partner may not act for the sales unit with this Merchant-Serial-Number")
        })?;
        let unit = match self.store.sales_unit_by_msn(msn).await? {
            MsnMatch::One(unit) => *unit,
            MsnMatch::None => {
                return Err(refused("no sales unit has this Merchant-Serial-Number"));
            }
            MsnMatch::Ambiguous => {
                return Err(refused(
                    "several sales units have this Merchant-Serial-Number; a partner cannot name one of them",
                ));
            }
        };
        if unit.auth_method != AuthMethod::ClientSecretBasic {
            return Err(refused(
                "partner keys work only for sales units configured with client_secret_basic",
            ));
        }
        if creds
            .body_client_id
            .as_deref()
            .is_some_and(|id| id != unit.client_id)
        {
            return Err(OAuthError::invalid_request(
                "client_id differs from the sales unit the Merchant-Serial-Number names",
            )
            .into());
        }
        Ok(unit)
    }

    /// The sales unit an authorization request names by `msn` instead of `client_id`;
    /// the inner error says why there is none (no sales unit, or several, have it), for
    /// the error page.
    pub async fn sales_unit_for_msn(
        &self,
        msn: &str,
    ) -> Result<std::result::Result<SalesUnit, &'static str>> {
        if !nod_core::partner::is_msn(msn) {
            return Ok(Err("msn must be a merchant serial number: 1 to 20 digits"));
        }
        Ok(match self.store.sales_unit_by_msn(msn).await? {
            MsnMatch::One(unit) => Ok(*unit),
            MsnMatch::None => Err("no sales unit has this merchant serial number (msn)"),
            MsnMatch::Ambiguous => {
                Err("several sales units have this merchant serial number (msn); use client_id")
            }
        })
    }
}

/// The MSN a `Merchant-Serial-Number` header sent, if the partner may act for it (bytes
/// that are not UTF-8 are no MSN).
fn partner_msn<'a>(partner: &Partner, msn: &'a [u8]) -> Option<&'a str> {
    std::str::from_utf8(msn)
        .ok()
        .filter(|m| partner.may_act_for(m))
}
