//! Mediations (调解) of dispute cases under `/api/v1/cases/{id}/mediation`:
//! open (parties, mediators), sessions, the outcome, read. Staff over the
//! case's place write; its reporter and staff read. Authorisation through
//! [`crate::cases::gate::load`] (→ [`crate::access`]).

use super::gate::load;
use crate::problem::{ApiError, ApiJson};
use crate::session::CurrentUser;
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use gongzhi_domain::cases::parse_iso;
use gongzhi_domain::mediation::{Outcome, OutcomeKind, Party, Session, Side};
use gongzhi_store::db;
use gongzhi_store::mediation::{self, MediationView};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_mediation, open_mediation))
        .routes(routes!(add_session))
        .routes(routes!(conclude))
}

async fn staff_only(state: &AppState, user: &CurrentUser, id: &str) -> Result<(), ApiError> {
    let (_, st) = load(state, user, id).await?;
    if !st.handler {
        return Err(ApiError::forbidden(
            "only staff handling this case's place run its mediation",
        ));
    }
    Ok(())
}

/// A case's mediation as it stands.
#[derive(Serialize, ToSchema)]
pub struct MediationOf {
    mediation: MediationView,
}

async fn current(state: &AppState, id: &str) -> Result<MediationOf, ApiError> {
    let mediation =
        mediation::current(&state.db, id)
            .await
            .map_err(crate::problem::or_not_found(format!(
                "case '{id}' has no mediation"
            )))?;
    Ok(MediationOf { mediation })
}

#[derive(Deserialize, ToSchema)]
pub struct PartyBody {
    /// Stored in full, always shown masked.
    name: String,
    /// applicant (default), respondent or other
    side: Option<String>,
    phone: Option<String>,
}

#[derive(Deserialize, ToSchema)]
pub struct OpenBody {
    /// At least two parties.
    parties: Vec<PartyBody>,
    /// Organisations of kind mediation_committee (mediation committees, police mediation rooms) serving the case's place.
    mediator_org_ids: Vec<String>,
}

/// A case's mediation: parties (masked), mediators, sessions, outcome.
#[utoipa::path(get, path = "/api/v1/cases/{id}/mediation", tag = "cases", params(("id" = String, Path, description = "case id")),
    responses((status = 200, description = "the mediation", body = MediationOf), (status = 404, description = "no such case, not yours, or no mediation")))]
async fn get_mediation(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<MediationOf>, ApiError> {
    load(&state, &user, &id).await?;
    Ok(Json(current(&state, &id).await?))
}

/// Turn a dispute case (noise, neighbour dispute) being handled into a mediation.
#[utoipa::path(post, path = "/api/v1/cases/{id}/mediation", tag = "cases", params(("id" = String, Path, description = "case id")), request_body = OpenBody,
    responses((status = 201, description = "opened", body = MediationOf), (status = 422, description = "not a dispute, not being handled, bad parties or mediators"), (status = 403, description = "not staff over the case")))]
async fn open_mediation(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<OpenBody>,
) -> Result<(StatusCode, Json<MediationOf>), ApiError> {
    staff_only(&state, &user, &id).await?;
    let parties = body
        .parties
        .iter()
        .map(|p| {
            Ok(Party {
                name: p.name.clone(),
                side: match &p.side {
                    None => Side::Applicant,
                    Some(s) => Side::parse(s).ok_or_else(|| {
                        ApiError::field(
                            "parties.side",
                            format!("unknown side '{s}' (expected {})", Side::choices()),
                        )
                    })?,
                },
                phone: p.phone.clone().filter(|x| !x.trim().is_empty()),
            })
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    let m = mediation::open(
        &state.db,
        &id,
        &user.audit_name(),
        &parties,
        &body.mediator_org_ids,
        db::now_ms(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(MediationOf { mediation: m })))
}

#[derive(Deserialize, ToSchema)]
pub struct SessionBody {
    /// When it was held: ISO 8601 (e.g. 2026-11-20T19:30:00+08:00) or a date.
    held_at: String,
    /// Where (e.g. the deliberation hall 议事厅).
    place: String,
    /// Who attended.
    attendees: Vec<String>,
    notes: String,
}

/// Record a session (only before the outcome).
#[utoipa::path(post, path = "/api/v1/cases/{id}/mediation/sessions", tag = "cases", params(("id" = String, Path, description = "case id")), request_body = SessionBody,
    responses((status = 201, description = "recorded", body = MediationOf), (status = 422, description = "concluded already, bad date, missing attendees"), (status = 403, description = "not staff over the case")))]
async fn add_session(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<SessionBody>,
) -> Result<(StatusCode, Json<MediationOf>), ApiError> {
    staff_only(&state, &user, &id).await?;
    let held_at = parse_iso(&body.held_at).ok_or_else(|| {
        ApiError::field(
            "held_at",
            format!("not an ISO 8601 date-time or date: '{}'", body.held_at),
        )
    })?;
    let s = Session {
        held_at,
        place: body.place.clone(),
        attendees: body.attendees.clone(),
        notes: body.notes.clone(),
    };
    let m = mediation::add_session(&state.db, &id, &user.audit_name(), &s, db::now_ms()).await?;
    Ok((StatusCode::CREATED, Json(MediationOf { mediation: m })))
}

#[derive(Deserialize, ToSchema)]
pub struct OutcomeBody {
    /// agreement, failed or referred
    outcome: String,
    /// The agreement's text, why it failed, or a note on the referral.
    text: Option<String>,
    /// For referred: to whom (court, police station, street office, …).
    referred_to: Option<String>,
}

/// Conclude the mediation, once: an agreement (after at least one session), failed, or referred.
#[utoipa::path(post, path = "/api/v1/cases/{id}/mediation/outcome", tag = "cases", params(("id" = String, Path, description = "case id")), request_body = OutcomeBody,
    responses((status = 201, description = "concluded", body = MediationOf), (status = 422, description = "concluded already, no session yet, missing text"), (status = 403, description = "not staff over the case")))]
async fn conclude(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<OutcomeBody>,
) -> Result<(StatusCode, Json<MediationOf>), ApiError> {
    staff_only(&state, &user, &id).await?;
    let text = body.text.clone().unwrap_or_default();
    let outcome = match OutcomeKind::parse(&body.outcome) {
        Some(OutcomeKind::Agreement) => Outcome::Agreement { text },
        Some(OutcomeKind::Failed) => Outcome::Failed { reason: text },
        Some(OutcomeKind::Referred) => Outcome::Referred {
            to: body.referred_to.clone().unwrap_or_default(),
            note: text,
        },
        None => {
            return Err(ApiError::field(
                "outcome",
                format!(
                    "unknown outcome '{}' (expected {})",
                    body.outcome,
                    OutcomeKind::choices()
                ),
            ))
        }
    };
    let m = mediation::conclude(&state.db, &id, &user.audit_name(), &outcome, db::now_ms()).await?;
    Ok((StatusCode::CREATED, Json(MediationOf { mediation: m })))
}
