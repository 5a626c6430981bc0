//! Protocol paths, defined once for the router, the discovery document and the tests.

pub const ISSUER_PATH: &str = "/access-management-1.0/access/";
pub const DISCOVERY: &str = "/access-management-1.0/access/.well-known/openid-configuration";
pub const ROOT_DISCOVERY: &str = "/.well-known/openid-configuration";
pub const JWKS: &str = "/access-management-1.0/access/.well-known/jwks.json";
pub const AUTHORIZE: &str = "/access-management-1.0/access/oauth2/auth";
pub const TOKEN: &str = "/access-management-1.0/access/oauth2/token";
pub const USERINFO: &str = "/vipps-userinfo-api/userinfo";
pub const CIBA_START: &str = "/vipps-login-ciba/api/backchannel/authentication";
pub const USER_EXISTS: &str = "/vipps-login-ciba/api/v1/user-exists";
pub const APP_API: &str = "/app-api/v1";
