//! Who is asking: the session cookie or an API token, resolved to the user
//! and their grants. Login with Argon2id off the async runtime, rate-limited
//! per IP and per account.

use crate::problem::ApiError;
use crate::AppState;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use gongzhi_domain::policy::Actor;
use gongzhi_store::auth;

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
    let user_id = if let Some(tok) = crate::guard::bearer(headers) {
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
        Ok(MaybeUser(
            resolve(state, &parts.headers).await.unwrap_or(None),
        ))
    }
}

/// Checks the limits, then the password. Returns a new session token.
pub async fn login(
    state: &AppState,
    ip: &str,
    username: &str,
    password: &str,
) -> Result<String, ApiError> {
    let too_many = |secs: u64| {
        let mut e = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "Too many login attempts",
            format!("too many login attempts; try again in {secs} s"),
        );
        e.retry_after = Some(secs);
        e
    };
    state.login_ip_limit.hit(ip).map_err(too_many)?;
    state
        .login_user_limit
        .hit(&username.to_lowercase())
        .map_err(too_many)?;
    let user = auth::find_user(&state.db, username).await?;
    let hash = user.as_ref().map(|u| u.password_hash.clone());
    let pw = password.to_string();
    let ok = tokio::task::spawn_blocking(move || auth::verify_password(hash.as_deref(), &pw))
        .await
        .map_err(|_| {
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Internal error",
                "password check failed",
            )
        })?;
    match user {
        Some(u) if ok && !u.disabled => Ok(auth::create_session(&state.db, &u.id).await?),
        _ => Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "Login failed",
            "unknown username or wrong password",
        )),
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
