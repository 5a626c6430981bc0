//! `Merchant`: a sales unit's backend calling Nod: the token endpoint (Basic or post
//! client authentication, or a partner's token acting for it), userinfo,
//! merchant-initiated login (CIBA), user-exists, the access token API and the webhooks
//! API.

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use nod_server::paths;
use reqwest::{RequestBuilder, Response, StatusCode};
use serde_json::Value;

use super::REDIRECT_URI;

pub(crate) const CIBA_GRANT: &str = "urn:openid:params:grant-type:ciba";
pub(crate) const CIBA_REDIRECT_GRANT: &str = "urn:vipps:params:grant-type:ciba-redirect";

/// How the merchant authenticates at the token and CIBA endpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ClientAuth {
    /// `client_secret_basic`.
    Basic,
    /// `client_secret_post`: `client_id` and `client_secret` in the form.
    Post,
    /// No client authentication at all.
    None,
    /// A partner's access token as `Authorization: Bearer`, and `Merchant-Serial-Number`
    /// when [`Merchant::acting_as_partner`] was given one (partner keys).
    Partner,
}

pub(crate) struct Merchant {
    base: String,
    client: reqwest::Client,
    client_id: String,
    secret: String,
    auth: ClientAuth,
    /// The partner's access token and the MSN it names, for [`ClientAuth::Partner`].
    partner: Option<(String, Option<String>)>,
}

impl Merchant {
    pub(super) fn new(base: &str, client: reqwest::Client, client_id: &str, secret: &str) -> Self {
        Self {
            base: base.to_owned(),
            client,
            client_id: client_id.to_owned(),
            secret: secret.to_owned(),
            auth: ClientAuth::Basic,
            partner: None,
        }
    }

    /// The same merchant's calls made by a partner with this access token, naming the
    /// sales unit with this `Merchant-Serial-Number` (none: the header is left out).
    pub(crate) fn acting_as_partner(mut self, token: &str, msn: Option<&str>) -> Self {
        self.auth = ClientAuth::Partner;
        self.partner = Some((token.to_owned(), msn.map(str::to_owned)));
        self
    }

    pub(crate) fn with_auth(mut self, auth: ClientAuth) -> Self {
        self.auth = auth;
        self
    }

    /// The same merchant with a wrong secret.
    pub(crate) fn with_secret(mut self, secret: &str) -> Self {
        self.secret = secret.to_owned();
        self
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A POST to a path, with Basic authentication if that is the merchant's method; for
    /// requests with odd headers or bodies.
    pub(crate) fn post(&self, path: &str) -> RequestBuilder {
        let request = self.client.post(self.url(path));
        match (self.auth, &self.partner) {
            (ClientAuth::Basic, _) => request.basic_auth(&self.client_id, Some(&self.secret)),
            (ClientAuth::Partner, Some((token, msn))) => {
                let request = request.bearer_auth(token);
                match msn {
                    Some(msn) => request.header("Merchant-Serial-Number", msn),
                    None => request,
                }
            }
            _ => request,
        }
    }

    async fn post_form(&self, path: &str, form: &[(&str, &str)]) -> Response {
        let mut form = form.to_vec();
        if self.auth == ClientAuth::Post {
            form.extend([
                ("client_id", self.client_id.as_str()),
                ("client_secret", self.secret.as_str()),
            ]);
        }
        self.post(path).form(&form).send().await.unwrap()
    }

    /// The token endpoint with this form.
    pub(crate) async fn token(&self, form: &[(&str, &str)]) -> Response {
        self.post_form(paths::TOKEN, form).await
    }

    /// Redeems an authorization code for [`REDIRECT_URI`].
    pub(crate) async fn redeem(&self, code: &str, verifier: Option<&str>) -> Response {
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT_URI),
        ];
        if let Some(v) = verifier {
            form.push(("code_verifier", v));
        }
        self.token(&form).await
    }

    /// Redeems an authorization code that must be good; returns the tokens.
    pub(crate) async fn tokens(&self, code: &str, verifier: Option<&str>) -> Value {
        let response = self.redeem(code, verifier).await;
        assert_eq!(response.status(), 200);
        response.json().await.unwrap()
    }

    /// Userinfo with this access token.
    pub(crate) async fn userinfo(&self, access_token: &str) -> Response {
        self.client
            .get(self.url(paths::USERINFO))
            .bearer_auth(access_token)
            .send()
            .await
            .unwrap()
    }

    /// Userinfo for a good access token, as JSON.
    pub(crate) async fn userinfo_json(&self, access_token: &str) -> Value {
        let response = self.userinfo(access_token).await;
        assert_eq!(response.status(), 200);
        response.json().await.unwrap()
    }

    /// Starts a merchant-initiated login.
    pub(crate) async fn ciba_start(&self, form: &[(&str, &str)]) -> Response {
        self.post_form(paths::CIBA_START, form).await
    }

    /// Starts a merchant-initiated login that must be accepted; returns the answer.
    pub(crate) async fn ciba_started(&self, form: &[(&str, &str)]) -> Value {
        let response = self.ciba_start(form).await;
        assert_eq!(response.status(), 200);
        response.json().await.unwrap()
    }

    /// Starts a merchant-initiated login that must be accepted; returns its `auth_req_id`.
    pub(crate) async fn ciba_auth_req_id(&self, form: &[(&str, &str)]) -> String {
        self.ciba_started(form).await["auth_req_id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// Polls the token endpoint with the CIBA grant.
    pub(crate) async fn ciba_poll(&self, auth_req_id: &str) -> (StatusCode, Value) {
        let response = self
            .token(&[("grant_type", CIBA_GRANT), ("auth_req_id", auth_req_id)])
            .await;
        (response.status(), response.json().await.unwrap())
    }

    pub(crate) async fn user_exists(&self, login_hint: &str) -> Response {
        self.post_form(paths::USER_EXISTS, &[("login_hint", login_hint)])
            .await
    }

    /// `POST /accesstoken/get` with the `client_id` and `client_secret` headers (and
    /// the subscription key a Vipps client sends, which Nod ignores).
    pub(crate) async fn access_token_response(&self) -> Response {
        self.client
            .post(self.url(paths::ACCESS_TOKEN))
            .header("client_id", &self.client_id)
            .header("client_secret", &self.secret)
            .header(
                "Ocp-Apim-Subscription-Key",
                "0f14ebcab0ec4b29ae0cb90d91b4a84a",
            )
            .header("Merchant-Serial-Number", "123456")
            .send()
            .await
            .unwrap()
    }

    /// A merchant API access token, for the webhooks API.
    pub(crate) async fn access_token(&self) -> String {
        let response = self.access_token_response().await;
        assert_eq!(response.status(), StatusCode::OK);
        let body: Value = response.json().await.unwrap();
        body["access_token"].as_str().unwrap().to_owned()
    }

    /// `POST /webhooks/v1/webhooks` with this token and JSON body.
    pub(crate) async fn register_webhook(&self, token: &str, body: &Value) -> Response {
        self.client
            .post(self.url(paths::WEBHOOKS))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    /// Registers `url` for `events`; the `{"id","secret"}` answer.
    pub(crate) async fn registered_webhook(
        &self,
        token: &str,
        url: &str,
        events: &[&str],
    ) -> Value {
        let response = self
            .register_webhook(token, &serde_json::json!({ "url": url, "events": events }))
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
        response.json().await.unwrap()
    }

    /// `GET /webhooks/v1/webhooks` with this token.
    pub(crate) async fn list_webhooks(&self, token: &str) -> Response {
        self.client
            .get(self.url(paths::WEBHOOKS))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }

    /// `DELETE /webhooks/v1/webhooks/{id}` with this token.
    pub(crate) async fn delete_webhook(&self, token: &str, id: &str) -> Response {
        self.client
            .delete(self.url(&format!("{}/{id}", paths::WEBHOOKS)))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }

    pub(crate) async fn discovery(&self) -> Value {
        let response = self
            .client
            .get(self.url(paths::DISCOVERY))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        response.json().await.unwrap()
    }

    /// Checks an ID token's signature against the JWKS, its issuer and its audience;
    /// returns its claims.
    pub(crate) async fn verify_id_token(&self, id_token: &str) -> Value {
        let jwks: JwkSet = self
            .client
            .get(self.url(paths::JWKS))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let header = jsonwebtoken::decode_header(id_token).unwrap();
        assert_eq!(header.alg, Algorithm::RS256);
        let kid = header.kid.unwrap();
        assert!(kid.starts_with("public:"), "{kid}");
        let key = DecodingKey::from_jwk(jwks.find(&kid).expect("kid is in the JWKS")).unwrap();
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_audience(&[&self.client_id]);
        validation.set_issuer(&[self.url(paths::ISSUER_PATH)]);
        jsonwebtoken::decode::<Value>(id_token, &key, &validation)
            .unwrap()
            .claims
    }
}

/// An ID token's claims, unverified.
pub(crate) fn decode_claims(id_token: &str) -> Value {
    use base64::Engine;
    let payload = id_token.split('.').nth(1).unwrap();
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap()
}
