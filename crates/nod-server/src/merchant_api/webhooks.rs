//! The webhooks API: `POST /webhooks/v1/webhooks` registers (`201 {"id","secret"}`),
//! `GET` lists the sales unit's registrations (`{"webhooks":[{"id","url","events"}]}`),
//! `DELETE …/{id}` removes one (`204`).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use nod_core::requests::RegisterWebhookRequest;
use nod_core::webhook::{Webhook, WebhookEvent};
use serde::Serialize;

use crate::state::AppState;
use crate::web::error::ProblemJson;
use crate::web::extract::{ApiPath, MerchantAuth, ProblemJsonBody};
use crate::web::render::NO_STORE;

/// The Webhooks API's `RegisterResponse`.
#[derive(Serialize)]
struct RegisterResponse {
    id: String,
    secret: String,
}

/// The Webhooks API's `Webhook` (the secret is shown only at registration).
#[derive(Serialize)]
struct WebhookView {
    id: String,
    url: String,
    events: Vec<WebhookEvent>,
}

impl From<Webhook> for WebhookView {
    fn from(w: Webhook) -> Self {
        Self {
            id: w.id.to_string(),
            url: w.url,
            events: w.events,
        }
    }
}

#[derive(Serialize)]
struct QueryResponse {
    webhooks: Vec<WebhookView>,
}

pub(super) async fn register_webhook(
    state: AppState,
    MerchantAuth(unit): MerchantAuth,
    ProblemJsonBody(request): ProblemJsonBody<RegisterWebhookRequest>,
) -> Result<Response, ProblemJson> {
    let registration = state
        .service
        .register_webhook(&unit, &request.url, &request.events)
        .await?;
    let body = RegisterResponse {
        id: registration.id.to_string(),
        secret: registration.secret,
    };
    Ok((StatusCode::CREATED, [NO_STORE], axum::Json(body)).into_response())
}

pub(super) async fn list_webhooks(
    state: AppState,
    MerchantAuth(unit): MerchantAuth,
) -> Result<Response, ProblemJson> {
    let webhooks = state.service.webhooks(&unit).await?;
    let body = QueryResponse {
        webhooks: webhooks.into_iter().map(WebhookView::from).collect(),
    };
    Ok(([NO_STORE], axum::Json(body)).into_response())
}

pub(super) async fn delete_webhook(
    state: AppState,
    MerchantAuth(unit): MerchantAuth,
    ApiPath(id): ApiPath,
) -> Result<Response, ProblemJson> {
    state.service.delete_webhook(&unit, &id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
