//! The merchant's API platform endpoints, as the Vipps MobilePay APIs have them: the
//! access token API (`POST /accesstoken/get`) and the webhooks API it authorizes. Errors
//! are RFC 7807 problems, the Vipps MobilePay error format.

use axum::Router;
use axum::routing::{delete, post};

use crate::paths;
use crate::state::AppState;

pub(crate) mod access_token;
pub(crate) mod webhooks;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route(paths::ACCESS_TOKEN, post(access_token::get_access_token))
        .route(
            paths::WEBHOOKS,
            post(webhooks::register_webhook).get(webhooks::list_webhooks),
        )
        .route(paths::WEBHOOK, delete(webhooks::delete_webhook))
}
