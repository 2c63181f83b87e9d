//! Errors as pages: a browser asking for a page (Accept: text/html, outside
//! `/api/`) that gets an error without a page — an unknown URL (axum's empty
//! 404), a problem+json from a page handler, an extractor's plain-text
//! rejection — is shown an error page in the user's language with a way
//! back. The API keeps problem+json (`guard::api_problems`); htmx requests
//! keep their fragments.

use crate::i18n::Lang;
use crate::menu;
use askama::Template;
use axum::extract::Request;
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::Response;

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    pub lang: Lang,
    pub logged_in: bool,
    pub status: u16,
    pub title_key: &'static str,
    pub detail: String,
}

/// Whether the request is a browser's, for a page.
fn wants_page(req: &Request) -> bool {
    let h = req.headers();
    menu::is_page(req.uri().path())
        && !h.contains_key("hx-request")
        && h.get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|a| a.contains("text/html"))
}

fn lang_of(req: &Request) -> Lang {
    let q = req.uri().query().and_then(|q| {
        q.split('&')
            .find_map(|kv| kv.strip_prefix("lang="))
            .map(str::to_string)
    });
    Lang::from_request(q.as_deref(), req.headers())
}

fn is_html(h: &HeaderMap) -> bool {
    h.get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("text/html"))
}

/// The title of an error page by status; `unknown`: no route matched.
pub fn title_key(status: StatusCode, unknown: bool) -> &'static str {
    match status.as_u16() {
        404 if unknown => "err.page_not_found",
        404 => "err.not_found",
        403 => "err.not_allowed_here",
        401 => "err.login_again",
        _ => "err.other",
    }
}

/// The error page of `status` in `lang`.
pub fn page(lang: Lang, status: StatusCode, unknown: bool, detail: String) -> Response {
    let detail = if unknown && detail.is_empty() {
        lang.t("err.page_not_found_detail").to_string()
    } else {
        detail
    };
    let t = ErrorPage {
        lang,
        logged_in: menu::logged_in(),
        status: status.as_u16(),
        title_key: title_key(status, unknown),
        detail,
    };
    crate::page::render(&t, status, None)
}

/// The middleware (inside [`menu::layer`], so the page has its menu).
pub async fn html_errors(req: Request, next: Next) -> Response {
    if !wants_page(&req) {
        return next.run(req).await;
    }
    let lang = lang_of(&req);
    let resp = next.run(req).await;
    let status = resp.status();
    if !(status.is_client_error() || status.is_server_error()) || is_html(resp.headers()) {
        return resp;
    }
    let (parts, body) = resp.into_parts();
    let bytes = axum::body::to_bytes(body, 64 * 1024)
        .await
        .unwrap_or_default();
    let text = String::from_utf8_lossy(&bytes).trim().to_string();
    // A problem+json names its detail; anything else is the text itself.
    let detail = serde_json::from_str::<serde_json::Value>(&text)
        .ok()
        .and_then(|v| v.get("detail").and_then(|d| d.as_str()).map(str::to_string))
        .unwrap_or_else(|| text.chars().take(300).collect());
    // axum's own 404 for an unknown URL has no body at all.
    let unknown = status == StatusCode::NOT_FOUND && text.is_empty();
    let mut out = page(lang, status, unknown, detail);
    for name in [header::ALLOW, header::RETRY_AFTER, header::SET_COOKIE] {
        for v in parts.headers.get_all(&name) {
            out.headers_mut().append(name.clone(), v.clone());
        }
    }
    out
}
