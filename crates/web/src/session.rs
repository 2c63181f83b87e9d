//! Who is asking: the session cookie or an API token, resolved to the user
//! and their grants. Login with Argon2id off the async runtime, throttled
//! per (IP, username) and per IP.

use crate::problem::ApiError;
use crate::ratelimit::Lock;
use crate::AppState;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use gongzhi_domain::policy::Actor;
use gongzhi_store::{audit, auth};
use serde_json::json;
use std::net::IpAddr;

pub const SESSION_COOKIE: &str = "gz_session";

#[derive(Clone)]
pub struct CurrentUser {
    pub user_id: String,
    pub actor: Actor,
}

impl CurrentUser {
    /// The actor string written to the audit trail.
    pub fn audit_name(&self) -> String {
        format!("user:{}", self.user_id)
    }
}

pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|kv| {
            let (k, v) = kv.trim().split_once('=')?;
            (k == name).then(|| v.to_string())
        })
}

pub async fn resolve(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Option<CurrentUser>, ApiError> {
    let user_id = if let Some(tok) = bearer(headers) {
        match auth::token_user(&state.db, tok).await? {
            Some(u) => Some(u),
            None => {
                return Err(ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "Unauthorized",
                    "the API token is unknown or revoked",
                ))
            }
        }
    } else if let Some(c) = cookie(headers, SESSION_COOKIE) {
        auth::session_user(&state.db, &c).await?
    } else {
        None
    };
    let Some(user_id) = user_id else {
        return Ok(None);
    };
    let (grants, _) = auth::grants_of(&state.db, &user_id).await?;
    Ok(Some(CurrentUser {
        actor: Actor {
            user_id: user_id.clone(),
            grants,
        },
        user_id,
    }))
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = ApiError;
    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if let Some(u) = parts.extensions.get::<CurrentUser>() {
            return Ok(u.clone());
        }
        resolve(state, &parts.headers)
            .await?
            .ok_or_else(ApiError::unauthorized)
    }
}

/// Optional variant for pages (which redirect to the login form).
pub struct MaybeUser(pub Option<CurrentUser>);

impl FromRequestParts<AppState> for MaybeUser {
    type Rejection = ApiError;
    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        // The page layer (`menu::layer`) has resolved this request's
        // session already: the same user, without asking the database again.
        if let Some(u) = parts.extensions.get::<CurrentUser>() {
            return Ok(MaybeUser(Some(u.clone())));
        }
        Ok(MaybeUser(
            resolve(state, &parts.headers).await.unwrap_or(None),
        ))
    }
}

/// Checks the login throttle, then the password. Returns a new session token.
pub async fn login(
    state: &AppState,
    ip: &str,
    username: &str,
    password: &str,
) -> Result<String, ApiError> {
    let user = verify_login(state, ip, username, password).await?;
    Ok(auth::create_session(&state.db, &user.id).await?)
}

/// The user a login name stands for (username or signed-up phone).
pub async fn user_of_login(state: &AppState, login: &str) -> Result<String, ApiError> {
    auth::find_user(&state.db, login)
        .await?
        .map(|u| u.id)
        .ok_or_else(|| ApiError::not_found("user not found"))
}

/// The key a client is throttled under: its IPv4 address, or the /64 of an
/// IPv6 address (one subscriber's usual allocation).
pub fn client_key(ip: &str) -> String {
    match ip.parse::<IpAddr>() {
        Ok(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
        _ => ip.to_string(),
    }
}

/// `username`'s account when `password` is right and the account enabled.
/// Throttled per (IP, username) and per IP ([`crate::ratelimit::LoginThrottle`]):
/// 429 with Retry-After while locked; a failure answers 401, is counted, and
/// a lock it causes is written to the audit trail (`auth.login_throttled`).
pub async fn verify_login(
    state: &AppState,
    ip: &str,
    username: &str,
    password: &str,
) -> Result<auth::UserAuth, ApiError> {
    let ip = client_key(ip);
    // What the throttle and its alerts know the username as: bounded, printable.
    let who: String = username
        .chars()
        .filter(|c| !c.is_control())
        .take(64)
        .collect::<String>()
        .to_lowercase();
    state.login_throttle.check(&ip, &who).map_err(|secs| {
        let mut e = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "Too many login attempts",
            format!("too many failed login attempts; try again in {secs} s"),
        );
        e.retry_after = Some(secs);
        e
    })?;
    let user = auth::find_user(&state.db, username).await?;
    let hash = user.as_ref().map(|u| u.password_hash.clone());
    let pw = password.to_string();
    let ok = auth::verify_password_async(hash, pw).await?;
    match user {
        Some(u) if ok && !u.disabled && u.must_reset => {
            state.login_throttle.succeed(&ip, &who);
            Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "Password reset required",
                "an administrator asked for a new password: reset it with a code sent to your phone",
            ))
        }
        Some(u) if ok && !u.disabled => {
            state.login_throttle.succeed(&ip, &who);
            Ok(u)
        }
        _ => {
            let locks = state.login_throttle.fail(&ip, &who);
            record_locks(state, &ip, &who, locks).await;
            Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "Login failed",
                "unknown username or wrong password",
            ))
        }
    }
}

/// Writes an alert per lock; a failure to write is logged, the login still
/// answers.
async fn record_locks(state: &AppState, ip: &str, username: &str, locks: Vec<Lock>) {
    if locks.is_empty() {
        return;
    }
    let entries: Vec<audit::Entry> = locks
        .iter()
        .map(|l| {
            tracing::warn!(
                ip,
                username,
                scope = l.scope,
                failures = l.failures,
                "login throttled"
            );
            audit::Entry {
                actor: format!("ip:{ip}"),
                action: "auth.login_throttled".into(),
                entity: "login".into(),
                entity_id: username.to_string(),
                scope_path: "/".into(),
                before: None,
                after: Some(json!({
                    "username": username,
                    "ip": ip,
                    "scope": l.scope,
                    "failures": l.failures,
                    "retry_after": l.retry_after,
                })),
            }
        })
        .collect();
    let r = state
        .db
        .write(move |tx| {
            let entries = entries.clone();
            Box::pin(async move { audit::record_many(tx, entries).await })
        })
        .await;
    if let Err(e) = r {
        tracing::error!(error = %e, "could not audit a login lock");
    }
}

pub fn session_cookie(token: &str, secure: bool) -> String {
    format!(
        "{SESSION_COOKIE}={token}; HttpOnly; SameSite=Lax; Path=/; Max-Age={}{}",
        auth::SESSION_TTL_MS / 1000,
        if secure { "; Secure" } else { "" }
    )
}

pub fn clear_cookie() -> String {
    format!("{SESSION_COOKIE}=; HttpOnly; SameSite=Lax; Path=/; Max-Age=0")
}

/// `Authorization: Bearer …`, the scheme in any case (RFC 7235).
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}
