//! The public board of a vote as a page (`/votes/{id}/board`), public like
//! `GET /api/v1/public/votes/{id}/board`: each owner's current ballot by
//! receipt code, parts, masked name, channel and time, the choices once the
//! vote is closed; a page at a time (`after`, the previous page's cursor),
//! and a plain GET form where an owner finds their own receipt code.

use crate::cases::pages::when;
use crate::i18n::Lang;
use crate::page::{lang_of, page_error, render, LangQuery};
use crate::problem::ApiError;
use crate::session::MaybeUser;
use crate::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use gongzhi_store::votes::{self, BoardCursor, BoardRow, BoardView};
use serde::Deserialize;

/// Rows per page of the board page.
const PAGE: i64 = 50;

#[derive(Deserialize, Default)]
pub struct BoardQuery {
    after: Option<String>,
    limit: Option<String>,
    receipt: Option<String>,
    lang: Option<String>,
}

pub struct Row {
    receipt: String,
    parts: String,
    name: String,
    channel_key: String,
    when: String,
    choice_key: String,
}

impl From<BoardRow> for Row {
    fn from(r: BoardRow) -> Row {
        Row {
            receipt: r.receipt,
            parts: r.parts.join("、"),
            name: r.name,
            channel_key: format!("vote.channel.{}", r.channel),
            when: when(r.cast_at),
            choice_key: r
                .choice
                .map(|c| format!("vote.choice.{c}"))
                .unwrap_or_default(),
        }
    }
}

#[derive(Template)]
#[template(path = "votes_board.html")]
struct BoardPage {
    lang: Lang,
    logged_in: bool,
    id: String,
    title: String,
    status_key: String,
    rows: Vec<Row>,
    /// The receipt code searched for (empty: the board a page at a time).
    receipt: String,
    /// The next page's cursor (empty on the last page).
    next: String,
    /// Not the first page.
    paged: bool,
    limit: i64,
}

pub async fn board(
    State(state): State<AppState>,
    MaybeUser(user): MaybeUser,
    Path(id): Path<String>,
    Query(q): Query<BoardQuery>,
    headers: HeaderMap,
) -> Response {
    let (lang, set) = lang_of(&LangQuery { lang: q.lang }, &headers);
    let receipt = q.receipt.as_deref().unwrap_or("").trim().to_string();
    let after = q.after.as_deref().unwrap_or("").trim().to_string();
    let page: Result<BoardPage, ApiError> = async {
        let limit = match q.limit.as_deref().map(str::trim) {
            None | Some("") => PAGE,
            Some(l) => l
                .parse::<i64>()
                .ok()
                .filter(|n| (1..=votes::BOARD_PAGE_MAX).contains(n))
                .ok_or_else(|| {
                    ApiError::field(
                        "limit",
                        format!("a whole number from 1 to {}", votes::BOARD_PAGE_MAX),
                    )
                })?,
        };
        let v = votes::board_vote(&state.db, &id).await?;
        let (rows, next) = if !receipt.is_empty() {
            // An owner looks up their own code: the whole board, filtered.
            let (_, all) = votes::board(&state.db, &id).await?;
            let found = all
                .into_iter()
                .filter(|r| r.current && r.receipt.eq_ignore_ascii_case(&receipt))
                .collect::<Vec<_>>();
            (found, None)
        } else {
            let cursor = match after.as_str() {
                "" => None,
                a => Some(BoardCursor::parse(a).ok_or_else(|| {
                    ApiError::field("after", "not a cursor: follow the board's next link")
                })?),
            };
            let p = votes::board_page(&state.db, &v, BoardView::Current, cursor, limit).await?;
            (p.rows, p.next)
        };
        Ok(BoardPage {
            lang,
            logged_in: user.is_some(),
            id: v.id.clone(),
            title: v.title.clone(),
            status_key: format!("vote.status.{}", v.status),
            rows: rows
                .into_iter()
                .map(Row::from)
                .map(|mut r| {
                    // A ballot answering questions has no yes/no choice.
                    if v.questions.is_some() && !r.choice_key.is_empty() {
                        r.choice_key = "vote.q.answered".into();
                    }
                    r
                })
                .collect(),
            receipt: receipt.clone(),
            next: next.unwrap_or_default(),
            paged: !after.is_empty(),
            limit,
        })
    }
    .await;
    match page {
        Ok(p) => render(&p, StatusCode::OK, set),
        Err(e) => page_error(e, lang),
    }
}
