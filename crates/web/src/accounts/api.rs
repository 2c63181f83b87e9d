//! Accounts over HTTP under `/api/v1`: codes, sign-up and reset (public,
//! limited per phone and per client address, answering the same whether or
//! not a phone has an account), household claims and their queue,
//! invitations, and administering the accounts below a place. Who may do
//! what is decided by `access` / the domain policy: claims are decided by
//! staff who may change the register there (or, for a family member or
//! tenant, the flat's owner), never by the claimant; invitations and grants
//! never reach above the inviter's scope.

use super::{accept, compound_id, full, may_administer, may_decide, send_code};
use crate::access;
use crate::problem::{ApiError, ApiJson};
use crate::session::{self, CurrentUser, MaybeUser};
use crate::AppState;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use gongzhi_domain::accounts::{ClaimRelation, CodePurpose};
use gongzhi_domain::policy::{Action, Role};
use gongzhi_store::accounts::{self as store, AccountView, ClaimView, InvitationView};
use gongzhi_store::auth::{self, Revoked};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(signup_code))
        .routes(routes!(signup))
        .routes(routes!(reset_code))
        .routes(routes!(reset))
        .routes(routes!(my_claims, file_claim))
        .routes(routes!(claims_to_confirm))
        .routes(routes!(place_claims))
        .routes(routes!(decide_claim))
        .routes(routes!(create_invitation))
        .routes(routes!(place_invitations))
        .routes(routes!(invitation))
        .routes(routes!(accept_invitation))
        .routes(routes!(place_users))
        .routes(routes!(revoke_grant))
        .routes(routes!(disable_user))
        .routes(routes!(enable_user))
        .routes(routes!(force_reset))
        .routes(routes!(unlink_owner))
}

#[derive(Deserialize, ToSchema)]
pub struct PhoneBody {
    /// A mainland mobile number (11 digits; spaces, dashes, +86 allowed).
    phone: String,
}

/// A code request was taken (whether or not a code was sent: the answer is
/// the same for every phone).
#[derive(Serialize, ToSchema)]
pub struct Accepted {
    accepted: bool,
}

/// Ask for a sign-up code by SMS. The answer is the same whether or not the
/// phone has an account (one that has gets a note instead of a code).
#[utoipa::path(post, path = "/api/v1/signup/code", tag = "accounts", request_body = PhoneBody,
    responses((status = 202, description = "taken", body = Accepted), (status = 422, description = "not a mobile number"),
        (status = 429, description = "too many codes for this phone or client (Retry-After)")))]
async fn signup_code(
    State(state): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    ApiJson(body): ApiJson<PhoneBody>,
) -> Result<(StatusCode, Json<Accepted>), ApiError> {
    send_code(
        &state,
        &addr.ip().to_string(),
        &body.phone,
        CodePurpose::Signup,
    )
    .await?;
    Ok((StatusCode::ACCEPTED, Json(Accepted { accepted: true })))
}

#[derive(Deserialize, ToSchema)]
pub struct SignupBody {
    phone: String,
    /// The six-digit code texted to the phone.
    code: String,
    /// At least 8 characters.
    password: String,
}

/// Create an account with a phone whose code was received; logs it in
/// (session cookie). The account logs in with the phone number.
#[utoipa::path(post, path = "/api/v1/signup", tag = "accounts", request_body = SignupBody,
    responses((status = 201, description = "account created, logged in", body = store::NewAccount),
        (status = 409, description = "the phone already has an account"),
        (status = 422, description = "wrong or expired code, or a weak password")))]
async fn signup(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<SignupBody>,
) -> Result<Response, ApiError> {
    auth::validate_password(&body.password)?;
    let hash = auth::hash_password_async(body.password).await?;
    let acc = store::signup(&state.db, &body.phone, &body.code, &hash).await?;
    let token = auth::create_session(&state.db, &acc.user_id).await?;
    Ok((
        StatusCode::CREATED,
        [(
            header::SET_COOKIE,
            session::session_cookie(&token, state.secure_cookies),
        )],
        Json(acc),
    )
        .into_response())
}

/// Ask for a password-reset code by SMS (same answer for every phone).
#[utoipa::path(post, path = "/api/v1/password-reset/code", tag = "accounts", request_body = PhoneBody,
    responses((status = 202, description = "taken", body = Accepted), (status = 422, description = "not a mobile number"),
        (status = 429, description = "too many codes (Retry-After)")))]
async fn reset_code(
    State(state): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    ApiJson(body): ApiJson<PhoneBody>,
) -> Result<(StatusCode, Json<Accepted>), ApiError> {
    send_code(
        &state,
        &addr.ip().to_string(),
        &body.phone,
        CodePurpose::Reset,
    )
    .await?;
    Ok((StatusCode::ACCEPTED, Json(Accepted { accepted: true })))
}

#[derive(Deserialize, ToSchema)]
pub struct ResetBody {
    phone: String,
    code: String,
    new_password: String,
}

/// How many sessions and tokens a reset ended.
#[derive(Serialize, ToSchema)]
pub struct ResetDone {
    revoked: Revoked,
}

/// Set a new password with a reset code: every session and API token of the
/// account is revoked in the same transaction.
#[utoipa::path(post, path = "/api/v1/password-reset", tag = "accounts", request_body = ResetBody,
    responses((status = 200, description = "reset; old sessions and tokens revoked", body = ResetDone),
        (status = 422, description = "wrong or expired code, or a weak password")))]
async fn reset(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<ResetBody>,
) -> Result<Json<ResetDone>, ApiError> {
    auth::validate_password(&body.new_password).map_err(|e| match e {
        gongzhi_store::StoreError::Invalid { reason, .. } => {
            ApiError::field("new_password", reason)
        }
        other => other.into(),
    })?;
    let hash = auth::hash_password_async(body.new_password).await?;
    let revoked = store::reset_password(&state.db, &body.phone, &body.code, &hash).await?;
    Ok(Json(ResetDone { revoked }))
}

#[derive(Deserialize, ToSchema)]
pub struct ClaimBody {
    /// The compound (see `/api/v1/public/compounds`; its id or code).
    compound: String,
    /// e.g. `1栋` or `1`.
    building: String,
    /// e.g. `1单元` or `1`; empty when the building has no units.
    #[serde(default)]
    unit: String,
    /// The flat's number, e.g. `201`.
    number: String,
    /// The owner of record's name.
    owner_name: String,
    /// `owner` (default), `family` or `tenant`.
    relation: Option<String>,
    /// The claimant's own name (required for family and tenants).
    #[serde(default)]
    claimant_name: String,
}

/// The caller's claims.
#[derive(Serialize, ToSchema)]
pub struct ClaimList {
    claims: Vec<ClaimView>,
}

/// Claim a household. An owner whose flat and name match the register is
/// linked at once (`status: linked`); a family member or tenant waits for the
/// owner or staff (`pending`); anything else waits for the community
/// (`queued`). At most 5 claims a day per account.
#[utoipa::path(post, path = "/api/v1/me/claims", tag = "accounts", request_body = ClaimBody,
    responses((status = 201, description = "filed", body = ClaimView), (status = 422, description = "a field is missing or wrong"),
        (status = 429, description = "too many claims today")))]
async fn file_claim(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiJson(body): ApiJson<ClaimBody>,
) -> Result<(StatusCode, Json<ClaimView>), ApiError> {
    let relation = match body.relation.as_deref() {
        None | Some("") => ClaimRelation::Owner,
        Some(r) => ClaimRelation::parse(r).ok_or_else(|| {
            ApiError::field(
                "relation",
                format!("must be one of: {}", ClaimRelation::choices()),
            )
        })?,
    };
    let compound = compound_id(&state, &body.compound).await?;
    let c = store::claim(
        &state.db,
        &user.user_id,
        store::ClaimInput {
            compound_id: compound,
            building: body.building,
            unit: body.unit,
            number: body.number,
            owner_name: body.owner_name,
            claimant_name: body.claimant_name,
            relation,
        },
    )
    .await?;
    Ok((StatusCode::CREATED, Json(c)))
}

/// The caller's claims, newest first.
#[utoipa::path(get, path = "/api/v1/me/claims", tag = "accounts",
    responses((status = 200, description = "claims", body = ClaimList), (status = 401, description = "not logged in")))]
async fn my_claims(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Json<ClaimList>, ApiError> {
    Ok(Json(ClaimList {
        claims: store::my_claims(&state.db, &user.user_id).await?,
    }))
}

/// The family members' and tenants' claims waiting for the caller to confirm
/// (on flats of the owners their account speaks for), oldest first.
#[utoipa::path(get, path = "/api/v1/me/claims/to-confirm", tag = "accounts",
    responses((status = 200, description = "claims to confirm", body = ClaimList), (status = 401, description = "not logged in")))]
async fn claims_to_confirm(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Json<ClaimList>, ApiError> {
    let mut claims = Vec::new();
    for o in auth::owners_of_user(&state.db, &user.user_id).await? {
        claims.extend(store::pending_for_owner(&state.db, &o).await?);
    }
    Ok(Json(ClaimList { claims }))
}

/// The open claims (queued or pending) of the compounds at or below a place,
/// oldest first, names masked: for staff who may change the register there.
#[utoipa::path(get, path = "/api/v1/places/{id}/claims", tag = "accounts", params(("id" = String, Path, description = "place id")),
    responses((status = 200, description = "open claims", body = ClaimList), (status = 403, description = "not allowed"), (status = 404, description = "no such place")))]
async fn place_claims(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<ClaimList>, ApiError> {
    let (place, _) = full(&state, &user, &id, Action::WriteRegister).await?;
    Ok(Json(ClaimList {
        claims: store::open_claims(&state.db, &place.path, 200).await?,
    }))
}

#[derive(Deserialize, ToSchema)]
pub struct DecisionBody {
    approve: bool,
    /// The flat (staff choose it for a queued claim).
    part_id: Option<String>,
    note: Option<String>,
}

/// Decide a claim: staff who may change the register over its compound, or,
/// for a family member's or tenant's pending claim, the flat's owner. Never
/// the claimant.
#[utoipa::path(post, path = "/api/v1/claims/{id}/decision", tag = "accounts", params(("id" = String, Path, description = "claim id")), request_body = DecisionBody,
    responses((status = 200, description = "decided", body = ClaimView), (status = 403, description = "not allowed"),
        (status = 404, description = "no such claim"), (status = 409, description = "already decided"), (status = 422, description = "no flat chosen")))]
async fn decide_claim(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<DecisionBody>,
) -> Result<Json<ClaimView>, ApiError> {
    may_decide(&state, &user, &id).await?;
    let c = store::decide_claim(
        &state.db,
        &user.audit_name(),
        &id,
        body.approve,
        body.part_id.as_deref(),
        body.note.as_deref(),
    )
    .await?;
    Ok(Json(c))
}

#[derive(Deserialize, ToSchema)]
pub struct InvitationBody {
    /// The invited person's mobile number: the link is texted there.
    phone: String,
    /// The invited person's name.
    name: String,
    /// The role to grant (e.g. `grid_worker`, `committee_member`).
    role: String,
    place_id: String,
    /// For a grid worker: their micro-grid.
    grid_id: Option<String>,
}

/// Invite a person to a role over a place: the link (texted to their phone)
/// sets a password and accepts the grant; it expires in 7 days. Only roles
/// the caller may grant there.
#[utoipa::path(post, path = "/api/v1/invitations", tag = "accounts", request_body = InvitationBody,
    responses((status = 201, description = "invited: the link's token is shown once", body = store::NewInvitation),
        (status = 403, description = "not allowed to grant this role here"), (status = 422, description = "bad phone, role or place")))]
async fn create_invitation(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiJson(body): ApiJson<InvitationBody>,
) -> Result<(StatusCode, Json<store::NewInvitation>), ApiError> {
    let role = Role::parse(&body.role)
        .ok_or_else(|| ApiError::field("role", format!("must be one of: {}", Role::choices())))?;
    let inv = super::invite(
        &state,
        &user,
        &body.place_id,
        role,
        &body.phone,
        &body.name,
        body.grid_id.as_deref(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(inv)))
}

/// Invitations.
#[derive(Serialize, ToSchema)]
pub struct InvitationList {
    invitations: Vec<InvitationView>,
}

/// The invitations made over a place and below it (phones masked).
#[utoipa::path(get, path = "/api/v1/places/{id}/invitations", tag = "accounts", params(("id" = String, Path, description = "place id")),
    responses((status = 200, description = "invitations", body = InvitationList), (status = 403, description = "not allowed")))]
async fn place_invitations(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<InvitationList>, ApiError> {
    let (place, _) = full(&state, &user, &id, Action::ManageAccess).await?;
    Ok(Json(InvitationList {
        invitations: store::invitations_below(&state.db, &place.path).await?,
    }))
}

/// What an invitation link offers (no login): role, place, expiry, state.
#[utoipa::path(get, path = "/api/v1/public/invitations/{token}", tag = "accounts", params(("token" = String, Path, description = "the link's secret")),
    responses((status = 200, description = "the invitation", body = InvitationView), (status = 404, description = "no such invitation")))]
async fn invitation(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Result<Json<InvitationView>, ApiError> {
    Ok(Json(store::invitation_by_token(&state.db, &token).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct AcceptBody {
    /// Without a session: the new account's password (at least 8 characters).
    password: Option<String>,
}

/// The grant an accepted invitation made.
#[derive(Serialize, ToSchema)]
pub struct AcceptedInvitation {
    user_id: String,
    grant_id: String,
}

/// Accept an invitation: logged in, the role is added to the caller's
/// account (when its phone is the invited one); otherwise a new account is
/// made for the invited phone with `password` and logged in.
#[utoipa::path(post, path = "/api/v1/public/invitations/{token}/accept", tag = "accounts", params(("token" = String, Path, description = "the link's secret")), request_body = AcceptBody,
    responses((status = 201, description = "accepted", body = AcceptedInvitation), (status = 403, description = "invited to another phone"),
        (status = 404, description = "no such invitation"), (status = 409, description = "accepted already, or the phone has an account: log in first"),
        (status = 422, description = "expired, or no password")))]
async fn accept_invitation(
    State(state): State<AppState>,
    MaybeUser(user): MaybeUser,
    Path(token): Path<String>,
    ApiJson(body): ApiJson<AcceptBody>,
) -> Result<Response, ApiError> {
    let (user_id, grant_id, new_session) =
        accept(&state, user.as_ref(), &token, body.password).await?;
    let body = (
        StatusCode::CREATED,
        Json(AcceptedInvitation { user_id, grant_id }),
    );
    Ok(match new_session {
        Some(t) => (
            [(
                header::SET_COOKIE,
                session::session_cookie(&t, state.secure_cookies),
            )],
            body,
        )
            .into_response(),
        None => body.into_response(),
    })
}

/// Accounts below a place.
#[derive(Serialize, ToSchema)]
pub struct AccountList {
    users: Vec<AccountView>,
}

/// The people with accounts below a place (a role there, or an owner of a
/// flat there): roles, owners, state; phones masked.
#[utoipa::path(get, path = "/api/v1/places/{id}/users", tag = "accounts", params(("id" = String, Path, description = "place id")),
    responses((status = 200, description = "accounts", body = AccountList), (status = 403, description = "not allowed")))]
async fn place_users(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<AccountList>, ApiError> {
    let (place, _) = full(&state, &user, &id, Action::ManageAccess).await?;
    Ok(Json(AccountList {
        users: store::accounts_below(&state.db, &place.path, 500).await?,
    }))
}

/// Revoke a role: only someone who may grant it there (never above their
/// scope). The audit trail keeps the grant.
#[utoipa::path(delete, path = "/api/v1/grants/{id}", tag = "accounts", params(("id" = String, Path, description = "grant id")),
    responses((status = 204, description = "revoked"), (status = 403, description = "not allowed"), (status = 404, description = "no such grant")))]
async fn revoke_grant(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let (_, role, path) = store::grant_with_path(&state.db, &id).await?;
    access::check_grant(&user, role, &path)?;
    store::revoke_grant(&state.db, &user.audit_name(), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Deactivate an account: its sessions and tokens end, its history stays.
#[utoipa::path(post, path = "/api/v1/users/{id}/disable", tag = "accounts", params(("id" = String, Path, description = "user id")),
    responses((status = 200, description = "disabled", body = Revoked), (status = 403, description = "outside the caller's scope"), (status = 404, description = "no such user")))]
async fn disable_user(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<Revoked>, ApiError> {
    may_administer(&state, &user, &id).await?;
    Ok(Json(
        store::set_disabled(&state.db, &user.audit_name(), &id, true).await?,
    ))
}

/// Reactivate an account.
#[utoipa::path(post, path = "/api/v1/users/{id}/enable", tag = "accounts", params(("id" = String, Path, description = "user id")),
    responses((status = 200, description = "enabled", body = Revoked), (status = 403, description = "outside the caller's scope"), (status = 404, description = "no such user")))]
async fn enable_user(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<Revoked>, ApiError> {
    may_administer(&state, &user, &id).await?;
    Ok(Json(
        store::set_disabled(&state.db, &user.audit_name(), &id, false).await?,
    ))
}

/// Force a password reset: sessions and tokens end; the account logs in
/// again only after resetting by phone code.
#[utoipa::path(post, path = "/api/v1/users/{id}/force-reset", tag = "accounts", params(("id" = String, Path, description = "user id")),
    responses((status = 200, description = "reset forced", body = Revoked), (status = 403, description = "outside the caller's scope"), (status = 404, description = "no such user")))]
async fn force_reset(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<Revoked>, ApiError> {
    may_administer(&state, &user, &id).await?;
    Ok(Json(
        store::force_reset(&state.db, &user.audit_name(), &id).await?,
    ))
}

/// Unlink an account from an owner of record (staff who may change the
/// register over every part of the owner). Ballots already cast stay.
#[utoipa::path(delete, path = "/api/v1/owners/{id}/accounts/{user_id}", tag = "accounts",
    params(("id" = String, Path, description = "owner id"), ("user_id" = String, Path, description = "user id")),
    responses((status = 204, description = "unlinked"), (status = 403, description = "not allowed"), (status = 404, description = "no such owner or link")))]
async fn unlink_owner(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((id, user_id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let owner = access::check_owner(&state, &user, &id).await?;
    store::unlink_owner(
        &state.db,
        &user.audit_name(),
        &user_id,
        &id,
        &owner.parts[0].place_path,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
