//! Meetings (migration 0006): topic meetings, four-party joint meetings and
//! owners' assemblies over a place, optionally on a matter, with agenda and
//! participants; minutes with attendance and decisions are appended
//! (corrections are new minutes, the latest is current). The owners'
//! assembly's 15 days' notice is the domain's `check_schedule`.

use crate::audit::{self, Entry};
use crate::db::{self, Db, Tx};
use crate::error::StoreError;
use crate::register::{subtree, Place};
use gongzhi_domain::deliberation::{self as dl, MeetingKind};
use gongzhi_domain::mask::mask_text;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::any::AnyRow;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Participant {
    pub name: String,
    /// The body or role they come for, e.g. "社区党委", "业委会", "物业".
    #[serde(default)]
    pub role: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Minutes {
    pub seq: i64,
    pub minutes: String,
    /// Indices into the meeting's participants of those present.
    pub attended: Vec<usize>,
    pub decisions: Vec<String>,
    pub recorded_by: String,
    pub at: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MeetingView {
    pub id: String,
    pub matter_id: Option<String>,
    pub place_id: String,
    #[schema(value_type = String)]
    pub kind: MeetingKind,
    pub title: String,
    pub location: String,
    pub agenda: Vec<String>,
    pub participants: Vec<Participant>,
    pub starts_at: i64,
    pub ends_at: i64,
    pub announced_at: i64,
    pub created_at: i64,
    /// The current minutes, if recorded.
    pub minutes: Option<Minutes>,
    #[serde(skip)]
    pub scope_path: String,
}

pub struct NewMeeting<'a> {
    pub actor: &'a str,
    pub place: &'a Place,
    pub matter_id: Option<&'a str>,
    pub kind: MeetingKind,
    pub title: &'a str,
    pub location: &'a str,
    pub agenda: &'a [String],
    pub participants: &'a [Participant],
    pub starts_at: i64,
    pub ends_at: i64,
    /// When it was announced (the API: now).
    pub announced_at: i64,
    pub now: i64,
}

fn text(field: &str, s: &str, min: usize, max: usize) -> Result<(), StoreError> {
    let n = s.trim().chars().count();
    if n < min || n > max {
        return Err(StoreError::invalid(
            field,
            format!("{min} to {max} characters"),
        ));
    }
    Ok(())
}

pub async fn create_meeting(tx: &mut Tx, m: NewMeeting<'_>) -> Result<MeetingView, StoreError> {
    text("title", m.title, 1, 200)?;
    text("location", m.location, 0, 200)?;
    if m.agenda.is_empty() || m.agenda.len() > 50 {
        return Err(StoreError::invalid("agenda", "1 to 50 items"));
    }
    for (i, a) in m.agenda.iter().enumerate() {
        text(&format!("agenda[{i}]"), a, 1, 500)?;
    }
    if m.participants.len() > 500 {
        return Err(StoreError::invalid("participants", "at most 500"));
    }
    for (i, p) in m.participants.iter().enumerate() {
        text(&format!("participants[{i}].name"), &p.name, 1, 100)?;
        text(&format!("participants[{i}].role"), &p.role, 0, 100)?;
    }
    dl::check_schedule(m.kind, m.announced_at, m.starts_at, m.ends_at)
        .map_err(|e| StoreError::invalid(e.field, e.reason))?;
    if let Some(mid) = m.matter_id {
        let r = sqlx::query("SELECT place_id FROM matters WHERE id = $1")
            .bind(mid.to_string())
            .fetch_optional(&mut **tx)
            .await?;
        match r {
            Some(r) if db::s(&r, "place_id")? == m.place.id => {}
            _ => {
                return Err(StoreError::invalid(
                    "matter_id",
                    "no such matter over this place",
                ))
            }
        }
    }
    let agenda: Vec<String> = m.agenda.iter().map(|a| a.trim().to_string()).collect();
    let participants: Vec<Participant> = m
        .participants
        .iter()
        .map(|p| Participant {
            name: p.name.trim().into(),
            role: p.role.trim().into(),
        })
        .collect();
    let id = db::new_id();
    sqlx::query("INSERT INTO meetings (id, matter_id, place_id, scope_path, kind, title, location, agenda_json, participants_json, starts_at, ends_at, announced_at, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)")
        .bind(id.clone())
        .bind(m.matter_id.map(str::to_string))
        .bind(m.place.id.clone())
        .bind(m.place.path.clone())
        .bind(m.kind.as_str())
        .bind(m.title.trim().to_string())
        .bind(m.location.trim().to_string())
        .bind(serde_json::to_string(&agenda).expect("serializes"))
        .bind(serde_json::to_string(&participants).expect("serializes"))
        .bind(m.starts_at)
        .bind(m.ends_at)
        .bind(m.announced_at)
        .bind(m.actor.to_string())
        .bind(m.now)
        .execute(&mut **tx)
        .await?;
    let view = MeetingView {
        id: id.clone(),
        matter_id: m.matter_id.map(str::to_string),
        place_id: m.place.id.clone(),
        kind: m.kind,
        title: m.title.trim().into(),
        location: m.location.trim().into(),
        agenda,
        participants,
        starts_at: m.starts_at,
        ends_at: m.ends_at,
        announced_at: m.announced_at,
        created_at: m.now,
        minutes: None,
        scope_path: m.place.path.clone(),
    };
    audit::record(
        tx,
        Entry {
            actor: m.actor.into(),
            action: "meeting.announce".into(),
            entity: "meeting".into(),
            entity_id: id,
            scope_path: m.place.path.clone(),
            before: None,
            after: Some(json!(view)),
        },
    )
    .await?;
    Ok(view)
}

const COLS: &str = "id, matter_id, place_id, scope_path, kind, title, location, agenda_json, participants_json, starts_at, ends_at, announced_at, created_at";

fn parse<T: serde::de::DeserializeOwned>(r: &AnyRow, col: &str) -> Result<T, StoreError> {
    serde_json::from_str(&db::s(r, col)?)
        .map_err(|e| StoreError::Config(format!("stored {col}: {e}")))
}

fn meeting_from(r: &AnyRow) -> Result<MeetingView, StoreError> {
    Ok(MeetingView {
        id: db::s(r, "id")?,
        matter_id: db::os(r, "matter_id")?,
        place_id: db::s(r, "place_id")?,
        kind: MeetingKind::parse(&db::s(r, "kind")?)
            .ok_or_else(|| StoreError::Config("stored meeting kind".into()))?,
        title: db::s(r, "title")?,
        location: db::s(r, "location")?,
        agenda: parse(r, "agenda_json")?,
        participants: parse(r, "participants_json")?,
        starts_at: db::i(r, "starts_at")?,
        ends_at: db::i(r, "ends_at")?,
        announced_at: db::i(r, "announced_at")?,
        created_at: db::i(r, "created_at")?,
        minutes: None,
        scope_path: db::s(r, "scope_path")?,
    })
}

async fn current_minutes(db: &Db, meeting_id: &str) -> Result<Option<Minutes>, StoreError> {
    let r = sqlx::query("SELECT seq, minutes, attendance_json, decisions_json, recorded_by, at FROM meeting_minutes WHERE meeting_id = $1 ORDER BY seq DESC LIMIT 1")
        .bind(meeting_id.to_string())
        .fetch_optional(db.reader())
        .await?;
    r.map(|r| {
        Ok(Minutes {
            seq: db::i(&r, "seq")?,
            minutes: mask_text(&db::s(&r, "minutes")?),
            attended: parse(&r, "attendance_json")?,
            decisions: parse(&r, "decisions_json")?,
            recorded_by: db::s(&r, "recorded_by")?,
            at: db::i(&r, "at")?,
        })
    })
    .transpose()
}

pub async fn get_meeting(db: &Db, id: &str) -> Result<MeetingView, StoreError> {
    let r = sqlx::query(&format!("SELECT {COLS} FROM meetings WHERE id = $1"))
        .bind(id.to_string())
        .fetch_optional(db.reader())
        .await?
        .ok_or_else(|| StoreError::not_found(format!("meeting '{id}'")))?;
    let mut m = meeting_from(&r)?;
    m.minutes = current_minutes(db, id).await?;
    Ok(m)
}

async fn with_minutes(db: &Db, rows: Vec<AnyRow>) -> Result<Vec<MeetingView>, StoreError> {
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        let mut m = meeting_from(r)?;
        m.minutes = current_minutes(db, &m.id).await?;
        out.push(m);
    }
    Ok(out)
}

/// Meetings over a place and below it, soonest first.
pub async fn meetings_under(db: &Db, place: &Place) -> Result<Vec<MeetingView>, StoreError> {
    let (lo, hi) = subtree(&place.path);
    let rows = sqlx::query(&format!(
        "SELECT {COLS} FROM meetings WHERE scope_path >= $1 AND scope_path < $2 ORDER BY starts_at, id LIMIT 500"
    ))
    .bind(lo)
    .bind(hi)
    .fetch_all(db.reader())
    .await?;
    with_minutes(db, rows).await
}

pub async fn meetings_of_matter(db: &Db, matter_id: &str) -> Result<Vec<MeetingView>, StoreError> {
    let rows = sqlx::query(&format!(
        "SELECT {COLS} FROM meetings WHERE matter_id = $1 ORDER BY starts_at, id"
    ))
    .bind(matter_id.to_string())
    .fetch_all(db.reader())
    .await?;
    with_minutes(db, rows).await
}

/// Records the minutes of a meeting that has started: the text, who of the
/// participants attended, the decisions. A later call appends new minutes
/// that replace these as current.
pub async fn record_minutes(
    tx: &mut Tx,
    actor: &str,
    meeting_id: &str,
    minutes: &str,
    attended: &[usize],
    decisions: &[String],
    now: i64,
) -> Result<Minutes, StoreError> {
    let r = sqlx::query(&format!("SELECT {COLS} FROM meetings WHERE id = $1"))
        .bind(meeting_id.to_string())
        .fetch_optional(&mut **tx)
        .await?
        .ok_or_else(|| StoreError::not_found(format!("meeting '{meeting_id}'")))?;
    let m = meeting_from(&r)?;
    if now < m.starts_at {
        return Err(StoreError::Conflict(
            "the meeting has not started yet; minutes come after it starts".into(),
        ));
    }
    text("minutes", minutes, 1, 20_000)?;
    for (i, a) in attended.iter().enumerate() {
        if *a >= m.participants.len() {
            return Err(StoreError::invalid(
                "attended",
                format!("no participant {a}"),
            ));
        }
        if attended[..i].contains(a) {
            return Err(StoreError::invalid(
                "attended",
                format!("participant {a} listed twice"),
            ));
        }
    }
    if decisions.len() > 50 {
        return Err(StoreError::invalid("decisions", "at most 50"));
    }
    for (i, d) in decisions.iter().enumerate() {
        text(&format!("decisions[{i}]"), d, 1, 1000)?;
    }
    let r =
        sqlx::query("SELECT COALESCE(MAX(seq), 0) AS n FROM meeting_minutes WHERE meeting_id = $1")
            .bind(meeting_id.to_string())
            .fetch_one(&mut **tx)
            .await?;
    let mut attended = attended.to_vec();
    attended.sort_unstable();
    let out = Minutes {
        seq: db::i(&r, "n")? + 1,
        minutes: minutes.trim().into(),
        attended,
        decisions: decisions.iter().map(|d| d.trim().to_string()).collect(),
        recorded_by: actor.into(),
        at: now,
    };
    sqlx::query("INSERT INTO meeting_minutes (id, meeting_id, seq, minutes, attendance_json, decisions_json, recorded_by, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
        .bind(db::new_id())
        .bind(meeting_id.to_string())
        .bind(out.seq)
        .bind(out.minutes.clone())
        .bind(serde_json::to_string(&out.attended).expect("serializes"))
        .bind(serde_json::to_string(&out.decisions).expect("serializes"))
        .bind(actor.to_string())
        .bind(now)
        .execute(&mut **tx)
        .await?;
    audit::record(
        tx,
        Entry {
            actor: actor.into(),
            action: "meeting.minutes".into(),
            entity: "meeting".into(),
            entity_id: meeting_id.into(),
            scope_path: m.scope_path,
            before: None,
            // The audit trail keeps free text masked.
            after: Some(json!(Minutes {
                minutes: mask_text(&out.minutes),
                ..out.clone()
            })),
        },
    )
    .await?;
    Ok(out)
}

/// Announces a meeting ([`create_meeting`]) in its own transaction: the API
/// and the matter page both call it.
pub async fn announce(db: &Db, m: NewMeeting<'_>) -> Result<MeetingView, StoreError> {
    let args = (
        (
            m.actor.to_string(),
            m.place.clone(),
            m.matter_id.map(str::to_string),
        ),
        (m.title.to_string(), m.location.to_string()),
        (m.agenda.to_vec(), m.participants.to_vec()),
    );
    let (kind, starts_at, ends_at, announced_at, now) =
        (m.kind, m.starts_at, m.ends_at, m.announced_at, m.now);
    db.write_with(
        args,
        move |tx, ((actor, place, matter_id), (title, location), (agenda, participants))| {
            Box::pin(async move {
                let m = NewMeeting {
                    actor: &actor,
                    place: &place,
                    matter_id: matter_id.as_deref(),
                    kind,
                    title: &title,
                    location: &location,
                    agenda: &agenda,
                    participants: &participants,
                    starts_at,
                    ends_at,
                    announced_at,
                    now,
                };
                create_meeting(tx, m).await
            })
        },
    )
    .await
}

/// Records a meeting's minutes ([`record_minutes`]) in its own transaction.
pub async fn minutes(
    db: &Db,
    actor: &str,
    meeting_id: &str,
    minutes: &str,
    attended: &[usize],
    decisions: &[String],
    now: i64,
) -> Result<Minutes, StoreError> {
    let args = (
        actor.to_string(),
        meeting_id.to_string(),
        minutes.to_string(),
        attended.to_vec(),
        decisions.to_vec(),
    );
    db.write_with(args, move |tx, (actor, id, text, attended, decisions)| {
        Box::pin(
            async move { record_minutes(tx, &actor, &id, &text, &attended, &decisions, now).await },
        )
    })
    .await
}
