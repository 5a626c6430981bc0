//! The app's answers to a login request: the list of waiting requests, opening a deep
//! link, approving (number, consent, the sales unit's questions), rejecting, and in test
//! mode ending a request with a chosen outcome. Of two answers at the same moment exactly
//! one wins; the other gets [`ServiceError::Conflict`].

use nod_core::login::{
    self, AfterApproval, AfterRejection, Amr, DelegatedAnswer, LoginRequest, Status,
};
use nod_core::scenario::{self, Effect, Outcome};
use nod_core::scope::{Scope, ScopeSet};
use nod_core::{ErrorCode, OAuthError, crypto, links};
use nod_store::Confirmation;
use uuid::Uuid;

use super::engine::{Result, Service, ServiceError, audit_entry};
use crate::events::LoginEvent;
use crate::metrics;

/// The app's answer to a login request.
#[derive(Debug, Default)]
pub struct Approval {
    /// The number picked (desktop flow).
    pub challenge: Option<u8>,
    pub remember_browser: bool,
    /// The answer to the consent question, when consent is asked in the app.
    pub consent: Option<bool>,
    /// Answers to the sales unit's consent questions (`delegatedConsents`).
    pub delegated_consents: Option<Vec<DelegatedAnswer>>,
}

/// What the app does after it answered.
#[derive(Debug, PartialEq, Eq)]
pub enum AppNext {
    /// The waiting browser continues by itself.
    ReturnToBrowser,
    /// Open this URL (app to app, automatic return, login to a web page).
    OpenUrl(String),
    /// Nothing: a merchant-initiated login is answered.
    Done,
}

/// How a test-mode outcome ended a login request.
#[derive(Debug, PartialEq, Eq)]
pub struct OutcomeAnswer {
    /// The error the request failed with as stored; `None` when it expired.
    pub error: Option<ErrorCode>,
    /// What the app does next.
    pub next: AppNext,
}

/// A login request waiting for the app, with what the app shows about it.
#[derive(Debug)]
pub struct PendingLogin {
    pub login: LoginRequest,
    pub merchant: String,
    /// What the person is asked to consent to in the app (empty when nothing is asked).
    pub consent_scopes: ScopeSet,
    /// The sales unit's consent questions, when the login asks for `delegatedConsents`.
    pub delegated: Option<nod_core::sales_unit::ConsentTexts>,
}

impl Service {
    /// The login requests waiting for this person's answer, oldest first.
    pub async fn pending_logins(&self, user_id: Uuid) -> Result<Vec<PendingLogin>> {
        let pending = self
            .store
            .list_pending_login_requests(user_id, self.now())
            .await?;
        let mut out = Vec::with_capacity(pending.len());
        for login in pending {
            out.push(self.describe(login).await?);
        }
        Ok(out)
    }

    async fn describe(&self, login: LoginRequest) -> Result<PendingLogin> {
        let unit = self.sales_unit(&login.client_id).await?;
        let delegated = unit
            .as_ref()
            .and_then(|u| u.consent_texts.clone())
            .filter(|_| login.scopes.contains(Scope::DelegatedConsents));
        let merchant = unit
            .map(|u| u.name.clone())
            .unwrap_or_else(|| login.client_id.clone());
        let consent_scopes = if login.consent_in_app() {
            self.missing_consent(&login).await?
        } else {
            ScopeSet::default()
        };
        Ok(PendingLogin {
            login,
            merchant,
            consent_scopes,
            delegated,
        })
    }

    /// The app opened a deep link: the browser's login request becomes this person's,
    /// unless they may not log in (inactive, or under 15): then it stays unanswered and
    /// runs out of time, as a login sent to them from the phone form would.
    pub async fn open_ticket(&self, user_id: Uuid, ticket: &str) -> Result<PendingLogin> {
        let gone = || ServiceError::NotFound("the link is unknown, already used or expired");
        if !links::ticket_is_fresh(ticket, self.now()) {
            return Err(gone());
        }
        let may_log_in = self
            .store
            .get_user(user_id)
            .await?
            .is_some_and(|u| u.may_log_in(self.now()));
        if !may_log_in {
            return Err(ServiceError::Refused(
                "this person may not use login (inactive, or under 15)",
            ));
        }
        let login = self
            .store
            .open_login_ticket(&crypto::hash_secret(ticket), user_id, self.now())
            .await?
            .ok_or_else(gone)?;
        self.events.send(LoginEvent::Sent {
            id: login.id,
            user_id,
        });
        self.describe(login).await
    }

    /// A login request of this person that the app may still answer.
    async fn answerable(&self, user_id: Uuid, id: &str) -> Result<LoginRequest> {
        let login = self.login_by_id(id).await?;
        if login.user_id != Some(user_id) {
            return Err(ServiceError::NotFound("no such login request"));
        }
        let now = self.now();
        if login.is_expired(now) {
            return Err(ServiceError::Expired);
        }
        if !login.is_pending(now) {
            return Err(ServiceError::Conflict);
        }
        Ok(login)
    }

    /// The app approves: checks the number, the consent and the answers, confirms, and
    /// says what the app does next.
    pub async fn approve(&self, user_id: Uuid, id: &str, answer: Approval) -> Result<AppNext> {
        let login = self.answerable(user_id, id).await?;
        if let Some(expected) = login.challenge {
            let picked = answer.challenge.ok_or_else(|| {
                OAuthError::invalid_request("challenge is required: the number the browser shows")
            })?;
            if picked != expected {
                self.fail_from_app(
                    &login,
                    user_id,
                    ErrorCode::WrongChallenge,
                    "login_wrong_challenge",
                )
                .await?;
                return Err(OAuthError::new(
                    ErrorCode::WrongChallenge,
                    "that is not the number the browser shows; the login is cancelled",
                )
                .into());
            }
        }
        let missing = if login.consent_in_app() {
            self.missing_consent(&login).await?
        } else {
            ScopeSet::default()
        };
        if !missing.is_empty() {
            match answer.consent {
                None => {
                    return Err(OAuthError::invalid_request(
                        "consent is asked in the app: send \"consent\": true or false",
                    )
                    .into());
                }
                Some(false) => {
                    return self
                        .fail_from_app(&login, user_id, ErrorCode::AccessDenied, "login_rejected")
                        .await;
                }
                Some(true) => {}
            }
        }
        let answers = self
            .check_delegated(&login, answer.delegated_consents)
            .await?;
        let now = self.now();
        // A browser is remembered only where the person matched the number: nothing shows
        // that a browser whose login was opened from a deep link is on their phone.
        let remember =
            (answer.remember_browser || login.remember_browser) && login.challenge.is_some();
        let consent = (!missing.is_empty()).then(|| login.scopes.consentable());
        let confirmed = LoginRequest {
            status: Status::Confirmed,
            user_id: Some(user_id),
            amr: Some(Amr::App),
            remember_browser: remember,
            auth_time: Some(now),
            expires_at: now + self.config.login_request_lifetime,
            delegated_answers: answers,
            ..login
        };
        // What the app finishes itself is issued in the same move as the confirmation:
        // nothing can take the code in between, and the app's answer is the only one.
        let next = login::after_approval(&confirmed);
        let code = matches!(
            next,
            AfterApproval::OpenRedirectWithCode | AfterApproval::OpenWebpageWithCode
        )
        .then(|| self.new_code(&confirmed, user_id, Amr::App, now));
        let resume = (next == AfterApproval::ResumeInMerchantApp).then(crypto::random_secret);
        let resume_hash = resume.as_deref().map(crypto::hash_secret);
        let confirmation = Confirmation {
            user_id,
            amr: Amr::App,
            remember_browser: remember,
            now,
            expires_at: confirmed.expires_at,
            consent,
            delegated_answers: confirmed.delegated_answers.as_deref(),
            code: code.as_ref().map(|(_, record)| record),
            resume_hash: resume_hash.as_ref().map(|h| h.as_slice()),
        };
        let consent_text = consent.map(|c| c.to_string()).unwrap_or_default();
        let mut audit = vec![audit_entry(
            now,
            "login_confirmed",
            Some(user_id),
            &confirmed.client_id,
            Amr::App.as_str(),
        )];
        if consent.is_some() {
            audit.push(audit_entry(
                now,
                "consent_given",
                Some(user_id),
                &confirmed.client_id,
                &consent_text,
            ));
        }
        if code.is_some() {
            audit.push(audit_entry(
                now,
                "login_completed",
                Some(user_id),
                &confirmed.client_id,
                Amr::App.as_str(),
            ));
        }
        if !self
            .store
            .confirm_login_request(confirmed.id, &confirmation, &audit)
            .await?
        {
            return Err(ServiceError::Conflict);
        }
        self.announce_closed(&confirmed);
        metrics::login_ended(metrics::journey(&confirmed), "confirmed");
        let bad_url = || anyhow::anyhow!("a stored redirect URI is not a URL");
        match (next, code, resume) {
            (AfterApproval::ReturnToBrowser, ..) => Ok(AppNext::ReturnToBrowser),
            (AfterApproval::Done, ..) => {
                self.notify_merchant(&confirmed).await;
                Ok(AppNext::Done)
            }
            (AfterApproval::ResumeInMerchantApp, _, Some(token)) => {
                let resume = links::with_params(
                    &format!(
                        "{}{}",
                        self.config.base(),
                        crate::paths::login_page(confirmed.id, "resume")
                    ),
                    &[("token", &token)],
                )
                .ok_or_else(bad_url)?;
                let callback = confirmed
                    .app_callback_uri
                    .as_deref()
                    .unwrap_or(&confirmed.redirect_uri);
                let url = links::with_params(
                    callback,
                    &[
                        ("state", confirmed.state.as_str()),
                        ("resume_uri", resume.as_str()),
                    ],
                )
                .ok_or_else(bad_url)?;
                Ok(AppNext::OpenUrl(url))
            }
            (AfterApproval::OpenRedirectWithCode, Some((code, _)), _) => {
                let scope = confirmed.scopes.to_string();
                let iss = self.config.issuer();
                let url = links::with_params(
                    &confirmed.redirect_uri,
                    &[
                        ("code", code.as_str()),
                        ("state", confirmed.state.as_str()),
                        ("scope", scope.as_str()),
                        ("iss", iss.as_str()),
                    ],
                )
                .ok_or_else(bad_url)?;
                Ok(AppNext::OpenUrl(url))
            }
            (AfterApproval::OpenWebpageWithCode, Some((code, _)), _) => {
                let url = links::with_params(&confirmed.redirect_uri, &[("code", code.as_str())])
                    .ok_or_else(bad_url)?;
                self.notify_merchant(&confirmed).await;
                Ok(AppNext::OpenUrl(url))
            }
            _ => Err(anyhow::anyhow!("the approval's next step lost its code or token").into()),
        }
    }

    /// Checks the answers to the sales unit's consent questions, when it asks any.
    async fn check_delegated(
        &self,
        login: &LoginRequest,
        answers: Option<Vec<DelegatedAnswer>>,
    ) -> Result<Option<Vec<DelegatedAnswer>>> {
        if !login.scopes.contains(Scope::DelegatedConsents) {
            return Ok(None);
        }
        let Some(texts) = self
            .sales_unit(&login.client_id)
            .await?
            .and_then(|u| u.consent_texts.clone())
        else {
            return Ok(None);
        };
        let answers = answers.ok_or_else(|| {
            OAuthError::invalid_request(
                "delegated_consents: answer the sales unit's consent questions",
            )
        })?;
        Ok(Some(login::check_delegated_answers(&texts, &answers)?))
    }

    /// The app rejects. `reason`: `rejected` (the default), `not_me` or `cancelled`;
    /// anything else reaches the merchant as `unknown_reject_reason`.
    pub async fn reject(&self, user_id: Uuid, id: &str, reason: Option<&str>) -> Result<AppNext> {
        let login = self.answerable(user_id, id).await?;
        let error = match reason {
            None | Some("rejected" | "not_me" | "cancelled") => ErrorCode::AccessDenied,
            Some(_) => ErrorCode::UnknownRejectReason,
        };
        self.fail_from_app(&login, user_id, error, "login_rejected")
            .await
    }

    /// Test mode only: ends a waiting login with `outcome` (see [`nod_core::scenario`]), as
    /// the merchant would see it from a real app: a failure takes the same conditional
    /// move as a rejection; `expire_now` ends it as if its time had run out. Outside test
    /// mode there is no such thing (`NotFound`).
    pub async fn answer_with_outcome(
        &self,
        user_id: Uuid,
        id: &str,
        outcome: &str,
    ) -> Result<OutcomeAnswer> {
        if !self.config.test_mode {
            return Err(ServiceError::NotFound("only in test mode"));
        }
        let login = self.answerable(user_id, id).await?;
        let outcome = Outcome::parse(outcome).ok_or_else(|| {
            OAuthError::invalid_request(format!(
                "outcome must be one of: {}",
                Outcome::ALL.map(Outcome::as_str).join(", ")
            ))
        })?;
        match scenario::effect(&login, outcome)? {
            Effect::Fail(error) => {
                let next = self
                    .fail_from_app(&login, user_id, error, "login_test_outcome")
                    .await?;
                Ok(OutcomeAnswer {
                    error: Some(error),
                    next,
                })
            }
            Effect::Expire => {
                let now = self.now();
                let audit = [audit_entry(
                    now,
                    "login_test_outcome",
                    Some(user_id),
                    &login.client_id,
                    outcome.as_str(),
                )];
                if !self
                    .store
                    .expire_login_request(login.id, user_id, now, &audit)
                    .await?
                {
                    return Err(ServiceError::Conflict);
                }
                self.announce_closed(&login);
                metrics::login_ended(metrics::journey(&login), "expired");
                Ok(OutcomeAnswer {
                    error: None,
                    next: AppNext::Done,
                })
            }
        }
    }

    /// Fails a waiting login from the app (`Conflict` when another answer came first), and
    /// says what the app does next.
    async fn fail_from_app(
        &self,
        login: &LoginRequest,
        user_id: Uuid,
        error: ErrorCode,
        event: &str,
    ) -> Result<AppNext> {
        let now = self.now();
        let audit = [audit_entry(
            now,
            event,
            Some(user_id),
            &login.client_id,
            error.as_str(),
        )];
        if !self
            .store
            .fail_login_request(
                login.id,
                &[Status::Waiting],
                Some(user_id),
                error,
                now,
                &audit,
            )
            .await?
        {
            return Err(ServiceError::Conflict);
        }
        self.announce_closed(login);
        metrics::login_ended(metrics::journey(login), error.as_str());
        self.notify_merchant(login).await;
        let description = login::failure_description(error);
        let url = match login::after_rejection(login) {
            AfterRejection::Done => return Ok(AppNext::Done),
            AfterRejection::ReturnToBrowser => return Ok(AppNext::ReturnToBrowser),
            AfterRejection::OpenAppCallbackWithError => links::with_params(
                login
                    .app_callback_uri
                    .as_deref()
                    .unwrap_or(&login.redirect_uri),
                &[
                    ("state", login.state.as_str()),
                    ("error", error.as_str()),
                    ("error_description", description),
                ],
            ),
            AfterRejection::OpenRedirectWithError => links::with_params(
                &login.redirect_uri,
                &[
                    ("error", error.as_str()),
                    ("error_description", description),
                    ("state", login.state.as_str()),
                    ("iss", &self.config.issuer()),
                ],
            ),
        };
        let url = url.ok_or_else(|| anyhow::anyhow!("a stored redirect URI is not a URL"))?;
        Ok(AppNext::OpenUrl(url))
    }
}
