//! `POST /accesstoken/get`: a merchant API access token for the sales unit's
//! credentials, in the Vipps Access token API's response shape.

use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::openapi::schemas as doc;
use crate::paths;
use crate::state::AppState;
use crate::web::error::ProblemJson;
use crate::web::extract::HeaderCredentials;
use crate::web::render::NO_STORE;

/// The Access token API's `AuthorizationTokenResponse`: every value is a string, times
/// are seconds since the epoch; `ext_expires_in` is "not used" (`"0"`) and `resource`
/// "can be disregarded".
#[derive(Serialize, utoipa::ToSchema)]
struct AccessTokenResponse {
    token_type: &'static str,
    expires_in: String,
    ext_expires_in: String,
    expires_on: String,
    not_before: String,
    resource: &'static str,
    access_token: String,
}

/// The Access token API's sample `resource`; Nod has no resources to tell apart.
const RESOURCE: &str = "00000002-0000-0000-c000-000000000000";

#[utoipa::path(
    post,
    path = paths::ACCESS_TOKEN,
    tag = "merchant API",
    params(doc::MerchantSerialNumber),
    responses(
        (status = 200, description = "A merchant API access token (every value a string).", body = AccessTokenResponse),
        doc::ProblemBadRequest,
        doc::ProblemErrors,
    ),
    security(("client_id_header" = [], "client_secret_header" = [])),
)]
/// A merchant API access token for the sales unit's (or a partner's) credentials.
pub(super) async fn get_access_token(
    state: AppState,
    credentials: HeaderCredentials,
) -> Result<Response, ProblemJson> {
    let issued = state
        .service
        .issue_merchant_token(
            &credentials.client_id,
            &credentials.client_secret,
            credentials.msn.as_deref(),
        )
        .await?;
    let body = AccessTokenResponse {
        token_type: "Bearer",
        expires_in: issued.expires_in.to_string(),
        ext_expires_in: "0".into(),
        expires_on: issued.expires_at.to_string(),
        not_before: issued.issued_at.to_string(),
        resource: RESOURCE,
        access_token: issued.access_token,
    };
    Ok(([NO_STORE], axum::Json(body)).into_response())
}
