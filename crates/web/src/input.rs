//! One gate for text that arrives outside a JSON body: the path, the query
//! string and form posts (`application/x-www-form-urlencoded`, the pages and
//! Open311). A NUL or another control character (other than tab, line feed
//! and carriage return) is refused before any handler runs: PostgreSQL
//! refuses NUL in text (a 500 otherwise) and no field wants the others.
//! JSON bodies are checked by [`crate::problem::ApiJson`], field by field.

use crate::i18n::Lang;
use crate::problem::{control_problem, is_refused_control, ApiError};
use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// Form bodies are buffered to be checked; axum's own limit for `Form`.
const MAX_FORM_BYTES: usize = 2 * 1024 * 1024;

/// Decodes `%XX` escapes (no `+`: this is for paths).
fn percent_decode(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        if b[i] == b'%' && i + 2 < b.len() {
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    out
}

fn bad(s: &str) -> bool {
    s.chars().any(is_refused_control)
}

/// The first name/value pair of a form or query string holding a refused
/// control character: its name (escaped if the name itself is at fault).
pub fn refused_pair(encoded: &[u8]) -> Option<String> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(encoded).unwrap_or_default();
    pairs.into_iter().find_map(|(k, v)| {
        if bad(&k) {
            Some(k.escape_default().to_string())
        } else if bad(&v) {
            Some(k)
        } else {
            None
        }
    })
}

/// What is wrong with the path or query of `req`, if anything: the field.
fn refused_in_uri(req: &Request) -> Option<String> {
    let path = percent_decode(req.uri().path());
    if String::from_utf8_lossy(&path)
        .chars()
        .any(is_refused_control)
    {
        return Some("path".into());
    }
    req.uri().query().and_then(|q| refused_pair(q.as_bytes()))
}

fn is_form(req: &Request) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"))
}

/// The answer for a refused field, in the shape the route speaks: problem+json
/// under `/api/`, the spec's error list under `/open311/`, a page otherwise.
fn refusal(path: &str, headers: &axum::http::HeaderMap, field: &str) -> Response {
    if path.starts_with("/api/") {
        control_problem(field).into_response()
    } else if path.starts_with("/open311/") {
        crate::open311::api::control_refused(path, field)
    } else {
        let lang = Lang::from_request(None, headers);
        let e = ApiError::new(
            StatusCode::BAD_REQUEST,
            "Bad request",
            format!("{}: {field}", lang.t("err.control_char")),
        );
        crate::page::page_error(e, lang)
    }
}

/// The middleware: refuses control characters in the path, the query and
/// form bodies; passes everything else on untouched.
pub async fn refuse_controls(req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    if let Some(field) = refused_in_uri(&req) {
        return refusal(&path, req.headers(), &field);
    }
    if !is_form(&req) {
        return next.run(req).await;
    }
    let (parts, body) = req.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_FORM_BYTES).await else {
        return (StatusCode::PAYLOAD_TOO_LARGE, "the form is too large").into_response();
    };
    if let Some(field) = refused_pair(&bytes) {
        return refusal(&path, &parts.headers, &field);
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_and_finds() {
        assert_eq!(percent_decode("/a%00b%2"), b"/a\0b%2".to_vec());
        assert_eq!(percent_decode("%e4%b8%ad"), "中".as_bytes().to_vec());
        assert_eq!(percent_decode("%zz%"), b"%zz%".to_vec());
        assert_eq!(
            refused_pair(b"username=a%00b&password=x"),
            Some("username".into())
        );
        assert_eq!(refused_pair(b"a=1&note=line%0Anext%09tab"), None);
        assert_eq!(refused_pair(b"x%01=1"), Some("x\\u{1}".into()));
        assert_eq!(refused_pair(b"d=%7F"), Some("d".into()));
    }
}
