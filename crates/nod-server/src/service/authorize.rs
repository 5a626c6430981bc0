//! The authorize door: which sales unit a request names (by `client_id`, or by `msn`
//! for partner keys), whether the request is valid, and the new login request.

use nod_core::authorize::{self, AuthorizeError};
use nod_core::login::{self, Amr, LoginRequest, Status};
use nod_core::params::Params;
use nod_core::partner;
use nod_core::{authorize::Prompt, crypto};
use uuid::Uuid;

use super::engine::{Result, Service, audit_entry};
use super::login::Finished;
use crate::metrics;

/// What an authorization request leads to.
#[derive(Debug)]
pub enum Authorized {
    /// Partner keys: the same request, with the merchant's `client_id` instead of `msn`
    /// (this query string).
    Rewritten(String),
    /// A new login request (this id), bound to the browser: its login page comes next.
    Started(Uuid),
    /// A remembered browser whose person has consented to these scopes: the code, at
    /// once (the login, never stored, says where the response goes).
    Finished(Box<(LoginRequest, Finished)>),
    /// No sales unit by that name: shown on a page, never redirected (the detail says why
    /// when there is more to say).
    UnknownClient(Option<&'static str>),
    /// Refused: shown on a page, or sent to the redirect URI.
    Refused(AuthorizeError),
}

impl Service {
    /// Handles an authorization request whose query parsed as `params` (`raw_query` as
    /// sent), for the browser whose binding cookie hashes to `binding` and which holds
    /// `remember_token`, if remembered.
    pub async fn authorize(
        &self,
        params: &Params,
        raw_query: &str,
        binding: Vec<u8>,
        remember_token: Option<&str>,
    ) -> Result<Authorized> {
        let msn = match params.get_bounded("msn", 100) {
            Ok(msn) => msn,
            Err(e) => return Ok(Authorized::Refused(AuthorizeError::Page(e))),
        };
        let client_id = match params.get("client_id") {
            Ok(client_id) => client_id,
            Err(e) => return Ok(Authorized::Refused(AuthorizeError::Page(e))),
        };
        // Partner keys: `msn` instead of `client_id` names the merchant; the browser is
        // sent to the same request with its `client_id` (never to a redirect URI first).
        if let (Some(msn), None) = (msn, client_id) {
            return Ok(match self.sales_unit_for_msn(msn).await? {
                Ok(unit) => Authorized::Rewritten(partner::replace_msn(raw_query, &unit.client_id)),
                Err(why) => Authorized::UnknownClient(Some(why)),
            });
        }
        let client_id = match authorize::client_id(params) {
            Ok(client_id) => client_id,
            Err(e) => return Ok(Authorized::Refused(e)),
        };
        let Some(unit) = self.sales_unit(client_id).await? else {
            return Ok(Authorized::UnknownClient(None));
        };
        // Both `client_id` and `msn`: they must name the same sales unit.
        if msn.is_some() && msn != unit.msn.as_deref() {
            return Ok(Authorized::Refused(AuthorizeError::Page(
                nod_core::OAuthError::invalid_request(
                    "msn is not the merchant serial number of the sales unit client_id names",
                ),
            )));
        }
        let request = match authorize::validate(params, &unit) {
            Ok(request) => request,
            Err(e) => return Ok(Authorized::Refused(e)),
        };
        let mut login = self.new_browser_login(request, binding);
        if let Some(finished) = self.finish_remembered(&mut login, remember_token).await? {
            return Ok(Authorized::Finished(Box::new((login, finished))));
        }
        self.store.create_login_request(&login).await?;
        Ok(Authorized::Started(login.id))
    }

    /// Finishes a new login at once when the browser is remembered, the request lets it
    /// (no forced app confirmation, no `prompt=login`) and the person has consented to
    /// every scope: the code is issued without a login page and without storing the
    /// request. `None` sends the browser to the login page, which decides as before.
    async fn finish_remembered(
        &self,
        login: &mut LoginRequest,
        remember_token: Option<&str>,
    ) -> Result<Option<Finished>> {
        let Some(token) = remember_token.filter(|t| t.len() == 43) else {
            return Ok(None);
        };
        if login.acr_app_auth || login.prompt == Prompt::Login {
            return Ok(None);
        }
        let now = self.now();
        let token_hash = crypto::hash_secret(token);
        let Some((user, consent)) = self
            .store
            .get_remembered(&token_hash, &login.client_id, now)
            .await?
        else {
            return Ok(None);
        };
        let missing = login::missing_consent(login.scopes, consent.as_ref(), login.prompt);
        if !user.may_log_in(now) || !missing.is_empty() {
            return Ok(None);
        }
        login.status = Status::Done;
        login.user_id = Some(user.id);
        login.amr = Some(Amr::RememberedBrowser);
        login.auth_time = Some(now);
        let (code, record) = self.new_code(login, user.id, Amr::RememberedBrowser, now);
        let audit = [audit_entry(
            now,
            "login_completed",
            Some(user.id),
            &login.client_id,
            Amr::RememberedBrowser.as_str(),
        )];
        if !self
            .store
            .finish_remembered(&token_hash, &record, now, &audit)
            .await?
        {
            return Ok(None);
        }
        metrics::login_ended("remembered", "confirmed");
        Ok(Some(Finished {
            code,
            state: login.state.clone(),
            scope: login.scopes.to_string(),
            iss: self.config.issuer(),
            remember_token: None,
        }))
    }
}
