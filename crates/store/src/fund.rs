//! A compound's common-fund books: accounts, immutable transfers, two-party
//! approved disbursements and idempotency keys, each write appending its
//! leaf to the compound's Merkle log ([`crate::tlog`]) in the same
//! transaction.
//!
//! Concurrency: every write begins by updating the compound's `fund_books`
//! row ([`lock`]). On PostgreSQL that is a row lock taken at READ COMMITTED
//! ([`Db::write_locked`]), so writers of one compound queue behind it and,
//! once through, see the latest balances; on SQLite the single writer does
//! the same. The cash rule (never below zero) is then checked by the domain
//! ledger on balances read inside that transaction.

use crate::audit::{self, Entry};
use crate::db::{self, Db, Tx};
use crate::error::StoreError;
use crate::register::Place;
use gongzhi_domain::book_entries::{record_leaf_bytes, Entry as LogEntry, Record, RecordBody};
use gongzhi_domain::flows;
use gongzhi_domain::ledger::{
    AccountCode, ApprovalPolicy, Balance, DisbursementState, Ledger, PendingState, Transfer,
    TransferKind,
};
use gongzhi_domain::merkle;
use gongzhi_domain::policy::Role;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sqlx::any::AnyRow;

/// How long a first approval's reservation lasts unless set per compound.
pub const DEFAULT_PENDING_TIMEOUT_MS: i64 = 7 * 24 * 3600 * 1000;
pub use gongzhi_domain::ledger::MAX_TEXT;

pub use gongzhi_domain::book_entries::origin;

/// The per-compound settings row, as locked by a writer.
#[derive(Debug, Clone, Serialize)]
pub struct Books {
    pub compound_id: String,
    pub log_size: i64,
    pub approver_roles: [Role; 2],
    pub pending_timeout_ms: i64,
    /// `none`, `trust` (酬金制: `remuneration_bp` of each period's fee
    /// income) or `lump_sum` (包干制: `lump_sum_fen` each period).
    pub remuneration_mode: String,
    pub remuneration_bp: i64,
    pub lump_sum_fen: i64,
    /// The two roles that approve an emergency use of the maintenance fund.
    pub emergency_roles: [Role; 2],
}

impl Books {
    pub fn policy(&self) -> ApprovalPolicy {
        ApprovalPolicy {
            roles: self.approver_roles,
        }
    }
}

fn books_from(r: &AnyRow) -> Result<Books, StoreError> {
    let role = |c: &str| -> Result<Role, StoreError> {
        let v = db::s(r, c)?;
        Role::parse(&v)
            .ok_or_else(|| StoreError::Config(format!("fund_books.{c}: unknown role '{v}'")))
    };
    Ok(Books {
        compound_id: db::s(r, "compound_id")?,
        log_size: db::i(r, "log_size")?,
        approver_roles: [role("approver_role_a")?, role("approver_role_b")?],
        pending_timeout_ms: db::i(r, "pending_timeout_ms")?,
        remuneration_mode: db::s(r, "remuneration_mode")?,
        remuneration_bp: db::i(r, "remuneration_bp")?,
        lump_sum_fen: db::i(r, "lump_sum_fen")?,
        emergency_roles: parse_role_pair(&db::s(r, "emergency_roles")?)?,
    })
}

/// Default approvers of an emergency use: the owners' committee and the steward.
pub const DEFAULT_EMERGENCY_ROLES: [Role; 2] = [Role::CommitteeMember, Role::Steward];

fn parse_role_pair(v: &str) -> Result<[Role; 2], StoreError> {
    let mut it = v.split(',').map(|x| Role::parse(x.trim()));
    match (it.next().flatten(), it.next().flatten(), it.next()) {
        (Some(a), Some(b), None) => Ok([a, b]),
        _ => Err(StoreError::Config(format!(
            "fund_books.emergency_roles: '{v}' is not two roles"
        ))),
    }
}

impl Books {
    /// The approval policy of a disbursement: the emergency roles for a
    /// declared emergency, else the compound's approver roles.
    pub fn policy_for(&self, emergency: bool) -> ApprovalPolicy {
        ApprovalPolicy {
            roles: if emergency {
                self.emergency_roles
            } else {
                self.approver_roles
            },
        }
    }
}

/// Creates the compound's books row if missing, then locks it.
pub async fn lock(tx: &mut Tx, compound_id: &str) -> Result<Books, StoreError> {
    sqlx::query(
        "INSERT INTO fund_books (compound_id, log_size, approver_role_a, approver_role_b, pending_timeout_ms, created_at) \
         VALUES ($1, 0, $2, $3, $4, $5) ON CONFLICT (compound_id) DO NOTHING",
    )
    .bind(compound_id)
    .bind(Role::CommitteeMember.as_str())
    .bind(Role::Supervisor.as_str())
    .bind(DEFAULT_PENDING_TIMEOUT_MS)
    .bind(db::now_ms())
    .execute(&mut **tx)
    .await?;
    sqlx::query("UPDATE fund_books SET log_size = log_size WHERE compound_id = $1")
        .bind(compound_id)
        .execute(&mut **tx)
        .await?;
    let r = sqlx::query("SELECT * FROM fund_books WHERE compound_id = $1")
        .bind(compound_id)
        .fetch_one(&mut **tx)
        .await?;
    books_from(&r)
}

/// The compound's settings (defaults when it has no books yet).
pub async fn books(db: &Db, compound_id: &str) -> Result<Books, StoreError> {
    let r = sqlx::query("SELECT * FROM fund_books WHERE compound_id = $1")
        .bind(compound_id)
        .fetch_optional(db.reader())
        .await?;
    match r {
        Some(r) => books_from(&r),
        None => Ok(Books {
            compound_id: compound_id.into(),
            log_size: 0,
            approver_roles: ApprovalPolicy::default().roles,
            pending_timeout_ms: DEFAULT_PENDING_TIMEOUT_MS,
            remuneration_mode: "none".into(),
            remuneration_bp: 1000,
            lump_sum_fen: 0,
            emergency_roles: DEFAULT_EMERGENCY_ROLES,
        }),
    }
}

/// Sets which two roles must approve a disbursement, and how long a
/// reservation lasts.
pub async fn set_policy(
    db: &Db,
    actor: &str,
    compound: &Place,
    policy: ApprovalPolicy,
    timeout_ms: i64,
) -> Result<Books, StoreError> {
    if !(60_000..=365 * 24 * 3600 * 1000).contains(&timeout_ms) {
        return Err(StoreError::invalid(
            "pending_timeout_ms",
            "must be between one minute and one year",
        ));
    }
    let (actor, compound) = (actor.to_string(), compound.clone());
    db.write_locked(move |tx| {
        let (actor, compound, policy) = (actor.clone(), compound.clone(), policy.clone());
        Box::pin(async move {
            let before = lock(tx, &compound.id).await?;
            sqlx::query("UPDATE fund_books SET approver_role_a = $1, approver_role_b = $2, pending_timeout_ms = $3 WHERE compound_id = $4")
                .bind(policy.roles[0].as_str())
                .bind(policy.roles[1].as_str())
                .bind(timeout_ms)
                .bind(&compound.id)
                .execute(&mut **tx)
                .await?;
            let after = Books { approver_roles: policy.roles, pending_timeout_ms: timeout_ms, ..before.clone() };
            audit::record(tx, Entry { actor, action: "fund.policy".into(), entity: "fund_books".into(), entity_id: compound.id.clone(), scope_path: compound.path.clone(), before: Some(json!(before)), after: Some(json!(after)) }).await?;
            Ok(after)
        })
    })
    .await
}

/// A transfer to be written; `seq`, `id` and `at` are assigned.
#[derive(Debug, Clone)]
pub struct NewTransfer {
    pub kind: TransferKind,
    pub debit: AccountCode,
    pub credit: AccountCode,
    pub amount: i64,
    pub code: String,
    pub memo: String,
    pub pending_id: Option<String>,
    pub link: Option<String>,
    pub vote_id: Option<String>,
    pub by_user: String,
    pub by_role: String,
    pub timeout_at: Option<i64>,
}

fn ledger_err(e: gongzhi_domain::ledger::LedgerError) -> StoreError {
    use gongzhi_domain::ledger::LedgerError as L;
    let msg = e.to_string();
    match e {
        L::PendingResolved(..) => StoreError::Conflict(msg),
        _ => match msg.split_once(": ") {
            Some((field, reason)) => StoreError::invalid(field, reason),
            None => StoreError::invalid("transfer", msg),
        },
    }
}

async fn balance_in(
    tx: &mut Tx,
    compound_id: &str,
    code: AccountCode,
) -> Result<Balance, StoreError> {
    let r = sqlx::query("SELECT debits_pending, debits_posted, credits_pending, credits_posted FROM fund_accounts WHERE compound_id = $1 AND code = $2")
        .bind(compound_id)
        .bind(code.as_str())
        .fetch_optional(&mut **tx)
        .await?;
    Ok(match r {
        None => Balance::default(),
        Some(r) => Balance {
            debits_pending: db::i(&r, "debits_pending")?,
            debits_posted: db::i(&r, "debits_posted")?,
            credits_pending: db::i(&r, "credits_pending")?,
            credits_posted: db::i(&r, "credits_posted")?,
        },
    })
}

/// Appends one transfer to the locked books: checks it against the ledger
/// rules on the current balances, writes it, the new balances, its Merkle
/// leaf and an audit entry. `books.log_size` is advanced.
pub async fn append(
    tx: &mut Tx,
    compound: &Place,
    books: &mut Books,
    t: NewTransfer,
) -> Result<Transfer, StoreError> {
    for (field, v) in [("code", &t.code), ("memo", &t.memo)] {
        if v.chars().count() > MAX_TEXT {
            return Err(StoreError::invalid(
                field,
                format!("longer than {MAX_TEXT} characters"),
            ));
        }
    }
    if t.debit == AccountCode::MaintenancePrincipal
        && matches!(t.kind, TransferKind::Posted | TransferKind::Pending)
    {
        if let Some(v) = t.vote_id.as_deref().filter(|v| !v.trim().is_empty()) {
            check_passed_vote(tx, compound, v, false).await?;
        }
    }
    let mut ledger = Ledger::new();
    for code in [t.debit, t.credit] {
        let b = balance_in(tx, &compound.id, code).await?;
        ledger.balances.insert(code, b);
    }
    if let Some(pid) = &t.pending_id {
        let r = sqlx::query("SELECT debit_code, credit_code, amount, kind FROM fund_transfers WHERE id = $1 AND compound_id = $2")
            .bind(pid)
            .bind(&compound.id)
            .fetch_optional(&mut **tx)
            .await?;
        if let Some(r) = r {
            if db::s(&r, "kind")? == TransferKind::Pending.as_str() {
                let resolved = sqlx::query("SELECT kind FROM fund_transfers WHERE pending_id = $1")
                    .bind(pid)
                    .fetch_optional(&mut **tx)
                    .await?;
                let resolved = match resolved {
                    Some(k) => TransferKind::parse(&db::s(&k, "kind")?),
                    None => None,
                };
                let code = |c: &str| {
                    AccountCode::parse(c)
                        .ok_or_else(|| StoreError::Config(format!("unknown account code '{c}'")))
                };
                ledger.pending.insert(
                    pid.clone(),
                    PendingState {
                        debit: code(&db::s(&r, "debit_code")?)?,
                        credit: code(&db::s(&r, "credit_code")?)?,
                        amount: db::i(&r, "amount")?,
                        resolved,
                    },
                );
            }
        }
    }
    let transfer = Transfer {
        seq: books.log_size as u64,
        id: db::new_id(),
        kind: t.kind,
        debit: t.debit,
        credit: t.credit,
        amount: t.amount,
        code: t.code,
        memo: t.memo,
        pending_id: t.pending_id,
        link: t.link,
        vote_id: t.vote_id,
        by_user: t.by_user,
        by_role: t.by_role,
        at: db::now_ms(),
        timeout_at: t.timeout_at,
    };
    ledger.apply(&transfer).map_err(ledger_err)?;
    sqlx::query(
        "INSERT INTO fund_transfers (id, compound_id, seq, kind, debit_code, credit_code, amount, code, memo, pending_id, link, vote_id, by_user, by_role, at, timeout_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
    )
    .bind(&transfer.id)
    .bind(&compound.id)
    .bind(transfer.seq as i64)
    .bind(transfer.kind.as_str())
    .bind(transfer.debit.as_str())
    .bind(transfer.credit.as_str())
    .bind(transfer.amount)
    .bind(&transfer.code)
    .bind(&transfer.memo)
    .bind(transfer.pending_id.clone())
    .bind(transfer.link.clone())
    .bind(transfer.vote_id.clone())
    .bind(&transfer.by_user)
    .bind(&transfer.by_role)
    .bind(transfer.at)
    .bind(transfer.timeout_at)
    .execute(&mut **tx)
    .await
    .map_err(|e| {
        let e = StoreError::from(e);
        if e.is_unique_violation() {
            StoreError::Conflict(format!("pending transfer '{}' is already resolved", transfer.pending_id.clone().unwrap_or_default()))
        } else {
            e
        }
    })?;
    for code in [transfer.debit, transfer.credit] {
        let b = ledger.balance(code);
        sqlx::query(
            "INSERT INTO fund_accounts (compound_id, code, debits_pending, debits_posted, credits_pending, credits_posted) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (compound_id, code) DO UPDATE SET debits_pending = $3, debits_posted = $4, credits_pending = $5, credits_posted = $6",
        )
        .bind(&compound.id)
        .bind(code.as_str())
        .bind(b.debits_pending)
        .bind(b.debits_posted)
        .bind(b.credits_pending)
        .bind(b.credits_posted)
        .execute(&mut **tx)
        .await?;
    }
    let code = compound.code.clone().unwrap_or_else(|| compound.id.clone());
    let leaf = merkle::leaf_hash(&gongzhi_domain::ledger::leaf_bytes(
        &origin(&code),
        &transfer,
    ));
    crate::tlog::append_leaf(tx, &compound.id, books.log_size, &leaf).await?;
    books.log_size += 1;
    sqlx::query("UPDATE fund_books SET log_size = $1 WHERE compound_id = $2")
        .bind(books.log_size)
        .bind(&compound.id)
        .execute(&mut **tx)
        .await?;
    audit::record(
        tx,
        Entry {
            actor: format!("user:{}", transfer.by_user),
            action: format!("fund.transfer.{}", transfer.kind),
            entity: "fund_transfer".into(),
            entity_id: transfer.id.clone(),
            scope_path: compound.path.clone(),
            before: None,
            after: Some(json!(transfer)),
        },
    )
    .await?;
    Ok(transfer)
}

/// Appends one non-transfer entry (approval, void, budget, billing run,
/// publication, matter step, audit report) to the locked books' log:
/// writes it, its Merkle leaf, and advances `books.log_size`. The caller
/// audits the change it belongs to.
pub async fn append_record(
    tx: &mut Tx,
    compound: &Place,
    books: &mut Books,
    by_user: &str,
    by_role: &str,
    body: RecordBody,
) -> Result<Record, StoreError> {
    let record = Record {
        seq: books.log_size as u64,
        id: db::new_id(),
        by_user: by_user.into(),
        by_role: by_role.into(),
        at: db::now_ms(),
        body,
    };
    sqlx::query(
        "INSERT INTO fund_records (id, compound_id, seq, kind, subject, body_json, by_user, by_role, at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&record.id)
    .bind(&compound.id)
    .bind(record.seq as i64)
    .bind(record.body.kind())
    .bind(record.body.subject())
    .bind(serde_json::to_string(&record.body).expect("a record body serialises"))
    .bind(&record.by_user)
    .bind(&record.by_role)
    .bind(record.at)
    .execute(&mut **tx)
    .await?;
    let code = compound.code.clone().unwrap_or_else(|| compound.id.clone());
    let leaf = merkle::leaf_hash(&record_leaf_bytes(&origin(&code), &record));
    crate::tlog::append_leaf(tx, &compound.id, books.log_size, &leaf).await?;
    books.log_size += 1;
    sqlx::query("UPDATE fund_books SET log_size = $1 WHERE compound_id = $2")
        .bind(books.log_size)
        .bind(&compound.id)
        .execute(&mut **tx)
        .await?;
    Ok(record)
}

/// Appends a matter's step to its compound's log, in the caller's
/// transaction (called by `matters::record_step`). A matter whose scope is
/// a compound or lies inside one (a building, a unit) goes to that
/// compound's log. A matter above compounds (a community, a street) goes to
/// no compound's log: it belongs to no single compound's books and would
/// otherwise be copied into every compound below it; it stays in the
/// matter's own append-only steps and the audit trail.
pub async fn log_matter_step(
    tx: &mut Tx,
    scope_path: &str,
    matter_id: &str,
    step: &gongzhi_domain::procedure::StepDone,
) -> Result<Option<Record>, StoreError> {
    let Some(compound) = crate::scope::compound_of_scope(tx, scope_path).await? else {
        return Ok(None);
    };
    let r = sqlx::query("SELECT title, procedure_json FROM matters WHERE id = $1")
        .bind(matter_id)
        .fetch_one(&mut **tx)
        .await?;
    let p: gongzhi_domain::procedure::Procedure =
        serde_json::from_str(&db::s(&r, "procedure_json")?)
            .map_err(|e| StoreError::Config(format!("stored procedure: {e}")))?;
    let produces = p
        .steps
        .iter()
        .find(|s| s.key == step.step_key)
        .map(|s| {
            serde_json::to_value(s.produces)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default()
        })
        .unwrap_or_default();
    let mut books = lock(tx, &compound.id).await?;
    let body = RecordBody::MatterStep {
        matter_id: matter_id.into(),
        title: db::s(&r, "title")?,
        step_idx: step.idx,
        step_key: step.step_key.clone(),
        produces,
        role: step.role.clone(),
        note: step.note.clone(),
        vote_id: step.vote_id.clone(),
    };
    let actor = step
        .actor
        .strip_prefix("user:")
        .unwrap_or(&step.actor)
        .to_string();
    append_record(tx, &compound, &mut books, &actor, &step.role, body)
        .await
        .map(Some)
}

/// Checks that `vote_id` names a vote that exists, is closed and passed, and
/// is a vote of this compound: over the compound itself when `whole`, else
/// over the compound or a building inside it. Refusals name `vote_id`.
pub async fn check_passed_vote(
    tx: &mut Tx,
    compound: &Place,
    vote_id: &str,
    whole: bool,
) -> Result<(), StoreError> {
    let r = sqlx::query("SELECT scope_path, status, result_json FROM votes WHERE id = $1")
        .bind(vote_id)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or_else(|| StoreError::invalid("vote_id", format!("no vote '{vote_id}'")))?;
    let scope = db::s(&r, "scope_path")?;
    let inside = if whole {
        scope == compound.path
    } else {
        scope.starts_with(&compound.path)
    };
    if !inside {
        return Err(StoreError::invalid(
            "vote_id",
            if whole {
                "the vote is not a vote of this whole compound"
            } else {
                "the vote is not a vote of this compound"
            },
        ));
    }
    let status = db::s(&r, "status")?;
    if status != "closed" {
        return Err(StoreError::invalid(
            "vote_id",
            format!("the vote is {status}, not closed"),
        ));
    }
    let passed = db::os(&r, "result_json")?
        .and_then(|j| serde_json::from_str::<Value>(&j).ok())
        .and_then(|v| v["passed"].as_bool())
        .unwrap_or(false);
    if !passed {
        return Err(StoreError::invalid("vote_id", "the vote did not pass"));
    }
    Ok(())
}

/// A refused approval as a store error: the same person twice is a
/// conflict with what is already recorded; anything else names its field.
pub(crate) fn approval_error(e: gongzhi_domain::ledger::ApprovalError) -> StoreError {
    match e {
        gongzhi_domain::ledger::ApprovalError::SamePerson => StoreError::Conflict(e.to_string()),
        other => {
            let m = other.to_string();
            let (f, r) = m.split_once(": ").unwrap_or(("role", &m));
            StoreError::invalid(f, r)
        }
    }
}

/// Idempotency: the stored response for `key`, if this request was already
/// done. The same key with a different request is a conflict.
pub async fn idem_lookup<T: serde::de::DeserializeOwned>(
    tx: &mut Tx,
    compound_id: &str,
    key: &str,
    request_hash: &str,
) -> Result<Option<T>, StoreError> {
    let r = sqlx::query("SELECT request_hash, response_json FROM fund_idempotency WHERE compound_id = $1 AND idem_key = $2")
        .bind(compound_id)
        .bind(key)
        .fetch_optional(&mut **tx)
        .await?;
    match r {
        None => Ok(None),
        Some(r) if db::s(&r, "request_hash")? == request_hash => Ok(Some(
            serde_json::from_str(&db::s(&r, "response_json")?)
                .map_err(|e| StoreError::Config(e.to_string()))?,
        )),
        Some(_) => Err(StoreError::Conflict(format!(
            "Idempotency-Key '{key}' was already used for a different request"
        ))),
    }
}

pub async fn idem_store<T: Serialize>(
    tx: &mut Tx,
    compound_id: &str,
    key: &str,
    request_hash: &str,
    response: &T,
) -> Result<(), StoreError> {
    let response = serde_json::to_string(response)
        .map_err(|e| StoreError::Config(format!("response not serialisable: {e}")))?;
    sqlx::query("INSERT INTO fund_idempotency (compound_id, idem_key, request_hash, response_json, created_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(compound_id)
        .bind(key)
        .bind(request_hash)
        .bind(response)
        .bind(db::now_ms())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// An idempotency key and the hash of the request it came with.
#[derive(Debug, Clone)]
pub struct Idem {
    pub key: String,
    pub request_hash: String,
}

impl Idem {
    pub fn new(key: &str, request_hash: String) -> Result<Idem, StoreError> {
        let k = key.trim();
        if k.is_empty() || k.len() > 200 || !k.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(StoreError::invalid(
                "Idempotency-Key",
                "must be 1 to 200 visible ASCII characters",
            ));
        }
        Ok(Idem {
            key: k.to_string(),
            request_hash,
        })
    }
}

/// What a money-moving call returns: its typed result and whether it was
/// replayed from an earlier call with the same key (the stored result,
/// read back into the same type).
#[derive(Debug, Clone)]
pub struct Outcome<T> {
    pub value: T,
    pub replayed: bool,
}

impl<T> Outcome<T> {
    pub fn new(value: T) -> Outcome<T> {
        Outcome {
            value,
            replayed: false,
        }
    }
    pub fn replay(value: T) -> Outcome<T> {
        Outcome {
            value,
            replayed: true,
        }
    }
}

/// A transfer recorded directly, and the log's size after it.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Recorded {
    pub transfer: Transfer,
    pub log_size: i64,
}

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

/// Records one posted transfer (income, fees, interest, corrections…).
pub async fn record_transfer(
    db: &Db,
    compound: &Place,
    idem: Idem,
    t: NewTransfer,
) -> Result<Outcome<Recorded>, StoreError> {
    if t.kind != TransferKind::Posted {
        return Err(StoreError::invalid(
            "kind",
            "only posted transfers are recorded directly; disbursements go through approval",
        ));
    }
    // Money leaves only through approved disbursements: a direct transfer
    // brings money in, or reverses such an inflow exactly, once.
    let direct =
        flows::check_direct(t.debit, t.credit, &t.code, t.link.as_deref()).map_err(flow_err)?;
    let compound = compound.clone();
    db.write_locked(move |tx| {
        let (compound, idem, t, direct) =
            (compound.clone(), idem.clone(), t.clone(), direct.clone());
        Box::pin(async move {
            let mut books = lock(tx, &compound.id).await?;
            if let Some(v) = idem_lookup(tx, &compound.id, &idem.key, &idem.request_hash).await? {
                return Ok(Outcome::replay(v));
            }
            if let flows::Direct::Reversal { of } = &direct {
                check_reversal_in(tx, &compound.id, of, &t).await?;
            }
            let tr = append(tx, &compound, &mut books, t).await?;
            let value = Recorded {
                transfer: tr,
                log_size: books.log_size,
            };
            idem_store(tx, &compound.id, &idem.key, &idem.request_hash, &value).await?;
            Ok(Outcome::new(value))
        })
    })
    .await
}

fn flow_err(e: flows::FlowError) -> StoreError {
    StoreError::invalid(e.field(), e.reason())
}

/// A reversal's original: in these books, a posted direct inflow with the
/// accounts swapped and the same amount, not reversed before.
async fn check_reversal_in(
    tx: &mut Tx,
    compound_id: &str,
    of: &str,
    t: &NewTransfer,
) -> Result<(), StoreError> {
    let r = sqlx::query("SELECT * FROM fund_transfers WHERE id = $1 AND compound_id = $2")
        .bind(of)
        .bind(compound_id)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or_else(|| StoreError::invalid("link", format!("no transfer '{of}' in these books")))?;
    let original = transfer_from(&r)?;
    flows::check_reversal(&original, t.debit, t.credit, t.amount).map_err(flow_err)?;
    let again = sqlx::query(
        "SELECT id FROM fund_transfers WHERE compound_id = $1 AND code = $2 AND link = $3",
    )
    .bind(compound_id)
    .bind(flows::REVERSAL_CODE)
    .bind(format!("reverses:{of}"))
    .fetch_optional(&mut **tx)
    .await?;
    if again.is_some() {
        return Err(flow_err(flows::FlowError::AlreadyReversed(of.to_string())));
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Disbursements
// ---------------------------------------------------------------------------

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

fn transfer_from(r: &AnyRow) -> Result<Transfer, StoreError> {
    let code = |c: &str| -> Result<AccountCode, StoreError> {
        let v = db::s(r, c)?;
        AccountCode::parse(&v)
            .ok_or_else(|| StoreError::Config(format!("unknown account code '{v}'")))
    };
    let k = db::s(r, "kind")?;
    Ok(Transfer {
        seq: db::i(r, "seq")? as u64,
        id: db::s(r, "id")?,
        kind: TransferKind::parse(&k)
            .ok_or_else(|| StoreError::Config(format!("unknown transfer kind '{k}'")))?,
        debit: code("debit_code")?,
        credit: code("credit_code")?,
        amount: db::i(r, "amount")?,
        code: db::s(r, "code")?,
        memo: db::s(r, "memo")?,
        pending_id: db::os(r, "pending_id")?,
        link: db::os(r, "link")?,
        vote_id: db::os(r, "vote_id")?,
        by_user: db::s(r, "by_user")?,
        by_role: db::s(r, "by_role")?,
        at: db::i(r, "at")?,
        timeout_at: db::oi(r, "timeout_at")?,
    })
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
