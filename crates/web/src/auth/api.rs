//! A user's credentials under `/api/v1`: API tokens (created with an expiry,
//! listed without their secrets, revoked), the password change that revokes
//! every token and session, and an administrator's revocation of a user's
//! tokens and sessions. Every revocation is audited in its transaction.

use crate::problem::{ApiError, ApiJson};
use crate::session::{self, CurrentUser};
use crate::AppState;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use gongzhi_domain::policy::Action;
use gongzhi_store::auth;
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_tokens, create_token))
        .routes(routes!(revoke_token))
        .routes(routes!(change_password))
        .routes(routes!(revoke_user_credentials))
}

#[derive(Deserialize, ToSchema)]
pub struct TokenBody {
    name: String,
    /// Days the token lives: 1 to 365, default 90.
    expires_in_days: Option<i64>,
}

/// The caller's API tokens.
#[derive(Serialize, ToSchema)]
pub struct TokenList {
    tokens: Vec<auth::TokenView>,
}

/// A password changed: how many tokens and sessions it revoked.
#[derive(Serialize, ToSchema)]
pub struct PasswordChanged {
    revoked: auth::Revoked,
}

/// Create an API token for the caller. The token is shown once; only its hash is kept.
#[utoipa::path(post, path = "/api/v1/tokens", tag = "auth", request_body = TokenBody,
    responses((status = 201, description = "token created: id, token (shown once), name, expires_at (ms)", body = auth::NewToken),
        (status = 422, description = "bad name or expires_in_days (more than 365)")))]
async fn create_token(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiJson(body): ApiJson<TokenBody>,
) -> Result<(StatusCode, Json<auth::NewToken>), ApiError> {
    let token = auth::issue_token(
        &state.db,
        &user.audit_name(),
        &user.user_id,
        &body.name,
        body.expires_in_days,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(token)))
}

/// The caller's API tokens not revoked (expired ones included): id, name,
/// created_at, expires_at, last_used_at (ms; written at most once a minute).
/// Never the secret nor its hash.
#[utoipa::path(get, path = "/api/v1/tokens", tag = "auth",
    responses((status = 200, description = "the caller's tokens", body = TokenList), (status = 401, description = "not logged in")))]
async fn list_tokens(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Json<TokenList>, ApiError> {
    Ok(Json(TokenList {
        tokens: auth::list_tokens(&state.db, &user.user_id).await?,
    }))
}

/// Revoke one of the caller's API tokens. Someone else's (or an already
/// revoked) token answers 404.
#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "auth", params(("id" = String, Path, description = "token id")),
    responses((status = 204, description = "revoked"), (status = 404, description = "not one of the caller's live tokens")))]
async fn revoke_token(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    auth::revoke(&state.db, &user.audit_name(), &user.user_id, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
pub struct PasswordBody {
    current_password: String,
    new_password: String,
}

/// Change the caller's password. Every API token and session of the caller
/// is revoked with it (one transaction, audited); a caller who came with a
/// session cookie gets a new session. A wrong current password counts as a
/// failed login (same throttle).
#[utoipa::path(post, path = "/api/v1/me/password", tag = "auth", request_body = PasswordBody,
    responses((status = 200, description = "changed; revoked: how many tokens and sessions", body = PasswordChanged),
        (status = 422, description = "current_password wrong or new_password too weak"),
        (status = 429, description = "too many failed attempts")))]
async fn change_password(
    State(state): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    user: CurrentUser,
    headers: HeaderMap,
    ApiJson(body): ApiJson<PasswordBody>,
) -> Result<Response, ApiError> {
    auth::validate_password(&body.new_password)
        .map_err(|e| ApiError::field("new_password", invalid_reason(e)))?;
    let me = auth::get_user(&state.db, &user.user_id).await?;
    session::verify_login(
        &state,
        &addr.ip().to_string(),
        &me.username,
        &body.current_password,
    )
    .await
    .map_err(|e| match e.status {
        StatusCode::UNAUTHORIZED => ApiError::field("current_password", "is wrong"),
        _ => e,
    })?;
    let pw = body.new_password;
    let hash = auth::hash_password_async(pw).await?;
    let revoked = auth::set_password(&state.db, &user.audit_name(), &user.user_id, &hash).await?;
    let body = Json(PasswordChanged { revoked });
    if session::cookie(&headers, session::SESSION_COOKIE).is_none() {
        return Ok(body.into_response());
    }
    let token = auth::create_session(&state.db, &user.user_id).await?;
    Ok((
        [(
            header::SET_COOKIE,
            session::session_cookie(&token, state.secure_cookies),
        )],
        body,
    )
        .into_response())
}

fn invalid_reason(e: gongzhi_store::StoreError) -> String {
    match e {
        gongzhi_store::StoreError::Invalid { reason, .. } => reason,
        other => other.to_string(),
    }
}

/// Revoke every API token and session of a user (administrators only):
/// for a lost device or a compromised account. Audited.
#[utoipa::path(post, path = "/api/v1/users/{username}/revoke-tokens", tag = "auth", params(("username" = String, Path, description = "the user")),
    responses((status = 200, description = "how many tokens and sessions were revoked", body = auth::Revoked),
        (status = 403, description = "not an administrator"), (status = 404, description = "no such user")))]
async fn revoke_user_credentials(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(username): Path<String>,
) -> Result<Json<auth::Revoked>, ApiError> {
    crate::access::check_path(&user, &[], Action::ManageAccess)
        .map_err(|_| ApiError::forbidden("only an administrator revokes a user's credentials"))?;
    let target = auth::user_id_by_name(&state.db, &username).await?;
    let revoked = auth::revoke_credentials(&state.db, &user.audit_name(), &target, "admin").await?;
    Ok(Json(revoked))
}
