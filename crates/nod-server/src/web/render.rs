//! Rendering: HTML pages from templates (with `Cache-Control: no-store`), the error and
//! message pages, the form-post page, and static files.

use askama::Template;
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

use crate::i18n::{Lang, Problem, Texts};

/// `Cache-Control: no-store`, for every response that carries a token or personal data.
pub(crate) const NO_STORE: (HeaderName, HeaderValue) =
    (header::CACHE_CONTROL, HeaderValue::from_static("no-store"));

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorView<'a> {
    t: &'a Texts,
    title: &'a str,
    message: &'a str,
    detail: Option<&'a str>,
    request_id: Option<&'a str>,
}

#[derive(Template)]
#[template(path = "message.html")]
struct MessageView<'a> {
    t: &'a Texts,
    title: &'a str,
    message: &'a str,
    link: Option<(&'a str, &'a str)>,
}

#[derive(Template)]
#[template(path = "form_post.html")]
struct FormPostView<'a> {
    t: &'a Texts,
    action: &'a str,
    fields: &'a [(&'a str, &'a str)],
}

/// A rendered template as a page; a template failure is a plain 500.
pub(crate) fn html(status: StatusCode, rendered: Result<String, askama::Error>) -> Response {
    match rendered {
        Ok(body) => (status, [NO_STORE], Html(body)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "template failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    }
}

pub(crate) fn render_error_page(
    status: StatusCode,
    lang: Lang,
    problem: Problem,
    detail: Option<&str>,
    request_id: Option<&str>,
) -> Response {
    let t = lang.texts();
    let (title, message) = t.problem(problem);
    html(
        status,
        ErrorView {
            t,
            title,
            message,
            detail,
            request_id,
        }
        .render(),
    )
}

pub(crate) fn render_form_post(lang: Lang, action: &str, fields: &[(&str, &str)]) -> Response {
    html(
        StatusCode::OK,
        FormPostView {
            t: lang.texts(),
            action,
            fields,
        }
        .render(),
    )
}

pub(crate) fn render_message(
    lang: Lang,
    title: &str,
    message: &str,
    link: Option<(&str, &str)>,
) -> Response {
    html(
        StatusCode::OK,
        MessageView {
            t: lang.texts(),
            title,
            message,
            link,
        }
        .render(),
    )
}

/// A static asset compiled into the binary.
pub(crate) async fn static_file(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=300"),
            ),
        ],
        body,
    )
        .into_response()
}
