//! The append-only audit trail: who did what, when, in which scope, with the
//! record before and after. Written in the same transaction as the change;
//! the database refuses updates and deletes of this table (triggers).

use crate::db::{self, Tx};
use crate::error::StoreError;
use serde::Serialize;
use serde_json::Value;

#[derive(Debug, Clone)]
pub struct Entry {
    pub actor: String,
    pub action: String,
    pub entity: String,
    pub entity_id: String,
    /// The place path ("/id/id/…/") the change belongs to.
    pub scope_path: String,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AuditRow {
    pub id: String,
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub entity: String,
    pub entity_id: String,
    pub scope_path: String,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

/// Rows per multi-row insert (9 columns each).
const BATCH: usize = 400;

pub async fn record(tx: &mut Tx, e: Entry) -> Result<(), StoreError> {
    record_many(tx, vec![e]).await
}

pub async fn record_many(tx: &mut Tx, entries: Vec<Entry>) -> Result<(), StoreError> {
    record_many_with(None, tx, entries).await
}

/// With the `Db` at hand, bulk placeholders suited to its engine are used.
pub async fn record_many_with(
    db: Option<&db::Db>,
    tx: &mut Tx,
    entries: Vec<Entry>,
) -> Result<(), StoreError> {
    let now = db::now_ms();
    for chunk in entries.chunks(BATCH) {
        let sql = format!(
            "INSERT INTO audit_log (id, at, actor, action, entity, entity_id, scope_path, before_json, after_json) VALUES {}",
            match db {
                Some(d) => d.bulk_values(chunk.len(), 9),
                None => db::values_placeholders(chunk.len(), 9),
            }
        );
        let mut q = sqlx::query(&sql);
        for e in chunk {
            q = q
                .bind(db::new_id())
                .bind(now)
                .bind(e.actor.clone())
                .bind(e.action.clone())
                .bind(e.entity.clone())
                .bind(e.entity_id.clone())
                .bind(e.scope_path.clone())
                .bind(e.before.as_ref().map(|v| v.to_string()))
                .bind(e.after.as_ref().map(|v| v.to_string()));
        }
        q.execute(&mut **tx).await?;
    }
    Ok(())
}

/// The newest entries in a scope (the place path prefix), newest first.
pub async fn list(
    db: &db::Db,
    scope_prefix: &str,
    limit: i64,
) -> Result<Vec<AuditRow>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, at, actor, action, entity, entity_id, scope_path, before_json, after_json FROM audit_log \
         WHERE scope_path >= $1 AND scope_path < $2 ORDER BY id DESC LIMIT $3",
    )
    .bind(gongzhi_domain::place::subtree(scope_prefix).0)
    .bind(gongzhi_domain::place::subtree(scope_prefix).1)
    .bind(limit.clamp(1, 1000))
    .fetch_all(db.reader())
    .await?;
    rows.iter()
        .map(|r| {
            let parse = |c: &str| -> Result<Option<Value>, StoreError> {
                Ok(db::os(r, c)?.and_then(|s| serde_json::from_str(&s).ok()))
            };
            Ok(AuditRow {
                id: db::s(r, "id")?,
                at: db::i(r, "at")?,
                actor: db::s(r, "actor")?,
                action: db::s(r, "action")?,
                entity: db::s(r, "entity")?,
                entity_id: db::s(r, "entity_id")?,
                scope_path: db::s(r, "scope_path")?,
                before: parse("before_json")?,
                after: parse("after_json")?,
            })
        })
        .collect()
}
