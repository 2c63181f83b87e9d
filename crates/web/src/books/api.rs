//! The common fund's books over HTTP.
//!
//! Public, no login, no personal data, under
//! `/api/v1/public/compounds/{code}/books/…`: accounts and balances, the
//! entries (transfers), the signed checkpoint, the Merkle leaves, inclusion
//! and consistency proofs, disbursements with their approvals (by role).
//! `/api/v1/public/books/key` serves the checkpoint verifier key.
//!
//! Money-moving requests (under `/api/v1/compounds/{code}/books/…`) need an
//! `Idempotency-Key` header: the same key with the same body answers the
//! first result again; with a different body, 409.

use crate::access::{acting_role, check_place};
use crate::problem::{ApiError, ApiJson};
use crate::session::CurrentUser;
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use gongzhi_domain::book_entries::Entry as LogEntry;
use gongzhi_domain::ledger::Transfer;
use gongzhi_domain::ledger::{AccountCode, ApprovalPolicy, TransferKind};
use gongzhi_domain::merkle;
use gongzhi_domain::money::Fen;
use gongzhi_domain::policy::{self, Action, Role};
use gongzhi_store::billing::{BillingRun, DividendRun, Payment};
use gongzhi_store::fund::{self, AccountView, Idem, NewDisbursement, NewTransfer, Outcome};
use gongzhi_store::payments::Confirmation;
use gongzhi_store::register::{self, Place};
use gongzhi_store::stewardship::Remuneration;
use gongzhi_store::tlog;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::Digest;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(books_key))
        .routes(routes!(public_accounts))
        .routes(routes!(public_transfers))
        .routes(routes!(public_entries))
        .routes(routes!(public_checkpoint))
        .routes(routes!(public_leaves))
        .routes(routes!(inclusion_proof))
        .routes(routes!(consistency_proof))
        .routes(routes!(public_disbursements))
        .routes(routes!(record_transfer))
        .routes(routes!(request_disbursement))
        .routes(routes!(approve_disbursement))
        .routes(routes!(void_disbursement))
        .routes(routes!(set_policy))
        .routes(routes!(billing_run))
        .routes(routes!(record_payment))
        .routes(routes!(collection))
        .routes(routes!(declare_dividend))
        .routes(routes!(my_dividends))
        .routes(routes!(adopt_budget))
        .routes(routes!(set_settings))
        .routes(routes!(accrue_remuneration))
        .routes(routes!(create_intent))
        .routes(routes!(sandbox_callback))
        .routes(routes!(sandbox_pay))
        .routes(routes!(request_waiver))
        .routes(routes!(approve_waiver))
        .routes(routes!(public_audit))
        .routes(routes!(record_audit))
        .routes(routes!(private_books))
        .routes(routes!(public_budget))
        .routes(routes!(authorise_spending, vote_spending))
}

async fn compound(state: &AppState, code: &str) -> Result<Place, ApiError> {
    let p =
        register::place_by_code(&state.db, code)
            .await
            .map_err(crate::problem::or_not_found(format!(
                "compound '{code}' not found"
            )))?;
    if p.kind != "compound" {
        return Err(ApiError::not_found(format!("compound '{code}' not found")));
    }
    Ok(p)
}

fn code_of(p: &Place) -> String {
    p.code.clone().unwrap_or_else(|| p.id.clone())
}

/// The checkpoint verifier key: pin it in `gongzhi verify --key`.
#[utoipa::path(get, path = "/api/v1/public/books/key", tag = "public", responses((status = 200, description = "the verifier key (C2SP signed-note vkey)", body = BooksKey)))]
async fn books_key(State(state): State<AppState>) -> Json<BooksKey> {
    let vk = state.books_key.verifying_key();
    Json(BooksKey {
        name: tlog::KEY_NAME.to_string(),
        vkey: merkle::verifier_key(tlog::KEY_NAME, &vk),
        algorithm: "ed25519".into(),
    })
}

/// The checkpoint verifier key.
#[derive(Serialize, ToSchema)]
pub struct BooksKey {
    name: String,
    vkey: String,
    algorithm: String,
}

/// Every account of a compound's books with its balance.
#[derive(Serialize, ToSchema)]
pub struct Accounts {
    compound: String,
    name: String,
    log_size: i64,
    accounts: Vec<AccountView>,
}

/// Transfers in log order, under the log's origin.
#[derive(Serialize, ToSchema)]
pub struct Transfers {
    origin: String,
    transfers: Vec<Transfer>,
}

/// Entries (transfers and records) in log order, under the log's origin.
#[derive(Serialize, ToSchema)]
pub struct Entries {
    origin: String,
    entries: Vec<LogEntry>,
}

/// Leaf hashes (hex) from position `from`.
#[derive(Serialize, ToSchema)]
pub struct Leaves {
    from: i64,
    leaves: Vec<String>,
}

/// An inclusion proof (hashes in hex).
#[derive(Serialize, ToSchema)]
pub struct InclusionProof {
    index: u64,
    size: u64,
    leaf: String,
    root: String,
    proof: Vec<String>,
}

/// A consistency proof (hashes in hex).
#[derive(Serialize, ToSchema)]
pub struct ConsistencyProof {
    old: u64,
    new: u64,
    proof: Vec<String>,
}

/// Every account with a balance, in fen. `posted` is the balance on the
/// account's normal side; `available` is posted less reserved.
#[utoipa::path(get, path = "/api/v1/public/compounds/{code}/books/accounts", tag = "public", params(("code" = String, Path, description = "compound code")), responses((status = 200, description = "accounts", body = Accounts), (status = 404, description = "no such compound")))]
async fn public_accounts(
    State(state): State<AppState>,
    Path(code): Path<String>,
) -> Result<Json<Accounts>, ApiError> {
    let c = compound(&state, &code).await?;
    let b = fund::books(&state.db, &c.id).await?;
    Ok(Json(Accounts {
        compound: code_of(&c),
        log_size: b.log_size,
        accounts: fund::accounts(&state.db, &c.id).await?,
        name: c.name,
    }))
}

#[derive(Deserialize, IntoParams)]
pub struct RangeQuery {
    /// First log position (default 0).
    from: Option<i64>,
    /// At most this many (default 1000, at most 10000).
    limit: Option<i64>,
}

async fn range_start(
    state: &AppState,
    code: &str,
    q: &RangeQuery,
) -> Result<(Place, i64), ApiError> {
    let c = compound(state, code).await?;
    let from = q.from.unwrap_or(0);
    if from < 0 {
        return Err(ApiError::field("from", "must be 0 or more"));
    }
    Ok((c, from))
}

/// The transfers of the books in log order (each the content of the leaf at
/// position `seq`; the positions between them hold the records served by
/// `entries`).
#[utoipa::path(get, path = "/api/v1/public/compounds/{code}/books/transfers", tag = "public", params(("code" = String, Path, description = "compound code"), RangeQuery), responses((status = 200, description = "transfers", body = Transfers)))]
async fn public_transfers(
    State(state): State<AppState>,
    Path(code): Path<String>,
    Query(q): Query<RangeQuery>,
) -> Result<Json<Transfers>, ApiError> {
    let (c, from) = range_start(&state, &code, &q).await?;
    let transfers = fund::transfers(&state.db, &c.id, from, q.limit.unwrap_or(1000)).await?;
    Ok(Json(Transfers {
        origin: fund::origin(&code_of(&c)),
        transfers,
    }))
}

/// Every entry of the log in order: transfers (`"entry": "transfer"`) and
/// typed records (`"entry": "record"`: disbursement requests, approvals,
/// voids, budgets, billing runs, publications, matter steps, audit
/// reports). Each is the content of the leaf at position `seq`; positions
/// are dense. `gongzhi verify` recomputes every leaf from these.
#[utoipa::path(get, path = "/api/v1/public/compounds/{code}/books/entries", tag = "public", params(("code" = String, Path, description = "compound code"), RangeQuery), responses((status = 200, description = "entries", body = Entries)))]
async fn public_entries(
    State(state): State<AppState>,
    Path(code): Path<String>,
    Query(q): Query<RangeQuery>,
) -> Result<Json<Entries>, ApiError> {
    let (c, from) = range_start(&state, &code, &q).await?;
    let entries = fund::entries(&state.db, &c.id, from, q.limit.unwrap_or(1000)).await?;
    Ok(Json(Entries {
        origin: fund::origin(&code_of(&c)),
        entries,
    }))
}

/// The signed checkpoint (C2SP tlog-checkpoint in a signed note) of the
/// compound's log at its current size.
#[utoipa::path(get, path = "/api/v1/public/compounds/{code}/books/checkpoint", tag = "public", params(("code" = String, Path, description = "compound code")), responses((status = 200, description = "text/plain signed note", body = String, content_type = "text/plain")))]
async fn public_checkpoint(
    State(state): State<AppState>,
    Path(code): Path<String>,
) -> Result<Response, ApiError> {
    let c = compound(&state, &code).await?;
    let (_, note) = tlog::checkpoint(&state.db, &state.books_key, &c.id, &code_of(&c)).await?;
    Ok(([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], note).into_response())
}

/// Leaf hashes (hex) of the log, `from` .. `from+limit`.
#[utoipa::path(get, path = "/api/v1/public/compounds/{code}/books/leaves", tag = "public", params(("code" = String, Path, description = "compound code"), RangeQuery), responses((status = 200, description = "leaf hashes", body = Leaves)))]
async fn public_leaves(
    State(state): State<AppState>,
    Path(code): Path<String>,
    Query(q): Query<RangeQuery>,
) -> Result<Json<Leaves>, ApiError> {
    let c = compound(&state, &code).await?;
    let from = q.from.unwrap_or(0).max(0);
    let limit = q.limit.unwrap_or(1000).clamp(1, 10_000);
    let l = tlog::leaves(&state.db, &c.id, from, from.saturating_add(limit)).await?;
    Ok(Json(Leaves {
        from,
        leaves: l.iter().map(merkle::hex).collect(),
    }))
}

#[derive(Deserialize, IntoParams)]
pub struct InclusionQuery {
    index: u64,
    size: u64,
}

async fn checked_size(state: &AppState, c: &Place, size: u64, field: &str) -> Result<(), ApiError> {
    let n = tlog::size(&state.db, &c.id).await?;
    if size == 0 || size > n as u64 {
        return Err(ApiError::field(
            field,
            format!("must be between 1 and the log size {n}"),
        ));
    }
    Ok(())
}

/// Inclusion proof of leaf `index` in the tree of `size` leaves.
#[utoipa::path(get, path = "/api/v1/public/compounds/{code}/books/proof/inclusion", tag = "public", params(("code" = String, Path, description = "compound code"), InclusionQuery), responses((status = 200, description = "proof", body = InclusionProof)))]
async fn inclusion_proof(
    State(state): State<AppState>,
    Path(code): Path<String>,
    Query(q): Query<InclusionQuery>,
) -> Result<Json<InclusionProof>, ApiError> {
    let c = compound(&state, &code).await?;
    checked_size(&state, &c, q.size, "size").await?;
    if q.index >= q.size {
        return Err(ApiError::field("index", "must be below size"));
    }
    let (leaf, p, root) = tlog::inclusion(&state.db, &c.id, q.index, q.size).await?;
    Ok(Json(InclusionProof {
        index: q.index,
        size: q.size,
        leaf: merkle::hex(&leaf),
        root: merkle::hex(&root),
        proof: p.iter().map(merkle::hex).collect(),
    }))
}

#[derive(Deserialize, IntoParams)]
pub struct ConsistencyQuery {
    old: u64,
    new: u64,
}

/// Consistency proof from the tree of `old` leaves to that of `new`.
#[utoipa::path(get, path = "/api/v1/public/compounds/{code}/books/proof/consistency", tag = "public", params(("code" = String, Path, description = "compound code"), ConsistencyQuery), responses((status = 200, description = "proof", body = ConsistencyProof)))]
async fn consistency_proof(
    State(state): State<AppState>,
    Path(code): Path<String>,
    Query(q): Query<ConsistencyQuery>,
) -> Result<Json<ConsistencyProof>, ApiError> {
    let c = compound(&state, &code).await?;
    checked_size(&state, &c, q.new, "new").await?;
    if q.old > q.new {
        return Err(ApiError::field("old", "must be at most new"));
    }
    let p = tlog::consistency(&state.db, &c.id, q.old, q.new).await?;
    Ok(Json(ConsistencyProof {
        old: q.old,
        new: q.new,
        proof: p.iter().map(merkle::hex).collect(),
    }))
}

/// Disbursements with their state and the roles that approved them (no
/// personal data).
#[utoipa::path(get, path = "/api/v1/public/compounds/{code}/books/disbursements", tag = "public", params(("code" = String, Path, description = "compound code")), responses((status = 200, description = "disbursements", body = PublicDisbursements)))]
async fn public_disbursements(
    State(state): State<AppState>,
    Path(code): Path<String>,
) -> Result<Json<PublicDisbursements>, ApiError> {
    let c = compound(&state, &code).await?;
    let ds = fund::disbursements(&state.db, &c.id, 1000).await?;
    let disbursements = ds
        .into_iter()
        .map(|d| PublicDisbursement {
            amount_yuan: Fen(d.amount).to_string(),
            id: d.id,
            purpose: d.purpose,
            payee: d.payee,
            amount: d.amount,
            category: d.category,
            source: d.source,
            documents: d.documents,
            link: d.link,
            vote_id: d.vote_id,
            state: d.state,
            first_role: d.first_role,
            second_role: d.second_role,
            pending_transfer_id: d.pending_transfer_id,
            final_transfer_id: d.final_transfer_id,
            created_at: d.created_at,
            updated_at: d.updated_at,
            emergency: d.emergency,
        })
        .collect();
    Ok(Json(PublicDisbursements { disbursements }))
}

/// A disbursement as the public sees it: the roles that approved it, not who.
#[derive(Serialize, ToSchema)]
pub struct PublicDisbursement {
    id: String,
    purpose: String,
    payee: String,
    amount: i64,
    amount_yuan: String,
    category: AccountCode,
    source: AccountCode,
    documents: Vec<String>,
    link: Option<String>,
    vote_id: Option<String>,
    state: gongzhi_domain::ledger::DisbursementState,
    first_role: Option<String>,
    second_role: Option<String>,
    pending_transfer_id: Option<String>,
    final_transfer_id: Option<String>,
    created_at: i64,
    updated_at: i64,
    emergency: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct PublicDisbursements {
    disbursements: Vec<PublicDisbursement>,
}

// ---------------------------------------------------------------------------
// Money-moving requests
// ---------------------------------------------------------------------------

pub(crate) fn idem(
    headers: &HeaderMap,
    what: &str,
    body: &impl Serialize,
) -> Result<Idem, ApiError> {
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| {
            ApiError::field(
                "Idempotency-Key",
                "header is required on money-moving requests",
            )
        })?;
    let canon = serde_json::to_string(&json!({"what": what, "body": body})).expect("serialisable");
    let hash = hex::encode(sha2::Sha256::digest(canon.as_bytes()));
    Ok(Idem::new(key, hash)?)
}

fn answer<T: Serialize>(o: Outcome<T>) -> Response {
    let status = if o.replayed {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    let mut r = (status, Json(o.value)).into_response();
    if o.replayed {
        r.headers_mut().insert(
            "idempotent-replayed",
            header::HeaderValue::from_static("true"),
        );
    }
    r
}

fn account(field: &str, v: &str) -> Result<AccountCode, ApiError> {
    AccountCode::parse(v).ok_or_else(|| {
        ApiError::field(
            field,
            format!(
                "unknown account '{v}' (expected {})",
                AccountCode::choices()
            ),
        )
    })
}

fn amount(v: &str) -> Result<i64, ApiError> {
    let f = Fen::parse(v).map_err(|e| ApiError::field("amount", e.to_string()))?;
    if f.0 <= 0 {
        return Err(ApiError::field("amount", "must be greater than zero"));
    }
    Ok(f.0)
}

#[derive(Deserialize, Serialize, ToSchema)]
pub struct TransferBody {
    /// Account debited (e.g. `bank` for money coming in).
    debit: String,
    /// Account credited (e.g. `fee_income`).
    credit: String,
    /// Yuan with at most two decimals, e.g. "288.00".
    amount: String,
    /// What the money is for: fee, revenue, interest, opening, correction…
    code: String,
    #[serde(default)]
    memo: String,
    link: Option<String>,
    vote_id: Option<String>,
}

/// Records money coming in (fees received, revenue, bank interest,
/// subsidies, a gateway's settlement from `gateway_clearing`, a refund), or
/// the exact reversal of such an inflow (`code` "reversal", `link`
/// "reverses:<transfer id>", once). Money never leaves this way: spending is
/// a disbursement approved by two people (or the emergency procedure).
/// Needs `Idempotency-Key`.
#[utoipa::path(post, path = "/api/v1/compounds/{code}/books/transfers", tag = "books", request_body = TransferBody, params(("code" = String, Path, description = "compound code")), responses((status = 201, description = "recorded", body = fund::Recorded), (status = 200, description = "replayed", body = fund::Recorded), (status = 409, description = "key reused with another body"), (status = 422, description = "refused; names the field")))]
async fn record_transfer(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(code): Path<String>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<TransferBody>,
) -> Result<Response, ApiError> {
    let c = compound(&state, &code).await?;
    check_place(&user, &c, Action::RecordTransfer)?;
    let idem = idem(&headers, "transfer", &body)?;
    let code_s = body.code.trim().to_string();
    if code_s.is_empty() || code_s.len() > 40 {
        return Err(ApiError::field("code", "must be 1 to 40 characters"));
    }
    let t = NewTransfer {
        kind: TransferKind::Posted,
        debit: account("debit", &body.debit)?,
        credit: account("credit", &body.credit)?,
        amount: amount(&body.amount)?,
        code: code_s,
        memo: body.memo.trim().to_string(),
        pending_id: None,
        link: body.link.clone().filter(|s| !s.trim().is_empty()),
        vote_id: body.vote_id.clone().filter(|s| !s.trim().is_empty()),
        by_user: user.user_id.clone(),
        by_role: acting_role(&user, &c, Action::RecordTransfer),
        timeout_at: None,
    };
    Ok(answer(fund::record_transfer(&state.db, &c, idem, t).await?))
}

#[derive(Deserialize, Serialize, ToSchema)]
pub struct DisbursementBody {
    purpose: String,
    payee: String,
    /// Yuan with at most two decimals.
    amount: String,
    /// Expense account, e.g. `expense_repair`.
    category: String,
    /// `bank` (default), `maintenance_interest` or `maintenance_principal`.
    #[serde(default)]
    source: Option<String>,
    #[serde(default)]
    documents: Vec<String>,
    link: Option<String>,
    vote_id: Option<String>,
    /// A declared emergency (elevator_stopped, facade_risk, leak,
    /// fire_safety, structural_risk, pipe_burst): maintenance-fund spending
    /// without a vote, approved by the compound's emergency roles, published
    /// at once.
    #[serde(default)]
    emergency: Option<String>,
}

/// Requests a disbursement. Needs `Idempotency-Key`.
#[utoipa::path(post, path = "/api/v1/compounds/{code}/books/disbursements", tag = "books", request_body = DisbursementBody, params(("code" = String, Path, description = "compound code")), responses((status = 201, description = "requested", body = fund::Requested)))]
async fn request_disbursement(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(code): Path<String>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<DisbursementBody>,
) -> Result<Response, ApiError> {
    let c = compound(&state, &code).await?;
    check_place(&user, &c, Action::ApproveDisbursement)?;
    let idem = idem(&headers, "disbursement", &body)?;
    let d = NewDisbursement {
        purpose: body.purpose.clone(),
        payee: body.payee.clone(),
        amount: amount(&body.amount)?,
        category: account("category", &body.category)?,
        source: account("source", body.source.as_deref().unwrap_or("bank"))?,
        documents: body.documents.clone(),
        link: body.link.clone().filter(|s| !s.trim().is_empty()),
        vote_id: body.vote_id.clone().filter(|s| !s.trim().is_empty()),
    };
    let o = fund::request_declared(
        &state.db,
        &user.user_id,
        &c,
        idem,
        d,
        body.emergency.as_deref(),
    )
    .await?;
    Ok(answer(o))
}

/// Approves a disbursement: the first approval reserves the funds, the
/// second (a different person in the other required role) posts it.
/// Needs `Idempotency-Key`.
#[utoipa::path(post, path = "/api/v1/compounds/{code}/books/disbursements/{id}/approve", tag = "books", params(("code" = String, Path, description = "compound code"), ("id" = String, Path, description = "disbursement id")), responses((status = 201, description = "approved", body = fund::Moved), (status = 409, description = "same person, already posted, or expired")))]
async fn approve_disbursement(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((code, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let c = compound(&state, &code).await?;
    check_place(&user, &c, Action::ApproveDisbursement)?;
    let idem = idem(&headers, &format!("approve:{id}"), &())?;
    let held = policy::roles_over(&user.actor, &c.path_ids());
    let o = fund::approve(&state.db, &user.user_id, &held, &c, &id, idem).await?;
    if o.value.is_expired() {
        return Err(ApiError::new(StatusCode::CONFLICT, "Conflict", format!("disbursement '{id}' expired before the second approval; its reservation was released")));
    }
    Ok(answer(o))
}

#[derive(Deserialize, Serialize, ToSchema)]
pub struct VoidBody {
    reason: String,
}

/// Voids a requested or pending disbursement. Needs `Idempotency-Key`.
#[utoipa::path(post, path = "/api/v1/compounds/{code}/books/disbursements/{id}/void", tag = "books", request_body = VoidBody, params(("code" = String, Path, description = "compound code"), ("id" = String, Path, description = "disbursement id")), responses((status = 201, description = "voided", body = fund::Moved)))]
async fn void_disbursement(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((code, id)): Path<(String, String)>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<VoidBody>,
) -> Result<Response, ApiError> {
    let c = compound(&state, &code).await?;
    check_place(&user, &c, Action::ApproveDisbursement)?;
    let idem = idem(&headers, &format!("void:{id}"), &body)?;
    let role = acting_role(&user, &c, Action::ApproveDisbursement);
    Ok(answer(
        fund::void(&state.db, &user.user_id, &role, &c, &id, &body.reason, idem).await?,
    ))
}

#[derive(Deserialize, ToSchema)]
pub struct PolicyBody {
    /// The two roles whose holders must approve, e.g. ["committee_member", "supervisor"].
    approver_roles: Vec<String>,
    /// How long a first approval's reservation lasts, in hours.
    pending_timeout_hours: Option<i64>,
}

/// Sets the compound's two approver roles (needs access management over it).
#[utoipa::path(put, path = "/api/v1/compounds/{code}/books/policy", tag = "books", request_body = PolicyBody, params(("code" = String, Path, description = "compound code")), responses((status = 200, description = "set", body = BooksOf)))]
async fn set_policy(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(code): Path<String>,
    ApiJson(body): ApiJson<PolicyBody>,
) -> Result<Json<BooksOf>, ApiError> {
    let c = compound(&state, &code).await?;
    check_place(&user, &c, Action::ManageAccess)?;
    if body.approver_roles.len() != 2 {
        return Err(ApiError::field("approver_roles", "name exactly two roles"));
    }
    let r = |i: usize| {
        Role::parse(&body.approver_roles[i]).ok_or_else(|| {
            ApiError::field(
                format!("approver_roles[{i}]"),
                format!("unknown role (expected {})", Role::choices()),
            )
        })
    };
    let p = ApprovalPolicy::new(r(0)?, r(1)?)
        .map_err(|e| ApiError::field("approver_roles", e.to_string()))?;
    let hours = body
        .pending_timeout_hours
        .unwrap_or(fund::DEFAULT_PENDING_TIMEOUT_MS / 3_600_000);
    if !(1..=8760).contains(&hours) {
        return Err(ApiError::field(
            "pending_timeout_hours",
            "must be between 1 and 8760",
        ));
    }
    let b = fund::set_policy(&state.db, &user.audit_name(), &c, p, hours * 3_600_000).await?;
    Ok(Json(BooksOf { books: b }))
}

/// A compound's books settings (approver roles, reservation timeout,
/// remuneration, emergency roles) and its log size.
#[derive(Serialize, ToSchema)]
pub struct BooksOf {
    #[schema(value_type = Object)]
    books: fund::Books,
}

#[derive(Deserialize, Serialize, ToSchema)]
pub struct BillingBody {
    /// YYYY-MM
    period: String,
    /// Yuan per m² for flats, shops and parking spaces, e.g. "1.50".
    rate_flat: String,
    rate_shop: String,
    rate_parking: String,
}

fn rate(field: &str, v: &str) -> Result<i64, ApiError> {
    let f = Fen::parse(v).map_err(|e| ApiError::field(field, e.to_string()))?;
    if f.0 < 0 {
        return Err(ApiError::field(field, "must not be negative"));
    }
    Ok(f.0)
}

/// Bills every part of the compound for a period by area × rate; books the
/// fees as owners' receivables. Needs `Idempotency-Key`.
#[utoipa::path(post, path = "/api/v1/compounds/{code}/books/billing-runs", tag = "books", request_body = BillingBody, params(("code" = String, Path, description = "compound code")), responses((status = 201, description = "billed", body = BillingRun), (status = 409, description = "period already billed")))]
async fn billing_run(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(code): Path<String>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<BillingBody>,
) -> Result<Response, ApiError> {
    let c = compound(&state, &code).await?;
    check_place(&user, &c, Action::RecordTransfer)?;
    let idem = idem(&headers, "billing", &body)?;
    let rates = gongzhi_store::billing::Rates {
        flat: rate("rate_flat", &body.rate_flat)?,
        shop: rate("rate_shop", &body.rate_shop)?,
        parking: rate("rate_parking", &body.rate_parking)?,
    };
    let role = acting_role(&user, &c, Action::RecordTransfer);
    Ok(answer(
        gongzhi_store::billing::bill_run(
            &state.db,
            &user.user_id,
            &role,
            &c,
            body.period.trim(),
            rates,
            idem,
        )
        .await?,
    ))
}

#[derive(Deserialize, Serialize, ToSchema)]
pub struct PaymentBody {
    amount: String,
    /// cash, bank_transfer or online
    method: String,
}

/// Records a payment against a bill. Needs `Idempotency-Key`.
#[utoipa::path(post, path = "/api/v1/compounds/{code}/books/bills/{id}/payments", tag = "books", request_body = PaymentBody, params(("code" = String, Path, description = "compound code"), ("id" = String, Path, description = "bill id")), responses((status = 201, description = "recorded", body = Payment)))]
async fn record_payment(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((code, id)): Path<(String, String)>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<PaymentBody>,
) -> Result<Response, ApiError> {
    let c = compound(&state, &code).await?;
    check_place(&user, &c, Action::RecordTransfer)?;
    let idem = idem(&headers, &format!("payment:{id}"), &body)?;
    let role = acting_role(&user, &c, Action::RecordTransfer);
    Ok(answer(
        gongzhi_store::billing::record_payment(
            &state.db,
            &user.user_id,
            &role,
            &c,
            &id,
            amount(&body.amount)?,
            body.method.trim(),
            idem,
        )
        .await?,
    ))
}

/// Billed, paid, bills in arrears and the collection rate of a period
/// (aggregate, public).
#[utoipa::path(get, path = "/api/v1/public/compounds/{code}/books/collection/{period}", tag = "public", params(("code" = String, Path, description = "compound code"), ("period" = String, Path, description = "YYYY-MM")), responses((status = 200, description = "collection", body = CollectionOf)))]
async fn collection(
    State(state): State<AppState>,
    Path((code, period)): Path<(String, String)>,
) -> Result<Json<CollectionOf>, ApiError> {
    let c = compound(&state, &code).await?;
    if !gongzhi_domain::fund_calc::valid_period(&period) {
        return Err(ApiError::field("period", "must be YYYY-MM"));
    }
    let collection = gongzhi_store::billing::collection(&state.db, &c.id, &period).await?;
    Ok(Json(CollectionOf { collection }))
}

#[derive(Serialize, ToSchema)]
pub struct CollectionOf {
    collection: gongzhi_store::billing::Collection,
}

#[derive(Deserialize, Serialize, ToSchema)]
pub struct DividendBody {
    /// Yuan to distribute, e.g. "300000.00".
    amount: String,
    /// The public-revenue account it comes from, e.g. `revenue_advertising`.
    source: String,
    /// Credit each owner's share against their open fee bills first.
    #[serde(default)]
    credit_fees: bool,
}

/// Declares a dividend shared by area among every part (largest remainder),
/// with a statement line per part. Committee (approver) roles. Needs
/// `Idempotency-Key`.
#[utoipa::path(post, path = "/api/v1/compounds/{code}/books/dividends", tag = "books", request_body = DividendBody, params(("code" = String, Path, description = "compound code")), responses((status = 201, description = "declared", body = DividendRun)))]
async fn declare_dividend(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(code): Path<String>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<DividendBody>,
) -> Result<Response, ApiError> {
    let c = compound(&state, &code).await?;
    check_place(&user, &c, Action::ApproveDisbursement)?;
    let idem = idem(&headers, "dividend", &body)?;
    let role = acting_role(&user, &c, Action::ApproveDisbursement);
    let source = account("source", &body.source)?;
    Ok(answer(
        gongzhi_store::billing::dividend_run_with(
            &state.db,
            &user.user_id,
            &role,
            &c,
            amount(&body.amount)?,
            source,
            body.credit_fees,
            idem,
        )
        .await?,
    ))
}

/// The caller's dividend statement and bills (as the owner of record).
#[utoipa::path(get, path = "/api/v1/me/books", tag = "books", responses((status = 200, description = "my dividends and bills", body = MyBooks)))]
async fn my_dividends(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Json<MyBooks>, ApiError> {
    let mut dividends = Vec::new();
    let mut bills = Vec::new();
    for o in gongzhi_store::auth::owners_of_user(&state.db, &user.user_id).await? {
        for l in gongzhi_store::billing::dividend_statement(&state.db, &o).await? {
            dividends.push(MyDividend {
                part: l.number,
                area_m2: gongzhi_domain::money::Area(l.area_centi).to_string(),
                amount: Fen(l.amount).to_string(),
                credited_to_fees: Fen(l.credited).to_string(),
                run_id: l.run_id,
                transfer_id: l.transfer_id,
            });
        }
        for b in gongzhi_store::billing::bills_of_owner(&state.db, &o).await? {
            bills.push(MyBill {
                outstanding: Fen(b.amount - b.paid - b.waived).to_string(),
                amount: Fen(b.amount).to_string(),
                paid: Fen(b.paid).to_string(),
                waived: Fen(b.waived).to_string(),
                id: b.id,
                period: b.period,
            });
        }
    }
    Ok(Json(MyBooks { dividends, bills }))
}

/// One part's share of a dividend (yuan as text).
#[derive(Serialize, ToSchema)]
pub struct MyDividend {
    part: String,
    area_m2: String,
    amount: String,
    credited_to_fees: String,
    run_id: String,
    transfer_id: String,
}

/// One fee bill (yuan as text).
#[derive(Serialize, ToSchema)]
pub struct MyBill {
    id: String,
    period: String,
    amount: String,
    paid: String,
    waived: String,
    outstanding: String,
}

/// The caller's dividend statement and bills.
#[derive(Serialize, ToSchema)]
pub struct MyBooks {
    dividends: Vec<MyDividend>,
    bills: Vec<MyBill>,
}

// ---------------------------------------------------------------------------
// Budgets
// ---------------------------------------------------------------------------

#[derive(Deserialize, Serialize, ToSchema)]
pub struct BudgetLineBody {
    /// An expense category, e.g. `expense_cleaning`.
    category: String,
    /// Yuan with at most two decimals.
    amount: String,
}

#[derive(Deserialize, Serialize, ToSchema)]
pub struct BudgetBody {
    year: i32,
    /// The passed, closed vote of the whole compound that adopted it.
    vote_id: String,
    lines: Vec<BudgetLineBody>,
}

/// Adopts the compound's annual budget by category, by a passed vote of
/// the whole compound (checked: exists, closed, passed, this compound). A
/// leaf of the books log. Needs `Idempotency-Key`.
#[utoipa::path(post, path = "/api/v1/compounds/{code}/books/budgets", tag = "books", request_body = BudgetBody, params(("code" = String, Path, description = "compound code")), responses((status = 201, description = "adopted", body = gongzhi_store::budget::Adopted), (status = 422, description = "refused; names the field")))]
async fn adopt_budget(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(code): Path<String>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<BudgetBody>,
) -> Result<Response, ApiError> {
    let c = compound(&state, &code).await?;
    check_place(&user, &c, Action::AdoptBudget)?;
    let idem = idem(&headers, "budget", &body)?;
    let mut lines = Vec::new();
    for (i, l) in body.lines.iter().enumerate() {
        let category = account(&format!("lines[{i}].category"), &l.category)?;
        let amount = Fen::parse(&l.amount)
            .map_err(|e| ApiError::field(format!("lines[{i}].amount"), e.to_string()))?
            .0;
        lines.push(gongzhi_domain::book_entries::BudgetLine { category, amount });
    }
    let role = acting_role(&user, &c, Action::AdoptBudget);
    Ok(answer(
        gongzhi_store::budget::adopt(
            &state.db,
            &user.user_id,
            &role,
            &c,
            body.year,
            &body.vote_id,
            lines,
            idem,
        )
        .await?,
    ))
}

#[derive(Deserialize, IntoParams)]
pub struct YearQuery {
    /// Calendar year (China time); default: the current year.
    year: Option<i32>,
}

/// The current year's (or `year`'s) budget by category against the
/// spending posted in that year, in fen (public aggregate).
#[utoipa::path(get, path = "/api/v1/public/compounds/{code}/books/budget", tag = "public", params(("code" = String, Path, description = "compound code"), YearQuery), responses((status = 200, description = "budget vs actual", body = BudgetOf)))]
async fn public_budget(
    State(state): State<AppState>,
    Path(code): Path<String>,
    Query(q): Query<YearQuery>,
) -> Result<Json<BudgetOf>, ApiError> {
    let c = compound(&state, &code).await?;
    let year = q
        .year
        .unwrap_or_else(|| gongzhi_domain::fund_calc::year_of_ms(gongzhi_store::db::now_ms()));
    let budget = gongzhi_store::budget::report(&state.db, &c.id, year).await?;
    Ok(Json(BudgetOf { budget }))
}

/// A year's budget against actual spending, by category.
#[derive(Serialize, ToSchema)]
pub struct BudgetOf {
    #[schema(value_type = Object)]
    budget: gongzhi_store::budget::Report,
}

// ---------------------------------------------------------------------------
// Remuneration and emergency approvers
// ---------------------------------------------------------------------------

#[derive(Deserialize, Serialize, ToSchema)]
pub struct SettingsBody {
    /// none, trust (酬金制) or lump_sum (包干制)
    remuneration_mode: String,
    /// Trust model: percent of each period's fee income, e.g. "12.00".
    #[serde(default)]
    remuneration_percent: Option<String>,
    /// Lump sum: yuan per period.
    #[serde(default)]
    lump_sum: Option<String>,
    /// The two roles that approve an emergency use, e.g. ["committee_member", "steward"].
    #[serde(default)]
    emergency_roles: Option<Vec<String>>,
}

/// Sets how the steward is paid (trust model or lump sum) and who approves
/// an emergency use of the maintenance fund.
#[utoipa::path(put, path = "/api/v1/compounds/{code}/books/settings", tag = "books", request_body = SettingsBody, params(("code" = String, Path, description = "compound code")), responses((status = 200, description = "set", body = SettingsOf), (status = 422, description = "refused; names the field")))]
async fn set_settings(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(code): Path<String>,
    ApiJson(body): ApiJson<SettingsBody>,
) -> Result<Json<SettingsOf>, ApiError> {
    let c = compound(&state, &code).await?;
    check_place(&user, &c, Action::AdoptBudget)?;
    let cur = fund::books(&state.db, &c.id).await?;
    let fen = |field: &str, v: &Option<String>, default: i64| -> Result<i64, ApiError> {
        match v {
            None => Ok(default),
            Some(v) => Ok(Fen::parse(v)
                .map_err(|e| ApiError::field(field, e.to_string()))?
                .0),
        }
    };
    let emergency_roles = match &body.emergency_roles {
        None => cur.emergency_roles,
        Some(r) if r.len() == 2 => {
            let p = |i: usize| {
                Role::parse(&r[i]).ok_or_else(|| {
                    ApiError::field(
                        format!("emergency_roles[{i}]"),
                        format!("unknown role (expected {})", Role::choices()),
                    )
                })
            };
            [p(0)?, p(1)?]
        }
        Some(_) => return Err(ApiError::field("emergency_roles", "name exactly two roles")),
    };
    let s = gongzhi_store::stewardship::Settings {
        remuneration_mode: body.remuneration_mode.trim().to_string(),
        remuneration_bp: fen(
            "remuneration_percent",
            &body.remuneration_percent,
            cur.remuneration_bp,
        )?,
        lump_sum_fen: fen("lump_sum", &body.lump_sum, cur.lump_sum_fen)?,
        emergency_roles,
    };
    let s = gongzhi_store::stewardship::set(&state.db, &user.audit_name(), &c, s).await?;
    Ok(Json(SettingsOf { settings: s }))
}

/// The steward's remuneration and the emergency approvers as now set.
#[derive(Serialize, ToSchema)]
pub struct SettingsOf {
    #[schema(value_type = Object)]
    settings: gongzhi_store::stewardship::Settings,
}

/// Accrues the steward's remuneration of a billed period (done by the
/// billing run itself when a mode is set; this catches up a period billed
/// before). Idempotent per period.
#[utoipa::path(post, path = "/api/v1/compounds/{code}/books/remuneration/{period}", tag = "books", params(("code" = String, Path, description = "compound code"), ("period" = String, Path, description = "YYYY-MM")), responses((status = 201, description = "accrued", body = Accrued), (status = 200, description = "already accrued", body = Accrued)))]
async fn accrue_remuneration(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((code, period)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let c = compound(&state, &code).await?;
    check_place(&user, &c, Action::RecordTransfer)?;
    let role = acting_role(&user, &c, Action::RecordTransfer);
    let r =
        gongzhi_store::stewardship::accrue(&state.db, &user.user_id, &role, &c, &period).await?;
    let status = if r.already {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, Json(Accrued { remuneration: r })).into_response())
}

/// A period's remuneration, accrued now or before.
#[derive(Serialize, ToSchema)]
pub struct Accrued {
    remuneration: Remuneration,
}

// ---------------------------------------------------------------------------
// Online payments (sandbox gateway) and hardship waivers
// ---------------------------------------------------------------------------

/// The sandbox gateway of this server (its key derives from the server's
/// books key, which never enters the database).
pub fn sandbox(state: &AppState) -> gongzhi_store::payments::SandboxGateway {
    gongzhi_store::payments::SandboxGateway::from_secret(&state.books_key.to_bytes())
}

/// The server's payment gateway, if it has one. Only the sandbox ships, and
/// only where it is switched on (demo, tests); elsewhere online payment is
/// unavailable and the sandbox's endpoints do not exist.
fn gateway(state: &AppState) -> Result<gongzhi_store::payments::SandboxGateway, ApiError> {
    sandbox_or(state, || {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "No payment gateway",
            "online payment is not available on this server (no payment gateway is configured); pay at the steward's office",
        )
    })
}

/// The sandbox's own endpoints: absent (404) unless it is switched on.
fn sandbox_on(state: &AppState) -> Result<gongzhi_store::payments::SandboxGateway, ApiError> {
    sandbox_or(state, || {
        ApiError::not_found("no such endpoint under /api/v1")
    })
}

fn sandbox_or(
    state: &AppState,
    absent: impl FnOnce() -> ApiError,
) -> Result<gongzhi_store::payments::SandboxGateway, ApiError> {
    if state.sandbox_payments {
        Ok(sandbox(state))
    } else {
        Err(absent())
    }
}

#[derive(Deserialize, Serialize, ToSchema)]
pub struct IntentBody {
    /// Yuan; default: everything outstanding.
    #[serde(default)]
    amount: Option<String>,
}

/// Starts an online payment of a bill (the bill's owner, or staff who
/// record payments): answers the intent and where to pay. The gateway's
/// signed callback confirms it. Needs `Idempotency-Key`.
#[utoipa::path(post, path = "/api/v1/compounds/{code}/books/bills/{id}/intents", tag = "books", request_body = IntentBody, params(("code" = String, Path, description = "compound code"), ("id" = String, Path, description = "bill id")), responses((status = 201, description = "intent created", body = gongzhi_store::payments::Checkout)))]
async fn create_intent(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((code, id)): Path<(String, String)>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<IntentBody>,
) -> Result<Response, ApiError> {
    let c = compound(&state, &code).await?;
    let owner = gongzhi_store::billing::bill_owner(&state.db, &c.id, &id).await?;
    let mine = gongzhi_store::auth::owners_of_user(&state.db, &user.user_id)
        .await?
        .contains(&owner);
    if !mine {
        check_place(&user, &c, Action::RecordTransfer)?;
    }
    let idem = idem(&headers, &format!("intent:{id}"), &body)?;
    let amount = match &body.amount {
        Some(a) => Some(amount(a)?),
        None => None,
    };
    let gw = gateway(&state)?;
    Ok(answer(
        gongzhi_store::payments::create_intent(
            &state.db,
            &user.user_id,
            &c,
            &id,
            amount,
            &gw,
            idem,
        )
        .await?,
    ))
}

/// The sandbox gateway's callback (public: the gateway calls it). The body
/// is the callback JSON, `Gongzhi-Signature` its hex Ed25519 signature. A
/// forged, stale or replayed callback is refused; a second confirmation of
/// a paid intent posts nothing.
#[utoipa::path(post, path = "/api/v1/payments/sandbox/callback", tag = "public", request_body(content = Vec<u8>, content_type = "application/json", description = "the callback as the gateway signed it"), responses((status = 200, description = "confirmed", body = Confirmation), (status = 409, description = "replayed"), (status = 422, description = "forged or stale")))]
async fn sandbox_callback(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Json<Confirmation>, ApiError> {
    let gw = sandbox_on(&state)?;
    let sig = headers
        .get("gongzhi-signature")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| ApiError::field("Gongzhi-Signature", "header is required"))?;
    let v =
        gongzhi_store::payments::confirm(&state.db, &gw, &body, sig, gongzhi_store::db::now_ms())
            .await?;
    Ok(Json(v))
}

/// Sandbox only (demo and tests; absent from a default server): the payer
/// of an intent pays it as a real gateway would, by its signed callback
/// (answers the confirmation, and the callback it sent). The money lands in
/// `gateway_clearing` until the gateway's settlement is recorded.
#[utoipa::path(post, path = "/api/v1/payments/sandbox/pay/{id}", tag = "books", params(("id" = String, Path, description = "intent id")), responses((status = 200, description = "paid", body = SandboxPaid), (status = 404, description = "no sandbox on this server, or not the caller's intent")))]
async fn sandbox_pay(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<SandboxPaid>, ApiError> {
    let gw = sandbox_on(&state)?;
    let amount =
        gongzhi_store::payments::payer_intent_amount(&state.db, &id, &user.user_id).await?;
    let cb = gongzhi_store::payments::Callback {
        event_id: gongzhi_store::db::new_id(),
        intent_id: id,
        amount,
        status: "paid".into(),
        at: gongzhi_store::db::now_ms(),
    };
    let (body, sig) = gw.callback(&cb);
    let v = gongzhi_store::payments::confirm(&state.db, &gw, &body, &sig, cb.at).await?;
    Ok(Json(SandboxPaid {
        confirmation: v,
        callback: SignedCallback {
            body: String::from_utf8_lossy(&body).into_owned(),
            signature: sig,
        },
    }))
}

/// A callback as the sandbox gateway signed it.
#[derive(Serialize, ToSchema)]
pub struct SignedCallback {
    body: String,
    signature: String,
}

/// The sandbox's payment: what its callback confirmed, and the callback.
#[derive(Serialize, ToSchema)]
pub struct SandboxPaid {
    confirmation: Confirmation,
    callback: SignedCallback,
}

/// A hardship waiver as it now stands.
#[derive(Serialize, ToSchema)]
pub struct WaiverOf {
    waiver: gongzhi_store::payments::Waiver,
}

#[derive(Deserialize, Serialize, ToSchema)]
pub struct WaiverBody {
    amount: String,
    reason: String,
}

/// Requests a hardship waiver of (part of) a bill.
#[utoipa::path(post, path = "/api/v1/compounds/{code}/books/bills/{id}/waivers", tag = "books", request_body = WaiverBody, params(("code" = String, Path, description = "compound code"), ("id" = String, Path, description = "bill id")), responses((status = 201, description = "requested", body = WaiverOf)))]
async fn request_waiver(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((code, id)): Path<(String, String)>,
    ApiJson(body): ApiJson<WaiverBody>,
) -> Result<Response, ApiError> {
    let c = compound(&state, &code).await?;
    check_place(&user, &c, Action::ApproveDisbursement)?;
    let w = gongzhi_store::payments::request_waiver(
        &state.db,
        &user.user_id,
        &c,
        &id,
        amount(&body.amount)?,
        &body.reason,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(WaiverOf { waiver: w })).into_response())
}

/// Approves a hardship waiver: the steward and the compound's party branch
/// (branch secretary), two different people; granted with the second.
#[utoipa::path(post, path = "/api/v1/compounds/{code}/books/waivers/{id}/approve", tag = "books", params(("code" = String, Path, description = "compound code"), ("id" = String, Path, description = "waiver id")), responses((status = 200, description = "approved", body = WaiverOf)))]
async fn approve_waiver(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((code, id)): Path<(String, String)>,
) -> Result<Json<WaiverOf>, ApiError> {
    let c = compound(&state, &code).await?;
    check_place(&user, &c, Action::ApproveDisbursement)?;
    let held = policy::roles_over(&user.actor, &c.path_ids());
    let w =
        gongzhi_store::payments::approve_waiver(&state.db, &user.user_id, &held, &c, &id).await?;
    Ok(Json(WaiverOf { waiver: w }))
}

// ---------------------------------------------------------------------------
// Audits and the overseers' full view
// ---------------------------------------------------------------------------

/// Today's day number in China time.
fn today() -> i64 {
    gongzhi_domain::fund_calc::day_of_ms(gongzhi_store::db::now_ms())
}

/// The maintenance fund's audit flag (public): due when the last audit is
/// three years old or more, or none was recorded.
#[utoipa::path(get, path = "/api/v1/public/compounds/{code}/books/audit", tag = "public", params(("code" = String, Path, description = "compound code")), responses((status = 200, description = "audit status", body = AuditOf)))]
async fn public_audit(
    State(state): State<AppState>,
    Path(code): Path<String>,
) -> Result<Json<AuditOf>, ApiError> {
    let c = compound(&state, &code).await?;
    let audit = gongzhi_store::audits::status(&state.db, &c.id, today()).await?;
    Ok(Json(AuditOf { audit }))
}

/// The maintenance fund's audit flag.
#[derive(Serialize, ToSchema)]
pub struct AuditOf {
    audit: gongzhi_store::audits::Status,
}

/// The overseers' full view of a compound's books.
#[derive(Serialize, ToSchema)]
pub struct PrivateBooks {
    #[schema(value_type = Object)]
    books: fund::Books,
    accounts: Vec<AccountView>,
    disbursements: Vec<fund::Disbursement>,
    waivers: Vec<gongzhi_store::payments::Waiver>,
    audits: Vec<gongzhi_store::audits::AuditView>,
    audit: gongzhi_store::audits::Status,
}

#[derive(Deserialize, Serialize, ToSchema)]
pub struct AuditBody {
    /// maintenance_fund or common_fund
    scope: String,
    /// YYYY-MM
    period_from: String,
    period_to: String,
    /// YYYY-MM-DD
    audited_on: String,
    summary: String,
    #[serde(default)]
    document_sha256: Option<String>,
}

/// Records an audit report (auditors only; a leaf of the books log).
#[utoipa::path(post, path = "/api/v1/compounds/{code}/books/audits", tag = "books", request_body = AuditBody, params(("code" = String, Path, description = "compound code")), responses((status = 201, description = "recorded", body = gongzhi_store::audits::Recorded), (status = 403, description = "not an auditor here")))]
async fn record_audit(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(code): Path<String>,
    ApiJson(body): ApiJson<AuditBody>,
) -> Result<Response, ApiError> {
    let c = compound(&state, &code).await?;
    check_place(&user, &c, Action::RecordAudit)?;
    let role = acting_role(&user, &c, Action::RecordAudit);
    let v = gongzhi_store::audits::record(
        &state.db,
        &user.user_id,
        &role,
        &c,
        gongzhi_store::audits::NewAudit {
            scope: body.scope.trim().into(),
            period_from: body.period_from.trim().into(),
            period_to: body.period_to.trim().into(),
            audited_on: body.audited_on.trim().into(),
            summary: body.summary.clone(),
            document_sha256: body
                .document_sha256
                .clone()
                .filter(|h| !h.trim().is_empty()),
        },
    )
    .await?;
    Ok((StatusCode::CREATED, Json(v)).into_response())
}

/// The full books for those who oversee them — committee, supervisors,
/// the party branch, auditors, staff: every disbursement with who approved
/// it and its documents, waivers (with their reasons), audit reports, the
/// audit flag. Read only.
#[utoipa::path(get, path = "/api/v1/compounds/{code}/books/private", tag = "books", params(("code" = String, Path, description = "compound code")), responses((status = 200, description = "the full books", body = PrivateBooks), (status = 403, description = "not an overseer here")))]
async fn private_books(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(code): Path<String>,
) -> Result<Json<PrivateBooks>, ApiError> {
    let c = compound(&state, &code).await?;
    check_place(&user, &c, Action::ReadAudit)?;
    check_place(&user, &c, Action::ReadBooks)?;
    Ok(Json(PrivateBooks {
        books: fund::books(&state.db, &c.id).await?,
        accounts: fund::accounts(&state.db, &c.id).await?,
        disbursements: fund::disbursements(&state.db, &c.id, 1000).await?,
        waivers: gongzhi_store::payments::waivers(&state.db, &c.id).await?,
        audits: gongzhi_store::audits::list(&state.db, &c.id).await?,
        audit: gongzhi_store::audits::status(&state.db, &c.id, today()).await?,
    }))
}

// ---------------------------------------------------------------------------
// What a vote authorises to be spent from the maintenance fund
// ---------------------------------------------------------------------------

#[derive(Deserialize, Serialize, ToSchema)]
pub struct SpendingBody {
    /// Yuan with at most two decimals: the most the disbursements naming
    /// this vote may spend from the maintenance fund, together.
    amount: String,
    /// What the money is for, as the owners will read it on the ballot.
    purpose: String,
}

async fn spending_vote(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
    action: Action,
) -> Result<(), ApiError> {
    let v = gongzhi_store::votes::get_vote(&state.db, id).await?;
    crate::access::check(state, user, &v.place_id, action)
        .await
        .map_err(|e| {
            if e.status == StatusCode::NOT_FOUND {
                ApiError::not_found(format!("vote '{id}' not found"))
            } else {
                e
            }
        })?;
    Ok(())
}

/// Fixes what a draft vote authorises to be spent from its compound's
/// maintenance fund (amount and purpose; once, before the vote opens). A
/// maintenance-fund disbursement names a passed vote that authorised it,
/// and the disbursements naming one vote never exceed its amount.
#[utoipa::path(put, path = "/api/v1/votes/{id}/spending", tag = "votes", request_body = SpendingBody, params(("id" = String, Path, description = "vote id")), responses((status = 201, description = "authorisation fixed", body = SpendingOf), (status = 409, description = "the vote is open or closed, or already authorises spending"), (status = 422, description = "refused; names the field")))]
async fn authorise_spending(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<SpendingBody>,
) -> Result<Response, ApiError> {
    spending_vote(&state, &user, &id, Action::ManageVotes).await?;
    let s = gongzhi_store::spending::authorise(
        &state.db,
        &user.user_id,
        &id,
        amount(&body.amount)?,
        &body.purpose,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(SpendingOf { spending: s })).into_response())
}

/// What a vote authorises to be spent from the maintenance fund (404 when
/// it authorises nothing).
#[utoipa::path(get, path = "/api/v1/votes/{id}/spending", tag = "votes", params(("id" = String, Path, description = "vote id")), responses((status = 200, description = "the authorisation", body = SpendingOf), (status = 404, description = "no such vote, or it authorises no spending")))]
async fn vote_spending(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<SpendingOf>, ApiError> {
    spending_vote(&state, &user, &id, Action::ReadStructure).await?;
    let s = gongzhi_store::spending::get(&state.db, &id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("vote '{id}' authorises no spending")))?;
    Ok(Json(SpendingOf { spending: s }))
}

/// What a vote authorises to be spent from the maintenance fund.
#[derive(Serialize, ToSchema)]
pub struct SpendingOf {
    spending: gongzhi_store::spending::Spending,
}
