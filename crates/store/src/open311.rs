//! Open311's queue: in a jurisdiction whose setting is `token`, a posted
//! service request waits in `open311_queue` under a token until staff accept
//! it (it becomes a case; the token then yields its `service_request_id`) or
//! reject it. In `id` jurisdictions (the default) the case is created at once.
//! The setting is read from the place or its nearest ancestor.

use crate::audit::{self, Entry};
use crate::cases::{self, NewCase};
use crate::db::{self, Db, Tx};
use crate::error::StoreError;
use crate::register::{self, subtree};
use gongzhi_domain::cases::{Calendar, Category, Channel, Priority};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// How POST requests.json answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Answer {
    /// The case is created at once; the answer carries its `service_request_id`.
    Id,
    /// The request is queued for acceptance; the answer carries a `token`.
    Token,
}

impl Answer {
    pub fn parse(s: &str) -> Option<Answer> {
        match s.trim() {
            "id" => Some(Answer::Id),
            "token" => Some(Answer::Token),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Answer::Id => "id",
            Answer::Token => "token",
        }
    }
}

/// The answer mode at a place: its own setting or its nearest ancestor's; `id` by default.
pub async fn answer_at(db: &Db, place_path: &str) -> Result<Answer, StoreError> {
    let rows = register::rows_along_path(
        db,
        place_path,
        "SELECT place_id, answer FROM open311_settings WHERE place_id IN",
        &[],
        "",
    )
    .await?;
    let mut best: Option<(usize, Answer)> = None;
    for (depth, r) in &rows {
        if let Some(a) = Answer::parse(&db::s(r, "answer")?) {
            if best.is_none_or(|(d, _)| *depth > d) {
                best = Some((*depth, a));
            }
        }
    }
    Ok(best.map_or(Answer::Id, |(_, a)| a))
}

/// Sets a community's or compound's answer mode (audited).
pub(crate) async fn set_answer_in(
    tx: &mut Tx,
    actor: &str,
    place: &register::Place,
    answer: Answer,
) -> Result<(), StoreError> {
    if !matches!(place.kind.as_str(), "community" | "compound") {
        return Err(StoreError::invalid(
            "place_id",
            "an Open311 jurisdiction is a community or a compound",
        ));
    }
    let before = sqlx::query("SELECT answer FROM open311_settings WHERE place_id = $1")
        .bind(place.id.clone())
        .fetch_optional(&mut **tx)
        .await?
        .map(|r| db::s(&r, "answer"))
        .transpose()?;
    let sql = if before.is_some() {
        "UPDATE open311_settings SET answer = $2, updated_by = $3, updated_at = $4 WHERE place_id = $1"
    } else {
        "INSERT INTO open311_settings (place_id, answer, updated_by, updated_at) VALUES ($1,$2,$3,$4)"
    };
    sqlx::query(sql)
        .bind(place.id.clone())
        .bind(answer.as_str())
        .bind(actor.to_string())
        .bind(db::now_ms())
        .execute(&mut **tx)
        .await?;
    audit::record(
        tx,
        Entry {
            actor: actor.into(),
            action: "open311.answer".into(),
            entity: "place".into(),
            entity_id: place.id.clone(),
            scope_path: place.path.clone(),
            before: before.map(|b| json!({ "answer": b })),
            after: Some(json!({ "answer": answer })),
        },
    )
    .await
}

/// What a queued request holds (the fields a case is raised from).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Queued {
    pub category: Category,
    pub description: String,
    pub address: Option<String>,
    pub lat: Option<String>,
    pub lon: Option<String>,
    pub reporter_name: Option<String>,
    pub reporter_phone: Option<String>,
}

/// Queues a request at `place` for acceptance; returns its token.
pub(crate) async fn enqueue_in(
    tx: &mut Tx,
    place: &register::Place,
    api_user_id: &str,
    q: &Queued,
    now: i64,
) -> Result<String, StoreError> {
    gongzhi_domain::cases::check_text(
        "description",
        &q.description,
        gongzhi_domain::cases::MAX_TEXT_CHARS,
        true,
    )
    .map_err(|e| StoreError::invalid(e.field, e.reason))?;
    let token = db::new_id();
    sqlx::query(
        "INSERT INTO open311_queue (token, place_id, place_path, api_user_id, request_json, received_at, state) VALUES ($1,$2,$3,$4,$5,$6,'queued')",
    )
    .bind(token.clone())
    .bind(place.id.clone())
    .bind(place.path.clone())
    .bind(api_user_id.to_string())
    .bind(serde_json::to_string(q).unwrap_or_default())
    .bind(now)
    .execute(&mut **tx)
    .await?;
    audit::record(
        tx,
        Entry {
            actor: format!("user:{api_user_id}"),
            action: "open311.queue".into(),
            entity: "open311_request".into(),
            entity_id: token.clone(),
            scope_path: place.path.clone(),
            before: None,
            after: Some(json!({"category": q.category})),
        },
    )
    .await?;
    Ok(token)
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TokenView {
    pub token: String,
    pub state: String,
    pub place_id: String,
    pub case_id: Option<String>,
    pub received_at: i64,
    pub reason: Option<String>,
    pub category: String,
    /// For staff deciding: the request's text.
    pub description: String,
    #[serde(skip)]
    pub place_path: String,
}

fn token_view(r: &sqlx::any::AnyRow) -> Result<TokenView, StoreError> {
    let q: Option<Queued> = serde_json::from_str(&db::s(r, "request_json")?).ok();
    Ok(TokenView {
        token: db::s(r, "token")?,
        state: db::s(r, "state")?,
        place_id: db::s(r, "place_id")?,
        case_id: db::os(r, "case_id")?,
        received_at: db::i(r, "received_at")?,
        reason: db::os(r, "reason")?,
        category: q
            .as_ref()
            .map(|q| q.category.as_str().to_string())
            .unwrap_or_default(),
        description: q.map(|q| q.description).unwrap_or_default(),
        place_path: db::s(r, "place_path")?,
    })
}

const TOKEN_COLS: &str =
    "token, state, place_id, place_path, case_id, received_at, reason, request_json";

pub async fn get_token(db: &Db, token: &str) -> Result<TokenView, StoreError> {
    let r = sqlx::query(&format!(
        "SELECT {TOKEN_COLS} FROM open311_queue WHERE token = $1"
    ))
    .bind(token.to_string())
    .fetch_optional(db.reader())
    .await?
    .ok_or_else(|| StoreError::not_found(format!("token '{token}'")))?;
    token_view(&r)
}

/// Requests waiting for acceptance below a place, oldest first.
pub async fn queued_under(db: &Db, path: &str, limit: i64) -> Result<Vec<TokenView>, StoreError> {
    let (lo, hi) = subtree(path);
    sqlx::query(&format!("SELECT {TOKEN_COLS} FROM open311_queue WHERE state = 'queued' AND place_path >= $1 AND place_path < $2 ORDER BY received_at, token LIMIT $3"))
        .bind(lo)
        .bind(hi)
        .bind(limit.clamp(1, 1000))
        .fetch_all(db.reader())
        .await?
        .iter()
        .map(token_view)
        .collect()
}

async fn queued_tx(tx: &mut Tx, token: &str) -> Result<(TokenView, String, Queued), StoreError> {
    let r = sqlx::query(&format!(
        "SELECT {TOKEN_COLS}, api_user_id FROM open311_queue WHERE token = $1"
    ))
    .bind(token.to_string())
    .fetch_optional(&mut **tx)
    .await?
    .ok_or_else(|| StoreError::not_found(format!("token '{token}'")))?;
    let v = token_view(&r)?;
    if v.state != "queued" {
        return Err(StoreError::invalid(
            "token",
            format!("the request was {} already", v.state),
        ));
    }
    let q: Queued = serde_json::from_str(&db::s(&r, "request_json")?)
        .map_err(|e| StoreError::invalid("token", format!("unreadable request: {e}")))?;
    Ok((v, db::s(&r, "api_user_id")?, q))
}

/// Accepts a queued request: raises its case (reported when it was
/// received) and links the token to it. Once.
pub(crate) async fn accept_in(
    tx: &mut Tx,
    token: &str,
    actor: &str,
    cal: &Calendar,
    now: i64,
) -> Result<String, StoreError> {
    let (v, user, q) = queued_tx(tx, token).await?;
    let place = register::place_from(
        &sqlx::query(&format!(
            "SELECT {} FROM places WHERE id = $1",
            register::PLACE_COLS
        ))
        .bind(v.place_id.clone())
        .fetch_one(&mut **tx)
        .await?,
    )?;
    let nc = NewCase {
        place,
        part_id: None,
        category: q.category,
        priority: Priority::Normal,
        description: q.description,
        address: q.address,
        lat: q.lat,
        lon: q.lon,
        channel: Channel::Open311,
        reporter_user_id: Some(user.clone()),
        reporter_name: q.reporter_name,
        reporter_phone: q.reporter_phone,
        consent_publish: false,
        raised_by: format!("user:{user}"),
    };
    let id = cases::raise_in(tx, &nc, cal, v.received_at).await?;
    decide(tx, &v, actor, "accepted", Some(&id), None, now).await?;
    Ok(id)
}

/// Rejects a queued request with a reason. Once.
pub(crate) async fn reject_in(
    tx: &mut Tx,
    token: &str,
    actor: &str,
    reason: &str,
    now: i64,
) -> Result<(), StoreError> {
    gongzhi_domain::cases::check_text("reason", reason, 2000, true)
        .map_err(|e| StoreError::invalid(e.field, e.reason))?;
    let (v, _, _) = queued_tx(tx, token).await?;
    decide(tx, &v, actor, "rejected", None, Some(reason.trim()), now).await
}

async fn decide(
    tx: &mut Tx,
    v: &TokenView,
    actor: &str,
    state: &str,
    case_id: Option<&str>,
    reason: Option<&str>,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE open311_queue SET state = $1, case_id = $2, decided_by = $3, decided_at = $4, reason = $5 WHERE token = $6 AND state = 'queued'")
        .bind(state.to_string())
        .bind(case_id.map(str::to_string))
        .bind(actor.to_string())
        .bind(now)
        .bind(reason.map(str::to_string))
        .bind(v.token.clone())
        .execute(&mut **tx)
        .await?;
    audit::record(
        tx,
        Entry {
            actor: actor.into(),
            action: format!("open311.{state}"),
            entity: "open311_request".into(),
            entity_id: v.token.clone(),
            scope_path: v.place_path.clone(),
            before: Some(json!({"state": "queued"})),
            after: Some(json!({"state": state, "case_id": case_id, "reason": reason})),
        },
    )
    .await
}

// ---------------------------------------------------------------------------
// Commands: each owns its transaction
// ---------------------------------------------------------------------------

/// Sets a jurisdiction's answer mode ([`set_answer_in`]) in its own transaction.
pub async fn set_answer(
    db: &Db,
    actor: &str,
    place: &register::Place,
    answer: Answer,
) -> Result<(), StoreError> {
    let (actor, place) = (actor.to_string(), place.clone());
    db.write(move |tx| {
        let (actor, place) = (actor.clone(), place.clone());
        Box::pin(async move { set_answer_in(tx, &actor, &place, answer).await })
    })
    .await
}

/// Queues a request ([`enqueue_in`]) in its own transaction; returns its token.
pub async fn enqueue(
    db: &Db,
    place: &register::Place,
    api_user_id: &str,
    q: &Queued,
    now: i64,
) -> Result<String, StoreError> {
    let (place, user, q) = (place.clone(), api_user_id.to_string(), q.clone());
    db.write(move |tx| {
        let (place, user, q) = (place.clone(), user.clone(), q.clone());
        Box::pin(async move { enqueue_in(tx, &place, &user, &q, now).await })
    })
    .await
}

/// Accepts a queued request ([`accept_in`]) in its own transaction; returns the case id.
pub async fn accept(
    db: &Db,
    token: &str,
    actor: &str,
    cal: &Calendar,
    now: i64,
) -> Result<String, StoreError> {
    let (token, actor, cal) = (token.to_string(), actor.to_string(), cal.clone());
    db.write(move |tx| {
        let (token, actor, cal) = (token.clone(), actor.clone(), cal.clone());
        Box::pin(async move { accept_in(tx, &token, &actor, &cal, now).await })
    })
    .await
}

/// Rejects a queued request ([`reject_in`]) in its own transaction.
pub async fn reject(
    db: &Db,
    token: &str,
    actor: &str,
    reason: &str,
    now: i64,
) -> Result<(), StoreError> {
    let (token, actor, reason) = (token.to_string(), actor.to_string(), reason.to_string());
    db.write(move |tx| {
        let (token, actor, reason) = (token.clone(), actor.clone(), reason.clone());
        Box::pin(async move { reject_in(tx, &token, &actor, &reason, now).await })
    })
    .await
}
