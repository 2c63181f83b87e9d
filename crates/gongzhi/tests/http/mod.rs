//! HTTP helpers shared by the API tests: log in with the test password, send
//! JSON and check that every failure is problem+json, name the failing field.

use reqwest::StatusCode;

#[path = "../../../web/tests/support/mod.rs"]
mod support;
use serde_json::{json, Value};
pub use support::csrf;

pub const PW: &str = "correct horse battery";

/// A client with the session cookie of `user` (password [`PW`]).
pub async fn login_at(base: &str, user: &str) -> reqwest::Client {
    let c = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let r = c
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"username": user, "password": PW}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "login {user}");
    c
}

/// POSTs JSON; failures must be problem+json.
pub async fn post(c: &reqwest::Client, url: String, body: Value) -> (StatusCode, Value) {
    let r = c.post(url).json(&body).send().await.unwrap();
    let st = r.status();
    let ct = r
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let v: Value = r.json().await.unwrap_or(Value::Null);
    if !st.is_success() {
        assert_eq!(ct, "application/problem+json", "{v}");
    }
    (st, v)
}

pub async fn get(c: &reqwest::Client, url: String) -> (StatusCode, Value) {
    let r = c.get(url).send().await.unwrap();
    (r.status(), r.json().await.unwrap_or(Value::Null))
}

/// The field named by a problem+json's first error.
pub fn field(v: &Value) -> &str {
    v["errors"][0]["field"].as_str().unwrap_or("")
}
