//! The test app at `/test-app/`: a phone-sized web page that *is* a person's app. It uses
//! the app API and nothing else; `/test-app/open?ticket=…` is where deep links land.

use axum::Router;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;

use crate::state::AppState;
use crate::web::render::static_file;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/test-app",
            get(|| async { axum::response::Redirect::permanent("/test-app/") }),
        )
        .route("/test-app/", get(index))
        .route("/test-app/open", get(index))
        .route(
            "/test-app/app.js",
            get(|| static_file("text/javascript", include_str!("../static/test-app/app.js"))),
        )
        .route(
            "/test-app/app.css",
            get(|| static_file("text/css", include_str!("../static/test-app/app.css"))),
        )
}

async fn index() -> Response {
    Html(include_str!("../static/test-app/index.html")).into_response()
}
