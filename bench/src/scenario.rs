//! The logins the generator makes, request by request, each answer checked.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use anyhow::{Context, bail};
use clap::ValueEnum;
use hyper::StatusCode;
use serde::Serialize;
use serde_json::{Value, json};
use url::Url;

use crate::cookies::Jar;
use crate::http::{Call, Conn, Response};
use crate::links::{self, Hop};
use crate::stats::{StepError, Trace};

/// Which server a target is: the paths and what its pages look like differ.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Flavor {
    Nod,
    Peer,
}

/// A server under test and the sales unit (client) the generator logs in with.
#[derive(Clone, Debug)]
pub(crate) struct Target {
    pub(crate) name: String,
    pub(crate) flavor: Flavor,
    /// The public address: what the server's URLs name and every request's `Host`.
    pub(crate) addr: SocketAddr,
    /// Where the requests go: `addr` alone, or several instances of one server (each
    /// connection sends its requests to them in turn).
    pub(crate) instances: Vec<SocketAddr>,
    pub(crate) base: Url,
    pub(crate) client_id: String,
    pub(crate) client_secret: String,
    pub(crate) redirect_uri: String,
    pub(crate) scope: String,
    authorize_path: &'static str,
    token_path: &'static str,
    userinfo_path: &'static str,
}

pub(crate) const DEMO_CLIENT_ID: &str = "demo-client";
pub(crate) const DEMO_CLIENT_SECRET: &str = "demo-secret-for-test-mode-only-0123456789";
pub(crate) const DEMO_REDIRECT_URI: &str = "http://localhost:3000/callback";
/// The scopes both servers are asked for.
pub(crate) const SCOPE: &str = "openid name email address";

const CIBA_START_PATH: &str = "/vipps-login-ciba/api/backchannel/authentication";
const CIBA_GRANT: &str = "urn:openid:params:grant-type:ciba";
const DEVICES_PATH: &str = "/app-api/v1/devices";
const LOGIN_REQUESTS_PATH: &str = "/app-api/v1/login-requests";

impl Target {
    pub(crate) fn new(flavor: Flavor, addr: SocketAddr) -> anyhow::Result<Self> {
        let base = Url::parse(&format!("http://{addr}"))?;
        let (authorize_path, token_path, userinfo_path) = match flavor {
            Flavor::Nod => (
                "/access-management-1.0/access/oauth2/auth",
                "/access-management-1.0/access/oauth2/token",
                "/vipps-userinfo-api/userinfo",
            ),
            Flavor::Peer => ("/auth", "/token", "/me"),
        };
        Ok(Self {
            name: match flavor {
                Flavor::Nod => "nod".into(),
                Flavor::Peer => "peer".into(),
            },
            flavor,
            addr,
            instances: vec![addr],
            base,
            client_id: DEMO_CLIENT_ID.into(),
            client_secret: DEMO_CLIENT_SECRET.into(),
            redirect_uri: DEMO_REDIRECT_URI.into(),
            scope: SCOPE.into(),
            authorize_path,
            token_path,
            userinfo_path,
        })
    }

    /// A connection of a virtual user: to the server, or spread over its instances.
    pub(crate) fn conn(&self) -> Conn {
        Conn::spread(&self.instances, self.addr)
    }

    fn authorize_url(&self) -> String {
        let query = form_urlencoded::Serializer::new(String::new())
            .append_pair("client_id", &self.client_id)
            .append_pair("response_type", "code")
            .append_pair("scope", &self.scope)
            .append_pair("state", "bench-state-0123")
            .append_pair("redirect_uri", &self.redirect_uri)
            .finish();
        format!("{}?{query}", self.authorize_path)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Scenario {
    /// A remembered browser with consent given: authorize → code → token → userinfo.
    Remembered,
    /// A fresh browser: phone number, approval in the app, consent, token, userinfo.
    Desktop,
    /// Merchant-initiated: backchannel start, approval in the app, CIBA token, userinfo.
    Ciba,
    /// Authorize without cookies (a new login request each), for an open loop.
    AuthorizeFlood,
}

impl Scenario {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Remembered => "remembered",
            Self::Desktop => "desktop",
            Self::Ciba => "ciba",
            Self::AuthorizeFlood => "authorize-flood",
        }
    }

    fn needs_person(self) -> bool {
        matches!(self, Self::Desktop | Self::Ciba)
    }
}

/// What every virtual user of a run shares.
pub(crate) struct Shared {
    pub(crate) target: Target,
    pub(crate) scenario: Scenario,
    /// The remembered browser's cookies (the `remembered` scenario).
    remembered: Jar,
    /// Phone numbers (MSISDN digits) of people for the virtual users, one each.
    phones: Vec<String>,
    next_phone: AtomicUsize,
    next_binding: AtomicUsize,
}

/// One virtual user: a browser (its connection and cookies) and, for scenarios that need
/// one, a person with a registered app (its own connection).
pub(crate) struct Vu {
    browser: Conn,
    app: Conn,
    jar: Jar,
    phone: String,
    device_token: String,
}

/// Sends one request as a step of a login, timing it.
async fn send(
    conn: &mut Conn,
    trace: &mut Trace,
    step: &'static str,
    call: Call<'_>,
    jar: Option<&mut Jar>,
) -> Result<Response, StepError> {
    let cookie = jar.as_ref().map(|j| j.header());
    let started = Instant::now();
    let result = conn.send(call, cookie.as_deref()).await;
    trace
        .steps
        .push((step, micros(started.elapsed().as_micros())));
    let response = result.map_err(|e| StepError::new(step, e.kind(), e.detail()))?;
    if let Some(jar) = jar {
        jar.set_all(response.set_cookies());
    }
    Ok(response)
}

pub(crate) fn micros(us: u128) -> u64 {
    u64::try_from(us).unwrap_or(u64::MAX)
}

fn expect(step: &'static str, response: &Response, status: StatusCode) -> Result<(), StepError> {
    if response.status == status {
        return Ok(());
    }
    let body: String = response.text().chars().take(200).collect();
    Err(StepError::new(
        step,
        format!("status {}", response.status.as_u16()),
        format!("expected {status}: {body}"),
    ))
}

fn json_body(step: &'static str, response: &Response) -> Result<Value, StepError> {
    serde_json::from_slice(&response.body)
        .map_err(|e| StepError::new(step, "body", format!("not JSON: {e}")))
}

fn string_field(step: &'static str, value: &Value, field: &str) -> Result<String, StepError> {
    value
        .get(field)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .ok_or_else(|| StepError::new(step, "body", format!("no {field} in {value}")))
}

fn location(step: &'static str, response: &Response) -> Result<String, StepError> {
    response
        .location()
        .map(str::to_owned)
        .ok_or_else(|| StepError::new(step, "body", "a redirect without Location"))
}

/// The step name of a browser request, by path.
fn hop_step(first: bool, path: &str) -> &'static str {
    if first {
        "authorize"
    } else if path.starts_with("/login/") && path.contains("/continue") {
        "continue"
    } else if path.starts_with("/login/") {
        "login_page"
    } else if path.starts_with("/interaction/") {
        "interaction"
    } else {
        "resume"
    }
}

impl Shared {
    pub(crate) fn new(target: Target, scenario: Scenario, phones: Vec<String>) -> Self {
        Self {
            target,
            scenario,
            remembered: Jar::default(),
            phones,
            next_phone: AtomicUsize::new(0),
            next_binding: AtomicUsize::new(0),
        }
    }

    /// Once per run: for `remembered`, a full login that makes the browser remembered
    /// (Nod: phone number with "remember this browser", approval in the app, consent;
    /// the peer: its login and consent interactions) with `phone`'s person.
    pub(crate) async fn prepare(&mut self, phone: &str) -> anyhow::Result<()> {
        if self.scenario != Scenario::Remembered {
            return Ok(());
        }
        let mut vu = Vu {
            browser: self.target.conn(),
            app: self.target.conn(),
            jar: Jar::default(),
            phone: phone.to_owned(),
            device_token: String::new(),
        };
        let mut trace = Trace::default();
        let code = match self.target.flavor {
            Flavor::Nod => {
                vu.device_token = register_device(&mut vu.app, phone).await?;
                self.desktop_code(&mut vu, &mut trace, true)
                    .await
                    .map_err(|e| anyhow::anyhow!("remembering the browser: {e}"))?
            }
            Flavor::Peer => self
                .follow(&mut vu.browser, &mut vu.jar, &mut trace)
                .await
                .map_err(|e| anyhow::anyhow!("the peer's first login: {e}"))?,
        };
        self.token_and_userinfo(&mut vu.browser, &mut trace, code)
            .await
            .map_err(|e| anyhow::anyhow!("the first login's token: {e}"))?;
        if self.target.flavor == Flavor::Nod && vu.jar.get("nod_remember").is_none() {
            bail!("Nod set no remember cookie: {}", vu.jar.header());
        }
        self.remembered = vu.jar;
        Ok(())
    }

    /// A new virtual user: a person of its own (with an app) when the scenario needs one.
    pub(crate) async fn new_vu(&self) -> anyhow::Result<Vu> {
        let mut vu = Vu {
            browser: self.target.conn(),
            app: self.target.conn(),
            jar: self.remembered.clone(),
            phone: String::new(),
            device_token: String::new(),
        };
        if self.scenario.needs_person() {
            let i = self.next_phone.fetch_add(1, Ordering::Relaxed);
            let phone = self.phones.get(i).with_context(|| {
                format!(
                    "{} people prepared, virtual user {} needs one more",
                    self.phones.len(),
                    i + 1
                )
            })?;
            vu.device_token = register_device(&mut vu.app, phone).await?;
            vu.phone.clone_from(phone);
        }
        Ok(vu)
    }

    /// One whole login; the trace holds the steps done, also when one failed.
    pub(crate) async fn login(&self, vu: &mut Vu) -> (Trace, Result<(), StepError>) {
        let mut trace = Trace::default();
        let result = match self.scenario {
            Scenario::Remembered => self.remembered_login(vu, &mut trace).await,
            Scenario::Desktop => self.desktop_login(vu, &mut trace).await,
            Scenario::Ciba => self.ciba_login(vu, &mut trace).await,
            Scenario::AuthorizeFlood => self.authorize_only(vu, &mut trace).await,
        };
        (trace, result)
    }

    /// Follows the browser's redirects from authorize until the redirect URI has a code.
    async fn follow(
        &self,
        conn: &mut Conn,
        jar: &mut Jar,
        trace: &mut Trace,
    ) -> Result<String, StepError> {
        let mut path = self.target.authorize_url();
        for trip in 1..=12u32 {
            let step = hop_step(trip == 1, &path);
            let response = send(conn, trace, step, Call::get(&path), Some(jar)).await?;
            if !response.status.is_redirection() {
                expect(step, &response, StatusCode::SEE_OTHER)?;
            }
            let to = location(step, &response)?;
            match links::classify(&to, &self.target.base, &self.target.redirect_uri) {
                Hop::Code(code) => {
                    trace.round_trips = Some(trip);
                    return Ok(code);
                }
                Hop::Server(next) => path = next,
                Hop::Error(e) => return Err(StepError::new(step, "redirect error", e)),
                Hop::Elsewhere(e) => {
                    return Err(StepError::new(step, "redirect elsewhere", e));
                }
            }
        }
        Err(StepError::new("authorize", "redirect loop", path))
    }

    async fn remembered_login(&self, vu: &mut Vu, trace: &mut Trace) -> Result<(), StepError> {
        let code = self.follow(&mut vu.browser, &mut vu.jar, trace).await?;
        self.token_and_userinfo(&mut vu.browser, trace, code).await
    }

    async fn token_and_userinfo(
        &self,
        conn: &mut Conn,
        trace: &mut Trace,
        code: String,
    ) -> Result<(), StepError> {
        let t = &self.target;
        let call = Call::form(
            t.token_path,
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", &t.redirect_uri),
            ],
        )
        .basic(&t.client_id, &t.client_secret);
        let access_token = self.token(conn, trace, call).await?;
        self.userinfo(conn, trace, &access_token).await
    }

    /// The token request; answers the access token after checking the whole answer.
    async fn token(
        &self,
        conn: &mut Conn,
        trace: &mut Trace,
        call: Call<'_>,
    ) -> Result<String, StepError> {
        let response = send(conn, trace, "token", call, None).await?;
        expect("token", &response, StatusCode::OK)?;
        let body = json_body("token", &response)?;
        string_field("token", &body, "id_token")?;
        let kind = string_field("token", &body, "token_type")?;
        if !kind.eq_ignore_ascii_case("bearer") {
            return Err(StepError::new(
                "token",
                "body",
                format!("token_type {kind}"),
            ));
        }
        string_field("token", &body, "access_token")
    }

    async fn userinfo(
        &self,
        conn: &mut Conn,
        trace: &mut Trace,
        access_token: &str,
    ) -> Result<(), StepError> {
        let call = Call::get(self.target.userinfo_path).bearer(access_token);
        let response = send(conn, trace, "userinfo", call, None).await?;
        expect("userinfo", &response, StatusCode::OK)?;
        let body = json_body("userinfo", &response)?;
        string_field("userinfo", &body, "sub")?;
        string_field("userinfo", &body, "name")?;
        Ok(())
    }

    async fn desktop_login(&self, vu: &mut Vu, trace: &mut Trace) -> Result<(), StepError> {
        vu.jar = Jar::default();
        let code = self.desktop_code(vu, trace, false).await?;
        self.token_and_userinfo(&mut vu.browser, trace, code).await
    }

    /// A fresh browser on Nod up to the waiting page: authorize, login page, the phone
    /// number (with "remember this browser" when `remember`), the waiting page. Answers the
    /// login's id and the number the waiting page shows.
    pub(crate) async fn to_waiting_page(
        &self,
        browser: &mut Conn,
        jar: &mut Jar,
        trace: &mut Trace,
        phone: &str,
        remember: bool,
    ) -> Result<(String, u32), StepError> {
        let auth = self.target.authorize_url();
        let response = send(browser, trace, "authorize", Call::get(&auth), Some(jar)).await?;
        expect("authorize", &response, StatusCode::SEE_OTHER)?;
        let page = match links::classify(
            &location("authorize", &response)?,
            &self.target.base,
            &self.target.redirect_uri,
        ) {
            Hop::Server(p) => p,
            other => return Err(StepError::new("authorize", "body", format!("{other:?}"))),
        };
        let id = links::login_id(&page)
            .ok_or_else(|| {
                StepError::new("authorize", "body", format!("not a login page: {page}"))
            })?
            .to_owned();

        let response = send(browser, trace, "login_page", Call::get(&page), Some(jar)).await?;
        expect("login_page", &response, StatusCode::OK)?;
        let csrf = links::form_field(response.text(), "csrf")
            .ok_or_else(|| StepError::new("login_page", "body", "no csrf field"))?
            .to_owned();

        let number = format!("+{phone}");
        let mut form = vec![("csrf", csrf.as_str()), ("phone_number", number.as_str())];
        if remember {
            form.push(("remember", "on"));
        }
        let path = format!("/login/{id}/phone");
        let response = send(browser, trace, "phone", Call::form(&path, &form), Some(jar)).await?;
        expect("phone", &response, StatusCode::SEE_OTHER)?;
        let wait = match links::classify(
            &location("phone", &response)?,
            &self.target.base,
            &self.target.redirect_uri,
        ) {
            Hop::Server(p) if p.ends_with("/wait") => p,
            other => {
                return Err(StepError::new(
                    "phone",
                    "body",
                    format!("went to {other:?}"),
                ));
            }
        };

        let response = send(browser, trace, "wait_page", Call::get(&wait), Some(jar)).await?;
        expect("wait_page", &response, StatusCode::OK)?;
        let challenge = links::challenge(response.text())
            .ok_or_else(|| StepError::new("wait_page", "body", "no number shown"))?;

        Ok((id, challenge))
    }

    /// A fresh browser's login on Nod up to the code: login page, phone number (with
    /// "remember this browser" when `remember`), the number on the waiting page, the app's
    /// approval, continue, consent when asked.
    async fn desktop_code(
        &self,
        vu: &mut Vu,
        trace: &mut Trace,
        remember: bool,
    ) -> Result<String, StepError> {
        let Vu {
            browser,
            app,
            jar,
            phone,
            device_token,
        } = vu;
        let (id, challenge) = self
            .to_waiting_page(browser, jar, trace, phone, remember)
            .await?;

        let path = format!("{LOGIN_REQUESTS_PATH}/{id}/approve");
        let approval = json!({"challenge": challenge, "remember_browser": remember});
        let call = Call::json(&path, &approval).bearer(device_token);
        let response = send(app, trace, "approve", call, None).await?;
        expect("approve", &response, StatusCode::OK)?;
        let next = string_field("approve", &json_body("approve", &response)?, "next")?;
        if next != "return_to_browser" {
            return Err(StepError::new("approve", "body", format!("next {next}")));
        }

        // Back in the browser: continue, the consent page when asked (its own page or the
        // continue answer itself), until the redirect URI.
        let mut path = format!("/login/{id}/continue");
        for _ in 0..6 {
            let step = if path.ends_with("/consent") {
                "consent_page"
            } else {
                "continue"
            };
            let response = send(browser, trace, step, Call::get(&path), Some(jar)).await?;
            let response = if response.status == StatusCode::OK {
                trace.consent_pages += 1;
                let csrf = links::form_field(response.text(), "csrf")
                    .ok_or_else(|| StepError::new(step, "body", "no consent form"))?
                    .to_owned();
                let post = format!("/login/{id}/consent");
                let form = [("csrf", csrf.as_str()), ("decision", "accept")];
                send(
                    browser,
                    trace,
                    "consent",
                    Call::form(&post, &form),
                    Some(jar),
                )
                .await?
            } else {
                response
            };
            expect(step, &response, StatusCode::SEE_OTHER)?;
            match links::classify(
                &location(step, &response)?,
                &self.target.base,
                &self.target.redirect_uri,
            ) {
                Hop::Code(code) => return Ok(code),
                Hop::Server(next) => path = next,
                other => return Err(StepError::new(step, "body", format!("{other:?}"))),
            }
        }
        Err(StepError::new("continue", "redirect loop", path))
    }

    async fn ciba_login(&self, vu: &mut Vu, trace: &mut Trace) -> Result<(), StepError> {
        let t = &self.target;
        let n = self.next_binding.fetch_add(1, Ordering::Relaxed);
        let binding = binding_message(n);
        let hint = format!("urn:msisdn:{}", vu.phone);
        let call = Call::form(
            CIBA_START_PATH,
            &[
                ("login_hint", hint.as_str()),
                ("scope", t.scope.as_str()),
                ("binding_message", binding.as_str()),
            ],
        )
        .basic(&t.client_id, &t.client_secret);
        let response = send(&mut vu.browser, trace, "ciba_start", call, None).await?;
        expect("ciba_start", &response, StatusCode::OK)?;
        let auth_req_id = string_field(
            "ciba_start",
            &json_body("ciba_start", &response)?,
            "auth_req_id",
        )?;

        let call = Call::get(LOGIN_REQUESTS_PATH).bearer(&vu.device_token);
        let response = send(&mut vu.app, trace, "app_list", call, None).await?;
        expect("app_list", &response, StatusCode::OK)?;
        let body = json_body("app_list", &response)?;
        let request = body
            .get("login_requests")
            .and_then(Value::as_array)
            .and_then(|list| {
                list.iter()
                    .find(|r| r.get("binding_message").and_then(Value::as_str) == Some(&binding))
            })
            .ok_or_else(|| StepError::new("app_list", "body", format!("no request {binding}")))?;
        let id = string_field("app_list", request, "id")?;
        let mut approval = json!({});
        if request.get("consent_in_app").and_then(Value::as_bool) == Some(true) {
            approval["consent"] = json!(true);
        }
        let path = format!("{LOGIN_REQUESTS_PATH}/{id}/approve");
        let call = Call::json(&path, &approval).bearer(&vu.device_token);
        let response = send(&mut vu.app, trace, "approve", call, None).await?;
        expect("approve", &response, StatusCode::OK)?;

        let call = Call::form(
            t.token_path,
            &[
                ("grant_type", CIBA_GRANT),
                ("auth_req_id", auth_req_id.as_str()),
            ],
        )
        .basic(&t.client_id, &t.client_secret);
        let access_token = self.token(&mut vu.browser, trace, call).await?;
        self.userinfo(&mut vu.browser, trace, &access_token).await
    }

    async fn authorize_only(&self, vu: &mut Vu, trace: &mut Trace) -> Result<(), StepError> {
        let auth = self.target.authorize_url();
        let response = send(&mut vu.browser, trace, "authorize", Call::get(&auth), None).await?;
        if !response.status.is_redirection() {
            expect("authorize", &response, StatusCode::SEE_OTHER)?;
        }
        match links::classify(
            &location("authorize", &response)?,
            &self.target.base,
            &self.target.redirect_uri,
        ) {
            Hop::Server(_) => Ok(()),
            other => Err(StepError::new("authorize", "body", format!("{other:?}"))),
        }
    }
}

/// A binding message unique for a long while (`^[A-Z0-9-]{5,8}$`): the app matches the
/// request to its start by it.
pub(crate) fn binding_message(n: usize) -> String {
    const DIGITS: &[u8; 36] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let mut n = n % 36usize.pow(6);
    let mut out = [b'0'; 6];
    for slot in out.iter_mut().rev() {
        *slot = DIGITS[n % 36];
        n /= 36;
    }
    format!("B-{}", String::from_utf8_lossy(&out))
}

/// Registers an app for a person (test mode: no activation code); its device token.
pub(crate) async fn register_device(app: &mut Conn, phone: &str) -> anyhow::Result<String> {
    let mut trace = Trace::default();
    let body = json!({"phone_number": format!("+{phone}")});
    let response = send(
        app,
        &mut trace,
        "register_device",
        Call::json(DEVICES_PATH, &body),
        None,
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    if response.status != StatusCode::CREATED {
        bail!(
            "registering an app for +{phone}: {} {}",
            response.status,
            response.text()
        );
    }
    let body: Value = serde_json::from_slice(&response.body)?;
    body.get("device_token")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .context("no device_token")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binding_messages_match_nods_pattern_and_differ() {
        let a = binding_message(0);
        let b = binding_message(1);
        let c = binding_message(36usize.pow(6) - 1);
        assert_eq!(a, "B-000000");
        assert_eq!(b, "B-000001");
        assert_eq!(c, "B-ZZZZZZ");
        for m in [a, b, c] {
            assert!((5..=8).contains(&m.len()));
            assert!(
                m.bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-')
            );
        }
    }

    #[test]
    fn hop_steps_by_path() {
        assert_eq!(hop_step(true, "/login/x"), "authorize");
        assert_eq!(hop_step(false, "/login/x"), "login_page");
        assert_eq!(hop_step(false, "/login/x/continue"), "continue");
        assert_eq!(hop_step(false, "/interaction/u"), "interaction");
        assert_eq!(hop_step(false, "/auth/u"), "resume");
    }

    #[test]
    fn authorize_url_carries_the_client_and_scope() -> anyhow::Result<()> {
        let t = Target::new(Flavor::Peer, "127.0.0.1:1".parse()?)?;
        let url = t.authorize_url();
        assert!(url.starts_with(
            "/auth?client_id=demo-client&response_type=code&scope=openid+name+email+address"
        ));
        assert!(url.ends_with("redirect_uri=http%3A%2F%2Flocalhost%3A3000%2Fcallback"));
        Ok(())
    }
}
