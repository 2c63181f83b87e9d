//! The meeting page: kind, time (China Standard Time), place, agenda,
//! participants with attendance, minutes and decisions, the iCalendar link;
//! a minutes form for those who deliberate over the place once it has
//! started. Announcing a meeting on a matter is a form on the matter page.

use crate::i18n::Lang;
use crate::meetings::{announce, meeting_visible, minutes, Announced};
use crate::page::{cst, field_value, lang_of, lines, local_time, page_error, render, LangQuery};
use crate::problem::ApiError;
use crate::session::MaybeUser;
use crate::AppState;
use askama::Template;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use gongzhi_domain::policy::Action;
use gongzhi_store::meetings::Participant;
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/meetings/{id}", get(meeting_page))
        .route("/meetings/{id}/minutes", post(minutes_submit))
        .route("/matters/{id}/meetings", post(announce_submit))
}

#[derive(Template)]
#[template(path = "meeting.html")]
struct MeetingPage {
    lang: Lang,
    logged_in: bool,
    id: String,
    title: String,
    kind_key: String,
    starts: String,
    ends: String,
    announced: String,
    location: String,
    matter: Option<(String, String)>,
    agenda: Vec<String>,
    /// index, name, role, attended
    participants: Vec<(usize, String, String, bool)>,
    has_minutes: bool,
    minutes: String,
    decisions: Vec<String>,
    present: usize,
    can_record: bool,
}

async fn meeting_page(
    State(state): State<AppState>,
    MaybeUser(user): MaybeUser,
    Path(id): Path<String>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    let (lang, set) = lang_of(&q, &headers);
    let Some(user) = user else {
        return Redirect::to("/login").into_response();
    };
    let page = async {
        let (m, place) = meeting_visible(&state, &user, &id).await?;
        let matter = match &m.matter_id {
            Some(mid) => Some((
                mid.clone(),
                gongzhi_store::matters::get_matter(&state.db, mid)
                    .await?
                    .title,
            )),
            None => None,
        };
        let attended: Vec<usize> = m
            .minutes
            .as_ref()
            .map(|x| x.attended.clone())
            .unwrap_or_default();
        let now = gongzhi_store::db::now_ms();
        Ok::<_, ApiError>(MeetingPage {
            lang,
            logged_in: true,
            can_record: now >= m.starts_at
                && crate::access::check_place(&user, &place, Action::Deliberate).is_ok(),
            id: m.id.clone(),
            title: m.title.clone(),
            kind_key: format!("meeting.kind.{}", m.kind.as_str()),
            starts: cst(m.starts_at),
            ends: cst(m.ends_at),
            announced: cst(m.announced_at),
            location: m.location.clone(),
            matter,
            agenda: m.agenda.clone(),
            participants: m
                .participants
                .iter()
                .enumerate()
                .map(|(i, p)| (i, p.name.clone(), p.role.clone(), attended.contains(&i)))
                .collect(),
            has_minutes: m.minutes.is_some(),
            minutes: m
                .minutes
                .as_ref()
                .map(|x| x.minutes.clone())
                .unwrap_or_default(),
            decisions: m
                .minutes
                .as_ref()
                .map(|x| x.decisions.clone())
                .unwrap_or_default(),
            present: attended.len(),
        })
    }
    .await;
    match page {
        Ok(p) => render(&p, StatusCode::OK, set),
        Err(e) => page_error(e, lang),
    }
}

/// Minutes form: `minutes`, `decisions` (one per line), `attended` (repeated participant indices).
async fn minutes_submit(
    State(state): State<AppState>,
    MaybeUser(user): MaybeUser,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let lang = Lang::from_request(None, &headers);
    let Some(user) = user else {
        return Redirect::to("/login").into_response();
    };
    let get = |k: &str| field_value(&fields, k);
    let r = async {
        let attended = fields
            .iter()
            .filter(|(k, _)| k == "attended")
            .map(|(_, v)| {
                v.parse::<usize>()
                    .map_err(|_| ApiError::field("attended", "participant indices"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let decisions = lines(&get("decisions"));
        minutes(&state, &user, &id, &get("minutes"), &attended, &decisions).await
    }
    .await;
    match r {
        Ok(_) => Redirect::to(&format!("/meetings/{id}")).into_response(),
        Err(e) => page_error(e, lang),
    }
}

#[derive(Deserialize)]
pub struct AnnounceForm {
    kind: String,
    title: String,
    #[serde(default)]
    location: String,
    /// `YYYY-MM-DDTHH:MM`, China Standard Time (a datetime-local input).
    starts: String,
    ends: String,
    /// One item per line.
    agenda: String,
    /// One per line: `name` or `name，role` / `name, role`.
    #[serde(default)]
    participants: String,
}

async fn announce_submit(
    State(state): State<AppState>,
    MaybeUser(user): MaybeUser,
    Path(matter_id): Path<String>,
    headers: HeaderMap,
    Form(f): Form<AnnounceForm>,
) -> Response {
    let lang = Lang::from_request(None, &headers);
    let Some(user) = user else {
        return Redirect::to("/login").into_response();
    };
    let r = async {
        let participants: Vec<Participant> = lines(&f.participants)
            .into_iter()
            .map(|l| {
                let (name, role) = l
                    .split_once(['，', ','])
                    .map(|(n, r)| (n.trim().to_string(), r.trim().to_string()))
                    .unwrap_or((l.clone(), String::new()));
                Participant { name, role }
            })
            .collect();
        let (starts_at, ends_at) = (
            local_time("starts_at", &f.starts)?,
            local_time("ends_at", &f.ends)?,
        );
        announce(
            &state,
            &user,
            Some(&matter_id),
            None,
            &f.kind,
            Announced {
                title: &f.title,
                location: &f.location,
                agenda: &lines(&f.agenda),
                participants: &participants,
                starts_at,
                ends_at,
            },
        )
        .await
    }
    .await;
    match r {
        Ok(m) => Redirect::to(&format!("/meetings/{}", m.id)).into_response(),
        Err(e) => page_error(e, lang),
    }
}
