//! Mediations (调解) of dispute cases: opened with parties and mediators,
//! sessions recorded, one outcome. Rules in `gongzhi_domain::mediation`;
//! every table is append-only (triggers), every step is also an event on the
//! case's timeline and an audit entry, in the same transaction. Callers
//! authorise first.

use crate::audit::{self, Entry};
use crate::cases::{get_tx, insert_event, CaseView};
use crate::db::{self, Db, Tx};
use crate::error::StoreError;
use crate::register::subtree;
use gongzhi_domain::cases::Category;
use gongzhi_domain::mask::{mask_name, mask_phone, mask_text};
use gongzhi_domain::mediation::{
    self as rules, MediationCounts, MediationState, Outcome, OutcomeKind, Party, Session,
};
use gongzhi_domain::place::OrgKind;
use serde::Serialize;
use serde_json::json;

fn refused(e: gongzhi_domain::cases::Refused) -> StoreError {
    StoreError::invalid(e.field, e.reason)
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PartyView {
    /// Masked (张**): parties' names and phones never leave the store in full.
    pub name: String,
    pub side: String,
    pub phone: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MediatorView {
    pub org_id: String,
    pub name: String,
    pub kind: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SessionView {
    pub seq: i64,
    pub held_at: i64,
    pub place: String,
    pub attendees: Vec<String>,
    pub notes: String,
    pub recorded_by: String,
    pub recorded_at: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OutcomeView {
    pub kind: String,
    pub text: Option<String>,
    pub referred_to: Option<String>,
    pub concluded_by: String,
    pub concluded_at: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MediationView {
    pub id: String,
    pub case_id: String,
    /// `open` until the outcome, then `concluded`.
    pub status: String,
    pub opened_by: String,
    pub opened_at: i64,
    pub parties: Vec<PartyView>,
    pub mediators: Vec<MediatorView>,
    pub sessions: Vec<SessionView>,
    pub outcome: Option<OutcomeView>,
}

/// The mediation's id and state, read inside a transaction.
async fn state_tx(tx: &mut Tx, case_id: &str) -> Result<(String, MediationState), StoreError> {
    let m = sqlx::query("SELECT id FROM mediations WHERE case_id = $1")
        .bind(case_id.to_string())
        .fetch_optional(&mut **tx)
        .await?
        .ok_or_else(|| StoreError::not_found(format!("mediation of case '{case_id}'")))?;
    let id = db::s(&m, "id")?;
    let s = sqlx::query(
        "SELECT CAST(COUNT(*) AS BIGINT) AS n, MAX(held_at) AS last FROM mediation_sessions WHERE mediation_id = $1",
    )
    .bind(id.clone())
    .fetch_one(&mut **tx)
    .await?;
    let o = sqlx::query("SELECT kind FROM mediation_outcomes WHERE mediation_id = $1")
        .bind(id.clone())
        .fetch_optional(&mut **tx)
        .await?;
    Ok((
        id,
        MediationState {
            sessions: db::i(&s, "n")? as u32,
            last_session_at: db::oi(&s, "last")?,
            outcome: match o {
                Some(r) => OutcomeKind::parse(&db::s(&r, "kind")?),
                None => None,
            },
        },
    ))
}

/// Every step: an event on the case's timeline (state unchanged) and an audit entry.
async fn record(
    tx: &mut Tx,
    c: &CaseView,
    actor: &str,
    kind: &str,
    note: Option<&str>,
    data: serde_json::Value,
    now: i64,
) -> Result<(), StoreError> {
    insert_event(
        tx,
        &c.id,
        now,
        actor,
        kind,
        Some(c.status()),
        c.status(),
        note,
        Some(data.clone()),
    )
    .await?;
    audit::record(
        tx,
        Entry {
            actor: actor.into(),
            action: kind.replacen("mediation_", "mediation.", 1),
            entity: "case".into(),
            entity_id: c.id.clone(),
            scope_path: c.place_path.clone(),
            before: None,
            after: Some(data),
        },
    )
    .await
}

/// Opens a mediation on a dispute case. Mediators are organisations of kind
/// `mediation_committee` (committees and police mediation rooms) serving the
/// case's place (anchored on it or an ancestor, or spanning one).
pub async fn open_in(
    tx: &mut Tx,
    case_id: &str,
    actor: &str,
    parties: &[Party],
    mediators: &[String],
    now: i64,
) -> Result<String, StoreError> {
    let c = get_tx(tx, case_id, now).await?;
    let category = Category::parse(&c.category).unwrap_or(Category::Other);
    rules::can_open(category, c.status()).map_err(refused)?;
    rules::check_opening(parties, mediators).map_err(refused)?;
    if sqlx::query("SELECT id FROM mediations WHERE case_id = $1")
        .bind(case_id.to_string())
        .fetch_optional(&mut **tx)
        .await?
        .is_some()
    {
        return Err(StoreError::invalid(
            "case_id",
            "this case is already a mediation",
        ));
    }
    let ids = c.path_ids();
    for org in mediators {
        let r = sqlx::query("SELECT kind, place_id FROM organisations WHERE id = $1")
            .bind(org.clone())
            .fetch_optional(&mut **tx)
            .await?
            .ok_or_else(|| {
                StoreError::invalid("mediator_org_ids", format!("no organisation '{org}'"))
            })?;
        if db::s(&r, "kind")? != OrgKind::MediationCommittee.as_str() {
            return Err(StoreError::invalid(
                "mediator_org_ids",
                format!("'{org}' is not a mediation committee or police mediation room"),
            ));
        }
        let anchored = ids.contains(&db::s(&r, "place_id")?);
        let spans = sqlx::query("SELECT place_id FROM organisation_places WHERE org_id = $1")
            .bind(org.clone())
            .fetch_all(&mut **tx)
            .await?
            .iter()
            .any(|s| db::s(s, "place_id").is_ok_and(|p| ids.contains(&p)));
        if !anchored && !spans {
            return Err(StoreError::invalid(
                "mediator_org_ids",
                format!("'{org}' does not serve the place of this case"),
            ));
        }
    }
    let id = db::new_id();
    sqlx::query(
        "INSERT INTO mediations (id, case_id, place_path, opened_by, opened_at) VALUES ($1,$2,$3,$4,$5)",
    )
    .bind(id.clone())
    .bind(case_id.to_string())
    .bind(c.place_path.clone())
    .bind(actor.to_string())
    .bind(now)
    .execute(&mut **tx)
    .await?;
    for (i, p) in parties.iter().enumerate() {
        sqlx::query("INSERT INTO mediation_parties (mediation_id, seq, name, side, phone) VALUES ($1,$2,$3,$4,$5)")
            .bind(id.clone())
            .bind(i as i64)
            .bind(p.name.trim().to_string())
            .bind(p.side.as_str())
            .bind(p.phone.clone())
            .execute(&mut **tx)
            .await?;
    }
    for org in mediators {
        sqlx::query("INSERT INTO mediation_mediators (mediation_id, org_id) VALUES ($1,$2)")
            .bind(id.clone())
            .bind(org.clone())
            .execute(&mut **tx)
            .await?;
    }
    let data = json!({"mediation_id": id, "mediators": mediators, "parties": parties.len()});
    record(tx, &c, actor, "mediation_opened", None, data, now).await?;
    Ok(id)
}

/// Records a session (before the outcome only).
pub async fn add_session_in(
    tx: &mut Tx,
    case_id: &str,
    actor: &str,
    s: &Session,
    now: i64,
) -> Result<(), StoreError> {
    let c = get_tx(tx, case_id, now).await?;
    let (mid, st) = state_tx(tx, case_id).await?;
    let next = rules::add_session(&st, s, now).map_err(refused)?;
    let attendees: Vec<String> = s.attendees.iter().map(|a| a.trim().to_string()).collect();
    sqlx::query(
        "INSERT INTO mediation_sessions (id, mediation_id, seq, held_at, place, attendees_json, notes, recorded_by, recorded_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)",
    )
    .bind(db::new_id())
    .bind(mid.clone())
    .bind(next.sessions as i64)
    .bind(s.held_at)
    .bind(s.place.trim().to_string())
    .bind(serde_json::to_string(&attendees).unwrap_or_default())
    .bind(s.notes.trim().to_string())
    .bind(actor.to_string())
    .bind(now)
    .execute(&mut **tx)
    .await?;
    let data = json!({"mediation_id": mid, "session": next.sessions, "held_at": s.held_at, "place": s.place.trim()});
    record(tx, &c, actor, "mediation_session", None, data, now).await
}

/// Concludes the mediation with its outcome, exactly once (the outcome
/// table's primary key is the mediation, so a racing second outcome fails).
pub async fn conclude_in(
    tx: &mut Tx,
    case_id: &str,
    actor: &str,
    outcome: &Outcome,
    now: i64,
) -> Result<(), StoreError> {
    let c = get_tx(tx, case_id, now).await?;
    let (mid, st) = state_tx(tx, case_id).await?;
    rules::conclude(&st, outcome).map_err(refused)?;
    let (text, to) = match outcome {
        Outcome::Agreement { text } => (Some(text.trim().to_string()), None),
        Outcome::Failed { reason } => (Some(reason.trim().to_string()), None),
        Outcome::Referred { to, note } => (
            Some(note.trim().to_string()).filter(|n| !n.is_empty()),
            Some(to.trim().to_string()),
        ),
    };
    sqlx::query(
        "INSERT INTO mediation_outcomes (mediation_id, kind, text, referred_to, concluded_by, concluded_at) VALUES ($1,$2,$3,$4,$5,$6)",
    )
    .bind(mid.clone())
    .bind(outcome.kind().as_str())
    .bind(text.clone())
    .bind(to.clone())
    .bind(actor.to_string())
    .bind(now)
    .execute(&mut **tx)
    .await?;
    let data = json!({"mediation_id": mid, "outcome": outcome.kind(), "referred_to": to});
    record(
        tx,
        &c,
        actor,
        "mediation_concluded",
        text.as_deref(),
        data,
        now,
    )
    .await
}

/// The rows `sql` returns for the mediation `id` ($1), each mapped by `f`.
async fn rows_of<T>(
    db: &Db,
    sql: &str,
    id: &str,
    f: impl Fn(&sqlx::any::AnyRow) -> Result<T, StoreError>,
) -> Result<Vec<T>, StoreError> {
    sqlx::query(sql)
        .bind(id.to_string())
        .fetch_all(db.reader())
        .await?
        .iter()
        .map(f)
        .collect()
}

/// The mediation of a case, if it has one (parties masked).
pub async fn get(db: &Db, case_id: &str) -> Result<Option<MediationView>, StoreError> {
    let Some(m) = sqlx::query("SELECT id, opened_by, opened_at FROM mediations WHERE case_id = $1")
        .bind(case_id.to_string())
        .fetch_optional(db.reader())
        .await?
    else {
        return Ok(None);
    };
    let id = db::s(&m, "id")?;
    let parties = rows_of(
        db,
        "SELECT name, side, phone FROM mediation_parties WHERE mediation_id = $1 ORDER BY seq",
        &id,
        |r| {
            Ok(PartyView {
                name: mask_name(&db::s(r, "name")?),
                side: db::s(r, "side")?,
                phone: db::os(r, "phone")?.map(|p| mask_phone(&p)),
            })
        },
    )
    .await?;
    let mediators = rows_of(db, "SELECT o.id, o.name, o.kind FROM mediation_mediators mm JOIN organisations o ON o.id = mm.org_id WHERE mm.mediation_id = $1 ORDER BY o.name, o.id", &id, |r| {
        Ok(MediatorView {
            org_id: db::s(r, "id")?,
            name: db::s(r, "name")?,
            kind: db::s(r, "kind")?,
        })
    })
    .await?;
    let sessions = rows_of(db, "SELECT seq, held_at, place, attendees_json, notes, recorded_by, recorded_at FROM mediation_sessions WHERE mediation_id = $1 ORDER BY seq", &id, |r| {
        Ok(SessionView {
            seq: db::i(r, "seq")?,
            held_at: db::i(r, "held_at")?,
            place: db::s(r, "place")?,
            attendees: serde_json::from_str(&db::s(r, "attendees_json")?).unwrap_or_default(),
            notes: mask_text(&db::s(r, "notes")?),
            recorded_by: db::s(r, "recorded_by")?,
            recorded_at: db::i(r, "recorded_at")?,
        })
    })
    .await?;
    let outcome = sqlx::query(
        "SELECT kind, text, referred_to, concluded_by, concluded_at FROM mediation_outcomes WHERE mediation_id = $1",
    )
    .bind(id.clone())
    .fetch_optional(db.reader())
    .await?
    .map(|r| {
        Ok::<_, StoreError>(OutcomeView {
            kind: db::s(&r, "kind")?,
            text: db::os(&r, "text")?.map(|t| mask_text(&t)),
            referred_to: db::os(&r, "referred_to")?,
            concluded_by: db::s(&r, "concluded_by")?,
            concluded_at: db::i(&r, "concluded_at")?,
        })
    })
    .transpose()?;
    Ok(Some(MediationView {
        id,
        case_id: case_id.to_string(),
        status: if outcome.is_some() {
            "concluded"
        } else {
            "open"
        }
        .into(),
        opened_by: db::s(&m, "opened_by")?,
        opened_at: db::i(&m, "opened_at")?,
        parties,
        mediators,
        sessions,
        outcome,
    }))
}

/// Mediations below `path`: opened in `[from, to)`, and outcomes reached in
/// it ("disputes mediated" are the agreements).
pub async fn counts_under(
    db: &Db,
    path: &str,
    from: i64,
    to: i64,
) -> Result<MediationCounts, StoreError> {
    let (lo, hi) = subtree(path);
    let opened = db::i(
        &sqlx::query(
            "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM mediations WHERE place_path >= $1 AND place_path < $2 AND opened_at >= $3 AND opened_at < $4",
        )
        .bind(lo.clone())
        .bind(hi.clone())
        .bind(from)
        .bind(to)
        .fetch_one(db.reader())
        .await?,
        "n",
    )?;
    let outcomes = sqlx::query(
        "SELECT o.kind FROM mediation_outcomes o JOIN mediations m ON m.id = o.mediation_id \
         WHERE m.place_path >= $1 AND m.place_path < $2 AND o.concluded_at >= $3 AND o.concluded_at < $4",
    )
    .bind(lo)
    .bind(hi)
    .bind(from)
    .bind(to)
    .fetch_all(db.reader())
    .await?
    .iter()
    .filter_map(|r| db::s(r, "kind").ok().and_then(|k| OutcomeKind::parse(&k)))
    .collect::<Vec<_>>();
    Ok(rules::counts(opened, &outcomes))
}

// ---------------------------------------------------------------------------
// Commands: each owns its transaction and answers the mediation as it stands
// ---------------------------------------------------------------------------

/// Opens a mediation ([`open_in`]) in its own transaction.
pub async fn open(
    db: &Db,
    case_id: &str,
    actor: &str,
    parties: &[Party],
    mediators: &[String],
    now: i64,
) -> Result<MediationView, StoreError> {
    let (id, actor, parties, mediators) = (
        case_id.to_string(),
        actor.to_string(),
        parties.to_vec(),
        mediators.to_vec(),
    );
    db.write(move |tx| {
        let (id, actor, parties, mediators) = (
            id.clone(),
            actor.clone(),
            parties.clone(),
            mediators.clone(),
        );
        Box::pin(async move { open_in(tx, &id, &actor, &parties, &mediators, now).await })
    })
    .await?;
    current(db, case_id).await
}

/// Records a session ([`add_session_in`]) in its own transaction.
pub async fn add_session(
    db: &Db,
    case_id: &str,
    actor: &str,
    s: &Session,
    now: i64,
) -> Result<MediationView, StoreError> {
    let (id, actor, s) = (case_id.to_string(), actor.to_string(), s.clone());
    db.write(move |tx| {
        let (id, actor, s) = (id.clone(), actor.clone(), s.clone());
        Box::pin(async move { add_session_in(tx, &id, &actor, &s, now).await })
    })
    .await?;
    current(db, case_id).await
}

/// Concludes the mediation ([`conclude_in`]) in its own transaction.
pub async fn conclude(
    db: &Db,
    case_id: &str,
    actor: &str,
    outcome: &Outcome,
    now: i64,
) -> Result<MediationView, StoreError> {
    let (id, actor, o) = (case_id.to_string(), actor.to_string(), outcome.clone());
    db.write(move |tx| {
        let (id, actor, o) = (id.clone(), actor.clone(), o.clone());
        Box::pin(async move { conclude_in(tx, &id, &actor, &o, now).await })
    })
    .await?;
    current(db, case_id).await
}

/// A case's mediation; a case without one is not found.
pub async fn current(db: &Db, case_id: &str) -> Result<MediationView, StoreError> {
    get(db, case_id)
        .await?
        .ok_or_else(|| StoreError::not_found(format!("mediation of case '{case_id}'")))
}
