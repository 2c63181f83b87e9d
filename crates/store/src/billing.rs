//! Fee billing by area × rate for every part of a compound, payments, and
//! the collection figures. A billing run books the fees as owners'
//! receivables (one transfer, one leaf); each payment moves money from the
//! receivable to the bank (one transfer, one leaf).

use crate::db::{self, Db};
use crate::error::StoreError;
use crate::fund::{self, Idem, NewTransfer, Outcome};
use crate::register::Place;
use gongzhi_domain::book_entries::RecordBody;
use gongzhi_domain::fund_calc;
use gongzhi_domain::ledger::Transfer;
use gongzhi_domain::ledger::{AccountCode, TransferKind};
use serde::{Deserialize, Serialize};

/// Rates in fen per m² per period, by part kind.
#[derive(Debug, Clone, Serialize)]
pub struct Rates {
    pub flat: i64,
    pub shop: i64,
    pub parking: i64,
}

/// Bills every part of the compound for `period` (YYYY-MM).
pub async fn bill_run(
    db: &Db,
    user: &str,
    role: &str,
    compound: &Place,
    period: &str,
    rates: Rates,
    idem: Idem,
) -> Result<Outcome<BillingRun>, StoreError> {
    if !fund_calc::valid_period(period) {
        return Err(StoreError::invalid("period", "must be YYYY-MM"));
    }
    for (f, r) in [
        ("rates.flat", rates.flat),
        ("rates.shop", rates.shop),
        ("rates.parking", rates.parking),
    ] {
        if !(0..=100_000).contains(&r) {
            return Err(StoreError::invalid(
                f,
                "must be between 0 and 1000.00 yuan per m²",
            ));
        }
    }
    let (user, role, compound, period) = (
        user.to_string(),
        role.to_string(),
        compound.clone(),
        period.to_string(),
    );
    db.write_locked(move |tx| {
        let (user, role, compound, period, rates, idem) = (user.clone(), role.clone(), compound.clone(), period.clone(), rates.clone(), idem.clone());
        Box::pin(async move {
            let mut books = fund::lock(tx, &compound.id).await?;
            if let Some(v) = fund::idem_lookup(tx, &compound.id, &idem.key, &idem.request_hash).await? {
                return Ok(Outcome::replay(v));
            }
            let done = sqlx::query("SELECT id FROM fund_bills WHERE compound_id = $1 AND period = $2 LIMIT 1").bind(&compound.id).bind(&period).fetch_optional(&mut **tx).await?;
            if done.is_some() {
                return Err(StoreError::Conflict(format!("period {period} is already billed")));
            }
            let rows = sqlx::query("SELECT id, owner_id, kind, area_centi FROM parts WHERE compound_id = $1 ORDER BY id").bind(&compound.id).fetch_all(&mut **tx).await?;
            let now = db::now_ms();
            let mut total = 0i64;
            let mut n = 0i64;
            // (part, owner, area, rate, amount), written 1,000 rows per statement
            let mut bills: Vec<(String, String, i64, i64, i64)> = Vec::with_capacity(rows.len());
            for r in &rows {
                let kind = db::s(r, "kind")?;
                let rate = match kind.as_str() {
                    "shop" => rates.shop,
                    "parking" => rates.parking,
                    _ => rates.flat,
                };
                let area = db::i(r, "area_centi")?;
                let amount = fund_calc::fee(area, rate);
                if amount == 0 {
                    continue;
                }
                bills.push((db::s(r, "id")?, db::s(r, "owner_id")?, area, rate, amount));
                total += amount;
                n += 1;
            }
            for chunk in bills.chunks(1000) {
                let values: Vec<String> = (0..chunk.len())
                    .map(|i| {
                        let b = 3 + i * 6;
                        format!("(${}, $1, $2, ${}, ${}, ${}, ${}, ${}, 0, $3)", b + 1, b + 2, b + 3, b + 4, b + 5, b + 6)
                    })
                    .collect();
                let sql = format!("INSERT INTO fund_bills (id, compound_id, period, part_id, owner_id, area_centi, rate, amount, paid, created_at) VALUES {}", values.join(", "));
                let mut q = sqlx::query(&sql).bind(&compound.id).bind(&period).bind(now);
                for (part, owner, area, rate, amount) in chunk {
                    q = q.bind(db::new_id()).bind(part).bind(owner).bind(*area).bind(*rate).bind(*amount);
                }
                q.execute(&mut **tx).await?;
            }
            if total == 0 {
                return Err(StoreError::invalid("rates", "the run bills nothing: no parts, or all rates are zero"));
            }
            let t = fund::append(
                tx,
                &compound,
                &mut books,
                NewTransfer {
                    kind: TransferKind::Posted,
                    debit: AccountCode::OwnerReceivables,
                    credit: AccountCode::FeeIncome,
                    amount: total,
                    code: "billing".into(),
                    memo: format!("fees {period}: {n} parts, area × rate (flat {}, shop {}, parking {} per m²)", rates.flat, rates.shop, rates.parking),
                    pending_id: None,
                    link: Some(format!("billing:{period}")),
                    vote_id: None,
                    by_user: user.clone(),
                    by_role: role.clone(),
                    timeout_at: None,
                },
            )
            .await?;
            fund::append_record(
                tx,
                &compound,
                &mut books,
                &user,
                &role,
                RecordBody::BillingRun {
                    period: period.clone(),
                    bills: n,
                    total,
                    rate_flat: rates.flat,
                    rate_shop: rates.shop,
                    rate_parking: rates.parking,
                    transfer_id: t.id.clone(),
                },
            )
            .await?;
            // the steward's remuneration for the period, accrued with its fees
            let remuneration = crate::stewardship::accrue_in(tx, &compound, &mut books, &period, total, &user, &role).await?;
            let value = BillingRun { period, bills: n, total, transfer: t, remuneration, log_size: books.log_size };
            fund::idem_store(tx, &compound.id, &idem.key, &idem.request_hash, &value).await?;
            Ok(Outcome::new(value))
        })
    })
    .await
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Bill {
    pub id: String,
    pub period: String,
    pub part_id: String,
    pub owner_id: String,
    pub area_centi: i64,
    pub rate: i64,
    pub amount: i64,
    pub paid: i64,
    pub waived: i64,
}

/// The owner of record of a bill of this compound.
pub async fn bill_owner(db: &Db, compound_id: &str, bill_id: &str) -> Result<String, StoreError> {
    let r = sqlx::query("SELECT owner_id FROM fund_bills WHERE id = $1 AND compound_id = $2")
        .bind(bill_id)
        .bind(compound_id)
        .fetch_optional(db.reader())
        .await?
        .ok_or_else(|| StoreError::not_found(format!("bill '{bill_id}'")))?;
    db::s(&r, "owner_id")
}

pub async fn bills_of_owner(db: &Db, owner_id: &str) -> Result<Vec<Bill>, StoreError> {
    let rows = sqlx::query("SELECT * FROM fund_bills WHERE owner_id = $1 ORDER BY period, id")
        .bind(owner_id)
        .fetch_all(db.reader())
        .await?;
    rows.iter()
        .map(|r| {
            Ok(Bill {
                id: db::s(r, "id")?,
                period: db::s(r, "period")?,
                part_id: db::s(r, "part_id")?,
                owner_id: db::s(r, "owner_id")?,
                area_centi: db::i(r, "area_centi")?,
                rate: db::i(r, "rate")?,
                amount: db::i(r, "amount")?,
                paid: db::i(r, "paid")?,
                waived: db::i(r, "waived")?,
            })
        })
        .collect()
}

/// Records a payment against a bill (cash or bank transfer, or a gateway's
/// confirmation). At most the outstanding amount.
#[allow(clippy::too_many_arguments)]
pub async fn record_payment(
    db: &Db,
    user: &str,
    role: &str,
    compound: &Place,
    bill_id: &str,
    amount: i64,
    method: &str,
    idem: Idem,
) -> Result<Outcome<Payment>, StoreError> {
    if !matches!(method, "cash" | "bank_transfer" | "online") {
        return Err(StoreError::invalid(
            "method",
            "must be cash, bank_transfer or online",
        ));
    }
    if amount <= 0 {
        return Err(StoreError::invalid("amount", "must be greater than zero"));
    }
    let (user, role, compound, bill_id, method) = (
        user.to_string(),
        role.to_string(),
        compound.clone(),
        bill_id.to_string(),
        method.to_string(),
    );
    db.write_locked(move |tx| {
        let (user, role, compound, bill_id, method, idem) = (
            user.clone(),
            role.clone(),
            compound.clone(),
            bill_id.clone(),
            method.clone(),
            idem.clone(),
        );
        Box::pin(async move {
            let mut books = fund::lock(tx, &compound.id).await?;
            if let Some(v) =
                fund::idem_lookup(tx, &compound.id, &idem.key, &idem.request_hash).await?
            {
                return Ok(Outcome::replay(v));
            }
            let value = pay_in(
                tx, &compound, &mut books, &bill_id, amount, &method, &user, &role,
            )
            .await?;
            fund::idem_store(tx, &compound.id, &idem.key, &idem.request_hash, &value).await?;
            Ok(Outcome::new(value))
        })
    })
    .await
}

/// A bill's period and what is outstanding on it (billed less paid less
/// waived), read inside a transaction.
pub async fn outstanding_in(
    tx: &mut crate::db::Tx,
    compound_id: &str,
    bill_id: &str,
) -> Result<(String, i64), StoreError> {
    let r = sqlx::query(
        "SELECT period, amount, paid, waived FROM fund_bills WHERE id = $1 AND compound_id = $2",
    )
    .bind(bill_id)
    .bind(compound_id)
    .fetch_optional(&mut **tx)
    .await?
    .ok_or_else(|| StoreError::not_found(format!("bill '{bill_id}'")))?;
    Ok((
        db::s(&r, "period")?,
        db::i(&r, "amount")? - db::i(&r, "paid")? - db::i(&r, "waived")?,
    ))
}

/// Pays `amount` of a bill inside a locked books transaction: at most what
/// is outstanding (billed less paid less waived); one transfer from the
/// receivable to the bank. Returns the receipt.
#[allow(clippy::too_many_arguments)]
pub async fn pay_in(
    tx: &mut crate::db::Tx,
    compound: &Place,
    books: &mut fund::Books,
    bill_id: &str,
    amount: i64,
    method: &str,
    user: &str,
    role: &str,
) -> Result<Payment, StoreError> {
    pay_into(
        tx,
        compound,
        books,
        bill_id,
        amount,
        method,
        user,
        role,
        AccountCode::Bank,
        "payment",
    )
    .await
}

/// A payment of a bill received into `into`: `bank` (cash at the counter, a
/// transfer seen on the statement) or `gateway_clearing` (an online payment
/// the gateway has confirmed but not yet settled into the bank).
#[allow(clippy::too_many_arguments)]
pub(crate) async fn pay_into(
    tx: &mut crate::db::Tx,
    compound: &Place,
    books: &mut fund::Books,
    bill_id: &str,
    amount: i64,
    method: &str,
    user: &str,
    role: &str,
    into: AccountCode,
    code: &str,
) -> Result<Payment, StoreError> {
    let (period, outstanding) = outstanding_in(tx, &compound.id, bill_id).await?;
    if amount > outstanding {
        return Err(StoreError::invalid(
            "amount",
            format!("{amount} fen is more than the {outstanding} fen outstanding"),
        ));
    }
    sqlx::query("UPDATE fund_bills SET paid = paid + $1 WHERE id = $2")
        .bind(amount)
        .bind(bill_id)
        .execute(&mut **tx)
        .await?;
    let t = fund::append(
        tx,
        compound,
        books,
        NewTransfer {
            kind: TransferKind::Posted,
            debit: into,
            credit: AccountCode::OwnerReceivables,
            amount,
            code: code.into(),
            memo: format!("fee payment {period} ({method})"),
            pending_id: None,
            link: Some(format!("bill:{bill_id}")),
            vote_id: None,
            by_user: user.into(),
            by_role: role.into(),
            timeout_at: None,
        },
    )
    .await?;
    Ok(Payment {
        bill_id: bill_id.to_string(),
        paid: amount,
        outstanding: outstanding - amount,
        receipt: format!("{}-{}", period, t.seq),
        transfer: t,
    })
}

/// A fee payment posted against a bill, with its receipt number.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Payment {
    pub bill_id: String,
    pub paid: i64,
    pub outstanding: i64,
    pub transfer: Transfer,
    /// `<period>-<seq>`.
    pub receipt: String,
}

/// A period's billing run: bills written, their total, the receivable
/// transfer, the steward's remuneration accrued with it (if any).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct BillingRun {
    pub period: String,
    pub bills: i64,
    pub total: i64,
    pub transfer: Transfer,
    pub remuneration: Option<crate::stewardship::Remuneration>,
    pub log_size: i64,
}

/// A dividend run: the shares by area, and the credit against open bills.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DividendRun {
    pub run_id: String,
    pub parts: usize,
    pub total: i64,
    pub transfer: Transfer,
    pub credited: i64,
    pub credit_transfer: Option<Transfer>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Collection {
    pub period: String,
    pub bills: i64,
    pub billed: i64,
    pub paid: i64,
    pub in_arrears: i64,
    /// Paid / billed in basis points (1/100 %).
    pub collection_rate_bp: i64,
}

pub async fn collection(
    db: &Db,
    compound_id: &str,
    period: &str,
) -> Result<Collection, StoreError> {
    let r = sqlx::query(
        "SELECT CAST(COUNT(*) AS BIGINT) AS n, CAST(COALESCE(SUM(amount), 0) AS BIGINT) AS billed, CAST(COALESCE(SUM(paid), 0) AS BIGINT) AS paid, \
         CAST(COALESCE(SUM(CASE WHEN paid + waived < amount THEN 1 ELSE 0 END), 0) AS BIGINT) AS arrears FROM fund_bills WHERE compound_id = $1 AND period = $2",
    )
    .bind(compound_id)
    .bind(period)
    .fetch_one(db.reader())
    .await?;
    let (billed, paid) = (db::i(&r, "billed")?, db::i(&r, "paid")?);
    Ok(Collection {
        period: period.into(),
        bills: db::i(&r, "n")?,
        billed,
        paid,
        in_arrears: db::i(&r, "arrears")?,
        collection_rate_bp: if billed == 0 {
            0
        } else {
            (i128::from(paid) * 10_000 / i128::from(billed)) as i64
        },
    })
}

/// Declares a dividend: `total` fen from a public-revenue account, shared by
/// area among every part of the compound by the largest remainder, booked to
/// dividends payable (one transfer, one leaf) with one statement line per part.
pub async fn dividend_run(
    db: &Db,
    user: &str,
    role: &str,
    compound: &Place,
    total: i64,
    source: AccountCode,
    idem: Idem,
) -> Result<Outcome<DividendRun>, StoreError> {
    dividend_run_with(db, user, role, compound, total, source, false, idem).await
}

/// A dividend run, optionally crediting each owner's share against their
/// open fee bills in this compound (oldest period first): the credited part
/// is one more transfer (dividends payable → owners' receivables) and each
/// statement line says how much of it was credited.
#[allow(clippy::too_many_arguments)]
pub async fn dividend_run_with(
    db: &Db,
    user: &str,
    role: &str,
    compound: &Place,
    total: i64,
    source: AccountCode,
    credit_fees: bool,
    idem: Idem,
) -> Result<Outcome<DividendRun>, StoreError> {
    if !source.as_str().starts_with("revenue_") && source != AccountCode::Subsidies {
        return Err(StoreError::invalid(
            "source",
            "must be a public-revenue account (revenue_*) or subsidies",
        ));
    }
    if total <= 0 || total > gongzhi_domain::ledger::MAX_AMOUNT {
        return Err(StoreError::invalid("amount", "must be greater than zero"));
    }
    let (user, role, compound) = (user.to_string(), role.to_string(), compound.clone());
    db.write_locked(move |tx| {
        let (user, role, compound, idem) = (user.clone(), role.clone(), compound.clone(), idem.clone());
        Box::pin(async move {
            let mut books = fund::lock(tx, &compound.id).await?;
            if let Some(v) = fund::idem_lookup(tx, &compound.id, &idem.key, &idem.request_hash).await? {
                return Ok(Outcome::replay(v));
            }
            let rows = sqlx::query("SELECT id, owner_id, area_centi FROM parts WHERE compound_id = $1 ORDER BY id").bind(&compound.id).fetch_all(&mut **tx).await?;
            let mut parts = Vec::with_capacity(rows.len());
            for r in &rows {
                parts.push((db::s(r, "id")?, db::s(r, "owner_id")?, db::i(r, "area_centi")?));
            }
            let weights: Vec<i64> = parts.iter().map(|p| p.2).collect();
            let shares = fund_calc::dividend_by_area(total, &weights).map_err(|e| StoreError::invalid("parts", e.to_string()))?;
            let run_id = db::new_id();
            let t = fund::append(
                tx,
                &compound,
                &mut books,
                NewTransfer {
                    kind: TransferKind::Posted,
                    debit: source,
                    credit: AccountCode::DividendsPayable,
                    amount: total,
                    code: "dividend".into(),
                    memo: format!("dividend shared by area among {} parts (largest remainder)", parts.len()),
                    pending_id: None,
                    link: Some(format!("dividend:{run_id}")),
                    vote_id: None,
                    by_user: user.clone(),
                    by_role: role.clone(),
                    timeout_at: None,
                },
            )
            .await?;
            let now = db::now_ms();
            // open bills by owner, oldest first: (bill id, outstanding)
            let mut open: std::collections::HashMap<String, Vec<(String, i64)>> = Default::default();
            if credit_fees {
                let rows = sqlx::query("SELECT id, owner_id, amount - paid - waived AS due FROM fund_bills WHERE compound_id = $1 AND paid + waived < amount ORDER BY period, id")
                    .bind(&compound.id)
                    .fetch_all(&mut **tx)
                    .await?;
                for r in rows {
                    open.entry(db::s(&r, "owner_id")?).or_default().push((db::s(&r, "id")?, db::i(&r, "due")?));
                }
            }
            let mut credited_total = 0i64;
            for ((part, owner, area), amount) in parts.iter().zip(&shares) {
                let mut credited = 0i64;
                if let Some(bills) = open.get_mut(owner) {
                    for (bill, due) in bills.iter_mut() {
                        let x = (*amount - credited).min(*due);
                        if x <= 0 {
                            continue;
                        }
                        sqlx::query("UPDATE fund_bills SET paid = paid + $1 WHERE id = $2").bind(x).bind(bill.as_str()).execute(&mut **tx).await?;
                        *due -= x;
                        credited += x;
                    }
                }
                credited_total += credited;
                sqlx::query("INSERT INTO fund_dividend_lines (id, run_id, compound_id, part_id, owner_id, area_centi, amount, transfer_id, created_at, credited) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)")
                    .bind(db::new_id())
                    .bind(&run_id)
                    .bind(&compound.id)
                    .bind(part)
                    .bind(owner)
                    .bind(*area)
                    .bind(*amount)
                    .bind(&t.id)
                    .bind(now)
                    .bind(credited)
                    .execute(&mut **tx)
                    .await?;
            }
            let credit = if credited_total > 0 {
                Some(fund::append(
                    tx,
                    &compound,
                    &mut books,
                    NewTransfer {
                        kind: TransferKind::Posted,
                        debit: AccountCode::DividendsPayable,
                        credit: AccountCode::OwnerReceivables,
                        amount: credited_total,
                        code: "dividend_credit".into(),
                        memo: "dividend shares credited against open fee bills".into(),
                        pending_id: None,
                        link: Some(format!("dividend:{run_id}")),
                        vote_id: None,
                        by_user: user.clone(),
                        by_role: role.clone(),
                        timeout_at: None,
                    },
                )
                .await?)
            } else {
                None
            };
            let value = DividendRun { run_id, parts: parts.len(), total, transfer: t, credited: credited_total, credit_transfer: credit };
            fund::idem_store(tx, &compound.id, &idem.key, &idem.request_hash, &value).await?;
            Ok(Outcome::new(value))
        })
    })
    .await
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DividendLine {
    pub run_id: String,
    pub part_id: String,
    pub number: String,
    pub area_centi: i64,
    pub amount: i64,
    pub transfer_id: String,
    /// The part of `amount` credited against open fee bills.
    pub credited: i64,
}

/// An owner's dividend statement: one line per part per dividend.
pub async fn dividend_statement(db: &Db, owner_id: &str) -> Result<Vec<DividendLine>, StoreError> {
    let rows = sqlx::query("SELECT l.run_id, l.part_id, p.number, l.area_centi, l.amount, l.transfer_id, l.credited FROM fund_dividend_lines l JOIN parts p ON p.id = l.part_id WHERE l.owner_id = $1 ORDER BY l.created_at, p.number")
        .bind(owner_id)
        .fetch_all(db.reader())
        .await?;
    rows.iter()
        .map(|r| {
            Ok(DividendLine {
                run_id: db::s(r, "run_id")?,
                part_id: db::s(r, "part_id")?,
                number: db::s(r, "number")?,
                area_centi: db::i(r, "area_centi")?,
                amount: db::i(r, "amount")?,
                transfer_id: db::s(r, "transfer_id")?,
                credited: db::i(r, "credited")?,
            })
        })
        .collect()
}
