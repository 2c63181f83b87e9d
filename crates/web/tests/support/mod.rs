//! Helpers for tests that post page forms (also used by crates/gongzhi's
//! tests through `#[path]`).

/// The session's CSRF token, as every page carries it
/// (`<meta name="csrf-token">`), read from the home page of `url`'s server.
pub async fn csrf(c: &reqwest::Client, url: &str) -> String {
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
