//! Matters (议事) and their deliberation: topics, opinions, steps.
pub mod api;
pub mod deliberation_api;
pub mod pages;

use crate::access::{check, check_place};
use crate::problem::ApiError;
use crate::session::CurrentUser;
use crate::AppState;
use gongzhi_domain::policy::{self, Access, Action};
use gongzhi_store::deliberation::{self as store, Speaker};
use gongzhi_store::register::Place;
use gongzhi_store::{auth, db, matters};

// The gates and commands the API and the pages share: each checks access
// here, then calls one store command.

/// The matter if the caller sees its place (else 404).
pub(crate) async fn visible(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
) -> Result<(matters::MatterView, gongzhi_store::register::Place), ApiError> {
    let m = matters::get_matter(&state.db, id)
        .await
        .map_err(crate::problem::or_not_found(format!(
            "matter '{id}' not found"
        )))?;
    let (place, _) = check(state, user, &m.place_id, Action::ReadStructure)
        .await
        .map_err(crate::problem::hidden_as_not_found(format!(
            "matter '{id}' not found"
        )))?;
    Ok((m, place))
}

/// The matter, if the caller may do `action` over its place.
pub(crate) async fn matter_for(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
    action: Action,
) -> Result<(matters::MatterView, Place, Access), ApiError> {
    let (m, place) = visible(state, user, id).await?;
    let access = check_place(user, &place, action)?;
    Ok((m, place, access))
}

/// The questionnaire and the place of its matter, if visible.
pub(crate) async fn questionnaire_for(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
) -> Result<(store::QuestionnaireView, Place), ApiError> {
    let q = store::questionnaire(&state.db, id)
        .await
        .map_err(crate::problem::or_not_found(format!(
            "questionnaire '{id}' not found"
        )))?;
    let (_, place) =
        visible(state, user, &q.matter_id)
            .await
            .map_err(crate::problem::hidden_as_not_found(format!(
                "questionnaire '{id}' not found"
            )))?;
    Ok((q, place))
}

/// The caller's username (their audit name if it cannot be read).
pub(crate) async fn username(state: &AppState, user: &CurrentUser) -> String {
    auth::get_user(&state.db, &user.user_id)
        .await
        .map(|u| u.username)
        .unwrap_or_else(|_| user.audit_name())
}

/// The caller as one who speaks on matters at `place`.
pub(crate) async fn speaker(state: &AppState, user: &CurrentUser, place: &Place) -> Speaker {
    Speaker {
        user_id: user.user_id.clone(),
        name: username(state, user).await,
        roles: policy::roles_over(&user.actor, &place.path_ids()),
    }
}

/// Records the next step of a matter visible to the caller, with the roles
/// they hold over its scope.
pub(crate) async fn take_step(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
    step: String,
    note: String,
    vote_id: Option<String>,
) -> Result<matters::StepDone, ApiError> {
    let (_, place) = visible(state, user, id).await?;
    Ok(matters::take_step(
        &state.db,
        matters::NextStep {
            actor: user.audit_name(),
            matter_id: id.to_string(),
            step,
            roles: policy::roles_over(&user.actor, &place.path_ids()),
            note,
            vote_id,
            at: db::now_ms(),
        },
    )
    .await?)
}

/// Comments on a matter visible to the caller (who must be in its scope).
pub(crate) async fn comment(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
    body: &str,
) -> Result<store::Comment, ApiError> {
    let (_, place) = visible(state, user, id).await?;
    let s = speaker(state, user, &place).await;
    Ok(store::comment(&state.db, &s, id, &place.path, body, db::now_ms()).await?)
}

/// Answers a questionnaire visible to the caller; the answer's `seq`.
pub(crate) async fn answer_as(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
    answers: &[gongzhi_domain::deliberation::Answer],
) -> Result<i64, ApiError> {
    let (_, place) = questionnaire_for(state, user, id).await?;
    let s = speaker(state, user, &place).await;
    Ok(store::answer_as(&state.db, &s, id, &place.path, answers, db::now_ms()).await?)
}

/// Publishes a questionnaire on a matter the caller deliberates over; its id.
pub(crate) async fn publish_questionnaire(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
    title: &str,
    questions: &[gongzhi_domain::deliberation::Question],
    closes_at: i64,
) -> Result<String, ApiError> {
    matter_for(state, user, id, Action::Deliberate).await?;
    Ok(store::publish(
        &state.db,
        &user.audit_name(),
        id,
        title,
        questions,
        closes_at,
        db::now_ms(),
    )
    .await?)
}

/// Records a door-to-door visit on a matter for the caller (a worker; a grid
/// worker narrowed to micro-grids only in theirs). `worker` defaults to the
/// caller's username.
pub(crate) async fn door_record(
    state: &AppState,
    user: &CurrentUser,
    mut v: store::Visit,
    worker: Option<String>,
) -> Result<store::DoorRecord, ApiError> {
    let (_, place, _) = matter_for(state, user, &v.matter_id, Action::RecordBallots).await?;
    let grids = match check_place(user, &place, Action::ReadRegister) {
        Ok(Access::Grids(grids)) => Some(grids),
        _ => None,
    };
    v.worker = match worker {
        Some(w) => w,
        None => username(state, user).await,
    };
    v.recorded_by = user.audit_name();
    v.now = db::now_ms();
    Ok(store::record_visit(&state.db, v, grids.as_deref()).await?)
}
