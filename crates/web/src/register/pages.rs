//! Server-rendered pages (askama). Same policy as the API: pages call
//! [`crate::access`] and show only what the caller may see, phones masked.

use crate::access::{self, check_place};
use crate::i18n::Lang;
use crate::problem::ApiError;
use crate::session::{self, MaybeUser};
use crate::AppState;
use askama::Template;
use axum::extract::{ConnectInfo, Form, Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use gongzhi_domain::policy::Action;
use gongzhi_store::register;
use serde::Deserialize;
use std::net::SocketAddr;

pub use crate::page::LangQuery;
use crate::page::{lang_of, page_error, render};

/// Login, logout, and the place and owner pages.
pub fn router() -> axum::Router<AppState> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/login", get(login_form).post(login_submit))
        .route("/logout", post(logout))
        .route("/places/{id}", get(place))
        .route("/owners/{id}", get(owner))
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    lang: Lang,
    logged_in: bool,
    failed: bool,
    error: String,
}

pub async fn login_form(Query(q): Query<LangQuery>, headers: HeaderMap) -> Response {
    let (lang, set) = lang_of(&q, &headers);
    render(
        &LoginPage {
            lang,
            logged_in: false,
            failed: false,
            error: String::new(),
        },
        StatusCode::OK,
        set,
    )
}

#[derive(Deserialize)]
pub struct LoginForm {
    username: String,
    password: String,
}

pub async fn login_submit(
    State(state): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(f): Form<LoginForm>,
) -> Response {
    let lang = Lang::from_request(None, &headers);
    match session::login(
        &state,
        &addr.ip().to_string(),
        f.username.trim(),
        &f.password,
    )
    .await
    {
        Ok(token) => (
            [(
                header::SET_COOKIE,
                session::session_cookie(&token, state.secure_cookies),
            )],
            Redirect::to("/"),
        )
            .into_response(),
        Err(e) => {
            let error = match (e.status, e.retry_after) {
                (StatusCode::UNAUTHORIZED, _) => lang.t("login_failed").to_string(),
                (StatusCode::FORBIDDEN, _) => lang.t("login.must_reset").to_string(),
                (StatusCode::TOO_MANY_REQUESTS, Some(secs)) => lang
                    .t("login_throttled")
                    .replace("{secs}", &secs.to_string()),
                _ => e.detail.clone(),
            };
            let mut r = render(
                &LoginPage {
                    lang,
                    logged_in: false,
                    failed: true,
                    error,
                },
                e.status,
                None,
            );
            if let Some(secs) = e.retry_after {
                r.headers_mut().insert(header::RETRY_AFTER, secs.into());
            }
            r
        }
    }
}

pub async fn logout(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(c) = session::cookie(&headers, session::SESSION_COOKIE) {
        let _ = gongzhi_store::auth::delete_session(&state.db, &c).await;
    }
    (
        [(header::SET_COOKIE, session::clear_cookie())],
        Redirect::to("/login"),
    )
        .into_response()
}

pub struct PlaceRow {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) kind_key: String,
    pub(crate) parts: i64,
}

impl From<register::PlaceSummary> for PlaceRow {
    fn from(p: register::PlaceSummary) -> Self {
        PlaceRow {
            id: p.id,
            name: p.name,
            kind_key: format!("kind.{}", p.kind),
            parts: p.parts,
        }
    }
}

pub struct PartRow {
    building: String,
    unit: String,
    number: String,
    kind_key: String,
    area: String,
    basis_key: String,
    owner: String,
    owner_id: String,
    phone: String,
}

#[derive(Template)]
#[template(path = "place.html")]
struct PlacePage {
    lang: Lang,
    logged_in: bool,
    place_id: String,
    place_name: String,
    kind_key: String,
    code: Option<String>,
    crumbs: Vec<(String, String)>,
    children: Vec<PlaceRow>,
    parts: Vec<PartRow>,
    owners_visible: bool,
    /// Owner pages open only to full register access (not a micro-grid's).
    owners_linked: bool,
    more: bool,
    total: i64,
    /// name, kind, households, worker, warning
    grids: Vec<(String, String, i64, String, String)>,
    /// name, kind, members
    orgs: Vec<(String, String, Vec<String>)>,
}

/// Parts shown on one page; the API pages through the rest.
const PAGE_PARTS: i64 = 500;

pub async fn place(
    State(state): State<AppState>,
    MaybeUser(user): MaybeUser,
    Path(id): Path<String>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    let (lang, set) = lang_of(&q, &headers);
    let Some(user) = user else {
        return Redirect::to("/login").into_response();
    };
    let result: Result<PlacePage, ApiError> = async {
        let (place, _) = access::check(&state, &user, &id, Action::ReadStructure).await?;
        let reg = check_place(&user, &place, Action::ReadRegister).ok();
        let crumbs = register::ancestors(&state.db, &place)
            .await?
            .into_iter()
            .filter(|a| a.id != place.id && check_place(&user, a, Action::ReadStructure).is_ok())
            .map(|a| (a.id, a.name))
            .collect();
        let children = register::children(&state.db, Some(&place))
            .await?
            .into_iter()
            .map(PlaceRow::from)
            .collect();
        let show_parts = matches!(place.kind.as_str(), "compound" | "building" | "unit");
        let filter = reg
            .as_ref()
            .map(access::filter)
            .unwrap_or(register::PartFilter::All);
        let parts = if show_parts {
            register::parts_under(&state.db, &place, &filter, reg.is_some(), PAGE_PARTS, 0).await?
        } else {
            vec![]
        };
        let total = register::count_parts_under(&state.db, &place).await?;
        let (grids, orgs) = if reg.is_some()
            && matches!(place.kind.as_str(), "community" | "compound")
        {
            let mut g = register::grids_of(&state.db, &place).await?;
            if let Some(gongzhi_domain::policy::Access::Grids(mine)) = &reg {
                g.retain(|x| mine.contains(&x.id));
            }
            let grids = g
                .into_iter()
                .map(|g| {
                    (
                        g.name,
                        lang.t(&format!("gridkind.{}", g.kind)).to_string(),
                        g.households,
                        g.worker
                            .map(|w| format!("{} {}", w.name, w.phone.unwrap_or_default()))
                            .unwrap_or_default(),
                        match g.warning {
                            None => String::new(),
                            Some(_)
                                if g.households
                                    < gongzhi_domain::place::MICRO_GRID_MIN_HOUSEHOLDS as i64 =>
                            {
                                lang.t("grid.warn_small").to_string()
                            }
                            Some(_) => lang.t("grid.warn_large").to_string(),
                        },
                    )
                })
                .collect();
            let orgs = register::orgs_for(&state.db, &place)
                .await?
                .into_iter()
                .map(|o| {
                    (
                        o.name,
                        lang.t(&format!("org.{}", o.kind)).to_string(),
                        o.members
                            .into_iter()
                            .map(|m| {
                                format!(
                                    "{} · {}{} {}",
                                    m.person.name,
                                    lang.t(&format!("mrole.{}", m.role)),
                                    m.member_type
                                        .map(|t| format!(" ({})", lang.t(&format!("five.{t}"))))
                                        .unwrap_or_default(),
                                    m.person.phone.unwrap_or_default()
                                )
                            })
                            .collect(),
                    )
                })
                .collect();
            (grids, orgs)
        } else {
            (vec![], vec![])
        };
        Ok(PlacePage {
            lang,
            logged_in: true,
            place_id: place.id.clone(),
            place_name: place.name.clone(),
            kind_key: format!("kind.{}", place.kind),
            code: place.code.clone(),
            crumbs,
            children,
            more: show_parts && total > parts.len() as i64,
            total,
            parts: parts
                .into_iter()
                .map(|p| PartRow {
                    building: p.building,
                    unit: p.unit.unwrap_or_default(),
                    number: p.number,
                    kind_key: format!("part.{}", p.kind),
                    area: p.area_m2,
                    basis_key: format!("basis.{}", p.area_basis),
                    owner: p.owner.as_ref().map(|o| o.name.clone()).unwrap_or_default(),
                    owner_id: p.owner.as_ref().map(|o| o.id.clone()).unwrap_or_default(),
                    phone: p.owner.and_then(|o| o.phone).unwrap_or_default(),
                })
                .collect(),
            owners_visible: reg.is_some(),
            owners_linked: reg == Some(gongzhi_domain::policy::Access::Full),
            grids,
            orgs,
        })
    }
    .await;
    match result {
        Ok(page) => render(&page, StatusCode::OK, set),
        Err(e) => page_error(e, lang),
    }
}

#[derive(Template)]
#[template(path = "owner.html")]
struct OwnerPage {
    lang: Lang,
    logged_in: bool,
    name: String,
    kind_key: String,
    phone: String,
    /// number, kind key, area
    parts: Vec<(String, String, String)>,
    total_area: String,
    /// The owner's own view: family members' and tenants' claims to confirm.
    to_confirm: Vec<gongzhi_store::accounts::ClaimView>,
}

/// An owner of record and the parts they hold that the caller may see.
pub async fn owner(
    State(state): State<AppState>,
    MaybeUser(user): MaybeUser,
    Path(id): Path<String>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    let (lang, set) = lang_of(&q, &headers);
    let Some(user) = user else {
        return Redirect::to("/login").into_response();
    };
    let result: Result<OwnerPage, ApiError> = async {
        let o = register::get_owner(&state.db, &id)
            .await
            .map_err(crate::problem::or_not_found(format!(
                "owner '{id}' not found"
            )))?;
        let own = gongzhi_store::auth::owners_of_user(&state.db, &user.user_id)
            .await?
            .contains(&o.id);
        // Only parts the caller may read the register of (full access) are shown.
        let visible: Vec<&register::OwnedPart> = o
            .parts
            .iter()
            .filter(|p| {
                own || crate::access::reads_register_fully(
                    &user,
                    &register::path_ids(&p.place_path),
                )
            })
            .collect();
        if visible.is_empty() {
            return Err(ApiError::not_found(format!("owner '{id}' not found")));
        }
        let total: i64 = visible
            .iter()
            .filter_map(|p| gongzhi_domain::money::parse_hundredths(&p.area_m2).ok())
            .sum();
        Ok(OwnerPage {
            lang,
            logged_in: true,
            name: o.name.clone(),
            kind_key: format!("owner.{}", o.kind),
            phone: o.phone.clone().unwrap_or_default(),
            parts: visible
                .iter()
                .map(|p| {
                    (
                        p.number.clone(),
                        format!("part.{}", p.kind),
                        p.area_m2.clone(),
                    )
                })
                .collect(),
            total_area: gongzhi_domain::money::format_hundredths(total),
            to_confirm: if own {
                gongzhi_store::accounts::pending_for_owner(&state.db, &o.id).await?
            } else {
                Vec::new()
            },
        })
    }
    .await;
    match result {
        Ok(page) => render(&page, StatusCode::OK, set),
        Err(e) => page_error(e, lang),
    }
}
