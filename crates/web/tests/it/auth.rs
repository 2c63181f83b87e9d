//! Credentials through real HTTP, on SQLite and PostgreSQL: API tokens expire,
//! are listed without their secrets and revoked (one, or all with a password
//! change or by an administrator), and logins are throttled per (IP,
//! username) and per IP so that nobody locks another IP's user out.

use gongzhi_domain::policy::Role;
use gongzhi_store::{audit, auth, db};
use gongzhi_testkit::both;
use gongzhi_testkit::http::PW;
use gongzhi_testkit::{At, Fresh, Kind, User};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::net::IpAddr;
use std::time::Duration;

const DAY_MS: i64 = 24 * 3600 * 1000;

struct World {
    f: Fresh,
    base: String,
}

/// Users admin (administrator), alice and bob; a server on 127.0.0.1.
async fn world(kind: Kind, config: gongzhi_web::Config) -> World {
    let k = gongzhi_testkit::world(kind)
        .users(&[("admin", Role::Admin, At::Everywhere)])
        .user(User::new("alice"))
        .user(User::new("bob"))
        .serve(config)
        .await;
    World {
        f: k.f,
        base: k.base,
    }
}

/// A client whose connections come from `ip` (any 127.0.0.0/8 address
/// reaches the server on Linux's loopback).
fn client_from(ip: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .local_address(ip.parse::<IpAddr>().unwrap())
        .build()
        .unwrap()
}

async fn try_login(c: &reqwest::Client, w: &World, user: &str, pw: &str) -> reqwest::Response {
    c.post(format!("{}/api/v1/auth/login", w.base))
        .json(&json!({"username": user, "password": pw}))
        .send()
        .await
        .unwrap()
}

async fn login(w: &World, user: &str) -> reqwest::Client {
    let c = client_from("127.0.0.1");
    let r = try_login(&c, w, user, PW).await;
    assert_eq!(r.status(), StatusCode::OK, "login {user}");
    c
}

async fn send(r: reqwest::RequestBuilder) -> (StatusCode, Value) {
    let r = r.send().await.unwrap();
    let s = r.status();
    let text = r.text().await.unwrap();
    (s, serde_json::from_str(&text).unwrap_or(Value::Null))
}

async fn new_token(w: &World, c: &reqwest::Client, body: Value) -> (StatusCode, Value) {
    send(c.post(format!("{}/api/v1/tokens", w.base)).json(&body)).await
}

/// `GET /api/v1/me` with a bearer token: the status, and the problem's type.
async fn me_with(w: &World, token: &str) -> (StatusCode, String) {
    let r = reqwest::Client::new()
        .get(format!("{}/api/v1/me", w.base))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let ct = r
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (r.status(), ct)
}

async fn me_status(w: &World, c: &reqwest::Client) -> StatusCode {
    c.get(format!("{}/api/v1/me", w.base))
        .send()
        .await
        .unwrap()
        .status()
}

async fn audit_actions(w: &World, action: &str) -> Vec<audit::AuditRow> {
    audit::list(&w.f.db, "/", 1000)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.action == action)
        .collect()
}

fn field_of(v: &Value) -> &str {
    v["errors"][0]["field"].as_str().unwrap_or("")
}

/// Tokens: an expiry (default 90 days, at most 365), a list without secrets,
/// a cheap last-used time, revocation of one's own only; an expired or
/// revoked token answers 401 problem+json; logout leaves tokens alone.
async fn tokens_expire_are_listed_and_revoked(kind: Kind) {
    let w = world(kind, Default::default()).await;
    let (_, doc) = send(reqwest::Client::new().get(format!("{}/api/openapi.json", w.base))).await;
    for (path, method) in [
        ("/api/v1/tokens", "get"),
        ("/api/v1/tokens", "post"),
        ("/api/v1/tokens/{id}", "delete"),
        ("/api/v1/me/password", "post"),
        ("/api/v1/users/{username}/revoke-tokens", "post"),
    ] {
        assert!(
            doc["paths"][path].get(method).is_some(),
            "openapi lacks {method} {path}"
        );
    }
    let alice = login(&w, "alice").await;
    let bob = login(&w, "bob").await;
    let now = db::now_ms();
    let (s, t1) = new_token(&w, &alice, json!({"name": "script"})).await;
    assert_eq!(s, StatusCode::CREATED, "{t1}");
    let exp = t1["expires_at"].as_i64().unwrap();
    assert!(
        (now + 90 * DAY_MS..now + 90 * DAY_MS + 60_000).contains(&exp),
        "90 days by default: {exp}"
    );
    for bad in [366, 0, -5] {
        let (s, v) = new_token(&w, &alice, json!({"name": "x", "expires_in_days": bad})).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{bad} days: {v}");
        assert_eq!(field_of(&v), "expires_in_days", "{v}");
    }
    let (s, t2) = new_token(&w, &alice, json!({"name": "phone", "expires_in_days": 1})).await;
    assert_eq!(s, StatusCode::CREATED);
    let exp2 = t2["expires_at"].as_i64().unwrap();
    assert!((now + DAY_MS..now + DAY_MS + 60_000).contains(&exp2));
    let (s, v) = new_token(&w, &alice, json!({"name": "max", "expires_in_days": 365})).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let (tok1, id1) = (
        t1["token"].as_str().unwrap().to_string(),
        t1["id"].as_str().unwrap().to_string(),
    );

    // Used: last_used_at is recorded, then not rewritten within the minute.
    assert_eq!(me_with(&w, &tok1).await.0, StatusCode::OK);
    let list_url = format!("{}/api/v1/tokens", w.base);
    let (s, list) = send(alice.get(&list_url)).await;
    assert_eq!(s, StatusCode::OK);
    let text = list.to_string();
    assert!(
        !text.contains(&tok1) && !text.contains(&auth::token_hash(&tok1)),
        "never the secret nor its hash: {text}"
    );
    let tokens = list["tokens"].as_array().unwrap();
    assert_eq!(tokens.len(), 3, "{list}");
    let mine = |l: &Value, id: &str| -> Value {
        l["tokens"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["id"] == id)
            .cloned()
            .unwrap_or(Value::Null)
    };
    let t = mine(&list, &id1);
    assert_eq!(t["name"], "script");
    assert_eq!(t["expires_at"], exp);
    assert!(t["created_at"].as_i64().unwrap() >= now);
    let used = t["last_used_at"].as_i64().expect("last use recorded");
    assert!(used >= now, "{t}");
    assert!(mine(&list, t2["id"].as_str().unwrap())["last_used_at"].is_null());
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert_eq!(me_with(&w, &tok1).await.0, StatusCode::OK);
    let (_, list) = send(alice.get(&list_url)).await;
    assert_eq!(
        mine(&list, &id1)["last_used_at"],
        used,
        "not a write per request"
    );
    let (_, bobs) = send(bob.get(&list_url)).await;
    assert_eq!(bobs["tokens"], json!([]), "only one's own tokens");

    // Someone else's token: 404, and it keeps working.
    let del = |c: &reqwest::Client, id: &str| c.delete(format!("{}/api/v1/tokens/{id}", w.base));
    let (s, v) = send(del(&bob, &id1)).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{v}");
    assert_eq!(me_with(&w, &tok1).await.0, StatusCode::OK);
    // Logging out of a session leaves the tokens alone.
    alice
        .post(format!("{}/api/v1/auth/logout", w.base))
        .send()
        .await
        .unwrap();
    assert_eq!(me_status(&w, &alice).await, StatusCode::UNAUTHORIZED);
    assert_eq!(me_with(&w, &tok1).await.0, StatusCode::OK);
    // Revoked (with the token itself): 401 problem+json from then on.
    let by_token = reqwest::Client::new()
        .delete(format!("{}/api/v1/tokens/{id1}", w.base))
        .bearer_auth(&tok1);
    assert_eq!(send(by_token).await.0, StatusCode::NO_CONTENT);
    assert_eq!(
        me_with(&w, &tok1).await,
        (StatusCode::UNAUTHORIZED, "application/problem+json".into())
    );
    let alice = login(&w, "alice").await;
    assert_eq!(send(del(&alice, &id1)).await.0, StatusCode::NOT_FOUND);
    let (_, list) = send(alice.get(&list_url)).await;
    assert!(mine(&list, &id1).is_null(), "a revoked token is not listed");
    let revokes = audit_actions(&w, "api_token.revoke").await;
    assert_eq!(revokes.len(), 1);
    assert_eq!(revokes[0].entity_id, id1);

    // A revocation is final; tokens are never deleted.
    let undo = sqlx::query("UPDATE api_tokens SET revoked_at = NULL WHERE id = $1")
        .bind(&id1)
        .execute(w.f.db.reader())
        .await;
    assert!(undo.is_err(), "a revocation cannot be undone");
    let extend = sqlx::query("UPDATE api_tokens SET expires_at = expires_at + 1 WHERE id = $1")
        .bind(t2["id"].as_str().unwrap())
        .execute(w.f.db.reader())
        .await;
    assert!(extend.is_err(), "an expiry is never extended");
    let gone = sqlx::query("DELETE FROM api_tokens WHERE id = $1")
        .bind(&id1)
        .execute(w.f.db.reader())
        .await;
    assert!(gone.is_err(), "tokens are revoked, not deleted");

    // An expired token answers 401 problem+json.
    let expired = "gzt_expired_for_the_test";
    let uid = auth::user_id_by_name(&w.f.db, "alice").await.unwrap();
    sqlx::query("INSERT INTO api_tokens (token_hash, id, user_id, name, created_at, revoked_at, expires_at) VALUES ($1,$2,$3,'old',$4,NULL,$5)")
        .bind(auth::token_hash(expired))
        .bind(db::new_id())
        .bind(uid)
        .bind(now - 2 * DAY_MS)
        .bind(db::now_ms() - 1)
        .execute(w.f.db.reader())
        .await
        .unwrap();
    assert_eq!(
        me_with(&w, expired).await,
        (StatusCode::UNAUTHORIZED, "application/problem+json".into())
    );
    assert!(auth::token_user(&w.f.db, expired).await.unwrap().is_none());
}

/// A password change revokes every token and session of the user (the
/// caller's browser gets a new session); the old password stops working.
async fn password_change_revokes_tokens_and_sessions(kind: Kind) {
    let w = world(kind, Default::default()).await;
    let here = login(&w, "alice").await;
    let elsewhere = login(&w, "alice").await;
    let bob = login(&w, "bob").await;
    let (_, t1) = new_token(&w, &here, json!({"name": "a"})).await;
    let (_, t2) = new_token(&w, &elsewhere, json!({"name": "b"})).await;
    let (_, tb) = new_token(&w, &bob, json!({"name": "bob's"})).await;
    let url = format!("{}/api/v1/me/password", w.base);
    let change = |cur: &str, new: &str| {
        here.post(&url)
            .json(&json!({"current_password": cur, "new_password": new}))
    };
    let (s, v) = send(change("not my password", "a new long password")).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(field_of(&v), "current_password");
    let (s, v) = send(change(PW, "short")).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(field_of(&v), "new_password");
    for t in [&t1, &t2] {
        assert_eq!(
            me_with(&w, t["token"].as_str().unwrap()).await.0,
            StatusCode::OK
        );
    }
    let (s, v) = send(change(PW, "a new long password")).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["revoked"], json!({"tokens": 2, "sessions": 2}));
    for t in [&t1, &t2] {
        assert_eq!(
            me_with(&w, t["token"].as_str().unwrap()).await.0,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(me_status(&w, &elsewhere).await, StatusCode::UNAUTHORIZED);
    assert_eq!(me_status(&w, &here).await, StatusCode::OK, "new session");
    assert_eq!(
        me_with(&w, tb["token"].as_str().unwrap()).await.0,
        StatusCode::OK,
        "another user's tokens live on"
    );
    assert_eq!(me_status(&w, &bob).await, StatusCode::OK);
    let c = client_from("127.0.0.1");
    assert_eq!(
        try_login(&c, &w, "alice", PW).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        try_login(&c, &w, "alice", "a new long password")
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(audit_actions(&w, "user.password_change").await.len(), 1);
    let rev = audit_actions(&w, "user.revoke_credentials").await;
    assert_eq!(rev.len(), 1);
    assert_eq!(rev[0].after.as_ref().unwrap()["reason"], "password_change");
    assert!(
        !rev[0]
            .after
            .as_ref()
            .unwrap()
            .to_string()
            .contains("argon2"),
        "never the hash"
    );
}

/// An administrator revokes all of a user's tokens and sessions; nobody
/// else may.
async fn admin_revokes_a_users_credentials(kind: Kind) {
    let w = world(kind, Default::default()).await;
    let alice = login(&w, "alice").await;
    let bob = login(&w, "bob").await;
    let admin = login(&w, "admin").await;
    let (_, t) = new_token(&w, &alice, json!({"name": "a"})).await;
    let tok = t["token"].as_str().unwrap();
    let url = |u: &str| format!("{}/api/v1/users/{u}/revoke-tokens", w.base);
    let (s, v) = send(bob.post(url("alice"))).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    assert_eq!(me_with(&w, tok).await.0, StatusCode::OK);
    assert_eq!(
        send(admin.post(url("nobody"))).await.0,
        StatusCode::NOT_FOUND
    );
    let (s, v) = send(admin.post(url("alice"))).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v, json!({"tokens": 1, "sessions": 1}));
    assert_eq!(me_with(&w, tok).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(me_status(&w, &alice).await, StatusCode::UNAUTHORIZED);
    assert_eq!(me_status(&w, &bob).await, StatusCode::OK);
    let rev = audit_actions(&w, "user.revoke_credentials").await;
    assert_eq!(rev.len(), 1);
    assert_eq!(rev[0].after.as_ref().unwrap()["reason"], "admin");
    let (_, v) = send(admin.post(url("alice"))).await;
    assert_eq!(v, json!({"tokens": 0, "sessions": 0}), "nothing left");
}

fn retry_after(r: &reqwest::Response) -> u64 {
    r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

/// One IP failing for a username is throttled for that username (429 with
/// Retry-After) while the user logs in from another IP; the same IP trying
/// many usernames is throttled as an IP; each lock is an audit alert.
async fn login_throttle_spares_other_ips(kind: Kind) {
    let w = world(
        kind,
        gongzhi_web::Config {
            login_per_account: 3,
            login_per_ip: 5,
            login_window: Duration::from_secs(60),
            ..Default::default()
        },
    )
    .await;
    let attacker = client_from("127.0.0.2");
    let user = client_from("127.0.0.1");
    for _ in 0..3 {
        let r = try_login(&attacker, &w, "alice", "guess guess").await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    let r = try_login(&attacker, &w, "alice", PW).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!((1..=60).contains(&retry_after(&r)));
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    // Alice, from her own IP, is not locked out by the stranger.
    let r = try_login(&user, &w, "alice", "a typo!!").await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "her own counter");
    assert_eq!(
        try_login(&user, &w, "alice", PW).await.status(),
        StatusCode::OK
    );
    // The attacker moves on to other usernames: the IP's own limit (5).
    assert_eq!(
        try_login(&attacker, &w, "bob", "guess").await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        try_login(&attacker, &w, "nobody", "guess").await.status(),
        StatusCode::UNAUTHORIZED
    );
    let r = try_login(&attacker, &w, "admin", PW).await;
    assert_eq!(
        r.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "the IP is locked"
    );
    assert!(retry_after(&r) >= 1);
    // The login page says so in the user's language, with Retry-After.
    let page = |lang: &'static str| {
        attacker
            .post(format!("{}/login", w.base))
            .header("cookie", format!("gz_lang={lang}"))
            .form(&[("username", "bob"), ("password", PW)])
    };
    let r = page("en").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(retry_after(&r) >= 1);
    assert!(r.text().await.unwrap().contains("Too many failed logins"));
    let r = page("zh-CN").send().await.unwrap();
    assert!(r.text().await.unwrap().contains("登录失败次数过多"));
    // Bob, from elsewhere, logs in.
    assert_eq!(
        try_login(&user, &w, "bob", PW).await.status(),
        StatusCode::OK
    );
    let alerts = audit_actions(&w, "auth.login_throttled").await;
    let has = |scope: &str, username: &str| {
        alerts.iter().any(|a| {
            let v = a.after.as_ref().unwrap();
            v["scope"] == scope && v["username"] == username && v["ip"] == "127.0.0.2"
        })
    };
    assert!(has("ip+username", "alice"), "{alerts:?}");
    assert!(has("ip", "nobody"), "{alerts:?}");
    assert_eq!(alerts.len(), 2, "one alert per lock, none per refusal");
}

/// A lock ends after its window; the next failure locks twice as long.
async fn login_lock_backs_off(kind: Kind) {
    let w = world(
        kind,
        gongzhi_web::Config {
            login_per_account: 1,
            // a lock of one window, then quiet for one more before the slate
            // is clean: 3 s leaves room for a slow machine between requests
            login_window: Duration::from_secs(3),
            ..Default::default()
        },
    )
    .await;
    let c = client_from("127.0.0.3");
    assert_eq!(
        try_login(&c, &w, "bob", "guess").await.status(),
        StatusCode::UNAUTHORIZED
    );
    let r = try_login(&c, &w, "bob", PW).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    let first = retry_after(&r);
    assert!((2..=3).contains(&first), "{first}");
    tokio::time::sleep(Duration::from_millis(3100)).await;
    assert_eq!(
        try_login(&c, &w, "bob", "guess").await.status(),
        StatusCode::UNAUTHORIZED,
        "the lock has ended"
    );
    let r = try_login(&c, &w, "bob", PW).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!((5..=6).contains(&retry_after(&r)), "doubled: {r:?}");
    // A username of any length is counted and alerted as its first 64
    // characters (control characters never get this far: 422 at the door).
    let long = "x".repeat(10_000);
    let c = client_from("127.0.0.4");
    assert_eq!(
        try_login(&c, &w, &long, "guess").await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        try_login(&c, &w, &"x".repeat(64), "guess").await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    let alerts = audit_actions(&w, "auth.login_throttled").await;
    let last = alerts[0].after.as_ref().unwrap();
    assert_eq!(last["ip"], "127.0.0.4", "{alerts:?}");
    assert_eq!(last["username"], "x".repeat(64));
}

both!(
    tokens_expire_are_listed_and_revoked,
    password_change_revokes_tokens_and_sessions,
    admin_revokes_a_users_credentials,
    login_throttle_spares_other_ips,
    login_lock_backs_off
);
