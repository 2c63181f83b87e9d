//! Disbursements: requested, approved by two people in the required roles
//! (the first reserves, the second posts), voided or expired; emergency use.

use super::journal::*;
use crate::audit::{self, Entry};
use crate::db::{self, Db, Tx};
use crate::error::StoreError;
use crate::register::Place;
use gongzhi_domain::book_entries::RecordBody;
use gongzhi_domain::ledger::{AccountCode, DisbursementState, Transfer, TransferKind};
use gongzhi_domain::policy::Role;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::any::AnyRow;

// Disbursements
// ---------------------------------------------------------------------------

/// A disbursement just requested.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Requested {
    pub disbursement: Disbursement,
}

/// A disbursement after an approval or a void: its transfer (the
/// reservation, the posting, or the release of a reservation; a requested
/// disbursement voided has none) and the log's size.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Moved {
    pub disbursement: Disbursement,
    pub transfer: Option<Transfer>,
    pub log_size: i64,
}

/// What an approval did: moved the disbursement on, or found its
/// reservation expired (the expiry is kept; the approval is not).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum Approved {
    Expired {
        disbursement: Box<Disbursement>,
        /// Always true.
        expired: bool,
    },
    Moved(Box<Moved>),
}

impl Approved {
    /// The reservation had expired: nothing was approved.
    pub fn is_expired(&self) -> bool {
        matches!(self, Approved::Expired { .. })
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Disbursement {
    pub id: String,
    pub purpose: String,
    pub payee: String,
    pub amount: i64,
    pub category: AccountCode,
    pub source: AccountCode,
    pub documents: Vec<String>,
    pub link: Option<String>,
    pub vote_id: Option<String>,
    /// requested → pending (first approval) → posted (second approval);
    /// or voided / expired.
    pub state: DisbursementState,
    pub requested_by: String,
    pub pending_transfer_id: Option<String>,
    pub first_by: Option<String>,
    pub first_role: Option<String>,
    pub second_by: Option<String>,
    pub second_role: Option<String>,
    pub final_transfer_id: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    /// The declared emergency of a maintenance-fund use without a vote.
    pub emergency: Option<String>,
}

fn disb_from(r: &AnyRow) -> Result<Disbursement, StoreError> {
    let code = |c: &str| -> Result<AccountCode, StoreError> {
        let v = db::s(r, c)?;
        AccountCode::parse(&v)
            .ok_or_else(|| StoreError::Config(format!("unknown account code '{v}'")))
    };
    Ok(Disbursement {
        id: db::s(r, "id")?,
        purpose: db::s(r, "purpose")?,
        payee: db::s(r, "payee")?,
        amount: db::i(r, "amount")?,
        category: code("category")?,
        source: code("source")?,
        documents: serde_json::from_str(&db::s(r, "documents_json")?).unwrap_or_default(),
        link: db::os(r, "link")?,
        vote_id: db::os(r, "vote_id")?,
        state: {
            let v = db::s(r, "state")?;
            DisbursementState::parse(&v)
                .ok_or_else(|| StoreError::Config(format!("unknown disbursement state '{v}'")))?
        },
        requested_by: db::s(r, "requested_by")?,
        pending_transfer_id: db::os(r, "pending_transfer_id")?,
        first_by: db::os(r, "first_by")?,
        first_role: db::os(r, "first_role")?,
        second_by: db::os(r, "second_by")?,
        second_role: db::os(r, "second_role")?,
        final_transfer_id: db::os(r, "final_transfer_id")?,
        created_at: db::i(r, "created_at")?,
        updated_at: db::i(r, "updated_at")?,
        emergency: db::os(r, "emergency")?,
    })
}

#[derive(Debug, Clone)]
pub struct NewDisbursement {
    pub purpose: String,
    pub payee: String,
    pub amount: i64,
    pub category: AccountCode,
    pub source: AccountCode,
    pub documents: Vec<String>,
    pub link: Option<String>,
    pub vote_id: Option<String>,
}

pub async fn request_disbursement(
    db: &Db,
    user: &str,
    compound: &Place,
    idem: Idem,
    d: NewDisbursement,
) -> Result<Outcome<Requested>, StoreError> {
    request_inner(db, user, compound, idem, d, None).await
}

/// Requests a disbursement, or an emergency use when `emergency` names one
/// (blank is none): where the API decides between the two, checked once.
pub async fn request_declared(
    db: &Db,
    user: &str,
    compound: &Place,
    idem: Idem,
    d: NewDisbursement,
    emergency: Option<&str>,
) -> Result<Outcome<Requested>, StoreError> {
    match emergency.map(str::trim).filter(|e| !e.is_empty()) {
        Some(e) => request_emergency(db, user, compound, idem, d, e).await,
        None => request_disbursement(db, user, compound, idem, d).await,
    }
}

/// What may be declared as an emergency (Civil Code art. 281: emergency
/// use of the maintenance fund without a vote).
pub const EMERGENCIES: &[&str] = &[
    "elevator_stopped",
    "facade_risk",
    "leak",
    "fire_safety",
    "structural_risk",
    "pipe_burst",
];

/// Requests an emergency use of the maintenance fund (interest or
/// principal) without a vote: approved by the compound's emergency roles,
/// published at once (a publication leaf beside the request), flagged on
/// the public board.
pub async fn request_emergency(
    db: &Db,
    user: &str,
    compound: &Place,
    idem: Idem,
    d: NewDisbursement,
    emergency: &str,
) -> Result<Outcome<Requested>, StoreError> {
    if !EMERGENCIES.contains(&emergency) {
        return Err(StoreError::invalid(
            "emergency",
            format!("must be one of {}", EMERGENCIES.join(", ")),
        ));
    }
    if !matches!(
        d.source,
        AccountCode::MaintenanceInterest | AccountCode::MaintenancePrincipal
    ) {
        return Err(StoreError::invalid(
            "source",
            "an emergency use spends the maintenance fund: maintenance_interest or maintenance_principal",
        ));
    }
    request_inner(db, user, compound, idem, d, Some(emergency.to_string())).await
}

async fn request_inner(
    db: &Db,
    user: &str,
    compound: &Place,
    idem: Idem,
    d: NewDisbursement,
    emergency: Option<String>,
) -> Result<Outcome<Requested>, StoreError> {
    for (field, v) in [("purpose", &d.purpose), ("payee", &d.payee)] {
        if v.trim().is_empty() {
            return Err(StoreError::invalid(field, "is required"));
        }
        if v.chars().count() > MAX_TEXT {
            return Err(StoreError::invalid(
                field,
                format!("longer than {MAX_TEXT} characters"),
            ));
        }
    }
    if d.documents.len() > 50
        || d.documents
            .iter()
            .any(|x| x.trim().is_empty() || x.len() > MAX_TEXT)
    {
        return Err(StoreError::invalid(
            "documents",
            "at most 50 references of 1 to 500 characters",
        ));
    }
    if d.amount <= 0 || d.amount > gongzhi_domain::ledger::MAX_AMOUNT {
        return Err(StoreError::invalid(
            "amount",
            "must be greater than zero and at most 10,000,000,000.00",
        ));
    }
    if !d.category.is_expense()
        && !matches!(
            d.category,
            AccountCode::DividendsPayable | AccountCode::StewardPayable
        )
    {
        return Err(StoreError::invalid(
            "category",
            format!("'{}' is not an expense category", d.category),
        ));
    }
    if !matches!(
        d.source,
        AccountCode::Bank | AccountCode::MaintenanceInterest | AccountCode::MaintenancePrincipal
    ) {
        return Err(StoreError::invalid(
            "source",
            "must be bank, maintenance_interest or maintenance_principal",
        ));
    }
    // Maintenance-fund spending (Civil Code art. 278 (5)) needs a passed vote
    // linked to it — the interest as well as the principal; only the emergency
    // procedure (art. 281) spends it without one.
    let from_fund = matches!(
        d.source,
        AccountCode::MaintenancePrincipal | AccountCode::MaintenanceInterest
    );
    if from_fund && emergency.is_none() && d.vote_id.as_deref().is_none_or(|v| v.trim().is_empty())
    {
        return Err(StoreError::invalid(
            "vote_id",
            if d.source == AccountCode::MaintenancePrincipal {
                "spending maintenance fund principal needs a passed vote (use the interest, keep the principal)"
            } else {
                "spending the maintenance fund needs a passed vote linked to it (only the emergency procedure spends it without one)"
            },
        ));
    }
    let (user, compound) = (user.to_string(), compound.clone());
    db.write_locked(move |tx| {
        let (user, compound, idem, d, emergency) = (user.clone(), compound.clone(), idem.clone(), d.clone(), emergency.clone());
        Box::pin(async move {
            let mut books = lock(tx, &compound.id).await?;
            if let Some(v) = idem_lookup(tx, &compound.id, &idem.key, &idem.request_hash).await? {
                return Ok(Outcome::replay(v));
            }
            if from_fund && emergency.is_none() {
                let vote = d.vote_id.as_deref().unwrap_or_default();
                check_passed_vote(tx, &compound, vote, false).await?;
                crate::spending::check_in(tx, &compound, vote, d.amount).await?;
            }
            let id = db::new_id();
            let now = db::now_ms();
            sqlx::query(
                "INSERT INTO fund_disbursements (id, compound_id, purpose, payee, amount, category, source, documents_json, link, vote_id, state, requested_by, created_at, updated_at, emergency) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'requested', $11, $12, $12, $13)",
            )
            .bind(&id)
            .bind(&compound.id)
            .bind(d.purpose.trim())
            .bind(d.payee.trim())
            .bind(d.amount)
            .bind(d.category.as_str())
            .bind(d.source.as_str())
            .bind(json!(d.documents).to_string())
            .bind(d.link.clone())
            .bind(d.vote_id.clone())
            .bind(&user)
            .bind(now)
            .bind(emergency.clone())
            .execute(&mut **tx)
            .await?;
            let disb = get_disbursement_in(tx, &compound.id, &id).await?;
            append_record(tx, &compound, &mut books, &user, "requester", RecordBody::DisbursementRequest {
                disbursement_id: disb.id.clone(),
                purpose: disb.purpose.clone(),
                payee: disb.payee.clone(),
                amount: disb.amount,
                category: disb.category,
                source: disb.source,
                documents: disb.documents.clone(),
                vote_id: disb.vote_id.clone(),
                emergency: emergency.clone(),
            }).await?;
            if let Some(kind) = &emergency {
                // published at once, before any money moves
                append_record(tx, &compound, &mut books, &user, "requester", RecordBody::Publication {
                    subject: format!("disbursement:{id}"),
                    title: format!("emergency use of the maintenance fund: {kind}"),
                    summary: format!("{} — {} yuan to {} from {}, without a vote (Civil Code art. 281)", disb.purpose, gongzhi_domain::money::Fen(disb.amount), disb.payee, disb.source),
                }).await?;
            }
            audit::record(tx, Entry { actor: format!("user:{user}"), action: "fund.disbursement.request".into(), entity: "fund_disbursement".into(), entity_id: id, scope_path: compound.path.clone(), before: None, after: Some(json!(disb)) }).await?;
            let value = Requested { disbursement: disb };
            idem_store(tx, &compound.id, &idem.key, &idem.request_hash, &value).await?;
            Ok(Outcome::new(value))
        })
    })
    .await
}

async fn get_disbursement_in(
    tx: &mut Tx,
    compound_id: &str,
    id: &str,
) -> Result<Disbursement, StoreError> {
    let r = sqlx::query("SELECT * FROM fund_disbursements WHERE id = $1 AND compound_id = $2")
        .bind(id)
        .bind(compound_id)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or_else(|| StoreError::not_found(format!("disbursement '{id}'")))?;
    disb_from(&r)
}

pub async fn disbursements(
    db: &Db,
    compound_id: &str,
    limit: i64,
) -> Result<Vec<Disbursement>, StoreError> {
    let rows = sqlx::query("SELECT * FROM fund_disbursements WHERE compound_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2")
        .bind(compound_id)
        .bind(limit.clamp(1, 1000))
        .fetch_all(db.reader())
        .await?;
    rows.iter().map(disb_from).collect()
}

async fn set_state(tx: &mut Tx, d: &Disbursement) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE fund_disbursements SET state = $1, pending_transfer_id = $2, first_by = $3, first_role = $4, second_by = $5, second_role = $6, final_transfer_id = $7, updated_at = $8 WHERE id = $9",
    )
    .bind(d.state.as_str())
    .bind(d.pending_transfer_id.clone())
    .bind(d.first_by.clone())
    .bind(d.first_role.clone())
    .bind(d.second_by.clone())
    .bind(d.second_role.clone())
    .bind(d.final_transfer_id.clone())
    .bind(d.updated_at)
    .bind(&d.id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

fn resolve(
    d: &Disbursement,
    kind: TransferKind,
    user: &str,
    role: &str,
    memo: &str,
) -> NewTransfer {
    NewTransfer {
        kind,
        debit: d.category_debit(),
        credit: d.source_credit(),
        amount: d.amount,
        code: if d.emergency.is_some() {
            "emergency".into()
        } else {
            "disbursement".into()
        },
        memo: memo.into(),
        pending_id: d.pending_transfer_id.clone(),
        link: Some(format!("disbursement:{}", d.id)),
        vote_id: d.vote_id.clone(),
        by_user: user.into(),
        by_role: role.into(),
        timeout_at: None,
    }
}

impl Disbursement {
    /// The account debited: the expense category, or for a spend from the
    /// maintenance fund, the fund account (principal or interest) itself.
    fn category_debit(&self) -> AccountCode {
        match self.source {
            AccountCode::Bank => self.category,
            fund => fund,
        }
    }
    fn source_credit(&self) -> AccountCode {
        match self.source {
            AccountCode::Bank => AccountCode::Bank,
            _ => AccountCode::MaintenanceBank,
        }
    }
}

/// Voids the reservation of an expired pending disbursement (inside a locked
/// transaction). Returns true when it did.
async fn expire_if_due(
    tx: &mut Tx,
    compound: &Place,
    books: &mut Books,
    d: &mut Disbursement,
    now: i64,
) -> Result<bool, StoreError> {
    if d.state != DisbursementState::Pending {
        return Ok(false);
    }
    let pid = d.pending_transfer_id.clone().unwrap_or_default();
    let r = sqlx::query("SELECT timeout_at FROM fund_transfers WHERE id = $1")
        .bind(&pid)
        .fetch_one(&mut **tx)
        .await?;
    let due = db::oi(&r, "timeout_at")?.is_some_and(|t| t <= now);
    if !due {
        return Ok(false);
    }
    let t = append(
        tx,
        compound,
        books,
        resolve(d, TransferKind::VoidPending, "system", "system", "expired"),
    )
    .await?;
    append_record(
        tx,
        compound,
        books,
        "system",
        "system",
        RecordBody::Void {
            disbursement_id: d.id.clone(),
            reason: "expired".into(),
            transfer_id: Some(t.id.clone()),
        },
    )
    .await?;
    d.state = DisbursementState::Expired;
    d.final_transfer_id = Some(t.id);
    d.updated_at = now;
    set_state(tx, d).await?;
    Ok(true)
}

/// Approves a disbursement. The first approval (in one of the compound's two
/// approver roles) reserves the funds with a pending transfer; the second,
/// by a different person in the other role, posts it. `held` are the roles
/// the approver holds over the compound.
pub async fn approve(
    db: &Db,
    user: &str,
    held: &[Role],
    compound: &Place,
    id: &str,
    idem: Idem,
) -> Result<Outcome<Approved>, StoreError> {
    let (user, held, compound, id) = (
        user.to_string(),
        held.to_vec(),
        compound.clone(),
        id.to_string(),
    );
    db.write_locked(move |tx| {
        let (user, held, compound, id, idem) = (
            user.clone(),
            held.clone(),
            compound.clone(),
            id.clone(),
            idem.clone(),
        );
        Box::pin(async move {
            let mut books = lock(tx, &compound.id).await?;
            if let Some(v) = idem_lookup(tx, &compound.id, &idem.key, &idem.request_hash).await? {
                return Ok(Outcome::replay(v));
            }
            let mut d = get_disbursement_in(tx, &compound.id, &id).await?;
            let before = d.clone();
            let now = db::now_ms();
            let policy = books.policy_for(d.emergency.is_some());
            let transfer = match d.state {
                DisbursementState::Requested => {
                    let role = policy.first(&held).map_err(approval_error)?;
                    let mut nt =
                        resolve(&d, TransferKind::Pending, &user, role.as_str(), &d.purpose);
                    nt.pending_id = None;
                    nt.timeout_at = Some(now + books.pending_timeout_ms);
                    let t = append(tx, &compound, &mut books, nt).await?;
                    d.state = DisbursementState::Pending;
                    d.pending_transfer_id = Some(t.id.clone());
                    d.first_by = Some(user.clone());
                    d.first_role = Some(role.as_str().into());
                    t
                }
                DisbursementState::Pending => {
                    if expire_if_due(tx, &compound, &mut books, &mut d, now).await? {
                        // Keep the expiry even though this approval fails: commit
                        // it by returning the outcome as an error-free value.
                        return Ok(Outcome::new(Approved::Expired {
                            disbursement: Box::new(d),
                            expired: true,
                        }));
                    }
                    let first_role =
                        d.first_role
                            .as_deref()
                            .and_then(Role::parse)
                            .ok_or_else(|| {
                                StoreError::Config(
                                    "pending disbursement without a first role".into(),
                                )
                            })?;
                    let role = policy
                        .second(
                            d.first_by.as_deref().unwrap_or(""),
                            first_role,
                            &user,
                            &held,
                        )
                        .map_err(approval_error)?;
                    let t = append(
                        tx,
                        &compound,
                        &mut books,
                        resolve(
                            &d,
                            TransferKind::PostPending,
                            &user,
                            role.as_str(),
                            &d.purpose,
                        ),
                    )
                    .await?;
                    d.state = DisbursementState::Posted;
                    d.second_by = Some(user.clone());
                    d.second_role = Some(role.as_str().into());
                    d.final_transfer_id = Some(t.id.clone());
                    t
                }
                other => {
                    return Err(StoreError::Conflict(format!(
                        "disbursement '{id}' is already {other}"
                    )))
                }
            };
            d.updated_at = now;
            set_state(tx, &d).await?;
            let (step, role) = if d.state == DisbursementState::Posted {
                (2, d.second_role.clone())
            } else {
                (1, d.first_role.clone())
            };
            let role = role.unwrap_or_default();
            append_record(
                tx,
                &compound,
                &mut books,
                &user,
                &role,
                RecordBody::Approval {
                    disbursement_id: d.id.clone(),
                    step,
                    role: role.clone(),
                    transfer_id: Some(transfer.id.clone()),
                },
            )
            .await?;
            audit::record(
                tx,
                Entry {
                    actor: format!("user:{user}"),
                    action: "fund.disbursement.approve".into(),
                    entity: "fund_disbursement".into(),
                    entity_id: id.clone(),
                    scope_path: compound.path.clone(),
                    before: Some(json!(before)),
                    after: Some(json!(d)),
                },
            )
            .await?;
            let value = Moved {
                disbursement: d,
                transfer: transfer.into(),
                log_size: books.log_size,
            };
            idem_store(tx, &compound.id, &idem.key, &idem.request_hash, &value).await?;
            Ok(Outcome::new(Approved::Moved(Box::new(value))))
        })
    })
    .await
}

/// Voids a requested or pending disbursement (a pending one's reservation is
/// released by a `void_pending` transfer).
pub async fn void(
    db: &Db,
    user: &str,
    role: &str,
    compound: &Place,
    id: &str,
    reason: &str,
    idem: Idem,
) -> Result<Outcome<Moved>, StoreError> {
    if reason.trim().is_empty() || reason.chars().count() > MAX_TEXT {
        return Err(StoreError::invalid(
            "reason",
            "is required (1 to 500 characters)",
        ));
    }
    let (user, role, compound, id, reason) = (
        user.to_string(),
        role.to_string(),
        compound.clone(),
        id.to_string(),
        reason.trim().to_string(),
    );
    db.write_locked(move |tx| {
        let (user, role, compound, id, reason, idem) = (
            user.clone(),
            role.clone(),
            compound.clone(),
            id.clone(),
            reason.clone(),
            idem.clone(),
        );
        Box::pin(async move {
            let mut books = lock(tx, &compound.id).await?;
            if let Some(v) = idem_lookup(tx, &compound.id, &idem.key, &idem.request_hash).await? {
                return Ok(Outcome::replay(v));
            }
            let mut d = get_disbursement_in(tx, &compound.id, &id).await?;
            let before = d.clone();
            let now = db::now_ms();
            let mut transfer = None;
            match d.state {
                DisbursementState::Requested => {}
                DisbursementState::Pending => {
                    let t = append(
                        tx,
                        &compound,
                        &mut books,
                        resolve(&d, TransferKind::VoidPending, &user, &role, &reason),
                    )
                    .await?;
                    d.final_transfer_id = Some(t.id.clone());
                    transfer = Some(t);
                }
                other => {
                    return Err(StoreError::Conflict(format!(
                        "disbursement '{id}' is already {other}"
                    )))
                }
            }
            d.state = DisbursementState::Voided;
            d.updated_at = now;
            set_state(tx, &d).await?;
            append_record(
                tx,
                &compound,
                &mut books,
                &user,
                &role,
                RecordBody::Void {
                    disbursement_id: d.id.clone(),
                    reason: reason.clone(),
                    transfer_id: transfer.as_ref().map(|t| t.id.clone()),
                },
            )
            .await?;
            audit::record(
                tx,
                Entry {
                    actor: format!("user:{user}"),
                    action: "fund.disbursement.void".into(),
                    entity: "fund_disbursement".into(),
                    entity_id: id.clone(),
                    scope_path: compound.path.clone(),
                    before: Some(json!(before)),
                    after: Some(json!({"disbursement": d, "reason": reason})),
                },
            )
            .await?;
            let value = Moved {
                disbursement: d,
                transfer,
                log_size: books.log_size,
            };
            idem_store(tx, &compound.id, &idem.key, &idem.request_hash, &value).await?;
            Ok(Outcome::new(value))
        })
    })
    .await
}

/// Voids every pending disbursement of the compound whose reservation has
/// expired. Returns how many.
pub async fn expire_due(db: &Db, compound: &Place, now: i64) -> Result<usize, StoreError> {
    let compound = compound.clone();
    db.write_locked(move |tx| {
        let compound = compound.clone();
        Box::pin(async move {
            let mut books = lock(tx, &compound.id).await?;
            let rows = sqlx::query("SELECT * FROM fund_disbursements WHERE compound_id = $1 AND state = 'pending' ORDER BY created_at").bind(&compound.id).fetch_all(&mut **tx).await?;
            let mut n = 0;
            for r in rows {
                let mut d = disb_from(&r)?;
                if expire_if_due(tx, &compound, &mut books, &mut d, now).await? {
                    n += 1;
                }
            }
            Ok(n)
        })
    })
    .await
}

// ---------------------------------------------------------------------------
