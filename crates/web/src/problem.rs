//! Errors as RFC 9457 problem details (`application/problem+json`), naming
//! the bad field where there is one.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use gongzhi_store::StoreError;
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct FieldProblem {
    pub field: String,
    pub reason: String,
}

#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub title: &'static str,
    pub detail: String,
    pub errors: Vec<FieldProblem>,
    pub retry_after: Option<u64>,
}

#[derive(Serialize)]
struct Body<'a> {
    #[serde(rename = "type")]
    kind: String,
    title: &'a str,
    status: u16,
    detail: &'a str,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    errors: &'a [FieldProblem],
}

impl ApiError {
    pub fn new(status: StatusCode, title: &'static str, detail: impl Into<String>) -> Self {
        ApiError {
            status,
            title,
            detail: detail.into(),
            errors: vec![],
            retry_after: None,
        }
    }
    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "Unauthorized",
            "log in first (session cookie or Authorization: Bearer token)",
        )
    }
    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "Forbidden", detail)
    }
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "Not Found", detail)
    }
    pub fn field(field: impl Into<String>, reason: impl Into<String>) -> Self {
        let (field, reason) = (field.into(), reason.into());
        ApiError {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            title: "Invalid request",
            detail: format!("{field}: {reason}"),
            errors: vec![FieldProblem { field, reason }],
            retry_after: None,
        }
    }
}

/// For `map_err`: a missing row answers 404 saying `what` (whatever the
/// store called it); every other failure keeps its own answer — a database
/// outage is a 503, never a "not found".
pub fn or_not_found(what: impl Into<String>) -> impl FnOnce(StoreError) -> ApiError {
    let what = what.into();
    move |e| match e {
        StoreError::NotFound { .. } => ApiError::not_found(what),
        other => other.into(),
    }
}

/// For `map_err` on an access check: refused or not visible answers 404
/// saying `what` (the object's existence is not confirmed); an outage or an
/// internal failure keeps its own answer.
pub fn hidden_as_not_found(what: impl Into<String>) -> impl FnOnce(ApiError) -> ApiError {
    let what = what.into();
    move |e| match e.status {
        StatusCode::NOT_FOUND | StatusCode::FORBIDDEN => ApiError::not_found(what),
        _ => e,
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound { what } => ApiError::not_found(format!("{what} not found")),
            StoreError::Invalid { field, reason } => ApiError::field(field, reason),
            StoreError::Conflict(m) => ApiError::new(StatusCode::CONFLICT, "Conflict", m),
            StoreError::Forbidden(m) => ApiError::forbidden(m),
            StoreError::RateLimited {
                field,
                reason,
                retry_after_secs,
            } => ApiError {
                status: StatusCode::TOO_MANY_REQUESTS,
                title: "Too Many Requests",
                detail: format!("{field}: {reason}"),
                errors: vec![FieldProblem { field, reason }],
                retry_after: Some(retry_after_secs),
            },
            other if other.is_unavailable() => {
                tracing::error!(error = %other, "database unavailable");
                let mut e = ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "Service Unavailable",
                    "the database cannot be reached just now; try again shortly",
                );
                e.retry_after = Some(5);
                e
            }
            other => {
                tracing::error!(error = %other, "store error");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Internal error",
                    "the server could not complete the request; it has been logged",
                )
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Body {
            kind: format!("https://gongzhi.example/problems/{}", self.status.as_u16()),
            title: self.title,
            status: self.status.as_u16(),
            detail: &self.detail,
            errors: &self.errors,
        };
        let mut resp = (
            self.status,
            [(header::CONTENT_TYPE, "application/problem+json")],
            serde_json::to_string(&body).unwrap_or_default(),
        )
            .into_response();
        if let Some(s) = self.retry_after {
            if let Ok(v) = s.to_string().parse() {
                resp.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        resp
    }
}

/// A JSON body whose errors name the field at fault.
pub struct ApiJson<T>(pub T);

impl<T, S> axum::extract::FromRequest<S> for ApiJson<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, Self::Rejection> {
        let ct = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        if !ct.starts_with("application/json") {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "Unsupported media type",
                "send the body as application/json",
            ));
        }
        let bytes = bytes::Bytes::from_request(req, state).await.map_err(|e| {
            let status = e.status();
            let title = status.canonical_reason().unwrap_or("Bad request");
            ApiError::new(status, title, e.body_text())
        })?;
        // Text with NUL or other control characters never reaches a handler
        // (PostgreSQL refuses NUL in text; the others are never wanted).
        if let Ok(v) = serde_json::from_slice::<serde_json::Value>(&bytes) {
            if let Some(field) = control_path(&v, "") {
                return Err(control_problem(field));
            }
        }
        let de = &mut serde_json::Deserializer::from_slice(&bytes);
        serde_path_to_error::deserialize(de)
            .map(ApiJson)
            .map_err(|e| {
                let path = e.path().to_string();
                let inner = e.into_inner();
                let msg = inner.to_string();
                // "missing field `x`" happens at the parent path: name the field itself.
                let field = match (msg.strip_prefix("missing field `"), path.as_str()) {
                    (Some(rest), ".") => rest.split('`').next().unwrap_or("body").to_string(),
                    (Some(rest), p) => format!("{p}.{}", rest.split('`').next().unwrap_or("")),
                    (None, ".") => "body".to_string(),
                    (None, p) => p.to_string(),
                };
                let reason = msg.split(" at line ").next().unwrap_or(&msg).to_string();
                ApiError::field(field, reason)
            })
    }
}

/// A character refused in any text taken from a request: C0 controls other
/// than tab, line feed and carriage return, and DEL.
pub fn is_refused_control(c: char) -> bool {
    (c < ' ' && !matches!(c, '\t' | '\n' | '\r')) || c == '\u{7f}'
}

/// The 422 for text holding a refused control character.
pub fn control_problem(field: impl Into<String>) -> ApiError {
    ApiError::field(
        field,
        "contains a control character (only tab, line feed and carriage return are allowed)",
    )
}

/// The JSON path (`name`, `parts[3].number`) of the first string or key
/// holding a refused control character, if any; `body` for a bare string.
pub fn control_path(v: &serde_json::Value, path: &str) -> Option<String> {
    use serde_json::Value;
    let bad = |s: &str| s.chars().any(is_refused_control);
    match v {
        Value::String(s) if bad(s) => Some(if path.is_empty() {
            "body".to_string()
        } else {
            path.to_string()
        }),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, x)| control_path(x, &format!("{path}[{i}]"))),
        Value::Object(m) => m.iter().find_map(|(k, x)| {
            let key = if bad(k) {
                k.escape_default().to_string()
            } else {
                k.clone()
            };
            let p = if path.is_empty() {
                key
            } else {
                format!("{path}.{key}")
            };
            if bad(k) {
                Some(p)
            } else {
                control_path(x, &p)
            }
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn control_paths_name_the_field() {
        assert_eq!(
            control_path(&json!({"name": "a\u{0}b"}), ""),
            Some("name".into())
        );
        let v = json!({"parts": [{"number": "1"}, {"number": "2"}, {"number": "3"}, {"number": "4\u{1b}"}]});
        assert_eq!(control_path(&v, ""), Some("parts[3].number".into()));
        assert_eq!(
            control_path(&json!({"note": "line\nnext\ttab\r"}), ""),
            None
        );
        assert_eq!(
            control_path(&json!({"x": "del\u{7f}"}), ""),
            Some("x".into())
        );
        assert_eq!(
            control_path(&json!({"a\u{0}": 1}), ""),
            Some("a\\u{0}".into())
        );
        assert_eq!(control_path(&json!("\u{0}"), ""), Some("body".into()));
        assert_eq!(
            control_path(&json!({"n": 1, "b": true, "z": null}), ""),
            None
        );
        assert!(is_refused_control('\u{0}') && is_refused_control('\u{1f}'));
        assert!(!is_refused_control('\n') && !is_refused_control('é') && !is_refused_control(' '));
    }
}
