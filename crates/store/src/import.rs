//! Roster import: validated rows in, places/owners/parts out, all or nothing.
//!
//! Statements are batched (many rows per statement): on SQLite each statement
//! costs a thread hop, so a million rows are a few thousand statements. A
//! re-import of the same rows changes nothing; a changed area, basis, kind or
//! owner is an update with its own audit entry (before and after).

use crate::audit::{self, Entry};
use crate::db::{self, Db, Tx};
use crate::error::StoreError;
use gongzhi_domain::place::PlaceKind;
use gongzhi_domain::roster::{place_key, RosterRow};
use serde::Serialize;
use serde_json::json;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// Rows per multi-row statement.
const BATCH: usize = 1000;

#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct ImportReport {
    pub rows: usize,
    pub places_created: usize,
    pub owners_created: usize,
    pub owners_updated: usize,
    pub parts_created: usize,
    pub parts_updated: usize,
    pub parts_unchanged: usize,
    pub dry_run: bool,
}

/// Imports rows that have already passed `gongzhi_domain::roster` validation.
/// With `dry_run` everything is computed inside the transaction and then
/// rolled back, so the report is exactly what a real run would do.
pub async fn import_roster(
    db: &Db,
    actor: &str,
    rows: Vec<RosterRow>,
    dry_run: bool,
    progress: Arc<dyn Fn(usize) + Send + Sync>,
) -> Result<ImportReport, StoreError> {
    let rows = Arc::new(rows);
    let actor = actor.to_string();
    if dry_run {
        let mut tx = db.begin_write().await?;
        let mut report = run(db, &mut tx, &actor, &rows, &*progress).await?;
        tx.rollback().await?;
        report.dry_run = true;
        return Ok(report);
    }
    let db2 = db.clone();
    db.write(move |tx| {
        let db = db2.clone();
        let rows = rows.clone();
        let actor = actor.clone();
        let progress = progress.clone();
        Box::pin(async move { run(&db, tx, &actor, &rows, &*progress).await })
    })
    .await
}

struct PlaceInfo {
    id: String,
    path: String,
}

async fn run(
    db: &Db,
    tx: &mut Tx,
    actor: &str,
    rows: &[RosterRow],
    progress: &(dyn Fn(usize) + Send + Sync),
) -> Result<ImportReport, StoreError> {
    let mut report = ImportReport {
        rows: rows.len(),
        ..Default::default()
    };
    let now = db::now_ms();

    // 1. Places, level by level.
    let mut wanted: BTreeMap<(usize, String), (PlaceKind, String, Option<String>)> =
        BTreeMap::new();
    for r in rows {
        let path = r.place_path();
        let depth = if r.unit.is_empty() { 5 } else { 6 };
        for d in 0..depth {
            let key = place_key(&path[..=d]);
            if !wanted.contains_key(&(d, key.clone())) {
                let parent = (d > 0).then(|| place_key(&path[..d]));
                wanted.insert((d, key), (PlaceKind::ALL[d], path[d].to_string(), parent));
            }
        }
    }
    let keys: Vec<String> = wanted.keys().map(|(_, k)| k.clone()).collect();
    let mut places: HashMap<String, PlaceInfo> = HashMap::new();
    for chunk in keys.chunks(BATCH) {
        let sql = format!(
            "SELECT id, natural_key, path, kind FROM places WHERE natural_key IN ({})",
            db.bulk_in(chunk.len())
        );
        let mut q = sqlx::query(&sql);
        for k in chunk {
            q = q.bind(k.clone());
        }
        for r in q.fetch_all(&mut **tx).await? {
            places.insert(
                db::s(&r, "natural_key")?,
                PlaceInfo {
                    id: db::s(&r, "id")?,
                    path: db::s(&r, "path")?,
                },
            );
        }
    }
    for depth in 0..6 {
        let mut new_rows = Vec::new();
        for ((d, key), (kind, name, parent)) in &wanted {
            if *d != depth || places.contains_key(key) {
                continue;
            }
            let id = db::new_id();
            let parent_info = parent
                .as_ref()
                .map(|p| places.get(p).expect("parents are created before children"));
            let path = format!(
                "{}{}/",
                parent_info.map_or("/".to_string(), |p| p.path.clone()),
                id
            );
            let code = if *kind == PlaceKind::Compound {
                Some(crate::register::compound_code(tx, name).await?)
            } else {
                None
            };
            // Codes of compounds created in this same run must not collide either.
            let code = code.map(|c| {
                let mut c2 = c.clone();
                let mut n = 2;
                while new_rows.iter().any(
                    |(_, _, _, _, _, _, cc): &(
                        String,
                        PlaceKind,
                        String,
                        Option<String>,
                        String,
                        String,
                        Option<String>,
                    )| cc.as_deref() == Some(c2.as_str()),
                ) {
                    c2 = format!("{c}-{n}");
                    n += 1;
                }
                c2
            });
            new_rows.push((
                id.clone(),
                *kind,
                name.clone(),
                parent_info.map(|p| p.id.clone()),
                key.clone(),
                path.clone(),
                code,
            ));
            places.insert(key.clone(), PlaceInfo { id, path });
        }
        for chunk in new_rows.chunks(BATCH) {
            let sql = format!(
                "INSERT INTO places (id, kind, name, parent_id, natural_key, path, code, created_at) VALUES {}",
                db.bulk_values(chunk.len(), 8)
            );
            let mut q = sqlx::query(&sql);
            for (id, kind, name, parent, key, path, code) in chunk {
                q = q
                    .bind(id.clone())
                    .bind(kind.as_str())
                    .bind(name.clone())
                    .bind(parent.clone())
                    .bind(key.clone())
                    .bind(path.clone())
                    .bind(code.clone())
                    .bind(now);
            }
            q.execute(&mut **tx).await?;
        }
        report.places_created += new_rows.len();
    }

    // 2. Owners of record.
    let mut owner_rows: BTreeMap<&str, &RosterRow> = BTreeMap::new();
    for r in rows {
        // The last row of an owner carries its phone if earlier ones did not.
        let e = owner_rows.entry(r.owner_key.as_str()).or_insert(r);
        if e.phone.is_empty() && !r.phone.is_empty() {
            *e = r;
        }
    }
    let okeys: Vec<&str> = owner_rows.keys().copied().collect();
    let mut owners: HashMap<String, (String, String, String, Option<String>)> = HashMap::new();
    for chunk in okeys.chunks(BATCH) {
        let sql = format!(
            "SELECT id, owner_key, name, kind, phone FROM owners WHERE owner_key IN ({})",
            db.bulk_in(chunk.len())
        );
        let mut q = sqlx::query(&sql);
        for k in chunk {
            q = q.bind(k.to_string());
        }
        for r in q.fetch_all(&mut **tx).await? {
            owners.insert(
                db::s(&r, "owner_key")?,
                (
                    db::s(&r, "id")?,
                    db::s(&r, "name")?,
                    db::s(&r, "kind")?,
                    db::os(&r, "phone")?,
                ),
            );
        }
    }
    let mut new_owners = Vec::new();
    let mut audits = Vec::new();
    for (key, r) in &owner_rows {
        let phone = (!r.phone.is_empty()).then(|| r.phone.clone());
        let compound_path = places[&place_key(&r.place_path()[..4])].path.clone();
        match owners.get(*key) {
            None => {
                let id = db::new_id();
                new_owners.push((
                    id.clone(),
                    key.to_string(),
                    r.owner_name.clone(),
                    r.owner_kind.as_str(),
                    phone.clone(),
                ));
                owners.insert(
                    key.to_string(),
                    (
                        id,
                        r.owner_name.clone(),
                        r.owner_kind.as_str().into(),
                        phone,
                    ),
                );
            }
            Some((id, name, kind, old_phone)) => {
                let phone_changed = phone.is_some() && phone != *old_phone;
                if *name != r.owner_name || kind != r.owner_kind.as_str() || phone_changed {
                    let new_phone = if phone_changed {
                        phone.clone()
                    } else {
                        old_phone.clone()
                    };
                    sqlx::query("UPDATE owners SET name = $1, kind = $2, phone = $3 WHERE id = $4")
                        .bind(r.owner_name.clone())
                        .bind(r.owner_kind.as_str())
                        .bind(new_phone.clone())
                        .bind(id.clone())
                        .execute(&mut **tx)
                        .await?;
                    let mask =
                        |p: &Option<String>| p.as_deref().map(gongzhi_domain::mask::mask_phone);
                    audits.push(Entry {
                        actor: actor.into(),
                        action: "owner.update".into(),
                        entity: "owner".into(),
                        entity_id: id.clone(),
                        scope_path: compound_path,
                        before: Some(json!({"name": name, "kind": kind, "phone": mask(old_phone)})),
                        after: Some(json!({"name": r.owner_name, "kind": r.owner_kind, "phone": mask(&new_phone)})),
                    });
                    report.owners_updated += 1;
                }
            }
        }
    }
    for chunk in new_owners.chunks(BATCH) {
        let sql = format!("INSERT INTO owners (id, owner_key, name, kind, phone, consent_publish_name, created_at) VALUES {}", db.bulk_values(chunk.len(), 7));
        let mut q = sqlx::query(&sql);
        for (id, key, name, kind, phone) in chunk {
            q = q
                .bind(id.clone())
                .bind(key.clone())
                .bind(name.clone())
                .bind(*kind)
                .bind(phone.clone())
                .bind(0i64)
                .bind(now);
        }
        q.execute(&mut **tx).await?;
    }
    report.owners_created = new_owners.len();

    // 3. Parts.
    let mut done = 0usize;
    for chunk in rows.chunks(BATCH) {
        let pkeys: Vec<String> = chunk.iter().map(RosterRow::part_key).collect();
        let sql = format!(
            "SELECT id, natural_key, kind, area_centi, area_basis, owner_id FROM parts WHERE natural_key IN ({})",
            db.bulk_in(pkeys.len())
        );
        let mut q = sqlx::query(&sql);
        for k in &pkeys {
            q = q.bind(k.clone());
        }
        let mut existing: HashMap<String, (String, String, i64, String, String)> = HashMap::new();
        for r in q.fetch_all(&mut **tx).await? {
            existing.insert(
                db::s(&r, "natural_key")?,
                (
                    db::s(&r, "id")?,
                    db::s(&r, "kind")?,
                    db::i(&r, "area_centi")?,
                    db::s(&r, "area_basis")?,
                    db::s(&r, "owner_id")?,
                ),
            );
        }
        let mut inserts = Vec::new();
        for (r, key) in chunk.iter().zip(pkeys) {
            let path = r.place_path();
            let container = if r.unit.is_empty() {
                &places[&place_key(&path[..5])]
            } else {
                &places[&place_key(&path[..6])]
            };
            let compound = &places[&place_key(&path[..4])];
            let owner_id = owners[&r.owner_key].0.clone();
            match existing.get(&key) {
                None => inserts.push((
                    db::new_id(),
                    container.id.clone(),
                    compound.id.clone(),
                    r,
                    owner_id,
                    key,
                )),
                Some((id, kind, area, basis, old_owner)) => {
                    if kind == r.kind.as_str()
                        && *area == r.area.0
                        && basis == r.area_basis.as_str()
                        && *old_owner == owner_id
                    {
                        report.parts_unchanged += 1;
                        continue;
                    }
                    sqlx::query("UPDATE parts SET kind = $1, area_centi = $2, area_basis = $3, owner_id = $4, updated_at = $5 WHERE id = $6")
                        .bind(r.kind.as_str())
                        .bind(r.area.0)
                        .bind(r.area_basis.as_str())
                        .bind(owner_id.clone())
                        .bind(now)
                        .bind(id.clone())
                        .execute(&mut **tx)
                        .await?;
                    audits.push(Entry {
                        actor: actor.into(),
                        action: "part.update".into(),
                        entity: "part".into(),
                        entity_id: id.clone(),
                        scope_path: container.path.clone(),
                        before: Some(json!({"kind": kind, "area_centi": area, "area_basis": basis, "owner_id": old_owner})),
                        after: Some(json!({"kind": r.kind, "area_centi": r.area.0, "area_basis": r.area_basis, "owner_id": owner_id, "row": r.row})),
                    });
                    report.parts_updated += 1;
                }
            }
        }
        if !inserts.is_empty() {
            let sql = format!(
                "INSERT INTO parts (id, place_id, compound_id, number, kind, area_centi, area_basis, owner_id, natural_key, created_at, updated_at) VALUES {}",
                db.bulk_values(inserts.len(), 11)
            );
            let mut q = sqlx::query(&sql);
            for (id, place_id, compound_id, r, owner_id, key) in &inserts {
                q = q
                    .bind(id.clone())
                    .bind(place_id.clone())
                    .bind(compound_id.clone())
                    .bind(r.number.clone())
                    .bind(r.kind.as_str())
                    .bind(r.area.0)
                    .bind(r.area_basis.as_str())
                    .bind(owner_id.clone())
                    .bind(key.clone())
                    .bind(now)
                    .bind(now);
            }
            q.execute(&mut **tx).await?;
            report.parts_created += inserts.len();
        }
        done += chunk.len();
        progress(done);
    }

    // 4. One summary entry per compound touched, plus every update.
    let mut per_compound: BTreeMap<String, usize> = BTreeMap::new();
    for r in rows {
        *per_compound
            .entry(places[&place_key(&r.place_path()[..4])].path.clone())
            .or_default() += 1;
    }
    let changed = report.places_created
        + report.owners_created
        + report.owners_updated
        + report.parts_created
        + report.parts_updated
        > 0;
    for (path, n) in per_compound.into_iter().filter(|_| changed) {
        audits.push(Entry {
            actor: actor.into(),
            action: "roster.import".into(),
            entity: "place".into(),
            entity_id: path
                .trim_end_matches('/')
                .rsplit('/')
                .next()
                .unwrap_or("")
                .to_string(),
            scope_path: path,
            before: None,
            after: Some(json!({"rows": n, "report": report})),
        });
    }
    audit::record_many_with(Some(db), tx, audits).await?;
    Ok(report)
}
