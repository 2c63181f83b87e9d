//! Cases: raising, every transition as an append-only event, photos, work
//! queues, the escalation sweep, routing rules and statistics. The rules are
//! in `gongzhi_domain::cases`; this file only loads, applies and records.
//! Callers authorise first (the web layer asks the policy).

use crate::audit::{self, Entry};
use crate::db::{self, Db, Tx};
use crate::error::StoreError;
use crate::register::{self, subtree, Place};
use gongzhi_domain::cases::{
    self as rules, apply, check_photo, check_text, deadline, default_limits, is_overdue, Calendar,
    CaseState, Category, Channel, Command, KpiCase, Kpis, Priority, RoutingRule, Status,
    ESCALATION_GRACE, MAX_NOTE_CHARS, MAX_PHOTOS, MAX_TEXT_CHARS,
};
use gongzhi_domain::mask::{mask_phone, mask_text};
use gongzhi_domain::place::{OrgKind, PlaceKind};
use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use sqlx::any::AnyRow;

/// A case as shown to those allowed to see it (phones masked).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CaseView {
    pub id: String,
    pub category: String,
    pub priority: String,
    pub status: String,
    pub place_id: String,
    pub place_name: String,
    pub compound_id: Option<String>,
    pub part_id: Option<String>,
    pub holder_place_id: String,
    pub level: String,
    pub org_kind: String,
    pub org_id: Option<String>,
    pub grid_id: Option<String>,
    pub assignee_user_id: Option<String>,
    pub description: String,
    pub address: Option<String>,
    pub lat: Option<String>,
    pub lon: Option<String>,
    pub channel: String,
    pub reporter_user_id: Option<String>,
    pub reporter_name: Option<String>,
    pub reporter_phone: Option<String>,
    pub raised_by: String,
    pub consent_publish: bool,
    pub duplicate_of: Option<String>,
    pub reported_at: i64,
    pub response_due: i64,
    pub resolution_due: i64,
    pub responded_at: Option<i64>,
    pub resolved_at: Option<i64>,
    pub closed_at: Option<i64>,
    pub rating: Option<i64>,
    pub rated_at: Option<i64>,
    pub rating_comment: Option<String>,
    pub reopens: i64,
    pub escalations: i64,
    pub updated_at: i64,
    /// Open and past its deadline now.
    pub overdue: bool,
    #[serde(skip)]
    pub place_path: String,
}

impl CaseView {
    pub fn status(&self) -> Status {
        Status::parse(&self.status).unwrap_or(Status::Reported)
    }
    fn state(&self) -> CaseState {
        CaseState {
            status: self.status(),
            rating: self.rating.map(|r| r as u8),
            rated_at: self.rated_at,
            closed_at: self.closed_at,
            reopens: self.reopens as u32,
            level: PlaceKind::parse(&self.level).unwrap_or(PlaceKind::Compound),
            escalations: self.escalations as u32,
        }
    }
    pub fn path_ids(&self) -> Vec<String> {
        register::path_ids(&self.place_path)
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EventView {
    pub id: String,
    pub at: i64,
    pub actor: String,
    pub kind: String,
    pub from_status: Option<String>,
    pub to_status: String,
    pub note: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub data: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PhotoView {
    pub id: String,
    pub sha256: String,
    pub content_type: String,
    pub size: i64,
    pub created_at: i64,
}

const COLS: &str = "c.id, c.category, c.priority, c.status, c.place_id, c.place_path, c.part_id, c.holder_place_id, c.level, c.org_kind, c.org_id, c.grid_id, \
    c.assignee_user_id, c.description, c.address, c.lat, c.lon, c.channel, c.reporter_user_id, c.reporter_name, c.reporter_phone, c.raised_by, c.consent_publish, \
    c.duplicate_of, c.reported_at, c.response_due, c.resolution_due, c.responded_at, c.resolved_at, c.closed_at, c.rating, c.rated_at, c.rating_comment, \
    c.reopens, c.escalations, c.updated_at, pl.name AS place_name";

fn view(r: &AnyRow, now: i64) -> Result<CaseView, StoreError> {
    let status = db::s(r, "status")?;
    let st = Status::parse(&status).unwrap_or(Status::Reported);
    let (response_due, resolution_due) = (db::i(r, "response_due")?, db::i(r, "resolution_due")?);
    let place_path = db::s(r, "place_path")?;
    let ids = register::path_ids(&place_path);
    Ok(CaseView {
        id: db::s(r, "id")?,
        category: db::s(r, "category")?,
        priority: db::s(r, "priority")?,
        overdue: is_overdue(st, now, response_due, resolution_due),
        status,
        place_id: db::s(r, "place_id")?,
        place_name: db::s(r, "place_name")?,
        compound_id: ids.get(3).cloned(),
        part_id: db::os(r, "part_id")?,
        holder_place_id: db::s(r, "holder_place_id")?,
        level: db::s(r, "level")?,
        org_kind: db::s(r, "org_kind")?,
        org_id: db::os(r, "org_id")?,
        grid_id: db::os(r, "grid_id")?,
        assignee_user_id: db::os(r, "assignee_user_id")?,
        description: mask_text(&db::s(r, "description")?),
        address: db::os(r, "address")?.map(|a| mask_text(&a)),
        lat: db::os(r, "lat")?,
        lon: db::os(r, "lon")?,
        channel: db::s(r, "channel")?,
        reporter_user_id: db::os(r, "reporter_user_id")?,
        reporter_name: db::os(r, "reporter_name")?,
        reporter_phone: db::os(r, "reporter_phone")?.map(|p| mask_phone(&p)),
        raised_by: db::s(r, "raised_by")?,
        consent_publish: db::i(r, "consent_publish")? != 0,
        duplicate_of: db::os(r, "duplicate_of")?,
        reported_at: db::i(r, "reported_at")?,
        response_due,
        resolution_due,
        responded_at: db::oi(r, "responded_at")?,
        resolved_at: db::oi(r, "resolved_at")?,
        closed_at: db::oi(r, "closed_at")?,
        rating: db::oi(r, "rating")?,
        rated_at: db::oi(r, "rated_at")?,
        rating_comment: db::os(r, "rating_comment")?.map(|t| mask_text(&t)),
        reopens: db::i(r, "reopens")?,
        escalations: db::i(r, "escalations")?,
        updated_at: db::i(r, "updated_at")?,
        place_path,
    })
}

/// A new case. `place` is already authorised for the raiser.
#[derive(Debug, Clone)]
pub struct NewCase {
    pub place: Place,
    pub part_id: Option<String>,
    pub category: Category,
    pub priority: Priority,
    pub description: String,
    pub address: Option<String>,
    pub lat: Option<String>,
    pub lon: Option<String>,
    pub channel: Channel,
    /// The user the case is for (the resident), when known.
    pub reporter_user_id: Option<String>,
    /// For cases raised on someone's behalf (door-knocking, phone, station).
    pub reporter_name: Option<String>,
    pub reporter_phone: Option<String>,
    pub consent_publish: bool,
    /// Who raised it (audit name).
    pub raised_by: String,
}

/// The community id of a place path (district/street/community/…), if deep enough.
fn community_of(path_ids: &[String]) -> Option<String> {
    path_ids.get(2).cloned()
}

/// Routing rules that apply in a community (its own and the general ones).
pub async fn routing_rules(
    tx: &mut Tx,
    community: Option<&str>,
) -> Result<Vec<RoutingRule>, StoreError> {
    let rows = sqlx::query("SELECT community_id, category, org_kind FROM case_routes WHERE community_id IS NULL OR community_id = $1 ORDER BY created_at DESC")
        .bind(community.unwrap_or("").to_string())
        .fetch_all(&mut **tx)
        .await?;
    Ok(rows
        .iter()
        .filter_map(|r| {
            Some(RoutingRule {
                category: Category::parse(&db::s(r, "category").ok()?)?,
                org_kind: OrgKind::parse(&db::s(r, "org_kind").ok()?)?,
                community_id: db::os(r, "community_id").ok()?,
            })
        })
        .collect())
}

/// Sets a community's rule for a category (the newest rule wins; older ones stay as history).
pub(crate) async fn set_route_in(
    tx: &mut Tx,
    actor: &str,
    community: &Place,
    category: Category,
    org_kind: OrgKind,
) -> Result<(), StoreError> {
    if community.kind != "community" {
        return Err(StoreError::invalid(
            "place_id",
            format!(
                "routing rules belong to a community, not a {}",
                community.kind
            ),
        ));
    }
    let id = db::new_id();
    sqlx::query("INSERT INTO case_routes (id, community_id, category, org_kind, created_at) VALUES ($1,$2,$3,$4,$5)")
        .bind(id.clone())
        .bind(community.id.clone())
        .bind(category.as_str())
        .bind(org_kind.as_str())
        .bind(db::now_ms())
        .execute(&mut **tx)
        .await?;
    audit::record(
        tx,
        Entry {
            actor: actor.into(),
            action: "case_route.set".into(),
            entity: "case_route".into(),
            entity_id: id,
            scope_path: community.path.clone(),
            before: None,
            after: Some(json!({"category": category, "org_kind": org_kind})),
        },
    )
    .await
}

/// The routing table of a community: every category with its handling organisation kind.
pub async fn routes_of(db: &Db, community: &Place) -> Result<Vec<(Category, OrgKind)>, StoreError> {
    let mut tx = db.begin_write().await?;
    let rules = routing_rules(&mut tx, Some(&community.id)).await?;
    tx.rollback().await?;
    Ok(Category::ALL
        .iter()
        .map(|c| (*c, rules::route(*c, Some(&community.id), &rules)))
        .collect())
}

/// The nearest organisation of `kind` serving the place: anchored on the place
/// or an ancestor, or spanning one of them (joint branches).
async fn find_org(
    tx: &mut Tx,
    path_ids: &[String],
    kind: OrgKind,
) -> Result<Option<String>, StoreError> {
    for id in path_ids.iter().rev() {
        let r = sqlx::query(
            "SELECT o.id FROM organisations o LEFT JOIN organisation_places op ON op.org_id = o.id \
             WHERE o.kind = $1 AND (o.place_id = $2 OR op.place_id = $2) ORDER BY o.created_at LIMIT 1",
        )
        .bind(kind.as_str())
        .bind(id.clone())
        .fetch_optional(&mut **tx)
        .await?;
        if let Some(r) = r {
            return Ok(Some(db::s(&r, "id")?));
        }
    }
    Ok(None)
}

/// The micro-grid covering a place: the grid of a part below it, or a grid on it.
async fn find_grid(
    tx: &mut Tx,
    place: &Place,
    part_id: Option<&str>,
) -> Result<Option<String>, StoreError> {
    if let Some(p) = part_id {
        let r = sqlx::query("SELECT grid_id FROM grid_parts WHERE part_id = $1")
            .bind(p.to_string())
            .fetch_optional(&mut **tx)
            .await?;
        if let Some(r) = r {
            return Ok(Some(db::s(&r, "grid_id")?));
        }
    }
    // A common area (a building, a compound): the micro-grid anchored on the
    // place itself, else the one micro-grid that holds every one of its
    // parts. When several micro-grids share it, no single worker owns it: it
    // stays with the compound's grid and staff rather than going to whichever
    // micro-grid a query happened to return first.
    let anchored =
        sqlx::query("SELECT id FROM grids WHERE place_id = $1 AND kind = 'micro' LIMIT 2")
            .bind(place.id.clone())
            .fetch_all(&mut **tx)
            .await?;
    if anchored.len() == 1 {
        return Ok(Some(db::s(&anchored[0], "id")?));
    }
    let (lo, hi) = subtree(&place.path);
    let rows = sqlx::query(
        "SELECT DISTINCT gp.grid_id FROM grid_parts gp JOIN parts pt ON pt.id = gp.part_id JOIN places pl ON pl.id = pt.place_id \
         WHERE pl.path >= $1 AND pl.path < $2 LIMIT 2",
    )
    .bind(lo)
    .bind(hi)
    .fetch_all(&mut **tx)
    .await?;
    Ok(match rows.as_slice() {
        [one] => Some(db::s(one, "grid_id")?),
        _ => None,
    })
}

#[allow(clippy::too_many_arguments)]
pub(crate) async fn insert_event(
    tx: &mut Tx,
    case_id: &str,
    at: i64,
    actor: &str,
    kind: &str,
    from: Option<Status>,
    to: Status,
    note: Option<&str>,
    data: Option<serde_json::Value>,
) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO case_events (id, case_id, at, actor, kind, from_status, to_status, note, data_json) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)")
        .bind(db::new_id())
        .bind(case_id.to_string())
        .bind(at)
        .bind(actor.to_string())
        .bind(kind.to_string())
        .bind(from.map(|s| s.as_str().to_string()))
        .bind(to.as_str())
        .bind(note.map(str::to_string))
        .bind(data.map(|d| d.to_string()))
        .execute(&mut **tx)
        .await?;
    // The outbox: every change notifies in the same transaction.
    crate::notify::enqueue(tx, case_id, kind, to.as_str(), note, actor, at).await?;
    Ok(())
}

/// Raises a case at time `now`: deadlines from the category and priority,
/// routed by rules to an organisation kind, by place to a micro-grid.
pub async fn raise_in(
    tx: &mut Tx,
    c: &NewCase,
    cal: &Calendar,
    now: i64,
) -> Result<String, StoreError> {
    check_text("description", &c.description, MAX_TEXT_CHARS, true)
        .map_err(|e| StoreError::invalid(e.field, e.reason))?;
    if let Some(a) = &c.address {
        check_text("address", a, 500, false).map_err(|e| StoreError::invalid(e.field, e.reason))?;
    }
    if c.channel.on_behalf()
        && c.reporter_user_id.is_none()
        && c.reporter_name
            .as_deref()
            .is_none_or(|n| n.trim().is_empty())
    {
        return Err(StoreError::invalid(
            "reporter_name",
            format!(
                "a case raised by {} needs the name of the person it is for",
                c.channel
            ),
        ));
    }
    if let Some(p) = &c.reporter_phone {
        if !gongzhi_domain::mask::valid_phone(p) {
            return Err(StoreError::invalid(
                "reporter_phone",
                "not a valid phone number",
            ));
        }
    }
    let place_kind = PlaceKind::parse(&c.place.kind)
        .ok_or_else(|| StoreError::invalid("place_id", "unknown place kind"))?;
    if place_kind.depth() < PlaceKind::Compound.depth() && c.channel != Channel::Open311 {
        return Err(StoreError::invalid(
            "place_id",
            "a case is about a compound, a building or a unit in it",
        ));
    }
    let ids = c.place.path_ids();
    let rules_here = routing_rules(tx, community_of(&ids).as_deref()).await?;
    let org_kind = rules::route(c.category, community_of(&ids).as_deref(), &rules_here);
    let org_id = find_org(tx, &ids, org_kind).await?;
    let grid_id = find_grid(tx, &c.place, c.part_id.as_deref()).await?;
    let limits = default_limits(c.category, c.priority);
    let (response_due, resolution_due) = (
        deadline(now, limits.response, cal),
        deadline(now, limits.resolution, cal),
    );
    let id = db::new_id();
    sqlx::query(
        "INSERT INTO cases (id, category, priority, status, is_open, place_id, place_path, part_id, holder_place_id, level, org_kind, org_id, grid_id, \
         description, address, lat, lon, channel, reporter_user_id, reporter_name, reporter_phone, raised_by, consent_publish, reported_at, response_due, \
         resolution_due, reopens, escalations, updated_at) \
         VALUES ($1,$2,$3,$4,1,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20,$21,$22,$23,$24,$25,0,0,$23)",
    )
    .bind(id.clone())
    .bind(c.category.as_str())
    .bind(c.priority.as_str())
    .bind(Status::Reported.as_str())
    .bind(c.place.id.clone())
    .bind(c.place.path.clone())
    .bind(c.part_id.clone())
    .bind(c.place.id.clone())
    .bind(place_kind.as_str())
    .bind(org_kind.as_str())
    .bind(org_id.clone())
    .bind(grid_id.clone())
    .bind(c.description.trim().to_string())
    .bind(c.address.clone())
    .bind(c.lat.clone())
    .bind(c.lon.clone())
    .bind(c.channel.as_str())
    .bind(c.reporter_user_id.clone())
    .bind(c.reporter_name.clone())
    .bind(c.reporter_phone.clone())
    .bind(c.raised_by.clone())
    .bind(c.consent_publish as i64)
    .bind(now)
    .bind(response_due)
    .bind(resolution_due)
    .execute(&mut **tx)
    .await?;
    let data = json!({"category": c.category, "priority": c.priority, "channel": c.channel, "org_kind": org_kind, "org_id": org_id, "grid_id": grid_id,
        "response_due": response_due, "resolution_due": resolution_due, "limits": {"response": limits.response.describe(), "resolution": limits.resolution.describe()}});
    insert_event(
        tx,
        &id,
        now,
        &c.raised_by,
        "reported",
        None,
        Status::Reported,
        None,
        Some(data.clone()),
    )
    .await?;
    audit::record(
        tx,
        Entry {
            actor: c.raised_by.clone(),
            action: "case.raise".into(),
            entity: "case".into(),
            entity_id: id.clone(),
            scope_path: c.place.path.clone(),
            before: None,
            after: Some(data),
        },
    )
    .await?;
    Ok(id)
}

pub async fn get(db: &Db, id: &str) -> Result<CaseView, StoreError> {
    let r = sqlx::query(&format!(
        "SELECT {COLS} FROM cases c JOIN places pl ON pl.id = c.place_id WHERE c.id = $1"
    ))
    .bind(id.to_string())
    .fetch_optional(db.reader())
    .await?
    .ok_or_else(|| StoreError::not_found(format!("case '{id}'")))?;
    view(&r, db::now_ms())
}

/// A case and the place it is at: what every gate over one case (API,
/// pages, mediation) decides on.
pub async fn get_with_place(db: &Db, id: &str) -> Result<(CaseView, Place), StoreError> {
    let c = get(db, id).await?;
    let place = register::get_place(db, &c.place_id).await?;
    Ok((c, place))
}

pub async fn get_tx(tx: &mut Tx, id: &str, now: i64) -> Result<CaseView, StoreError> {
    let r = sqlx::query(&format!(
        "SELECT {COLS} FROM cases c JOIN places pl ON pl.id = c.place_id WHERE c.id = $1"
    ))
    .bind(id.to_string())
    .fetch_optional(&mut **tx)
    .await?
    .ok_or_else(|| StoreError::not_found(format!("case '{id}'")))?;
    view(&r, now)
}

/// Extra inputs some commands take.
#[derive(Debug, Clone, Default)]
pub struct Extra {
    pub note: Option<String>,
    pub assignee_user_id: Option<String>,
    pub rating_comment: Option<String>,
}

/// Applies a command: checks it against the state machine, updates the
/// case's current state and appends the event, in one transaction.
pub async fn act_in(
    tx: &mut Tx,
    case_id: &str,
    actor: &str,
    cmd: &Command,
    extra: &Extra,
    cal: &Calendar,
    now: i64,
) -> Result<CaseView, StoreError> {
    if let Some(n) = &extra.note {
        check_text("note", n, MAX_NOTE_CHARS, false)
            .map_err(|e| StoreError::invalid(e.field, e.reason))?;
    }
    let cur = get_tx(tx, case_id, now).await?;
    let before = cur.state();
    let after = apply(&before, cmd, now).map_err(|e| StoreError::invalid(e.field, e.reason))?;
    let mut data = json!({});
    let mut holder = cur.holder_place_id.clone();
    let mut resolution_due = cur.resolution_due;
    let mut duplicate_of = cur.duplicate_of.clone();
    let mut assignee = cur.assignee_user_id.clone();
    match cmd {
        Command::Merge { into } => {
            if into == case_id {
                return Err(StoreError::invalid(
                    "duplicate_of",
                    "a case cannot duplicate itself",
                ));
            }
            let other = get_tx(tx, into, now)
                .await
                .map_err(|_| StoreError::invalid("duplicate_of", format!("no case '{into}'")))?;
            if other.compound_id != cur.compound_id {
                return Err(StoreError::invalid(
                    "duplicate_of",
                    "the duplicate must be a case of the same compound",
                ));
            }
            if other.status().is_terminal() {
                return Err(StoreError::invalid(
                    "duplicate_of",
                    "merge into a case that is still handled, not a rejected or merged one",
                ));
            }
            duplicate_of = Some(into.clone());
            data = json!({"duplicate_of": into});
        }
        Command::Assign => {
            if let Some(u) = &extra.assignee_user_id {
                if sqlx::query("SELECT id FROM users WHERE id = $1")
                    .bind(u.clone())
                    .fetch_optional(&mut **tx)
                    .await?
                    .is_none()
                {
                    return Err(StoreError::invalid(
                        "assignee_user_id",
                        format!("no user '{u}'"),
                    ));
                }
                assignee = Some(u.clone());
            }
            data = json!({"assignee_user_id": assignee});
        }
        Command::Escalate => {
            let parent = sqlx::query("SELECT parent_id FROM places WHERE id = $1")
                .bind(holder.clone())
                .fetch_one(&mut **tx)
                .await?;
            let parent = db::os(&parent, "parent_id")?.ok_or_else(|| {
                StoreError::invalid("action", "the case is already held at the top")
            })?;
            let from = holder.clone();
            holder = parent;
            resolution_due = resolution_due.max(deadline(now, ESCALATION_GRACE, cal));
            data = json!({"from_place_id": from, "to_place_id": holder, "to_level": after.level, "resolution_due": resolution_due});
        }
        Command::Rate { stars } => {
            // The timeline and the audit trail keep the comment masked.
            data =
                json!({"stars": stars, "comment": extra.rating_comment.as_deref().map(mask_text)})
        }
        _ => {}
    }
    let responded_at = match cmd {
        Command::Accept | Command::Reject { .. } | Command::Merge { .. } => {
            cur.responded_at.or(Some(now))
        }
        _ => cur.responded_at,
    };
    let resolved_at = match (cmd, after.status) {
        (Command::Resolve, _) => Some(now),
        (_, s) if s.is_resolved() => cur.resolved_at,
        _ => None,
    };
    let rating_comment = match cmd {
        Command::Rate { .. } => extra.rating_comment.clone(),
        Command::Reopen => None,
        _ => cur.rating_comment.clone(),
    };
    sqlx::query(
        "UPDATE cases SET status = $1, is_open = $2, holder_place_id = $3, level = $4, resolution_due = $5, duplicate_of = $6, assignee_user_id = $7, \
         responded_at = $8, resolved_at = $9, closed_at = $10, rating = $11, rated_at = $12, rating_comment = $13, reopens = $14, escalations = $15, updated_at = $16 \
         WHERE id = $17",
    )
    .bind(after.status.as_str())
    .bind(after.status.is_open() as i64)
    .bind(holder.clone())
    .bind(after.level.as_str())
    .bind(resolution_due)
    .bind(duplicate_of)
    .bind(assignee)
    .bind(responded_at)
    .bind(resolved_at)
    .bind(after.closed_at)
    .bind(after.rating.map(|r| r as i64))
    .bind(after.rated_at)
    .bind(rating_comment)
    .bind(after.reopens as i64)
    .bind(after.escalations as i64)
    .bind(now)
    .bind(case_id.to_string())
    .execute(&mut **tx)
    .await?;
    let note = match cmd {
        Command::Reject { reason } => Some(reason.clone()),
        _ => extra.note.clone(),
    };
    insert_event(
        tx,
        case_id,
        now,
        actor,
        cmd.event(),
        Some(before.status),
        after.status,
        note.as_deref(),
        Some(data.clone()),
    )
    .await?;
    audit::record(
        tx,
        Entry {
            actor: actor.into(),
            action: format!("case.{}", cmd.event()),
            entity: "case".into(),
            entity_id: case_id.into(),
            scope_path: cur.place_path.clone(),
            before: Some(json!({"status": before.status})),
            after: Some(json!({"status": after.status, "data": data})),
        },
    )
    .await?;
    get_tx(tx, case_id, now).await
}

/// Adds a note to the timeline without changing the state.
pub(crate) async fn comment_in(
    tx: &mut Tx,
    case_id: &str,
    actor: &str,
    note: &str,
    now: i64,
) -> Result<(), StoreError> {
    check_text("note", note, MAX_NOTE_CHARS, true)
        .map_err(|e| StoreError::invalid(e.field, e.reason))?;
    let cur = get_tx(tx, case_id, now).await?;
    insert_event(
        tx,
        case_id,
        now,
        actor,
        "commented",
        Some(cur.status()),
        cur.status(),
        Some(note),
        None,
    )
    .await
}

pub async fn timeline(db: &Db, case_id: &str) -> Result<Vec<EventView>, StoreError> {
    let rows = sqlx::query("SELECT id, at, actor, kind, from_status, to_status, note, data_json FROM case_events WHERE case_id = $1 ORDER BY at, id")
        .bind(case_id.to_string())
        .fetch_all(db.reader())
        .await?;
    rows.iter()
        .map(|r| {
            Ok(EventView {
                id: db::s(r, "id")?,
                at: db::i(r, "at")?,
                actor: db::s(r, "actor")?,
                kind: db::s(r, "kind")?,
                from_status: db::os(r, "from_status")?,
                to_status: db::s(r, "to_status")?,
                note: db::os(r, "note")?.map(|t| mask_text(&t)),
                data: db::os(r, "data_json")?.and_then(|s| serde_json::from_str(&s).ok()),
            })
        })
        .collect()
}

/// Stores a photo (PNG, JPEG or WebP, sniffed from its bytes) with its SHA-256.
pub async fn add_photo_in(
    tx: &mut Tx,
    case_id: &str,
    actor: &str,
    bytes: Vec<u8>,
    now: i64,
) -> Result<PhotoView, StoreError> {
    let ct = check_photo(&bytes).map_err(|e| StoreError::invalid("photo", e))?;
    let cur = get_tx(tx, case_id, now).await?;
    let n = db::i(
        &sqlx::query("SELECT CAST(COUNT(*) AS BIGINT) AS n FROM case_photos WHERE case_id = $1")
            .bind(case_id.to_string())
            .fetch_one(&mut **tx)
            .await?,
        "n",
    )?;
    if n as usize >= MAX_PHOTOS {
        return Err(StoreError::invalid(
            "photo",
            format!("a case has at most {MAX_PHOTOS} photos"),
        ));
    }
    let sha = hex::encode(Sha256::digest(&bytes));
    let id = db::new_id();
    let size = bytes.len() as i64;
    sqlx::query("INSERT INTO case_photos (id, case_id, sha256, content_type, size, bytes, added_by, created_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8)")
        .bind(id.clone())
        .bind(case_id.to_string())
        .bind(sha.clone())
        .bind(ct)
        .bind(size)
        .bind(bytes)
        .bind(actor.to_string())
        .bind(now)
        .execute(&mut **tx)
        .await?;
    insert_event(
        tx,
        case_id,
        now,
        actor,
        "photo_added",
        Some(cur.status()),
        cur.status(),
        None,
        Some(json!({"photo_id": id, "sha256": sha, "content_type": ct, "size": size})),
    )
    .await?;
    audit::record(
        tx,
        Entry {
            actor: actor.into(),
            action: "case.photo".into(),
            entity: "case".into(),
            entity_id: case_id.into(),
            scope_path: cur.place_path.clone(),
            before: None,
            after: Some(json!({"photo_id": id, "sha256": sha})),
        },
    )
    .await?;
    Ok(PhotoView {
        id,
        sha256: sha,
        content_type: ct.into(),
        size,
        created_at: now,
    })
}

pub async fn photos(db: &Db, case_id: &str) -> Result<Vec<PhotoView>, StoreError> {
    let rows = sqlx::query("SELECT id, sha256, content_type, size, created_at FROM case_photos WHERE case_id = $1 ORDER BY created_at, id")
        .bind(case_id.to_string())
        .fetch_all(db.reader())
        .await?;
    rows.iter()
        .map(|r| {
            Ok(PhotoView {
                id: db::s(r, "id")?,
                sha256: db::s(r, "sha256")?,
                content_type: db::s(r, "content_type")?,
                size: db::i(r, "size")?,
                created_at: db::i(r, "created_at")?,
            })
        })
        .collect()
}

pub async fn photo_bytes(
    db: &Db,
    case_id: &str,
    photo_id: &str,
) -> Result<(String, Vec<u8>), StoreError> {
    let r =
        sqlx::query("SELECT content_type, bytes FROM case_photos WHERE case_id = $1 AND id = $2")
            .bind(case_id.to_string())
            .bind(photo_id.to_string())
            .fetch_optional(db.reader())
            .await?
            .ok_or_else(|| StoreError::not_found(format!("photo '{photo_id}'")))?;
    use sqlx::Row;
    Ok((
        db::s(&r, "content_type")?,
        r.try_get::<Vec<u8>, _>("bytes")?,
    ))
}

/// Filters for listing cases below a place.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    pub open_only: bool,
    pub status: Option<Vec<Status>>,
    pub category: Option<Category>,
    pub from: Option<i64>,
    pub to: Option<i64>,
    pub ids: Option<Vec<String>>,
    /// Only cases in these micro-grids (a grid worker's narrowed view).
    pub grids: Option<Vec<String>>,
}

/// Cases below `path`, open ones first by deadline (a work queue) when
/// `open_only`, otherwise newest first.
/// The SQL of [`list_under`] and its text and integer binds, or `None` when
/// the filter matches nothing.
fn list_sql(path: &str, f: &ListFilter) -> Option<(String, Vec<String>, Vec<i64>)> {
    let (lo, hi) = subtree(path);
    let mut sql = format!("SELECT {COLS} FROM cases c JOIN places pl ON pl.id = c.place_id WHERE c.place_path >= $1 AND c.place_path < $2");
    let mut binds: Vec<String> = vec![lo, hi];
    let mut ints: Vec<(usize, i64)> = vec![];
    let mut n = 3;
    if f.open_only {
        sql.push_str(" AND c.is_open = 1");
    }
    if let Some(st) = &f.status {
        if st.is_empty() {
            return None;
        }
        sql.push_str(&format!(
            " AND c.status IN ({})",
            db::in_placeholders(n, st.len())
        ));
        n += st.len();
        binds.extend(st.iter().map(|s| s.as_str().to_string()));
    }
    if let Some(c) = f.category {
        sql.push_str(&format!(" AND c.category = ${n}"));
        n += 1;
        binds.push(c.as_str().into());
    }
    for (col, vals) in [("c.id", &f.ids), ("c.grid_id", &f.grids)] {
        if let Some(vals) = vals {
            if vals.is_empty() {
                return None;
            }
            sql.push_str(&format!(
                " AND {col} IN ({})",
                db::in_placeholders(n, vals.len())
            ));
            n += vals.len();
            binds.extend(vals.iter().cloned());
        }
    }
    if let Some(from) = f.from {
        sql.push_str(&format!(" AND c.reported_at >= ${n}"));
        ints.push((n, from));
        n += 1;
    }
    if let Some(to) = f.to {
        sql.push_str(&format!(" AND c.reported_at < ${n}"));
        ints.push((n, to));
        n += 1;
    }
    sql.push_str(if f.open_only {
        " ORDER BY c.resolution_due, c.id"
    } else {
        " ORDER BY c.reported_at DESC, c.id DESC"
    });
    sql.push_str(&format!(" LIMIT ${n} OFFSET ${}", n + 1));
    Some((sql, binds, ints.into_iter().map(|(_, v)| v).collect()))
}

pub async fn list_under(
    db: &Db,
    path: &str,
    f: &ListFilter,
    limit: i64,
    offset: i64,
) -> Result<Vec<CaseView>, StoreError> {
    let Some((sql, binds, ints)) = list_sql(path, f) else {
        return Ok(vec![]);
    };
    let mut q = sqlx::query(&sql);
    for b in binds {
        q = q.bind(b);
    }
    for v in ints {
        q = q.bind(v);
    }
    q = q.bind(limit.clamp(1, 1000)).bind(offset.max(0));
    let now = db::now_ms();
    q.fetch_all(db.reader())
        .await?
        .iter()
        .map(|r| view(r, now))
        .collect()
}

/// The query plan of [`list_under`] (50 per page), one line per plan node:
/// SQLite's `EXPLAIN QUERY PLAN`, PostgreSQL's `EXPLAIN` with sequential
/// scans discouraged (a test database is too small for the planner to
/// prefer an index on its own; the question is which index it can use).
pub async fn explain_list_under(
    db: &Db,
    path: &str,
    f: &ListFilter,
) -> Result<Vec<String>, StoreError> {
    let Some((sql, binds, ints)) = list_sql(path, f) else {
        return Ok(vec![]);
    };
    let (prefix, col) = match db.backend() {
        crate::db::Backend::Sqlite => ("EXPLAIN QUERY PLAN ", "detail"),
        crate::db::Backend::Postgres => ("EXPLAIN ", "QUERY PLAN"),
    };
    let mut tx = db.begin_write().await?;
    if db.backend() == crate::db::Backend::Postgres {
        sqlx::query("SET LOCAL enable_seqscan = off")
            .execute(&mut *tx)
            .await?;
    }
    let sql = format!("{prefix}{sql}");
    let mut q = sqlx::query(&sql);
    for b in binds {
        q = q.bind(b);
    }
    for v in ints {
        q = q.bind(v);
    }
    let rows = q.bind(50i64).bind(0i64).fetch_all(&mut *tx).await?;
    tx.rollback().await?;
    rows.iter().map(|r| db::s(r, col)).collect()
}

/// A user's own cases, newest first.
pub async fn mine(db: &Db, user_id: &str, limit: i64) -> Result<Vec<CaseView>, StoreError> {
    let rows = sqlx::query(&format!("SELECT {COLS} FROM cases c JOIN places pl ON pl.id = c.place_id WHERE c.reporter_user_id = $1 ORDER BY c.reported_at DESC, c.id DESC LIMIT $2"))
        .bind(user_id.to_string())
        .bind(limit.clamp(1, 1000))
        .fetch_all(db.reader())
        .await?;
    let now = db::now_ms();
    rows.iter().map(|r| view(r, now)).collect()
}

/// The escalation sweep: every open case below `path` past its deadline
/// moves one level up (unless it is at the district). Runs in batches of
/// `batch` cases per transaction; returns how many were escalated.
pub async fn sweep(
    db: &Db,
    path: &str,
    actor: &str,
    cal: &Calendar,
    now: i64,
    batch: i64,
) -> Result<u64, StoreError> {
    sweep_in(db, path, None, actor, cal, now, batch).await
}

/// The sweep over the cases below `path` of the micro-grids `grids` only
/// (`None`: all): a grid worker's sweep touches only the cases they may
/// escalate.
pub async fn sweep_in(
    db: &Db,
    path: &str,
    grids: Option<&[String]>,
    actor: &str,
    cal: &Calendar,
    now: i64,
    batch: i64,
) -> Result<u64, StoreError> {
    let (lo, hi) = subtree(path);
    let mut total = 0u64;
    let mut after = String::new();
    let in_grids = match grids {
        None => String::new(),
        Some([]) => return Ok(0),
        Some(g) => format!(" AND grid_id IN ({})", db::in_placeholders(6, g.len())),
    };
    let sql = format!(
        "SELECT id FROM cases WHERE is_open = 1 AND resolution_due < $1 AND place_path >= $2 AND place_path < $3 AND level <> 'district' AND id > $4{in_grids} \
         UNION SELECT id FROM cases WHERE is_open = 1 AND status = 'reported' AND escalations = 0 AND response_due < $1 AND place_path >= $2 AND place_path < $3 AND level <> 'district' AND id > $4{in_grids} \
         ORDER BY id LIMIT $5"
    );
    loop {
        // Overdue: any open case past resolution, or (once) a reported case past the response limit.
        let mut q = sqlx::query(&sql)
            .bind(now)
            .bind(lo.clone())
            .bind(hi.clone())
            .bind(after.clone())
            .bind(batch.clamp(1, 10_000));
        for g in grids.unwrap_or_default() {
            q = q.bind(g.clone());
        }
        let rows = q.fetch_all(db.reader()).await?;
        if rows.is_empty() {
            break;
        }
        let ids: Vec<String> = rows
            .iter()
            .map(|r| db::s(r, "id"))
            .collect::<Result<_, _>>()?;
        after = ids.last().cloned().unwrap_or_default();
        let (actor, cal) = (actor.to_string(), cal.clone());
        let n = db
            .write(move |tx| {
                let (ids, actor, cal) = (ids.clone(), actor.clone(), cal.clone());
                Box::pin(async move {
                    let mut n = 0u64;
                    for id in &ids {
                        // Re-checked inside the transaction: a case handled meanwhile is skipped.
                        let cur = get_tx(tx, id, now).await?;
                        // A late response escalates once; after that the resolution deadline rules.
                        let due = now > cur.resolution_due
                            || (cur.status() == Status::Reported
                                && cur.escalations == 0
                                && now > cur.response_due);
                        if !due || !cur.status().is_open() || cur.level == "district" {
                            continue;
                        }
                        let extra = Extra {
                            note: Some("overdue: escalated automatically".into()),
                            ..Default::default()
                        };
                        if act_in(tx, id, &actor, &Command::Escalate, &extra, &cal, now)
                            .await
                            .is_ok()
                        {
                            n += 1;
                        }
                    }
                    Ok(n)
                })
            })
            .await?;
        total += n;
    }
    Ok(total)
}

/// KPIs for cases below `path` reported in `[from, to)`.
pub async fn stats(db: &Db, path: &str, from: i64, to: i64, now: i64) -> Result<Kpis, StoreError> {
    let (lo, hi) = subtree(path);
    let rows = sqlx::query(
        "SELECT status, reported_at, responded_at, response_due, resolved_at, resolution_due, rating, escalations FROM cases \
         WHERE place_path >= $1 AND place_path < $2 AND reported_at >= $3 AND reported_at < $4",
    )
    .bind(lo)
    .bind(hi)
    .bind(from)
    .bind(to)
    .fetch_all(db.reader())
    .await?;
    let cases: Vec<KpiCase> = rows
        .iter()
        .map(|r| {
            Ok(KpiCase {
                status: Status::parse(&db::s(r, "status")?).unwrap_or(Status::Reported),
                reported_at: db::i(r, "reported_at")?,
                responded_at: db::oi(r, "responded_at")?,
                response_due: db::i(r, "response_due")?,
                resolved_at: db::oi(r, "resolved_at")?,
                resolution_due: db::i(r, "resolution_due")?,
                rating: db::oi(r, "rating")?.map(|v| v as u8),
                escalations: db::i(r, "escalations")? as u32,
            })
        })
        .collect::<Result<_, StoreError>>()?;
    Ok(rules::kpis(&cases, now))
}

/// Counts by category below a path (for public statistics; no personal data).
pub async fn counts_by_category(
    db: &Db,
    path: &str,
    from: i64,
    to: i64,
) -> Result<Vec<(String, i64)>, StoreError> {
    let (lo, hi) = subtree(path);
    let rows = sqlx::query(
        "SELECT category, CAST(COUNT(*) AS BIGINT) AS n FROM cases WHERE place_path >= $1 AND place_path < $2 AND reported_at >= $3 AND reported_at < $4 GROUP BY category ORDER BY category",
    )
    .bind(lo)
    .bind(hi)
    .bind(from)
    .bind(to)
    .fetch_all(db.reader())
    .await?;
    rows.iter()
        .map(|r| Ok((db::s(r, "category")?, db::i(r, "n")?)))
        .collect()
}

/// Refreshes the planner's statistics of `cases` (after a bulk load, as
/// autovacuum would in time).
pub async fn analyze(db: &Db) -> Result<(), StoreError> {
    sqlx::query("ANALYZE cases").execute(db.reader()).await?;
    Ok(())
}

/// How many cases the database holds.
pub async fn count(db: &Db) -> Result<i64, StoreError> {
    db::i(
        &sqlx::query("SELECT CAST(COUNT(*) AS BIGINT) AS n FROM cases")
            .fetch_one(db.reader())
            .await?,
        "n",
    )
}

/// For benchmarks only: `k` synthetic repair cases (numbered from `start`)
/// spread over `places`, 1 in 10 open, written straight into the table in
/// one statement (no events, no audit: they are not real cases).
pub async fn bulk_synthetic(
    db: &Db,
    places: &[Place],
    start: usize,
    k: usize,
    now: i64,
) -> Result<(), StoreError> {
    let (places, dbc) = (places.to_vec(), db.clone());
    db.write(move |tx| {
        let (b, db2) = (places.clone(), dbc.clone());
        Box::pin(async move {
            let sql = format!(
                "INSERT INTO cases (id, category, priority, status, is_open, place_id, place_path, holder_place_id, level, org_kind, description, channel, raised_by, consent_publish, reported_at, response_due, resolution_due, reopens, escalations, updated_at) VALUES {}",
                db2.bulk_values(k, 20)
            );
            let mut q = sqlx::query(&sql);
            for i in start..start + k {
                let p = &b[i % b.len()];
                let open = (i / b.len()) % 10 == 0;
                let reported = now - ((i as i64 * 7919) % (360 * rules::DAY_MS / 1000)) * 1000;
                q = q
                    .bind(db::new_id())
                    .bind("repair")
                    .bind("normal")
                    .bind(if open { "assigned" } else { "closed" })
                    .bind(open as i64)
                    .bind(p.id.clone())
                    .bind(p.path.clone())
                    .bind(p.id.clone())
                    .bind(p.kind.clone())
                    .bind("steward")
                    .bind("bench")
                    .bind("web")
                    .bind("bench")
                    .bind(0i64)
                    .bind(reported)
                    .bind(reported + rules::DAY_MS)
                    .bind(reported + 7 * rules::DAY_MS + (i as i64 % 1000) * 60_000)
                    .bind(0i64)
                    .bind(0i64)
                    .bind(reported);
            }
            q.execute(&mut **tx).await?;
            Ok(())
        })
    })
    .await
}

// ---------------------------------------------------------------------------
// Commands: each owns its transaction (what the API, pages and Open311 call)
// ---------------------------------------------------------------------------

/// Raises a case ([`raise_in`]) in its own transaction; returns its id.
pub async fn raise(db: &Db, c: &NewCase, cal: &Calendar, now: i64) -> Result<String, StoreError> {
    let (c, cal) = (c.clone(), cal.clone());
    db.write(move |tx| {
        let (c, cal) = (c.clone(), cal.clone());
        Box::pin(async move { raise_in(tx, &c, &cal, now).await })
    })
    .await
}

/// Applies a command ([`act_in`]) in its own transaction.
pub async fn act(
    db: &Db,
    case_id: &str,
    actor: &str,
    cmd: &Command,
    extra: &Extra,
    cal: &Calendar,
    now: i64,
) -> Result<CaseView, StoreError> {
    let (id, actor, cmd, extra, cal) = (
        case_id.to_string(),
        actor.to_string(),
        cmd.clone(),
        extra.clone(),
        cal.clone(),
    );
    db.write(move |tx| {
        let (id, actor, cmd, extra, cal) = (
            id.clone(),
            actor.clone(),
            cmd.clone(),
            extra.clone(),
            cal.clone(),
        );
        Box::pin(async move { act_in(tx, &id, &actor, &cmd, &extra, &cal, now).await })
    })
    .await
}

/// Adds a note to the timeline ([`comment_in`]); returns the case as it stands.
pub async fn comment(
    db: &Db,
    case_id: &str,
    actor: &str,
    note: &str,
    now: i64,
) -> Result<CaseView, StoreError> {
    let (id, actor, note) = (case_id.to_string(), actor.to_string(), note.to_string());
    db.write(move |tx| {
        let (id, actor, note) = (id.clone(), actor.clone(), note.clone());
        Box::pin(async move {
            comment_in(tx, &id, &actor, &note, now).await?;
            get_tx(tx, &id, now).await
        })
    })
    .await
}

/// Stores a photo ([`add_photo_in`]) in its own transaction.
pub async fn add_photo(
    db: &Db,
    case_id: &str,
    actor: &str,
    bytes: Vec<u8>,
    now: i64,
) -> Result<PhotoView, StoreError> {
    let (id, actor) = (case_id.to_string(), actor.to_string());
    db.write(move |tx| {
        let (id, actor, bytes) = (id.clone(), actor.clone(), bytes.clone());
        Box::pin(async move { add_photo_in(tx, &id, &actor, bytes, now).await })
    })
    .await
}

/// Sets a community's routing rule ([`set_route_in`]) in its own transaction.
pub async fn set_route(
    db: &Db,
    actor: &str,
    community: &Place,
    category: Category,
    org_kind: OrgKind,
) -> Result<(), StoreError> {
    let (actor, community) = (actor.to_string(), community.clone());
    db.write(move |tx| {
        let (actor, community) = (actor.clone(), community.clone());
        Box::pin(async move { set_route_in(tx, &actor, &community, category, org_kind).await })
    })
    .await
}
