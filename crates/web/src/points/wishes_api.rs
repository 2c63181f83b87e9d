//! Micro-wishes (微心愿) over HTTP: staff record and verify, the public
//! wish wall (names masked, no address), partner units see the wishes of
//! the communities they serve (only those) and claim, deliver; the
//! household's grid worker confirms; the community resolves what nobody
//! claimed; the figures by place.

use crate::access;
use crate::problem::{ApiError, ApiJson};
use crate::session::CurrentUser;
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use gongzhi_domain::points::wishes::Flag;
use gongzhi_domain::policy::Action;
use gongzhi_store::register;
use gongzhi_store::wishes::{self, NewWish, WallWish, WishStats};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(record))
        .routes(routes!(verify))
        .routes(routes!(resolve))
        .routes(routes!(confirm))
        .routes(routes!(wall))
        .routes(routes!(partner_wishes))
        .routes(routes!(claim))
        .routes(routes!(deliver))
        .routes(routes!(stats))
}

#[derive(Deserialize, ToSchema)]
pub struct WishBody {
    pub person_id: String,
    /// What they need (e.g. a wheelchair).
    pub need: String,
    /// Why.
    pub reason: String,
    /// `elderly_alone`, `disabled`, `low_income`.
    #[serde(default)]
    pub flags: Vec<String>,
}

#[derive(Serialize, ToSchema)]
pub struct Created {
    pub id: String,
}

/// Records a household's wish (grid workers, station staff, community
/// staff over the place); the person must live there.
#[utoipa::path(post, path = "/api/v1/places/{id}/wishes", tag = "points", request_body = WishBody, params(("id" = String, Path, description = "place id")), responses((status = 201, body = Created), (status = 403, description = "may not record wishes here"), (status = 422, description = "refused; names the field")))]
async fn record(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<WishBody>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let (place, _) = access::check(&state, &user, &id, Action::RecordWish).await?;
    let flags = b
        .flags
        .iter()
        .map(|f| {
            Flag::parse(f).ok_or_else(|| {
                ApiError::field(
                    "flags",
                    format!("unknown flag '{f}' (expected {})", Flag::choices()),
                )
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let id = wishes::record(
        &state.db,
        &user.audit_name(),
        &place,
        NewWish {
            person_id: &b.person_id,
            need: &b.need,
            reason: &b.reason,
            flags: &flags,
        },
    )
    .await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

/// The wish's place after `action` is allowed over it (404 when unknown).
async fn gate(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
    action: Action,
) -> Result<(), ApiError> {
    let (place_id, _) =
        wishes::place_of(&state.db, id)
            .await
            .map_err(crate::problem::or_not_found(format!(
                "wish '{id}' not found"
            )))?;
    access::check(state, user, &place_id, action).await?;
    Ok(())
}

/// The community verifies a recorded wish: it goes on the wish wall.
#[utoipa::path(post, path = "/api/v1/wishes/{id}/verify", tag = "points", params(("id" = String, Path, description = "wish id")), responses((status = 204, description = "verified"), (status = 403, description = "not community staff"), (status = 409, description = "not recorded")))]
async fn verify(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    gate(&state, &user, &id, Action::VerifyWish).await?;
    wishes::verify(&state.db, &user.audit_name(), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The community resolves a verified wish nobody fully claimed itself.
#[utoipa::path(post, path = "/api/v1/wishes/{id}/resolve", tag = "points", params(("id" = String, Path, description = "wish id")), responses((status = 204, description = "fulfilled by the community"), (status = 403, description = "not community staff"), (status = 409, description = "not verified, or fully claimed")))]
async fn resolve(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    gate(&state, &user, &id, Action::VerifyWish).await?;
    wishes::resolve(&state.db, &user.audit_name(), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The household's grid worker (or station, community staff) confirms the
/// receipt of a delivered wish: it is fulfilled.
#[utoipa::path(post, path = "/api/v1/wishes/{id}/confirm", tag = "points", params(("id" = String, Path, description = "wish id")), responses((status = 204, description = "fulfilled"), (status = 403, description = "may not confirm here"), (status = 409, description = "not delivered")))]
async fn confirm(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    gate(&state, &user, &id, Action::RecordWish).await?;
    wishes::confirm(&state.db, &user.audit_name(), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, ToSchema)]
pub struct Wall {
    pub wishes: Vec<WallWish>,
}

/// The public wish wall of a community (or a place in it): verified wishes
/// not yet fulfilled, the person's name masked, no address.
#[utoipa::path(get, path = "/api/v1/public/places/{id}/wish-wall", tag = "public", params(("id" = String, Path, description = "place id")), responses((status = 200, body = Wall), (status = 404, description = "no such place")))]
async fn wall(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Wall>, ApiError> {
    let place = register::get_place(&state.db, &id)
        .await
        .map_err(crate::problem::or_not_found(format!(
            "place '{id}' not found"
        )))?;
    let community =
        register::get_place(&state.db, &gongzhi_store::points::community_of(&place)?).await?;
    Ok(Json(Wall {
        wishes: wishes::wall(&state.db, &[community.path]).await?,
    }))
}

async fn units(
    state: &AppState,
    user: &CurrentUser,
) -> Result<Vec<(String, Vec<String>)>, ApiError> {
    Ok(wishes::partner_units_of_user(&state.db, &user.user_id).await?)
}

/// The wishes a partner unit may claim: those of the communities its units
/// serve, and no others (empty for anyone not in a partner unit).
#[utoipa::path(get, path = "/api/v1/partner/wishes", tag = "points", responses((status = 200, body = Wall)))]
async fn partner_wishes(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Json<Wall>, ApiError> {
    let paths: Vec<String> = units(&state, &user)
        .await?
        .into_iter()
        .flat_map(|(_, p)| p)
        .collect();
    Ok(Json(Wall {
        wishes: wishes::wall(&state.db, &paths).await?,
    }))
}

#[derive(Deserialize, ToSchema)]
pub struct ClaimBody {
    /// The caller's partner unit.
    pub org_id: String,
    /// Per mille of the wish (1000: the whole).
    #[serde(default = "whole")]
    pub share_permille: i64,
}

fn whole() -> i64 {
    1000
}

#[derive(Deserialize, ToSchema)]
pub struct OrgBody {
    pub org_id: String,
}

/// The caller's unit's communities, or 403 when the caller is not in it.
async fn unit(state: &AppState, user: &CurrentUser, org: &str) -> Result<Vec<String>, ApiError> {
    units(state, user)
        .await?
        .into_iter()
        .find(|(o, _)| o == org)
        .map(|(_, p)| p)
        .ok_or_else(|| ApiError::forbidden("you are not a member of that partner unit"))
}

/// A partner unit claims a wish whole or a share of it (a wheelchair split
/// among three units). Only wishes of the communities it serves (others:
/// 404).
#[utoipa::path(post, path = "/api/v1/wishes/{id}/claims", tag = "points", request_body = ClaimBody, params(("id" = String, Path, description = "wish id")), responses((status = 201, body = Created), (status = 403, description = "not a member of the unit"), (status = 404, description = "no such wish for this unit"), (status = 409, description = "not open for claims, or already claimed by the unit"), (status = 422, description = "share too large")))]
async fn claim(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<ClaimBody>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let paths = unit(&state, &user, &b.org_id).await?;
    let cid = wishes::claim(
        &state.db,
        &user.audit_name(),
        &id,
        &b.org_id,
        &paths,
        b.share_permille,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(Created { id: cid })))
}

/// A partner unit records the delivery of its share.
#[utoipa::path(post, path = "/api/v1/wishes/{id}/delivery", tag = "points", request_body = OrgBody, params(("id" = String, Path, description = "wish id")), responses((status = 204, description = "delivered"), (status = 403, description = "not a member of the unit"), (status = 409, description = "nothing of the unit's to deliver")))]
async fn deliver(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<OrgBody>,
) -> Result<StatusCode, ApiError> {
    unit(&state, &user, &b.org_id).await?;
    wishes::deliver(&state.db, &user.audit_name(), &id, &b.org_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The wish figures of a place (staff over it): collected, verified,
/// claimed, fulfilled, fulfilled by the community, days to fulfilment.
#[utoipa::path(get, path = "/api/v1/places/{id}/wish-stats", tag = "points", params(("id" = String, Path, description = "place id")), responses((status = 200, body = WishStats), (status = 403, description = "not staff over the place")))]
async fn stats(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<WishStats>, ApiError> {
    let (place, _) = access::check(&state, &user, &id, Action::VerifyWish).await?;
    Ok(Json(wishes::stats(&state.db, &place).await?))
}
