//! Opinion collection on a matter under `/api/v1`: comments and questionnaire
//! answers by people in the matter's scope (staff over it, or owners and
//! residents of a part inside it), questionnaires published and closed by
//! those who deliberate, door-to-door records (敲门行动) by workers — a grid
//! worker only in their micro-grid — and the coverage of the scope's
//! households, limited to the caller's grids.

use super::{
    answer_as, comment, door_record, matter_for, publish_questionnaire, questionnaire_for, visible,
};
use crate::access::{check_place, filter};
use crate::problem::{ApiError, ApiJson};
use crate::session::CurrentUser;
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use gongzhi_domain::deliberation::{Answer, Question};
use gongzhi_domain::policy::{self, Action};
use gongzhi_store::db;
use gongzhi_store::deliberation as store;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_comments, add_comment))
        .routes(routes!(list_questionnaires, create_questionnaire))
        .routes(routes!(get_questionnaire))
        .routes(routes!(answer))
        .routes(routes!(close_questionnaire))
        .routes(routes!(list_door_records, add_door_record))
        .routes(routes!(coverage))
        .routes(routes!(add_document))
        .routes(routes!(list_documents))
        .routes(routes!(get_document))
        // Documents may be up to 5 MiB (the default limit is 2 MiB).
        .layer(axum::extract::DefaultBodyLimit::max(
            gongzhi_domain::ballot::MAX_EVIDENCE_BYTES + 64 * 1024,
        ))
}

/// Comments on a matter, oldest first.
#[derive(Serialize, ToSchema)]
pub struct CommentList {
    comments: Vec<store::Comment>,
}

/// Questionnaires of a matter with their counts.
#[derive(Serialize, ToSchema)]
pub struct QuestionnaireList {
    questionnaires: Vec<store::QuestionnaireView>,
}

/// A questionnaire, whether it takes answers now, and the caller's current answers.
#[derive(Serialize, ToSchema)]
pub struct QuestionnaireAnswer {
    questionnaire: store::QuestionnaireView,
    open: bool,
    #[schema(value_type = Option<Vec<Object>>)]
    my_answers: Option<Vec<Answer>>,
}

/// An answer recorded: the caller's n-th.
#[derive(Serialize, ToSchema)]
pub struct Answered {
    seq: i64,
    replaced_earlier: bool,
}

/// Door-to-door records of a matter.
#[derive(Serialize, ToSchema)]
pub struct DoorRecordList {
    door_records: Vec<store::DoorRecord>,
}

/// Documents of a matter's steps.
#[derive(Serialize, ToSchema)]
pub struct DocumentList {
    documents: Vec<store::DocumentView>,
}

/// Comments on a matter, oldest first.
#[utoipa::path(get, path = "/api/v1/matters/{id}/comments", tag = "matters", params(("id" = String, Path, description = "matter id")), responses((status = 200, description = "comments", body = CommentList)))]
async fn list_comments(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<CommentList>, ApiError> {
    visible(&state, &user, &id).await?;
    Ok(Json(CommentList {
        comments: store::comments_of(&state.db, &id).await?,
    }))
}

#[derive(Deserialize, ToSchema)]
pub struct CommentBody {
    body: String,
}

/// Comment on a matter (people in its scope).
#[utoipa::path(post, path = "/api/v1/matters/{id}/comments", tag = "matters", params(("id" = String, Path, description = "matter id")), request_body = CommentBody,
    responses((status = 201, description = "added", body = store::Comment), (status = 403, description = "not in the matter's scope"), (status = 422, description = "invalid field")))]
async fn add_comment(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<CommentBody>,
) -> Result<(StatusCode, Json<store::Comment>), ApiError> {
    let c = comment(&state, &user, &id, &body.body).await?;
    Ok((StatusCode::CREATED, Json(c)))
}

/// Questionnaires of a matter with their counts.
#[utoipa::path(get, path = "/api/v1/matters/{id}/questionnaires", tag = "matters", params(("id" = String, Path, description = "matter id")), responses((status = 200, description = "questionnaires", body = QuestionnaireList)))]
async fn list_questionnaires(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<QuestionnaireList>, ApiError> {
    visible(&state, &user, &id).await?;
    Ok(Json(QuestionnaireList {
        questionnaires: store::questionnaires_of(&state.db, &id).await?,
    }))
}

#[derive(Deserialize, ToSchema)]
pub struct NewQuestionnaire {
    title: String,
    /// `[{"text": "…", "kind": "single" | "multiple" | "text", "options": ["…"]}]`
    #[schema(value_type = Vec<Object>)]
    questions: Vec<Question>,
    /// When it stops taking answers (ms since the epoch).
    closes_at: i64,
}

/// Publish a questionnaire on a matter (those who deliberate over its place).
#[utoipa::path(post, path = "/api/v1/matters/{id}/questionnaires", tag = "matters", params(("id" = String, Path, description = "matter id")), request_body = NewQuestionnaire,
    responses((status = 201, description = "published", body = store::QuestionnaireView), (status = 403, description = "may not deliberate here"), (status = 422, description = "invalid field")))]
async fn create_questionnaire(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<NewQuestionnaire>,
) -> Result<(StatusCode, Json<store::QuestionnaireView>), ApiError> {
    let qid = publish_questionnaire(
        &state,
        &user,
        &id,
        &body.title,
        &body.questions,
        body.closes_at,
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(store::questionnaire(&state.db, &qid).await?),
    ))
}

/// A questionnaire with its counts (and the caller's current answers).
#[utoipa::path(get, path = "/api/v1/questionnaires/{id}", tag = "matters", params(("id" = String, Path, description = "questionnaire id")), responses((status = 200, description = "the questionnaire", body = QuestionnaireAnswer)))]
async fn get_questionnaire(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<QuestionnaireAnswer>, ApiError> {
    let (q, _) = questionnaire_for(&state, &user, &id).await?;
    let mine = store::my_answers(&state.db, &id, &user.user_id).await?;
    let open = q.is_open(db::now_ms());
    Ok(Json(QuestionnaireAnswer {
        questionnaire: q,
        open,
        my_answers: mine,
    }))
}

#[derive(Deserialize, ToSchema)]
pub struct AnswerBody {
    /// One per question: an option index, a list of option indices, or a text.
    #[schema(value_type = Vec<Object>)]
    answers: Vec<Answer>,
}

/// Answer a questionnaire (people in the matter's scope); a new answer replaces the caller's earlier one.
#[utoipa::path(post, path = "/api/v1/questionnaires/{id}/answers", tag = "matters", params(("id" = String, Path, description = "questionnaire id")), request_body = AnswerBody,
    responses((status = 201, description = "recorded", body = Answered), (status = 403, description = "not in the matter's scope"), (status = 409, description = "closed"), (status = 422, description = "invalid answer")))]
async fn answer(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<AnswerBody>,
) -> Result<(StatusCode, Json<Answered>), ApiError> {
    let seq = answer_as(&state, &user, &id, &body.answers).await?;
    Ok((
        StatusCode::CREATED,
        Json(Answered {
            seq,
            replaced_earlier: seq > 1,
        }),
    ))
}

/// Close a questionnaire before its time.
#[utoipa::path(post, path = "/api/v1/questionnaires/{id}/close", tag = "matters", params(("id" = String, Path, description = "questionnaire id")),
    responses((status = 200, description = "closed", body = store::QuestionnaireView), (status = 403, description = "may not deliberate here"), (status = 409, description = "already closed")))]
async fn close_questionnaire(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<store::QuestionnaireView>, ApiError> {
    let (_, place) = questionnaire_for(&state, &user, &id).await?;
    check_place(&user, &place, Action::Deliberate)?;
    store::close(&state.db, &user.audit_name(), &id, db::now_ms()).await?;
    Ok(Json(store::questionnaire(&state.db, &id).await?))
}

/// Door-to-door records of a matter (a grid worker sees their grid's).
#[utoipa::path(get, path = "/api/v1/matters/{id}/door-records", tag = "matters", params(("id" = String, Path, description = "matter id")), responses((status = 200, description = "records", body = DoorRecordList), (status = 403, description = "may not read the register here")))]
async fn list_door_records(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<DoorRecordList>, ApiError> {
    let (_, _, access) = matter_for(&state, &user, &id, Action::ReadRegister).await?;
    Ok(Json(DoorRecordList {
        door_records: store::door_records_of(&state.db, &id, &filter(&access)).await?,
    }))
}

#[derive(Deserialize, ToSchema, Clone)]
pub struct DoorBallotBody {
    vote_id: String,
    /// yes, no or abstain
    choice: String,
    /// The scan of the signed paper ballot (`POST /api/v1/votes/{id}/evidence`).
    evidence_id: String,
}

#[derive(Deserialize, ToSchema, Clone)]
pub struct DoorRecordBody {
    pub(crate) part_id: String,
    /// The visit's date, `YYYY-MM-DD`.
    pub(crate) visited_on: String,
    pub(crate) opinion: String,
    /// Who knocked; the recorder's username if absent.
    pub(crate) worker: Option<String>,
    /// A paper ballot signed at the door, cast for the part's owner.
    pub(crate) ballot: Option<DoorBallotBody>,
}

/// Record a door-to-door visit to a household of the matter's scope (workers; a grid worker only in their micro-grid).
#[utoipa::path(post, path = "/api/v1/matters/{id}/door-records", tag = "matters", params(("id" = String, Path, description = "matter id")), request_body = DoorRecordBody,
    responses((status = 201, description = "recorded", body = store::DoorRecord), (status = 403, description = "not the caller's grid or role"), (status = 422, description = "invalid field, or a household outside the scope")))]
async fn add_door_record(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<DoorRecordBody>,
) -> Result<(StatusCode, Json<store::DoorRecord>), ApiError> {
    let visit = store::Visit {
        matter_id: id,
        part_id: body.part_id,
        visited_on: body.visited_on,
        opinion: body.opinion,
        worker: String::new(),
        recorded_by: String::new(),
        ballot: body.ballot.map(|b| (b.vote_id, b.choice, b.evidence_id)),
        now: 0,
    };
    let rec = door_record(&state, &user, visit, body.worker).await?;
    Ok((StatusCode::CREATED, Json(rec)))
}

/// Which households of the matter's scope have been reached door to door and which not (a grid worker: their grid's).
#[utoipa::path(get, path = "/api/v1/matters/{id}/coverage", tag = "matters", params(("id" = String, Path, description = "matter id")), responses((status = 200, description = "coverage", body = store::Coverage), (status = 403, description = "may not read the register here")))]
async fn coverage(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<store::Coverage>, ApiError> {
    let (m, _, access) = matter_for(&state, &user, &id, Action::ReadRegister).await?;
    Ok(Json(
        store::coverage(&state.db, &m, &filter(&access)).await?,
    ))
}

#[derive(Deserialize)]
pub struct DocQuery {
    name: String,
}

/// Attach a document (PDF/JPEG/PNG/WebP, ≤ 5 MiB, raw body) to a done step, by those who act in that step.
#[utoipa::path(post, path = "/api/v1/matters/{id}/steps/{step}/documents", tag = "matters",
    params(("id" = String, Path, description = "matter id"), ("step" = String, Path, description = "a done step's key"), ("name" = String, Query, description = "the document's name")),
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "the file; Content-Type names its type"),
    responses((status = 201, description = "attached, with its SHA-256", body = store::DocumentView), (status = 422, description = "bad file, step not done, or not one who acts in it")))]
async fn add_document(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((id, step)): Path<(String, String)>,
    Query(q): Query<DocQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<store::DocumentView>), ApiError> {
    let (_, place) = visible(&state, &user, &id).await?;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let doc = store::attach(
        &state.db,
        store::NewDocument {
            actor: user.audit_name(),
            matter_id: id,
            step,
            roles: policy::roles_over(&user.actor, &place.path_ids()),
            name: q.name,
            content_type,
            bytes: body.to_vec(),
            now: db::now_ms(),
        },
    )
    .await?;
    Ok((StatusCode::CREATED, Json(doc)))
}

/// Documents of a matter's steps.
#[utoipa::path(get, path = "/api/v1/matters/{id}/documents", tag = "matters", params(("id" = String, Path, description = "matter id")), responses((status = 200, description = "documents", body = DocumentList)))]
async fn list_documents(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<DocumentList>, ApiError> {
    visible(&state, &user, &id).await?;
    Ok(Json(DocumentList {
        documents: store::documents_of(&state.db, &id).await?,
    }))
}

/// Download a document of a matter.
#[utoipa::path(get, path = "/api/v1/matters/{id}/documents/{doc}", tag = "matters", params(("id" = String, Path, description = "matter id"), ("doc" = String, Path, description = "document id")), responses((status = 200, description = "the file", content_type = "application/octet-stream", body = Vec<u8>)))]
async fn get_document(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((id, doc)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    visible(&state, &user, &id).await?;
    let (_, ct, bytes) = store::document_bytes(&state.db, &id, &doc).await?;
    Ok((
        [
            (header::CONTENT_TYPE, ct),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_string()),
        ],
        bytes,
    )
        .into_response())
}
