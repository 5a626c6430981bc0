//! Paths, defined once for the router, the discovery document, the pages and the tests.

pub const ISSUER_PATH: &str = "/access-management-1.0/access/";
pub const DISCOVERY: &str = "/access-management-1.0/access/.well-known/openid-configuration";
pub const ROOT_DISCOVERY: &str = "/.well-known/openid-configuration";
pub const JWKS: &str = "/access-management-1.0/access/.well-known/jwks.json";
pub const AUTHORIZE: &str = "/access-management-1.0/access/oauth2/auth";
pub const TOKEN: &str = "/access-management-1.0/access/oauth2/token";
pub const REVOKE: &str = "/access-management-1.0/access/oauth2/revoke";
pub const USERINFO: &str = "/vipps-userinfo-api/userinfo";
/// Userinfo as the Vipps userinfo specification and quick start spell it.
pub const USERINFO_SLASH: &str = "/vipps-userinfo-api/userinfo/";
pub const CIBA_START: &str = "/vipps-login-ciba/api/backchannel/authentication";
pub const USER_EXISTS: &str = "/vipps-login-ciba/api/v1/user-exists";
pub const APP_API: &str = "/app-api/v1";
/// The access token API (merchant API tokens for the webhooks API).
pub const ACCESS_TOKEN: &str = "/accesstoken/get";
/// The webhooks API: register and list, and one registration.
pub const WEBHOOKS: &str = "/webhooks/v1/webhooks";
pub const WEBHOOK: &str = "/webhooks/v1/webhooks/{id}";
/// The OpenAPI 3.1 document of the APIs.
pub const OPENAPI: &str = "/openapi.json";

/// Grant types of the token endpoint.
pub const GRANT_AUTHORIZATION_CODE: &str = "authorization_code";
pub const GRANT_CIBA: &str = "urn:openid:params:grant-type:ciba";
pub const GRANT_CIBA_REDIRECT: &str = "urn:vipps:params:grant-type:ciba-redirect";

/// The login page of a login request, and its steps.
pub const LOGIN: &str = "/login/{id}";
pub const LOGIN_PHONE: &str = "/login/{id}/phone";
pub const LOGIN_WAIT: &str = "/login/{id}/wait";
pub const LOGIN_EVENTS: &str = "/login/{id}/events";
pub const LOGIN_CONTINUE: &str = "/login/{id}/continue";
pub const LOGIN_RESUME: &str = "/login/{id}/resume";
pub const LOGIN_CONSENT: &str = "/login/{id}/consent";
pub const LOGIN_RESTART: &str = "/login/{id}/restart";
pub const LOGIN_CANCEL: &str = "/login/{id}/cancel";

/// The path of a login request's page (`step` "") or one of its steps (`"wait"`, …).
pub fn login_page(id: uuid::Uuid, step: &str) -> String {
    if step.is_empty() {
        format!("/login/{id}")
    } else {
        format!("/login/{id}/{step}")
    }
}
