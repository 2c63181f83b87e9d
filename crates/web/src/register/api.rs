//! The JSON API under `/api/v1`. Every handler authorises through
//! [`crate::access`]; every write goes through one store transaction that also
//! writes the audit entry.

use crate::access::{self, check, check_person, check_place};
use crate::problem::{ApiError, ApiJson};
use crate::session::{self, CurrentUser};
use crate::AppState;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use gongzhi_domain::place::{
    FiveMemberType, GridKind, MemberRole, OrgKind, PlaceKind, ResidentRelation,
};
use gongzhi_domain::policy::{Access, Action, Role};
use gongzhi_store::{audit, auth, register};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(login))
        .routes(routes!(logout))
        .routes(routes!(me))
        .routes(routes!(public_compounds))
        .routes(routes!(list_places, create_place))
        .routes(routes!(get_place))
        .routes(routes!(place_parts))
        .routes(routes!(place_residents))
        .routes(routes!(place_grids))
        .routes(routes!(place_organisations))
        .routes(routes!(place_audit))
        .routes(routes!(get_owner))
        .routes(routes!(create_person))
        .routes(routes!(create_resident))
        .routes(routes!(create_grid))
        .routes(routes!(assign_grid_parts))
        .routes(routes!(create_org))
        .routes(routes!(get_org))
        .routes(routes!(add_member))
        .routes(routes!(create_grant))
}

fn parse_enum<T>(
    field: &str,
    v: &str,
    parse: fn(&str) -> Option<T>,
    choices: String,
) -> Result<T, ApiError> {
    parse(v)
        .ok_or_else(|| ApiError::field(field, format!("unknown value '{v}' (expected {choices})")))
}

/// The caller as logged in.
#[derive(Serialize, ToSchema)]
pub struct LoggedIn {
    user: auth::UserView,
}

/// The caller: user, role grants, linked owners of record.
#[derive(Serialize, ToSchema)]
pub struct Me {
    user: auth::UserView,
    grants: Vec<auth::GrantView>,
    owner_ids: Vec<String>,
}

/// Every compound's code and name.
#[derive(Serialize, ToSchema)]
pub struct CompoundList {
    compounds: Vec<register::CompoundListing>,
}

/// Places (the caller's top places).
#[derive(Serialize, ToSchema)]
pub struct PlaceList {
    places: Vec<register::PlaceSummary>,
}

/// A place, the ancestors the caller sees, its children, its parts below.
#[derive(Serialize, ToSchema)]
pub struct PlaceAnswer {
    place: register::Place,
    ancestors: Vec<register::Place>,
    children: Vec<register::PlaceSummary>,
    /// Exclusive parts anywhere below.
    parts: i64,
}

/// Parts below a place; owners only when `owners_visible`.
#[derive(Serialize, ToSchema)]
pub struct PartList {
    parts: Vec<register::PartView>,
    owners_visible: bool,
}

/// Residents below a place.
#[derive(Serialize, ToSchema)]
pub struct ResidentList {
    residents: Vec<register::ResidentView>,
}

/// Grids over a place.
#[derive(Serialize, ToSchema)]
pub struct GridList {
    grids: Vec<register::GridView>,
}

/// Organisations of a place.
#[derive(Serialize, ToSchema)]
pub struct OrgList {
    organisations: Vec<register::OrgView>,
}

/// Audit entries, newest first.
#[derive(Serialize, ToSchema)]
pub struct AuditList {
    entries: Vec<audit::AuditRow>,
}

/// The id of what was created.
#[derive(Serialize, ToSchema)]
pub struct Created {
    id: String,
}

/// Parts assigned to a micro-grid; a warning when it is now outside 30–100 households.
#[derive(Serialize, ToSchema)]
pub struct Assigned {
    warning: Option<String>,
}

#[derive(Deserialize, ToSchema)]
pub struct LoginBody {
    username: String,
    password: String,
}

/// Log in; sets the HttpOnly session cookie.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginBody,
    responses((status = 200, description = "logged in; session cookie set", body = LoggedIn), (status = 401, description = "wrong credentials"), (status = 429, description = "rate limited")))]
async fn login(
    State(state): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    ApiJson(body): ApiJson<LoginBody>,
) -> Result<Response, ApiError> {
    let token = session::login(
        &state,
        &addr.ip().to_string(),
        body.username.trim(),
        &body.password,
    )
    .await?;
    let uid = session::user_of_login(&state, body.username.trim()).await?;
    let user = auth::get_user(&state.db, &uid).await?;
    Ok((
        [(
            header::SET_COOKIE,
            session::session_cookie(&token, state.secure_cookies),
        )],
        Json(LoggedIn { user }),
    )
        .into_response())
}

/// Log out; ends the session.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", responses((status = 204, description = "logged out")))]
async fn logout(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    if let Some(c) = session::cookie(&headers, session::SESSION_COOKIE) {
        auth::delete_session(&state.db, &c).await?;
    }
    Ok((
        StatusCode::NO_CONTENT,
        [(header::SET_COOKIE, session::clear_cookie())],
    )
        .into_response())
}

/// The caller: user and role grants.
#[utoipa::path(get, path = "/api/v1/me", tag = "auth", responses((status = 200, description = "the current user", body = Me), (status = 401, description = "not logged in")))]
async fn me(State(state): State<AppState>, user: CurrentUser) -> Result<Json<Me>, ApiError> {
    let u = auth::get_user(&state.db, &user.user_id).await?;
    let (_, grants) = auth::grants_of(&state.db, &user.user_id).await?;
    let owners = auth::owners_of_user(&state.db, &user.user_id).await?;
    Ok(Json(Me {
        user: u,
        grants,
        owner_ids: owners,
    }))
}

/// Every compound's code and name. Public: no login, no personal data.
#[utoipa::path(get, path = "/api/v1/public/compounds", tag = "public", responses((status = 200, description = "compounds", body = CompoundList)))]
async fn public_compounds(State(state): State<AppState>) -> Result<Json<CompoundList>, ApiError> {
    Ok(Json(CompoundList {
        compounds: register::public_compounds(&state.db).await?,
    }))
}

/// The places at the top of the caller's world: the scopes of their grants.
#[utoipa::path(get, path = "/api/v1/places", tag = "register", responses((status = 200, description = "the caller's top places", body = PlaceList)))]
async fn list_places(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Json<PlaceList>, ApiError> {
    Ok(Json(PlaceList {
        places: super::top_places(&state, &user).await?,
    }))
}

#[derive(Deserialize, ToSchema)]
pub struct NewPlace {
    /// The parent place; omit for a district (administrators only).
    parent_id: Option<String>,
    kind: String,
    name: String,
    /// A compound's short stable code; derived from the name when omitted.
    code: Option<String>,
}

/// Create a place one level below its parent.
#[utoipa::path(post, path = "/api/v1/places", tag = "register", request_body = NewPlace, responses((status = 201, description = "created", body = register::Place), (status = 422, description = "invalid field")))]
async fn create_place(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiJson(body): ApiJson<NewPlace>,
) -> Result<(StatusCode, Json<register::Place>), ApiError> {
    let kind = parse_enum("kind", &body.kind, PlaceKind::parse, PlaceKind::choices())?;
    let parent = match &body.parent_id {
        Some(pid) => Some(check(&state, &user, pid, Action::WriteRegister).await?.0),
        None => {
            crate::access::check_path(&user, &[], Action::WriteRegister)?;
            None
        }
    };
    let place = register::add_place(
        &state.db,
        &user.audit_name(),
        parent.as_ref(),
        kind,
        &body.name,
        body.code.as_deref(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(place)))
}

/// A place with its ancestors and children.
#[utoipa::path(get, path = "/api/v1/places/{id}", tag = "register", params(("id" = String, Path, description = "place id")), responses((status = 200, description = "the place", body = PlaceAnswer), (status = 404, description = "no such place in the caller's world")))]
async fn get_place(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<PlaceAnswer>, ApiError> {
    let (place, _) = check(&state, &user, &id, Action::ReadStructure).await?;
    let ancestors: Vec<register::Place> = register::ancestors(&state.db, &place)
        .await?
        .into_iter()
        .filter(|a| check_place(&user, a, Action::ReadStructure).is_ok())
        .collect();
    let children = register::children(&state.db, Some(&place)).await?;
    let parts = register::count_parts_under(&state.db, &place).await?;
    Ok(Json(PlaceAnswer {
        place,
        ancestors,
        children,
        parts,
    }))
}

#[derive(Deserialize, IntoParams)]
pub struct Page {
    /// At most 5000.
    limit: Option<i64>,
    offset: Option<i64>,
}

/// Exclusive parts below a place. Owners (masked phones) only with register access.
#[utoipa::path(get, path = "/api/v1/places/{id}/parts", tag = "register", params(("id" = String, Path, description = "place id"), Page), responses((status = 200, description = "parts", body = PartList)))]
async fn place_parts(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Query(page): Query<Page>,
) -> Result<Json<PartList>, ApiError> {
    let (place, _) = check(&state, &user, &id, Action::ReadStructure).await?;
    let reg = check_place(&user, &place, Action::ReadRegister).ok();
    let filter = reg
        .as_ref()
        .map(access::filter)
        .unwrap_or(register::PartFilter::All);
    let parts = register::parts_under(
        &state.db,
        &place,
        &filter,
        reg.is_some(),
        page.limit.unwrap_or(1000),
        page.offset.unwrap_or(0),
    )
    .await?;
    Ok(Json(PartList {
        parts,
        owners_visible: reg.is_some(),
    }))
}

/// Residents below a place (register access), phones and ID numbers masked.
#[utoipa::path(get, path = "/api/v1/places/{id}/residents", tag = "register", params(("id" = String, Path, description = "place id"), Page), responses((status = 200, description = "residents", body = ResidentList), (status = 403, description = "no register access")))]
async fn place_residents(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Query(page): Query<Page>,
) -> Result<Json<ResidentList>, ApiError> {
    let (place, acc) = check(&state, &user, &id, Action::ReadRegister).await?;
    let rs = register::residents_under(
        &state.db,
        &place,
        &access::filter(&acc),
        page.limit.unwrap_or(1000),
    )
    .await?;
    Ok(Json(ResidentList { residents: rs }))
}

/// Grids over a place, with household counts and 30–100 warnings.
#[utoipa::path(get, path = "/api/v1/places/{id}/grids", tag = "register", params(("id" = String, Path, description = "place id")), responses((status = 200, description = "grids", body = GridList)))]
async fn place_grids(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<GridList>, ApiError> {
    let (place, acc) = check(&state, &user, &id, Action::ReadRegister).await?;
    let mut grids = register::grids_of(&state.db, &place).await?;
    if let Access::Grids(mine) = acc {
        grids.retain(|g| mine.contains(&g.id));
    }
    Ok(Json(GridList { grids }))
}

/// Organisations of a place: party overlay, committees, steward, teams.
#[utoipa::path(get, path = "/api/v1/places/{id}/organisations", tag = "register", params(("id" = String, Path, description = "place id")), responses((status = 200, description = "organisations", body = OrgList)))]
async fn place_organisations(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<OrgList>, ApiError> {
    let (place, _) = check(&state, &user, &id, Action::ReadRegister).await?;
    Ok(Json(OrgList {
        organisations: register::orgs_for(&state.db, &place).await?,
    }))
}

#[derive(Deserialize, IntoParams)]
pub struct AuditQuery {
    limit: Option<i64>,
}

/// The audit trail of a place and everything below it, newest first.
#[utoipa::path(get, path = "/api/v1/places/{id}/audit", tag = "register", params(("id" = String, Path, description = "place id"), AuditQuery), responses((status = 200, description = "audit entries", body = AuditList)))]
async fn place_audit(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Query(q): Query<AuditQuery>,
) -> Result<Json<AuditList>, ApiError> {
    let (place, _) = check(&state, &user, &id, Action::ReadAudit).await?;
    Ok(Json(AuditList {
        entries: audit::list(&state.db, &place.path, q.limit.unwrap_or(100)).await?,
    }))
}

/// An owner of record and their parts (register access over every part's place).
#[utoipa::path(get, path = "/api/v1/owners/{id}", tag = "register", params(("id" = String, Path, description = "owner id")), responses((status = 200, description = "owner", body = register::OwnerDetail), (status = 404, description = "not found")))]
async fn get_owner(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<register::OwnerDetail>, ApiError> {
    let mut owner = register::get_owner(&state.db, &id).await?;
    let own = auth::owners_of_user(&state.db, &user.user_id)
        .await?
        .contains(&owner.id);
    // Only the parts whose register the caller may read in full are shown;
    // an owner with no such part does not exist for the caller.
    owner.parts.retain(|p| {
        own || crate::access::reads_register_fully(&user, &register::path_ids(&p.place_path))
    });
    if owner.parts.is_empty() {
        return Err(ApiError::not_found(format!("owner '{id}' not found")));
    }
    Ok(Json(owner))
}

#[derive(Deserialize, ToSchema)]
pub struct NewPerson {
    name: String,
    phone: Option<String>,
    id_number: Option<String>,
    /// The place (usually a compound) this person belongs to.
    home_place_id: String,
    #[serde(default)]
    consent_publish_name: bool,
}

/// Register a person. The response masks phone and ID number.
#[utoipa::path(post, path = "/api/v1/people", tag = "register", request_body = NewPerson, responses((status = 201, description = "created", body = register::PersonView)))]
async fn create_person(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiJson(body): ApiJson<NewPerson>,
) -> Result<(StatusCode, Json<register::PersonView>), ApiError> {
    let (home, _) = check(&state, &user, &body.home_place_id, Action::WriteRegister).await?;
    let v = register::add_person(
        &state.db,
        &user.audit_name(),
        register::NewPerson {
            name: &body.name,
            phone: body.phone.as_deref(),
            id_number: body.id_number.as_deref(),
            home: &home,
            consent_publish_name: body.consent_publish_name,
        },
    )
    .await?;
    Ok((StatusCode::CREATED, Json(v)))
}

#[derive(Deserialize, ToSchema)]
pub struct NewResident {
    person_id: String,
    part_id: String,
    /// owner, tenant or family
    relation: String,
}

/// Record that a person lives in a part.
#[utoipa::path(post, path = "/api/v1/residents", tag = "register", request_body = NewResident, responses((status = 201, description = "created", body = Created)))]
async fn create_resident(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiJson(body): ApiJson<NewResident>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let relation = parse_enum(
        "relation",
        &body.relation,
        ResidentRelation::parse,
        ResidentRelation::choices(),
    )?;
    let place = register::part_place(&state.db, &body.part_id)
        .await
        .map_err(|_| ApiError::field("part_id", format!("no part '{}'", body.part_id)))?;
    check_place(&user, &place, Action::WriteRegister)?;
    check_person(&state, &user, &body.person_id, "person_id").await?;
    let id = register::move_in(
        &state.db,
        &user.audit_name(),
        &body.person_id,
        &body.part_id,
        relation,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

#[derive(Deserialize, ToSchema)]
pub struct NewGrid {
    /// community, compound or micro
    kind: String,
    name: String,
    place_id: String,
    parent_id: Option<String>,
    worker_person_id: Option<String>,
}

/// Create a grid (community grid → compound grid → micro-grid).
#[utoipa::path(post, path = "/api/v1/grids", tag = "register", request_body = NewGrid, responses((status = 201, description = "created", body = Created)))]
async fn create_grid(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiJson(body): ApiJson<NewGrid>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let kind = parse_enum("kind", &body.kind, GridKind::parse, GridKind::choices())?;
    let (place, _) = check(&state, &user, &body.place_id, Action::WriteRegister).await?;
    if let Some(w) = &body.worker_person_id {
        check_person(&state, &user, w, "worker_person_id").await?;
    }
    let id = register::add_grid(
        &state.db,
        &user.audit_name(),
        kind,
        &body.name,
        &place,
        body.parent_id.as_deref(),
        body.worker_person_id.as_deref(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

#[derive(Deserialize, ToSchema)]
pub struct GridParts {
    part_ids: Vec<String>,
}

/// Put parts into a micro-grid; answers with a warning outside 30–100 households.
#[utoipa::path(post, path = "/api/v1/grids/{id}/parts", tag = "register", params(("id" = String, Path, description = "grid id")), request_body = GridParts, responses((status = 200, description = "assigned", body = Assigned)))]
async fn assign_grid_parts(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<GridParts>,
) -> Result<Json<Assigned>, ApiError> {
    if body.part_ids.len() > 10_000 {
        return Err(ApiError::field(
            "part_ids",
            "at most 10000 parts per request",
        ));
    }
    let (place, _) =
        register::grid_place(&state.db, &id)
            .await
            .map_err(crate::problem::or_not_found(format!(
                "grid '{id}' not found"
            )))?;
    check_place(&user, &place, Action::WriteRegister)?;
    let warning =
        register::assign_to_grid(&state.db, &user.audit_name(), &id, &body.part_ids).await?;
    Ok(Json(Assigned { warning }))
}

#[derive(Deserialize, ToSchema)]
pub struct NewOrg {
    kind: String,
    name: String,
    place_id: String,
    parent_id: Option<String>,
    /// A joint compound branch also spans these compounds.
    #[serde(default)]
    also_spans: Vec<String>,
}

/// Create an organisation anchored on a place.
#[utoipa::path(post, path = "/api/v1/organisations", tag = "register", request_body = NewOrg, responses((status = 201, description = "created", body = Created)))]
async fn create_org(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiJson(body): ApiJson<NewOrg>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let kind = parse_enum("kind", &body.kind, OrgKind::parse, OrgKind::choices())?;
    let (place, _) = check(&state, &user, &body.place_id, Action::WriteRegister).await?;
    let mut spans = Vec::new();
    for (i, s) in body.also_spans.iter().enumerate() {
        let (p, _) = check(&state, &user, s, Action::WriteRegister)
            .await
            .map_err(|e| ApiError::field(format!("also_spans[{i}]"), e.detail))?;
        spans.push(p);
    }
    let id = register::add_org(
        &state.db,
        &user.audit_name(),
        kind,
        &body.name,
        &place,
        body.parent_id.as_deref(),
        &spans,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

/// An organisation with its members (phones masked).
#[utoipa::path(get, path = "/api/v1/organisations/{id}", tag = "register", params(("id" = String, Path, description = "organisation id")), responses((status = 200, description = "organisation", body = register::OrgView)))]
async fn get_org(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<register::OrgView>, ApiError> {
    let (org, place) =
        register::get_org(&state.db, &id)
            .await
            .map_err(crate::problem::or_not_found(format!(
                "organisation '{id}' not found"
            )))?;
    check_place(&user, &place, Action::ReadRegister)?;
    Ok(Json(org))
}

#[derive(Deserialize, ToSchema)]
pub struct NewMember {
    person_id: String,
    role: String,
    /// For co-governance teams: one of the five member types.
    member_type: Option<String>,
    building_id: Option<String>,
    /// Unix milliseconds.
    term_start: Option<i64>,
    term_end: Option<i64>,
}

/// Add a member with a role and a term.
#[utoipa::path(post, path = "/api/v1/organisations/{id}/members", tag = "register", params(("id" = String, Path, description = "organisation id")), request_body = NewMember, responses((status = 201, description = "created", body = Created)))]
async fn add_member(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<NewMember>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let role = parse_enum("role", &body.role, MemberRole::parse, MemberRole::choices())?;
    let mt = match &body.member_type {
        Some(t) => Some(parse_enum(
            "member_type",
            t,
            FiveMemberType::parse,
            FiveMemberType::choices(),
        )?),
        None => None,
    };
    let (_, place) =
        register::get_org(&state.db, &id)
            .await
            .map_err(crate::problem::or_not_found(format!(
                "organisation '{id}' not found"
            )))?;
    check_place(&user, &place, Action::WriteRegister)?;
    check_person(&state, &user, &body.person_id, "person_id").await?;
    let term = (
        body.term_start.unwrap_or_else(gongzhi_store::db::now_ms),
        body.term_end,
    );
    let mid = register::join_org(
        &state.db,
        &user.audit_name(),
        &id,
        &body.person_id,
        role,
        mt,
        body.building_id.as_deref(),
        term,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(Created { id: mid })))
}

#[derive(Deserialize, ToSchema)]
pub struct NewGrant {
    /// The user to grant to, by username.
    username: String,
    role: String,
    place_id: Option<String>,
    grid_id: Option<String>,
}

/// Grant a role over a place (or a grid worker over a micro-grid).
#[utoipa::path(post, path = "/api/v1/grants", tag = "access", request_body = NewGrant, responses((status = 201, description = "granted", body = Created), (status = 403, description = "not allowed")))]
async fn create_grant(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiJson(body): ApiJson<NewGrant>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let role = parse_enum("role", &body.role, Role::parse, Role::choices())?;
    let path = match &body.place_id {
        Some(pid) => {
            let (p, _) = check(&state, &user, pid, Action::ManageAccess).await?;
            p.path_ids()
        }
        None => vec![],
    };
    crate::access::check_grant(&user, role, &path)?;
    let target = auth::user_id_by_name(&state.db, &body.username)
        .await
        .map_err(|_| ApiError::field("username", format!("no user '{}'", body.username)))?;
    let id = auth::grant(
        &state.db,
        &user.audit_name(),
        &target,
        role,
        body.place_id.as_deref(),
        body.grid_id.as_deref(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}
