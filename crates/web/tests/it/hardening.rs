//! Trust at the edge, over real HTTP on SQLite and PostgreSQL: cross-site
//! requests and CSRF tokens, problem+json for every API error, security
//! headers, Secure cookies over HTTPS, /metrics not public, `bearer` in any
//! case.

use gongzhi_domain::policy::Role;
use gongzhi_testkit::both;
use gongzhi_testkit::http::{browser as client, csrf, login_with, PW};
use gongzhi_testkit::{fresh, At, Fresh, Kind};
use reqwest::header::HeaderMap;
use reqwest::StatusCode;
use serde_json::{json, Value};

struct World {
    _f: Fresh,
    base: String,
}

/// One administrator, `admin`; a server with `config`.
async fn world_with(kind: Kind, config: gongzhi_web::Config) -> World {
    let k = gongzhi_testkit::world(kind)
        .users(&[("admin", Role::Admin, At::Everywhere)])
        .serve(config)
        .await;
    World {
        _f: k.f,
        base: k.base,
    }
}

async fn world(kind: Kind) -> World {
    world_with(kind, gongzhi_web::Config::default()).await
}

async fn login(w: &World) -> reqwest::Client {
    login_with(client(), &w.base, "admin").await
}

async fn logged_in(c: &reqwest::Client, w: &World) -> bool {
    let r = c.get(format!("{}/api/v1/me", w.base)).send().await.unwrap();
    r.status() == StatusCode::OK
}

fn content_type(h: &HeaderMap) -> String {
    h.get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default()
}

/// A problem+json answer with this status; its body.
async fn problem(r: reqwest::Response, status: StatusCode) -> Value {
    let (s, ct) = (r.status(), content_type(r.headers()));
    let text = r.text().await.unwrap();
    assert_eq!(s, status, "{text}");
    assert_eq!(ct, "application/problem+json", "{status}: {text}");
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["status"], status.as_u16(), "{v}");
    assert!(v["title"].is_string() && v["detail"].is_string(), "{v}");
    v
}

/// /logout through the page form: refused cross-site and without the
/// session's token (the session survives), in the user's language; the real
/// form logs out.
async fn logout_form_needs_same_site_and_token(kind: Kind) {
    let w = world(kind).await;
    let c = login(&w).await;
    let token = csrf(&c, &w.base).await;
    assert_eq!(token.len(), 64, "a logged-in page carries the token");
    let url = format!("{}/logout", w.base);
    #[allow(clippy::type_complexity)]
    let attempts: Vec<(Vec<(&str, String)>, Vec<(&str, &str)>)> = vec![
        (
            vec![("csrf", token.clone())],
            vec![("Origin", "https://evil.example")],
        ),
        (vec![("csrf", token.clone())], vec![("Origin", "null")]),
        (
            vec![("csrf", token.clone())],
            vec![("Sec-Fetch-Site", "cross-site")],
        ),
        (vec![], vec![]),
        (vec![("csrf", "f".repeat(64))], vec![]),
        (vec![("csrf", "not hex".into())], vec![]),
    ];
    for (fields, headers) in attempts {
        let what = format!("{fields:?} {headers:?}");
        let mut r = c.post(&url).form(&fields);
        for (k, v) in headers {
            r = r.header(k, v);
        }
        let r = r.send().await.unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{what}");
        assert!(content_type(r.headers()).starts_with("text/html"), "{what}");
        let html = r.text().await.unwrap();
        assert!(html.contains("<html lang=\"zh-CN\""), "{what}");
        assert!(logged_in(&c, &w).await, "{what}: the session survives");
    }
    // in the user's language (chosen on a page: the gz_lang cookie)
    c.get(format!("{}/?lang=en", w.base)).send().await.unwrap();
    let r = c
        .post(&url)
        .header("Origin", "https://evil.example")
        .form(&[("csrf", token.clone())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("<html lang=\"en\"")
            && html.contains("request from another site was refused"),
        "{html}"
    );
    c.get(format!("{}/?lang=zh-TW", w.base))
        .send()
        .await
        .unwrap();
    let r = c.post(&url).form(&[("csrf", "x")]).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(r.text().await.unwrap().contains("表單已失效"));
    assert!(logged_in(&c, &w).await);
    // the form as a browser sends it from our own page
    let r = c
        .post(&url)
        .header("Origin", w.base.clone())
        .header("Sec-Fetch-Site", "same-origin")
        .form(&[("csrf", token.clone())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(!logged_in(&c, &w).await, "logged out");
}

/// The login form: another site cannot log a browser in (Origin check); our
/// own form can.
async fn login_form_refuses_cross_site(kind: Kind) {
    let w = world(kind).await;
    let c = client();
    let url = format!("{}/login", w.base);
    let creds = [("username", "admin"), ("password", PW)];
    for (k, v) in [
        ("Origin", "https://evil.example"),
        ("Sec-Fetch-Site", "cross-site"),
    ] {
        let r = c.post(&url).header(k, v).form(&creds).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{k}: {v}");
        assert!(r.headers().get("set-cookie").is_none(), "{k}: {v}");
    }
    assert!(!logged_in(&c, &w).await);
    let host = w.base.trim_start_matches("http://").to_string();
    let r = c
        .post(&url)
        .header("Origin", format!("http://{host}"))
        .form(&creds)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(logged_in(&c, &w).await);
}

/// The API with the session cookie: state changes refused cross-site
/// (problem+json 403); a Bearer token is no ambient credential and passes.
async fn api_cookie_writes_refuse_cross_site(kind: Kind) {
    let w = world(kind).await;
    let c = login(&w).await;
    let logout = format!("{}/api/v1/auth/logout", w.base);
    for (k, v) in [
        ("Origin", "https://evil.example"),
        ("Sec-Fetch-Site", "cross-site"),
    ] {
        let r = c.post(&logout).header(k, v).send().await.unwrap();
        let p = problem(r, StatusCode::FORBIDDEN).await;
        assert!(p["detail"].as_str().unwrap().contains("cross-site"), "{p}");
        assert!(logged_in(&c, &w).await, "{k}: the session survives");
    }
    // reads are not state changes
    let r = c
        .get(format!("{}/api/v1/me", w.base))
        .header("Sec-Fetch-Site", "cross-site")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    // a token in a header is not sent by another site's page: it passes
    let tok = api_token(&c, &w).await;
    let r = reqwest::Client::new()
        .post(&logout)
        .header("Origin", "https://evil.example")
        .bearer_auth(&tok)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    assert!(logged_in(&c, &w).await, "the Bearer call ended no session");
    // same origin with the cookie: fine
    let r = c
        .post(&logout)
        .header("Sec-Fetch-Site", "same-origin")
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    assert!(!logged_in(&c, &w).await);
}

/// An API token of the logged-in user.
async fn api_token(c: &reqwest::Client, w: &World) -> String {
    let r = c
        .post(format!("{}/api/v1/tokens", w.base))
        .json(&json!({"name": "ci"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    r.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_string()
}

/// POSTs to `/api/v1{path}` a body announced as `announced` bytes of which
/// only `sent` (a little over the server's limit) are sent, then reads the
/// answer — as curl sees it; a client that insists on writing the whole body
/// into a connection the server has closed gets a broken pipe instead.
/// Status, content type, body.
async fn oversized(
    w: &World,
    path: &str,
    content_type: &str,
    extra_headers: &str,
    announced: usize,
    sent: usize,
) -> (u16, String, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let host = w.base.trim_start_matches("http://");
    let mut s = tokio::net::TcpStream::connect(host).await.unwrap();
    let head = format!(
        "POST /api/v1{path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: {content_type}\r\nContent-Length: {announced}\r\n{extra_headers}\r\n"
    );
    s.write_all(head.as_bytes()).await.unwrap();
    let _ = s.write_all(&vec![b'a'; sent]).await;
    let mut buf = Vec::new();
    let read = async {
        let mut chunk = [0u8; 8192];
        loop {
            let n = s.read(&mut chunk).await.unwrap_or(0);
            if n == 0 {
                break;
            }
            buf.extend_from_slice(&chunk[..n]);
            let text = String::from_utf8_lossy(&buf).to_string();
            if let Some((head, body)) = text.split_once("\r\n\r\n") {
                let len = head
                    .lines()
                    .find_map(|l| {
                        l.to_ascii_lowercase()
                            .strip_prefix("content-length:")
                            .map(|v| v.trim().parse::<usize>().unwrap())
                    })
                    .unwrap_or(0);
                if body.len() >= len {
                    break;
                }
            }
        }
    };
    tokio::time::timeout(std::time::Duration::from_secs(30), read)
        .await
        .expect("an answer");
    let text = String::from_utf8_lossy(&buf).to_string();
    let (head, body) = text.split_once("\r\n\r\n").expect("a response head");
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    let ct = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-type")
                .then(|| v.trim().to_string())
        })
        .unwrap_or_default();
    (status, ct, body.to_string())
}

/// Every error under /api/ is problem+json with the right status.
async fn api_errors_are_problems(kind: Kind) {
    let w = world(kind).await;
    let c = login(&w).await;
    let api = format!("{}/api/v1", w.base);
    // a 10 MB JSON body: 413, not 400
    let (status, ct, body) = oversized(
        &w,
        "/auth/login",
        "application/json",
        "",
        10 << 20,
        (2 << 20) + 4096,
    )
    .await;
    assert_eq!(
        (status, ct.as_str()),
        (413, "application/problem+json"),
        "{body}"
    );
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["status"], 413);
    // an oversized upload (a raw body over the evidence limit)
    let bearer = format!("Authorization: Bearer {}\r\n", api_token(&c, &w).await);
    let (status, ct, body) = oversized(
        &w,
        "/votes/no-such-vote/evidence",
        "image/png",
        &bearer,
        6 << 20,
        (5 << 20) + (64 << 10) + 4096,
    )
    .await;
    assert_eq!(
        (status, ct.as_str()),
        (413, "application/problem+json"),
        "{body}"
    );
    // a bad query string names the parameter
    let r = c
        .get(format!("{api}/places/x/parts?limit=lots"))
        .send()
        .await
        .unwrap();
    let p = problem(r, StatusCode::BAD_REQUEST).await;
    assert_eq!(p["errors"][0]["field"], "limit", "{p}");
    // invalid UTF-8 in a path segment
    let r = c
        .get(format!("{api}/places/%FF%FE/parts"))
        .send()
        .await
        .unwrap();
    problem(r, StatusCode::BAD_REQUEST).await;
    // a wrong content type
    let r = c
        .post(format!("{api}/tokens"))
        .header("content-type", "text/plain")
        .body("{\"name\":\"x\"}")
        .send()
        .await
        .unwrap();
    problem(r, StatusCode::UNSUPPORTED_MEDIA_TYPE).await;
    // a wrong method keeps its Allow header
    let r = c.put(format!("{api}/auth/login")).send().await.unwrap();
    assert!(r.headers().contains_key("allow"));
    problem(r, StatusCode::METHOD_NOT_ALLOWED).await;
    // what was problem+json stays as it was
    let r = c.get(format!("{api}/nope")).send().await.unwrap();
    let p = problem(r, StatusCode::NOT_FOUND).await;
    assert_eq!(p["detail"], "no such endpoint under /api/v1");
    // pages are not turned into JSON
    let r = c
        .get(format!("{}/places/nope", w.base))
        .send()
        .await
        .unwrap();
    assert!(content_type(r.headers()).starts_with("text/html"));
}

/// Security headers on pages and the API; no-store on private answers.
async fn security_headers(kind: Kind) {
    let w = world(kind).await;
    let anon = client();
    let r = anon.get(format!("{}/login", w.base)).send().await.unwrap();
    let h = r.headers().clone();
    let csp = h["content-security-policy"].to_str().unwrap();
    for d in [
        "script-src 'self'",
        "frame-ancestors 'none'",
        "object-src 'none'",
    ] {
        assert!(csp.contains(d), "{csp}");
    }
    assert!(
        !csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"),
        "{csp}"
    );
    assert_eq!(h["x-frame-options"], "DENY");
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["referrer-policy"], "same-origin");
    let html = r.text().await.unwrap();
    assert!(html.contains("<script src=\"/assets/"), "{html}");
    assert!(!html.contains("<script>"), "no inline script: {html}");

    let c = login(&w).await;
    for path in ["/", "/api/v1/me"] {
        let r = c.get(format!("{}{path}", w.base)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        assert_eq!(r.headers()["cache-control"], "no-store", "{path}");
        assert_eq!(r.headers()["x-frame-options"], "DENY", "{path}");
    }
    // static assets stay cacheable
    let r = c
        .get(format!("{}/assets/htmx.min.js", w.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers()["cache-control"]
        .to_str()
        .unwrap()
        .starts_with("public"));
}

/// No template has an inline script, an inline event handler or an inline
/// style (the CSP refuses them); every state-changing form but the login
/// form carries the CSRF token.
#[test]
fn templates_fit_the_csp_and_carry_the_token() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
    let mut forms = 0;
    for e in std::fs::read_dir(dir).unwrap() {
        let path = e.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let t = std::fs::read_to_string(&path).unwrap();
        for bad in [
            "<script>",
            "<style",
            " style=",
            "javascript:",
            " onclick=",
            " onsubmit=",
            " onload=",
            " onchange=",
        ] {
            assert!(!t.contains(bad), "{name}: {bad}");
        }
        for form in t.split("<form").skip(1) {
            forms += 1;
            let head: String = form.chars().take(400).collect();
            // A GET form changes nothing and must not put the token in a URL.
            if name == "login.html" || form.starts_with(" method=\"get\"") {
                continue;
            }
            assert!(
                head.contains("name=\"csrf\" value=\"{{ crate::guard::token() }}\""),
                "{name}: a form without the token: {head}"
            );
        }
    }
    assert!(forms >= 10, "{forms}");
}

/// Cookies are Secure when the request came over HTTPS (per the proxy).
async fn secure_cookies_behind_https(kind: Kind) {
    let w = world(kind).await;
    let login = |proxy: Option<(&'static str, &'static str)>| {
        let url = format!("{}/api/v1/auth/login", w.base);
        async move {
            let mut r = client()
                .post(url)
                .json(&json!({"username": "admin", "password": PW}));
            if let Some((k, v)) = proxy {
                r = r.header(k, v);
            }
            let r = r.send().await.unwrap();
            assert_eq!(r.status(), StatusCode::OK);
            r.headers()["set-cookie"].to_str().unwrap().to_string()
        }
    };
    assert!(!login(None).await.contains("Secure"), "plain HTTP");
    assert!(!login(Some(("X-Forwarded-Proto", "http")))
        .await
        .contains("Secure"));
    for proxy in [
        ("X-Forwarded-Proto", "https"),
        ("X-Forwarded-Proto", "HTTPS"),
        ("Forwarded", "for=192.0.2.60;proto=https;by=203.0.113.43"),
    ] {
        let c = login(Some(proxy)).await;
        assert!(
            c.contains("gz_session=") && c.ends_with("; Secure"),
            "{proxy:?}: {c}"
        );
    }
    // the page login too, and the language cookie
    let r = client()
        .get(format!("{}/login?lang=en", w.base))
        .header("X-Forwarded-Proto", "https")
        .send()
        .await
        .unwrap();
    let c = r.headers()["set-cookie"].to_str().unwrap();
    assert!(c.starts_with("gz_lang=en") && c.contains("; Secure"), "{c}");
}

/// /metrics is not public: 404 on the main listener without the token.
async fn metrics_not_public(kind: Kind) {
    let w = world(kind).await;
    let r = reqwest::get(format!("{}/metrics", w.base)).await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = reqwest::Client::new()
        .get(format!("{}/metrics", w.base))
        .bearer_auth("guess")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

/// With a token: only `Bearer <token>` (scheme in any case) reads /metrics.
async fn metrics_with_token(kind: Kind) {
    let config = gongzhi_web::Config {
        metrics_token: Some("s3cret".into()),
        ..Default::default()
    };
    let w = world_with(kind, config).await;
    let url = format!("{}/metrics", w.base);
    let http = reqwest::Client::new();
    assert_eq!(
        http.get(&url).send().await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    for bad in ["Bearer s3cre", "Bearer s3cret2", "Basic s3cret", "s3cret"] {
        let r = http
            .get(&url)
            .header("authorization", bad)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{bad}");
    }
    for good in ["Bearer s3cret", "bearer s3cret", "BEARER  s3cret"] {
        let r = http
            .get(&url)
            .header("authorization", good)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{good}");
        let text = r.text().await.unwrap();
        assert!(text.contains("gongzhi_database_up 1"), "{text}");
    }
}

/// A separate metrics listener serves /metrics without a token.
async fn metrics_on_separate_listener(kind: Kind) {
    let f = fresh(kind).await;
    let main = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let metrics = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let (base, mbase) = (
        format!("http://{}", main.local_addr().unwrap()),
        format!("http://{}", metrics.local_addr().unwrap()),
    );
    let db = f.db.clone();
    tokio::spawn(async move {
        gongzhi_web::serve_with_metrics(db, main, Some(metrics), Default::default()).await
    });
    assert_eq!(
        reqwest::get(format!("{base}/healthz"))
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    let r = reqwest::get(format!("{mbase}/metrics")).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let text = r.text().await.unwrap();
    assert!(
        text.contains("route=\"/healthz\",status=\"200\"} 1"),
        "the main listener's requests: {text}"
    );
    assert_eq!(
        reqwest::get(format!("{base}/metrics"))
            .await
            .unwrap()
            .status(),
        StatusCode::NOT_FOUND
    );
    // the metrics listener serves nothing else
    assert_eq!(
        reqwest::get(format!("{mbase}/api/v1/public/compounds"))
            .await
            .unwrap()
            .status(),
        StatusCode::NOT_FOUND
    );
}

/// `Authorization: bearer …` (RFC 7235: the scheme is case-insensitive).
async fn bearer_scheme_any_case(kind: Kind) {
    let w = world(kind).await;
    let c = login(&w).await;
    let tok = api_token(&c, &w).await;
    let http = reqwest::Client::new();
    for scheme in ["Bearer", "bearer", "BEARER"] {
        let r = http
            .get(format!("{}/api/v1/me", w.base))
            .header("authorization", format!("{scheme} {tok}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{scheme}");
    }
    let r = http
        .get(format!("{}/api/v1/me", w.base))
        .header("authorization", format!("bearer {tok}x"))
        .send()
        .await
        .unwrap();
    problem(r, StatusCode::UNAUTHORIZED).await;
}

both!(
    logout_form_needs_same_site_and_token,
    login_form_refuses_cross_site,
    api_cookie_writes_refuse_cross_site,
    api_errors_are_problems,
    security_headers,
    secure_cookies_behind_https,
    metrics_not_public,
    metrics_with_token,
    metrics_on_separate_listener,
    bearer_scheme_any_case
);
