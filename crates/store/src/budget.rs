//! Annual budgets by category, each adopted by a passed vote of the whole
//! compound, and budget vs actual at any time. An adopted budget is a leaf of
//! the compound's log; adopting again for the same year supersedes it (both
//! stay, the latest is current).

use crate::audit::{self, Entry};
use crate::db::{self, Db};
use crate::error::StoreError;
use crate::fund::{self, Idem, Outcome};
use crate::register::Place;
use gongzhi_domain::book_entries::Record;
use gongzhi_domain::book_entries::{BudgetLine, RecordBody};
use gongzhi_domain::fund_calc::{self, BudgetVsActual};
use gongzhi_domain::ledger::{AccountCode, MAX_AMOUNT};
use serde::{Deserialize, Serialize};

/// Checks a budget before it is written.
pub fn validate(year: i32, lines: &[BudgetLine]) -> Result<(), StoreError> {
    if !(2000..=2100).contains(&year) {
        return Err(StoreError::invalid("year", "must be between 2000 and 2100"));
    }
    if lines.is_empty() || lines.len() > 50 {
        return Err(StoreError::invalid("lines", "1 to 50 lines"));
    }
    for (i, l) in lines.iter().enumerate() {
        if !l.category.is_expense() {
            return Err(StoreError::invalid(
                format!("lines[{i}].category"),
                format!("'{}' is not an expense category", l.category),
            ));
        }
        if lines[..i].iter().any(|o| o.category == l.category) {
            return Err(StoreError::invalid(
                format!("lines[{i}].category"),
                format!("'{}' appears twice", l.category),
            ));
        }
        if !(0..=MAX_AMOUNT).contains(&l.amount) {
            return Err(StoreError::invalid(
                format!("lines[{i}].amount"),
                "must be 0 or more and at most 10,000,000,000.00",
            ));
        }
    }
    Ok(())
}

/// A budget just adopted: its lines, its leaf, the log's size after it.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Adopted {
    pub budget_id: String,
    pub year: i32,
    pub vote_id: String,
    pub lines: Vec<BudgetLine>,
    pub record: Record,
    pub log_size: i64,
}

/// Adopts the compound's budget for `year`, by the passed vote `vote_id`
/// (closed, passed, over this whole compound).
#[allow(clippy::too_many_arguments)]
pub async fn adopt(
    db: &Db,
    user: &str,
    role: &str,
    compound: &Place,
    year: i32,
    vote_id: &str,
    lines: Vec<BudgetLine>,
    idem: Idem,
) -> Result<Outcome<Adopted>, StoreError> {
    validate(year, &lines)?;
    if vote_id.trim().is_empty() {
        return Err(StoreError::invalid(
            "vote_id",
            "a budget is adopted by a passed vote of the owners",
        ));
    }
    let (user, role, compound, vote_id) = (
        user.to_string(),
        role.to_string(),
        compound.clone(),
        vote_id.trim().to_string(),
    );
    db.write_locked(move |tx| {
        let (user, role, compound, vote_id, lines, idem) = (
            user.clone(),
            role.clone(),
            compound.clone(),
            vote_id.clone(),
            lines.clone(),
            idem.clone(),
        );
        Box::pin(async move {
            let mut books = fund::lock(tx, &compound.id).await?;
            if let Some(v) =
                fund::idem_lookup(tx, &compound.id, &idem.key, &idem.request_hash).await?
            {
                return Ok(Outcome::replay(v));
            }
            fund::check_passed_vote(tx, &compound, &vote_id, true).await?;
            let id = db::new_id();
            let rec = fund::append_record(
                tx,
                &compound,
                &mut books,
                &user,
                &role,
                RecordBody::Budget {
                    budget_id: id.clone(),
                    year,
                    vote_id: vote_id.clone(),
                    lines: lines.clone(),
                },
            )
            .await?;
            sqlx::query("INSERT INTO fund_budgets (id, compound_id, year, vote_id, lines_json, record_id, adopted_by, adopted_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
                .bind(&id)
                .bind(&compound.id)
                .bind(i64::from(year))
                .bind(&vote_id)
                .bind(serde_json::to_string(&lines).expect("lines serialise"))
                .bind(&rec.id)
                .bind(&user)
                .bind(rec.at)
                .execute(&mut **tx)
                .await?;
            let value = Adopted {
                budget_id: id.clone(),
                year,
                vote_id,
                lines,
                record: rec,
                log_size: books.log_size,
            };
            audit::record(
                tx,
                Entry {
                    actor: format!("user:{user}"),
                    action: "fund.budget.adopt".into(),
                    entity: "fund_budget".into(),
                    entity_id: id.clone(),
                    scope_path: compound.path.clone(),
                    before: None,
                    after: Some(serde_json::to_value(&value).expect("serialises")),
                },
            )
            .await?;
            fund::idem_store(tx, &compound.id, &idem.key, &idem.request_hash, &value).await?;
            Ok(Outcome::new(value))
        })
    })
    .await
}

/// A year's current budget against the spending posted in that year.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub year: i32,
    /// The current (latest adopted) budget; None when none was adopted.
    pub budget_id: Option<String>,
    pub vote_id: Option<String>,
    pub lines: Vec<BudgetVsActual>,
    pub total_budget: i64,
    pub total_actual: i64,
}

/// Spending per expense category posted in `[from, to)`: debits less
/// credits (corrections), posted effects only.
pub async fn actual(
    db: &Db,
    compound_id: &str,
    from: i64,
    to: i64,
) -> Result<Vec<(AccountCode, i64)>, StoreError> {
    let rows = sqlx::query(
        "SELECT debit_code, credit_code, CAST(SUM(amount) AS BIGINT) AS total FROM fund_transfers \
         WHERE compound_id = $1 AND kind IN ('posted', 'post_pending') AND at >= $2 AND at < $3 GROUP BY debit_code, credit_code",
    )
    .bind(compound_id)
    .bind(from)
    .bind(to)
    .fetch_all(db.reader())
    .await?;
    let mut out: Vec<(AccountCode, i64)> = Vec::new();
    let mut add = |c: Option<AccountCode>, v: i64| {
        if let Some(c) = c.filter(|c| c.is_expense()) {
            match out.iter_mut().find(|x| x.0 == c) {
                Some(x) => x.1 += v,
                None => out.push((c, v)),
            }
        }
    };
    for r in rows {
        let total = db::i(&r, "total")?;
        add(AccountCode::parse(&db::s(&r, "debit_code")?), total);
        add(AccountCode::parse(&db::s(&r, "credit_code")?), -total);
    }
    Ok(out)
}

pub async fn report(db: &Db, compound_id: &str, year: i32) -> Result<Report, StoreError> {
    if !(2000..=2100).contains(&year) {
        return Err(StoreError::invalid("year", "must be between 2000 and 2100"));
    }
    let cur = sqlx::query("SELECT id, vote_id, lines_json FROM fund_budgets WHERE compound_id = $1 AND year = $2 ORDER BY adopted_at DESC, id DESC LIMIT 1")
        .bind(compound_id)
        .bind(i64::from(year))
        .fetch_optional(db.reader())
        .await?;
    let (budget_id, vote_id, lines) = match cur {
        Some(r) => (
            Some(db::s(&r, "id")?),
            Some(db::s(&r, "vote_id")?),
            serde_json::from_str::<Vec<BudgetLine>>(&db::s(&r, "lines_json")?)
                .map_err(|e| StoreError::Config(format!("fund_budgets.lines_json: {e}")))?,
        ),
        None => (None, None, Vec::new()),
    };
    let (from, to) = fund_calc::year_bounds_ms(year);
    let spent = actual(db, compound_id, from, to).await?;
    let budget: Vec<(AccountCode, i64)> = lines.iter().map(|l| (l.category, l.amount)).collect();
    let lines = fund_calc::budget_vs_actual(&budget, &spent);
    Ok(Report {
        year,
        budget_id,
        vote_id,
        total_budget: lines.iter().map(|l| l.budget).sum(),
        total_actual: lines.iter().map(|l| l.actual).sum(),
        lines,
    })
}
