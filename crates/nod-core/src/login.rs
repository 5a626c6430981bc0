//! Login requests: a login waiting for the person's confirmation in the app, the number
//! they must pick, and the states it passes through. Also consents and remembered
//! browsers, which decide whether a login needs the app or the consent page at all.

use rand::Rng;
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::authorize::{AuthorizeRequest, Flow, Prompt, ResponseMode};
use crate::pkce::ChallengeMethod;
use crate::sales_unit::ConsentTexts;
use crate::scope::ScopeSet;
use crate::{ErrorCode, OAuthError, Timestamp};

/// Where a login request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Created; the browser has not said who is logging in.
    New,
    /// Waiting for the app: sent to a user (or to nobody, for an unknown number).
    Waiting,
    /// The person confirmed (in the app, or by a remembered browser).
    Confirmed,
    /// A code was issued; the login is over.
    Done,
    /// Rejected, wrong number, or cancelled: `error` says which.
    Failed,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::New => "new",
            Self::Waiting => "waiting",
            Self::Confirmed => "confirmed",
            Self::Done => "done",
            Self::Failed => "failed",
        }
    }
}

/// How the person proved who they are (the ID token's `amr`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Amr {
    /// Confirmed in the app.
    #[serde(rename = "app")]
    App,
    /// A browser they chose to be remembered in.
    #[serde(rename = "remembered_browser")]
    RememberedBrowser,
}

impl Amr {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::App => "app",
            Self::RememberedBrowser => "remembered_browser",
        }
    }
}

/// Who started a login.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A browser, at the authorize endpoint.
    Browser,
    /// The merchant's system, at the backchannel authentication endpoint (CIBA).
    MerchantInitiated,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Browser => "browser",
            Self::MerchantInitiated => "merchant_initiated",
        }
    }
}

crate::stored::stored_enum!(Status => [New, Waiting, Confirmed, Done, Failed]);
crate::stored::stored_enum!(Amr => [App, RememberedBrowser]);
crate::stored::stored_enum!(Kind => [Browser, MerchantInitiated]);

/// The merchant-initiated parts of a login request.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Ciba {
    /// The `auth_req_id` the merchant polls with. Useless without the client's credentials.
    pub auth_req_id: String,
    pub binding_message: Option<String>,
    /// Bearer token for ping-mode notifications.
    pub notification_token: Option<String>,
    /// When the merchant last polled, for `slow_down`.
    pub last_polled_at: Option<Timestamp>,
}

/// A login request, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginRequest {
    pub id: Uuid,
    pub kind: Kind,
    /// Set for merchant-initiated logins.
    pub ciba: Option<Ciba>,
    /// The person's answers to the sales unit's consent questions, when asked.
    pub delegated_answers: Option<Vec<DelegatedAnswer>>,
    pub client_id: String,
    pub redirect_uri: String,
    pub scopes: ScopeSet,
    pub state: String,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<ChallengeMethod>,
    pub flow: Flow,
    pub app_callback_uri: Option<String>,
    pub final_redirect_is_app: bool,
    pub acr_app_auth: bool,
    pub prompt: Prompt,
    pub response_mode: ResponseMode,
    /// SHA-256 of the browser cookie the request is bound to.
    pub browser_binding: Vec<u8>,
    /// Token every form of this login must carry.
    pub csrf_token: String,
    pub status: Status,
    pub user_id: Option<Uuid>,
    /// The number the browser shows.
    pub challenge: Option<u8>,
    /// The three numbers the app shows, the right one among them.
    pub choices: Option<[u8; 3]>,
    pub remember_browser: bool,
    pub amr: Option<Amr>,
    pub error: Option<ErrorCode>,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    pub auth_time: Option<Timestamp>,
}

impl LoginRequest {
    /// A new login request for a valid authorization request.
    pub fn new(
        req: AuthorizeRequest,
        browser_binding: Vec<u8>,
        csrf_token: String,
        now: Timestamp,
        lifetime: i64,
    ) -> Self {
        let (code_challenge, code_challenge_method) = match req.code_challenge {
            Some((c, m)) => (Some(c), Some(m)),
            None => (None, None),
        };
        LoginRequest {
            id: Uuid::new_v4(),
            kind: Kind::Browser,
            ciba: None,
            delegated_answers: None,
            client_id: req.client_id,
            redirect_uri: req.redirect_uri,
            scopes: req.scopes,
            state: req.state,
            nonce: req.nonce,
            code_challenge,
            code_challenge_method,
            flow: req.flow,
            app_callback_uri: req.app_callback_uri,
            final_redirect_is_app: req.final_redirect_is_app,
            acr_app_auth: req.acr_app_auth,
            prompt: req.prompt,
            response_mode: req.response_mode,
            browser_binding,
            csrf_token,
            status: Status::New,
            user_id: None,
            challenge: None,
            choices: None,
            remember_browser: false,
            amr: None,
            error: None,
            created_at: now,
            expires_at: now + lifetime,
            auth_time: None,
        }
    }

    /// Whether the request has run out of time without finishing.
    pub fn is_expired(&self, now: Timestamp) -> bool {
        matches!(
            self.status,
            Status::New | Status::Waiting | Status::Confirmed
        ) && now >= self.expires_at
    }

    /// Whether the app may still act on it.
    pub fn is_pending(&self, now: Timestamp) -> bool {
        self.status == Status::Waiting && now < self.expires_at
    }

    /// Whether the person consents in the app rather than on a page: merchant-initiated
    /// logins, app to app v2 and automatic return.
    pub fn consent_in_app(&self) -> bool {
        self.kind == Kind::MerchantInitiated
            || matches!(self.flow, Flow::AppToAppV2 | Flow::AutomaticReturn)
    }

    /// Whether the app, not the browser, receives the code.
    pub fn finishes_in_app(&self) -> bool {
        match self.kind {
            Kind::MerchantInitiated => !self.redirect_uri.is_empty(),
            Kind::Browser => matches!(self.flow, Flow::AppToAppV2 | Flow::AutomaticReturn),
        }
    }
}

/// The person's answer to one of the sales unit's consent questions (`delegatedConsents`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DelegatedAnswer {
    pub id: String,
    pub accepted: bool,
}

/// Checks the answers to a sales unit's consent questions: one answer per question, no
/// answer to a question that was not asked, every required question accepted. The same
/// answer twice is accepted; two different answers to one question are refused.
pub fn check_delegated_answers(
    texts: &ConsentTexts,
    answers: &[DelegatedAnswer],
) -> Result<Vec<DelegatedAnswer>, OAuthError> {
    let mut checked: Vec<DelegatedAnswer> = Vec::with_capacity(texts.consents.len());
    for answer in answers {
        if !texts.consents.iter().any(|q| q.id == answer.id) {
            return Err(OAuthError::invalid_request(
                "delegated_consents: an answer to a question that was not asked",
            ));
        }
        match checked.iter().find(|a| a.id == answer.id) {
            Some(earlier) if earlier.accepted != answer.accepted => {
                return Err(OAuthError::invalid_request(format!(
                    "delegated_consents: two different answers to '{}'",
                    answer.id
                )));
            }
            Some(_) => {}
            None => checked.push(answer.clone()),
        }
    }
    for question in &texts.consents {
        match checked.iter().find(|a| a.id == question.id) {
            None => {
                return Err(OAuthError::invalid_request(format!(
                    "delegated_consents: no answer for '{}'",
                    question.id
                )));
            }
            Some(a) if question.required && !a.accepted => {
                return Err(OAuthError::invalid_request(format!(
                    "delegated_consents: '{}' must be accepted",
                    question.id
                )));
            }
            Some(_) => {}
        }
    }
    Ok(checked)
}

/// What the app does once the person has approved a login.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterApproval {
    /// The browser that waits continues by itself (desktop and mobile web journeys).
    ReturnToBrowser,
    /// App to app: the app opens the merchant's app with a single-use `resume_uri`.
    ResumeInMerchantApp,
    /// App to app v2 and automatic return: the app opens the redirect URI with the code,
    /// `state`, `scope` and `iss`.
    OpenRedirectWithCode,
    /// Merchant-initiated login to a web page: the app opens the redirect URI with a code only.
    OpenWebpageWithCode,
    /// Merchant-initiated login (poll or ping): the merchant learns it; the app is done.
    Done,
}

/// What the app does once the person has rejected a login (or it failed in the app).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterRejection {
    /// The waiting browser shows the error and returns to the merchant by itself.
    ReturnToBrowser,
    /// App to app: the app opens `{app_callback_uri}?state=…&error=…&error_description=…`.
    OpenAppCallbackWithError,
    /// App to app v2 and automatic return: the app opens the redirect URI with the error,
    /// `state` and `iss`, as it would have opened it with the code.
    OpenRedirectWithError,
    /// Merchant-initiated login: the merchant learns it; the app is done.
    Done,
}

/// What comes after the person rejects this login in the app.
pub fn after_rejection(login: &LoginRequest) -> AfterRejection {
    match (login.kind, login.flow) {
        (Kind::MerchantInitiated, _) => AfterRejection::Done,
        (Kind::Browser, Flow::Web) => AfterRejection::ReturnToBrowser,
        (Kind::Browser, Flow::AppToApp) => AfterRejection::OpenAppCallbackWithError,
        (Kind::Browser, Flow::AppToAppV2 | Flow::AutomaticReturn) => {
            AfterRejection::OpenRedirectWithError
        }
    }
}

/// What comes after the person approves this login in the app.
pub fn after_approval(login: &LoginRequest) -> AfterApproval {
    match (login.kind, login.flow) {
        (Kind::MerchantInitiated, _) if login.finishes_in_app() => {
            AfterApproval::OpenWebpageWithCode
        }
        (Kind::MerchantInitiated, _) => AfterApproval::Done,
        (Kind::Browser, Flow::Web) => AfterApproval::ReturnToBrowser,
        (Kind::Browser, Flow::AppToApp) => AfterApproval::ResumeInMerchantApp,
        (Kind::Browser, Flow::AppToAppV2 | Flow::AutomaticReturn) => {
            AfterApproval::OpenRedirectWithCode
        }
    }
}

/// Where a browser login goes from here, once the login page has been left.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BrowserStep {
    /// Out of time: the "try again" page.
    Expired,
    /// Not answered yet: back to the login page.
    Start,
    /// Failed: the error goes to the merchant.
    Fail(ErrorCode),
    /// The app finished it (app to app v2, automatic return): nothing left to do here.
    FinishedInApp,
    /// The code was issued already.
    AlreadyDone,
    /// Confirmed, and consent is needed first.
    AskConsent,
    /// Confirmed, but consent is needed and `prompt=none` forbids asking.
    ConsentRequired,
    /// Confirmed and consented: issue the code and go back to the merchant.
    Finish,
}

/// Decides a browser login's next step from its state and the consent still missing.
pub fn browser_step(login: &LoginRequest, missing: ScopeSet, now: Timestamp) -> BrowserStep {
    if login.is_expired(now) {
        return BrowserStep::Expired;
    }
    match login.status {
        Status::New | Status::Waiting => BrowserStep::Start,
        Status::Failed => BrowserStep::Fail(login.error.unwrap_or(ErrorCode::AccessDenied)),
        Status::Done if login.finishes_in_app() => BrowserStep::FinishedInApp,
        Status::Done => BrowserStep::AlreadyDone,
        Status::Confirmed if missing.is_empty() => BrowserStep::Finish,
        Status::Confirmed if login.prompt == Prompt::None => BrowserStep::ConsentRequired,
        Status::Confirmed => BrowserStep::AskConsent,
    }
}

/// Whether a browser waiting on the number page should move on: the app answered, or
/// time ran out. In the app-to-app flow the merchant's app resumes the browser instead.
pub fn browser_moves_on(login: &LoginRequest, now: Timestamp) -> bool {
    match login.status {
        Status::Failed => true,
        _ if login.is_expired(now) => true,
        Status::New | Status::Waiting => false,
        Status::Confirmed | Status::Done => login.flow != Flow::AppToApp,
    }
}

/// What the merchant is told about a failed login, for developers.
pub fn failure_description(code: ErrorCode) -> &'static str {
    match code {
        ErrorCode::WrongChallenge => "the user picked the wrong number in the app",
        ErrorCode::AccessDenied => "the user rejected the login",
        ErrorCode::LoginRequired => "the user must confirm the login in the app",
        ErrorCode::ConsentRequired => "the user has not consented to these scopes",
        ErrorCode::UnknownRejectReason => {
            "the login was rejected in the app for a reason Nod does not know"
        }
        ErrorCode::OutdatedAppVersion | ErrorCode::OldApp => {
            "the user's app is too old for this login"
        }
        _ => "the login failed",
    }
}

/// A new number to show in the browser, and the three the app offers (shuffled, the
/// right one among them, all different).
pub fn new_challenge() -> (u8, [u8; 3]) {
    let mut rng = rand::rng();
    let right = rng.random_range(10..=99u8);
    let mut choices = [right, 0, 0];
    let mut i = 1;
    while i < 3 {
        let n = rng.random_range(10..=99u8);
        if !choices[..i].contains(&n) {
            choices[i] = n;
            i += 1;
        }
    }
    choices.shuffle(&mut rng);
    (right, choices)
}

/// The scopes a person agreed to share with one sales unit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Consent {
    pub user_id: Uuid,
    pub client_id: String,
    pub scopes: ScopeSet,
    pub granted_at: Timestamp,
}

/// What still needs consent for a login: the requested consentable scopes the user has
/// not already agreed to (all of them with `prompt=consent`).
pub fn missing_consent(requested: ScopeSet, given: Option<&Consent>, prompt: Prompt) -> ScopeSet {
    let wanted = requested.consentable();
    match (given, prompt) {
        (_, Prompt::Consent) => wanted,
        (Some(c), _) => wanted.difference(c.scopes),
        (None, _) => wanted,
    }
}

/// A browser a person chose to be remembered in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RememberedBrowser {
    pub id: Uuid,
    #[serde(skip)]
    pub user_id: Uuid,
    /// A short description of the browser, from its user agent.
    pub label: String,
    pub created_at: Timestamp,
    pub last_used_at: Timestamp,
    pub expires_at: Timestamp,
}

/// A registered app (authentication device).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    pub id: Uuid,
    pub user_id: Uuid,
    /// What the person called it when it was registered, if anything.
    pub name: Option<String>,
    pub created_at: Timestamp,
    /// When it was last used, to the day: each use pushes the expiry on, at most once a
    /// day (see [`Device::due_for_use`]).
    pub last_used_at: Timestamp,
    /// Its token stops working then unless it is used before.
    pub expires_at: Timestamp,
}

impl Device {
    /// Whether a use at `now` should push the expiry on to `now + idle`: once a day at
    /// most, so that the app's many calls do not each write.
    pub fn due_for_use(&self, now: Timestamp) -> bool {
        now - self.last_used_at >= 86_400
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::authorize::AuthorizeRequest;
    use crate::sales_unit::{ConsentLinks, ConsentQuestion};

    fn browser_login(flow: Flow) -> LoginRequest {
        let request = AuthorizeRequest {
            client_id: "c".into(),
            redirect_uri: "https://shop.example/cb".into(),
            scopes: ScopeSet::parse("openid name").unwrap(),
            state: "state-123".into(),
            nonce: None,
            code_challenge: None,
            flow,
            app_callback_uri: None,
            final_redirect_is_app: false,
            acr_app_auth: false,
            prompt: Prompt::Default,
            response_mode: ResponseMode::Query,
        };
        LoginRequest::new(request, vec![], "csrf".into(), 1000, 300)
    }

    fn texts() -> ConsentTexts {
        let question = |id: &str, required| ConsentQuestion {
            id: id.into(),
            required,
            text_displayed_to_user: id.into(),
        };
        ConsentTexts {
            language: "en".into(),
            heading: "h".into(),
            text: "t".into(),
            terms_description: "d".into(),
            confirm_consent_button_text: "ok".into(),
            links: ConsentLinks {
                terms_link_text: "terms".into(),
                terms_link_url: "https://shop.example/terms".into(),
                privacy_statement_link_text: "privacy".into(),
                privacy_statement_link_url: "https://shop.example/privacy".into(),
            },
            consents: vec![question("terms", true), question("offers", false)],
        }
    }

    fn answer(id: &str, accepted: bool) -> DelegatedAnswer {
        DelegatedAnswer {
            id: id.into(),
            accepted,
        }
    }

    #[test]
    fn delegated_answers_are_checked() {
        let t = texts();
        let ok = check_delegated_answers(&t, &[answer("terms", true), answer("offers", false)]);
        assert_eq!(ok.unwrap().len(), 2);
        let repeated = [
            answer("terms", true),
            answer("offers", true),
            answer("offers", true),
        ];
        assert_eq!(check_delegated_answers(&t, &repeated).unwrap().len(), 2);
        let refused = |answers: &[DelegatedAnswer]| {
            check_delegated_answers(&t, answers)
                .unwrap_err()
                .description
        };
        assert!(refused(&[answer("terms", true)]).contains("no answer for 'offers'"));
        assert!(
            refused(&[answer("terms", false), answer("offers", true)]).contains("must be accepted")
        );
        assert!(
            refused(&[
                answer("terms", true),
                answer("offers", true),
                answer("offers", false)
            ])
            .contains("two different answers")
        );
        assert!(
            refused(&[
                answer("terms", true),
                answer("offers", true),
                answer("spam", true)
            ])
            .contains("not asked")
        );
    }

    #[test]
    fn what_comes_after_approval() {
        assert_eq!(
            after_approval(&browser_login(Flow::Web)),
            AfterApproval::ReturnToBrowser
        );
        assert_eq!(
            after_approval(&browser_login(Flow::AppToApp)),
            AfterApproval::ResumeInMerchantApp
        );
        for flow in [Flow::AppToAppV2, Flow::AutomaticReturn] {
            assert_eq!(
                after_approval(&browser_login(flow)),
                AfterApproval::OpenRedirectWithCode
            );
        }
        let mut ciba = browser_login(Flow::Web);
        ciba.kind = Kind::MerchantInitiated;
        ciba.redirect_uri = String::new();
        assert_eq!(after_approval(&ciba), AfterApproval::Done);
        ciba.redirect_uri = "https://shop.example/cb".into();
        assert_eq!(after_approval(&ciba), AfterApproval::OpenWebpageWithCode);
    }

    #[test]
    fn what_comes_after_rejection() {
        assert_eq!(
            after_rejection(&browser_login(Flow::Web)),
            AfterRejection::ReturnToBrowser
        );
        assert_eq!(
            after_rejection(&browser_login(Flow::AppToApp)),
            AfterRejection::OpenAppCallbackWithError
        );
        for flow in [Flow::AppToAppV2, Flow::AutomaticReturn] {
            assert_eq!(
                after_rejection(&browser_login(flow)),
                AfterRejection::OpenRedirectWithError
            );
        }
        let mut ciba = browser_login(Flow::Web);
        ciba.kind = Kind::MerchantInitiated;
        assert_eq!(after_rejection(&ciba), AfterRejection::Done);
    }

    #[test]
    fn browser_steps() {
        let none = ScopeSet::default();
        let name = ScopeSet::parse("name").unwrap();
        let mut login = browser_login(Flow::Web);
        assert_eq!(browser_step(&login, name, 1000), BrowserStep::Start);
        assert_eq!(browser_step(&login, name, 1300), BrowserStep::Expired);
        login.status = Status::Confirmed;
        assert_eq!(browser_step(&login, name, 1000), BrowserStep::AskConsent);
        assert_eq!(browser_step(&login, none, 1000), BrowserStep::Finish);
        login.prompt = Prompt::None;
        assert_eq!(
            browser_step(&login, name, 1000),
            BrowserStep::ConsentRequired
        );
        login.status = Status::Failed;
        login.error = Some(ErrorCode::WrongChallenge);
        assert_eq!(
            browser_step(&login, name, 5000),
            BrowserStep::Fail(ErrorCode::WrongChallenge),
            "a failed login reports its error even after the expiry time"
        );
        login.status = Status::Done;
        assert_eq!(browser_step(&login, none, 1000), BrowserStep::AlreadyDone);
        login.flow = Flow::AutomaticReturn;
        assert_eq!(browser_step(&login, none, 1000), BrowserStep::FinishedInApp);
    }

    #[test]
    fn the_waiting_page_moves_on_when_the_app_answered() {
        let mut login = browser_login(Flow::Web);
        login.status = Status::Waiting;
        assert!(!browser_moves_on(&login, 1000));
        assert!(browser_moves_on(&login, 1300), "expired");
        login.status = Status::Confirmed;
        assert!(browser_moves_on(&login, 1000));
        login.flow = Flow::AppToApp;
        assert!(
            !browser_moves_on(&login, 1000),
            "the merchant's app resumes it"
        );
        login.status = Status::Failed;
        assert!(browser_moves_on(&login, 1000));
    }

    #[test]
    fn stored_names_round_trip_and_unknown_ones_are_refused() {
        use crate::StoredEnum;
        for status in Status::ALL {
            assert_eq!(Status::from_stored(status.as_str()), Some(*status));
        }
        for code in ErrorCode::ALL {
            assert_eq!(ErrorCode::from_stored(code.as_str()), Some(*code));
        }
        assert_eq!(Status::from_stored("teleported"), None);
        assert_eq!(Amr::from_stored(""), None);
        assert_eq!(Kind::from_stored("Browser"), None);
    }

    #[test]
    fn challenges_are_two_digits_and_offered_once() {
        for _ in 0..200 {
            let (right, choices) = new_challenge();
            assert!((10..=99).contains(&right));
            assert_eq!(choices.iter().filter(|c| **c == right).count(), 1);
            assert_ne!(choices[0], choices[1]);
            assert_ne!(choices[1], choices[2]);
            assert_ne!(choices[0], choices[2]);
        }
    }

    #[test]
    fn missing_consent_counts_only_new_scopes() {
        let user_id = Uuid::new_v4();
        let requested = ScopeSet::parse("openid name email").unwrap();
        let given = Consent {
            user_id,
            client_id: "c".into(),
            scopes: ScopeSet::parse("name").unwrap(),
            granted_at: 0,
        };
        assert_eq!(
            missing_consent(requested, Some(&given), Prompt::Default).to_string(),
            "email"
        );
        assert_eq!(
            missing_consent(requested, None, Prompt::Default).to_string(),
            "name email"
        );
        assert_eq!(
            missing_consent(requested, Some(&given), Prompt::Consent).to_string(),
            "name email"
        );
        let only_openid = ScopeSet::parse("openid").unwrap();
        assert!(missing_consent(only_openid, None, Prompt::Default).is_empty());
    }
}
