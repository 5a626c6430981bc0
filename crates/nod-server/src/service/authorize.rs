//! The authorize door: which sales unit a request names (by `client_id`, or by `msn`
//! for partner keys), whether the request is valid, and the new login request.

use nod_core::authorize::{self, AuthorizeError};
use nod_core::params::Params;
use nod_core::partner;
use uuid::Uuid;

use super::engine::{Result, Service};

/// What an authorization request leads to.
#[derive(Debug)]
pub enum Authorized {
    /// Partner keys: the same request, with the merchant's `client_id` instead of `msn`
    /// (this query string).
    Rewritten(String),
    /// A new login request (this id), bound to the browser: its login page comes next.
    Started(Uuid),
    /// No sales unit by that name: shown on a page, never redirected (the detail says why
    /// when there is more to say).
    UnknownClient(Option<&'static str>),
    /// Refused: shown on a page, or sent to the redirect URI.
    Refused(AuthorizeError),
}

impl Service {
    /// Handles an authorization request whose query parsed as `params` (`raw_query` as
    /// sent), for the browser whose binding cookie hashes to `binding`.
    pub async fn authorize(
        &self,
        params: &Params,
        raw_query: &str,
        binding: Vec<u8>,
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
        let Some(unit) = self.store.get_sales_unit(client_id).await? else {
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
        match authorize::validate(params, &unit) {
            Ok(request) => Ok(Authorized::Started(
                self.start_browser(request, binding).await?.id,
            )),
            Err(e) => Ok(Authorized::Refused(e)),
        }
    }
}
