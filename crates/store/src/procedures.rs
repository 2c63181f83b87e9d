//! A place's own procedures (migration 0008): a community defines how its
//! matters go ("小院说事", its own seven steps…) beside the built-ins.
//! Versions are appended; the newest version of a key at a place is current;
//! a place sees the procedures of itself and every ancestor, the nearest
//! place's version of a key winning. Matters copy the procedure they follow,
//! so defining a new version never changes a matter already raised.

use crate::audit::{self, Entry};
use crate::db::{self, Db, Tx};
use crate::error::StoreError;
use crate::register::Place;
use gongzhi_domain::procedure::{self, Procedure};
use serde::Serialize;
use serde_json::json;

/// A procedure as a place sees it, with where it was defined.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LocalProcedure {
    pub place_id: String,
    pub defined_at: i64,
    pub defined_by: String,
    #[schema(value_type = Object)]
    pub procedure: Procedure,
}

/// Defines (or redefines, as a new version) `p` at `place`.
pub async fn define(
    tx: &mut Tx,
    actor: &str,
    place: &Place,
    p: &Procedure,
) -> Result<LocalProcedure, StoreError> {
    procedure::check_local(p).map_err(|e| {
        let msg = e.to_string();
        let (field, why) = msg.split_once(": ").unwrap_or(("procedure", msg.as_str()));
        StoreError::invalid(format!("procedure.{field}"), why.to_string())
    })?;
    let now = db::now_ms();
    let json = serde_json::to_string(p).expect("a procedure serializes");
    sqlx::query("INSERT INTO procedure_library (id, place_id, key, name, procedure_json, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
        .bind(db::new_id())
        .bind(place.id.clone())
        .bind(p.key.clone())
        .bind(p.name.trim().to_string())
        .bind(json)
        .bind(actor.to_string())
        .bind(now)
        .execute(&mut **tx)
        .await?;
    audit::record(
        tx,
        Entry {
            actor: actor.into(),
            action: "procedure.define".into(),
            entity: "procedure".into(),
            entity_id: format!("{}:{}", place.id, p.key),
            scope_path: place.path.clone(),
            before: None,
            after: Some(json!(p)),
        },
    )
    .await?;
    Ok(LocalProcedure {
        place_id: place.id.clone(),
        defined_at: now,
        defined_by: actor.to_string(),
        procedure: p.clone(),
    })
}

/// The procedures defined at `place` and its ancestors, current versions,
/// the nearest place's winning for a key; ordered by key.
pub async fn visible(db: &Db, place: &Place) -> Result<Vec<LocalProcedure>, StoreError> {
    let rows = crate::register::rows_along_path(
        db,
        &place.path,
        "SELECT place_id, key, procedure_json, created_by, created_at FROM procedure_library WHERE place_id IN",
        &[],
        "ORDER BY created_at, id",
    )
    .await?;
    // key → (depth of its place, the procedure); deeper wins, later wins at one depth
    let mut best: std::collections::BTreeMap<String, (usize, LocalProcedure)> =
        std::collections::BTreeMap::new();
    for (depth, r) in &rows {
        let depth = *depth;
        let place_id = db::s(r, "place_id")?;
        let p: Procedure = serde_json::from_str(&db::s(r, "procedure_json")?)
            .map_err(|e| StoreError::Config(format!("stored procedure is not valid: {e}")))?;
        let lp = LocalProcedure {
            place_id,
            defined_at: db::i(r, "created_at")?,
            defined_by: db::s(r, "created_by")?,
            procedure: p,
        };
        let key = db::s(r, "key")?;
        if best.get(&key).is_none_or(|(d, _)| depth >= *d) {
            best.insert(key, (depth, lp));
        }
    }
    Ok(best.into_values().map(|(_, p)| p).collect())
}

/// The procedure named `key` for a matter at `place`: the built-in of that
/// key, else the nearest definition along the place's ancestors.
pub async fn resolve(db: &Db, place: &Place, key: &str) -> Result<Procedure, StoreError> {
    if let Some(p) = procedure::builtins().into_iter().find(|p| p.key == key) {
        return Ok(p);
    }
    visible(db, place)
        .await?
        .into_iter()
        .find(|p| p.procedure.key == key)
        .map(|p| p.procedure)
        .ok_or_else(|| {
            StoreError::invalid(
                "procedure",
                format!("unknown procedure '{key}': neither built in nor defined for this place or above it"),
            )
        })
}

/// Defines (a new version of) a place's own procedure ([`define`]) in its
/// own transaction.
pub async fn define_for(
    db: &Db,
    actor: &str,
    place: &Place,
    p: &Procedure,
) -> Result<LocalProcedure, StoreError> {
    let args = (actor.to_string(), place.clone(), p.clone());
    db.write_with(args, |tx, (actor, place, p)| {
        Box::pin(async move { define(tx, &actor, &place, &p).await })
    })
    .await
}
