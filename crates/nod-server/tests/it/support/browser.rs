//! `Browser`: a person's browser on the login pages. It keeps cookies and does not follow
//! redirects. The one place that spells out the login pages' paths.

use reqwest::Response;

use super::{CLIENT_ID, REDIRECT_URI, app::authorize_url, challenge, csrf, location};

/// A login page path: `/login/{id}`, or `/login/{id}/{step}`.
pub(crate) fn login_path(id: &str, step: &str) -> String {
    if step.is_empty() {
        format!("/login/{id}")
    } else {
        format!("/login/{id}/{step}")
    }
}

/// The login id of a login page's path, `/login/{id}`.
pub(crate) fn login_id_of(path: &str) -> Option<&str> {
    path.strip_prefix("/login/").filter(|id| !id.contains('/'))
}

/// A login started in a browser: its id and the CSRF token of its pages.
#[derive(Debug, Clone)]
pub(crate) struct Login {
    pub id: String,
    pub csrf: String,
}

pub(crate) struct Browser {
    base: String,
    client: reqwest::Client,
}

impl Browser {
    pub(super) fn new(base: &str, client: reqwest::Client) -> Self {
        Self {
            base: base.to_owned(),
            client,
        }
    }

    /// The underlying client, for requests no method here makes.
    pub(crate) fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// An absolute URL for a path; absolute URLs pass through.
    pub(crate) fn url(&self, path_or_url: &str) -> String {
        if path_or_url.starts_with('/') {
            format!("{}{path_or_url}", self.base)
        } else {
            path_or_url.to_owned()
        }
    }

    pub(crate) async fn get(&self, path_or_url: &str) -> Response {
        self.client.get(self.url(path_or_url)).send().await.unwrap()
    }

    async fn post(&self, path: &str, form: &[(&str, &str)]) -> Response {
        self.client
            .post(self.url(path))
            .form(form)
            .send()
            .await
            .unwrap()
    }

    /// Follows the merchant to this authorization URL, which must send the browser to a
    /// login page; returns the login id.
    pub(crate) async fn authorize(&self, authorize_url: &str) -> String {
        let response = self.get(authorize_url).await;
        assert_eq!(
            response.status(),
            303,
            "authorize should redirect to the login page"
        );
        let location = location(&response);
        login_id_of(&location)
            .unwrap_or_else(|| panic!("not a login page: {location}"))
            .to_owned()
    }

    /// `shop`'s authorization URL with `scope=openid name` and `extra`, then the login page;
    /// returns the login id and the page.
    pub(crate) async fn open_login(&self, extra: &str) -> (String, String) {
        let url = authorize_url(&self.base, CLIENT_ID, REDIRECT_URI, "openid name", extra);
        self.open_login_at(&url).await
    }

    /// An authorization URL, then the login page; returns the login id and the page.
    pub(crate) async fn open_login_at(&self, authorize_url: &str) -> (String, String) {
        let id = self.authorize(authorize_url).await;
        let page = self.login_page(&id).await;
        assert_eq!(page.status(), 200);
        (id, page.text().await.unwrap())
    }

    /// Starts a login of `shop` with `scope=openid name` and `extra` on the phone-number
    /// page.
    pub(crate) async fn start_login(&self, extra: &str) -> Login {
        let (id, html) = self.open_login(extra).await;
        Login {
            id,
            csrf: csrf(&html),
        }
    }

    /// Starts a login at this authorization URL on the phone-number page.
    pub(crate) async fn start_login_at(&self, authorize_url: &str) -> Login {
        let (id, html) = self.open_login_at(authorize_url).await;
        Login {
            id,
            csrf: csrf(&html),
        }
    }

    pub(crate) async fn login_page(&self, id: &str) -> Response {
        self.get(&login_path(id, "")).await
    }

    /// Posts the phone-number form as it is, with any CSRF token.
    pub(crate) async fn post_phone(&self, id: &str, csrf: &str, phone: &str) -> Response {
        self.post(
            &login_path(id, "phone"),
            &[("csrf", csrf), ("phone_number", phone)],
        )
        .await
    }

    /// Submits the phone form, follows it to the waiting page and reads the number shown.
    pub(crate) async fn submit_phone(&self, login: &Login, phone: &str, remember: bool) -> u8 {
        let mut form = vec![("csrf", login.csrf.as_str()), ("phone_number", phone)];
        if remember {
            form.push(("remember", "on"));
        }
        let response = self.post(&login_path(&login.id, "phone"), &form).await;
        assert_eq!(response.status(), 303);
        assert_eq!(location(&response), login_path(&login.id, "wait"));
        let html = self.wait_page(&login.id).await.text().await.unwrap();
        challenge(&html)
    }

    pub(crate) async fn wait_page(&self, id: &str) -> Response {
        self.get(&login_path(id, "wait")).await
    }

    /// The waiting page's event stream.
    pub(crate) async fn events(&self, id: &str) -> Response {
        self.get(&login_path(id, "events")).await
    }

    /// Where the waiting page goes once the app has answered.
    pub(crate) async fn continue_login(&self, id: &str) -> Response {
        self.get(&login_path(id, "continue")).await
    }

    /// The consent page's HTML.
    pub(crate) async fn consent_page(&self, id: &str) -> String {
        self.get(&login_path(id, "consent"))
            .await
            .text()
            .await
            .unwrap()
    }

    /// Accepts the consent page of a confirmed login; returns the response (the redirect).
    pub(crate) async fn accept_consent(&self, login: &Login) -> Response {
        self.decide_consent(login, "accept").await
    }

    pub(crate) async fn cancel_consent(&self, login: &Login) -> Response {
        self.decide_consent(login, "cancel").await
    }

    async fn decide_consent(&self, login: &Login, decision: &str) -> Response {
        self.post(
            &login_path(&login.id, "consent"),
            &[("csrf", login.csrf.as_str()), ("decision", decision)],
        )
        .await
    }

    /// "Try again" on an expired login.
    pub(crate) async fn restart(&self, login: &Login) -> Response {
        self.post(
            &login_path(&login.id, "restart"),
            &[("csrf", login.csrf.as_str())],
        )
        .await
    }

    /// "Cancel" on the login pages: back to the merchant.
    pub(crate) async fn cancel(&self, login: &Login) -> Response {
        self.post(
            &login_path(&login.id, "cancel"),
            &[("csrf", login.csrf.as_str())],
        )
        .await
    }
}
