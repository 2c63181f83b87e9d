//! Audit reports on a compound's books, recorded by an auditor (a read-only
//! role that moves no money), each a leaf of the books log; and the
//! maintenance fund's audit flag: due when the last recorded audit is three
//! years old or more, or when none was ever recorded.

use crate::audit::{self, Entry};
use crate::db::{self, Db};
use crate::error::StoreError;
use crate::fund;
use crate::register::Place;
use gongzhi_domain::book_entries::Record;
use gongzhi_domain::book_entries::RecordBody;
use gongzhi_domain::fund_calc;
use serde::{Deserialize, Serialize};

/// What an audit covers.
pub const SCOPES: &[&str] = &["maintenance_fund", "common_fund"];

#[derive(Debug, Clone)]
pub struct NewAudit {
    pub scope: String,
    /// YYYY-MM
    pub period_from: String,
    pub period_to: String,
    /// The day of the audit, YYYY-MM-DD (not in the future).
    pub audited_on: String,
    pub summary: String,
    /// SHA-256 (hex) of the report document, if filed.
    pub document_sha256: Option<String>,
}

/// An audit report just recorded, and the log's size after it.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Recorded {
    pub audit_id: String,
    pub scope: String,
    pub audited_on: String,
    pub record: Record,
    pub log_size: i64,
}

/// Records an audit report (a leaf of the books log).
pub async fn record(
    db: &Db,
    user: &str,
    role: &str,
    compound: &Place,
    a: NewAudit,
) -> Result<Recorded, StoreError> {
    if !SCOPES.contains(&a.scope.as_str()) {
        return Err(StoreError::invalid(
            "scope",
            format!("must be one of {}", SCOPES.join(", ")),
        ));
    }
    for (f, p) in [("period_from", &a.period_from), ("period_to", &a.period_to)] {
        if !fund_calc::valid_period(p) {
            return Err(StoreError::invalid(f, "must be YYYY-MM"));
        }
    }
    if a.period_from > a.period_to {
        return Err(StoreError::invalid("period_to", "is before period_from"));
    }
    let day = fund_calc::parse_date(&a.audited_on)
        .ok_or_else(|| StoreError::invalid("audited_on", "must be a date YYYY-MM-DD"))?;
    if day > fund_calc::day_of_ms(db::now_ms()) {
        return Err(StoreError::invalid("audited_on", "is in the future"));
    }
    let summary = a.summary.trim().to_string();
    if summary.is_empty() || summary.chars().count() > 2000 {
        return Err(StoreError::invalid("summary", "1 to 2000 characters"));
    }
    if let Some(h) = &a.document_sha256 {
        if h.len() != 64 || !h.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(StoreError::invalid("document_sha256", "64 hex digits"));
        }
    }
    let (user, role, compound) = (user.to_string(), role.to_string(), compound.clone());
    db.write_locked(move |tx| {
        let (user, role, compound, a, summary) =
            (user.clone(), role.clone(), compound.clone(), a.clone(), summary.clone());
        Box::pin(async move {
            let mut books = fund::lock(tx, &compound.id).await?;
            let id = db::new_id();
            let rec = fund::append_record(
                tx,
                &compound,
                &mut books,
                &user,
                &role,
                RecordBody::AuditReport {
                    audit_id: id.clone(),
                    scope: a.scope.clone(),
                    period_from: a.period_from.clone(),
                    period_to: a.period_to.clone(),
                    summary: format!("{} ({})", summary, a.audited_on),
                    document_sha256: a.document_sha256.clone(),
                },
            )
            .await?;
            sqlx::query("INSERT INTO fund_audits (id, compound_id, scope, period_from, period_to, summary, document_sha256, auditor, audited_at, record_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)")
                .bind(&id)
                .bind(&compound.id)
                .bind(&a.scope)
                .bind(&a.period_from)
                .bind(&a.period_to)
                .bind(&summary)
                .bind(a.document_sha256.clone())
                .bind(&user)
                .bind(day * 86_400_000)
                .bind(&rec.id)
                .execute(&mut **tx)
                .await?;
            let value = Recorded { audit_id: id.clone(), scope: a.scope, audited_on: a.audited_on, record: rec, log_size: books.log_size };
            audit::record(tx, Entry { actor: format!("user:{user}"), action: "fund.audit.record".into(), entity: "fund_audit".into(), entity_id: id, scope_path: compound.path.clone(), before: None, after: Some(serde_json::to_value(&value).expect("serialises")) }).await?;
            Ok(value)
        })
    })
    .await
}

/// The maintenance fund's audit status on `today` (a day number).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Status {
    /// YYYY-MM-DD of the last maintenance-fund audit, if any.
    pub last_audit: Option<String>,
    /// When the next one is due (YYYY-MM-DD), if one was recorded.
    pub next_due: Option<String>,
    /// Whether the compound keeps a maintenance fund in these books.
    pub has_maintenance_fund: bool,
    /// An audit is due (only with a maintenance fund).
    pub due: bool,
}

fn ymd(day: i64) -> String {
    let (y, m, d) = fund_calc::civil_from_days(day);
    format!("{y:04}-{m:02}-{d:02}")
}

pub async fn status(db: &Db, compound_id: &str, today: i64) -> Result<Status, StoreError> {
    let r = sqlx::query("SELECT CAST(MAX(audited_at) AS BIGINT) AS last FROM fund_audits WHERE compound_id = $1 AND scope = 'maintenance_fund'")
        .bind(compound_id)
        .fetch_one(db.reader())
        .await?;
    let last = db::oi(&r, "last")?.map(|ms| ms.div_euclid(86_400_000));
    let f = sqlx::query("SELECT CAST(COUNT(*) AS BIGINT) AS n FROM fund_accounts WHERE compound_id = $1 AND code IN ('maintenance_principal', 'maintenance_interest') AND credits_posted > 0")
        .bind(compound_id)
        .fetch_one(db.reader())
        .await?;
    let has = db::i(&f, "n")? > 0;
    Ok(Status {
        last_audit: last.map(ymd),
        next_due: last.map(|d| ymd(fund_calc::audit_due_on(d))),
        has_maintenance_fund: has,
        due: has && fund_calc::audit_due(last, today),
    })
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AuditView {
    pub id: String,
    pub scope: String,
    pub period_from: String,
    pub period_to: String,
    pub summary: String,
    pub document_sha256: Option<String>,
    pub auditor: String,
    pub audited_on: String,
}

/// Every audit report of the compound, newest first.
pub async fn list(db: &Db, compound_id: &str) -> Result<Vec<AuditView>, StoreError> {
    let rows = sqlx::query(
        "SELECT * FROM fund_audits WHERE compound_id = $1 ORDER BY audited_at DESC, id",
    )
    .bind(compound_id)
    .fetch_all(db.reader())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(AuditView {
                id: db::s(r, "id")?,
                scope: db::s(r, "scope")?,
                period_from: db::s(r, "period_from")?,
                period_to: db::s(r, "period_to")?,
                summary: db::s(r, "summary")?,
                document_sha256: db::os(r, "document_sha256")?,
                auditor: db::s(r, "auditor")?,
                audited_on: ymd(db::i(r, "audited_at")?.div_euclid(86_400_000)),
            })
        })
        .collect()
}
