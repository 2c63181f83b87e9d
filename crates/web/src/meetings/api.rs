//! Meetings under `/api/v1`: announced (now) over a place or on a matter by
//! those who deliberate there — an owners' assembly only 15 days or more
//! ahead —, read by anyone who sees the place, exported as iCalendar
//! (`GET /api/v1/meetings/{id}.ics`), minutes with attendance and decisions
//! recorded once the meeting has started.

use super::{announce, meeting_visible, minutes, Announced};
use crate::access::check;
use crate::i18n::Lang;
use crate::matters::visible;
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
use gongzhi_store::meetings::{self, MeetingView, Participant};
use gongzhi_store::{db, matters};
use serde::{Deserialize, Serialize};
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
    responses((status = 201, description = "announced", body = MeetingView), (status = 403, description = "may not convene here"), (status = 422, description = "invalid field, e.g. an owners' assembly less than 15 days ahead")))]
async fn create_meeting(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiJson(body): ApiJson<NewMeetingBody>,
) -> Result<(StatusCode, Json<MeetingView>), ApiError> {
    let m = announce(
        &state,
        &user,
        body.matter_id.as_deref(),
        body.place_id.as_deref(),
        &body.kind,
        Announced {
            title: &body.title,
            location: &body.location,
            agenda: &body.agenda,
            participants: &body.participants,
            starts_at: body.starts_at,
            ends_at: body.ends_at,
        },
    )
    .await?;
    Ok((StatusCode::CREATED, Json(m)))
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
    responses((status = 200, description = "the meeting (JSON), or text/calendar for id.ics", content((MeetingView = "application/json"), (String = "text/calendar")))))]
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
        return Ok(Json(m).into_response());
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

/// Meetings (over a place and below it, or on a matter).
#[derive(Serialize, ToSchema)]
pub struct MeetingList {
    meetings: Vec<MeetingView>,
}

/// Meetings over a place and below it.
#[utoipa::path(get, path = "/api/v1/places/{id}/meetings", tag = "meetings", params(("id" = String, Path, description = "place id")), responses((status = 200, description = "meetings", body = MeetingList)))]
async fn place_meetings(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<MeetingList>, ApiError> {
    let (place, _) = check(&state, &user, &id, Action::ReadStructure).await?;
    Ok(Json(MeetingList {
        meetings: meetings::meetings_under(&state.db, &place).await?,
    }))
}

/// Meetings on a matter.
#[utoipa::path(get, path = "/api/v1/matters/{id}/meetings", tag = "meetings", params(("id" = String, Path, description = "matter id")), responses((status = 200, description = "meetings", body = MeetingList)))]
async fn matter_meetings(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<MeetingList>, ApiError> {
    visible(&state, &user, &id).await?;
    Ok(Json(MeetingList {
        meetings: meetings::meetings_of_matter(&state.db, &id).await?,
    }))
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
    responses((status = 201, description = "recorded", body = meetings::Minutes), (status = 403, description = "may not deliberate here"), (status = 409, description = "not started yet"), (status = 422, description = "invalid field")))]
async fn record_minutes(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<MinutesBody>,
) -> Result<(StatusCode, Json<meetings::Minutes>), ApiError> {
    let m = minutes(
        &state,
        &user,
        &id,
        &body.minutes,
        &body.attended,
        &body.decisions,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(m)))
}
