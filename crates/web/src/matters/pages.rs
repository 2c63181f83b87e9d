//! Matter pages: the matters over a place, and one matter with its
//! procedure's steps — done (when, by whom, in which role, the result note,
//! the linked vote, the publication), current (who acts, the earliest and
//! latest time it may be done) and upcoming — with an htmx form for someone
//! holding one of the current step's roles over the scope. Same gate as the
//! API ([`crate::matters::api::visible`], [`crate::access`]).

use crate::access::{check, check_place, filter};
use crate::i18n::Lang;
use crate::matters::{
    answer_as, comment, door_record, publish_questionnaire, speaker, take_step, visible,
};
use crate::page::{self, cst, field_value, lang_of, lines, local_time, page_error, LangQuery};
use crate::problem::ApiError;
use crate::session::{CurrentUser, MaybeUser};
use crate::AppState;
use askama::Template;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use gongzhi_domain::deliberation::{Answer, QuestionKind};
use gongzhi_domain::policy::{self, Action, Role};
use gongzhi_domain::procedure::{self, Produces};
use gongzhi_store::deliberation;
use gongzhi_store::matters::{self, MatterView};
use gongzhi_store::{auth, votes};
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/places/{id}/matters", get(list_page))
        .route("/matters/{id}", get(matter_page))
        .route("/matters/{id}/steps", post(step_submit))
        .route("/matters/{id}/comments", post(comment_submit))
        .route("/matters/{id}/door-records", post(door_submit))
        .route("/questionnaires/{id}/answers", post(answer_submit))
        .route("/matters/{id}/questionnaires", post(questionnaire_submit))
}

fn render<T: Template>(t: &T, status: StatusCode) -> Response {
    page::render(t, status, None)
}

/// A meeting in a list: id, title, kind key, when.
fn meeting_row(x: gongzhi_store::meetings::MeetingView) -> (String, String, String, String) {
    (
        x.id,
        x.title,
        format!("meeting.kind.{}", x.kind.as_str()),
        cst(x.starts_at),
    )
}

pub struct MatterRow {
    id: String,
    title: String,
    procedure: String,
    done: usize,
    total: usize,
    current: String,
}

#[derive(Template)]
#[template(path = "matters.html")]
struct ListPage {
    lang: Lang,
    logged_in: bool,
    place_id: String,
    place_name: String,
    matters: Vec<MatterRow>,
    /// Meetings over the place and below: id, title, kind key, when.
    meetings: Vec<(String, String, String, String)>,
}

async fn list_page(
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
        let (place, _) = check(&state, &user, &id, Action::ReadStructure).await?;
        let ms = matters::matters_under(&state.db, &place).await?;
        let meetings = gongzhi_store::meetings::meetings_under(&state.db, &place)
            .await?
            .into_iter()
            .map(meeting_row)
            .collect();
        Ok::<_, ApiError>(ListPage {
            meetings,
            lang,
            logged_in: true,
            place_id: place.id.clone(),
            place_name: place.name.clone(),
            matters: ms
                .into_iter()
                .map(|m| MatterRow {
                    current: m
                        .procedure
                        .steps
                        .get(m.steps.len())
                        .map(|s| s.name.clone())
                        .unwrap_or_else(|| lang.t("matter.complete").into()),
                    id: m.id,
                    title: m.title,
                    procedure: m.procedure.name,
                    done: m.steps.len(),
                    total: m.procedure.steps.len(),
                })
                .collect(),
        })
    }
    .await;
    match page {
        Ok(p) => page::render(&p, StatusCode::OK, set),
        Err(e) => page_error(e, lang),
    }
}

/// A vote linked to a step.
pub struct LinkedVote {
    id: String,
    title: String,
    status_key: String,
    /// "vote.passed" / "vote.failed" once closed, else empty.
    result_key: String,
}

pub struct StepRow {
    n: usize,
    key: String,
    name: String,
    /// "done", "current" or "upcoming".
    state: &'static str,
    state_key: String,
    roles: String,
    produces_key: String,
    limits: Vec<String>,
    done_at: String,
    actor: String,
    role_key: String,
    note: String,
    publication: bool,
    vote: Option<LinkedVote>,
    /// id, name, first 12 hex digits of the SHA-256
    documents: Vec<(String, String, String)>,
    earliest: String,
    latest: String,
}

/// The steps section (also the htmx response of the step form).
#[derive(Template)]
#[template(path = "matter_steps.html")]
pub struct StepsSection {
    lang: Lang,
    id: String,
    steps: Vec<StepRow>,
    complete: bool,
    /// The caller may record the current step.
    can_act: bool,
    current_key: String,
    current_is_vote: bool,
    /// Votes in the matter's scope, for a step that produces a vote: (id, title).
    votes: Vec<(String, String)>,
    error: String,
    recorded: bool,
}

#[derive(Template)]
#[template(path = "matter.html")]
struct MatterPage {
    lang: Lang,
    logged_in: bool,
    id: String,
    title: String,
    place_id: String,
    place_name: String,
    procedure: String,
    steps_html: String,
    /// The caller may comment and answer (in the matter's scope).
    can_speak: bool,
    comments: Vec<(String, String, String)>,
    questionnaires: Vec<QRow>,
    /// Door-to-door coverage, for those who may read the register here.
    coverage: Option<CoverageView>,
    can_record: bool,
    today: String,
    /// id, title, kind key, when
    meetings: Vec<(String, String, String, String)>,
    can_convene: bool,
    /// Question slots of the questionnaire form.
    q_slots: Vec<usize>,
}

pub struct QOption {
    idx: usize,
    label: String,
    count: u64,
    mine: bool,
}

pub struct QQuestion {
    n: usize,
    text: String,
    kind: &'static str,
    options: Vec<QOption>,
    texts: Vec<String>,
    my_text: String,
}

pub struct QRow {
    id: String,
    title: String,
    open: bool,
    closes: String,
    respondents: i64,
    answered: bool,
    questions: Vec<QQuestion>,
}

pub struct CoverageView {
    households: i64,
    reached: i64,
    not_reached: i64,
    not_reached_parts: Vec<String>,
    /// label, last visit, visits
    reached_parts: Vec<(String, String, i64)>,
    /// part, date, worker, opinion, ballot receipt
    records: Vec<(String, String, String, String, String)>,
    /// (part id, label) for the record form
    parts: Vec<(String, String)>,
}

async fn questionnaire_rows(
    state: &AppState,
    user: &CurrentUser,
    matter_id: &str,
) -> Result<Vec<QRow>, ApiError> {
    let now = gongzhi_store::db::now_ms();
    let mut out = Vec::new();
    for q in deliberation::questionnaires_of(&state.db, matter_id).await? {
        let mine = deliberation::my_answers(&state.db, &q.id, &user.user_id).await?;
        let questions = q
            .questions
            .iter()
            .enumerate()
            .map(|(i, qq)| {
                let my = mine.as_ref().and_then(|m| m.get(i));
                QQuestion {
                    n: i,
                    text: qq.text.clone(),
                    kind: match qq.kind {
                        QuestionKind::Single => "single",
                        QuestionKind::Multiple => "multiple",
                        QuestionKind::Text => "text",
                    },
                    options: qq
                        .options
                        .iter()
                        .enumerate()
                        .map(|(k, label)| QOption {
                            idx: k,
                            label: label.clone(),
                            count: q.counts[i].options.get(k).copied().unwrap_or(0),
                            mine: match my {
                                Some(Answer::One(x)) => *x == k,
                                Some(Answer::Many(xs)) => xs.contains(&k),
                                _ => false,
                            },
                        })
                        .collect(),
                    texts: q.texts[i].clone(),
                    my_text: match my {
                        Some(Answer::Text(t)) => t.clone(),
                        _ => String::new(),
                    },
                }
            })
            .collect();
        out.push(QRow {
            open: q.is_open(now),
            closes: cst(q.closed_at.unwrap_or(q.closes_at)),
            respondents: q.respondents,
            answered: mine.is_some(),
            id: q.id,
            title: q.title,
            questions,
        });
    }
    Ok(out)
}

async fn coverage_view(
    state: &AppState,
    m: &MatterView,
    access: &policy::Access,
) -> Result<CoverageView, ApiError> {
    let f = filter(access);
    let c = deliberation::coverage(&state.db, m, &f).await?;
    let records = deliberation::door_records_of(&state.db, &m.id, &f).await?;
    let mut parts: Vec<(String, String)> = c
        .not_reached_parts
        .iter()
        .chain(c.reached_parts.iter())
        .map(|p| (p.part_id.clone(), p.part.clone()))
        .collect();
    parts.sort_by(|a, b| gongzhi_store::register::natural_cmp(&a.1, &b.1));
    Ok(CoverageView {
        households: c.households,
        reached: c.reached,
        not_reached: c.not_reached,
        not_reached_parts: c.not_reached_parts.into_iter().map(|p| p.part).collect(),
        reached_parts: c
            .reached_parts
            .into_iter()
            .map(|p| (p.part, p.last_visit.unwrap_or_default(), p.visits))
            .collect(),
        records: records
            .into_iter()
            .map(|r| {
                (
                    r.part,
                    r.visited_on,
                    r.worker,
                    r.opinion,
                    r.ballot_receipt.unwrap_or_default(),
                )
            })
            .collect(),
        parts,
    })
}

async fn actor_name(state: &AppState, actor: &str) -> String {
    match actor.strip_prefix("user:") {
        Some(id) => auth::get_user(&state.db, id)
            .await
            .map(|u| u.username)
            .unwrap_or_else(|_| actor.to_string()),
        None => actor.to_string(),
    }
}

fn role_keys(roles: &[Role], lang: Lang) -> String {
    roles
        .iter()
        .map(|r| lang.t(&format!("role.{}", r.as_str())))
        .collect::<Vec<_>>()
        .join("、")
}

fn produces_key(p: Produces) -> &'static str {
    match p {
        Produces::Note => "produces.note",
        Produces::Document => "produces.document",
        Produces::Meeting => "produces.meeting",
        Produces::Vote => "produces.vote",
        Produces::Publication => "produces.publication",
    }
}

pub async fn steps_section(
    state: &AppState,
    user: &CurrentUser,
    m: &MatterView,
    lang: Lang,
) -> Result<StepsSection, ApiError> {
    let place = gongzhi_store::register::get_place(&state.db, &m.place_id).await?;
    let held = policy::roles_over(&user.actor, &place.path_ids());
    let done_at: Vec<i64> = m.steps.iter().map(|s| s.at).collect();
    let window = procedure::window(&m.procedure, &done_at);
    let docs = deliberation::documents_of(&state.db, &m.id).await?;
    let mut rows = Vec::with_capacity(m.procedure.steps.len());
    for (i, s) in m.procedure.steps.iter().enumerate() {
        let mut limits = Vec::new();
        if let Some(d) = s.min_days_after_previous {
            limits.push(lang.t("matter.min_days").replace("{n}", &d.to_string()));
        }
        if let Some(d) = s.max_days_after_previous {
            limits.push(lang.t("matter.max_days").replace("{n}", &d.to_string()));
        }
        let mut row = StepRow {
            n: i + 1,
            key: s.key.clone(),
            name: s.name.clone(),
            state: "upcoming",
            state_key: String::new(),
            roles: role_keys(&s.roles, lang),
            produces_key: produces_key(s.produces).into(),
            limits,
            done_at: String::new(),
            actor: String::new(),
            role_key: String::new(),
            note: String::new(),
            publication: s.produces == Produces::Publication,
            vote: None,
            documents: docs
                .iter()
                .filter(|d| d.step_idx == i as i64)
                .map(|d| (d.id.clone(), d.name.clone(), d.sha256[..12].to_string()))
                .collect(),
            earliest: String::new(),
            latest: String::new(),
        };
        if let Some(d) = m.steps.get(i) {
            row.state = "done";
            row.done_at = cst(d.at);
            row.actor = actor_name(state, &d.actor).await;
            row.role_key = format!("role.{}", d.role);
            row.note = d.note.clone();
            if let Some(vid) = &d.vote_id {
                let v = votes::get_vote(&state.db, vid).await?;
                row.vote = Some(LinkedVote {
                    result_key: match v.result.as_ref().map(|r| r["passed"] == true) {
                        Some(true) => "vote.passed".into(),
                        Some(false) => "vote.failed".into(),
                        None => String::new(),
                    },
                    status_key: format!("vote.status.{}", v.status),
                    id: v.id,
                    title: v.title,
                });
            }
        } else if window.is_some_and(|w| w.index == i) {
            let w = window.expect("checked");
            row.state = "current";
            row.earliest = w.earliest.map(cst).unwrap_or_default();
            row.latest = w.latest.map(cst).unwrap_or_default();
        }
        row.state_key = format!("matter.step.{}", row.state);
        rows.push(row);
    }
    let current = window.map(|w| &m.procedure.steps[w.index]);
    let can_act = current.is_some_and(|s| {
        held.iter()
            .any(|r| *r == Role::Admin || s.roles.contains(r))
    });
    let current_is_vote = current.is_some_and(|s| s.produces == Produces::Vote);
    let mut vote_opts = Vec::new();
    if can_act && current_is_vote {
        vote_opts = votes::votes_under(&state.db, &place)
            .await?
            .into_iter()
            .map(|v| (v.id, v.title))
            .collect();
    }
    Ok(StepsSection {
        lang,
        id: m.id.clone(),
        steps: rows,
        complete: current.is_none(),
        can_act,
        current_key: current.map(|s| s.key.clone()).unwrap_or_default(),
        current_is_vote,
        votes: vote_opts,
        error: String::new(),
        recorded: false,
    })
}

async fn matter_page(
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
        let (m, place) = visible(&state, &user, &id).await?;
        let steps = steps_section(&state, &user, &m, lang).await?;
        let can_speak = deliberation::may_speak(
            &state.db,
            &speaker(&state, &user, &place).await,
            &place.path,
        )
        .await
        .unwrap_or(false);
        let comments = deliberation::comments_of(&state.db, &m.id)
            .await?
            .into_iter()
            .map(|c| (c.author, cst(c.at), c.body))
            .collect();
        let questionnaires = questionnaire_rows(&state, &user, &m.id).await?;
        let coverage = match check_place(&user, &place, Action::ReadRegister) {
            Ok(access) => Some(coverage_view(&state, &m, &access).await?),
            Err(_) => None,
        };
        let can_record = check_place(&user, &place, Action::RecordBallots).is_ok();
        let meetings = gongzhi_store::meetings::meetings_of_matter(&state.db, &m.id)
            .await?
            .into_iter()
            .map(meeting_row)
            .collect();
        let can_convene = check_place(&user, &place, Action::Deliberate).is_ok();
        Ok::<_, ApiError>(MatterPage {
            q_slots: (0..5).collect(),
            meetings,
            can_convene,
            can_speak,
            comments,
            questionnaires,
            coverage,
            can_record,
            today: cst(gongzhi_store::db::now_ms())[..10].to_string(),
            lang,
            logged_in: true,
            id: m.id.clone(),
            title: m.title.clone(),
            place_id: place.id.clone(),
            place_name: place.name.clone(),
            procedure: m.procedure.name.clone(),
            steps_html: steps.render().map_err(|e| {
                tracing::error!(error = %e, "template failed");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Internal error",
                    "template error",
                )
            })?,
        })
    }
    .await;
    match page {
        Ok(p) => page::render(&p, StatusCode::OK, set),
        Err(e) => page_error(e, lang),
    }
}

#[derive(Deserialize)]
pub struct StepForm {
    step: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    vote_id: String,
}

/// The step form: with htmx (`HX-Request`) the steps section comes back,
/// with the refusal in it if any; without, a redirect to the matter page.
async fn step_submit(
    State(state): State<AppState>,
    MaybeUser(user): MaybeUser,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(f): Form<StepForm>,
) -> Response {
    let lang = Lang::from_request(None, &headers);
    let Some(user) = user else {
        return Redirect::to("/login").into_response();
    };
    let vote = Some(f.vote_id.trim().to_string()).filter(|v| !v.is_empty());
    let result = take_step(&state, &user, &id, f.step, f.note, vote).await;
    if headers.get("hx-request").is_none() {
        return match result {
            Ok(_) => Redirect::to(&format!("/matters/{id}")).into_response(),
            Err(e) => page_error(e, lang),
        };
    }
    let section = async {
        let (m, _) = visible(&state, &user, &id).await?;
        steps_section(&state, &user, &m, lang).await
    }
    .await;
    match section {
        Ok(mut s) => {
            match result {
                Ok(_) => s.recorded = true,
                Err(e) => s.error = e.detail,
            }
            render(&s, StatusCode::OK)
        }
        Err(e) => page_error(e, lang),
    }
}

/// Back to the matter page at `anchor`, or the error page.
fn back<T>(r: Result<T, ApiError>, id: &str, anchor: &str, lang: Lang) -> Response {
    match r {
        Ok(_) => Redirect::to(&format!("/matters/{id}#{anchor}")).into_response(),
        Err(e) => page_error(e, lang),
    }
}

#[derive(Deserialize)]
pub struct CommentForm {
    body: String,
}

async fn comment_submit(
    State(state): State<AppState>,
    MaybeUser(user): MaybeUser,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(f): Form<CommentForm>,
) -> Response {
    let lang = Lang::from_request(None, &headers);
    let Some(user) = user else {
        return Redirect::to("/login").into_response();
    };
    let r = comment(&state, &user, &id, &f.body).await;
    back(r, &id, "comments", lang)
}

#[derive(Deserialize)]
pub struct DoorForm {
    part_id: String,
    visited_on: String,
    opinion: String,
}

async fn door_submit(
    State(state): State<AppState>,
    MaybeUser(user): MaybeUser,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(f): Form<DoorForm>,
) -> Response {
    let lang = Lang::from_request(None, &headers);
    let Some(user) = user else {
        return Redirect::to("/login").into_response();
    };
    let visit = deliberation::Visit {
        matter_id: id.clone(),
        part_id: f.part_id,
        visited_on: f.visited_on,
        opinion: f.opinion,
        worker: String::new(),
        recorded_by: String::new(),
        ballot: None,
        now: 0,
    };
    let r = door_record(&state, &user, visit, None).await;
    back(r, &id, "door-to-door", lang)
}

/// The answer form: `q0=1`, `q1=0&q1=2`, `q2=text`, in question order.
async fn answer_submit(
    State(state): State<AppState>,
    MaybeUser(user): MaybeUser,
    Path(qid): Path<String>,
    headers: HeaderMap,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let lang = Lang::from_request(None, &headers);
    let Some(user) = user else {
        return Redirect::to("/login").into_response();
    };
    let r =
        async {
            let q = deliberation::questionnaire(&state.db, &qid).await.map_err(
                crate::problem::or_not_found(format!("questionnaire '{qid}' not found")),
            )?;
            // Nothing about a questionnaire the caller cannot see, not even its shape.
            visible(&state, &user, &q.matter_id).await.map_err(
                crate::problem::hidden_as_not_found(format!("questionnaire '{qid}' not found")),
            )?;
            let mut answers = Vec::with_capacity(q.questions.len());
            for (i, qq) in q.questions.iter().enumerate() {
                let name = format!("q{i}");
                let vals: Vec<&str> = fields
                    .iter()
                    .filter(|(k, _)| *k == name)
                    .map(|(_, v)| v.as_str())
                    .collect();
                let idx = |v: &str| {
                    v.parse::<usize>()
                        .map_err(|_| ApiError::field(format!("answers[{i}]"), "choose an option"))
                };
                answers.push(match qq.kind {
                    QuestionKind::Single => Answer::One(idx(vals.first().copied().unwrap_or(""))?),
                    QuestionKind::Multiple => {
                        Answer::Many(vals.iter().map(|v| idx(v)).collect::<Result<_, _>>()?)
                    }
                    QuestionKind::Text => Answer::Text(vals.first().copied().unwrap_or("").into()),
                });
            }
            answer_as(&state, &user, &qid, &answers).await?;
            Ok::<_, ApiError>(q.matter_id)
        }
        .await;
    match r {
        Ok(mid) => Redirect::to(&format!("/matters/{mid}#questionnaire-{qid}")).into_response(),
        Err(e) => page_error(e, lang),
    }
}

/// The questionnaire form: `title`, `closes` (CST), and up to five questions
/// `q{i}_text`, `q{i}_kind` (single, multiple, text), `q{i}_options` (one per
/// line); a question left without text is skipped.
async fn questionnaire_submit(
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
        let mut questions = Vec::new();
        for i in 0..5 {
            let text = get(&format!("q{i}_text"));
            if text.trim().is_empty() {
                continue;
            }
            let kind = match get(&format!("q{i}_kind")).as_str() {
                "multiple" => QuestionKind::Multiple,
                "text" => QuestionKind::Text,
                _ => QuestionKind::Single,
            };
            let options = if kind == QuestionKind::Text {
                vec![]
            } else {
                lines(&get(&format!("q{i}_options")))
            };
            questions.push(gongzhi_domain::deliberation::Question {
                text,
                kind,
                options,
            });
        }
        let closes_at = local_time("closes_at", &get("closes"))?;
        publish_questionnaire(&state, &user, &id, &get("title"), &questions, closes_at).await
    }
    .await;
    match r {
        Ok(qid) => Redirect::to(&format!("/matters/{id}#questionnaire-{qid}")).into_response(),
        Err(e) => page_error(e, lang),
    }
}
