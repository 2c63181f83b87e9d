//! Meetings: agendas, attendance, minutes, calendars.
pub mod api;
pub mod pages;

use crate::access::{check, check_place};
use crate::matters::visible;
use crate::problem::ApiError;
use crate::session::CurrentUser;
use crate::AppState;
use gongzhi_domain::deliberation::MeetingKind;
use gongzhi_domain::policy::Action;
use gongzhi_store::db;
use gongzhi_store::meetings::{self, MeetingView, NewMeeting, Participant};
use gongzhi_store::register::Place;

// The gates and commands the API and the pages share: each checks access
// here, then calls one store command.

/// The meeting if the caller sees its place (else 404).
pub(crate) async fn meeting_visible(
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

/// What is announced of a meeting ([`announce`]).
pub(crate) struct Announced<'a> {
    pub title: &'a str,
    pub location: &'a str,
    pub agenda: &'a [String],
    pub participants: &'a [Participant],
    pub starts_at: i64,
    pub ends_at: i64,
}

/// Announces a meeting (now) of `kind` over the matter's place, else
/// `place_id`'s, for a caller who deliberates there.
pub(crate) async fn announce(
    state: &AppState,
    user: &CurrentUser,
    matter_id: Option<&str>,
    place_id: Option<&str>,
    kind: &str,
    a: Announced<'_>,
) -> Result<MeetingView, ApiError> {
    let kind = MeetingKind::parse(kind.trim())
        .ok_or_else(|| ApiError::field("kind", format!("unknown meeting kind '{kind}'")))?;
    let place = match (matter_id, place_id) {
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
    let now = db::now_ms();
    Ok(meetings::announce(
        &state.db,
        NewMeeting {
            actor: &user.audit_name(),
            place: &place,
            matter_id,
            kind,
            title: a.title,
            location: a.location,
            agenda: a.agenda,
            participants: a.participants,
            starts_at: a.starts_at,
            ends_at: a.ends_at,
            announced_at: now,
            now,
        },
    )
    .await?)
}

/// Records the minutes of a meeting the caller deliberates over.
pub(crate) async fn minutes(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
    text: &str,
    attended: &[usize],
    decisions: &[String],
) -> Result<meetings::Minutes, ApiError> {
    let (_, place) = meeting_visible(state, user, id).await?;
    check_place(user, &place, Action::Deliberate)?;
    Ok(meetings::minutes(
        &state.db,
        &user.audit_name(),
        id,
        text,
        attended,
        decisions,
        db::now_ms(),
    )
    .await?)
}
