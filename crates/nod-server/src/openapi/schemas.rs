//! Schema-only types for the OpenAPI document: the shapes of bodies that handlers build as
//! JSON, or that come from the engine and the core (which know nothing of OpenAPI), and the
//! error answers every endpoint shares. Nothing here is ever built; `GET /openapi.json`
//! checks them against real answers (the integration suite and `scripts/api-fuzz.sh`).

#![expect(
    dead_code,
    reason = "schema-only types: described in the document, never built"
)]

use std::collections::BTreeMap;

use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, Type};
use utoipa::{IntoParams, IntoResponses, ToSchema};
use uuid::Uuid;

/// The tag of the operations that exist only in test mode (`nod serve --demo`); a server
/// outside test mode leaves them out of its document.
pub(crate) const TEST_MODE: &str = "test mode";

/// An OAuth error (RFC 6749 §5.2, RFC 6750 §3.1): the answer of the OpenID Connect
/// endpoints, CIBA and the app API. `error` is the code (`invalid_request`,
/// `invalid_client`, `invalid_grant`, `invalid_scope`, `invalid_token`, `invalid_user`,
/// `unauthorized_client`, `unsupported_grant_type`, `access_denied`,
/// `authorization_pending`, `slow_down`, `expired_token`, `wrong_challenge`, …).
#[derive(ToSchema)]
#[schema(as = OAuthError)]
pub(crate) struct OAuthErrorBody {
    #[schema(example = "invalid_request")]
    error: String,
    error_description: String,
}

/// An RFC 7807 problem (`application/problem+json`): the answer of the access token API
/// and the webhooks API, in the Vipps MobilePay error format.
#[derive(ToSchema)]
pub(crate) struct Problem {
    /// The status's reason phrase.
    #[schema(example = "Bad Request")]
    title: String,
    status: u16,
    detail: String,
    /// The invalid fields and why, on a 400 for a webhook registration.
    #[serde(rename = "extraDetails")]
    extra_details: Option<Vec<ProblemField>>,
}

#[derive(ToSchema)]
pub(crate) struct ProblemField {
    name: String,
    reason: String,
}

/// A scope and its description, in the request's language.
#[derive(ToSchema)]
pub(crate) struct ScopeDescription {
    #[schema(example = "name")]
    scope: String,
    #[schema(example = "Name")]
    description: String,
}

/// A sales unit's consent questions (`delegatedConsents`), without the answers.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ConsentTexts {
    language: String,
    heading: String,
    text: String,
    terms_description: String,
    confirm_consent_button_text: String,
    links: ConsentLinks,
    consents: Vec<ConsentQuestion>,
}

#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ConsentLinks {
    terms_link_text: String,
    terms_link_url: String,
    privacy_statement_link_text: String,
    privacy_statement_link_url: String,
}

#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ConsentQuestion {
    id: String,
    required: bool,
    text_displayed_to_user: String,
}

/// The person's answer to one of the sales unit's consent questions.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct DelegatedAnswer {
    id: String,
    accepted: bool,
}

/// What the app does after an answer: go back to the browser, open a URL (app to app,
/// automatic return, login to webpage, and failures there), or nothing more.
#[derive(ToSchema)]
pub(crate) struct NextStep {
    next: Next,
    /// With `open_url`.
    url: Option<String>,
    /// After a rejection (`rejected`) or a test outcome (`failed`, `expired`).
    status: Option<AnswerStatus>,
    /// After a failing test outcome: the error the merchant gets.
    error: Option<String>,
}

#[derive(ToSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Next {
    ReturnToBrowser,
    OpenUrl,
    Done,
}

#[derive(ToSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum AnswerStatus {
    Rejected,
    Failed,
    Expired,
}

/// `GET /app-api/v1/test-users`.
#[derive(ToSchema)]
pub(crate) struct TestUsers {
    users: Vec<TestUser>,
}

#[derive(ToSchema)]
pub(crate) struct TestUser {
    phone_number: String,
    name: String,
    /// The country of the default address; `null` without one.
    country: Option<String>,
    may_log_in: bool,
    email_verified: bool,
    has_address: bool,
}

/// `GET /app-api/v1/profile`: the person's data with userinfo's field names.
#[derive(ToSchema)]
pub(crate) struct Profile {
    phone_number: String,
    given_name: String,
    family_name: String,
    name: String,
    email: String,
    birthdate: String,
    nin: String,
    addresses: Vec<StoredAddress>,
}

/// An address as stored (the profile); the first is the default address.
#[derive(ToSchema)]
pub(crate) struct StoredAddress {
    street_address: String,
    postal_code: String,
    region: String,
    country: String,
    address_type: AddressType,
}

#[derive(ToSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum AddressType {
    Home,
    Work,
    Other,
}

/// `GET /app-api/v1/login-requests`.
#[derive(ToSchema)]
pub(crate) struct LoginRequests {
    #[schema(schema_with = login_request_list)]
    login_requests: Vec<()>,
}

/// An array of the `LoginRequest` schema (declared where the handler builds one).
fn login_request_list() -> utoipa::openapi::schema::Array {
    utoipa::openapi::schema::ArrayBuilder::new()
        .items(Ref::from_schema_name("LoginRequest"))
        .build()
}

/// `GET /app-api/v1/devices`: the person's registered apps, newest first.
#[derive(ToSchema)]
pub(crate) struct Devices {
    devices: Vec<Device>,
}

/// One of the person's registered apps.
#[derive(ToSchema)]
pub(crate) struct Device {
    id: Uuid,
    /// The name given at registration.
    name: Option<String>,
    created_at: i64,
    /// To the day.
    last_used_at: i64,
    /// Its token stops working then unless the app is used before.
    expires_at: i64,
    /// The app that asks.
    current: bool,
}

/// `GET /app-api/v1/consents`.
#[derive(ToSchema)]
pub(crate) struct Consents {
    consents: Vec<Consent>,
}

#[derive(ToSchema)]
pub(crate) struct Consent {
    client_id: String,
    sales_unit_name: String,
    scopes: Vec<ScopeDescription>,
    /// Unix seconds.
    granted_at: i64,
}

/// `GET /app-api/v1/browsers`.
#[derive(ToSchema)]
pub(crate) struct Browsers {
    browsers: Vec<Browser>,
}

#[derive(ToSchema)]
pub(crate) struct Browser {
    id: Uuid,
    /// A short description of the browser, from its user agent.
    label: String,
    created_at: i64,
    last_used_at: i64,
    expires_at: i64,
}

/// The discovery document (OpenID Connect Discovery 1.0); only the main fields are listed.
#[derive(ToSchema)]
pub(crate) struct Discovery {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    userinfo_endpoint: String,
    revocation_endpoint: String,
    jwks_uri: String,
    backchannel_authentication_endpoint: String,
    response_types_supported: Vec<String>,
    grant_types_supported: Vec<String>,
    subject_types_supported: Vec<String>,
    id_token_signing_alg_values_supported: Vec<String>,
    token_endpoint_auth_methods_supported: Vec<String>,
    scopes_supported: Vec<String>,
    claims_supported: Vec<String>,
}

/// The signing keys (RFC 7517).
#[derive(ToSchema)]
pub(crate) struct Jwks {
    keys: Vec<Jwk>,
}

#[derive(ToSchema)]
pub(crate) struct Jwk {
    #[schema(example = "RSA")]
    kty: String,
    #[serde(rename = "use")]
    #[schema(example = "sig")]
    use_: String,
    #[schema(example = "RS256")]
    alg: String,
    kid: String,
    n: String,
    e: String,
}

/// `client_secret_basic` (the `Authorization` header), `client_secret_post` (`client_id`
/// and `client_secret` here), or a partner's Bearer token.
#[derive(ToSchema)]
pub(crate) struct TokenForm {
    grant_type: GrantType,
    /// `authorization_code` and `ciba-redirect`.
    code: Option<String>,
    /// `authorization_code`: the redirect URI of the authorization request.
    redirect_uri: Option<String>,
    /// `authorization_code` with PKCE.
    code_verifier: Option<String>,
    /// The CIBA grant (poll mode).
    auth_req_id: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
}

#[derive(ToSchema)]
pub(crate) enum GrantType {
    #[serde(rename = "authorization_code")]
    AuthorizationCode,
    #[serde(rename = "urn:openid:params:grant-type:ciba")]
    Ciba,
    #[serde(rename = "urn:vipps:params:grant-type:ciba-redirect")]
    CibaRedirect,
}

/// The token endpoint's answer. No refresh tokens.
#[derive(ToSchema)]
pub(crate) struct TokenResponse {
    access_token: String,
    #[schema(example = "Bearer")]
    token_type: String,
    expires_in: i64,
    id_token: String,
    scope: String,
}

/// RFC 7009 revocation.
#[derive(ToSchema)]
pub(crate) struct RevokeForm {
    token: String,
    /// Only a hint: access tokens are all Nod has.
    token_type_hint: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
}

/// The userinfo claims of the scopes granted; claims of other scopes are never there.
#[derive(ToSchema)]
pub(crate) struct Userinfo {
    /// Pairwise: different for each sales unit.
    sub: Uuid,
    /// The login session.
    sid: Uuid,
    name: Option<String>,
    given_name: Option<String>,
    family_name: Option<String>,
    email: Option<String>,
    email_verified: Option<bool>,
    /// The default address (all fields `""` for a person without one).
    address: Option<UserinfoAddress>,
    other_addresses: Option<Vec<UserinfoAddress>>,
    /// Digits without `+`.
    phone_number: Option<String>,
    phone_number_verified: Option<bool>,
    /// `YYYY-MM-DD`.
    birthdate: Option<String>,
    nin: Option<String>,
    #[serde(rename = "delegatedConsents")]
    delegated_consents: Option<DelegatedConsents>,
}

#[derive(ToSchema)]
pub(crate) struct UserinfoAddress {
    street_address: String,
    postal_code: String,
    region: String,
    country: String,
    formatted: String,
    /// `home`, `work` or `other`; `""` in the empty address.
    address_type: String,
}

/// The `delegatedConsents` claim: the consent texts with the person's answers.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DelegatedConsents {
    language: String,
    heading: String,
    text: String,
    terms_description: String,
    confirm_consent_button_text: String,
    links: ConsentLinks,
    /// RFC 3339.
    time_of_consent: String,
    consents: Vec<DelegatedConsent>,
}

#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DelegatedConsent {
    id: String,
    accepted: bool,
    required: bool,
    text_displayed_to_user: String,
}

/// Merchant-initiated login (CIBA Core §7.1).
#[derive(ToSchema)]
pub(crate) struct CibaStartForm {
    /// `urn:msisdn:{country code and number}`.
    #[schema(
        example = "urn:msisdn:4791234501",
        pattern = "^urn:msisdn:[0-9]{8,15}$"
    )]
    login_hint: String,
    /// Space-separated; must include `openid`.
    #[schema(example = "openid name", pattern = "(^| )openid( |$)")]
    scope: String,
    /// Shown in the app.
    #[schema(pattern = "^[A-Z0-9-]{5,8}$")]
    binding_message: Option<String>,
    /// Seconds; the default is 600.
    #[schema(minimum = 60, maximum = 900)]
    requested_expiry: Option<u32>,
    /// Then `redirect_uri` is required.
    requested_flow: Option<RequestedFlow>,
    redirect_uri: Option<String>,
    /// Required for sales units in ping mode.
    client_notification_token: Option<String>,
    state: Option<String>,
    nonce: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
}

#[derive(ToSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum RequestedFlow {
    LoginToWebpage,
}

#[derive(ToSchema)]
pub(crate) struct CibaStarted {
    auth_req_id: String,
    expires_in: i64,
    /// Seconds to wait between polls.
    interval: i64,
}

#[derive(ToSchema)]
pub(crate) struct UserExistsForm {
    #[schema(
        example = "urn:msisdn:4791234501",
        pattern = "^urn:msisdn:[0-9]{8,15}$"
    )]
    login_hint: String,
    client_id: Option<String>,
    client_secret: Option<String>,
}

#[derive(ToSchema)]
pub(crate) struct UserExists {
    exists: bool,
}

/// The events of the webhooks API.
#[derive(ToSchema)]
pub(crate) enum WebhookEventName {
    #[serde(rename = "login.merchant-initiated.ping.v1")]
    MerchantInitiatedPing,
}

/// The parameters of an authorization request (SPEC §4). All are read as given; a missing
/// or wrong one is answered on an error page or at the redirect URI.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct AuthorizeQuery {
    /// `code`.
    response_type: Option<String>,
    client_id: Option<String>,
    /// Exactly one of the sales unit's registered redirect URIs.
    redirect_uri: Option<String>,
    /// Space-separated; must include `openid`.
    scope: Option<String>,
    /// At least 8 characters.
    state: Option<String>,
    nonce: Option<String>,
    code_challenge: Option<String>,
    /// `S256` or `plain`.
    code_challenge_method: Option<String>,
    /// `app_to_app`, `app_to_app_v2`, `automatic_return_from_vipps_app`.
    requested_flow: Option<String>,
    app_callback_uri: Option<String>,
    final_redirect_is_app: Option<String>,
    acr_values: Option<String>,
    /// `none`, `login` or `consent`.
    prompt: Option<String>,
    /// `query` or `form_post`.
    response_mode: Option<String>,
    /// A partner's request: the merchant's serial number instead of its `client_id`.
    msn: Option<String>,
}

/// `Merchant-Serial-Number`: when the sales unit has one it must match (else 400); one
/// without accepts any.
#[derive(IntoParams)]
#[into_params(names("Merchant-Serial-Number"), parameter_in = Header)]
pub(crate) struct MerchantSerialNumber(Option<String>);

/// The `client_id` and `client_secret` headers of `POST /accesstoken/get`.
#[derive(IntoParams)]
#[into_params(names("client_id", "client_secret"), parameter_in = Header)]
pub(crate) struct CredentialHeaders(String, String);

// The error answers the endpoints share, as response sets for `#[utoipa::path]`.

fn integer() -> RefOr<utoipa::openapi::schema::Schema> {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(Type::Integer)
        .into()
}

fn string() -> RefOr<utoipa::openapi::schema::Schema> {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(Type::String)
        .into()
}

fn oauth(description: &str) -> ResponseBuilder {
    ResponseBuilder::new().description(description).content(
        "application/json",
        ContentBuilder::new()
            .schema(Some(Ref::from_schema_name("OAuthError")))
            .build(),
    )
}

fn problem(description: &str) -> ResponseBuilder {
    ResponseBuilder::new().description(description).content(
        "application/problem+json",
        ContentBuilder::new()
            .schema(Some(Ref::from_schema_name("Problem")))
            .build(),
    )
}

fn retry_after(response: ResponseBuilder) -> ResponseBuilder {
    response.header(
        "Retry-After",
        HeaderBuilder::new()
            .schema(integer())
            .description(Some("Seconds to wait before trying again."))
            .build(),
    )
}

fn challenge(response: ResponseBuilder, text: &str) -> ResponseBuilder {
    response.header(
        "WWW-Authenticate",
        HeaderBuilder::new()
            .schema(string())
            .description(Some(text))
            .build(),
    )
}

fn set(responses: Vec<(&str, Response)>) -> BTreeMap<String, RefOr<Response>> {
    responses
        .into_iter()
        .map(|(status, response)| (status.to_owned(), RefOr::T(response)))
        .collect()
}

/// 503 with `Retry-After`: the database is busy or unreachable (OAuth JSON).
pub(crate) struct Unavailable;

impl IntoResponses for Unavailable {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        set(vec![(
            "503",
            retry_after(oauth(
                "The database is busy or unreachable (`server_error`); try again.",
            ))
            .build(),
        )])
    }
}

/// 401 `invalid_token`: a missing, unknown or revoked device token.
pub(crate) struct DeviceUnauthorized;

impl IntoResponses for DeviceUnauthorized {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        set(vec![(
            "401",
            challenge(
                oauth("`invalid_token`: a missing, unknown or logged-out device token."),
                "`Bearer error=\"invalid_token\"`",
            )
            .build(),
        )])
    }
}

/// 400 and 413 for a JSON body: malformed, or over 64 KiB.
pub(crate) struct BadJson;

impl IntoResponses for BadJson {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        set(vec![
            (
                "400",
                oauth("`invalid_request`: a malformed body or a missing or invalid field.").build(),
            ),
            (
                "413",
                oauth("`invalid_request`: the body is larger than 64 KiB.").build(),
            ),
        ])
    }
}

/// 404, 409 and 410 for one login request.
pub(crate) struct LoginRequestErrors;

impl IntoResponses for LoginRequestErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        set(vec![
            (
                "404",
                oauth("No such login request, or another person's.").build(),
            ),
            (
                "409",
                oauth("The login request was already answered.").build(),
            ),
            (
                "410",
                oauth("`expired_token`: the login request has expired.").build(),
            ),
        ])
    }
}

/// The errors of an endpoint with client authentication (token, revocation, CIBA,
/// user-exists): 400, 401 `invalid_client`, 403 (a partner acting for a merchant it may
/// not), 413, 503.
pub(crate) struct ClientErrors;

impl IntoResponses for ClientErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        set(vec![
            (
                "400",
                oauth(
                    "`invalid_request`, `invalid_grant`, `invalid_scope`, `unauthorized_client`, \
                     `unsupported_grant_type`, and (CIBA) `invalid_user`, \
                     `authorization_pending`, `slow_down`, `expired_token`, `access_denied`; \
                     a `Merchant-Serial-Number` that is not the sales unit's.",
                )
                .build(),
            ),
            (
                "401",
                challenge(
                    oauth("`invalid_client`: unknown client or wrong secret."),
                    "The scheme the client tried (`Basic realm=\"nod\", charset=\"UTF-8\"` or \
                     `Bearer realm=\"nod\"`); absent for `client_secret_post`.",
                )
                .build(),
            ),
            (
                "403",
                oauth("`access_denied`: a partner acting for a merchant it may not.").build(),
            ),
            (
                "413",
                oauth("`invalid_request`: the body is larger than 64 KiB.").build(),
            ),
            (
                "503",
                retry_after(oauth(
                    "The database is busy or unreachable (`server_error`); try again.",
                ))
                .build(),
            ),
        ])
    }
}

/// 429 with `Retry-After` (OAuth JSON): a rate limit.
pub(crate) struct TooMany;

impl IntoResponses for TooMany {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        set(vec![(
            "429",
            retry_after(oauth(
                "`invalid_request`: too many requests (a rate limit, or too many logins \
                 pending for the person).",
            ))
            .build(),
        )])
    }
}

/// The errors of the merchant API platform (problem JSON): 401 and 503.
pub(crate) struct ProblemErrors;

impl IntoResponses for ProblemErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        set(vec![
            (
                "401",
                challenge(
                    problem("Missing, unknown or expired credentials or token."),
                    "`Bearer error=\"invalid_token\"` for an unknown or expired access token.",
                )
                .build(),
            ),
            (
                "503",
                retry_after(problem("The database is busy or unreachable; try again.")).build(),
            ),
        ])
    }
}

/// 400 problem JSON.
pub(crate) struct ProblemBadRequest;

impl IntoResponses for ProblemBadRequest {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        set(vec![(
            "400",
            problem(
                "A malformed body, invalid fields (listed in `extraDetails`), or a \
                 `Merchant-Serial-Number` that is not the sales unit's.",
            )
            .build(),
        )])
    }
}

// The request bodies as the document describes them. The server reads them into
// `nod_core::requests` (fuzzed there); schemathesis sends what these describe.

#[derive(ToSchema)]
pub(crate) struct RegisterDeviceRequest {
    /// As a person types it: `+47 912 34 501`, `004791234501`, `4791234501`, or eight
    /// digits (Norwegian).
    #[schema(example = "4791234501", max_length = 32)]
    phone_number: Option<String>,
    /// From `nod user activation-code`; not needed in test mode.
    activation_code: Option<String>,
    /// What the person calls this app (at most 64 characters), shown in their list.
    name: Option<String>,
}

#[derive(ToSchema)]
pub(crate) struct OpenRequest {
    /// The deep link's `ticket`.
    ticket: Option<String>,
}

#[derive(ToSchema)]
pub(crate) struct ApproveRequest {
    /// The number the person picked (desktop flow).
    challenge: Option<u8>,
    #[serde(default)]
    remember_browser: bool,
    /// The answer to the consent question, when the consent is asked in the app.
    consent: Option<bool>,
    /// Answers to the sales unit's consent questions (`delegatedConsents`).
    #[schema(value_type = Option<Vec<DelegatedAnswer>>)]
    delegated_consents: Option<Vec<DelegatedAnswer>>,
}

#[derive(ToSchema)]
pub(crate) struct RejectRequest {
    /// `rejected` (the default), `not_me` or `cancelled`; anything else reaches the
    /// merchant as `unknown_reject_reason`.
    reason: Option<String>,
}

#[derive(ToSchema)]
pub(crate) struct OutcomeRequest {
    /// `rejected`, `wrong_challenge`, `unknown_reject_reason`, `outdated_app_version`,
    /// `old_app` or `expire_now`.
    outcome: Option<String>,
}

/// The Webhooks API's `RegisterRequest`.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RegisterRequest {
    /// An `https` URL (`http` only to loopback).
    #[serde(default)]
    url: String,
    #[serde(default)]
    #[schema(value_type = Vec<WebhookEventName>)]
    events: Vec<String>,
}
