//! Trust at the edge of every request, in one place for every route (a new
//! route is covered without doing anything):
//!
//! - [`guard`]: a state-changing request a browser says comes from another
//!   site (`Sec-Fetch-Site`, else `Origin` against the host) is refused —
//!   pages, the login form and the cookie-authenticated API alike; a
//!   state-changing page request that carries the session cookie also needs
//!   the session's CSRF token (hidden field `csrf` or header `X-CSRF-Token`).
//!   The token is an HMAC of the session token under a server key: per
//!   session, nothing stored.
//! - [`security_headers`]: CSP without inline scripts, no framing, nosniff,
//!   same-origin referrers, `no-store` on anything private, `Secure` cookies
//!   when the request came over HTTPS (directly or per the proxy).
//! - [`api_problems`]: every error under `/api/` is problem+json, whoever
//!   produced it (extractor rejections, body limits, unmatched methods).

use crate::i18n::Lang;
use crate::problem::{ApiError, FieldProblem};
use crate::session;
use crate::AppState;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// The hidden form field that carries the CSRF token.
pub const CSRF_FIELD: &str = "csrf";
/// The request header that may carry it instead (htmx: `hx-headers`).
pub const CSRF_HEADER: &str = "x-csrf-token";
/// A page form larger than this is refused before its token is looked for.
const MAX_FORM_BYTES: usize = 2 * 1024 * 1024;

pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

tokio::task_local! {
    static TOKEN: String;
}

/// The CSRF token of the session being served (empty without a session), for
/// the templates: `{{ crate::guard::token() }}`.
pub fn token() -> String {
    TOKEN.try_with(|t| t.clone()).unwrap_or_default()
}

/// The CSRF key, derived from the server's own secret (the books key, kept
/// in the data dir), so tokens survive a restart.
pub fn key_from(secret: &[u8; 32]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"gongzhi csrf key v1\0");
    h.update(secret);
    h.finalize().into()
}

fn mac(key: &[u8; 32], session: &str) -> Hmac<Sha256> {
    let mut m = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    m.update(b"csrf\0");
    m.update(session.as_bytes());
    m
}

/// The CSRF token of a session (hex of HMAC-SHA256).
pub fn token_for(key: &[u8; 32], session: &str) -> String {
    hex::encode(mac(key, session).finalize().into_bytes())
}

/// Whether `given` is the session's token (compared in constant time).
pub fn token_ok(key: &[u8; 32], session: &str, given: &str) -> bool {
    match hex::decode(given.trim()) {
        Ok(bytes) => mac(key, session).verify_slice(&bytes).is_ok(),
        Err(_) => false,
    }
}

/// Whether a browser says the request comes from another site.
/// `Sec-Fetch-Site` (every current browser sends it) decides: only
/// `same-origin` and `none` (typed by the user) pass. Without it, `Origin`
/// must name the host asked for (`X-Forwarded-Host` behind a proxy). Neither
/// header (scripts, curl): not a browser's cross-site request.
pub fn cross_site(headers: &HeaderMap) -> bool {
    if let Some(site) = headers.get("sec-fetch-site") {
        return !matches!(site.to_str().unwrap_or(""), "same-origin" | "none");
    }
    let Some(origin) = headers.get(header::ORIGIN) else {
        return false;
    };
    let Some((_, authority)) = origin.to_str().unwrap_or("").split_once("://") else {
        return true; // "null" (sandboxed, privacy-sensitive) or garbage
    };
    let host = headers
        .get("x-forwarded-host")
        .or_else(|| headers.get(header::HOST))
        .and_then(|v| v.to_str().ok())
        .map(|h| h.split(',').next().unwrap_or("").trim());
    match host {
        Some(h) => !authority.trim_end_matches('/').eq_ignore_ascii_case(h),
        None => true,
    }
}

/// Whether the request came over HTTPS: its own scheme, or a proxy's
/// `X-Forwarded-Proto: https` / `Forwarded: proto=https`.
pub fn https(headers: &HeaderMap, uri: &axum::http::Uri) -> bool {
    let first = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.split(',').next().unwrap_or("").trim().to_string())
    };
    uri.scheme_str() == Some("https")
        || first("x-forwarded-proto").is_some_and(|p| p.eq_ignore_ascii_case("https"))
        || first("forwarded").is_some_and(|f| {
            f.split(';').any(|kv| {
                kv.split_once('=').is_some_and(|(k, v)| {
                    k.trim().eq_ignore_ascii_case("proto")
                        && v.trim().trim_matches('"').eq_ignore_ascii_case("https")
                })
            })
        })
}

fn changes_state(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// A refusal page in the user's language.
fn refuse_page(lang: Lang, key: &str) -> Response {
    crate::page::page_error(ApiError::forbidden(lang.t(key)), lang)
}

/// Refuses cross-site state changes and page posts without the session's
/// CSRF token; sets the token for the templates of the response.
pub async fn guard(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let session = session::cookie(req.headers(), session::SESSION_COOKIE);
    let token = session
        .as_deref()
        .map(|s| token_for(&state.csrf_key, s))
        .unwrap_or_default();
    TOKEN
        .scope(token, check(state.csrf_key, session, req, next))
        .await
}

async fn check(key: [u8; 32], session: Option<String>, req: Request, next: Next) -> Response {
    if !changes_state(req.method()) {
        return next.run(req).await;
    }
    let path = req.uri().path();
    if path.starts_with("/api/") {
        // A Bearer token is no ambient credential; a cookie (or nothing) is.
        if !req.headers().contains_key(header::AUTHORIZATION) && cross_site(req.headers()) {
            return ApiError::forbidden(
                "cross-site request refused (Origin / Sec-Fetch-Site names another site)",
            )
            .into_response();
        }
        return next.run(req).await;
    }
    if path.starts_with("/open311/") {
        // Open311 authenticates by api_key in the request, never a cookie.
        return next.run(req).await;
    }
    let lang = Lang::from_request(None, req.headers());
    if cross_site(req.headers()) {
        return refuse_page(lang, "err.cross_site");
    }
    let Some(session) = session else {
        return next.run(req).await; // no ambient credential to abuse
    };
    if path == "/login" {
        return next.run(req).await;
    }
    let header_token = req
        .headers()
        .get(CSRF_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|t| !t.is_empty())
        .map(str::to_string);
    let (req, given) = match header_token {
        Some(t) => (req, Some(t)),
        None => match form_token(req).await {
            Ok(r) => r,
            Err(resp) => return resp,
        },
    };
    match given {
        Some(t) if token_ok(&key, &session, &t) => next.run(req).await,
        _ => refuse_page(lang, "err.csrf"),
    }
}

/// Reads the `csrf` field of a url-encoded form, giving the request back
/// with its body intact.
async fn form_token(req: Request) -> Result<(Request, Option<String>), Response> {
    let form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"));
    if !form {
        return Ok((req, None));
    }
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, MAX_FORM_BYTES)
        .await
        .map_err(|_| StatusCode::PAYLOAD_TOO_LARGE.into_response())?;
    let token = serde_urlencoded::from_bytes::<Vec<(String, String)>>(&bytes)
        .ok()
        .and_then(|fields| {
            fields
                .into_iter()
                .find_map(|(k, v)| (k == CSRF_FIELD).then_some(v))
        });
    Ok((Request::from_parts(parts, Body::from(bytes)), token))
}

/// Security headers on every response; `no-store` on anything answered to a
/// credentialed request; `Secure` cookies over HTTPS.
pub async fn security_headers(req: Request, next: Next) -> Response {
    let h = req.headers();
    let credentialed = session::cookie(h, session::SESSION_COOKIE).is_some()
        || h.contains_key(header::AUTHORIZATION)
        || req
            .uri()
            .query()
            .is_some_and(|q| q.split('&').any(|kv| kv.starts_with("api_key=")));
    let secure = https(h, req.uri());
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    if (credentialed || h.contains_key(header::SET_COOKIE))
        && !h.contains_key(header::CACHE_CONTROL)
    {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if secure {
        let cookies: Vec<HeaderValue> = h.get_all(header::SET_COOKIE).iter().cloned().collect();
        h.remove(header::SET_COOKIE);
        for c in cookies {
            let s = c.to_str().unwrap_or("");
            let has = s
                .split(';')
                .any(|a| a.trim().eq_ignore_ascii_case("secure"));
            let v = if has {
                c
            } else {
                HeaderValue::from_str(&format!("{s}; Secure")).unwrap_or(c)
            };
            h.append(header::SET_COOKIE, v);
        }
    }
    resp
}

/// Turns any error under `/api/` that is not problem+json yet (axum's own
/// rejections: query strings, paths, body limits, media types, methods)
/// into one, keeping its status.
pub async fn api_problems(req: Request, next: Next) -> Response {
    if !req.uri().path().starts_with("/api/") {
        return next.run(req).await;
    }
    let resp = next.run(req).await;
    let status = resp.status();
    let problem = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/problem+json"));
    if problem || !(status.is_client_error() || status.is_server_error()) {
        return resp;
    }
    let (parts, body) = resp.into_parts();
    let text = axum::body::to_bytes(body, 64 * 1024)
        .await
        .map(|b| String::from_utf8_lossy(&b).trim().to_string())
        .unwrap_or_default();
    let title = status.canonical_reason().unwrap_or("Error");
    let detail = if text.is_empty() {
        title.to_lowercase()
    } else {
        text
    };
    let mut e = ApiError::new(status, title, detail.clone());
    // "Failed to deserialize query string: limit: invalid digit…" names a field.
    if let Some((field, reason)) = detail
        .strip_prefix("Failed to deserialize query string: ")
        .and_then(|rest| rest.split_once(": "))
        .filter(|(f, _)| !f.is_empty() && !f.contains(' '))
    {
        e.errors.push(FieldProblem {
            field: field.to_string(),
            reason: reason.to_string(),
        });
    }
    let mut out = e.into_response();
    for name in [header::ALLOW, header::RETRY_AFTER, header::WWW_AUTHENTICATE] {
        if let Some(v) = parts.headers.get(&name) {
            out.headers_mut().insert(name, v.clone());
        }
    }
    out
}

/// Whether two secrets are equal, in time independent of where they differ.
pub fn same_secret(a: &str, b: &str) -> bool {
    let (a, b) = (Sha256::digest(a.as_bytes()), Sha256::digest(b.as_bytes()));
    a.iter()
        .zip(b.iter())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y))
        == 0
}
