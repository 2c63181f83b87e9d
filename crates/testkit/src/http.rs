//! One HTTP client for the tests: log in with the test password, send JSON
//! (every failure must be problem+json), read the field a problem names,
//! post page forms with the session's CSRF token.

use reqwest::{Client, StatusCode};
use serde_json::{json, Value};

/// Every test user's password.
pub const PW: &str = "correct horse battery";

/// A client that keeps cookies (a session).
pub fn client() -> Client {
    Client::builder().cookie_store(true).build().unwrap()
}

/// A client that keeps cookies and does not follow redirects, as a test of
/// pages wants to see them.
pub fn browser() -> Client {
    Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Logs `c` in as `user` (password [`PW`]) at the server `base`.
pub async fn login_with(c: Client, base: &str, user: &str) -> Client {
    let r = c
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"username": user, "password": PW}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "login {user}");
    c
}

/// A [`client`] with the session cookie of `user` (password [`PW`]).
pub async fn login_at(base: &str, user: &str) -> Client {
    login_with(client(), base, user).await
}

/// The response's content type ("" without one).
pub fn content_type(r: &reqwest::Response) -> String {
    r.headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default()
}

/// POSTs JSON; failures must be problem+json.
pub async fn post(c: &Client, url: String, body: Value) -> (StatusCode, Value) {
    let r = c.post(url).json(&body).send().await.unwrap();
    let st = r.status();
    let ct = content_type(&r);
    let v: Value = r.json().await.unwrap_or(Value::Null);
    if !st.is_success() {
        assert_eq!(
            ct, "application/problem+json",
            "errors are problem+json: {v}"
        );
    }
    (st, v)
}

/// POSTs JSON that must succeed with `status`; its body.
pub async fn post_ok(c: &Client, url: String, body: Value, status: StatusCode) -> Value {
    let (st, v) = post(c, url, body).await;
    assert_eq!(st, status, "{v}");
    v
}

/// POSTs JSON that must be refused with `status`, naming `field` (a
/// problem+json answer); its body.
pub async fn refused(
    c: &Client,
    url: String,
    body: Value,
    status: StatusCode,
    field_name: &str,
) -> Value {
    let (st, v) = post(c, url, body).await;
    assert_eq!(st, status, "{v}");
    assert_eq!(field(&v), field_name, "{v}");
    v
}

/// GETs JSON (`Null` when the body is not JSON).
pub async fn get(c: &Client, url: String) -> (StatusCode, Value) {
    let r = c.get(url).send().await.unwrap();
    (r.status(), r.json().await.unwrap_or(Value::Null))
}

/// GETs a body as text.
pub async fn get_text(c: &Client, url: String) -> (StatusCode, String) {
    let r = c.get(url).send().await.unwrap();
    (r.status(), r.text().await.unwrap())
}

/// The field named by a problem+json's first error.
pub fn field(v: &Value) -> &str {
    v["errors"][0]["field"].as_str().unwrap_or("")
}

/// The session's CSRF token, as every page carries it
/// (`<meta name="csrf-token">`), read from the home page of `url`'s server.
pub async fn csrf(c: &Client, url: &str) -> String {
    let base = url.splitn(4, '/').take(3).collect::<Vec<_>>().join("/");
    let html = c
        .get(format!("{base}/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    html.split("name=\"csrf-token\" content=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap_or_default()
        .to_string()
}

/// Submits a page form with the session's CSRF token; with `htmx` the
/// `HX-Request` header is sent. The status and the body.
pub async fn form(
    c: &Client,
    url: String,
    fields: &[(&str, &str)],
    htmx: bool,
) -> (StatusCode, String) {
    let token = csrf(c, &url).await;
    let mut fields = fields.to_vec();
    fields.push(("csrf", &token));
    let mut r = c.post(url).form(&fields);
    if htmx {
        r = r.header("HX-Request", "true");
    }
    let r = r.send().await.unwrap();
    (r.status(), r.text().await.unwrap())
}
