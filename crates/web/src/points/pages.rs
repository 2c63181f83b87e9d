//! Points as pages: the caller's points and their communities' stores
//! (`/points`: balance, entries, items to redeem, their redemptions) and
//! the store's console for station and community staff
//! (`/places/{id}/store`: items, a new item, held redemptions to hand
//! over). Each calls the same store commands as the API and the same
//! access gate.

use crate::access;
use crate::i18n::Lang;
use crate::page::{cst, lang_of, page_error, render, LangQuery};
use crate::problem::ApiError;
use crate::session::MaybeUser;
use crate::AppState;
use askama::Template;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use gongzhi_domain::policy::{self, Action};
use gongzhi_store::books::Idem;
use gongzhi_store::points::{self, Item, MyPoints, RedemptionRow, Whose};
use gongzhi_store::{auth, register, StoreError};
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/points", get(my_page))
        .route("/points/redeem", post(my_redeem))
        .route("/places/{id}/store", get(store_page).post(store_add))
        .route("/places/{id}/store/hand-over", post(store_hand_over))
}

#[derive(Deserialize, Default)]
pub struct DoneQuery {
    lang: Option<String>,
    done: Option<String>,
}

fn notice(lang: Lang, done: Option<&str>) -> String {
    match done {
        Some("redeemed") => lang.t("points.done_redeemed").into(),
        Some("added") => lang.t("points.done_added").into(),
        Some("handed_over") => lang.t("points.done_handed_over").into(),
        _ => String::new(),
    }
}

#[derive(Template)]
#[template(path = "points.html")]
struct MyPage {
    lang: Lang,
    logged_in: bool,
    has_person: bool,
    mine: MyPoints,
    items: Vec<Item>,
    redemptions: Vec<RedemptionRow>,
    notice: String,
    /// A fresh key per rendering: a double click replays, a new visit redeems again.
    key: String,
}

impl MyPage {
    fn when(&self, ms: &i64) -> String {
        cst(*ms)
    }
}

async fn my_page(
    State(state): State<AppState>,
    MaybeUser(user): MaybeUser,
    Query(q): Query<DoneQuery>,
    headers: HeaderMap,
) -> Response {
    let (lang, set) = lang_of(
        &LangQuery {
            lang: q.lang.clone(),
        },
        &headers,
    );
    let Some(user) = user else {
        return Redirect::to("/login").into_response();
    };
    let loaded = async {
        let Some(person) = auth::get_user(&state.db, &user.user_id).await?.person_id else {
            return Ok::<_, StoreError>(None);
        };
        let mine = points::of_person(&state.db, &person, 200).await?;
        let mut items = Vec::new();
        for c in points::communities_of_person(&state.db, &person).await? {
            items.extend(points::items(&state.db, &c).await?);
        }
        let redemptions = points::redemptions(&state.db, Whose::Person(&person)).await?;
        Ok(Some((mine, items, redemptions)))
    }
    .await;
    let (has_person, (mine, items, redemptions)) = match loaded {
        Ok(Some(x)) => (true, x),
        Ok(None) => (
            false,
            (
                MyPoints {
                    balance: 0,
                    entries: vec![],
                },
                vec![],
                vec![],
            ),
        ),
        Err(e) => return page_error(e.into(), lang),
    };
    render(
        &MyPage {
            lang,
            logged_in: true,
            has_person,
            mine,
            items,
            redemptions,
            notice: notice(lang, q.done.as_deref()),
            key: gongzhi_store::db::new_id(),
        },
        StatusCode::OK,
        set,
    )
}

#[derive(Deserialize)]
pub struct RedeemForm {
    item_id: String,
    key: String,
}

async fn my_redeem(
    State(state): State<AppState>,
    MaybeUser(user): MaybeUser,
    headers: HeaderMap,
    Form(f): Form<RedeemForm>,
) -> Response {
    let lang = Lang::from_request(None, &headers);
    let Some(user) = user else {
        return Redirect::to("/login").into_response();
    };
    let hidden = || page_error(ApiError::not_found(lang.t("points.unknown_item")), lang);
    let Ok(item) = points::get_item(&state.db, &f.item_id).await else {
        return hidden();
    };
    match register::get_place(&state.db, &item.place_id).await {
        Ok(p) if policy::can_see_place(&user.actor, &p.path_ids()) => {}
        _ => return hidden(),
    }
    let person = match auth::get_user(&state.db, &user.user_id).await {
        Ok(u) => match u.person_id {
            Some(p) => p,
            None => return page_error(ApiError::field("person", lang.t("points.no_person")), lang),
        },
        Err(e) => return page_error(e.into(), lang),
    };
    let idem = match Idem::new(&format!("page:{}", f.key), format!("redeem:{}", item.id)) {
        Ok(i) => i,
        Err(e) => return page_error(e.into(), lang),
    };
    match points::redeem(&state.db, &user.audit_name(), &person, &item.id, idem).await {
        Ok(_) => Redirect::to("/points?done=redeemed").into_response(),
        Err(StoreError::Conflict(m)) if m.contains("out of stock") => page_error(
            ApiError::new(
                StatusCode::CONFLICT,
                "Conflict",
                lang.t("points.out_of_stock"),
            ),
            lang,
        ),
        Err(StoreError::Conflict(m)) if m.contains("balance short") => page_error(
            ApiError::new(
                StatusCode::CONFLICT,
                "Conflict",
                lang.t("points.balance_short"),
            ),
            lang,
        ),
        Err(e) => page_error(e.into(), lang),
    }
}

#[derive(Template)]
#[template(path = "points_store.html")]
struct StorePage {
    lang: Lang,
    logged_in: bool,
    place_id: String,
    place_name: String,
    items: Vec<Item>,
    held: Vec<RedemptionRow>,
    notice: String,
}

impl StorePage {
    fn when(&self, ms: &i64) -> String {
        cst(*ms)
    }
}

async fn store_page(
    State(state): State<AppState>,
    MaybeUser(user): MaybeUser,
    Path(id): Path<String>,
    Query(q): Query<DoneQuery>,
    headers: HeaderMap,
) -> Response {
    let (lang, set) = lang_of(
        &LangQuery {
            lang: q.lang.clone(),
        },
        &headers,
    );
    let Some(user) = user else {
        return Redirect::to("/login").into_response();
    };
    let place = match access::check(&state, &user, &id, Action::ManageStore).await {
        Ok((p, _)) => p,
        Err(e) => return page_error(e, lang),
    };
    let loaded = async {
        let c = points::community_of(&place)?;
        Ok::<_, StoreError>((
            points::items(&state.db, &c).await?,
            points::redemptions(&state.db, Whose::HeldIn(&c)).await?,
        ))
    }
    .await;
    let (items, held) = match loaded {
        Ok(x) => x,
        Err(e) => return page_error(e.into(), lang),
    };
    render(
        &StorePage {
            lang,
            logged_in: true,
            place_id: place.id.clone(),
            place_name: place.name.clone(),
            items,
            held,
            notice: notice(lang, q.done.as_deref()),
        },
        StatusCode::OK,
        set,
    )
}

#[derive(Deserialize)]
pub struct ItemForm {
    name: String,
    points: String,
    stock: String,
}

fn whole(lang: Lang, field: &'static str, v: &str) -> Result<i64, ApiError> {
    v.trim()
        .parse()
        .map_err(|_| ApiError::field(field, lang.t("points.whole_number")))
}

async fn store_add(
    State(state): State<AppState>,
    MaybeUser(user): MaybeUser,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(f): Form<ItemForm>,
) -> Response {
    let lang = Lang::from_request(None, &headers);
    let Some(user) = user else {
        return Redirect::to("/login").into_response();
    };
    let place = match access::check(&state, &user, &id, Action::ManageStore).await {
        Ok((p, _)) => p,
        Err(e) => return page_error(e, lang),
    };
    let (pts, stock) = match (
        whole(lang, "points", &f.points),
        whole(lang, "stock", &f.stock),
    ) {
        (Ok(p), Ok(s)) => (p, s),
        (Err(e), _) | (_, Err(e)) => return page_error(e, lang),
    };
    match points::create_item(&state.db, &user.audit_name(), &place, &f.name, pts, stock).await {
        Ok(_) => Redirect::to(&format!("/places/{id}/store?done=added")).into_response(),
        Err(StoreError::Invalid { field, .. }) => {
            let key = match field.as_str() {
                "name" => "points.bad_name",
                "stock" => "points.bad_stock",
                _ => "points.bad_points",
            };
            page_error(ApiError::field(field, lang.t(key)), lang)
        }
        Err(e) => page_error(e.into(), lang),
    }
}

#[derive(Deserialize)]
pub struct HandOverForm {
    redemption_id: String,
}

async fn store_hand_over(
    State(state): State<AppState>,
    MaybeUser(user): MaybeUser,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(f): Form<HandOverForm>,
) -> Response {
    let lang = Lang::from_request(None, &headers);
    let Some(user) = user else {
        return Redirect::to("/login").into_response();
    };
    let hidden = || {
        page_error(
            ApiError::not_found(lang.t("points.unknown_redemption")),
            lang,
        )
    };
    let Ok((_, place_id)) = points::get_redemption(&state.db, &f.redemption_id).await else {
        return hidden();
    };
    if let Err(e) = access::check(&state, &user, &place_id, Action::HandOverRedemption).await {
        return page_error(e, lang);
    }
    match points::hand_over(&state.db, &user.audit_name(), &f.redemption_id).await {
        Ok(_) => Redirect::to(&format!("/places/{id}/store?done=handed_over")).into_response(),
        Err(StoreError::Conflict(_)) => page_error(
            ApiError::new(StatusCode::CONFLICT, "Conflict", lang.t("points.not_held")),
            lang,
        ),
        Err(e) => page_error(e.into(), lang),
    }
}
