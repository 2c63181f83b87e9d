//! Meetings under `/api/v1`: announced (now) over a place or on a matter by
//! those who deliberate there — an owners' assembly only 15 days or more
//! ahead —, read by anyone who sees the place, exported as iCalendar
//! (`GET /api/v1/meetings/{id}.ics`), minutes with attendance and decisions
//! recorded once the meeting has started.

use crate::access::{check, check_place};
use crate::i18n::Lang;
use crate::matters::api::visible;
use crate::problem::{ApiError, ApiJson};
use crate::session::CurrentUser;
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use gongzhi_domain::deliberation::MeetingKind;
use gongzhi_domain::ical;
use gongzhi_domain::policy::Action;
use gongzhi_store::meetings::{self, MeetingView, NewMeeting, Participant};
use gongzhi_store::register::Place;
use gongzhi_store::{db, matters};
use serde::Deserialize;
use serde_json::{json, Value};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_meeting))
        .routes(routes!(get_meeting))
        .routes(routes!(place_meetings))
        .routes(routes!(matter_meetings))
        .routes(routes!(record_minutes))
}

#[derive(Deserialize, ToSchema, Clone)]
pub struct NewMeetingBody {
    /// The place it is over (or give `matter_id`: the matter's place).
    pub place_id: Option<String>,
    pub matter_id: Option<String>,
    /// `topic`, `four_party` or `owners_assembly`.
    pub kind: String,
    pub title: String,
    #[serde(default)]
    pub location: String,
    pub agenda: Vec<String>,
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    pub participants: Vec<Participant>,
    /// ms since the epoch.
    pub starts_at: i64,
    pub ends_at: i64,
}

/// Announce a meeting (now): those who deliberate over the place; an owners' assembly at least 15 days ahead.
#[utoipa::path(post, path = "/api/v1/meetings", tag = "meetings", request_body = NewMeetingBody,
    responses((status = 201, description = "announced"), (status = 403, description = "may not convene here"), (status = 422, description = "invalid field, e.g. an owners' assembly less than 15 days ahead")))]
async fn create_meeting(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiJson(body): ApiJson<NewMeetingBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let m = announce(&state, &user, body).await?;
    Ok((StatusCode::CREATED, Json(json!(m))))
}

/// Announces a meeting for the caller (shared with the matter page).
pub async fn announce(
    state: &AppState,
    user: &CurrentUser,
    body: NewMeetingBody,
) -> Result<MeetingView, ApiError> {
    let kind = MeetingKind::parse(body.kind.trim())
        .ok_or_else(|| ApiError::field("kind", format!("unknown meeting kind '{}'", body.kind)))?;
    let place = match (&body.matter_id, &body.place_id) {
        (Some(mid), _) => visible(state, user, mid).await?.1,
        (None, Some(pid)) => check(state, user, pid, Action::ReadStructure).await?.0,
        (None, None) => {
            return Err(ApiError::field(
                "place_id",
                "give a place_id or a matter_id",
            ))
        }
    };
    check_place(user, &place, Action::Deliberate)?;
    let actor = user.audit_name();
    Ok(state
        .db
        .write(move |tx| {
            let (actor, place, b) = (actor.clone(), place.clone(), body.clone());
            Box::pin(async move {
                let now = db::now_ms();
                meetings::create_meeting(
                    tx,
                    NewMeeting {
                        actor: &actor,
                        place: &place,
                        matter_id: b.matter_id.as_deref(),
                        kind,
                        title: &b.title,
                        location: &b.location,
                        agenda: &b.agenda,
                        participants: &b.participants,
                        starts_at: b.starts_at,
                        ends_at: b.ends_at,
                        announced_at: now,
                        now,
                    },
                )
                .await
            })
        })
        .await?)
}

/// The meeting if the caller sees its place.
pub async fn meeting_visible(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
) -> Result<(MeetingView, Place), ApiError> {
    let m = meetings::get_meeting(&state.db, id)
        .await
        .map_err(crate::problem::or_not_found(format!(
            "meeting '{id}' not found"
        )))?;
    let (place, _) = check(state, user, &m.place_id, Action::ReadStructure)
        .await
        .map_err(crate::problem::hidden_as_not_found(format!(
            "meeting '{id}' not found"
        )))?;
    Ok((m, place))
}

fn kind_key(k: MeetingKind) -> String {
    format!("meeting.kind.{}", k.as_str())
}

/// The meeting as one iCalendar VEVENT (times in UTC).
pub fn to_ics(m: &MeetingView, matter_title: Option<&str>, now: i64) -> String {
    let lang = Lang::ZhCn;
    let mut d = format!(
        "{}：{}\n",
        lang.t("meeting.kind"),
        lang.t(&kind_key(m.kind))
    );
    if let Some(t) = matter_title {
        d.push_str(&format!("{}：{t}\n", lang.t("matters.title")));
    }
    d.push_str(&format!("{}：\n", lang.t("meeting.agenda")));
    for (i, a) in m.agenda.iter().enumerate() {
        d.push_str(&format!("{}. {a}\n", i + 1));
    }
    if !m.participants.is_empty() {
        let ps: Vec<String> = m
            .participants
            .iter()
            .map(|p| {
                if p.role.is_empty() {
                    p.name.clone()
                } else {
                    format!("{}（{}）", p.name, p.role)
                }
            })
            .collect();
        d.push_str(&format!(
            "{}：{}",
            lang.t("meeting.participants"),
            ps.join("、")
        ));
    }
    ical::calendar(&[ical::Event {
        uid: format!("meeting-{}@gongzhi", m.id),
        dtstamp: now,
        start: m.starts_at,
        end: m.ends_at,
        summary: m.title.clone(),
        location: m.location.clone(),
        description: d.trim_end().to_string(),
        categories: vec![m.kind.as_str().replace('_', "-").to_uppercase()],
    }])
}

/// A meeting with its current minutes; `{id}.ics` gives it as iCalendar (RFC 5545).
#[utoipa::path(get, path = "/api/v1/meetings/{id}", tag = "meetings", params(("id" = String, Path, description = "meeting id, or id.ics for iCalendar")),
    responses((status = 200, description = "the meeting (JSON), or text/calendar for id.ics")))]
async fn get_meeting(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(file): Path<String>,
) -> Result<Response, ApiError> {
    let (id, ics) = match file.strip_suffix(".ics") {
        Some(id) => (id.to_string(), true),
        None => (file, false),
    };
    let (m, _) = meeting_visible(&state, &user, &id).await?;
    if !ics {
        return Ok(Json(json!(m)).into_response());
    }
    let matter_title = match &m.matter_id {
        Some(mid) => Some(matters::get_matter(&state.db, mid).await?.title),
        None => None,
    };
    let body = to_ics(&m, matter_title.as_deref(), db::now_ms());
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "text/calendar; charset=utf-8".to_string(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"meeting-{id}.ics\""),
            ),
        ],
        body,
    )
        .into_response())
}

/// Meetings over a place and below it.
#[utoipa::path(get, path = "/api/v1/places/{id}/meetings", tag = "meetings", params(("id" = String, Path, description = "place id")), responses((status = 200, description = "meetings")))]
async fn place_meetings(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let (place, _) = check(&state, &user, &id, Action::ReadStructure).await?;
    Ok(Json(
        json!({"meetings": meetings::meetings_under(&state.db, &place).await?}),
    ))
}

/// Meetings on a matter.
#[utoipa::path(get, path = "/api/v1/matters/{id}/meetings", tag = "meetings", params(("id" = String, Path, description = "matter id")), responses((status = 200, description = "meetings")))]
async fn matter_meetings(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    visible(&state, &user, &id).await?;
    Ok(Json(
        json!({"meetings": meetings::meetings_of_matter(&state.db, &id).await?}),
    ))
}

#[derive(Deserialize, ToSchema, Clone)]
pub struct MinutesBody {
    pub minutes: String,
    /// Indices into the meeting's participants of those present.
    #[serde(default)]
    pub attended: Vec<usize>,
    #[serde(default)]
    pub decisions: Vec<String>,
}

/// Record the minutes (with attendance and decisions) of a meeting that has started; new minutes replace the earlier as current.
#[utoipa::path(post, path = "/api/v1/meetings/{id}/minutes", tag = "meetings", params(("id" = String, Path, description = "meeting id")), request_body = MinutesBody,
    responses((status = 201, description = "recorded"), (status = 403, description = "may not deliberate here"), (status = 409, description = "not started yet"), (status = 422, description = "invalid field")))]
async fn record_minutes(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<MinutesBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let m = minutes(&state, &user, &id, body).await?;
    Ok((StatusCode::CREATED, Json(json!(m))))
}

/// Records minutes for the caller (shared with the meeting page).
pub async fn minutes(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
    body: MinutesBody,
) -> Result<meetings::Minutes, ApiError> {
    let (_, place) = meeting_visible(state, user, id).await?;
    check_place(user, &place, Action::Deliberate)?;
    let (actor, id) = (user.audit_name(), id.to_string());
    Ok(state
        .db
        .write(move |tx| {
            let (actor, id, b) = (actor.clone(), id.clone(), body.clone());
            Box::pin(async move {
                meetings::record_minutes(
                    tx,
                    &actor,
                    &id,
                    &b.minutes,
                    &b.attended,
                    &b.decisions,
                    db::now_ms(),
                )
                .await
            })
        })
        .await?)
}
