//! The caller's notifications as a page: newest first, the unread ones
//! marked, each leading to its case, and "mark all read" (a plain form;
//! the guard checks its CSRF field). Only the caller's own are ever read:
//! the store selects by the session's user id.

use crate::cases::pages::when;
use crate::i18n::Lang;
use crate::page::page_error;
use crate::page::{lang_of, render, LangQuery};
use crate::session::MaybeUser;
use crate::AppState;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use gongzhi_store::{db, notify};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/notifications", get(list))
        .route("/notifications/read-all", post(read_all))
}

/// How many notifications the page lists.
const SHOWN: i64 = 200;

pub struct Item {
    case_id: String,
    when: String,
    event_key: String,
    category_key: String,
    status_key: String,
    note: String,
    unread: bool,
}

#[derive(Template)]
#[template(path = "notifications.html")]
struct NotificationsPage {
    lang: Lang,
    logged_in: bool,
    items: Vec<Item>,
    unread: i64,
}

async fn list(
    State(state): State<AppState>,
    MaybeUser(user): MaybeUser,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    let (lang, set) = lang_of(&q, &headers);
    let Some(user) = user else {
        return Redirect::to("/login").into_response();
    };
    let (list, unread) = match notify::list(&state.db, &user.user_id, false, SHOWN).await {
        Ok(x) => x,
        Err(e) => return page_error(e.into(), lang),
    };
    let items = list
        .into_iter()
        .map(|n| Item {
            when: when(n.created_at),
            event_key: format!("ev.{}", n.event_kind),
            category_key: format!("cat.{}", n.category),
            status_key: format!("st.{}", n.to_status),
            note: n.note.unwrap_or_default(),
            unread: n.read_at.is_none(),
            case_id: n.case_id,
        })
        .collect();
    render(
        &NotificationsPage {
            lang,
            logged_in: true,
            items,
            unread,
        },
        StatusCode::OK,
        set,
    )
}

async fn read_all(
    State(state): State<AppState>,
    MaybeUser(user): MaybeUser,
    headers: HeaderMap,
) -> Response {
    let lang = Lang::from_request(None, &headers);
    let Some(user) = user else {
        return Redirect::to("/login").into_response();
    };
    let r = notify::read_all(&state.db, &user.user_id, db::now_ms()).await;
    match r {
        Ok(_) => Redirect::to("/notifications").into_response(),
        Err(e) => page_error(e.into(), lang),
    }
}
