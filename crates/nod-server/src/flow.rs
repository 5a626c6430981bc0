//! Steps of a login that both the browser pages and the app API take: issuing the code
//! when a login is finished, and the URLs the browser or the app goes to next.

use nod_core::authorize::ACR_APP_AUTH;
use nod_core::crypto;
use nod_core::grant::AuthCode;
use nod_core::login::{self, Kind, LoginRequest};
use nod_core::scope::ScopeSet;
use nod_store::{AuditEvent, StoreError};
use uuid::Uuid;

use crate::AppState;
use crate::config::ServerConfig;
use crate::events::Event;

/// `redirect_uri` with parameters added to its query; `None` when it is not a URL.
pub fn url_with_params(redirect_uri: &str, params: &[(&str, &str)]) -> Option<String> {
    let mut url = url::Url::parse(redirect_uri).ok()?;
    url.query_pairs_mut().extend_pairs(params);
    Some(url.into())
}

/// The deep link that opens the app for a login ticket.
pub fn deep_link(config: &ServerConfig, ticket: &str) -> String {
    let encoded: String = url::form_urlencoded::byte_serialize(ticket.as_bytes()).collect();
    match &config.deep_link_template {
        Some(template) => template.replace("{ticket}", &encoded),
        None => format!("{}/test-app/open?ticket={encoded}", config.base()),
    }
}

/// Whether a browser is on a phone: it opens the app with a deep link instead of asking
/// for a phone number.
pub fn is_mobile(user_agent: &str) -> bool {
    ["Mobi", "Android", "iPhone", "iPad"]
        .iter()
        .any(|m| user_agent.contains(m))
}

/// The consentable scopes of a login the user has not agreed to yet.
pub async fn missing_consent(
    state: &AppState,
    login: &LoginRequest,
) -> Result<ScopeSet, StoreError> {
    let Some(user_id) = login.user_id else {
        return Ok(login.scopes.consentable());
    };
    let given = state.store.get_consent(user_id, &login.client_id).await?;
    Ok(login::missing_consent(
        login.scopes,
        given.as_ref(),
        login.prompt,
    ))
}

/// Stores the person's consent to every consentable scope of the login, and audits it.
pub async fn grant_consent(
    state: &AppState,
    login: &LoginRequest,
    user_id: Uuid,
    now: nod_core::Timestamp,
) -> Result<(), StoreError> {
    let scopes = login.scopes.consentable();
    state
        .store
        .grant_consent(user_id, &login.client_id, scopes, now)
        .await?;
    audit(
        state,
        "consent_given",
        Some(user_id),
        &login.client_id,
        &scopes.to_string(),
    )
    .await;
    Ok(())
}

/// Issues the authorization code of a confirmed login (once: `None` when another request
/// finished it first) and returns the parameters of the success response.
pub async fn issue_code(
    state: &AppState,
    login: &LoginRequest,
) -> Result<Option<SuccessParams>, StoreError> {
    let (Some(user_id), Some(amr)) = (login.user_id, login.amr) else {
        return Ok(None);
    };
    let now = state.now();
    let code = crypto::random_secret();
    let record = AuthCode {
        code_hash: crypto::hash_secret(&code).to_vec(),
        client_id: login.client_id.clone(),
        user_id,
        // A merchant-initiated login to a web page is redeemed without a redirect URI.
        redirect_uri: (login.kind == Kind::Browser).then(|| login.redirect_uri.clone()),
        scopes: login.scopes,
        nonce: login.nonce.clone(),
        code_challenge: login.code_challenge.clone(),
        code_challenge_method: login.code_challenge_method,
        sid: login.id,
        auth_time: login.auth_time.unwrap_or(now),
        amr,
        acr: (login.acr_app_auth && amr == login::Amr::App).then(|| ACR_APP_AUTH.to_owned()),
        auth_req_id: login.ciba.as_ref().map(|c| c.auth_req_id.clone()),
        expires_at: now + state.config.code_lifetime,
    };
    if !state
        .store
        .complete_login_request(login.id, &record)
        .await?
    {
        return Ok(None);
    }
    state.events.send(Event::LoginChanged { id: login.id });
    audit(
        state,
        "login_completed",
        Some(user_id),
        &login.client_id,
        amr.as_str(),
    )
    .await;
    Ok(Some(SuccessParams {
        code,
        state: login.state.clone(),
        scope: login.scopes.to_string(),
        iss: state.config.issuer(),
    }))
}

/// The parameters of a successful authorization response.
pub struct SuccessParams {
    pub code: String,
    pub state: String,
    pub scope: String,
    pub iss: String,
}

impl SuccessParams {
    pub fn pairs(&self) -> [(&str, &str); 4] {
        [
            ("code", self.code.as_str()),
            ("state", self.state.as_str()),
            ("scope", self.scope.as_str()),
            ("iss", self.iss.as_str()),
        ]
    }
}

/// Records a security event; a failure to record is logged, not shown.
pub async fn audit(
    state: &AppState,
    event: &str,
    user_id: Option<Uuid>,
    client_id: &str,
    detail: &str,
) {
    let entry = AuditEvent {
        at: state.now(),
        event,
        user_id,
        client_id: Some(client_id),
        detail,
    };
    if let Err(e) = state.store.record_audit(&entry).await {
        tracing::warn!(error = %e, event, "audit log write failed");
    }
}

/// A short name for a browser, from its user agent, for the list of remembered browsers.
pub fn browser_label(user_agent: &str) -> String {
    let browser = [
        ("Edg/", "Edge"),
        ("Firefox/", "Firefox"),
        ("Chrome/", "Chrome"),
        ("Safari/", "Safari"),
    ]
    .iter()
    .find(|(marker, _)| user_agent.contains(marker))
    .map_or("Browser", |(_, name)| name);
    let system = [
        ("Android", "Android"),
        ("iPhone", "iPhone"),
        ("iPad", "iPad"),
        ("Windows", "Windows"),
        ("Mac OS", "macOS"),
        ("Linux", "Linux"),
    ]
    .iter()
    .find(|(marker, _)| user_agent.contains(marker))
    .map(|(_, name)| *name);
    match system {
        Some(system) => format!("{browser} on {system}"),
        None => browser.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_and_mobile() {
        let android = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Mobile Safari/537.36";
        assert!(is_mobile(android));
        assert_eq!(browser_label(android), "Chrome on Android");
        let desktop = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
        assert!(!is_mobile(desktop));
        assert_eq!(browser_label(desktop), "Firefox on Linux");
        assert_eq!(browser_label(""), "Browser");
    }

    #[test]
    fn urls_keep_existing_query() {
        assert_eq!(
            url_with_params("https://a.example/cb?x=1", &[("code", "a b")]).as_deref(),
            Some("https://a.example/cb?x=1&code=a+b")
        );
        assert!(url_with_params("not a url", &[]).is_none());
    }
}
