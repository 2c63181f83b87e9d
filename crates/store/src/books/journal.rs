//! The books' settings and lock, the log's appends (transfers and
//! records), idempotency, the passed-vote check, matter steps.

use crate::audit::{self, Entry};
use crate::db::{self, Db, Tx};
use crate::error::StoreError;
use crate::register::Place;
use gongzhi_domain::book_entries::{record_leaf_bytes, Record, RecordBody};
use gongzhi_domain::flows;
use gongzhi_domain::ledger::{
    AccountCode, ApprovalPolicy, Balance, Ledger, PendingState, Transfer, TransferKind,
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
    idem_lookup_in(tx, IdemTable::Fund, compound_id, key, request_hash).await
}

/// Which table keeps a feature's idempotency keys (each keyed by its
/// compound or community and the key).
#[derive(Debug, Clone, Copy)]
pub enum IdemTable {
    Fund,
    Points,
}

impl IdemTable {
    fn lookup_sql(self) -> &'static str {
        match self {
            IdemTable::Fund => "SELECT request_hash, response_json FROM fund_idempotency WHERE compound_id = $1 AND idem_key = $2",
            IdemTable::Points => "SELECT request_hash, response_json FROM points_idempotency WHERE community_id = $1 AND idem_key = $2",
        }
    }
    fn store_sql(self) -> &'static str {
        match self {
            IdemTable::Fund => "INSERT INTO fund_idempotency (compound_id, idem_key, request_hash, response_json, created_at) VALUES ($1, $2, $3, $4, $5)",
            IdemTable::Points => "INSERT INTO points_idempotency (community_id, idem_key, request_hash, response_json, created_at) VALUES ($1, $2, $3, $4, $5)",
        }
    }
}

/// [`idem_lookup`] in `table`.
pub async fn idem_lookup_in<T: serde::de::DeserializeOwned>(
    tx: &mut Tx,
    table: IdemTable,
    compound_id: &str,
    key: &str,
    request_hash: &str,
) -> Result<Option<T>, StoreError> {
    let r = sqlx::query(table.lookup_sql())
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
    idem_store_in(
        tx,
        IdemTable::Fund,
        compound_id,
        key,
        request_hash,
        response,
    )
    .await
}

/// [`idem_store`] in `table`.
pub async fn idem_store_in<T: Serialize>(
    tx: &mut Tx,
    table: IdemTable,
    compound_id: &str,
    key: &str,
    request_hash: &str,
    response: &T,
) -> Result<(), StoreError> {
    let response = serde_json::to_string(response)
        .map_err(|e| StoreError::Config(format!("response not serialisable: {e}")))?;
    sqlx::query(table.store_sql())
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

pub(crate) fn transfer_from(r: &AnyRow) -> Result<Transfer, StoreError> {
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
