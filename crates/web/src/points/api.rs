//! Points and the points store over HTTP. Awards and redemptions need an
//! `Idempotency-Key` header: the same key with the same body answers the
//! first result again (with `idempotent-replayed: true`), nothing added; with
//! a different body, 409.

use crate::access;
use crate::books::api::idem;
use crate::problem::{ApiError, ApiJson};
use crate::session::CurrentUser;
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use gongzhi_domain::policy::{self, Action};
use gongzhi_store::books::Outcome;
use gongzhi_store::points::{self, Award, BatchAward, BatchPosted, Item, MyPoints, Redemption};
use gongzhi_store::{auth, register};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(award))
        .routes(routes!(award_batch))
        .routes(routes!(reverse))
        .routes(routes!(me))
        .routes(routes!(create_item, items))
        .routes(routes!(redeem))
        .routes(routes!(hand_over))
        .routes(routes!(rules))
        .routes(routes!(set_rule))
}

/// 201 with the result; a replay answers the same, marked
/// `idempotent-replayed: true`.
fn created<T: Serialize>(o: Outcome<T>) -> Response {
    let mut r = (StatusCode::CREATED, Json(o.value)).into_response();
    if o.replayed {
        r.headers_mut().insert(
            "idempotent-replayed",
            header::HeaderValue::from_static("true"),
        );
    }
    r
}

/// The person the caller's account stands for (422 when none).
pub(crate) async fn own_person(state: &AppState, user: &CurrentUser) -> Result<String, ApiError> {
    auth::get_user(&state.db, &user.user_id)
        .await?
        .person_id
        .ok_or_else(|| ApiError::field("person", "your account is not linked to a person"))
}

#[derive(Deserialize, Serialize, ToSchema)]
pub struct AwardBody {
    pub person_id: String,
    /// A positive whole number of points.
    pub points: i64,
    /// Why (required; listed publicly with the name masked).
    pub reason: String,
}

/// Awards points by hand to a person (community staff over the place). The
/// place's community keeps the points. Needs `Idempotency-Key`: the same key
/// answers the same award and adds nothing.
#[utoipa::path(post, path = "/api/v1/places/{id}/points/awards", tag = "points", request_body = AwardBody, params(("id" = String, Path, description = "place id (a community or inside one)"), ("Idempotency-Key" = String, Header, description = "the caller's key for this award")), responses((status = 201, description = "awarded (or replayed)", body = Award), (status = 403, description = "not staff over the place"), (status = 409, description = "key reused with another body"), (status = 422, description = "refused; names the field")))]
async fn award(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<AwardBody>,
) -> Result<Response, ApiError> {
    let (place, _) = access::check(&state, &user, &id, Action::AwardPoints).await?;
    let key = idem(&headers, "points.award", &body)?;
    access::check_person(&state, &user, &body.person_id, "person_id").await?;
    let community = register::get_place(&state.db, &points::community_of(&place)?).await?;
    let o = points::award(
        &state.db,
        &user.audit_name(),
        &community,
        &body.person_id,
        body.points,
        &body.reason,
        gongzhi_store::books::Idem {
            key: format!("{}:{}", user.user_id, key.key),
            request_hash: key.request_hash,
        },
    )
    .await?;
    Ok(created(o))
}

#[derive(Deserialize, ToSchema)]
pub struct ReversalBody {
    pub reason: String,
}

/// Corrects an award by its exact reversal (once). Refused with 409 when the
/// points were already spent or the award already reversed.
#[utoipa::path(post, path = "/api/v1/places/{id}/points/transfers/{transfer_id}/reversal", tag = "points", request_body = ReversalBody, params(("id" = String, Path, description = "place id"), ("transfer_id" = String, Path, description = "the award")), responses((status = 201, description = "reversed", body = gongzhi_domain::points::Transfer), (status = 409, description = "already reversed or spent"), (status = 422, description = "refused; names the field")))]
async fn reverse(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((id, transfer_id)): Path<(String, String)>,
    ApiJson(body): ApiJson<ReversalBody>,
) -> Result<(StatusCode, Json<gongzhi_domain::points::Transfer>), ApiError> {
    let (place, _) = access::check(&state, &user, &id, Action::AwardPoints).await?;
    let community = register::get_place(&state.db, &points::community_of(&place)?).await?;
    let t = points::reverse(
        &state.db,
        &user.audit_name(),
        &community,
        &transfer_id,
        &body.reason,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(t)))
}

/// The caller's own points: the balance and every entry, newest first.
#[utoipa::path(get, path = "/api/v1/me/points", tag = "points", responses((status = 200, body = MyPoints), (status = 422, description = "the account is not linked to a person")))]
async fn me(State(state): State<AppState>, user: CurrentUser) -> Result<Json<MyPoints>, ApiError> {
    let person = own_person(&state, &user).await?;
    Ok(Json(points::of_person(&state.db, &person, 1000).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct ItemBody {
    pub name: String,
    /// Price in points.
    pub points: i64,
    pub stock: i64,
}

#[derive(Serialize, ToSchema)]
pub struct ItemCreated {
    pub id: String,
}

/// Puts an item in the points store of a place (station staff or community
/// staff over the place).
#[utoipa::path(post, path = "/api/v1/places/{id}/store/items", tag = "points", request_body = ItemBody, params(("id" = String, Path, description = "place id (a community or inside one)")), responses((status = 201, body = ItemCreated), (status = 403, description = "not store staff over the place"), (status = 422, description = "refused; names the field")))]
async fn create_item(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ItemBody>,
) -> Result<(StatusCode, Json<ItemCreated>), ApiError> {
    let (place, _) = access::check(&state, &user, &id, Action::ManageStore).await?;
    let id = points::create_item(
        &state.db,
        &user.audit_name(),
        &place,
        &body.name,
        body.points,
        body.stock,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(ItemCreated { id })))
}

#[derive(Serialize, ToSchema)]
pub struct ItemList {
    pub items: Vec<Item>,
}

/// The items of the store of the place's community (anyone in its world).
#[utoipa::path(get, path = "/api/v1/places/{id}/store/items", tag = "points", params(("id" = String, Path, description = "place id")), responses((status = 200, body = ItemList), (status = 404, description = "no such place")))]
async fn items(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<ItemList>, ApiError> {
    let place = visible(&state, &user, &id).await?;
    let items = points::items(&state.db, &points::community_of(&place)?).await?;
    Ok(Json(ItemList { items }))
}

/// A place the caller may name (in their world: at, above or below one of
/// their grants), else 404.
async fn visible(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
) -> Result<register::Place, ApiError> {
    let not = || ApiError::not_found(format!("place '{id}' not found"));
    let place = register::get_place(&state.db, id)
        .await
        .map_err(|_| not())?;
    if !policy::can_see_place(&user.actor, &place.path_ids()) {
        return Err(not());
    }
    Ok(place)
}

/// The caller redeems one of the item for themself: the item and the points
/// are held until station staff hand it over (or the pick-up deadline
/// passes). 409 problem+json when out of stock or the balance is short.
/// Needs `Idempotency-Key`.
#[utoipa::path(post, path = "/api/v1/store/items/{id}/redemptions", tag = "points", params(("id" = String, Path, description = "store item id"), ("Idempotency-Key" = String, Header, description = "the caller's key for this redemption")), responses((status = 201, description = "held (or replayed)", body = Redemption), (status = 404, description = "no such item"), (status = 409, description = "out of stock, balance short, or key reused with another item")))]
async fn redeem(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let not = || ApiError::not_found(format!("store item '{id}' not found"));
    let item = points::get_item(&state.db, &id).await.map_err(|_| not())?;
    visible(&state, &user, &item.place_id)
        .await
        .map_err(|_| not())?;
    let key = idem(&headers, "store.redeem", &serde_json::json!({"item": id}))?;
    let person = own_person(&state, &user).await?;
    let o = points::redeem(&state.db, &user.audit_name(), &person, &id, key).await?;
    Ok(created(o))
}

/// Station staff (or community staff) hand a held redemption over, posting
/// its points as redeemed. 409 when it is not held, or its pick-up deadline
/// passed (the hold is then voided: points and item returned).
#[utoipa::path(post, path = "/api/v1/redemptions/{id}/hand-over", tag = "points", params(("id" = String, Path, description = "redemption id")), responses((status = 200, description = "handed over", body = Redemption), (status = 403, description = "not station staff over the item's place"), (status = 404, description = "no such redemption"), (status = 409, description = "not held, or expired and voided")))]
async fn hand_over(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<Redemption>, ApiError> {
    let (_, place_id) =
        points::get_redemption(&state.db, &id)
            .await
            .map_err(crate::problem::or_not_found(format!(
                "redemption '{id}' not found"
            )))?;
    access::check(&state, &user, &place_id, Action::HandOverRedemption).await?;
    Ok(Json(
        points::hand_over(&state.db, &user.audit_name(), &id).await?,
    ))
}

#[derive(Serialize, ToSchema)]
pub struct RuleList {
    pub rules: Vec<points::Rule>,
}

/// The award rules in force in the place's community (points per unit of
/// each kind), for anyone in its world.
#[utoipa::path(get, path = "/api/v1/places/{id}/points/rules", tag = "points", params(("id" = String, Path, description = "place id")), responses((status = 200, body = RuleList), (status = 404, description = "no such place")))]
async fn rules(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<RuleList>, ApiError> {
    let place = visible(&state, &user, &id).await?;
    let rules = points::rules(&state.db, &points::community_of(&place)?).await?;
    Ok(Json(RuleList { rules }))
}

#[derive(Deserialize, ToSchema)]
pub struct RuleBody {
    /// Points per unit (0 stops awarding this kind).
    pub points: i64,
}

/// Sets the community's rule for one kind (`volunteer_hour`, `cleaning`,
/// `patrol`, `fire_watch`, `garbage_sorting`, `door_to_door`,
/// `commitment`): community staff over the place. Earlier rules stay on
/// record.
#[utoipa::path(put, path = "/api/v1/places/{id}/points/rules/{kind}", tag = "points", request_body = RuleBody, params(("id" = String, Path, description = "place id"), ("kind" = String, Path, description = "rule kind")), responses((status = 200, description = "the rules now in force", body = RuleList), (status = 403, description = "not staff over the place"), (status = 422, description = "refused; names the field")))]
async fn set_rule(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((id, kind)): Path<(String, String)>,
    ApiJson(body): ApiJson<RuleBody>,
) -> Result<Json<RuleList>, ApiError> {
    let (place, _) = access::check(&state, &user, &id, Action::AwardPoints).await?;
    let kind = gongzhi_domain::points::RuleKind::parse(&kind).ok_or_else(|| {
        ApiError::field(
            "kind",
            format!(
                "unknown kind (expected {})",
                gongzhi_domain::points::RuleKind::choices()
            ),
        )
    })?;
    let community = register::get_place(&state.db, &points::community_of(&place)?).await?;
    points::set_rule(&state.db, &user.audit_name(), &community, kind, body.points).await?;
    Ok(Json(RuleList {
        rules: points::rules(&state.db, &community.id).await?,
    }))
}

#[derive(Deserialize, Serialize, ToSchema)]
pub struct BatchBody {
    /// At most 10,000; every person must live in the place's community.
    pub awards: Vec<BatchAward>,
}

/// Awards many people at once, set-based in one transaction (e.g. the
/// confirmed hours of a 1,000-person activity): all or nothing. Community
/// staff over the place. Needs `Idempotency-Key`.
#[utoipa::path(post, path = "/api/v1/places/{id}/points/awards/batch", tag = "points", request_body = BatchBody, params(("id" = String, Path, description = "place id (a community or inside one)"), ("Idempotency-Key" = String, Header, description = "the caller's key for this batch")), responses((status = 201, description = "posted (or replayed)", body = BatchPosted), (status = 403, description = "not staff over the place"), (status = 409, description = "key reused with another body"), (status = 422, description = "refused; names the field")))]
async fn award_batch(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<BatchBody>,
) -> Result<Response, ApiError> {
    let (place, _) = access::check(&state, &user, &id, Action::AwardPoints).await?;
    let key = idem(&headers, "points.award_batch", &body)?;
    let community = register::get_place(&state.db, &points::community_of(&place)?).await?;
    let o = points::award_batch(
        &state.db,
        &user.audit_name(),
        &community,
        body.awards,
        gongzhi_store::books::Idem {
            key: format!("{}:{}", user.user_id, key.key),
            request_hash: key.request_hash,
        },
    )
    .await?;
    Ok(created(o))
}
