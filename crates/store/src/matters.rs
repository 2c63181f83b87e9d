//! Matters (议题): a title over a scope following a procedure (data, see
//! `gongzhi_domain::procedure`); each completed step is appended, checked
//! for order, role and day limits, and audited.

use crate::audit::{self, Entry};
use crate::db::{self, Db, Tx};
use crate::error::StoreError;
use crate::register::Place;
use gongzhi_domain::policy::Role;
use gongzhi_domain::procedure::{self, Procedure};
use serde::Serialize;
use serde_json::json;
use sqlx::any::AnyRow;

pub use gongzhi_domain::procedure::StepDone;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MatterView {
    pub id: String,
    pub place_id: String,
    pub title: String,
    #[schema(value_type = Object)]
    pub procedure: Procedure,
    pub steps: Vec<StepDone>,
    /// The key of the next step; None when the procedure is complete.
    pub next_step: Option<String>,
    #[serde(skip)]
    pub scope_path: String,
}

pub async fn create_matter(
    tx: &mut Tx,
    actor: &str,
    place: &Place,
    title: &str,
    p: &Procedure,
) -> Result<MatterView, StoreError> {
    let title = title.trim();
    if title.is_empty() || title.chars().count() > 200 {
        return Err(StoreError::invalid("title", "1 to 200 characters"));
    }
    procedure::validate(p).map_err(|e| StoreError::invalid("procedure", e.to_string()))?;
    let id = db::new_id();
    sqlx::query("INSERT INTO matters (id, place_id, scope_path, title, procedure_json, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
        .bind(id.clone())
        .bind(place.id.clone())
        .bind(place.path.clone())
        .bind(title.to_string())
        .bind(serde_json::to_string(p).expect("a procedure serializes"))
        .bind(actor.to_string())
        .bind(db::now_ms())
        .execute(&mut **tx)
        .await?;
    audit::record(
        tx,
        Entry {
            actor: actor.into(),
            action: "matter.create".into(),
            entity: "matter".into(),
            entity_id: id.clone(),
            scope_path: place.path.clone(),
            before: None,
            after: Some(json!({"title": title, "procedure": p.key})),
        },
    )
    .await?;
    Ok(MatterView {
        id,
        place_id: place.id.clone(),
        title: title.to_string(),
        next_step: p.steps.first().map(|s| s.key.clone()),
        procedure: p.clone(),
        steps: vec![],
        scope_path: place.path.clone(),
    })
}

async fn matter_from(db: &Db, id: &str) -> Result<MatterView, StoreError> {
    let ex = db.reader();
    let r = sqlx::query(
        "SELECT id, place_id, scope_path, title, procedure_json FROM matters WHERE id = $1",
    )
    .bind(id.to_string())
    .fetch_optional(ex)
    .await?
    .ok_or_else(|| StoreError::not_found(format!("matter '{id}'")))?;
    let p: Procedure = serde_json::from_str(&db::s(&r, "procedure_json")?)
        .map_err(|e| StoreError::Config(format!("stored procedure: {e}")))?;
    let rows = sqlx::query("SELECT idx, step_key, role, actor, note, vote_id, at FROM matter_steps WHERE matter_id = $1 ORDER BY idx").bind(id.to_string()).fetch_all(ex).await?;
    let steps: Vec<StepDone> = rows.iter().map(step_from).collect::<Result<_, _>>()?;
    Ok(MatterView {
        id: db::s(&r, "id")?,
        place_id: db::s(&r, "place_id")?,
        title: db::s(&r, "title")?,
        next_step: p.steps.get(steps.len()).map(|s| s.key.clone()),
        procedure: p,
        steps,
        scope_path: db::s(&r, "scope_path")?,
    })
}

fn step_from(r: &AnyRow) -> Result<StepDone, StoreError> {
    Ok(StepDone {
        idx: db::i(r, "idx")?,
        step_key: db::s(r, "step_key")?,
        role: db::s(r, "role")?,
        actor: db::s(r, "actor")?,
        note: db::s(r, "note")?,
        vote_id: db::os(r, "vote_id")?,
        at: db::i(r, "at")?,
    })
}

pub async fn get_matter(db: &Db, id: &str) -> Result<MatterView, StoreError> {
    matter_from(db, id).await
}

pub async fn matters_under(db: &Db, place: &Place) -> Result<Vec<MatterView>, StoreError> {
    let (lo, hi) = crate::register::subtree(&place.path);
    let rows = sqlx::query("SELECT id FROM matters WHERE scope_path >= $1 AND scope_path < $2 ORDER BY id DESC LIMIT 200").bind(lo).bind(hi).fetch_all(db.reader()).await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        out.push(get_matter(db, &db::s(r, "id")?).await?);
    }
    Ok(out)
}

/// Appends step `key` done at `at` (ms) by someone holding `roles` over the
/// matter's scope; the first role the procedure accepts is recorded.
#[allow(clippy::too_many_arguments)]
pub async fn record_step(
    tx: &mut Tx,
    actor: &str,
    matter_id: &str,
    key: &str,
    roles: &[Role],
    note: &str,
    vote_id: Option<&str>,
    at: i64,
) -> Result<StepDone, StoreError> {
    let m = {
        let r = sqlx::query("SELECT scope_path FROM matters WHERE id = $1")
            .bind(matter_id.to_string())
            .fetch_optional(&mut **tx)
            .await?;
        r.ok_or_else(|| StoreError::not_found(format!("matter '{matter_id}'")))?;
        let r = sqlx::query(
            "SELECT id, place_id, scope_path, title, procedure_json FROM matters WHERE id = $1",
        )
        .bind(matter_id.to_string())
        .fetch_one(&mut **tx)
        .await?;
        let p: Procedure = serde_json::from_str(&db::s(&r, "procedure_json")?)
            .map_err(|e| StoreError::Config(format!("stored procedure: {e}")))?;
        let rows = sqlx::query("SELECT idx, step_key, role, actor, note, vote_id, at FROM matter_steps WHERE matter_id = $1 ORDER BY idx").bind(matter_id.to_string()).fetch_all(&mut **tx).await?;
        let steps: Vec<StepDone> = rows.iter().map(step_from).collect::<Result<_, _>>()?;
        (p, steps, db::s(&r, "scope_path")?)
    };
    let (p, steps, scope_path) = m;
    if note.chars().count() > 5000 {
        return Err(StoreError::invalid("note", "at most 5000 characters"));
    }
    let done_at: Vec<i64> = steps.iter().map(|s| s.at).collect();
    let mut last_err = None;
    let mut chosen = None;
    for r in roles {
        match procedure::check_step(&p, &done_at, key, *r, at) {
            Ok(i) => {
                chosen = Some((i, *r));
                break;
            }
            Err(e) => last_err = Some(e),
        }
    }
    let (idx, role) = match (chosen, last_err) {
        (Some(c), _) => c,
        (None, Some(e @ procedure::StepError::WrongRole { .. })) => {
            return Err(StoreError::invalid("step", e.to_string()))
        }
        (None, Some(e)) => return Err(StoreError::Conflict(e.to_string())),
        (None, None) => {
            return Err(StoreError::invalid(
                "step",
                "you hold no role over this matter's scope",
            ))
        }
    };
    if let Some(v) = vote_id {
        let found = sqlx::query(
            "SELECT id FROM votes WHERE id = $1 AND scope_path >= $2 AND scope_path < $3",
        )
        .bind(v.to_string())
        .bind(crate::register::subtree(&scope_path).0)
        .bind(crate::register::subtree(&scope_path).1)
        .fetch_optional(&mut **tx)
        .await?;
        if found.is_none() {
            return Err(StoreError::invalid(
                "vote_id",
                "no such vote in this matter's scope",
            ));
        }
    }
    let id = db::new_id();
    sqlx::query("INSERT INTO matter_steps (id, matter_id, idx, step_key, role, actor, note, vote_id, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)")
        .bind(id.clone())
        .bind(matter_id.to_string())
        .bind(idx as i64)
        .bind(key.to_string())
        .bind(role.as_str())
        .bind(actor.to_string())
        .bind(note.to_string())
        .bind(vote_id.map(str::to_string))
        .bind(at)
        .execute(&mut **tx)
        .await?;
    let done = StepDone {
        idx: idx as i64,
        step_key: key.into(),
        role: role.as_str().into(),
        actor: actor.into(),
        note: note.into(),
        vote_id: vote_id.map(str::to_string),
        at,
    };
    audit::record(
        tx,
        Entry {
            actor: actor.into(),
            action: "matter.step".into(),
            entity: "matter".into(),
            entity_id: matter_id.into(),
            scope_path: scope_path.clone(),
            before: None,
            after: Some(json!(done)),
        },
    )
    .await?;
    // The step is a leaf of its compound's books log, in this transaction
    // (a matter above any compound goes to no compound's log: see
    // `fund::log_matter_step`).
    crate::fund::log_matter_step(tx, &scope_path, matter_id, &done).await?;
    Ok(done)
}

/// The next step of a matter as someone records it ([`take_step`]).
#[derive(Debug, Clone)]
pub struct NextStep {
    pub actor: String,
    pub matter_id: String,
    /// The key of the next step.
    pub step: String,
    /// The roles the actor holds over the matter's scope.
    pub roles: Vec<Role>,
    pub note: String,
    /// For a step that produces a vote: the vote in the matter's scope.
    pub vote_id: Option<String>,
    pub at: i64,
}

/// Records the next step of a matter ([`record_step`]) in its own
/// transaction: the API and the matter page both call it.
pub async fn take_step(db: &Db, s: NextStep) -> Result<StepDone, StoreError> {
    db.write_with(s, |tx, s| {
        Box::pin(async move {
            record_step(
                tx,
                &s.actor,
                &s.matter_id,
                &s.step,
                &s.roles,
                &s.note,
                s.vote_id.as_deref(),
                s.at,
            )
            .await
        })
    })
    .await
}

/// Raises a matter over `place` following procedure `p`, in its own
/// transaction.
pub async fn raise(
    db: &Db,
    actor: &str,
    place: &Place,
    title: &str,
    p: &Procedure,
) -> Result<MatterView, StoreError> {
    let args = (
        actor.to_string(),
        place.clone(),
        title.to_string(),
        p.clone(),
    );
    db.write_with(args, |tx, (actor, place, title, p)| {
        Box::pin(async move { create_matter(tx, &actor, &place, &title, &p).await })
    })
    .await
}
