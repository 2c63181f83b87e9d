//! How the steward is paid and how an emergency is approved, per compound:
//! the remuneration mode (trust model 酬金制: a fixed share of each
//! period's fee income; lump sum 包干制: a fixed amount each period) and the
//! two roles that approve an emergency use of the maintenance fund.
//!
//! Remuneration is accrued automatically, in the billing run's own
//! transaction, as `steward_remuneration` (expense) against
//! `steward_payable` (liability): once per compound and period
//! (`fund_remunerations` primary key). The steward is paid out of the
//! payable by an ordinary two-party approved disbursement.

use crate::audit::{self, Entry};
use crate::db::{self, Db, Tx};
use crate::error::StoreError;
use crate::fund::{self, Books, NewTransfer};
use crate::register::Place;
use gongzhi_domain::fund_calc;
use gongzhi_domain::ledger::{AccountCode, Transfer, TransferKind, MAX_AMOUNT};
use gongzhi_domain::policy::Role;
use serde::{Deserialize, Serialize};
use serde_json::json;

#[derive(Debug, Clone, Serialize)]
pub struct Settings {
    pub remuneration_mode: String,
    /// Trust model: basis points (1/100 %) of the period's fee income.
    pub remuneration_bp: i64,
    /// Lump sum: fen per period.
    pub lump_sum_fen: i64,
    pub emergency_roles: [Role; 2],
}

pub fn validate(s: &Settings) -> Result<(), StoreError> {
    if !matches!(s.remuneration_mode.as_str(), "none" | "trust" | "lump_sum") {
        return Err(StoreError::invalid(
            "remuneration_mode",
            "must be none, trust or lump_sum",
        ));
    }
    if !(0..=5000).contains(&s.remuneration_bp) {
        return Err(StoreError::invalid(
            "remuneration_percent",
            "must be between 0 and 50.00",
        ));
    }
    if !(0..=MAX_AMOUNT).contains(&s.lump_sum_fen) {
        return Err(StoreError::invalid("lump_sum", "must be 0 or more"));
    }
    if s.emergency_roles[0] == s.emergency_roles[1] {
        return Err(StoreError::invalid(
            "emergency_roles",
            "name two different roles",
        ));
    }
    Ok(())
}

/// Sets the compound's remuneration mode and emergency approvers (audited).
pub async fn set(
    db: &Db,
    actor: &str,
    compound: &Place,
    s: Settings,
) -> Result<Settings, StoreError> {
    validate(&s)?;
    let (actor, compound) = (actor.to_string(), compound.clone());
    db.write_locked(move |tx| {
        let (actor, compound, s) = (actor.clone(), compound.clone(), s.clone());
        Box::pin(async move {
            let before = fund::lock(tx, &compound.id).await?;
            sqlx::query("UPDATE fund_books SET remuneration_mode = $1, remuneration_bp = $2, lump_sum_fen = $3, emergency_roles = $4 WHERE compound_id = $5")
                .bind(&s.remuneration_mode)
                .bind(s.remuneration_bp)
                .bind(s.lump_sum_fen)
                .bind(format!("{},{}", s.emergency_roles[0], s.emergency_roles[1]))
                .bind(&compound.id)
                .execute(&mut **tx)
                .await?;
            audit::record(
                tx,
                Entry {
                    actor,
                    action: "fund.settings".into(),
                    entity: "fund_books".into(),
                    entity_id: compound.id.clone(),
                    scope_path: compound.path.clone(),
                    before: Some(json!(before)),
                    after: Some(json!(s)),
                },
            )
            .await?;
            Ok(s)
        })
    })
    .await
}

/// The remuneration of one period.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Remuneration {
    pub period: String,
    pub mode: String,
    /// Trust model: the fee income it is a share of; lump sum: 0.
    pub basis: i64,
    pub amount: i64,
    pub transfer: Option<Transfer>,
    /// True when the period was already accrued (nothing new written).
    pub already: bool,
}

/// Accrues the steward's remuneration for `period` inside a locked books
/// transaction, once: a second call for the same period returns the first
/// result. `fee_income` is the period's billed fees. None when the compound
/// has no remuneration mode.
pub async fn accrue_in(
    tx: &mut Tx,
    compound: &Place,
    books: &mut Books,
    period: &str,
    fee_income: i64,
    by_user: &str,
    by_role: &str,
) -> Result<Option<Remuneration>, StoreError> {
    let done = sqlx::query("SELECT mode, basis, amount, transfer_id FROM fund_remunerations WHERE compound_id = $1 AND period = $2")
        .bind(&compound.id)
        .bind(period)
        .fetch_optional(&mut **tx)
        .await?;
    if let Some(r) = done {
        return Ok(Some(Remuneration {
            period: period.into(),
            mode: db::s(&r, "mode")?,
            basis: db::i(&r, "basis")?,
            amount: db::i(&r, "amount")?,
            transfer: None,
            already: true,
        }));
    }
    let (basis, amount) = match books.remuneration_mode.as_str() {
        "trust" => (
            fee_income,
            fund_calc::remuneration(fee_income, books.remuneration_bp),
        ),
        "lump_sum" => (0, books.lump_sum_fen),
        _ => return Ok(None),
    };
    let transfer = if amount > 0 {
        let memo = match books.remuneration_mode.as_str() {
            "trust" => format!(
                "steward remuneration {period}: {} % of fee income {} (trust model)",
                gongzhi_domain::money::Fen(books.remuneration_bp),
                gongzhi_domain::money::Fen(fee_income)
            ),
            _ => format!("steward remuneration {period}: lump sum"),
        };
        Some(
            fund::append(
                tx,
                compound,
                books,
                NewTransfer {
                    kind: TransferKind::Posted,
                    debit: AccountCode::StewardRemuneration,
                    credit: AccountCode::StewardPayable,
                    amount,
                    code: "remuneration".into(),
                    memo,
                    pending_id: None,
                    link: Some(format!("remuneration:{period}")),
                    vote_id: None,
                    by_user: by_user.into(),
                    by_role: by_role.into(),
                    timeout_at: None,
                },
            )
            .await?,
        )
    } else {
        None
    };
    sqlx::query("INSERT INTO fund_remunerations (compound_id, period, mode, basis, amount, transfer_id, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
        .bind(&compound.id)
        .bind(period)
        .bind(&books.remuneration_mode)
        .bind(basis)
        .bind(amount)
        .bind(transfer.as_ref().map(|t| t.id.clone()))
        .bind(db::now_ms())
        .execute(&mut **tx)
        .await?;
    Ok(Some(Remuneration {
        period: period.into(),
        mode: books.remuneration_mode.clone(),
        basis,
        amount,
        transfer,
        already: false,
    }))
}

/// Accrues the remuneration of a period that was billed before the mode was
/// set (the billing run does it by itself otherwise). Idempotent per period.
pub async fn accrue(
    db: &Db,
    user: &str,
    role: &str,
    compound: &Place,
    period: &str,
) -> Result<Remuneration, StoreError> {
    if !gongzhi_domain::fund_calc::valid_period(period) {
        return Err(StoreError::invalid("period", "must be YYYY-MM"));
    }
    let (user, role, compound, period) = (
        user.to_string(),
        role.to_string(),
        compound.clone(),
        period.to_string(),
    );
    db.write_locked(move |tx| {
        let (user, role, compound, period) =
            (user.clone(), role.clone(), compound.clone(), period.clone());
        Box::pin(async move {
            let mut books = fund::lock(tx, &compound.id).await?;
            let r = sqlx::query("SELECT CAST(COUNT(*) AS BIGINT) AS n, CAST(COALESCE(SUM(amount), 0) AS BIGINT) AS billed FROM fund_bills WHERE compound_id = $1 AND period = $2")
                .bind(&compound.id)
                .bind(&period)
                .fetch_one(&mut **tx)
                .await?;
            if db::i(&r, "n")? == 0 && books.remuneration_mode == "trust" {
                return Err(StoreError::invalid(
                    "period",
                    format!("{period} is not billed yet: its fee income is not known"),
                ));
            }
            accrue_in(tx, &compound, &mut books, &period, db::i(&r, "billed")?, &user, &role)
                .await?
                .ok_or_else(|| {
                    StoreError::invalid(
                        "remuneration_mode",
                        "this compound has no remuneration mode set",
                    )
                })
        })
    })
    .await
}
