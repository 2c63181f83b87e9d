//! Party members at home: the register (imported from a CSV, all or
//! nothing), check-ins to the compound's branch with a receipt the employer
//! can verify, and the figures by place (check-in rate; Chengdu's rule of a
//! member in every micro-grid).
//!
//! Every function here is a command that owns its transaction. Who may call
//! which is decided by the web's access gate (`Action::ReadParty`,
//! `Action::ManageParty`); the rules that need the data (nobody confirms
//! their own check-in; one check-in a year) are checked here.

use crate::audit::{self, Entry};
use crate::db::{self, Db, Tx};
use crate::error::StoreError;
use crate::register::{subtree, Place};
use gongzhi_domain::mask::{mask_name, mask_phone};
use gongzhi_domain::party::{normalise_receipt_code, receipt_code, MemberStatus, PartyRow};
use gongzhi_domain::roster::RowError;
use rand::RngCore;
use serde::Serialize;
use serde_json::json;
use std::collections::{BTreeMap, HashMap};

/// Rows per multi-row statement.
const BATCH: usize = 500;

#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct PartyImportReport {
    pub rows: usize,
    pub members_created: usize,
    pub members_updated: usize,
    pub members_unchanged: usize,
    pub people_created: usize,
    pub employers_created: usize,
    pub dry_run: bool,
}

/// Imports validated rows (see `gongzhi_domain::party`). A row naming a
/// compound or part that does not exist is reported as `row N: field:
/// reason` and nothing is written; with `dry_run` the transaction is rolled
/// back after computing the report. Re-importing the same rows writes
/// nothing.
pub async fn import_members(
    db: &Db,
    actor: &str,
    rows: Vec<PartyRow>,
    dry_run: bool,
) -> Result<Result<PartyImportReport, Vec<RowError>>, StoreError> {
    let actor = actor.to_string();
    if dry_run {
        let mut tx = db.begin_write().await?;
        let out = import_in(db, &mut tx, &actor, &rows).await;
        tx.rollback().await?;
        return Ok(out?.map(|r| PartyImportReport { dry_run: true, ..r }));
    }
    // bad rows are found before anything is written
    let rows = std::sync::Arc::new(rows);
    let db2 = db.clone();
    db.write(move |tx| {
        let (db, rows, actor) = (db2.clone(), rows.clone(), actor.clone());
        Box::pin(async move { import_in(&db, tx, &actor, &rows).await })
    })
    .await
}

/// A member already registered: (member id, status, employer, joined on, phone).
type Existing = (
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
);

struct PartInfo {
    id: String,
    place_id: String,
    compound_id: String,
}

async fn import_in(
    db: &Db,
    tx: &mut Tx,
    actor: &str,
    rows: &[PartyRow],
) -> Result<Result<PartyImportReport, Vec<RowError>>, StoreError> {
    let mut report = PartyImportReport {
        rows: rows.len(),
        ..Default::default()
    };
    let now = db::now_ms();
    // the compounds named, by code
    let mut codes: Vec<String> = rows.iter().map(|r| r.compound.clone()).collect();
    codes.sort();
    codes.dedup();
    let mut compounds: HashMap<String, Place> = HashMap::new();
    for chunk in codes.chunks(BATCH) {
        let sql = format!(
            "SELECT {} FROM places WHERE kind = 'compound' AND code IN ({})",
            crate::register::PLACE_COLS,
            db.bulk_in(chunk.len())
        );
        let mut q = sqlx::query(&sql);
        for c in chunk {
            q = q.bind(c);
        }
        for r in q.fetch_all(&mut **tx).await? {
            let p = crate::register::place_from(&r)?;
            compounds.insert(p.code.clone().unwrap_or_default(), p);
        }
    }
    // their parts, by (code, building, unit, number)
    let mut parts: HashMap<(String, String, String, String), PartInfo> = HashMap::new();
    let ids: Vec<&Place> = compounds.values().collect();
    for chunk in ids.chunks(BATCH) {
        let sql = format!(
            "SELECT pt.id, pt.number, pt.place_id, pt.compound_id, u.kind AS ukind, u.name AS uname, b.name AS bname \
             FROM parts pt JOIN places u ON u.id = pt.place_id LEFT JOIN places b ON b.id = u.parent_id \
             WHERE pt.compound_id IN ({})",
            db.bulk_in(chunk.len())
        );
        let mut q = sqlx::query(&sql);
        for c in chunk {
            q = q.bind(&c.id);
        }
        let code_of: HashMap<&str, &str> = chunk
            .iter()
            .map(|p| (p.id.as_str(), p.code.as_deref().unwrap_or_default()))
            .collect();
        for r in q.fetch_all(&mut **tx).await? {
            let compound_id = db::s(&r, "compound_id")?;
            let (building, unit) = if db::s(&r, "ukind")? == "unit" {
                (
                    db::os(&r, "bname")?.unwrap_or_default(),
                    db::s(&r, "uname")?,
                )
            } else {
                (db::s(&r, "uname")?, String::new())
            };
            let code = code_of
                .get(compound_id.as_str())
                .copied()
                .unwrap_or_default();
            parts.insert(
                (code.to_string(), building, unit, db::s(&r, "number")?),
                PartInfo {
                    id: db::s(&r, "id")?,
                    place_id: db::s(&r, "place_id")?,
                    compound_id,
                },
            );
        }
    }
    let mut errors = Vec::new();
    let mut resolved: Vec<(&PartyRow, &PartInfo)> = Vec::with_capacity(rows.len());
    for r in rows {
        if !compounds.contains_key(&r.compound) {
            errors.push(RowError {
                row: r.row,
                field: "compound".into(),
                reason: format!("no compound with the code '{}'", r.compound),
            });
            continue;
        }
        let key = (
            r.compound.clone(),
            r.building.clone(),
            r.unit.clone(),
            r.number.clone(),
        );
        match parts.get(&key) {
            Some(p) => resolved.push((r, p)),
            None => errors.push(RowError {
                row: r.row,
                field: "number".into(),
                reason: format!(
                    "no part {}{}{} in {}",
                    r.building, r.unit, r.number, r.compound
                ),
            }),
        }
    }
    if !errors.is_empty() {
        return Ok(Err(errors));
    }
    // employer units by name, in each compound's district
    let district_of = |c: &Place| crate::register::path_ids(&c.path).into_iter().next();
    let mut employers: HashMap<(String, String), String> = HashMap::new();
    let districts: Vec<String> = {
        let mut d: Vec<String> = compounds.values().filter_map(district_of).collect();
        d.sort();
        d.dedup();
        d
    };
    for chunk in districts.chunks(BATCH) {
        let sql = format!(
            "SELECT id, name, place_id FROM organisations WHERE kind = 'employer_unit' AND place_id IN ({})",
            db.bulk_in(chunk.len())
        );
        let mut q = sqlx::query(&sql);
        for d in chunk {
            q = q.bind(d);
        }
        for r in q.fetch_all(&mut **tx).await? {
            employers.insert(
                (db::s(&r, "place_id")?, db::s(&r, "name")?),
                db::s(&r, "id")?,
            );
        }
    }
    let mut new_orgs: Vec<(String, String, String)> = Vec::new(); // id, name, district
    for (r, _) in &resolved {
        if let Some(name) = &r.employer {
            let d = district_of(&compounds[&r.compound]).unwrap_or_default();
            if let std::collections::hash_map::Entry::Vacant(e) =
                employers.entry((d.clone(), name.clone()))
            {
                let id = db::new_id();
                e.insert(id.clone());
                new_orgs.push((id, name.clone(), d));
            }
        }
    }
    for chunk in new_orgs.chunks(BATCH) {
        let sql = format!(
            "INSERT INTO organisations (id, kind, name, place_id, parent_id, created_at) VALUES {}",
            db.bulk_values(chunk.len(), 6)
        );
        let mut q = sqlx::query(&sql);
        for (id, name, d) in chunk {
            q = q
                .bind(id)
                .bind("employer_unit")
                .bind(name)
                .bind(d)
                .bind(None::<String>)
                .bind(now);
        }
        q.execute(&mut **tx).await?;
    }
    report.employers_created = new_orgs.len();
    // existing members of these parts, and residents who may be the person
    let part_ids: Vec<&str> = resolved.iter().map(|(_, p)| p.id.as_str()).collect();
    let mut members: HashMap<(String, String), Existing> = HashMap::new(); // by (part, name)
    let mut residents: HashMap<(String, String), String> = HashMap::new(); // (part, name) -> person
    for chunk in part_ids.chunks(BATCH) {
        let sql = format!(
            "SELECT m.id, m.part_id, m.status, m.employer_org_id, m.joined_on, p.name, p.phone \
             FROM party_members m JOIN people p ON p.id = m.person_id WHERE m.part_id IN ({})",
            db.bulk_in(chunk.len())
        );
        let mut q = sqlx::query(&sql);
        for id in chunk {
            q = q.bind(*id);
        }
        for r in q.fetch_all(&mut **tx).await? {
            members.insert(
                (db::s(&r, "part_id")?, db::s(&r, "name")?),
                (
                    db::s(&r, "id")?,
                    db::s(&r, "status")?,
                    db::os(&r, "employer_org_id")?,
                    db::os(&r, "joined_on")?,
                    db::os(&r, "phone")?,
                ),
            );
        }
        let sql = format!(
            "SELECT r.part_id, r.person_id, p.name FROM residents r JOIN people p ON p.id = r.person_id \
             WHERE r.until IS NULL AND r.part_id IN ({})",
            db.bulk_in(chunk.len())
        );
        let mut q = sqlx::query(&sql);
        for id in chunk {
            q = q.bind(*id);
        }
        for r in q.fetch_all(&mut **tx).await? {
            residents.insert(
                (db::s(&r, "part_id")?, db::s(&r, "name")?),
                db::s(&r, "person_id")?,
            );
        }
    }
    // people already members elsewhere cannot be members twice
    let mut new_people: Vec<(String, &PartyRow, &PartInfo)> = Vec::new();
    let mut new_members: Vec<(String, String, &PartyRow, &PartInfo, Option<String>)> = Vec::new();
    let mut updates: Vec<(String, &PartyRow, Option<String>)> = Vec::new();
    let mut entries = Vec::new();
    for (r, p) in &resolved {
        let compound = &compounds[&r.compound];
        let employer = r
            .employer
            .as_ref()
            .map(|n| employers[&(district_of(compound).unwrap_or_default(), n.clone())].clone());
        let phone = (!r.phone.is_empty()).then(|| r.phone.clone());
        match members.get(&(p.id.clone(), r.name.clone())) {
            Some((id, status, emp, joined, ph)) => {
                if status == r.status.as_str()
                    && *emp == employer
                    && *joined == r.joined_on
                    && (phone.is_none() || *ph == phone)
                {
                    report.members_unchanged += 1;
                } else {
                    entries.push(member_entry(actor, "party_member.update", id, compound, p));
                    updates.push((id.clone(), r, employer));
                }
            }
            None => {
                let person = match residents.get(&(p.id.clone(), r.name.clone())) {
                    Some(person) => person.clone(),
                    None => {
                        let person = db::new_id();
                        new_people.push((person.clone(), r, p));
                        person
                    }
                };
                let id = db::new_id();
                entries.push(member_entry(actor, "party_member.create", &id, compound, p));
                new_members.push((id, person, r, p, employer));
            }
        }
    }
    for chunk in new_people.chunks(BATCH) {
        let sql = format!(
            "INSERT INTO people (id, name, phone, id_number, consent_publish_name, home_place_id, created_at) VALUES {}",
            db.bulk_values(chunk.len(), 7)
        );
        let mut q = sqlx::query(&sql);
        for (id, r, p) in chunk {
            q = q
                .bind(id)
                .bind(&r.name)
                .bind((!r.phone.is_empty()).then(|| r.phone.clone()))
                .bind(None::<String>)
                .bind(0i64)
                .bind(&p.place_id)
                .bind(now);
        }
        q.execute(&mut **tx).await?;
    }
    report.people_created = new_people.len();
    for chunk in new_members.chunks(BATCH) {
        let sql = format!(
            "INSERT INTO party_members (id, person_id, compound_id, part_id, status, employer_org_id, joined_on, created_at, updated_at) VALUES {}",
            db.bulk_values(chunk.len(), 9)
        );
        let mut q = sqlx::query(&sql);
        for (id, person, r, p, employer) in chunk {
            q = q
                .bind(id)
                .bind(person)
                .bind(&p.compound_id)
                .bind(&p.id)
                .bind(r.status.as_str())
                .bind(employer.clone())
                .bind(r.joined_on.clone())
                .bind(now)
                .bind(now);
        }
        q.execute(&mut **tx).await.map_err(|e| {
            let e = StoreError::from(e);
            if e.is_unique_violation() {
                StoreError::invalid(
                    "name",
                    "a person in this file is already a member elsewhere",
                )
            } else {
                e
            }
        })?;
    }
    report.members_created = new_members.len();
    for (id, r, employer) in &updates {
        sqlx::query("UPDATE party_members SET status = $1, employer_org_id = $2, joined_on = $3, updated_at = $4 WHERE id = $5")
            .bind(r.status.as_str())
            .bind(employer.clone())
            .bind(r.joined_on.clone())
            .bind(now)
            .bind(id)
            .execute(&mut **tx)
            .await?;
        if !r.phone.is_empty() {
            sqlx::query("UPDATE people SET phone = $1 WHERE id = (SELECT person_id FROM party_members WHERE id = $2)")
                .bind(&r.phone)
                .bind(id)
                .execute(&mut **tx)
                .await?;
        }
    }
    report.members_updated = updates.len();
    audit::record_many_with(Some(db), tx, entries).await?;
    Ok(Ok(report))
}

/// The audit entry of a member's change: which part, never who or what
/// status (party membership is masked in the audit trail).
fn member_entry(actor: &str, action: &str, id: &str, compound: &Place, p: &PartInfo) -> Entry {
    Entry {
        actor: actor.to_string(),
        action: action.to_string(),
        entity: "party_member".into(),
        entity_id: id.to_string(),
        scope_path: compound.path.clone(),
        before: None,
        after: Some(json!({"part_id": p.id})),
    }
}

/// A member as the party organisations see them (phone masked).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct MemberView {
    pub id: String,
    pub person_id: String,
    pub name: String,
    pub phone: Option<String>,
    pub compound_id: String,
    pub part_id: String,
    pub part_number: String,
    pub status: String,
    pub employer: Option<String>,
    pub joined_on: Option<String>,
    /// This year's check-in: `none`, `requested` or `confirmed`.
    pub checkin: String,
    /// This year's check-in, once asked for.
    pub checkin_id: Option<String>,
    /// This year's receipt code, once the branch confirmed.
    pub receipt_code: Option<String>,
    #[serde(skip)]
    pub compound_path: String,
}

const MEMBER_SELECT: &str = "SELECT m.id, m.person_id, p.name, p.phone, m.compound_id, m.part_id, pt.number, m.status, o.name AS employer, m.joined_on, \
     c.id AS checkin_id, rc.code, cp.path AS compound_path \
     FROM party_members m JOIN people p ON p.id = m.person_id JOIN parts pt ON pt.id = m.part_id \
     JOIN places cp ON cp.id = m.compound_id \
     LEFT JOIN organisations o ON o.id = m.employer_org_id \
     LEFT JOIN party_checkins c ON c.member_id = m.id AND c.year = $1 \
     LEFT JOIN party_receipts rc ON rc.checkin_id = c.id";

fn member_from(r: &sqlx::any::AnyRow) -> Result<MemberView, StoreError> {
    let (checkin_id, receipt_code) = (db::os(r, "checkin_id")?, db::os(r, "code")?);
    let checkin = match (&checkin_id, &receipt_code) {
        (None, _) => "none",
        (Some(_), None) => "requested",
        (Some(_), Some(_)) => "confirmed",
    };
    Ok(MemberView {
        id: db::s(r, "id")?,
        person_id: db::s(r, "person_id")?,
        name: db::s(r, "name")?,
        phone: db::os(r, "phone")?.map(|p| mask_phone(&p)),
        compound_id: db::s(r, "compound_id")?,
        part_id: db::s(r, "part_id")?,
        part_number: db::s(r, "number")?,
        status: db::s(r, "status")?,
        employer: db::os(r, "employer")?,
        joined_on: db::os(r, "joined_on")?,
        checkin: checkin.into(),
        checkin_id,
        receipt_code,
        compound_path: db::s(r, "compound_path")?,
    })
}

/// A member living below `place`; anyone else (or no one) is refused as an
/// unknown `member_id`, naming nobody.
pub async fn member_within(
    db: &Db,
    id: &str,
    place: &Place,
    year: i64,
) -> Result<MemberView, StoreError> {
    match member(db, id, year).await {
        Ok(m) if m.compound_path.starts_with(&place.path) => Ok(m),
        Ok(_) | Err(StoreError::NotFound { .. }) => Err(StoreError::invalid(
            "member_id",
            format!("no party member '{id}' here"),
        )),
        Err(e) => Err(e),
    }
}

/// The members living below `place`, by part number (at most `limit`).
pub async fn members_under(
    db: &Db,
    place: &Place,
    year: i64,
    limit: i64,
) -> Result<Vec<MemberView>, StoreError> {
    let (lo, hi) = subtree(&place.path);
    let sql = format!(
        "{MEMBER_SELECT} WHERE cp.path >= $2 AND cp.path < $3 ORDER BY pt.number, p.name LIMIT $4"
    );
    sqlx::query(&sql)
        .bind(year)
        .bind(lo)
        .bind(hi)
        .bind(limit.clamp(1, 10_000))
        .fetch_all(db.reader())
        .await?
        .iter()
        .map(member_from)
        .collect()
}

/// One member.
pub async fn member(db: &Db, id: &str, year: i64) -> Result<MemberView, StoreError> {
    let sql = format!("{MEMBER_SELECT} WHERE m.id = $2");
    let r = sqlx::query(&sql)
        .bind(year)
        .bind(id)
        .fetch_optional(db.reader())
        .await?
        .ok_or_else(|| StoreError::not_found(format!("party member '{id}'")))?;
    member_from(&r)
}

/// The member record of a person, if they are one.
pub async fn member_of_person(
    db: &Db,
    person_id: &str,
    year: i64,
) -> Result<Option<MemberView>, StoreError> {
    let sql = format!("{MEMBER_SELECT} WHERE m.person_id = $2");
    sqlx::query(&sql)
        .bind(year)
        .bind(person_id)
        .fetch_optional(db.reader())
        .await?
        .as_ref()
        .map(member_from)
        .transpose()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// The member asked online.
    Online,
    /// The branch recorded a paper form.
    Paper,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct CheckIn {
    pub id: String,
    pub member_id: String,
    pub year: i64,
    pub channel: Channel,
}

/// Asks to check in for `year` (the member online, or the branch recording
/// a paper form). Once a year: a second request is a conflict. Only
/// in-service members check in.
pub async fn request_checkin(
    db: &Db,
    actor: &str,
    member_id: &str,
    year: i64,
    channel: Channel,
) -> Result<CheckIn, StoreError> {
    let (actor, member_id) = (actor.to_string(), member_id.to_string());
    db.write(move |tx| {
        let (actor, member_id) = (actor.clone(), member_id.clone());
        Box::pin(async move {
            let m = sqlx::query(
                "SELECT m.status, m.compound_id, pl.path FROM party_members m JOIN places pl ON pl.id = m.compound_id WHERE m.id = $1",
            )
            .bind(&member_id)
            .fetch_optional(&mut **tx)
            .await?
            .ok_or_else(|| StoreError::invalid("member_id", format!("no party member '{member_id}'")))?;
            let status = MemberStatus::parse(&db::s(&m, "status")?)
                .ok_or_else(|| StoreError::Config(format!("member {member_id}: unknown status")))?;
            if !status.checks_in() {
                return Err(StoreError::invalid(
                    "member_id",
                    "only in-service members check in where they live",
                ));
            }
            let compound_id = db::s(&m, "compound_id")?;
            let branch = sqlx::query(
                "SELECT id FROM organisations WHERE kind = 'compound_branch' AND place_id = $1 ORDER BY created_at LIMIT 1",
            )
            .bind(&compound_id)
            .fetch_optional(&mut **tx)
            .await?
            .map(|r| db::s(&r, "id"))
            .transpose()?;
            let id = db::new_id();
            let channel_s = match channel {
                Channel::Online => "online",
                Channel::Paper => "paper",
            };
            sqlx::query("INSERT INTO party_checkins (id, member_id, compound_id, branch_org_id, year, channel, requested_by, requested_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8)")
                .bind(&id)
                .bind(&member_id)
                .bind(&compound_id)
                .bind(branch)
                .bind(year)
                .bind(channel_s)
                .bind(&actor)
                .bind(db::now_ms())
                .execute(&mut **tx)
                .await
                .map_err(|e| {
                    let e = StoreError::from(e);
                    if e.is_unique_violation() {
                        StoreError::Conflict(format!("already checked in for {year}"))
                    } else {
                        e
                    }
                })?;
            audit::record(
                tx,
                Entry {
                    actor: actor.clone(),
                    action: "party.checkin.request".into(),
                    entity: "party_checkin".into(),
                    entity_id: id.clone(),
                    scope_path: db::s(&m, "path")?,
                    before: None,
                    after: Some(json!({"year": year, "channel": channel_s})),
                },
            )
            .await?;
            Ok(CheckIn {
                id,
                member_id: member_id.clone(),
                year,
                channel,
            })
        })
    })
    .await
}

/// A check-in waiting for the branch, or confirmed.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct CheckInView {
    pub id: String,
    pub member_id: String,
    pub member_person_id: String,
    pub compound_id: String,
    pub compound_path: String,
    pub year: i64,
    pub channel: String,
    pub receipt_code: Option<String>,
}

pub async fn checkin(db: &Db, id: &str) -> Result<CheckInView, StoreError> {
    let r = sqlx::query(
        "SELECT c.id, c.member_id, m.person_id, c.compound_id, pl.path, c.year, c.channel, rc.code \
         FROM party_checkins c JOIN party_members m ON m.id = c.member_id JOIN places pl ON pl.id = c.compound_id \
         LEFT JOIN party_receipts rc ON rc.checkin_id = c.id WHERE c.id = $1",
    )
    .bind(id)
    .fetch_optional(db.reader())
    .await?
    .ok_or_else(|| StoreError::not_found(format!("check-in '{id}'")))?;
    Ok(CheckInView {
        id: db::s(&r, "id")?,
        member_id: db::s(&r, "member_id")?,
        member_person_id: db::s(&r, "person_id")?,
        compound_id: db::s(&r, "compound_id")?,
        compound_path: db::s(&r, "path")?,
        year: db::i(&r, "year")?,
        channel: db::s(&r, "channel")?,
        receipt_code: db::os(&r, "code")?,
    })
}

/// The branch confirms a check-in and issues its receipt. Nobody confirms
/// their own (`actor_person` is the confirming user's person); a confirmed
/// check-in is a conflict.
pub async fn confirm_checkin(
    db: &Db,
    actor: &str,
    actor_person: Option<&str>,
    id: &str,
) -> Result<String, StoreError> {
    let c = checkin(db, id).await?;
    if actor_person == Some(c.member_person_id.as_str()) {
        return Err(StoreError::invalid(
            "checkin_id",
            "nobody confirms their own check-in",
        ));
    }
    let (actor, id) = (actor.to_string(), id.to_string());
    db.write(move |tx| {
        let (actor, id, path) = (actor.clone(), id.clone(), c.compound_path.clone());
        Box::pin(async move {
            let mut bytes = [0u8; 5];
            rand::thread_rng().fill_bytes(&mut bytes);
            let code = receipt_code(bytes);
            sqlx::query("INSERT INTO party_receipts (checkin_id, code, confirmed_by, confirmed_at) VALUES ($1,$2,$3,$4)")
                .bind(&id)
                .bind(&code)
                .bind(&actor)
                .bind(db::now_ms())
                .execute(&mut **tx)
                .await
                .map_err(|e| {
                    let e = StoreError::from(e);
                    if e.is_unique_violation() {
                        StoreError::Conflict("this check-in is already confirmed".into())
                    } else {
                        e
                    }
                })?;
            audit::record(
                tx,
                Entry {
                    actor: actor.clone(),
                    action: "party.checkin.confirm".into(),
                    entity: "party_checkin".into(),
                    entity_id: id.clone(),
                    scope_path: path,
                    before: None,
                    after: Some(json!({"receipt": "issued"})),
                },
            )
            .await?;
            Ok(code)
        })
    })
    .await
}

/// What anyone holding a receipt's code learns: that it is valid, for whom
/// (masked), where and when.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Receipt {
    pub valid: bool,
    pub code: String,
    pub member: String,
    pub compound: String,
    pub branch: Option<String>,
    pub year: i64,
    /// `YYYY-MM-DD`, China time.
    pub checked_in_on: String,
}

/// Looks up a receipt by its code (as typed); unknown or malformed: not found.
pub async fn receipt(db: &Db, code: &str) -> Result<Receipt, StoreError> {
    let code =
        normalise_receipt_code(code).ok_or_else(|| StoreError::not_found("check-in receipt"))?;
    let r = sqlx::query(
        "SELECT rc.code, rc.confirmed_at, c.year, p.name, pl.name AS compound, o.name AS branch \
         FROM party_receipts rc JOIN party_checkins c ON c.id = rc.checkin_id \
         JOIN party_members m ON m.id = c.member_id JOIN people p ON p.id = m.person_id \
         JOIN places pl ON pl.id = c.compound_id LEFT JOIN organisations o ON o.id = c.branch_org_id \
         WHERE rc.code = $1",
    )
    .bind(&code)
    .fetch_optional(db.reader())
    .await?
    .ok_or_else(|| StoreError::not_found("check-in receipt"))?;
    let at = db::i(&r, "confirmed_at")?;
    let (y, m, d) = gongzhi_domain::cases::civil_from_days(
        (at + gongzhi_domain::cases::LOCAL_OFFSET_MS).div_euclid(gongzhi_domain::cases::DAY_MS),
    );
    debug_assert_eq!(y, year_of(at));
    Ok(Receipt {
        valid: true,
        code,
        member: mask_name(&db::s(&r, "name")?),
        compound: db::s(&r, "compound")?,
        branch: db::os(&r, "branch")?,
        year: db::i(&r, "year")?,
        checked_in_on: format!("{y:04}-{m:02}-{d:02}"),
    })
}

/// Party figures of one place (and, in `children`, of each child place).
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct PartyStats {
    pub place_id: String,
    pub name: String,
    pub members: i64,
    pub in_service: i64,
    pub retired: i64,
    pub flowing: i64,
    /// In-service members whose check-in of the year is confirmed.
    pub checked_in: i64,
    /// `checked_in / in_service` in tenths of a percent (1000 = 100.0%);
    /// `None` without in-service members.
    pub checkin_rate_permille: Option<i64>,
    pub micro_grids: i64,
    /// Micro-grids with at least one member living in them (Chengdu's rule).
    pub micro_grids_with_member: i64,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<PartyStats>,
}

/// Figures for `place` and each of its child places, in three set-based
/// queries grouped by the place each part hangs on (members) and each
/// grid's place (micro-grids), summed up the paths — whatever the number of
/// compounds below.
pub async fn stats(db: &Db, place: &Place, year: i64) -> Result<PartyStats, StoreError> {
    let (lo, hi) = subtree(&place.path);
    let members = sqlx::query(
        "SELECT cp.path, \
           COUNT(*) AS members, \
           SUM(CASE WHEN m.status = 'in_service' THEN 1 ELSE 0 END) AS in_service, \
           SUM(CASE WHEN m.status = 'retired' THEN 1 ELSE 0 END) AS retired, \
           SUM(CASE WHEN m.status = 'flowing' THEN 1 ELSE 0 END) AS flowing, \
           SUM(CASE WHEN m.status = 'in_service' AND rc.code IS NOT NULL THEN 1 ELSE 0 END) AS checked_in \
         FROM party_members m JOIN parts pt ON pt.id = m.part_id JOIN places cp ON cp.id = pt.place_id \
         LEFT JOIN party_checkins c ON c.member_id = m.id AND c.year = $1 \
         LEFT JOIN party_receipts rc ON rc.checkin_id = c.id \
         WHERE cp.path >= $2 AND cp.path < $3 GROUP BY cp.path",
    )
    .bind(year)
    .bind(&lo)
    .bind(&hi)
    .fetch_all(db.reader())
    .await?;
    let grids = sqlx::query(
        "SELECT cp.path, COUNT(*) AS micro_grids, \
           SUM(CASE WHEN EXISTS (SELECT 1 FROM grid_parts gp JOIN party_members m ON m.part_id = gp.part_id WHERE gp.grid_id = g.id) THEN 1 ELSE 0 END) AS with_member \
         FROM grids g JOIN places cp ON cp.id = g.place_id \
         WHERE g.kind = 'micro' AND cp.path >= $1 AND cp.path < $2 GROUP BY cp.path",
    )
    .bind(&lo)
    .bind(&hi)
    .fetch_all(db.reader())
    .await?;
    let children = sqlx::query(&format!(
        "SELECT {} FROM places WHERE parent_id = $1 ORDER BY name",
        crate::register::PLACE_COLS
    ))
    .bind(&place.id)
    .fetch_all(db.reader())
    .await?
    .iter()
    .map(crate::register::place_from)
    .collect::<Result<Vec<_>, _>>()?;
    // per compound path, then summed into the place and each child
    let mut by_path: BTreeMap<String, [i64; 7]> = BTreeMap::new();
    let num = |r: &sqlx::any::AnyRow, c: &str| -> Result<i64, StoreError> {
        Ok(db::oi(r, c)?.unwrap_or(0))
    };
    for r in &members {
        let e = by_path.entry(db::s(r, "path")?).or_default();
        for (k, c) in ["members", "in_service", "retired", "flowing", "checked_in"]
            .iter()
            .enumerate()
        {
            e[k] += num(r, c)?;
        }
    }
    for r in &grids {
        let e = by_path.entry(db::s(r, "path")?).or_default();
        e[5] += num(r, "micro_grids")?;
        e[6] += num(r, "with_member")?;
    }
    let sum = |p: &Place| -> PartyStats {
        let mut t = [0i64; 7];
        for (path, v) in &by_path {
            if path.starts_with(&p.path) {
                for k in 0..7 {
                    t[k] += v[k];
                }
            }
        }
        PartyStats {
            place_id: p.id.clone(),
            name: p.name.clone(),
            members: t[0],
            in_service: t[1],
            retired: t[2],
            flowing: t[3],
            checked_in: t[4],
            checkin_rate_permille: (t[1] > 0).then(|| t[4] * 1000 / t[1]),
            micro_grids: t[5],
            micro_grids_with_member: t[6],
            children: Vec::new(),
        }
    };
    let mut out = sum(place);
    out.children = children.iter().map(sum).collect();
    debug_assert!(out.checked_in <= out.in_service && out.in_service <= out.members);
    Ok(out)
}

/// A receipt as the member's employer unit sees it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct EmployerReceipt {
    pub code: String,
    pub member: String,
    pub employer: String,
    pub compound: String,
    pub year: i64,
    pub confirmed_at: i64,
}

/// The receipts of the members of every employer unit `person_id` is a
/// current contact of (a membership of the unit whose term has not ended),
/// newest first.
pub async fn employer_receipts(
    db: &Db,
    person_id: &str,
    now: i64,
) -> Result<Vec<EmployerReceipt>, StoreError> {
    sqlx::query(
        "SELECT rc.code, rc.confirmed_at, c.year, p.name, pl.name AS compound, o.name AS employer \
         FROM memberships ms JOIN organisations o ON o.id = ms.org_id AND o.kind = 'employer_unit' \
         JOIN party_members m ON m.employer_org_id = o.id \
         JOIN party_checkins c ON c.member_id = m.id JOIN party_receipts rc ON rc.checkin_id = c.id \
         JOIN people p ON p.id = m.person_id JOIN places pl ON pl.id = c.compound_id \
         WHERE ms.person_id = $1 AND ms.term_start <= $2 AND (ms.term_end IS NULL OR ms.term_end > $2) \
         ORDER BY rc.confirmed_at DESC LIMIT 1000",
    )
    .bind(person_id)
    .bind(now)
    .fetch_all(db.reader())
    .await?
    .iter()
    .map(|r| {
        Ok(EmployerReceipt {
            code: db::s(r, "code")?,
            member: db::s(r, "name")?,
            employer: db::s(r, "employer")?,
            compound: db::s(r, "compound")?,
            year: db::i(r, "year")?,
            confirmed_at: db::i(r, "confirmed_at")?,
        })
    })
    .collect()
}

/// The calendar year (China time) of `ms`.
pub fn year_of(ms: i64) -> i64 {
    use gongzhi_domain::cases::{civil_from_days, DAY_MS, LOCAL_OFFSET_MS};
    civil_from_days((ms + LOCAL_OFFSET_MS).div_euclid(DAY_MS)).0
}

/// The id of the employer unit named `name` (any district), if one exists.
pub async fn employer_unit_by_name(db: &Db, name: &str) -> Result<Option<String>, StoreError> {
    sqlx::query("SELECT id FROM organisations WHERE kind = 'employer_unit' AND name = $1 ORDER BY created_at LIMIT 1")
        .bind(name)
        .fetch_optional(db.reader())
        .await?
        .map(|r| db::s(&r, "id"))
        .transpose()
}

/// (building, unit, number) of a compound's first `n` flats, as the import
/// file names them (for the demo and the benchmark).
pub async fn flats_for_import(
    db: &Db,
    compound_id: &str,
    n: i64,
) -> Result<Vec<(String, String, String)>, StoreError> {
    let rows = sqlx::query(
        "SELECT pt.number, u.kind AS ukind, u.name AS uname, b.name AS bname FROM parts pt \
         JOIN places u ON u.id = pt.place_id LEFT JOIN places b ON b.id = u.parent_id \
         WHERE pt.compound_id = $1 AND pt.kind = 'flat' ORDER BY u.path, pt.number LIMIT $2",
    )
    .bind(compound_id)
    .bind(n)
    .fetch_all(db.reader())
    .await?;
    rows.iter()
        .map(|r| {
            let number = db::s(r, "number")?;
            Ok(if db::s(r, "ukind")? == "unit" {
                (
                    db::os(r, "bname")?.unwrap_or_default(),
                    db::s(r, "uname")?,
                    number,
                )
            } else {
                (db::s(r, "uname")?, String::new(), number)
            })
        })
        .collect()
}

/// What the menu needs of a user, in one query: whether their person is in
/// the party member register, and whether it is a current contact of an
/// employer unit.
pub async fn standing_of_user(
    db: &Db,
    user_id: &str,
    now: i64,
) -> Result<(bool, bool), StoreError> {
    let r = sqlx::query(
        "SELECT \
           (SELECT COUNT(*) FROM party_members m WHERE m.person_id = u.person_id) AS member, \
           (SELECT COUNT(*) FROM memberships ms JOIN organisations o ON o.id = ms.org_id AND o.kind = 'employer_unit' \
              WHERE ms.person_id = u.person_id AND ms.term_start <= $2 AND (ms.term_end IS NULL OR ms.term_end > $2)) AS contact \
         FROM users u WHERE u.id = $1 AND u.person_id IS NOT NULL",
    )
    .bind(user_id)
    .bind(now)
    .fetch_optional(db.reader())
    .await?;
    Ok(match r {
        Some(r) => (db::i(&r, "member")? > 0, db::i(&r, "contact")? > 0),
        None => (false, false),
    })
}
