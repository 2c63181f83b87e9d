//! Matters (议题) under `/api/v1`: raised over a place, following a procedure
//! that is data (built in: seven-step method, 五议两公开, e管家 projects; or a
//! community's own), each step recorded by someone holding one of the step's
//! roles over the scope, in order and within its day limits.

use super::{take_step, visible};
use crate::access::{check, check_place};
use crate::problem::{ApiError, ApiJson};
use crate::session::CurrentUser;
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use gongzhi_domain::policy::Action;
use gongzhi_domain::procedure::{self, Procedure};
use gongzhi_store::matters::MatterView;
use gongzhi_store::{matters, procedures as library};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(procedures))
        .routes(routes!(place_procedures))
        .routes(routes!(define_procedure))
        .routes(routes!(create_matter))
        .routes(routes!(get_matter))
        .routes(routes!(place_matters))
        .routes(routes!(record_step))
}

/// The built-in procedures.
#[derive(Serialize, ToSchema)]
pub struct Builtins {
    #[schema(value_type = Vec<Object>)]
    procedures: Vec<Procedure>,
}

/// The procedures a matter at a place can follow.
#[derive(Serialize, ToSchema)]
pub struct PlaceProcedures {
    #[schema(value_type = Vec<Object>)]
    builtin: Vec<Procedure>,
    /// Defined for the place or above it (the nearest definition of a key wins).
    local: Vec<library::LocalProcedure>,
}

/// Matters over a place and below it.
#[derive(Serialize, ToSchema)]
pub struct MatterList {
    matters: Vec<MatterView>,
}

/// The built-in procedures.
#[utoipa::path(get, path = "/api/v1/procedures", tag = "matters", responses((status = 200, description = "procedures", body = Builtins)))]
async fn procedures(_user: CurrentUser) -> Json<Builtins> {
    Json(Builtins {
        procedures: procedure::builtins(),
    })
}

/// The procedures a matter at this place can follow: the built-ins and those
/// defined for the place or above it (the nearest definition of a key wins).
#[utoipa::path(get, path = "/api/v1/places/{id}/procedures", tag = "matters", params(("id" = String, Path, description = "place id")), responses((status = 200, description = "procedures", body = PlaceProcedures)))]
async fn place_procedures(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<PlaceProcedures>, ApiError> {
    let (place, _) = check(&state, &user, &id, Action::ReadStructure).await?;
    let local = library::visible(&state.db, &place).await?;
    Ok(Json(PlaceProcedures {
        builtin: procedure::builtins(),
        local,
    }))
}

/// Define (or redefine, as a new version) a procedure of this place's own,
/// e.g. a community's "小院说事". Needs the right to deliberate over the
/// place; the key in the path and the body agree, and is not a built-in's.
/// Matters already raised keep the version they copied.
#[utoipa::path(put, path = "/api/v1/places/{id}/procedures/{key}", tag = "matters", params(("id" = String, Path, description = "place id"), ("key" = String, Path, description = "procedure key")), request_body(content = serde_json::Value, content_type = "application/json", description = "the procedure: key (as in the path), title, steps (roles, product, day limits)"), responses((status = 200, description = "defined", body = library::LocalProcedure), (status = 422, description = "invalid field")))]
async fn define_procedure(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((id, key)): Path<(String, String)>,
    ApiJson(p): ApiJson<Procedure>,
) -> Result<Json<library::LocalProcedure>, ApiError> {
    let (place, _) = check(&state, &user, &id, Action::ReadStructure).await?;
    check_place(&user, &place, Action::Deliberate)?;
    if p.key != key {
        return Err(ApiError::field(
            "key",
            format!("the body's key '{}' is not the path's '{key}'", p.key),
        ));
    }
    let lp = library::define_for(&state.db, &user.audit_name(), &place, &p).await?;
    Ok(Json(lp))
}

#[derive(Deserialize)]
#[serde(untagged)]
pub enum ProcedureSpec {
    Builtin(String),
    Custom(Procedure),
}

#[derive(Deserialize, ToSchema)]
pub struct NewMatter {
    place_id: String,
    title: String,
    /// A built-in procedure's key (`seven_step`, `five_deliberations_two_publications`, `e_steward_project`) or a procedure object.
    #[schema(value_type = Object)]
    procedure: ProcedureSpec,
}

/// Raise a matter over a place (anyone who holds a role there).
#[utoipa::path(post, path = "/api/v1/matters", tag = "matters", request_body = NewMatter, responses((status = 201, description = "created", body = MatterView), (status = 422, description = "invalid field")))]
async fn create_matter(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiJson(body): ApiJson<NewMatter>,
) -> Result<(StatusCode, Json<MatterView>), ApiError> {
    let (place, _) = check(&state, &user, &body.place_id, Action::ReadStructure).await?;
    let p = match body.procedure {
        // a built-in, else one defined for this place or above it
        ProcedureSpec::Builtin(k) => library::resolve(&state.db, &place, &k).await?,
        ProcedureSpec::Custom(p) => p,
    };
    let m = matters::raise(&state.db, &user.audit_name(), &place, &body.title, &p).await?;
    Ok((StatusCode::CREATED, Json(m)))
}

/// A matter with its procedure, the steps done and the next step.
#[utoipa::path(get, path = "/api/v1/matters/{id}", tag = "matters", params(("id" = String, Path, description = "matter id")), responses((status = 200, description = "the matter", body = MatterView)))]
async fn get_matter(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<MatterView>, ApiError> {
    Ok(Json(visible(&state, &user, &id).await?.0))
}

/// Matters over a place and below it.
#[utoipa::path(get, path = "/api/v1/places/{id}/matters", tag = "matters", params(("id" = String, Path, description = "place id")), responses((status = 200, description = "matters", body = MatterList)))]
async fn place_matters(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<MatterList>, ApiError> {
    let (place, _) = check(&state, &user, &id, Action::ReadStructure).await?;
    Ok(Json(MatterList {
        matters: matters::matters_under(&state.db, &place).await?,
    }))
}

#[derive(Deserialize, ToSchema)]
pub struct StepBody {
    /// The key of the next step.
    step: String,
    #[serde(default)]
    note: String,
    /// For a step that produces a vote: the vote in the matter's scope.
    vote_id: Option<String>,
}

/// Record the next step of a matter (by someone holding one of the step's roles over the scope).
#[utoipa::path(post, path = "/api/v1/matters/{id}/steps", tag = "matters", params(("id" = String, Path, description = "matter id")), request_body = StepBody,
    responses((status = 201, description = "recorded", body = matters::StepDone), (status = 409, description = "out of order or outside the step's day limits"), (status = 422, description = "role not allowed for this step")))]
async fn record_step(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<StepBody>,
) -> Result<(StatusCode, Json<matters::StepDone>), ApiError> {
    let done = take_step(&state, &user, &id, body.step, body.note, body.vote_id).await?;
    Ok((StatusCode::CREATED, Json(done)))
}
