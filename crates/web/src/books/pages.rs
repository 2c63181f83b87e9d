//! The public board of a compound's books: balances, every disbursement with
//! its approvals (by role, no names), the signed checkpoint. No login, no
//! personal data.

use crate::access::check_place;
use crate::i18n::Lang;
use crate::problem::ApiError;
use crate::session::CurrentUser;
use crate::AppState;
use askama::Template;
use axum::extract::{Form, Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use gongzhi_domain::money::Fen;
use gongzhi_domain::policy::{self, Action};
use gongzhi_store::{auth, fund, register, tlog};
use serde::Deserialize;
use sha2::Digest;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/compounds/{code}/books", get(board))
        .route("/compounds/{code}/books/queue", get(queue_page))
        .route(
            "/compounds/{code}/books/queue/{id}/{what}",
            post(queue_post),
        )
}

#[derive(Deserialize, Default)]
pub struct LangQuery {
    lang: Option<String>,
    year: Option<i32>,
    /// Page of the year's transfers (1-based).
    page: Option<i64>,
}

/// Transfers shown per page of the board.
const TRANSFERS_PER_PAGE: i64 = 100;

/// One transfer as the board shows it (account names translated).
pub struct TransferRow {
    pub seq: u64,
    pub date: String,
    pub kind: String,
    pub from: String,
    pub to: String,
    pub amount: String,
    pub code: String,
    pub memo: String,
    /// Money leaving a bank account.
    pub outflow: bool,
}

/// purpose, payee, amount, state, state key, approvals, documents, emergency
type DisbursementRow = (
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
);

#[derive(Template)]
#[template(path = "books.html")]
struct BooksPage {
    lang: Lang,
    logged_in: bool,
    name: String,
    code: String,
    /// (code, name in the reader's language, posted, available)
    accounts: Vec<(String, String, String, String)>,
    disbursements: Vec<DisbursementRow>,
    size: i64,
    note: String,
    base: String,
    year: i32,
    /// category, budget, actual, remaining, used %, over budget, category's name
    budget: Vec<(String, String, String, String, String, bool, String)>,
    budget_vote: String,
    audit: gongzhi_store::audits::Status,
    /// Every transfer of the year, newest first, one page of them.
    transfers: Vec<TransferRow>,
    transfers_total: i64,
    page: i64,
    pages: i64,
}

pub async fn board(
    State(state): State<AppState>,
    Path(code): Path<String>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = Lang::from_request(q.lang.as_deref(), &headers);
    match board_inner(&state, &code, lang, &headers, q.year, q.page).await {
        Ok(p) => page_html(&p),
        Err(e) => e.into_response(),
    }
}

async fn board_inner(
    state: &AppState,
    code: &str,
    lang: Lang,
    headers: &HeaderMap,
    year: Option<i32>,
    page: Option<i64>,
) -> Result<BooksPage, ApiError> {
    let c =
        register::place_by_code(&state.db, code)
            .await
            .map_err(crate::problem::or_not_found(format!(
                "compound '{code}' not found"
            )))?;
    if c.kind != "compound" {
        return Err(ApiError::not_found(format!("compound '{code}' not found")));
    }
    let accounts = fund::accounts(&state.db, &c.id)
        .await?
        .into_iter()
        .map(|a| {
            (
                a.code.to_string(),
                lang.t(&format!("acct.{}", a.code.as_str())).to_string(),
                Fen(a.posted).to_string(),
                Fen(a.available).to_string(),
            )
        })
        .collect();
    let disbursements = fund::disbursements(&state.db, &c.id, 200)
        .await?
        .into_iter()
        .map(|d| {
            let roles = [d.first_role.clone(), d.second_role.clone()]
                .into_iter()
                .flatten()
                .map(|r| lang.t(&format!("role.{r}")).to_string())
                .collect::<Vec<_>>()
                .join(" + ");
            (
                d.purpose,
                d.payee,
                Fen(d.amount).to_string(),
                d.state.to_string(),
                format!("books.state.{}", d.state),
                roles,
                d.documents.join("; "),
                d.emergency.unwrap_or_default(),
            )
        })
        .collect();
    let year =
        year.unwrap_or_else(|| gongzhi_domain::fund_calc::year_of_ms(gongzhi_store::db::now_ms()));
    let report = gongzhi_store::budget::report(&state.db, &c.id, year).await?;
    let budget = report
        .lines
        .iter()
        .map(|l| {
            (
                l.category.to_string(),
                Fen(l.budget).to_string(),
                Fen(l.actual).to_string(),
                Fen(l.remaining).to_string(),
                l.used_bp.map_or("—".to_string(), |bp| Fen(bp).to_string()),
                l.remaining < 0,
                lang.t(&format!("acct.{}", l.category)).to_string(),
            )
        })
        .collect();
    let page = page.unwrap_or(1).clamp(1, 1_000_000);
    let (list, transfers_total) = fund::transfers_between(
        &state.db,
        &c.id,
        gongzhi_domain::fund_calc::year_bounds_ms(year),
        (page - 1) * TRANSFERS_PER_PAGE,
        TRANSFERS_PER_PAGE,
    )
    .await?;
    let transfers = list
        .into_iter()
        .map(|t| TransferRow {
            seq: t.seq,
            date: gongzhi_domain::fund_calc::date_of_ms(t.at),
            kind: lang
                .t(&format!("books.kind.{}", t.kind.as_str()))
                .to_string(),
            from: lang.t(&format!("acct.{}", t.credit.as_str())).to_string(),
            to: lang.t(&format!("acct.{}", t.debit.as_str())).to_string(),
            amount: Fen(t.amount).to_string(),
            outflow: gongzhi_domain::flows::is_outflow(&t),
            code: t.code,
            memo: t.memo,
        })
        .collect();
    let pages = ((transfers_total + TRANSFERS_PER_PAGE - 1) / TRANSFERS_PER_PAGE).max(1);
    let (cp, note) = tlog::checkpoint(&state.db, &state.books_key, &c.id, code).await?;
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    Ok(BooksPage {
        lang,
        logged_in: false,
        name: c.name,
        code: code.to_string(),
        accounts,
        disbursements,
        size: cp.size as i64,
        note,
        base: format!("http://{host}"),
        year,
        budget,
        budget_vote: report.vote_id.unwrap_or_default(),
        audit: gongzhi_store::audits::status(
            &state.db,
            &c.id,
            gongzhi_domain::fund_calc::day_of_ms(gongzhi_store::db::now_ms()),
        )
        .await?,
        transfers,
        transfers_total,
        page,
        pages,
    })
}

// ---------------------------------------------------------------------------
// The approval queue (committee, supervisors, steward)
// ---------------------------------------------------------------------------

pub struct QueueRow {
    id: String,
    purpose: String,
    payee: String,
    amount: String,
    documents: String,
    state: String,
    state_key: String,
    /// "name (role)", first then second.
    approvals: String,
    emergency: String,
    /// Whether the viewer holds one of the compound's approver roles.
    can_act: bool,
    /// Idempotency key of this rendering's buttons (a double click replays).
    key: String,
    error: String,
}

#[derive(Template)]
#[template(path = "books_queue.html")]
struct QueuePage {
    lang: Lang,
    logged_in: bool,
    name: String,
    code: String,
    roles: String,
    can_act: bool,
    rows: Vec<QueueRow>,
    audit_due: bool,
}

#[derive(Template)]
#[template(path = "books_queue_row.html")]
struct QueueRowFragment {
    lang: Lang,
    code: String,
    d: QueueRow,
}

fn page_html<T: Template>(t: &T) -> Response {
    match t.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "template failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "template error").into_response()
        }
    }
}

/// The compound by code, for a logged-in user who may approve there.
async fn queue_gate(
    state: &AppState,
    user: &CurrentUser,
    code: &str,
) -> Result<(register::Place, fund::Books, bool), ApiError> {
    let c =
        register::place_by_code(&state.db, code)
            .await
            .map_err(crate::problem::or_not_found(format!(
                "compound '{code}' not found"
            )))?;
    if c.kind != "compound" {
        return Err(ApiError::not_found(format!("compound '{code}' not found")));
    }
    check_place(user, &c, Action::ApproveDisbursement)?;
    let books = fund::books(&state.db, &c.id).await?;
    let held = policy::roles_over(&user.actor, &c.path_ids());
    let can_act = books.approver_roles.iter().any(|r| held.contains(r));
    Ok((c, books, can_act))
}

async fn user_name(state: &AppState, id: &Option<String>) -> Option<String> {
    let id = id.as_ref()?;
    Some(
        auth::get_user(&state.db, id)
            .await
            .map(|u| u.username)
            .unwrap_or_else(|_| id.clone()),
    )
}

async fn queue_row(state: &AppState, lang: Lang, d: fund::Disbursement, can_act: bool) -> QueueRow {
    let mut approvals = Vec::new();
    for (by, role) in [(&d.first_by, &d.first_role), (&d.second_by, &d.second_role)] {
        if let Some(n) = user_name(state, by).await {
            let role = role.as_deref().map(|r| lang.t(&format!("role.{r}")));
            approvals.push(format!("{n} ({})", role.unwrap_or_default()));
        }
    }
    QueueRow {
        key: format!("page-{}-{}", d.id, gongzhi_store::db::new_id()),
        id: d.id,
        purpose: d.purpose,
        payee: d.payee,
        amount: Fen(d.amount).to_string(),
        documents: d.documents.join("; "),
        state_key: format!("books.state.{}", d.state),
        state: d.state.to_string(),
        approvals: approvals.join(" + "),
        emergency: d.emergency.unwrap_or_default(),
        can_act,
        error: String::new(),
    }
}

async fn queue_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(code): Path<String>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = Lang::from_request(q.lang.as_deref(), &headers);
    let inner = async {
        let (c, books, can_act) = queue_gate(&state, &user, &code).await?;
        let mut rows = Vec::new();
        for d in fund::disbursements(&state.db, &c.id, 500).await? {
            if d.state.is_open() {
                rows.push(queue_row(&state, lang, d, can_act).await);
            }
        }
        Ok::<_, ApiError>(QueuePage {
            lang,
            logged_in: true,
            name: c.name,
            code: code.clone(),
            roles: books
                .approver_roles
                .iter()
                .map(|r| lang.t(&format!("role.{}", r.as_str())).to_string())
                .collect::<Vec<_>>()
                .join(" + "),
            can_act,
            rows,
            audit_due: gongzhi_store::audits::status(
                &state.db,
                &c.id,
                gongzhi_domain::fund_calc::day_of_ms(gongzhi_store::db::now_ms()),
            )
            .await?
            .due,
        })
    };
    match inner.await {
        Ok(p) => page_html(&p),
        Err(e) => e.into_response(),
    }
}

#[derive(Deserialize)]
pub struct QueueForm {
    key: String,
    #[serde(default)]
    reason: String,
}

/// Answers an htmx action with the disbursement's row as it now stands,
/// carrying the refusal (if any) in the row.
async fn queue_action(
    state: &AppState,
    user: &CurrentUser,
    code: &str,
    id: &str,
    lang: Lang,
    expired: Result<bool, gongzhi_store::StoreError>,
) -> Response {
    let (c, _, can_act) = match queue_gate(state, user, code).await {
        Ok(g) => g,
        Err(e) => return e.into_response(),
    };
    let error = match expired {
        Ok(true) => lang.t("books.state.expired").to_string(),
        Ok(false) => String::new(),
        Err(e) => ApiError::from(e).detail,
    };
    let d = match fund::disbursements(&state.db, &c.id, 1000)
        .await
        .map(|ds| ds.into_iter().find(|d| d.id == id))
    {
        Ok(Some(d)) => d,
        Ok(None) => return ApiError::not_found(format!("disbursement '{id}'")).into_response(),
        Err(e) => return ApiError::from(e).into_response(),
    };
    let mut row = queue_row(state, lang, d, can_act).await;
    row.error = error;
    page_html(&QueueRowFragment {
        lang,
        code: code.to_string(),
        d: row,
    })
}

fn form_idem(f: &QueueForm, what: &str) -> Result<fund::Idem, ApiError> {
    let hash = hex::encode(sha2::Sha256::digest(
        format!("{what}\n{}", f.reason.trim()).as_bytes(),
    ));
    Ok(fund::Idem::new(&f.key, hash)?)
}

/// `approve` or `void` from the queue page.
async fn queue_post(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((code, id, what)): Path<(String, String, String)>,
    headers: HeaderMap,
    Form(f): Form<QueueForm>,
) -> Response {
    let lang = Lang::from_request(None, &headers);
    let (c, books, can_act) = match queue_gate(&state, &user, &code).await {
        Ok(g) => g,
        Err(e) => return e.into_response(),
    };
    if what == "void" && !can_act {
        return ApiError::forbidden(format!(
            "voiding needs one of the roles {} over this compound",
            books.approver_roles.map(|r| r.as_str()).join(", ")
        ))
        .into_response();
    }
    let idem = match form_idem(&f, &format!("{what}:{id}")) {
        Ok(i) => i,
        Err(e) => return e.into_response(),
    };
    let held = policy::roles_over(&user.actor, &c.path_ids());
    let result = match what.as_str() {
        "approve" => fund::approve(&state.db, &user.user_id, &held, &c, &id, idem)
            .await
            .map(|o| o.value.is_expired()),
        "void" => {
            let role = books
                .approver_roles
                .iter()
                .find(|r| held.contains(r))
                .map(|r| r.as_str())
                .unwrap_or("admin");
            fund::void(&state.db, &user.user_id, role, &c, &id, &f.reason, idem)
                .await
                .map(|_| false)
        }
        _ => return ApiError::not_found(format!("no action '{what}'")).into_response(),
    };
    queue_action(&state, &user, &code, &id, lang, result).await
}
