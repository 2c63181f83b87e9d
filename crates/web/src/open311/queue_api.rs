//! Staff side of Open311's token mode: set a jurisdiction's answer mode
//! (`id` or `token`), list the requests waiting for acceptance, accept one
//! (it becomes a case; its token now yields the `service_request_id`) or
//! reject it with a reason. Through [`crate::access`] only.

use crate::access::{check, check_place};
use crate::problem::{ApiError, ApiJson};
use crate::session::CurrentUser;
use crate::AppState;
use axum::extract::{Path, State};
use axum::Json;
use gongzhi_domain::policy::{Access, Action};
use gongzhi_store::open311::{self, Answer, TokenView};
use gongzhi_store::{db, register};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(set_answer))
        .routes(routes!(queued))
        .routes(routes!(accept))
        .routes(routes!(reject))
}

#[derive(Deserialize, ToSchema)]
#[schema(as = Open311AnswerBody)]
pub struct AnswerBody {
    /// `id` (create at once, answer service_request_id) or `token` (queue for acceptance, answer a token)
    answer: String,
}

/// How Open311 `POST requests.json` answers in this community or compound.
#[utoipa::path(put, path = "/api/v1/places/{id}/open311-answer", tag = "cases", params(("id" = String, Path, description = "community or compound id")), request_body = AnswerBody,
    responses((status = 200, description = "set", body = AnswerSet), (status = 422, description = "unknown mode or not a jurisdiction")))]
async fn set_answer(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<AnswerBody>,
) -> Result<Json<AnswerSet>, ApiError> {
    let (place, _) = check(&state, &user, &id, Action::WriteRegister).await?;
    let answer = Answer::parse(&body.answer).ok_or_else(|| {
        ApiError::field(
            "answer",
            format!("unknown answer '{}' (expected id, token)", body.answer),
        )
    })?;
    open311::set_answer(&state.db, &user.audit_name(), &place, answer).await?;
    Ok(Json(AnswerSet { answer }))
}

/// The answer mode now set.
#[derive(Serialize, ToSchema)]
pub struct AnswerSet {
    answer: Answer,
}

#[derive(Serialize, ToSchema)]
pub struct Queued {
    requests: Vec<TokenView>,
}

/// The case a queued request became.
#[derive(Serialize, ToSchema)]
pub struct Accepted {
    service_request_id: String,
}

#[derive(Serialize, ToSchema)]
pub struct Rejected {
    /// Always true.
    rejected: bool,
}

fn whole(access: Access) -> Result<(), ApiError> {
    match access {
        Access::Full => Ok(()),
        Access::Grids(_) => Err(ApiError::forbidden(
            "Open311 requests are accepted by staff over the whole place",
        )),
    }
}

/// Open311 requests waiting for acceptance below a place, oldest first.
#[utoipa::path(get, path = "/api/v1/places/{id}/open311-queue", tag = "cases", params(("id" = String, Path, description = "place id")), responses((status = 200, description = "queued requests", body = Queued)))]
async fn queued(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<Queued>, ApiError> {
    let (place, access) = check(&state, &user, &id, Action::HandleCase).await?;
    whole(access)?;
    let requests = open311::queued_under(&state.db, &place.path, 200).await?;
    Ok(Json(Queued { requests }))
}

async fn may_decide(state: &AppState, user: &CurrentUser, token: &str) -> Result<(), ApiError> {
    let t = open311::get_token(&state.db, token)
        .await
        .map_err(crate::problem::or_not_found(format!(
            "token '{token}' not found"
        )))?;
    let place = register::get_place(&state.db, &t.place_id).await?;
    whole(check_place(user, &place, Action::HandleCase)?)
}

/// Accept a queued request: it becomes a case (reported when received).
#[utoipa::path(post, path = "/api/v1/open311-queue/{token}/accept", tag = "cases", params(("token" = String, Path, description = "the token")),
    responses((status = 200, description = "the new case id", body = Accepted), (status = 422, description = "decided already")))]
async fn accept(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(token): Path<String>,
) -> Result<Json<Accepted>, ApiError> {
    may_decide(&state, &user, &token).await?;
    let id = open311::accept(
        &state.db,
        &token,
        &user.audit_name(),
        crate::cases::gate::calendar(),
        db::now_ms(),
    )
    .await?;
    Ok(Json(Accepted {
        service_request_id: id,
    }))
}

#[derive(Deserialize, ToSchema)]
pub struct RejectBody {
    reason: String,
}

/// Reject a queued request, with a reason.
#[utoipa::path(post, path = "/api/v1/open311-queue/{token}/reject", tag = "cases", params(("token" = String, Path, description = "the token")), request_body = RejectBody,
    responses((status = 200, description = "rejected", body = Rejected), (status = 422, description = "no reason, or decided already")))]
async fn reject(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(token): Path<String>,
    ApiJson(body): ApiJson<RejectBody>,
) -> Result<Json<Rejected>, ApiError> {
    may_decide(&state, &user, &token).await?;
    open311::reject(
        &state.db,
        &token,
        &user.audit_name(),
        &body.reason,
        db::now_ms(),
    )
    .await?;
    Ok(Json(Rejected { rejected: true }))
}
