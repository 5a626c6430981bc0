//! Browser logins: start, the login page, send to a phone, continue, consent, cancel,
//! restart, resume, and finishing with a code (which the app's answers use too). Every move is one conditional store
//! operation: of two answers at the same moment exactly one wins, the other gets
//! [`ServiceError::Conflict`].

use std::net::IpAddr;

use nod_core::authorize::{ACR_APP_AUTH, AuthorizeRequest, Flow, Prompt};
use nod_core::grant::AuthCode;
use nod_core::login::{self, Amr, BrowserStep, Kind, LoginRequest, RememberedBrowser, Status};
use nod_core::{ErrorCode, OAuthError, crypto, links, msisdn};
use nod_store::{Completion, Confirmation, NumberLimits, PhoneDispatch};
use uuid::Uuid;

use super::engine::{Result, Service, ServiceError, audit_entry};
use crate::events::LoginEvent;
use crate::metrics;

/// What the login page shows when a browser arrives at it.
#[derive(Debug)]
pub enum Entry {
    Expired,
    /// The number to match is shown on the waiting page.
    Wait,
    /// The login has moved on (confirmed by a remembered browser, answered, failed).
    Continue,
    /// `prompt=none` could not be honoured: the error goes to the merchant.
    Fail(OAuthError),
    /// A phone, or an app journey: a button opens the app with this deep link.
    OpenApp {
        deep_link: String,
    },
    /// A desktop browser: the phone-number form.
    AskPhone,
}

/// What became of a phone number typed into the login page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhoneOutcome {
    /// Sent (or, for an unknown number, made to look sent).
    Sent,
    Invalid,
    /// Too many submissions from this address, or logins waiting for this number.
    TooMany,
    /// The login had already left the form.
    NotNew,
}

/// Where a browser login goes next, after the app has answered.
#[derive(Debug)]
pub enum Step {
    Expired,
    /// Not answered yet: back to the login page.
    Start,
    /// The error goes to the merchant.
    Fail(OAuthError),
    /// The app finished it; nothing is left to do in this browser.
    FinishedInApp,
    AlreadyDone,
    AskConsent,
    /// The code was issued: back to the merchant.
    Finished(Finished),
}

/// A finished browser login: the success parameters, and the remember cookie to set.
#[derive(Debug)]
pub struct Finished {
    pub code: String,
    pub state: String,
    pub scope: String,
    pub iss: String,
    /// A new remember-me token for this browser, when the person asked to be remembered.
    pub remember_token: Option<String>,
}

impl Finished {
    /// The parameters of the authorization response.
    pub fn pairs(&self) -> [(&str, &str); 4] {
        [
            ("code", self.code.as_str()),
            ("state", self.state.as_str()),
            ("scope", self.scope.as_str()),
            ("iss", self.iss.as_str()),
        ]
    }
}

/// The states a person can still back out of in the browser.
const CANCELLABLE: [Status; 3] = [Status::New, Status::Waiting, Status::Confirmed];

impl Service {
    // ---- the browser door ---------------------------------------------------------

    /// A new login request for a valid authorization request, bound to a browser (not
    /// stored yet).
    pub(super) fn new_browser_login(
        &self,
        request: AuthorizeRequest,
        browser_binding: Vec<u8>,
    ) -> LoginRequest {
        LoginRequest::new(
            request,
            browser_binding,
            crypto::random_secret(),
            self.now(),
            self.config.login_request_lifetime,
        )
    }

    /// The login request `id`, if the browser holding `binding_cookie` started it.
    pub async fn bound_login(
        &self,
        id: &str,
        binding_cookie: Option<&str>,
    ) -> Result<LoginRequest> {
        let login = self.login_by_id(id).await?;
        let bound =
            binding_cookie.is_some_and(|c| crypto::verify_secret(c, &login.browser_binding));
        if !bound {
            return Err(ServiceError::WrongBrowser);
        }
        Ok(login)
    }

    /// Whether the browser waiting on this login should move on (the app answered, time
    /// ran out, or the request is gone). A store error says no: the stream asks again.
    pub async fn browser_moves_on(&self, id: Uuid) -> bool {
        match self.store.get_login_request(id).await {
            Ok(Some(login)) => login::browser_moves_on(&login, self.now()),
            Ok(None) => true,
            Err(_) => false,
        }
    }

    /// Checks that a form carries the login's CSRF token.
    pub fn check_csrf(login: &LoginRequest, sent: Option<&str>) -> Result<()> {
        match sent {
            Some(sent)
                if !sent.is_empty()
                    && crypto::verify_secret(sent, &crypto::hash_secret(&login.csrf_token)) =>
            {
                Ok(())
            }
            _ => Err(ServiceError::BadCsrf),
        }
    }

    /// The browser arrives at the login page: a remembered browser goes straight on, a
    /// phone (or an app journey) opens the app, a desktop browser asks for the number.
    pub async fn enter(
        &self,
        login: &LoginRequest,
        remember_token: Option<&str>,
        mobile: bool,
    ) -> Result<Entry> {
        let now = self.now();
        if login.is_expired(now) {
            return Ok(Entry::Expired);
        }
        match login.status {
            Status::New => {}
            Status::Waiting if login.challenge.is_some() => return Ok(Entry::Wait),
            Status::Waiting => {}
            Status::Confirmed | Status::Done | Status::Failed => return Ok(Entry::Continue),
        }
        if login.status == Status::New
            && !login.acr_app_auth
            && login.prompt != Prompt::Login
            && self.confirm_remembered(login, remember_token).await?
        {
            return Ok(Entry::Continue);
        }
        if login.prompt == Prompt::None {
            return Ok(Entry::Fail(
                self.fail_in_browser(login, ErrorCode::LoginRequired)
                    .await?,
            ));
        }
        if login.flow != Flow::Web || mobile {
            // A new ticket each time the page is shown; only the latest one opens the request.
            let ticket = links::new_ticket(now);
            if login.status == Status::New {
                self.store
                    .set_login_ticket(login.id, &crypto::hash_secret(&ticket), now)
                    .await?;
            }
            let deep_link = links::deep_link(
                self.config.deep_link_template.as_deref(),
                self.config.base(),
                &ticket,
            );
            return Ok(Entry::OpenApp { deep_link });
        }
        Ok(Entry::AskPhone)
    }

    /// Confirms a new login with the browser's remember cookie; false when the cookie is
    /// not a valid one (or another request moved the login first).
    async fn confirm_remembered(&self, login: &LoginRequest, token: Option<&str>) -> Result<bool> {
        let Some(token) = token.filter(|t| t.len() == 43) else {
            return Ok(false);
        };
        let now = self.now();
        let Some(browser) = self
            .store
            .use_browser(&crypto::hash_secret(token), now)
            .await?
        else {
            return Ok(false);
        };
        // The same rule as the shortcut at authorize: a person who may no longer log in
        // (made inactive since) is asked for their number like anyone else.
        let may_log_in = self
            .store
            .get_user(browser.user_id)
            .await?
            .is_some_and(|u| u.may_log_in(now));
        if !may_log_in {
            return Ok(false);
        }
        let confirmation = Confirmation {
            user_id: browser.user_id,
            amr: Amr::RememberedBrowser,
            remember_browser: false,
            now,
            expires_at: now + self.config.login_request_lifetime,
            consent: None,
            delegated_answers: None,
            code: None,
            resume_hash: None,
        };
        let audit = [audit_entry(
            now,
            "login_confirmed",
            Some(browser.user_id),
            &login.client_id,
            Amr::RememberedBrowser.as_str(),
        )];
        let confirmed = self
            .store
            .confirm_login_request(login.id, &confirmation, &audit)
            .await?;
        if confirmed {
            self.events.send(LoginEvent::Changed { id: login.id });
            metrics::login_ended("remembered", "confirmed");
        }
        Ok(confirmed)
    }

    /// The phone form: sends the login to the number's app. An unknown number, and a
    /// person who may not log in (inactive, or under 15), look the same from outside: the
    /// request waits for nobody and expires.
    pub async fn send_to_phone(
        &self,
        login: &LoginRequest,
        typed: &str,
        remember_browser: bool,
        address: Option<IpAddr>,
    ) -> Result<PhoneOutcome> {
        let now = self.now();
        if login.status != Status::New {
            return Ok(PhoneOutcome::NotNew);
        }
        if !self.phone_limiter.allow(address, now) {
            return Ok(PhoneOutcome::TooMany);
        }
        let Some(phone) = msisdn::normalize(typed) else {
            return Ok(PhoneOutcome::Invalid);
        };
        let user_id = self
            .store
            .get_user_by_phone(&phone)
            .await?
            .filter(|u| u.may_log_in(now))
            .map(|u| u.id);
        let (challenge, choices) = login::new_challenge();
        let phone_hash = crypto::hash_secret(&phone);
        let dispatch = PhoneDispatch {
            phone_hash: &phone_hash,
            limits: self.number_limits(),
            user_id,
            challenge,
            choices,
            remember_browser,
            now,
        };
        if self.store.send_login_request(login.id, &dispatch).await? {
            if let Some(user_id) = user_id {
                self.events.send(LoginEvent::Sent {
                    id: login.id,
                    user_id,
                });
            }
            return Ok(PhoneOutcome::Sent);
        }
        // Still new: the number has too many logins waiting (known or not, the same answer).
        let still_new = self
            .store
            .get_login_request(login.id)
            .await?
            .is_some_and(|l| l.status == Status::New);
        Ok(if still_new {
            PhoneOutcome::TooMany
        } else {
            PhoneOutcome::NotNew
        })
    }

    /// Seconds until the number (or person) may be sent another login request: the
    /// earliest waiting one expires, or a request's share of its budget has come back.
    pub(super) async fn number_retry_after(
        &self,
        user_id: Uuid,
        phone_hash: &[u8],
        limits: NumberLimits,
    ) -> Result<i64> {
        let now = self.now();
        let pending = self.store.list_pending_login_requests(user_id, now).await?;
        let mut wait = 0;
        if i64::try_from(pending.len()).unwrap_or(i64::MAX) >= limits.pending {
            wait = pending
                .iter()
                .map(|p| p.expires_at - now)
                .min()
                .unwrap_or(30);
        }
        if let Some(spent_until) = self.store.phone_budget(phone_hash).await? {
            let (_, ahead) = limits.budget_ms();
            let over = spent_until - (now.saturating_mul(1000) + ahead);
            wait = wait.max((over + 999) / 1000);
        }
        Ok(wait.clamp(1, 900))
    }

    /// The limits on the login requests sent to one phone number.
    pub(super) fn number_limits(&self) -> NumberLimits {
        NumberLimits {
            pending: i64::try_from(self.config.max_pending_per_user).unwrap_or(i64::MAX),
            per_window: i64::from(self.config.max_requests_per_number_per_10_minutes),
            window: 600,
        }
    }

    /// After the app answered: consent if needed, then the code, or the error.
    pub async fn proceed(&self, login: &LoginRequest, user_agent: &str) -> Result<Step> {
        let missing = self.missing_consent(login).await?;
        match login::browser_step(login, missing, self.now()) {
            BrowserStep::Expired => Ok(Step::Expired),
            BrowserStep::Start => Ok(Step::Start),
            BrowserStep::Fail(code) => Ok(Step::Fail(OAuthError::new(
                code,
                login::failure_description(code),
            ))),
            BrowserStep::FinishedInApp => Ok(Step::FinishedInApp),
            BrowserStep::AlreadyDone => Ok(Step::AlreadyDone),
            BrowserStep::AskConsent => Ok(Step::AskConsent),
            BrowserStep::ConsentRequired => Ok(Step::Fail(
                self.fail_in_browser(login, ErrorCode::ConsentRequired)
                    .await?,
            )),
            BrowserStep::Finish => self.finish_in_browser(login, false, user_agent).await,
        }
    }

    /// The consent page's "accept": stores the consent and finishes, in one transaction.
    pub async fn accept_consent(&self, login: &LoginRequest, user_agent: &str) -> Result<Step> {
        if login.is_expired(self.now()) {
            return Ok(Step::Expired);
        }
        if login.status != Status::Confirmed || login.user_id.is_none() {
            return self.proceed(login, user_agent).await;
        }
        self.finish_in_browser(login, true, user_agent).await
    }

    async fn finish_in_browser(
        &self,
        login: &LoginRequest,
        consent_given: bool,
        user_agent: &str,
    ) -> Result<Step> {
        match self.finish(login, consent_given, Some(user_agent)).await? {
            Some(finished) => Ok(Step::Finished(finished)),
            // Finished by a concurrent request: show what happened.
            None => Ok(Step::AlreadyDone),
        }
    }

    /// The person backs out in the browser (cancel, or "no" on the consent page): the
    /// login fails with `access_denied` and the error goes to the merchant.
    pub async fn cancel(&self, login: &LoginRequest) -> Result<OAuthError> {
        if login.status == Status::Done {
            return Err(ServiceError::Conflict);
        }
        self.fail_in_browser(login, ErrorCode::AccessDenied).await?;
        Ok(OAuthError::new(
            ErrorCode::AccessDenied,
            "the user cancelled the login",
        ))
    }

    /// "No" on the consent page: the login fails with `access_denied`.
    pub async fn refuse_consent(&self, login: &LoginRequest) -> Result<OAuthError> {
        self.fail_in_browser(login, ErrorCode::AccessDenied).await
    }

    /// Fails a login from the browser side and returns the error for the merchant. An
    /// expired or finished request cannot change any more; the error is reported anyway.
    async fn fail_in_browser(&self, login: &LoginRequest, code: ErrorCode) -> Result<OAuthError> {
        let now = self.now();
        let audit = [audit_entry(
            now,
            "login_cancelled",
            login.user_id,
            &login.client_id,
            code.as_str(),
        )];
        if self
            .store
            .fail_login_request(login.id, &CANCELLABLE, None, code, now, &audit)
            .await?
        {
            self.announce_closed(login);
            metrics::login_ended(metrics::journey(login), code.as_str());
        }
        Ok(OAuthError::new(code, login::failure_description(code)))
    }

    /// "Try again" after expiry: a fresh login request with the same parameters.
    pub async fn restart(&self, old: LoginRequest) -> Result<LoginRequest> {
        let now = self.now();
        let fresh = LoginRequest {
            id: Uuid::new_v4(),
            csrf_token: crypto::random_secret(),
            status: Status::New,
            user_id: None,
            challenge: None,
            choices: None,
            remember_browser: false,
            amr: None,
            error: None,
            delegated_answers: None,
            created_at: now,
            expires_at: now + self.config.login_request_lifetime,
            auth_time: None,
            ..old
        };
        self.store.create_login_request(&fresh).await?;
        Ok(fresh)
    }

    /// The merchant's app brings the browser back after an app-to-app confirmation; the
    /// resume token works once.
    pub async fn resume(&self, login: &LoginRequest, token: &str) -> Result<()> {
        if token.is_empty()
            || !self
                .store
                .take_resume_token(login.id, &crypto::hash_secret(token))
                .await?
        {
            return Err(ServiceError::Refused("the resume link is wrong or used"));
        }
        Ok(())
    }

    /// A new authorization code for a login confirmed by `user_id` (the code, and its
    /// record to store).
    pub(super) fn new_code(
        &self,
        login: &LoginRequest,
        user_id: Uuid,
        amr: Amr,
        now: nod_core::Timestamp,
    ) -> (String, AuthCode) {
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
            acr: (login.acr_app_auth && amr == Amr::App).then(|| ACR_APP_AUTH.to_owned()),
            auth_req_id: login.ciba.as_ref().map(|c| c.auth_req_id.clone()),
            expires_at: now
                + match login.kind {
                    Kind::Browser => self.config.code_lifetime,
                    Kind::MerchantInitiated => self.config.ciba_redirect_code_lifetime(),
                },
        };
        (code, record)
    }

    /// Issues the code of a confirmed login, with the consent given on the page and the
    /// browser to remember, in one transaction. `None` when another request finished it.
    async fn finish(
        &self,
        login: &LoginRequest,
        consent_given: bool,
        user_agent: Option<&str>,
    ) -> Result<Option<Finished>> {
        let (Some(user_id), Some(amr)) = (login.user_id, login.amr) else {
            return Ok(None);
        };
        let now = self.now();
        let (code, record) = self.new_code(login, user_id, amr, now);
        let consent = login.scopes.consentable();
        let consent_text = consent.to_string();
        let remember = match user_agent {
            Some(agent) if login.remember_browser && amr == Amr::App => {
                let token = crypto::random_secret();
                let browser = RememberedBrowser {
                    id: Uuid::new_v4(),
                    user_id,
                    label: links::browser_label(agent),
                    created_at: now,
                    last_used_at: now,
                    expires_at: now + self.config.remember_days * 86_400,
                };
                let hash = crypto::hash_secret(&token);
                Some((token, browser, hash))
            }
            _ => None,
        };
        let mut audit = vec![audit_entry(
            now,
            "login_completed",
            Some(user_id),
            &login.client_id,
            amr.as_str(),
        )];
        if consent_given {
            audit.push(audit_entry(
                now,
                "consent_given",
                Some(user_id),
                &login.client_id,
                &consent_text,
            ));
        }
        if remember.is_some() {
            audit.push(audit_entry(
                now,
                "browser_remembered",
                Some(user_id),
                &login.client_id,
                "",
            ));
        }
        let completion = Completion {
            code: &record,
            now,
            consent: consent_given.then_some((consent, now)),
            browser: remember.as_ref().map(|(_, b, h)| (b, h.as_slice())),
        };
        if !self
            .store
            .complete_login_request(login.id, &completion, &audit)
            .await?
        {
            return Ok(None);
        }
        self.events.send(LoginEvent::Changed { id: login.id });
        Ok(Some(Finished {
            code,
            state: login.state.clone(),
            scope: login.scopes.to_string(),
            iss: self.config.issuer(),
            remember_token: remember.map(|(token, _, _)| token),
        }))
    }
}
