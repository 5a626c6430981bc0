//! The token side: client authentication, redeeming codes, issuing access and ID tokens,
//! and userinfo.

use std::sync::Arc;

use nod_core::grant::{self, AccessToken, AuthCode, CodeGrant, Redemption};
use nod_core::login::Amr;
use nod_core::sales_unit::{AuthMethod, SalesUnit};
use nod_core::scope::{Scope, ScopeSet};
use nod_core::{OAuthError, crypto, userinfo};
use serde::Serialize;
use serde_json::{Map, Value};
use uuid::Uuid;

use super::engine::{AuthScheme, Result, Service, ServiceError};

/// The credentials a client sent, however it sent them.
#[derive(Debug)]
pub struct ClientCredentials {
    pub client_id: String,
    pub secret: String,
    pub method: AuthMethod,
    /// The `Merchant-Serial-Number` header, when sent.
    pub msn: Option<Vec<u8>>,
}

/// The token endpoint's success response.
#[derive(Debug, Serialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
    pub id_token: String,
    pub scope: String,
}

#[derive(Serialize)]
struct IdTokenClaims {
    iss: String,
    sub: String,
    aud: [String; 1],
    exp: i64,
    iat: i64,
    auth_time: i64,
    jti: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    nonce: Option<String>,
    at_hash: String,
    sid: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    msn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    acr: Option<String>,
    amr: [Amr; 1],
    #[serde(skip_serializing_if = "Option::is_none")]
    auth_req_id: Option<String>,
}

/// What a finished login grants, whichever way it is redeemed.
pub(super) struct Grant {
    pub user_id: Uuid,
    pub scopes: ScopeSet,
    pub sid: Uuid,
    pub nonce: Option<String>,
    pub auth_time: i64,
    pub amr: Amr,
    pub acr: Option<String>,
    pub auth_req_id: Option<String>,
    /// How long the access token lives, seconds.
    pub lifetime: i64,
}

impl Service {
    /// The sales unit these credentials authenticate.
    pub async fn authenticate_client(&self, creds: &ClientCredentials) -> Result<Arc<SalesUnit>> {
        let scheme = match creds.method {
            AuthMethod::ClientSecretBasic => AuthScheme::Basic,
            AuthMethod::ClientSecretPost => AuthScheme::None,
        };
        let refused = |description| ServiceError::InvalidClient {
            description,
            scheme,
        };
        let unit = self
            .sales_unit(&creds.client_id)
            .await?
            .ok_or_else(|| refused("unknown client or wrong secret"))?;
        if !crypto::verify_secret(&creds.secret, &unit.secret_hash) {
            return Err(refused("unknown client or wrong secret"));
        }
        if unit.auth_method != creds.method {
            return Err(refused(match unit.auth_method {
                AuthMethod::ClientSecretBasic => {
                    "this client authenticates with client_secret_basic"
                }
                AuthMethod::ClientSecretPost => "this client authenticates with client_secret_post",
            }));
        }
        // A sales unit without an MSN accepts any: the Vipps SDKs send one on every call.
        if let (Some(sent), Some(expected)) = (&creds.msn, &unit.msn)
            && sent.as_slice() != expected.as_bytes()
        {
            return Err(OAuthError::invalid_request(
                "the Merchant-Serial-Number header does not match this sales unit's MSN",
            )
            .into());
        }
        Ok(unit)
    }

    /// Redeems a code: from a browser login (`authorization_code`, with the redirect URI
    /// and PKCE verifier), or from a merchant-initiated login to a web page (`ciba-redirect`).
    pub async fn redeem_code(
        &self,
        unit: &SalesUnit,
        code: &str,
        grant: CodeGrant,
        redirect_uri: Option<&str>,
        verifier: Option<&str>,
    ) -> Result<TokenResponse> {
        let code_hash = crypto::hash_secret(code);
        let now = self.now();
        let access_token = crypto::random_secret();
        let token_hash = crypto::hash_secret(&access_token);
        // The access token is stored with the redemption, in one transaction, when the
        // request matches the code.
        let issue = |code: &AuthCode| {
            grant::check_redemption(code, grant, redirect_uri, verifier).ok()?;
            Some(AccessToken {
                token_hash: token_hash.to_vec(),
                client_id: unit.client_id.clone(),
                user_id: code.user_id,
                scopes: code.scopes,
                sid: code.sid,
                code_hash: Some(code_hash.to_vec()),
                expires_at: now + self.code_token_lifetime(code),
            })
        };
        let code = match self
            .store
            .redeem_code_issuing(&code_hash, &unit.client_id, now, &issue)
            .await?
        {
            Redemption::Redeemed(code) => code,
            Redemption::Replayed { tokens_revoked } => {
                tracing::warn!(client_id = %unit.client_id, tokens_revoked, "authorization code replayed");
                return Err(OAuthError::invalid_grant(if tokens_revoked {
                    "the code was already used; the tokens issued for it are revoked"
                } else {
                    "the code was already used"
                })
                .into());
            }
            Redemption::Unknown => {
                return Err(OAuthError::invalid_grant("the code is invalid or expired").into());
            }
        };
        // The same check `issue` made: when it refused, no token was stored.
        grant::check_redemption(&code, grant, redirect_uri, verifier)?;
        let lifetime = self.code_token_lifetime(&code);
        let grant = Grant {
            user_id: code.user_id,
            scopes: code.scopes,
            sid: code.sid,
            nonce: code.nonce,
            auth_time: code.auth_time,
            amr: code.amr,
            acr: code.acr,
            lifetime,
            auth_req_id: code.auth_req_id,
        };
        self.token_response(unit, grant, access_token, now)
    }

    /// How long an access token from this code lives.
    fn code_token_lifetime(&self, code: &AuthCode) -> i64 {
        if code.auth_req_id.is_some() {
            self.config.ciba_access_token_lifetime
        } else {
            self.config.access_token_lifetime
        }
    }

    /// The token response for a stored access token: the ID token signed.
    pub(super) fn token_response(
        &self,
        unit: &SalesUnit,
        grant: Grant,
        access_token: String,
        now: i64,
    ) -> Result<TokenResponse> {
        let sub = crypto::pairwise_subject(&self.pairwise_key, &unit.client_id, grant.user_id);
        let claims = IdTokenClaims {
            iss: self.config.issuer(),
            sub: sub.to_string(),
            aud: [unit.client_id.clone()],
            exp: now + self.config.id_token_lifetime,
            iat: now,
            auth_time: grant.auth_time,
            jti: Uuid::new_v4().to_string(),
            nonce: grant.nonce,
            at_hash: crypto::at_hash(&access_token),
            sid: grant.sid.to_string(),
            msn: unit.msn.clone(),
            acr: grant.acr,
            amr: [grant.amr],
            auth_req_id: grant.auth_req_id,
        };
        let id_token = self.keys.sign(&claims, now)?;
        Ok(TokenResponse {
            access_token,
            token_type: "Bearer",
            expires_in: grant.lifetime,
            id_token,
            scope: grant.scopes.to_string(),
        })
    }

    /// Revokes an access token of this client (RFC 7009 §2.1). An unknown token, or one
    /// issued to another client, is not an error: nothing is revoked and nothing is
    /// revealed about it.
    pub async fn revoke(&self, unit: &SalesUnit, token: &str) -> Result<()> {
        let revoked = self
            .store
            .revoke_access_token(&crypto::hash_secret(token), &unit.client_id)
            .await?;
        if revoked {
            self.audit("token_revoked", None, &unit.client_id, "").await;
        }
        Ok(())
    }

    /// The claims userinfo returns for an access token.
    pub async fn userinfo(&self, token: Option<&str>) -> Result<Map<String, Value>> {
        let token = token.ok_or(ServiceError::NoBearerToken)?;
        let (token, user) = self
            .store
            .get_access_token_with_user(&crypto::hash_secret(token), self.now())
            .await?
            .ok_or(ServiceError::InvalidToken(
                "the access token is invalid, expired or revoked",
            ))?;
        if !user.active {
            return Err(ServiceError::InvalidToken("the user is no longer active"));
        }
        let sub = crypto::pairwise_subject(&self.pairwise_key, &token.client_id, user.id);
        let mut claims = userinfo::claims(&user, token.scopes, sub, token.sid);
        if token.scopes.contains(Scope::DelegatedConsents)
            && let Some(value) = self.delegated_consents(&token.client_id, token.sid).await?
        {
            claims.insert("delegatedConsents".into(), value);
        }
        Ok(claims)
    }

    /// The person's answers to the sales unit's consent questions in the login `sid`.
    async fn delegated_consents(&self, client_id: &str, sid: Uuid) -> Result<Option<Value>> {
        let Some(texts) = self
            .sales_unit(client_id)
            .await?
            .and_then(|u| u.consent_texts.clone())
        else {
            return Ok(None);
        };
        let Some(login) = self.store.get_login_request(sid).await? else {
            return Ok(None);
        };
        let answers = login.delegated_answers.unwrap_or_default();
        let time = login.auth_time.unwrap_or(login.created_at);
        Ok(Some(userinfo::delegated_consents(&texts, &answers, time)))
    }
}
