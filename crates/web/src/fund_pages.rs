//! The public board of a compound's books: balances, every disbursement with
//! its approvals (by role, no names), the signed checkpoint. No login, no
//! personal data.

use crate::i18n::Lang;
use crate::problem::ApiError;
use crate::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use gongzhi_domain::money::Fen;
use gongzhi_store::{fund, register, tlog};
use serde::Deserialize;

pub fn routes() -> Router<AppState> {
    Router::new().route("/compounds/{code}/books", get(board))
}

#[derive(Deserialize, Default)]
pub struct LangQuery {
    lang: Option<String>,
}

#[derive(Template)]
#[template(path = "books.html")]
struct BooksPage {
    lang: Lang,
    logged_in: bool,
    name: String,
    code: String,
    accounts: Vec<(String, String, String)>,
    /// purpose, payee, amount, state, state key, approvals, documents
    disbursements: Vec<(String, String, String, String, String, String, String)>,
    size: i64,
    note: String,
    base: String,
}

pub async fn board(
    State(state): State<AppState>,
    Path(code): Path<String>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = Lang::from_request(q.lang.as_deref(), &headers);
    match board_inner(&state, &code, lang, &headers).await {
        Ok(p) => match p.render() {
            Ok(html) => Html(html).into_response(),
            Err(e) => {
                tracing::error!(error = %e, "template failed");
                (StatusCode::INTERNAL_SERVER_ERROR, "template error").into_response()
            }
        },
        Err(e) => e.into_response(),
    }
}

async fn board_inner(
    state: &AppState,
    code: &str,
    lang: Lang,
    headers: &HeaderMap,
) -> Result<BooksPage, ApiError> {
    let c = register::place_by_code(&state.db, code)
        .await
        .map_err(|_| ApiError::not_found(format!("compound '{code}' not found")))?;
    if c.kind != "compound" {
        return Err(ApiError::not_found(format!("compound '{code}' not found")));
    }
    let accounts = fund::accounts(&state.db, &c.id)
        .await?
        .into_iter()
        .map(|a| {
            (
                a.code.to_string(),
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
                .collect::<Vec<_>>()
                .join(" + ");
            (
                d.purpose,
                d.payee,
                Fen(d.amount).to_string(),
                d.state.clone(),
                format!("books.state.{}", d.state),
                roles,
                d.documents.join("; "),
            )
        })
        .collect();
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
    })
}
