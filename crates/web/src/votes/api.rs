//! Owners' votes under `/api/v1`: create, open (electorate frozen), cast
//! (online by the owner; paper and proxy recorded by a worker with evidence),
//! live turnout, close (counted by the domain `tally`), the public record in
//! `gongzhi.vote/1` and the public board, cost apportionment.

use super::{cast_own, load, vote_visible, OwnVote};
use crate::access::check;
use crate::problem::{ApiError, ApiJson};
use crate::session::CurrentUser;
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use gongzhi_domain::ballot::{Channel, VoteStatus};
use gongzhi_domain::policy::Action;
use gongzhi_domain::questions::Question;
use gongzhi_domain::vote::{Choice, Rule};
use gongzhi_store::vote_questions;
use gongzhi_store::votes::{self, VoteView};
use gongzhi_store::{auth, db, register};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_vote))
        .routes(routes!(place_votes))
        .routes(routes!(my_votes))
        .routes(routes!(get_vote))
        .routes(routes!(open_vote))
        .routes(routes!(close_vote))
        .routes(routes!(cast_online))
        .routes(routes!(upload_evidence))
        .routes(routes!(get_evidence))
        .routes(routes!(record_ballot))
        .routes(routes!(apportion))
        .routes(routes!(set_setting))
        .routes(routes!(link_owner_account))
        .routes(routes!(public_record))
        .routes(routes!(public_board))
        // Evidence files may be up to 5 MiB (the default limit is 2 MiB).
        .layer(axum::extract::DefaultBodyLimit::max(
            gongzhi_domain::ballot::MAX_EVIDENCE_BYTES + 64 * 1024,
        ))
}

/// The vote if the caller may act on its scope with `action`.
async fn vote_for(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
    action: Action,
) -> Result<(VoteView, register::Place), ApiError> {
    let v = load(state, id).await?;
    let (place, _) = check(state, user, &v.place_id, action).await.map_err(|e| {
        if e.status == StatusCode::NOT_FOUND {
            ApiError::not_found(format!("vote '{id}' not found"))
        } else {
            e
        }
    })?;
    Ok((v, place))
}

/// Votes (of a place and below it, or the caller's).
#[derive(Serialize, ToSchema)]
pub struct VoteList {
    votes: Vec<VoteView>,
}

/// One of the caller's owners in a vote's electorate and their current
/// ballot (all null before they cast one).
#[derive(Serialize, ToSchema)]
pub struct MyBallot {
    owner_id: String,
    #[schema(value_type = Option<String>)]
    choice: Option<Choice>,
    receipt: Option<String>,
    #[schema(value_type = Option<String>)]
    channel: Option<Channel>,
}

/// A vote, its live turnout, and the caller's own ballots.
#[derive(Serialize, ToSchema)]
pub struct VoteAnswer {
    vote: VoteView,
    turnout: votes::Turnout,
    my_ballots: Vec<MyBallot>,
}

/// A closed vote and its tally: the six counts and every condition.
#[derive(Serialize, ToSchema)]
pub struct ClosedVote {
    vote: VoteView,
    #[schema(value_type = Object)]
    result: gongzhi_domain::vote::Tally,
}

/// A cost split across the electorate's parts.
#[derive(Serialize, ToSchema)]
pub struct Apportionment {
    total_fen: i64,
    /// `area` or `equal`.
    by: String,
    tie_break: &'static str,
    shares: Vec<votes::PartShare>,
}

/// The vote as the public board shows it.
#[derive(Serialize, ToSchema)]
pub struct BoardVote {
    id: String,
    title: String,
    #[schema(value_type = String)]
    status: VoteStatus,
    #[schema(value_type = Object)]
    rule: Rule,
    rule_text: String,
    opens_at: i64,
    closes_at: i64,
    /// The tally, once closed.
    result: Option<Value>,
}

/// One page of a vote's public board.
#[derive(Serialize, ToSchema)]
pub struct Board {
    vote: BoardVote,
    turnout: votes::Turnout,
    /// `current` or `all`.
    view: &'static str,
    limit: i64,
    ballots: Vec<votes::BoardRow>,
    /// The cursor of the next page (`after`), null on the last.
    next: Option<String>,
}

#[derive(Deserialize, ToSchema)]
pub struct NewVote {
    /// The question put to the owners.
    title: String,
    /// A building or a compound.
    place_id: String,
    /// `{"kind": "civil_code", "matter": "ordinary"|"special"}` or a custom rule as in `gongzhi.vote/1`.
    #[schema(value_type = Object)]
    rule: Rule,
    /// Window start, ms since the Unix epoch.
    opens_at: i64,
    /// Window end (exclusive), ms since the Unix epoch.
    closes_at: i64,
    /// Any of `online`, `paper`, `proxy`.
    channels: Vec<String>,
    /// A vote with questions (an election: one question, the candidates as options, `seats` the committee
    /// size): `[{"id", "title", "seats", "max_choices", "options": [{"id", "label"}]}]`, as in
    /// `gongzhi.vote/2`. Absent: a yes/no vote.
    #[serde(default)]
    #[schema(value_type = Option<Vec<Object>>)]
    questions: Option<Vec<Question>>,
}

/// Create a vote (draft) over a building or a compound.
#[utoipa::path(post, path = "/api/v1/votes", tag = "votes", request_body = NewVote,
    responses((status = 201, description = "created, in draft", body = VoteView), (status = 403, description = "may not manage votes here"), (status = 422, description = "invalid field")))]
async fn create_vote(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiJson(body): ApiJson<NewVote>,
) -> Result<(StatusCode, Json<VoteView>), ApiError> {
    let channels = gongzhi_domain::ballot::parse_channels(&body.channels)
        .map_err(|e| ApiError::field("channels", e))?;
    let (place, _) = check(&state, &user, &body.place_id, Action::ManageVotes).await?;
    let nv = votes::NewVote {
        title: &body.title,
        place: &place,
        rule: body.rule,
        opens_at: body.opens_at,
        closes_at: body.closes_at,
        channels,
    };
    let v = match body.questions {
        Some(qs) => vote_questions::create(&state.db, &user.audit_name(), nv, qs).await?,
        None => votes::create(&state.db, &user.audit_name(), nv).await?,
    };
    Ok((StatusCode::CREATED, Json(v)))
}

/// Votes over a place and below it.
#[utoipa::path(get, path = "/api/v1/places/{id}/votes", tag = "votes", params(("id" = String, Path, description = "place id")), responses((status = 200, description = "votes", body = VoteList)))]
async fn place_votes(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<VoteList>, ApiError> {
    let (place, _) = check(&state, &user, &id, Action::ReadStructure).await?;
    Ok(Json(VoteList {
        votes: votes::votes_under(&state.db, &place).await?,
    }))
}

/// The votes the caller may cast a ballot in as an owner (their linked owners are in the electorate).
#[utoipa::path(get, path = "/api/v1/me/votes", tag = "votes", responses((status = 200, description = "votes", body = VoteList)))]
async fn my_votes(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Json<VoteList>, ApiError> {
    let mine = auth::owners_of_user(&state.db, &user.user_id).await?;
    Ok(Json(VoteList {
        votes: votes::votes_of_owners(&state.db, &mine).await?,
    }))
}

/// A vote with its live turnout (area and heads) and, for an owner in the electorate, their current ballot.
/// Its ETag changes with every ballot; `If-None-Match` with it answers 304 with no body.
#[utoipa::path(get, path = "/api/v1/votes/{id}", tag = "votes", params(("id" = String, Path, description = "vote id")),
    responses((status = 200, description = "the vote", body = VoteAnswer, headers(("ETag" = String, description = "this answer's version"))), (status = 304, description = "not modified (If-None-Match)"), (status = 404, description = "not found or not visible")))]
async fn get_vote(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (v, mine) = vote_visible(&state, &user, &id).await?;
    let turnout = votes::turnout(&state.db, &id).await?;
    let mut my_ballots = Vec::new();
    for o in &mine {
        let b = votes::current_ballot_of(&state.db, &id, o).await?;
        my_ballots.push(MyBallot {
            owner_id: o.clone(),
            choice: b.as_ref().map(|b| b.choice),
            receipt: b.as_ref().map(|b| b.receipt.clone()),
            channel: b.as_ref().map(|b| b.channel),
        });
    }
    let answer = VoteAnswer {
        vote: v,
        turnout,
        my_ballots,
    };
    let body = serde_json::to_string(&answer).map_err(|e| {
        tracing::error!(error = %e, "vote answer");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Internal error",
            "the vote could not be written",
        )
    })?;
    let tag = etag(&["vote", &user.user_id, &body]);
    let full = ([(header::CONTENT_TYPE, "application/json")], body).into_response();
    Ok(cached(&headers, tag, true, Some(full)))
}

/// Open a draft vote: the electorate (every part in scope, its area, its owner of record) is frozen in the same transaction.
#[utoipa::path(post, path = "/api/v1/votes/{id}/open", tag = "votes", params(("id" = String, Path, description = "vote id")), responses((status = 200, description = "opened", body = VoteView), (status = 409, description = "not a draft")))]
async fn open_vote(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<VoteView>, ApiError> {
    let (v, _) = vote_for(&state, &user, &id, Action::ManageVotes).await?;
    Ok(Json(
        votes::open(&state.db, &user.audit_name(), &v, db::now_ms()).await?,
    ))
}

/// Close an open vote: counted with the domain tally; result and publication appended to the audit trail.
#[utoipa::path(post, path = "/api/v1/votes/{id}/close", tag = "votes", params(("id" = String, Path, description = "vote id")), responses((status = 200, description = "closed, with the result", body = ClosedVote), (status = 409, description = "not open")))]
async fn close_vote(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<ClosedVote>, ApiError> {
    vote_for(&state, &user, &id, Action::ManageVotes).await?;
    let (v, t) = votes::close(&state.db, &user.audit_name(), &id, db::now_ms()).await?;
    Ok(Json(ClosedVote { vote: v, result: t }))
}

/// A ballot's answers to a vote's questions: `{"q1": ["c1", "c4"]}`.
type AnswersBody = BTreeMap<String, Vec<String>>;

/// What a ballot says: `answers` in a vote with questions, else `choice`.
fn own_vote(
    field: &str,
    choice: Option<&str>,
    answers: Option<AnswersBody>,
) -> Result<OwnVote, ApiError> {
    match (choice, answers) {
        (_, Some(a)) => Ok(OwnVote::Answers(a.into_iter().collect())),
        (Some(c), None) => parse_choice(field, c).map(OwnVote::Choice),
        (None, None) => Err(ApiError::field(
            field,
            "a ballot needs a choice (yes, no, abstain) or, in a vote with questions, answers",
        )),
    }
}

#[derive(Deserialize, ToSchema)]
pub struct OnlineBallot {
    /// yes, no or abstain (a yes/no vote)
    #[serde(default)]
    choice: Option<String>,
    /// A vote with questions: for each answered question the chosen option ids, `{"q1": ["c1", "c4"]}`;
    /// at most `max_choices` each; a question left out or answered `[]` is an abstention on it.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    answers: Option<AnswersBody>,
    /// Which of the caller's owners votes; needed only when several of them are in the electorate.
    owner_id: Option<String>,
}

fn parse_choice(field: &str, c: &str) -> Result<Choice, ApiError> {
    Choice::parse(c.trim()).ok_or_else(|| {
        ApiError::field(
            field,
            format!("unknown choice '{c}' (expected yes, no, abstain)"),
        )
    })
}

/// Cast the caller's own ballot online. The caller's account must be linked to an owner in the frozen electorate.
/// A new ballot before close replaces the earlier one as current; both are kept. An owner re-casts at most
/// 3 times a minute (else 429 with Retry-After) and casts at most 20 ballots in a vote (else 422, `owner_id`).
#[utoipa::path(post, path = "/api/v1/votes/{id}/ballots", tag = "votes", params(("id" = String, Path, description = "vote id")), request_body = OnlineBallot,
    responses((status = 201, description = "cast; the receipt code", body = votes::Receipt), (status = 403, description = "not an owner in this vote"), (status = 409, description = "closed, not open or outside the window"),
        (status = 422, description = "invalid field; `owner_id`: the owner has cast the most ballots allowed"), (status = 429, description = "re-cast too often; Retry-After says when to try again")))]
async fn cast_online(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<OnlineBallot>,
) -> Result<(StatusCode, Json<votes::Receipt>), ApiError> {
    let vote = own_vote("choice", body.choice.as_deref(), body.answers)?;
    let r = cast_own(&state, &user, &id, body.owner_id.as_deref(), vote).await?;
    Ok((StatusCode::CREATED, Json(r)))
}

/// Upload an evidence file (the scan of a paper ballot or of a signed proxy) as the raw body with its
/// Content-Type (image/jpeg, image/png, image/webp, application/pdf; at most 5 MiB). Stored with its SHA-256.
#[utoipa::path(post, path = "/api/v1/votes/{id}/evidence", tag = "votes", params(("id" = String, Path, description = "vote id")),
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "the file; Content-Type names its type"),
    responses((status = 201, description = "stored: id, size, sha256", body = votes::EvidenceView), (status = 422, description = "wrong type, empty or too large")))]
async fn upload_evidence(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<votes::EvidenceView>), ApiError> {
    vote_for(&state, &user, &id, Action::RecordBallots).await?;
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let ev = votes::store_evidence(&state.db, &user.audit_name(), &id, &ct, &body).await?;
    Ok((StatusCode::CREATED, Json(ev)))
}

/// Download an evidence file (those who may record or manage ballots in the vote's scope).
#[utoipa::path(get, path = "/api/v1/votes/{id}/evidence/{evidence_id}", tag = "votes", params(("id" = String, Path, description = "vote id"), ("evidence_id" = String, Path, description = "evidence id")), responses((status = 200, description = "the file", content_type = "application/octet-stream", body = Vec<u8>)))]
async fn get_evidence(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((id, evidence_id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    vote_for(&state, &user, &id, Action::RecordBallots).await?;
    let (ev, bytes) = votes::get_evidence(&state.db, &id, &evidence_id).await?;
    Ok((
        [
            (header::CONTENT_TYPE, ev.content_type),
            (
                header::HeaderName::from_static("x-content-sha256"),
                ev.sha256,
            ),
        ],
        bytes,
    )
        .into_response())
}

#[derive(Deserialize, ToSchema)]
pub struct RecordedBallot {
    owner_id: String,
    /// yes, no or abstain (a yes/no vote)
    #[serde(default)]
    choice: Option<String>,
    /// A vote with questions: the answers read off the paper ballot, `{"q1": ["c1", "c4"]}`.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    answers: Option<AnswersBody>,
    /// paper or proxy
    channel: String,
    /// The uploaded scan of the paper ballot, or of the signed proxy authorisation.
    evidence_id: String,
    /// For a proxy: who holds the authorisation.
    proxy_holder: Option<String>,
}

/// Record a paper ballot or a written proxy's ballot, with its evidence file (grid workers, committee, staff in scope).
#[utoipa::path(post, path = "/api/v1/votes/{id}/recorded-ballots", tag = "votes", params(("id" = String, Path, description = "vote id")), request_body = RecordedBallot,
    responses((status = 201, description = "recorded; the receipt code", body = votes::Receipt), (status = 403, description = "may not record ballots here"), (status = 409, description = "closed or outside the window"), (status = 422, description = "invalid field; `owner_id`: the owner has cast the most ballots allowed"),
        (status = 429, description = "this owner's ballot re-cast too often; Retry-After says when to try again")))]
async fn record_ballot(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<RecordedBallot>,
) -> Result<(StatusCode, Json<votes::Receipt>), ApiError> {
    let vote = own_vote("choice", body.choice.as_deref(), body.answers)?;
    let channel = match Channel::parse(&body.channel) {
        Some(c @ (Channel::Paper | Channel::Proxy)) => c,
        _ => {
            return Err(ApiError::field(
                "channel",
                format!(
                    "'{}' cannot be recorded by a worker (expected paper or proxy)",
                    body.channel
                ),
            ))
        }
    };
    vote_for(&state, &user, &id, Action::RecordBallots).await?;
    let cast_by = user.audit_name();
    let cast = |choice| votes::Cast {
        vote_id: &id,
        owner_id: &body.owner_id,
        choice,
        channel,
        cast_by: &cast_by,
        proxy_holder: body.proxy_holder.as_deref(),
        evidence_id: Some(&body.evidence_id),
        now: db::now_ms(),
    };
    let r = match vote {
        OwnVote::Choice(choice) => votes::record_ballot(&state.db, cast(choice)).await?,
        OwnVote::Answers(answers) => {
            vote_questions::record_ballot(&state.db, cast(Choice::Abstain), answers).await?
        }
    };
    Ok((StatusCode::CREATED, Json(r)))
}

#[derive(Deserialize, ToSchema)]
pub struct ApportionBody {
    /// The whole cost, fen.
    amount_fen: i64,
    /// Subsidies deducted first, fen.
    #[serde(default)]
    subsidy_fen: i64,
    /// `area` (by exclusive area) or `equal` (per part).
    by: String,
}

/// Split a cost (after subsidy) across the frozen electorate's parts by area or equally, in fen,
/// by largest remainder (ties: larger area, then earlier part label). The shares sum to the total.
#[utoipa::path(post, path = "/api/v1/votes/{id}/apportion", tag = "votes", params(("id" = String, Path, description = "vote id")), request_body = ApportionBody, responses((status = 200, description = "shares per part", body = Apportionment)))]
async fn apportion(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ApportionBody>,
) -> Result<Json<Apportionment>, ApiError> {
    let by_area = match body.by.as_str() {
        "area" => true,
        "equal" => false,
        other => {
            return Err(ApiError::field(
                "by",
                format!("unknown basis '{other}' (expected area, equal)"),
            ))
        }
    };
    vote_visible(&state, &user, &id).await?;
    let (total, shares) =
        votes::apportion(&state.db, &id, body.amount_fen, body.subsidy_fen, by_area).await?;
    Ok(Json(Apportionment {
        total_fen: total,
        by: body.by,
        tie_break:
            "largest remainder; equal remainders: larger area first, then earlier part label",
        shares,
    }))
}

#[derive(Deserialize, ToSchema)]
pub struct SettingBody {
    value: String,
}

/// Set a community (or compound) setting; `vote.proxy_limit` is how many owners one proxy holder may represent (default 3).
#[utoipa::path(put, path = "/api/v1/places/{id}/settings/{name}", tag = "votes", params(("id" = String, Path, description = "place id"), ("name" = String, Path, description = "setting name")), request_body = SettingBody, responses((status = 204, description = "set")))]
async fn set_setting(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((id, name)): Path<(String, String)>,
    ApiJson(body): ApiJson<SettingBody>,
) -> Result<StatusCode, ApiError> {
    let (place, _) = check(&state, &user, &id, Action::WriteRegister).await?;
    votes::put_setting(&state.db, &user.audit_name(), &place, &name, &body.value).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The published record of a closed vote, exactly in `gongzhi.vote/1` (owners as opaque keys, no names):
/// `gongzhi audit vote FILE` recomputes the result from it. Never changes once published: its ETag is
/// its SHA-256, and `If-None-Match` with it answers 304.
#[utoipa::path(get, path = "/api/v1/public/votes/{id}/record.json", tag = "public", params(("id" = String, Path, description = "vote id")),
    responses((status = 200, description = "the record", body = serde_json::Value, headers(("ETag" = String, description = "the record's version"))), (status = 304, description = "not modified (If-None-Match)"), (status = 409, description = "not closed yet")))]
async fn public_record(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let json = votes::record_json(&state.db, &id).await?;
    let tag = etag(&["record", &json]);
    let full = ([(header::CONTENT_TYPE, "application/json")], json).into_response();
    Ok(cached(&headers, tag, false, Some(full)))
}

/// A strong entity tag from the parts of a representation's version.
fn etag(parts: &[&str]) -> String {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_be_bytes());
        h.update(p.as_bytes());
    }
    format!("\"{}\"", &hex::encode(h.finalize())[..32])
}

/// Whether `If-None-Match` names `tag` (or is `*`); weak comparison, as
/// RFC 9110 §13.1.2 asks for GET.
fn not_modified(headers: &HeaderMap, tag: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim())
        .any(|t| t == "*" || t.strip_prefix("W/").unwrap_or(t) == tag)
}

/// The response for a client that holds `tag` (304, no body) or else
/// `full`, with the ETag; caches must revalidate (`no-cache`), and keep a
/// `private` response to the one user it was for.
fn cached(headers: &HeaderMap, tag: String, private: bool, full: Option<Response>) -> Response {
    let mut r = match full {
        Some(r) if !not_modified(headers, &tag) => r,
        _ => StatusCode::NOT_MODIFIED.into_response(),
    };
    if let Ok(v) = tag.parse() {
        r.headers_mut().insert(header::ETAG, v);
    }
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static(if private {
            "private, no-cache"
        } else {
            "no-cache"
        }),
    );
    r
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BoardQuery {
    /// `current` (the default: each owner's current ballot, one row per owner who voted)
    /// or `all` (every ballot, the replaced ones too, each owner's in order).
    #[param(value_type = Option<String>)]
    view: Option<String>,
    /// Rows per page: 1 to 500, default 100.
    #[param(value_type = Option<i64>, minimum = 1, maximum = 500)]
    limit: Option<String>,
    /// The previous page's `next` cursor; the first page without it.
    after: Option<String>,
}

impl BoardQuery {
    fn parse(&self) -> Result<(votes::BoardView, Option<votes::BoardCursor>, i64), ApiError> {
        let view = match self.view.as_deref().map(str::trim) {
            None | Some("") | Some("current") => votes::BoardView::Current,
            Some("all") => votes::BoardView::All,
            Some(other) => {
                return Err(ApiError::field(
                    "view",
                    format!("unknown view '{other}' (expected current, all)"),
                ))
            }
        };
        let limit = match self.limit.as_deref().map(str::trim) {
            None | Some("") => votes::BOARD_PAGE_DEFAULT,
            Some(l) => match l.parse::<i64>() {
                Ok(n) if (1..=votes::BOARD_PAGE_MAX).contains(&n) => n,
                _ => {
                    return Err(ApiError::field(
                        "limit",
                        format!("a whole number from 1 to {}", votes::BOARD_PAGE_MAX),
                    ))
                }
            },
        };
        let after = match self.after.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(a) => Some(votes::BoardCursor::parse(a).ok_or_else(|| {
                ApiError::field("after", "not a cursor: pass the previous page's `next`")
            })?),
        };
        Ok((view, after, limit))
    }
}

/// The public board of an opened vote, a page at a time: ballots by receipt code and part (owners in the
/// order of their first part), names masked unless the owner consented; choices after close. By default
/// each owner's current ballot (`seq` says how many they cast); `view=all` adds the replaced ones. Follow
/// `next` (as `after`) until it is null. The ETag changes with every ballot and at close; `If-None-Match`
/// with it answers 304 with no body.
#[utoipa::path(get, path = "/api/v1/public/votes/{id}/board", tag = "public", params(("id" = String, Path, description = "vote id"), BoardQuery),
    responses((status = 200, description = "the board: vote, turnout, ballots (one page), next", body = Board, headers(("ETag" = String, description = "the board's version"))),
        (status = 304, description = "not modified (If-None-Match)"), (status = 404, description = "no such opened vote"), (status = 422, description = "invalid view, limit or after")))]
async fn public_board(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<BoardQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (view, after, limit) = q.parse()?;
    let v = votes::board_vote(&state.db, &id).await?;
    let turnout = votes::turnout(&state.db, &id).await?;
    // Every ballot raises ballots_cast; closing changes the status.
    let tag = etag(&[
        "board",
        &v.id,
        v.status.as_str(),
        &turnout.ballots_cast.to_string(),
        &format!("{:?}", q.view),
        &format!("{:?}", q.limit),
        &format!("{:?}", q.after),
    ]);
    if not_modified(&headers, &tag) {
        return Ok(cached(&headers, tag, false, None));
    }
    let page = votes::board_page(&state.db, &v, view, after, limit).await?;
    let body = Board {
        vote: BoardVote {
            id: v.id,
            title: v.title,
            status: v.status,
            rule: v.rule,
            rule_text: v.rule_text,
            opens_at: v.opens_at,
            closes_at: v.closes_at,
            result: v.result,
        },
        turnout,
        view: match view {
            votes::BoardView::Current => "current",
            votes::BoardView::All => "all",
        },
        limit,
        ballots: page.rows,
        next: page.next,
    };
    Ok(cached(
        &headers,
        tag,
        false,
        Some(Json(body).into_response()),
    ))
}

#[derive(Deserialize, ToSchema)]
pub struct LinkBody {
    /// The user who is this owner (identity checked by the office).
    username: String,
}

/// An account linked to an owner of record.
#[derive(Serialize, ToSchema)]
pub struct Linked {
    pub owner_id: String,
    pub user_id: String,
}

/// Link a user account to an owner of record, so that they may cast online ballots
/// (staff who may change the register over every part of the owner).
#[utoipa::path(post, path = "/api/v1/owners/{id}/accounts", tag = "votes", params(("id" = String, Path, description = "owner id")), request_body = LinkBody,
    responses((status = 201, description = "linked", body = Linked), (status = 404, description = "no such owner in the caller's world"), (status = 409, description = "already linked")))]
async fn link_owner_account(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<LinkBody>,
) -> Result<(StatusCode, Json<Linked>), ApiError> {
    let owner = crate::access::check_owner(&state, &user, &id).await?;
    let uid = auth::user_id_by_name(&state.db, body.username.trim())
        .await
        .map_err(|_| ApiError::field("username", "no such user"))?;
    if auth::owners_of_user(&state.db, &uid).await?.contains(&id) {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "Conflict",
            "this account is already linked to this owner",
        ));
    }
    auth::link_owner_account(
        &state.db,
        &user.audit_name(),
        &uid,
        &id,
        &owner.parts[0].place_path,
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(Linked {
            owner_id: id,
            user_id: uid,
        }),
    ))
}
