//! The home page, the first page after login: one summary tile per menu
//! entry that has something to count (an owner's parts and open votes, one's
//! open cases and unread notifications, a worker's queue, the disbursements
//! waiting for an approver), then the places of the user's grants.

use crate::i18n::Lang;
use crate::menu::{self, Entry};
use crate::page::page_error;
use crate::page::{lang_of, render, LangQuery};
use crate::register::pages::PlaceRow;
use crate::session::{CurrentUser, MaybeUser};
use crate::AppState;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use gongzhi_domain::ballot::VoteStatus;
use gongzhi_domain::cases::Status;
use gongzhi_store::{cases, fund, notify, register, votes};

/// Each role's home.
pub fn router() -> axum::Router<AppState> {
    axum::Router::new().route("/", axum::routing::get(home))
}

/// One summary tile: a count and a few lines, leading to a page of the menu.
pub struct Tile {
    id: &'static str,
    title: String,
    count: i64,
    lines: Vec<String>,
    href: String,
    /// Something waits for the user (shown stronger).
    alert: bool,
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    lang: Lang,
    logged_in: bool,
    username: String,
    tiles: Vec<Tile>,
    places: Vec<PlaceRow>,
}

/// How many lines a tile lists at most.
const LINES: usize = 3;

pub async fn home(
    State(state): State<AppState>,
    MaybeUser(user): MaybeUser,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    let (lang, set) = lang_of(&q, &headers);
    let Some(user) = user else {
        return Redirect::to("/login").into_response();
    };
    let places = match crate::register::top_places(&state, &user).await {
        Ok(p) => p,
        Err(e) => return page_error(e, lang),
    };
    let username = gongzhi_store::auth::get_user(&state.db, &user.user_id)
        .await
        .map(|u| u.username)
        .unwrap_or_default();
    let basis = menu::basis(&state, &user).await;
    let entries = menu::entries(&user.actor, &basis);
    let tiles = match tiles(&state, &user, &basis, &entries, lang).await {
        Ok(t) => t,
        Err(e) => return page_error(e.into(), lang),
    };
    render(
        &HomePage {
            lang,
            logged_in: true,
            username,
            tiles,
            places: places.into_iter().map(PlaceRow::from).collect(),
        },
        StatusCode::OK,
        set,
    )
}

async fn tiles(
    state: &AppState,
    user: &CurrentUser,
    basis: &menu::Basis,
    entries: &[Entry],
    lang: Lang,
) -> Result<Vec<Tile>, gongzhi_store::StoreError> {
    let mut out = Vec::new();
    for e in entries {
        let tile = match e.key {
            "menu.household" => household(state, basis, e, lang).await?,
            "menu.votes" => open_votes(state, basis, e, lang).await?,
            "menu.cases" => my_cases(state, user, e, lang).await?,
            "menu.notifications" => {
                let unread = notify::unread(&state.db, &user.user_id).await?;
                Tile {
                    id: "unread",
                    title: lang.t("notify.unread").into(),
                    count: unread,
                    lines: vec![],
                    href: e.href.clone(),
                    alert: unread > 0,
                }
            }
            "menu.queue" => queue(state, user, basis, e, lang).await?,
            "menu.approvals" => approvals(state, e, lang).await?,
            _ => continue,
        };
        out.push(tile);
    }
    Ok(out)
}

async fn household(
    state: &AppState,
    basis: &menu::Basis,
    e: &Entry,
    lang: Lang,
) -> Result<Tile, gongzhi_store::StoreError> {
    let mut lines = Vec::new();
    let mut count = 0;
    for o in &basis.owners {
        let o = register::get_owner(&state.db, o).await?;
        for p in o.parts {
            count += 1;
            lines.push(format!(
                "{} · {} · {} m²",
                p.number,
                lang.t(&format!("part.{}", p.kind)),
                p.area_m2
            ));
        }
    }
    lines.truncate(LINES);
    Ok(Tile {
        id: "parts",
        title: lang.t("home.parts").into(),
        count,
        lines,
        href: e.href.clone(),
        alert: false,
    })
}

async fn open_votes(
    state: &AppState,
    basis: &menu::Basis,
    e: &Entry,
    lang: Lang,
) -> Result<Tile, gongzhi_store::StoreError> {
    let open: Vec<String> = votes::votes_of_owners(&state.db, &basis.owners)
        .await?
        .into_iter()
        .filter(|v| v.status == VoteStatus::Open)
        .map(|v| v.title)
        .collect();
    Ok(Tile {
        id: "my-votes",
        title: lang.t("home.open_votes").into(),
        count: open.len() as i64,
        alert: !open.is_empty(),
        lines: open.into_iter().take(LINES).collect(),
        href: e.href.clone(),
    })
}

async fn my_cases(
    state: &AppState,
    user: &CurrentUser,
    e: &Entry,
    lang: Lang,
) -> Result<Tile, gongzhi_store::StoreError> {
    let open: Vec<String> = cases::mine(&state.db, &user.user_id, 200)
        .await?
        .into_iter()
        .filter(|c| {
            Status::parse(&c.status).is_some_and(|s| !s.is_terminal() && s != Status::Closed)
        })
        .map(|c| {
            format!(
                "{} · {}",
                lang.t(&format!("cat.{}", c.category)),
                lang.t(&format!("st.{}", c.status))
            )
        })
        .collect();
    Ok(Tile {
        id: "cases-link",
        title: lang.t("home.open_cases").into(),
        count: open.len() as i64,
        alert: false,
        lines: open.into_iter().take(LINES).collect(),
        href: e.href.clone(),
    })
}

async fn queue(
    state: &AppState,
    user: &CurrentUser,
    basis: &menu::Basis,
    e: &Entry,
    lang: Lang,
) -> Result<Tile, gongzhi_store::StoreError> {
    // The entry leads to the queue of this scope; its access narrows it.
    let scope = basis
        .scopes
        .iter()
        .find(|s| e.href == format!("/places/{}/queue", s.id));
    let (mut count, mut overdue, mut name) = (0, 0, String::new());
    if let Some(s) = scope {
        let place = register::get_place(&state.db, &s.id).await?;
        let grids =
            crate::access::check_path(user, &s.path, gongzhi_domain::policy::Action::ReadCases)
                .ok()
                .and_then(|a| crate::access::grids(&a));
        let list = cases::list_under(
            &state.db,
            &place.path,
            &cases::ListFilter {
                open_only: true,
                grids,
                ..Default::default()
            },
            500,
            0,
        )
        .await?;
        count = list.len() as i64;
        overdue = list.iter().filter(|c| c.overdue).count();
        name = place.name;
    }
    Ok(Tile {
        id: "queue",
        title: format!("{} · {name}", lang.t("home.queue")),
        count,
        alert: overdue > 0,
        lines: vec![format!("{} {overdue}", lang.t("home.overdue"))],
        href: e.href.clone(),
    })
}

async fn approvals(
    state: &AppState,
    e: &Entry,
    lang: Lang,
) -> Result<Tile, gongzhi_store::StoreError> {
    let code = e
        .href
        .trim_start_matches("/compounds/")
        .trim_end_matches("/books/queue");
    let c = register::place_by_code(&state.db, code).await?;
    let waiting: Vec<String> = fund::disbursements(&state.db, &c.id, 500)
        .await?
        .into_iter()
        .filter(|d| matches!(d.state.as_str(), "requested" | "pending"))
        .map(|d| format!("{} · {}", d.purpose, gongzhi_domain::money::Fen(d.amount)))
        .collect();
    Ok(Tile {
        id: "approvals",
        title: format!("{} · {}", lang.t("home.approvals"), c.name),
        count: waiting.len() as i64,
        alert: !waiting.is_empty(),
        lines: waiting.into_iter().take(LINES).collect(),
        href: e.href.clone(),
    })
}
