//! Opinion collection on a matter (migration 0006): comments by people in
//! scope, questionnaires (one current answer per person, replaceable, the
//! earlier answers kept), door-to-door records (敲门行动) by workers — which
//! may carry a paper ballot of the part's owner in a vote — and the coverage
//! of the matter's households. Every write is audited in its transaction;
//! comments, answers and door records are append-only (triggers).

use crate::audit::{self, Entry};
use crate::db::{self, Db, Tx};
use crate::error::StoreError;
use crate::matters::MatterView;
use crate::register::{subtree, PartFilter};
use gongzhi_domain::ballot::Channel;
use gongzhi_domain::deliberation::{self as dl, Answer, Question, QuestionCount};
use gongzhi_domain::mask::mask_text;
use gongzhi_domain::vote::Choice;
use serde::Serialize;
use serde_json::json;

fn field(e: dl::FieldError) -> StoreError {
    StoreError::invalid(e.field, e.reason)
}

/// The matter's scope path, or not found.
async fn scope_of(tx: &mut Tx, matter_id: &str) -> Result<String, StoreError> {
    let r = sqlx::query("SELECT scope_path FROM matters WHERE id = $1")
        .bind(matter_id.to_string())
        .fetch_optional(&mut **tx)
        .await?
        .ok_or_else(|| StoreError::not_found(format!("matter '{matter_id}'")))?;
    db::s(&r, "scope_path")
}

/// True when the user owns (through a linked owner of record) or lives in
/// (as a current resident) a part inside `scope_path`.
pub async fn lives_or_owns_in(
    db: &Db,
    user_id: &str,
    scope_path: &str,
) -> Result<bool, StoreError> {
    let (lo, hi) = subtree(scope_path);
    let r = sqlx::query(
        "SELECT pt.id FROM parts pt JOIN places pl ON pl.id = pt.place_id \
         WHERE pl.path >= $1 AND pl.path < $2 AND ( \
           pt.owner_id IN (SELECT owner_id FROM owner_accounts WHERE user_id = $3) \
           OR pt.id IN (SELECT r.part_id FROM residents r JOIN users u ON u.person_id = r.person_id \
                        WHERE u.id = $3 AND r.until IS NULL)) LIMIT 1",
    )
    .bind(lo)
    .bind(hi)
    .bind(user_id.to_string())
    .fetch_optional(db.reader())
    .await?;
    Ok(r.is_some())
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Comment {
    pub id: String,
    pub author: String,
    pub body: String,
    pub at: i64,
}

pub async fn add_comment(
    tx: &mut Tx,
    user_id: &str,
    author: &str,
    matter_id: &str,
    body: &str,
    now: i64,
) -> Result<Comment, StoreError> {
    let body = body.trim();
    if body.is_empty() || body.chars().count() > 2000 {
        return Err(StoreError::invalid("body", "1 to 2000 characters"));
    }
    let scope_path = scope_of(tx, matter_id).await?;
    let id = db::new_id();
    sqlx::query("INSERT INTO matter_comments (id, matter_id, user_id, author, body, at) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(id.clone())
        .bind(matter_id.to_string())
        .bind(user_id.to_string())
        .bind(author.to_string())
        .bind(body.to_string())
        .bind(now)
        .execute(&mut **tx)
        .await?;
    audit::record(
        tx,
        Entry {
            actor: format!("user:{user_id}"),
            action: "matter.comment".into(),
            entity: "matter".into(),
            entity_id: matter_id.into(),
            scope_path,
            before: None,
            after: Some(json!({"comment": id, "body": mask_text(body)})),
        },
    )
    .await?;
    Ok(Comment {
        id,
        author: author.into(),
        body: body.into(),
        at: now,
    })
}

pub async fn comments_of(db: &Db, matter_id: &str) -> Result<Vec<Comment>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, author, body, at FROM matter_comments WHERE matter_id = $1 ORDER BY at, id LIMIT 1000",
    )
    .bind(matter_id.to_string())
    .fetch_all(db.reader())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Comment {
                id: db::s(r, "id")?,
                author: db::s(r, "author")?,
                body: mask_text(&db::s(r, "body")?),
                at: db::i(r, "at")?,
            })
        })
        .collect()
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct QuestionnaireView {
    pub id: String,
    pub matter_id: String,
    pub title: String,
    #[schema(value_type = Vec<Object>)]
    pub questions: Vec<Question>,
    pub closes_at: i64,
    pub closed_at: Option<i64>,
    /// People with a current answer.
    pub respondents: i64,
    /// Per question: how many chose each option, how many wrote a text.
    #[schema(value_type = Vec<Object>)]
    pub counts: Vec<QuestionCount>,
    /// Per question: the current free-text answers (no names).
    pub texts: Vec<Vec<String>>,
}

impl QuestionnaireView {
    pub fn is_open(&self, now: i64) -> bool {
        self.closed_at.is_none() && now < self.closes_at
    }
}

pub async fn create_questionnaire(
    tx: &mut Tx,
    actor: &str,
    matter_id: &str,
    title: &str,
    questions: &[Question],
    closes_at: i64,
    now: i64,
) -> Result<String, StoreError> {
    let title = title.trim();
    if title.is_empty() || title.chars().count() > 200 {
        return Err(StoreError::invalid("title", "1 to 200 characters"));
    }
    dl::validate_questions(questions).map_err(field)?;
    if closes_at <= now {
        return Err(StoreError::invalid("closes_at", "must be in the future"));
    }
    let scope_path = scope_of(tx, matter_id).await?;
    let id = db::new_id();
    sqlx::query("INSERT INTO questionnaires (id, matter_id, title, questions_json, closes_at, closed_at, created_by, created_at) VALUES ($1, $2, $3, $4, $5, NULL, $6, $7)")
        .bind(id.clone())
        .bind(matter_id.to_string())
        .bind(title.to_string())
        .bind(serde_json::to_string(questions).expect("questions serialize"))
        .bind(closes_at)
        .bind(actor.to_string())
        .bind(now)
        .execute(&mut **tx)
        .await?;
    audit::record(
        tx,
        Entry {
            actor: actor.into(),
            action: "questionnaire.create".into(),
            entity: "questionnaire".into(),
            entity_id: id.clone(),
            scope_path,
            before: None,
            after: Some(
                json!({"matter": matter_id, "title": title, "questions": questions, "closes_at": closes_at}),
            ),
        },
    )
    .await?;
    Ok(id)
}

/// The questionnaire's matter and scope, its questions and whether it takes answers.
async fn questionnaire_in_tx(
    tx: &mut Tx,
    id: &str,
) -> Result<(String, String, Vec<Question>, i64, Option<i64>), StoreError> {
    let r = sqlx::query(
        "SELECT q.matter_id, m.scope_path, q.questions_json, q.closes_at, q.closed_at \
         FROM questionnaires q JOIN matters m ON m.id = q.matter_id WHERE q.id = $1",
    )
    .bind(id.to_string())
    .fetch_optional(&mut **tx)
    .await?
    .ok_or_else(|| StoreError::not_found(format!("questionnaire '{id}'")))?;
    let qs: Vec<Question> = serde_json::from_str(&db::s(&r, "questions_json")?)
        .map_err(|e| StoreError::Config(format!("stored questions: {e}")))?;
    Ok((
        db::s(&r, "matter_id")?,
        db::s(&r, "scope_path")?,
        qs,
        db::i(&r, "closes_at")?,
        db::oi(&r, "closed_at")?,
    ))
}

/// Closes a questionnaire before its time (it closes by itself at `closes_at`).
pub(crate) async fn close_questionnaire(
    tx: &mut Tx,
    actor: &str,
    id: &str,
    now: i64,
) -> Result<(), StoreError> {
    let (_, scope_path, _, closes_at, closed_at) = questionnaire_in_tx(tx, id).await?;
    if closed_at.is_some() || now >= closes_at {
        return Err(StoreError::Conflict(
            "the questionnaire is already closed".into(),
        ));
    }
    sqlx::query("UPDATE questionnaires SET closed_at = $1 WHERE id = $2 AND closed_at IS NULL")
        .bind(now)
        .bind(id.to_string())
        .execute(&mut **tx)
        .await?;
    audit::record(
        tx,
        Entry {
            actor: actor.into(),
            action: "questionnaire.close".into(),
            entity: "questionnaire".into(),
            entity_id: id.into(),
            scope_path,
            before: Some(json!({"closed_at": null})),
            after: Some(json!({"closed_at": now})),
        },
    )
    .await?;
    Ok(())
}

/// Records a person's answers; a later answer replaces the earlier one as
/// current (both are kept). Returns the answer's sequence number (1 = first).
pub async fn answer(
    tx: &mut Tx,
    id: &str,
    user_id: &str,
    answers: &[Answer],
    now: i64,
) -> Result<i64, StoreError> {
    let (_, scope_path, qs, closes_at, closed_at) = questionnaire_in_tx(tx, id).await?;
    if closed_at.is_some() || now >= closes_at {
        return Err(StoreError::Conflict(
            "the questionnaire is closed; no more answers are taken".into(),
        ));
    }
    dl::validate_answers(&qs, answers).map_err(field)?;
    let r = sqlx::query("SELECT COALESCE(MAX(seq), 0) AS n FROM questionnaire_answers WHERE questionnaire_id = $1 AND user_id = $2")
        .bind(id.to_string())
        .bind(user_id.to_string())
        .fetch_one(&mut **tx)
        .await?;
    let seq = db::i(&r, "n")? + 1;
    sqlx::query("INSERT INTO questionnaire_answers (id, questionnaire_id, user_id, seq, answers_json, at) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(db::new_id())
        .bind(id.to_string())
        .bind(user_id.to_string())
        .bind(seq)
        .bind(serde_json::to_string(answers).expect("answers serialize"))
        .bind(now)
        .execute(&mut **tx)
        .await?;
    audit::record(
        tx,
        Entry {
            actor: format!("user:{user_id}"),
            action: "questionnaire.answer".into(),
            entity: "questionnaire".into(),
            entity_id: id.into(),
            scope_path,
            before: None,
            after: Some(json!({"seq": seq, "replaces_earlier": seq > 1})),
        },
    )
    .await?;
    Ok(seq)
}

/// Every person's current answers.
async fn current_answers(db: &Db, id: &str) -> Result<Vec<(String, Vec<Answer>)>, StoreError> {
    let rows = sqlx::query(
        "SELECT a.user_id, a.answers_json FROM questionnaire_answers a WHERE a.questionnaire_id = $1 \
         AND a.seq = (SELECT MAX(b.seq) FROM questionnaire_answers b WHERE b.questionnaire_id = a.questionnaire_id AND b.user_id = a.user_id) \
         ORDER BY a.at, a.id",
    )
    .bind(id.to_string())
    .fetch_all(db.reader())
    .await?;
    rows.iter()
        .map(|r| {
            let a: Vec<Answer> = serde_json::from_str(&db::s(r, "answers_json")?)
                .map_err(|e| StoreError::Config(format!("stored answers: {e}")))?;
            Ok((db::s(r, "user_id")?, a))
        })
        .collect()
}

/// The user's current answers, if any.
pub async fn my_answers(
    db: &Db,
    id: &str,
    user_id: &str,
) -> Result<Option<Vec<Answer>>, StoreError> {
    Ok(current_answers(db, id)
        .await?
        .into_iter()
        .find(|(u, _)| u == user_id)
        .map(|(_, a)| a))
}

pub async fn questionnaire(db: &Db, id: &str) -> Result<QuestionnaireView, StoreError> {
    let r = sqlx::query("SELECT id, matter_id, title, questions_json, closes_at, closed_at FROM questionnaires WHERE id = $1")
        .bind(id.to_string())
        .fetch_optional(db.reader())
        .await?
        .ok_or_else(|| StoreError::not_found(format!("questionnaire '{id}'")))?;
    let questions: Vec<Question> = serde_json::from_str(&db::s(&r, "questions_json")?)
        .map_err(|e| StoreError::Config(format!("stored questions: {e}")))?;
    let current: Vec<Vec<Answer>> = current_answers(db, id)
        .await?
        .into_iter()
        .map(|(_, a)| a)
        .collect();
    let texts = (0..questions.len())
        .map(|i| {
            current
                .iter()
                .filter_map(|a| match a.get(i) {
                    Some(Answer::Text(t)) => Some(t.clone()),
                    _ => None,
                })
                .collect()
        })
        .collect();
    Ok(QuestionnaireView {
        id: db::s(&r, "id")?,
        matter_id: db::s(&r, "matter_id")?,
        title: db::s(&r, "title")?,
        counts: dl::count(&questions, &current),
        respondents: current.len() as i64,
        texts,
        questions,
        closes_at: db::i(&r, "closes_at")?,
        closed_at: db::oi(&r, "closed_at")?,
    })
}

pub async fn questionnaires_of(
    db: &Db,
    matter_id: &str,
) -> Result<Vec<QuestionnaireView>, StoreError> {
    let rows =
        sqlx::query("SELECT id FROM questionnaires WHERE matter_id = $1 ORDER BY created_at, id")
            .bind(matter_id.to_string())
            .fetch_all(db.reader())
            .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        out.push(questionnaire(db, &db::s(r, "id")?).await?);
    }
    Ok(out)
}

/// Where a part is: its place path, its micro-grid and its owner.
#[derive(Debug, Clone)]
pub struct PartWhere {
    pub path: String,
    pub grid_id: Option<String>,
    pub owner_id: String,
}

pub async fn part_where(db: &Db, part_id: &str) -> Result<PartWhere, StoreError> {
    let r = sqlx::query(
        "SELECT pl.path, gp.grid_id, pt.owner_id FROM parts pt JOIN places pl ON pl.id = pt.place_id \
         LEFT JOIN grid_parts gp ON gp.part_id = pt.id WHERE pt.id = $1",
    )
    .bind(part_id.to_string())
    .fetch_optional(db.reader())
    .await?
    .ok_or_else(|| StoreError::invalid("part_id", format!("no part '{part_id}'")))?;
    Ok(PartWhere {
        path: db::s(&r, "path")?,
        grid_id: db::os(&r, "grid_id")?,
        owner_id: db::s(&r, "owner_id")?,
    })
}

/// A paper ballot collected at the door: the vote, the choice and the scan.
#[derive(Debug, Clone)]
pub struct DoorBallot<'a> {
    pub vote_id: &'a str,
    pub choice: Choice,
    pub evidence_id: &'a str,
}

pub struct NewDoorRecord<'a> {
    pub matter_id: &'a str,
    pub part_id: &'a str,
    /// The visit's date, `YYYY-MM-DD`.
    pub visited_on: &'a str,
    pub opinion: &'a str,
    /// Who knocked (shown).
    pub worker: &'a str,
    /// Who recorded it (audit actor).
    pub recorded_by: &'a str,
    pub ballot: Option<DoorBallot<'a>>,
    pub now: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DoorRecord {
    pub id: String,
    pub part_id: String,
    pub part: String,
    pub visited_on: String,
    pub opinion: String,
    pub worker: String,
    pub vote_id: Option<String>,
    pub ballot_receipt: Option<String>,
    pub at: i64,
}

/// Records a visit to a household of the matter's scope; with a ballot, the
/// part's owner's paper ballot is cast in the same transaction.
pub async fn add_door_record(tx: &mut Tx, r: NewDoorRecord<'_>) -> Result<DoorRecord, StoreError> {
    dl::validate_date(r.visited_on).map_err(field)?;
    let opinion = r.opinion.trim();
    if opinion.is_empty() || opinion.chars().count() > 2000 {
        return Err(StoreError::invalid("opinion", "1 to 2000 characters"));
    }
    let worker = r.worker.trim();
    if worker.is_empty() || worker.chars().count() > 100 {
        return Err(StoreError::invalid("worker", "1 to 100 characters"));
    }
    let scope_path = scope_of(tx, r.matter_id).await?;
    let (lo, hi) = subtree(&scope_path);
    let part = sqlx::query(
        "SELECT pt.id, pt.number, pt.owner_id, pl.path, pl.kind AS place_kind, pl.name AS place_name, par.name AS parent_name \
         FROM parts pt JOIN places pl ON pl.id = pt.place_id LEFT JOIN places par ON par.id = pl.parent_id WHERE pt.id = $1",
    )
    .bind(r.part_id.to_string())
    .fetch_optional(&mut **tx)
    .await?
    .ok_or_else(|| StoreError::invalid("part_id", format!("no part '{}'", r.part_id)))?;
    let path = db::s(&part, "path")?;
    if path < lo || path >= hi {
        return Err(StoreError::invalid(
            "part_id",
            "this household is not in the matter's scope",
        ));
    }
    let label = crate::votes::part_label(&part)?;
    let mut receipt = None;
    if let Some(b) = &r.ballot {
        let v = crate::votes::vote_in_tx(tx, b.vote_id).await?;
        if v.scope_path < lo || v.scope_path >= hi {
            return Err(StoreError::invalid(
                "vote_id",
                "no such vote in this matter's scope",
            ));
        }
        let owner = db::s(&part, "owner_id")?;
        let rc = crate::votes::cast(
            tx,
            crate::votes::Cast {
                vote_id: b.vote_id,
                owner_id: &owner,
                choice: b.choice,
                channel: Channel::Paper,
                cast_by: r.recorded_by,
                proxy_holder: None,
                evidence_id: Some(b.evidence_id),
                now: r.now,
            },
        )
        .await?;
        receipt = Some(rc.receipt);
    }
    let id = db::new_id();
    let vote_id = r.ballot.as_ref().map(|b| b.vote_id.to_string());
    sqlx::query("INSERT INTO door_records (id, matter_id, part_id, visited_on, opinion, worker, recorded_by, vote_id, ballot_receipt, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)")
        .bind(id.clone())
        .bind(r.matter_id.to_string())
        .bind(r.part_id.to_string())
        .bind(r.visited_on.to_string())
        .bind(opinion.to_string())
        .bind(worker.to_string())
        .bind(r.recorded_by.to_string())
        .bind(vote_id.clone())
        .bind(receipt.clone())
        .bind(r.now)
        .execute(&mut **tx)
        .await?;
    let rec = DoorRecord {
        id,
        part_id: r.part_id.into(),
        part: label,
        visited_on: r.visited_on.into(),
        opinion: opinion.into(),
        worker: worker.into(),
        vote_id,
        ballot_receipt: receipt,
        at: r.now,
    };
    audit::record(
        tx,
        Entry {
            actor: r.recorded_by.into(),
            action: "matter.door_record".into(),
            entity: "matter".into(),
            entity_id: r.matter_id.into(),
            scope_path,
            before: None,
            // The audit trail keeps free text masked.
            after: Some(json!(DoorRecord {
                opinion: mask_text(&rec.opinion),
                ..rec.clone()
            })),
        },
    )
    .await?;
    Ok(rec)
}

const PART_COLS: &str = "pt.id, pt.number, pl.kind AS place_kind, pl.name AS place_name, par.name AS parent_name, gp.grid_id";
const PART_JOINS: &str = "FROM parts pt JOIN places pl ON pl.id = pt.place_id LEFT JOIN places par ON par.id = pl.parent_id LEFT JOIN grid_parts gp ON gp.part_id = pt.id";

/// `AND gp.grid_id IN (…)` for a grid filter, from placeholder `n`.
fn grid_clause(filter: &PartFilter, n: usize) -> Option<String> {
    match filter {
        PartFilter::All => Some(String::new()),
        PartFilter::Grids(g) if g.is_empty() => None,
        PartFilter::Grids(g) => Some(format!(
            " AND gp.grid_id IN ({})",
            db::in_placeholders(n, g.len())
        )),
    }
}

/// Door records of a matter (in the grids of `filter`), newest first.
pub async fn door_records_of(
    db: &Db,
    matter_id: &str,
    filter: &PartFilter,
) -> Result<Vec<DoorRecord>, StoreError> {
    let Some(clause) = grid_clause(filter, 2) else {
        return Ok(vec![]);
    };
    let sql = format!(
        "SELECT d.id AS rid, d.visited_on, d.opinion, d.worker, d.vote_id, d.ballot_receipt, d.at, {PART_COLS} \
         FROM door_records d JOIN parts pt ON pt.id = d.part_id JOIN places pl ON pl.id = pt.place_id \
         LEFT JOIN places par ON par.id = pl.parent_id LEFT JOIN grid_parts gp ON gp.part_id = pt.id \
         WHERE d.matter_id = $1{clause} ORDER BY d.at DESC, d.id LIMIT 2000"
    );
    let mut q = sqlx::query(&sql).bind(matter_id.to_string());
    if let PartFilter::Grids(g) = filter {
        for id in g {
            q = q.bind(id.clone());
        }
    }
    let rows = q.fetch_all(db.reader()).await?;
    rows.iter()
        .map(|r| {
            Ok(DoorRecord {
                id: db::s(r, "rid")?,
                part_id: db::s(r, "id")?,
                part: crate::votes::part_label(r)?,
                visited_on: db::s(r, "visited_on")?,
                opinion: mask_text(&db::s(r, "opinion")?),
                worker: db::s(r, "worker")?,
                vote_id: db::os(r, "vote_id")?,
                ballot_receipt: db::os(r, "ballot_receipt")?,
                at: db::i(r, "at")?,
            })
        })
        .collect()
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CoveredPart {
    pub part_id: String,
    pub part: String,
    pub grid_id: Option<String>,
    pub visits: i64,
    /// The latest visit's date.
    pub last_visit: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Coverage {
    /// Households (flats) of the scope the caller may see.
    pub households: i64,
    pub reached: i64,
    pub not_reached: i64,
    pub reached_parts: Vec<CoveredPart>,
    pub not_reached_parts: Vec<CoveredPart>,
}

/// Which households (flats) of the matter's scope — in the grids of
/// `filter` — have been reached by a door-to-door visit and which not.
pub async fn coverage(
    db: &Db,
    matter: &MatterView,
    filter: &PartFilter,
) -> Result<Coverage, StoreError> {
    let Some(clause) = grid_clause(filter, 4) else {
        return Ok(Coverage {
            households: 0,
            reached: 0,
            not_reached: 0,
            reached_parts: vec![],
            not_reached_parts: vec![],
        });
    };
    let sql = format!(
        "SELECT {PART_COLS}, v.visits, v.last_visit {PART_JOINS} \
         LEFT JOIN (SELECT part_id, COUNT(*) AS visits, MAX(visited_on) AS last_visit FROM door_records WHERE matter_id = $3 GROUP BY part_id) v ON v.part_id = pt.id \
         WHERE pl.path >= $1 AND pl.path < $2 AND pt.kind = 'flat'{clause}"
    );
    let (lo, hi) = subtree(&matter.scope_path);
    let mut q = sqlx::query(&sql).bind(lo).bind(hi).bind(matter.id.clone());
    if let PartFilter::Grids(g) = filter {
        for id in g {
            q = q.bind(id.clone());
        }
    }
    let rows = q.fetch_all(db.reader()).await?;
    let mut parts: Vec<CoveredPart> = rows
        .iter()
        .map(|r| {
            Ok(CoveredPart {
                part_id: db::s(r, "id")?,
                part: crate::votes::part_label(r)?,
                grid_id: db::os(r, "grid_id")?,
                visits: db::oi(r, "visits")?.unwrap_or(0),
                last_visit: db::os(r, "last_visit")?,
            })
        })
        .collect::<Result<_, StoreError>>()?;
    parts.sort_by(|a, b| crate::register::natural_cmp(&a.part, &b.part));
    let (reached_parts, not_reached_parts): (Vec<_>, Vec<_>) =
        parts.into_iter().partition(|p| p.visits > 0);
    Ok(Coverage {
        households: (reached_parts.len() + not_reached_parts.len()) as i64,
        reached: reached_parts.len() as i64,
        not_reached: not_reached_parts.len() as i64,
        reached_parts,
        not_reached_parts,
    })
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DocumentView {
    pub id: String,
    /// The index of the done step it belongs to.
    pub step_idx: i64,
    pub name: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    pub added_by: String,
    pub at: i64,
}

/// Attaches a document (PDF or image, ≤ 5 MiB, type checked by signature) to
/// the done step `step_key` of a matter. `roles` are the caller's roles over
/// the matter's scope: one of them must act in that step (or be admin).
#[allow(clippy::too_many_arguments)]
pub async fn add_document(
    tx: &mut Tx,
    actor: &str,
    matter_id: &str,
    step_key: &str,
    roles: &[gongzhi_domain::policy::Role],
    name: &str,
    content_type: &str,
    bytes: &[u8],
    now: i64,
) -> Result<DocumentView, StoreError> {
    use sha2::{Digest, Sha256};
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(StoreError::invalid("name", "1 to 200 characters"));
    }
    gongzhi_domain::ballot::check_evidence(content_type, bytes)
        .map_err(|e| StoreError::invalid("file", e))?;
    let r = sqlx::query("SELECT scope_path, procedure_json FROM matters WHERE id = $1")
        .bind(matter_id.to_string())
        .fetch_optional(&mut **tx)
        .await?
        .ok_or_else(|| StoreError::not_found(format!("matter '{matter_id}'")))?;
    let scope_path = db::s(&r, "scope_path")?;
    let p: gongzhi_domain::procedure::Procedure =
        serde_json::from_str(&db::s(&r, "procedure_json")?)
            .map_err(|e| StoreError::Config(format!("stored procedure: {e}")))?;
    let done = sqlx::query("SELECT idx FROM matter_steps WHERE matter_id = $1 AND step_key = $2")
        .bind(matter_id.to_string())
        .bind(step_key.to_string())
        .fetch_optional(&mut **tx)
        .await?
        .ok_or_else(|| StoreError::invalid("step", format!("step '{step_key}' is not done yet")))?;
    let idx = db::i(&done, "idx")?;
    let step = p
        .steps
        .get(idx as usize)
        .ok_or_else(|| StoreError::Config("stored step index".into()))?;
    use gongzhi_domain::policy::Role;
    if !roles
        .iter()
        .any(|r| *r == Role::Admin || step.roles.contains(r))
    {
        return Err(StoreError::invalid(
            "step",
            format!("documents of step '{step_key}' are added by those who act in it"),
        ));
    }
    let ct = gongzhi_domain::ballot::media_type(content_type);
    let view = DocumentView {
        id: db::new_id(),
        step_idx: idx,
        name: name.into(),
        content_type: ct,
        size: bytes.len() as i64,
        sha256: hex::encode(Sha256::digest(bytes)),
        added_by: actor.into(),
        at: now,
    };
    sqlx::query("INSERT INTO matter_documents (id, matter_id, step_idx, name, content_type, size, sha256, bytes_hex, added_by, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)")
        .bind(view.id.clone())
        .bind(matter_id.to_string())
        .bind(idx)
        .bind(view.name.clone())
        .bind(view.content_type.clone())
        .bind(view.size)
        .bind(view.sha256.clone())
        .bind(hex::encode(bytes))
        .bind(actor.to_string())
        .bind(now)
        .execute(&mut **tx)
        .await?;
    audit::record(
        tx,
        Entry {
            actor: actor.into(),
            action: "matter.document".into(),
            entity: "matter".into(),
            entity_id: matter_id.into(),
            scope_path,
            before: None,
            after: Some(json!(view)),
        },
    )
    .await?;
    Ok(view)
}

pub async fn documents_of(db: &Db, matter_id: &str) -> Result<Vec<DocumentView>, StoreError> {
    let rows = sqlx::query("SELECT id, step_idx, name, content_type, size, sha256, added_by, at FROM matter_documents WHERE matter_id = $1 ORDER BY step_idx, at, id")
        .bind(matter_id.to_string())
        .fetch_all(db.reader())
        .await?;
    rows.iter()
        .map(|r| {
            Ok(DocumentView {
                id: db::s(r, "id")?,
                step_idx: db::i(r, "step_idx")?,
                name: db::s(r, "name")?,
                content_type: db::s(r, "content_type")?,
                size: db::i(r, "size")?,
                sha256: db::s(r, "sha256")?,
                added_by: db::s(r, "added_by")?,
                at: db::i(r, "at")?,
            })
        })
        .collect()
}

/// A document's type and bytes.
pub async fn document_bytes(
    db: &Db,
    matter_id: &str,
    id: &str,
) -> Result<(String, String, Vec<u8>), StoreError> {
    let r = sqlx::query("SELECT name, content_type, bytes_hex FROM matter_documents WHERE id = $1 AND matter_id = $2")
        .bind(id.to_string())
        .bind(matter_id.to_string())
        .fetch_optional(db.reader())
        .await?
        .ok_or_else(|| StoreError::not_found(format!("document '{id}'")))?;
    let bytes = hex::decode(db::s(&r, "bytes_hex")?)
        .map_err(|e| StoreError::Config(format!("stored document: {e}")))?;
    Ok((db::s(&r, "name")?, db::s(&r, "content_type")?, bytes))
}

// Commands: each takes `&Db` and owns its transaction; the API and the
// matter page both call them.

/// Who takes part in a matter's opinion collection: the user, the name
/// shown with their comments, and the roles they hold over the matter's
/// scope.
#[derive(Debug, Clone)]
pub struct Speaker {
    pub user_id: String,
    pub name: String,
    pub roles: Vec<gongzhi_domain::policy::Role>,
}

/// Whether `speaker` may speak on a matter over `scope_path` (the domain's
/// [`dl::may_speak`]: a role over it, or owning or living in a part of it).
pub async fn may_speak(db: &Db, speaker: &Speaker, scope_path: &str) -> Result<bool, StoreError> {
    let lives = lives_or_owns_in(db, &speaker.user_id, scope_path).await?;
    Ok(dl::may_speak(&speaker.roles, lives))
}

async fn check_may_speak(db: &Db, speaker: &Speaker, scope_path: &str) -> Result<(), StoreError> {
    if may_speak(db, speaker, scope_path).await? {
        Ok(())
    } else {
        Err(StoreError::Forbidden(
            "only people in this matter's scope may take part: you own or live in no part of it"
                .into(),
        ))
    }
}

/// Comments on the matter at `scope_path` as `speaker` (who must be in its
/// scope, else [`StoreError::Forbidden`]).
pub async fn comment(
    db: &Db,
    speaker: &Speaker,
    matter_id: &str,
    scope_path: &str,
    body: &str,
    now: i64,
) -> Result<Comment, StoreError> {
    check_may_speak(db, speaker, scope_path).await?;
    let args = (speaker.clone(), matter_id.to_string(), body.to_string());
    db.write_with(args, move |tx, (s, matter_id, body)| {
        Box::pin(async move { add_comment(tx, &s.user_id, &s.name, &matter_id, &body, now).await })
    })
    .await
}

/// Records `speaker`'s answers to a questionnaire of a matter at
/// `scope_path` (they must be in its scope); the answer's `seq`.
pub async fn answer_as(
    db: &Db,
    speaker: &Speaker,
    questionnaire_id: &str,
    scope_path: &str,
    answers: &[Answer],
    now: i64,
) -> Result<i64, StoreError> {
    check_may_speak(db, speaker, scope_path).await?;
    let args = (
        speaker.user_id.clone(),
        questionnaire_id.to_string(),
        answers.to_vec(),
    );
    db.write_with(args, move |tx, (uid, id, answers)| {
        Box::pin(async move { answer(tx, &id, &uid, &answers, now).await })
    })
    .await
}

/// Publishes a questionnaire on a matter; its id.
pub async fn publish(
    db: &Db,
    actor: &str,
    matter_id: &str,
    title: &str,
    questions: &[Question],
    closes_at: i64,
    now: i64,
) -> Result<String, StoreError> {
    let args = (
        actor.to_string(),
        matter_id.to_string(),
        title.to_string(),
        questions.to_vec(),
    );
    db.write_with(args, move |tx, (actor, id, title, qs)| {
        Box::pin(
            async move { create_questionnaire(tx, &actor, &id, &title, &qs, closes_at, now).await },
        )
    })
    .await
}

/// Closes a questionnaire before its time.
pub async fn close(
    db: &Db,
    actor: &str,
    questionnaire_id: &str,
    now: i64,
) -> Result<(), StoreError> {
    let args = (actor.to_string(), questionnaire_id.to_string());
    db.write_with(args, move |tx, (actor, id)| {
        Box::pin(async move { close_questionnaire(tx, &actor, &id, now).await })
    })
    .await
}

/// A door-to-door visit to record ([`record_visit`]).
#[derive(Debug, Clone)]
pub struct Visit {
    pub matter_id: String,
    pub part_id: String,
    /// `YYYY-MM-DD`.
    pub visited_on: String,
    pub opinion: String,
    /// Who knocked (shown).
    pub worker: String,
    /// Who recorded it (audit actor).
    pub recorded_by: String,
    /// A paper ballot signed at the door: vote id, choice as written
    /// (`yes`, `no`, `abstain`), evidence id.
    pub ballot: Option<(String, String, String)>,
    pub now: i64,
}

/// Records a visit; a recorder narrowed to micro-grids (`grids`) records
/// only in them ([`StoreError::Forbidden`]).
pub async fn record_visit(
    db: &Db,
    v: Visit,
    grids: Option<&[String]>,
) -> Result<DoorRecord, StoreError> {
    if let Some(grids) = grids {
        let w = part_where(db, &v.part_id).await?;
        if !w.grid_id.as_ref().is_some_and(|g| grids.contains(g)) {
            return Err(StoreError::Forbidden(
                "this household is not in your micro-grid".into(),
            ));
        }
    }
    let choice = match &v.ballot {
        Some((_, c, _)) => Some(Choice::parse(c.trim()).ok_or_else(|| {
            StoreError::invalid("ballot.choice", format!("unknown choice '{c}'"))
        })?),
        None => None,
    };
    db.write_with(v, move |tx, v| {
        Box::pin(async move {
            let ballot = match (&v.ballot, choice) {
                (Some((vote_id, _, evidence_id)), Some(choice)) => Some(DoorBallot {
                    vote_id,
                    choice,
                    evidence_id,
                }),
                _ => None,
            };
            add_door_record(
                tx,
                NewDoorRecord {
                    matter_id: &v.matter_id,
                    part_id: &v.part_id,
                    visited_on: &v.visited_on,
                    opinion: &v.opinion,
                    worker: &v.worker,
                    recorded_by: &v.recorded_by,
                    ballot,
                    now: v.now,
                },
            )
            .await
        })
    })
    .await
}

/// A document for a done step ([`attach`]).
#[derive(Debug, Clone)]
pub struct NewDocument {
    pub actor: String,
    pub matter_id: String,
    pub step: String,
    /// The roles the actor holds over the matter's scope.
    pub roles: Vec<gongzhi_domain::policy::Role>,
    pub name: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
    pub now: i64,
}

/// Attaches a document to a done step (by one who acts in it).
pub async fn attach(db: &Db, d: NewDocument) -> Result<DocumentView, StoreError> {
    db.write_with(d, |tx, d| {
        Box::pin(async move {
            add_document(
                tx,
                &d.actor,
                &d.matter_id,
                &d.step,
                &d.roles,
                &d.name,
                &d.content_type,
                &d.bytes,
                d.now,
            )
            .await
        })
    })
    .await
}
