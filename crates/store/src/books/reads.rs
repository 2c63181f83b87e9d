//! Reads of the books: balances by account, transfers and entries in log
//! order.

use super::journal::*;
use crate::db::{self, Db};
use crate::error::StoreError;
use gongzhi_domain::book_entries::{Entry as LogEntry, Record};
use gongzhi_domain::ledger::{AccountCode, Balance, Transfer};
use serde::Serialize;
use sqlx::any::AnyRow;

// Reads
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AccountView {
    pub code: AccountCode,
    pub normal: gongzhi_domain::ledger::Normal,
    #[serde(flatten)]
    pub balance: Balance,
    /// Posted balance on the normal side.
    pub posted: i64,
    /// Posted less reserved.
    pub available: i64,
}

/// Every account of the compound with a balance (in chart order).
pub async fn accounts(db: &Db, compound_id: &str) -> Result<Vec<AccountView>, StoreError> {
    let rows = sqlx::query("SELECT code, debits_pending, debits_posted, credits_pending, credits_posted FROM fund_accounts WHERE compound_id = $1")
        .bind(compound_id)
        .fetch_all(db.reader())
        .await?;
    let mut out = Vec::new();
    for r in rows {
        let c = db::s(&r, "code")?;
        let code = AccountCode::parse(&c)
            .ok_or_else(|| StoreError::Config(format!("unknown account code '{c}'")))?;
        let balance = Balance {
            debits_pending: db::i(&r, "debits_pending")?,
            debits_posted: db::i(&r, "debits_posted")?,
            credits_pending: db::i(&r, "credits_pending")?,
            credits_posted: db::i(&r, "credits_posted")?,
        };
        out.push(AccountView {
            code,
            normal: code.normal(),
            balance,
            posted: balance.posted(code.normal()),
            available: balance.available(code.normal()),
        });
    }
    out.sort_by_key(|a| a.code);
    Ok(out)
}

/// Transfers with `from <= seq < from + limit`, in log order.
pub async fn transfers(
    db: &Db,
    compound_id: &str,
    from: i64,
    limit: i64,
) -> Result<Vec<Transfer>, StoreError> {
    let rows = sqlx::query(
        "SELECT * FROM fund_transfers WHERE compound_id = $1 AND seq >= $2 ORDER BY seq LIMIT $3",
    )
    .bind(compound_id)
    .bind(from.max(0))
    .bind(limit.clamp(1, 10_000))
    .fetch_all(db.reader())
    .await?;
    rows.iter().map(transfer_from).collect()
}

/// One page of the transfers made in `[from_ms, to_ms)`, newest first, and
/// how many there are in all (the public board lists every one).
pub async fn transfers_between(
    db: &Db,
    compound_id: &str,
    (from_ms, to_ms): (i64, i64),
    offset: i64,
    limit: i64,
) -> Result<(Vec<Transfer>, i64), StoreError> {
    let n = sqlx::query("SELECT CAST(COUNT(*) AS BIGINT) AS n FROM fund_transfers WHERE compound_id = $1 AND at >= $2 AND at < $3")
        .bind(compound_id)
        .bind(from_ms)
        .bind(to_ms)
        .fetch_one(db.reader())
        .await?;
    let rows = sqlx::query(
        "SELECT * FROM fund_transfers WHERE compound_id = $1 AND at >= $2 AND at < $3 ORDER BY seq DESC LIMIT $4 OFFSET $5",
    )
    .bind(compound_id)
    .bind(from_ms)
    .bind(to_ms)
    .bind(limit.clamp(1, 1000))
    .bind(offset.max(0))
    .fetch_all(db.reader())
    .await?;
    let list = rows.iter().map(transfer_from).collect::<Result<_, _>>()?;
    Ok((list, db::i(&n, "n")?))
}

fn record_from(r: &AnyRow) -> Result<Record, StoreError> {
    let body = db::s(r, "body_json")?;
    Ok(Record {
        seq: db::i(r, "seq")? as u64,
        id: db::s(r, "id")?,
        by_user: db::s(r, "by_user")?,
        by_role: db::s(r, "by_role")?,
        at: db::i(r, "at")?,
        body: serde_json::from_str(&body)
            .map_err(|e| StoreError::Config(format!("fund_records.body_json: {e}")))?,
    })
}

/// Every entry (transfers and records) with `from <= seq < from + limit`,
/// in log order: the content of the leaves at those positions.
pub async fn entries(
    db: &Db,
    compound_id: &str,
    from: i64,
    limit: i64,
) -> Result<Vec<LogEntry>, StoreError> {
    let from = from.max(0);
    let to = from.saturating_add(limit.clamp(1, 10_000));
    let range = |table: &str| {
        format!(
            "SELECT * FROM {table} WHERE compound_id = $1 AND seq >= $2 AND seq < $3 ORDER BY seq"
        )
    };
    let (mut ts, mut rs) = (Vec::new(), Vec::new());
    for (table, out) in [("fund_transfers", &mut ts), ("fund_records", &mut rs)] {
        *out = sqlx::query(&range(table))
            .bind(compound_id)
            .bind(from)
            .bind(to)
            .fetch_all(db.reader())
            .await?;
    }
    let mut out = Vec::with_capacity(ts.len() + rs.len());
    for r in &ts {
        out.push(LogEntry::Transfer(transfer_from(r)?));
    }
    for r in &rs {
        out.push(LogEntry::Record(record_from(r)?));
    }
    out.sort_by_key(|e| e.seq());
    Ok(out)
}

/// The records about one subject (e.g. `disbursement:ID`), in log order.
pub async fn records_about(
    db: &Db,
    compound_id: &str,
    subject: &str,
) -> Result<Vec<Record>, StoreError> {
    let rows = sqlx::query(
        "SELECT * FROM fund_records WHERE compound_id = $1 AND subject = $2 ORDER BY seq",
    )
    .bind(compound_id)
    .bind(subject)
    .fetch_all(db.reader())
    .await?;
    rows.iter().map(record_from).collect()
}

/// The records of one kind, newest first.
pub async fn records_of_kind(
    db: &Db,
    compound_id: &str,
    kind: &str,
    limit: i64,
) -> Result<Vec<Record>, StoreError> {
    let rows = sqlx::query(
        "SELECT * FROM fund_records WHERE compound_id = $1 AND kind = $2 ORDER BY seq DESC LIMIT $3",
    )
    .bind(compound_id)
    .bind(kind)
    .bind(limit.clamp(1, 10_000))
    .fetch_all(db.reader())
    .await?;
    rows.iter().map(record_from).collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn origin_names_the_compound() {
        assert_eq!(
            super::origin("jingcheng-mingdian"),
            "gongzhi/books/jingcheng-mingdian"
        );
    }
}
