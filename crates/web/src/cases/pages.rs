//! Case pages: a resident reports a problem and follows its timeline; a
//! worker or steward works the queue and moves cases on; the reporter
//! verifies, rates and (if dissatisfied) reopens. Plain forms, no script.
//! Same gate as the API: [`crate::access`] and [`crate::cases::gate::load`].

use super::gate::{act_now, calendar, load};
use crate::access::check_place;
use crate::i18n::Lang;
use crate::problem::ApiError;
use crate::session::{CurrentUser, MaybeUser};
use crate::AppState;
use askama::Template;
use axum::extract::{Form, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use gongzhi_domain::cases::{format_iso, Category, Channel, Command, Priority, Status};
use gongzhi_domain::policy::Action;
use gongzhi_store::cases::{self, Extra, NewCase};
use gongzhi_store::{db, register};
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/cases", get(my_cases))
        .route("/cases/new", get(new_form).post(new_submit))
        .route("/cases/{id}", get(case_page))
        .route("/cases/{id}/act", post(act_submit))
        .route("/cases/{id}/rate", post(rate_submit))
        .route("/places/{id}/queue", get(queue_page))
}

fn render<T: Template>(t: &T) -> Response {
    crate::page::render(t, StatusCode::OK, None)
}

#[derive(Template)]
#[template(
    source = "{% extends \"base.html\" %}{% block title %}{{ status }}{% endblock %}{% block content %}<h1>{{ status }}</h1><p class=\"muted\" id=\"error\">{{ detail }}</p><p><a href=\"/cases\">{{ lang.t(\"cases.mine\") }}</a></p>{% endblock %}",
    ext = "html"
)]
struct ErrorPage {
    lang: Lang,
    logged_in: bool,
    status: u16,
    detail: String,
}

fn error(e: ApiError, lang: Lang) -> Response {
    let status = e.status;
    (
        status,
        render(&ErrorPage {
            lang,
            logged_in: true,
            status: status.as_u16(),
            detail: e.detail,
        }),
    )
        .into_response()
}

pub(crate) fn when(ms: i64) -> String {
    format_iso(ms)[..16].replace('T', " ")
}

pub struct Row {
    id: String,
    when: String,
    category_key: String,
    status_key: String,
    place: String,
    text: String,
    overdue: bool,
}

fn row(c: &cases::CaseView, due: bool) -> Row {
    let text: String = c.description.chars().take(40).collect();
    Row {
        id: c.id.clone(),
        when: when(if due { c.resolution_due } else { c.reported_at }),
        category_key: format!("cat.{}", c.category),
        status_key: format!("st.{}", c.status),
        place: c.place_name.clone(),
        text,
        overdue: c.overdue,
    }
}

#[derive(Template)]
#[template(path = "cases.html")]
struct CasesPage {
    lang: Lang,
    logged_in: bool,
    cases: Vec<Row>,
    queues: Vec<(String, String)>,
    unread: i64,
}

async fn my_cases(
    State(state): State<AppState>,
    MaybeUser(user): MaybeUser,
    headers: HeaderMap,
) -> Response {
    let lang = Lang::from_request(None, &headers);
    let Some(user) = user else {
        return Redirect::to("/login").into_response();
    };
    let list = match cases::mine(&state.db, &user.user_id, 200).await {
        Ok(l) => l,
        Err(e) => return error(e.into(), lang),
    };
    let mut queues = Vec::new();
    for g in &user.actor.grants {
        if let Some(pid) = g.scope.last() {
            if let Ok(p) = register::get_place(&state.db, pid).await {
                if check_place(&user, &p, Action::ReadCases).is_ok()
                    && !queues.iter().any(|(id, _): &(String, String)| id == &p.id)
                {
                    queues.push((p.id.clone(), p.name.clone()));
                }
            }
        }
    }
    render(&CasesPage {
        lang,
        logged_in: true,
        cases: list.iter().map(|c| row(c, false)).collect(),
        queues,
        unread: gongzhi_store::notify::unread(&state.db, &user.user_id)
            .await
            .unwrap_or(0),
    })
}

#[derive(Template)]
#[template(path = "case_new.html")]
struct NewPage {
    lang: Lang,
    logged_in: bool,
    places: Vec<(String, String)>,
    categories: Vec<(String, String)>,
}

/// The compounds (and their buildings) where the user may raise cases.
async fn raise_places(state: &AppState, user: &CurrentUser) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for g in &user.actor.grants {
        let Some(pid) = g.scope.last() else { continue };
        let Ok(p) = register::get_place(&state.db, pid).await else {
            continue;
        };
        if p.kind != "compound"
            || check_place(user, &p, Action::RaiseCase).is_err()
            || out.iter().any(|(id, _)| id == &p.id)
        {
            continue;
        }
        out.push((p.id.clone(), p.name.clone()));
        if let Ok(kids) = register::children(&state.db, Some(&p)).await {
            for k in kids {
                out.push((k.id, format!("{} {}", p.name, k.name)));
            }
        }
    }
    out
}

async fn new_form(
    State(state): State<AppState>,
    MaybeUser(user): MaybeUser,
    headers: HeaderMap,
) -> Response {
    let lang = Lang::from_request(None, &headers);
    let Some(user) = user else {
        return Redirect::to("/login").into_response();
    };
    let places = raise_places(&state, &user).await;
    if places.is_empty() {
        return error(
            ApiError::forbidden("you may raise cases only about a compound you live or work in"),
            lang,
        );
    }
    let categories = Category::ALL
        .iter()
        .map(|c| (c.as_str().to_string(), format!("cat.{c}")))
        .collect();
    render(&NewPage {
        lang,
        logged_in: true,
        places,
        categories,
    })
}

#[derive(Deserialize)]
pub struct NewForm {
    place_id: String,
    category: String,
    description: String,
}

async fn new_submit(
    State(state): State<AppState>,
    MaybeUser(user): MaybeUser,
    headers: HeaderMap,
    Form(f): Form<NewForm>,
) -> Response {
    let lang = Lang::from_request(None, &headers);
    let Some(user) = user else {
        return Redirect::to("/login").into_response();
    };
    let Some(category) = Category::parse(&f.category) else {
        return error(
            ApiError::field("category", format!("unknown category '{}'", f.category)),
            lang,
        );
    };
    let place = match register::get_place(&state.db, &f.place_id).await {
        Ok(p) if check_place(&user, &p, Action::RaiseCase).is_ok() => p,
        _ => {
            return error(
                ApiError::field("place_id", "not a place in your compound"),
                lang,
            )
        }
    };
    let nc = NewCase {
        place,
        part_id: None,
        category,
        priority: Priority::Normal,
        description: f.description,
        address: None,
        lat: None,
        lon: None,
        channel: Channel::Web,
        reporter_user_id: Some(user.user_id.clone()),
        reporter_name: None,
        reporter_phone: None,
        consent_publish: false,
        raised_by: user.audit_name(),
    };
    match cases::raise(&state.db, &nc, calendar(), db::now_ms()).await {
        Ok(id) => Redirect::to(&format!("/cases/{id}")).into_response(),
        Err(e) => error(e.into(), lang),
    }
}

#[derive(Template)]
#[template(path = "case.html")]
struct CasePage {
    lang: Lang,
    logged_in: bool,
    id: String,
    category_key: String,
    status: String,
    status_key: String,
    overdue: bool,
    description: String,
    place: String,
    org_key: String,
    due: String,
    rating: Option<i64>,
    actions: Vec<(String, String)>,
    can_rate: bool,
    timeline: Vec<(String, String, String, String)>,
    mediation: Option<MediationBox>,
}

/// A mediation as the case page shows it (parties masked by the store).
struct MediationBox {
    /// (masked name, side key)
    parties: Vec<(String, String)>,
    mediators: Vec<String>,
    /// (when, place, attendees, notes)
    sessions: Vec<(String, String, String, String)>,
    /// (outcome key, text, referred to)
    outcome: Option<(String, String, String)>,
}

fn mediation_box(m: gongzhi_store::mediation::MediationView) -> MediationBox {
    MediationBox {
        parties: m
            .parties
            .into_iter()
            .map(|p| (p.name, format!("med.side.{}", p.side)))
            .collect(),
        mediators: m.mediators.into_iter().map(|o| o.name).collect(),
        sessions: m
            .sessions
            .into_iter()
            .map(|s| (when(s.held_at), s.place, s.attendees.join("、"), s.notes))
            .collect(),
        outcome: m.outcome.map(|o| {
            (
                format!("med.{}", o.kind),
                o.text.unwrap_or_default(),
                o.referred_to.unwrap_or_default(),
            )
        }),
    }
}

async fn case_page(
    State(state): State<AppState>,
    MaybeUser(user): MaybeUser,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let lang = Lang::from_request(None, &headers);
    let Some(user) = user else {
        return Redirect::to("/login").into_response();
    };
    let (c, st) = match load(&state, &user, &id).await {
        Ok(x) => x,
        Err(e) => return error(e, lang),
    };
    let tl = cases::timeline(&state.db, &id).await.unwrap_or_default();
    let mediation = gongzhi_store::mediation::get(&state.db, &id)
        .await
        .ok()
        .flatten()
        .map(mediation_box);
    let status = c.status();
    // Offer only what the state machine and the caller's standing allow.
    let mut actions = Vec::new();
    let mut offer = |a: &str, ok: bool| {
        if ok {
            actions.push((a.to_string(), format!("act.{a}")));
        }
    };
    offer("accept", st.handler && status == Status::Reported);
    offer(
        "assign",
        st.handler && matches!(status, Status::Accepted | Status::InProgress),
    );
    offer("start", st.handler && status == Status::Assigned);
    offer(
        "resolve",
        st.handler && matches!(status, Status::Assigned | Status::InProgress),
    );
    offer(
        "verify",
        (st.verifier || st.reporter) && status == Status::Resolved,
    );
    offer("close", st.handler && status == Status::Verified);
    offer(
        "reopen",
        (st.handler || st.reporter)
            && matches!(status, Status::Resolved | Status::Verified | Status::Closed)
            && c.rating.is_none_or(|r| r <= 2),
    );
    offer(
        "reject",
        st.handler && matches!(status, Status::Reported | Status::Accepted),
    );
    offer("escalate", st.escalator && status.is_open());
    render(&CasePage {
        lang,
        logged_in: true,
        id: c.id.clone(),
        category_key: format!("cat.{}", c.category),
        status: c.status.clone(),
        status_key: format!("st.{}", c.status),
        overdue: c.overdue,
        description: c.description.clone(),
        place: c.place_name.clone(),
        org_key: format!("org.{}", c.org_kind),
        due: when(c.resolution_due),
        rating: c.rating,
        actions,
        can_rate: st.reporter && status == Status::Closed && c.rating.is_none(),
        timeline: tl
            .iter()
            .map(|e| {
                (
                    e.kind.clone(),
                    when(e.at),
                    format!("ev.{}", e.kind),
                    e.note.clone().unwrap_or_default(),
                )
            })
            .collect(),
        mediation,
    })
}

#[derive(Deserialize)]
pub struct ActForm {
    action: String,
    note: Option<String>,
}

async fn act_submit(
    State(state): State<AppState>,
    MaybeUser(user): MaybeUser,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<ActForm>,
) -> Response {
    let lang = Lang::from_request(None, &headers);
    let Some(user) = user else {
        return Redirect::to("/login").into_response();
    };
    let (_, st) = match load(&state, &user, &id).await {
        Ok(x) => x,
        Err(e) => return error(e, lang),
    };
    let note = f.note.filter(|n| !n.trim().is_empty());
    let cmd = match f.action.as_str() {
        "accept" => Command::Accept,
        "reject" => Command::Reject {
            reason: note.clone().unwrap_or_default(),
        },
        "assign" => Command::Assign,
        "start" => Command::Start,
        "resolve" => Command::Resolve,
        "verify" => Command::Verify,
        "close" => Command::Close,
        "reopen" => Command::Reopen,
        "escalate" => Command::Escalate,
        other => {
            return error(
                ApiError::field("action", format!("unknown action '{other}'")),
                lang,
            )
        }
    };
    if !st.may(&cmd) {
        return error(
            ApiError::forbidden(format!("you may not {} this case", f.action)),
            lang,
        );
    }
    let (actor, extra) = (
        user.audit_name(),
        Extra {
            note,
            ..Default::default()
        },
    );
    let r = act_now(&state, &id, &actor, &cmd, &extra).await;
    match r {
        Ok(_) => Redirect::to(&format!("/cases/{id}")).into_response(),
        Err(e) => error(e.into(), lang),
    }
}

#[derive(Deserialize)]
pub struct RateForm {
    stars: u8,
    comment: Option<String>,
}

async fn rate_submit(
    State(state): State<AppState>,
    MaybeUser(user): MaybeUser,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<RateForm>,
) -> Response {
    let lang = Lang::from_request(None, &headers);
    let Some(user) = user else {
        return Redirect::to("/login").into_response();
    };
    let (_, st) = match load(&state, &user, &id).await {
        Ok(x) => x,
        Err(e) => return error(e, lang),
    };
    if !st.reporter {
        return error(ApiError::forbidden("only the reporter rates a case"), lang);
    }
    let (actor, extra, cmd) = (
        user.audit_name(),
        Extra {
            rating_comment: f.comment.filter(|c| !c.trim().is_empty()),
            ..Default::default()
        },
        Command::Rate { stars: f.stars },
    );
    let r = act_now(&state, &id, &actor, &cmd, &extra).await;
    match r {
        Ok(_) => Redirect::to(&format!("/cases/{id}")).into_response(),
        Err(e) => error(e.into(), lang),
    }
}

#[derive(Template)]
#[template(path = "queue.html")]
struct QueuePage {
    lang: Lang,
    logged_in: bool,
    place: String,
    overdue: usize,
    cases: Vec<Row>,
}

async fn queue_page(
    State(state): State<AppState>,
    MaybeUser(user): MaybeUser,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let lang = Lang::from_request(None, &headers);
    let Some(user) = user else {
        return Redirect::to("/login").into_response();
    };
    let (place, access) = match crate::access::check(&state, &user, &id, Action::ReadCases).await {
        Ok(x) => x,
        Err(e) => return error(e, lang),
    };
    let list = match cases::list_under(
        &state.db,
        &place.path,
        &cases::ListFilter {
            open_only: true,
            grids: crate::access::grids(&access),
            ..Default::default()
        },
        200,
        0,
    )
    .await
    {
        Ok(l) => l,
        Err(e) => return error(e.into(), lang),
    };
    render(&QueuePage {
        lang,
        logged_in: true,
        place: place.name.clone(),
        overdue: list.iter().filter(|c| c.overdue).count(),
        cases: list.iter().map(|c| row(c, true)).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use gongzhi_domain::place::OrgKind;

    #[test]
    fn every_dynamic_key_is_translated() {
        let mut keys: Vec<String> = Vec::new();
        keys.extend(Category::ALL.iter().map(|c| format!("cat.{c}")));
        keys.extend(Status::ALL.iter().map(|s| format!("st.{s}")));
        keys.extend(OrgKind::ALL.iter().map(|o| format!("org.{o}")));
        for e in [
            "reported",
            "accepted",
            "rejected",
            "merged",
            "assigned",
            "started",
            "resolved",
            "verified",
            "closed",
            "reopened",
            "rated",
            "escalated",
            "commented",
            "photo_added",
            "mediation_opened",
            "mediation_session",
            "mediation_concluded",
        ] {
            keys.push(format!("ev.{e}"));
        }
        for a in [
            "accept", "assign", "start", "resolve", "verify", "close", "reopen", "reject",
            "escalate",
        ] {
            keys.push(format!("act.{a}"));
        }
        for o in gongzhi_domain::mediation::OutcomeKind::ALL {
            keys.push(format!("med.{o}"));
        }
        for side in gongzhi_domain::mediation::Side::ALL {
            keys.push(format!("med.side.{side}"));
        }
        for k in keys {
            for l in [Lang::ZhCn, Lang::ZhTw, Lang::En] {
                assert_ne!(l.t(&k), "??", "missing {k}");
            }
        }
    }
}
