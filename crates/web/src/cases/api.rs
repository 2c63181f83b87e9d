//! Cases under `/api/v1`: raise, act (every transition an event), rate,
//! photos, timelines, work queues, the escalation sweep and 吹哨, statistics
//! (private per place and public anonymous per compound), routing rules.
//! Authorisation only through [`crate::access`].

use super::gate::{act_now, calendar, load};
use crate::access::{actor_may_case, check, check_place, grids, sweep_grids};
use crate::problem::{ApiError, ApiJson};
use crate::session::CurrentUser;
use crate::AppState;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use gongzhi_domain::cases::{
    self as rules, Category, Channel, Command, Priority, Status, MAX_PHOTO_BYTES,
};
use gongzhi_domain::mediation::MediationCounts;
use gongzhi_domain::place::OrgKind;
use gongzhi_domain::policy::{Action, Actor};
use gongzhi_store::cases::{self, CaseView, EventView, Extra, ListFilter, NewCase, PhotoView};
use gongzhi_store::{auth, db, mediation, register};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(categories))
        .routes(routes!(raise))
        .routes(routes!(my_cases))
        .routes(routes!(get_case))
        .routes(routes!(act))
        .routes(routes!(rate))
        .routes(routes!(add_photo))
        .routes(routes!(get_photo))
        .routes(routes!(queue))
        .routes(routes!(list_cases))
        .routes(routes!(sweep))
        .routes(routes!(place_stats))
        .routes(routes!(public_stats))
        .routes(routes!(get_routes, set_route))
}

pub fn parse_category(field: &str, v: &str) -> Result<Category, ApiError> {
    Category::parse(v).ok_or_else(|| {
        ApiError::field(
            field,
            format!("unknown category '{v}' (expected {})", Category::choices()),
        )
    })
}

#[derive(Deserialize, ToSchema)]
pub struct NewCaseBody {
    /// The place the problem is at (compound, building or unit).
    place_id: Option<String>,
    /// Or the exclusive part (flat, shop, parking space) it is about.
    part_id: Option<String>,
    /// repair, environment, safety, parking, noise, neighbour_dispute, fee_complaint, service_complaint, suggestion, other
    category: String,
    /// urgent, high, normal (default) or low
    priority: Option<String>,
    description: String,
    address: Option<String>,
    /// web (default), api, door_knock, phone or station (the last three only for staff, on someone's behalf)
    channel: Option<String>,
    /// For door_knock/phone/station: the person the case is for.
    reporter_name: Option<String>,
    reporter_phone: Option<String>,
    /// May the reporter's name appear on public pages (masked otherwise)?
    #[serde(default)]
    consent_publish: bool,
}

/// A category with its default handler and time limits.
#[derive(Serialize, ToSchema)]
pub struct CategoryInfo {
    code: Category,
    name: String,
    description: String,
    handled_by: OrgKind,
    response: String,
    resolution: String,
}

#[derive(Serialize, ToSchema)]
pub struct Categories {
    categories: Vec<CategoryInfo>,
    priorities: Vec<Priority>,
}

/// Categories with their default time limits.
#[utoipa::path(get, path = "/api/v1/case-categories", tag = "public", responses((status = 200, description = "categories", body = Categories)))]
async fn categories() -> Json<Categories> {
    let categories = Category::ALL
        .iter()
        .map(|c| {
            let (name, desc) = c.describe();
            let l = rules::default_limits(*c, Priority::Normal);
            CategoryInfo {
                code: *c,
                name: name.to_string(),
                description: desc.to_string(),
                handled_by: rules::default_route(*c),
                response: l.response.describe(),
                resolution: l.resolution.describe(),
            }
        })
        .collect();
    Json(Categories {
        categories,
        priorities: Priority::ALL.to_vec(),
    })
}

/// Raise a case: a resident about their own compound, or staff on someone's behalf.
#[utoipa::path(post, path = "/api/v1/cases", tag = "cases", request_body = NewCaseBody,
    responses((status = 201, description = "raised", body = CaseView), (status = 422, description = "unknown category, place outside the reporter's compound, …"), (status = 403, description = "not allowed")))]
async fn raise(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiJson(body): ApiJson<NewCaseBody>,
) -> Result<(StatusCode, Json<CaseView>), ApiError> {
    let category = parse_category("category", &body.category)?;
    let priority = match &body.priority {
        Some(p) => Priority::parse(p).ok_or_else(|| {
            ApiError::field(
                "priority",
                format!("unknown priority '{p}' (expected {})", Priority::choices()),
            )
        })?,
        None => Priority::Normal,
    };
    let channel = match &body.channel {
        Some(c) => Channel::parse(c)
            .filter(|c| *c != Channel::Open311)
            .ok_or_else(|| {
                ApiError::field(
                    "channel",
                    format!(
                        "unknown channel '{c}' (expected web, api, door_knock, phone, station)"
                    ),
                )
            })?,
        None => Channel::Web,
    };
    let (place, field) = match (&body.place_id, &body.part_id) {
        (_, Some(part)) => (register::part_place(&state.db, part).await.ok(), "part_id"),
        (Some(p), None) => (register::get_place(&state.db, p).await.ok(), "place_id"),
        (None, None) => {
            return Err(ApiError::field(
                "place_id",
                "name the place (place_id) or the part (part_id) the case is about",
            ))
        }
    };
    let outside = || {
        ApiError::field(
            field,
            "not a place in your compound: you can raise cases only where you live or work",
        )
    };
    let place = place.ok_or_else(outside)?;
    if let (Some(p), Some(_)) = (&body.place_id, &body.part_id) {
        if !place.path.contains(&format!("/{p}/")) {
            return Err(ApiError::field(
                "part_id",
                "the part is not in the named place",
            ));
        }
    }
    check_place(&user, &place, Action::RaiseCase).map_err(|_| outside())?;
    let staff = check_place(&user, &place, Action::RaiseCaseOnBehalf).is_ok();
    if channel.on_behalf() && !staff {
        return Err(ApiError::forbidden(format!(
            "only grid workers and staff raise cases by {channel} on someone's behalf"
        )));
    }
    let nc = NewCase {
        place,
        part_id: body.part_id.clone(),
        category,
        priority,
        description: body.description.clone(),
        address: body.address.clone(),
        lat: None,
        lon: None,
        channel,
        reporter_user_id: (!channel.on_behalf()).then(|| user.user_id.clone()),
        reporter_name: body.reporter_name.clone(),
        reporter_phone: body.reporter_phone.clone(),
        consent_publish: body.consent_publish,
        raised_by: user.audit_name(),
    };
    let id = cases::raise(&state.db, &nc, calendar(), db::now_ms()).await?;
    Ok((StatusCode::CREATED, Json(cases::get(&state.db, &id).await?)))
}

#[derive(Deserialize, IntoParams)]
pub struct Limit {
    limit: Option<i64>,
}

/// The caller's own cases, newest first.
#[utoipa::path(get, path = "/api/v1/cases/mine", tag = "cases", params(Limit), responses((status = 200, description = "cases", body = CaseList)))]
async fn my_cases(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<Limit>,
) -> Result<Json<CaseList>, ApiError> {
    let cases = cases::mine(&state.db, &user.user_id, q.limit.unwrap_or(100)).await?;
    Ok(Json(CaseList { cases }))
}

#[derive(Serialize, ToSchema)]
pub struct CaseList {
    cases: Vec<CaseView>,
}

/// What the caller is to a case.
#[derive(Serialize, ToSchema)]
pub struct You {
    reporter: bool,
    handler: bool,
    escalator: bool,
}

#[derive(Serialize, ToSchema)]
pub struct CaseDetail {
    case: CaseView,
    timeline: Vec<EventView>,
    photos: Vec<PhotoView>,
    you: You,
}

#[derive(Serialize, ToSchema)]
pub struct OneCase {
    case: CaseView,
}

/// A case with its timeline and photos (its reporter or staff over its place).
#[utoipa::path(get, path = "/api/v1/cases/{id}", tag = "cases", params(("id" = String, Path, description = "case id")), responses((status = 200, description = "the case", body = CaseDetail), (status = 404, description = "not found or not yours")))]
async fn get_case(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<CaseDetail>, ApiError> {
    let (case, st) = load(&state, &user, &id).await?;
    Ok(Json(CaseDetail {
        case,
        timeline: cases::timeline(&state.db, &id).await?,
        photos: cases::photos(&state.db, &id).await?,
        you: You {
            reporter: st.reporter,
            handler: st.handler,
            escalator: st.escalator,
        },
    }))
}

#[derive(Deserialize, ToSchema)]
pub struct ActBody {
    /// accept, reject, merge, assign, start, resolve, verify, close, reopen, escalate (吹哨) or comment
    action: String,
    note: Option<String>,
    /// For merge: the case this one duplicates.
    duplicate_of: Option<String>,
    /// For assign: the user who will do the work.
    assignee_user_id: Option<String>,
}

/// Move a case on. Every action is an event on its timeline.
#[utoipa::path(post, path = "/api/v1/cases/{id}/actions", tag = "cases", params(("id" = String, Path, description = "case id")), request_body = ActBody,
    responses((status = 200, description = "the case after the action", body = OneCase), (status = 422, description = "not allowed from the current state"), (status = 403, description = "outside the caller's role")))]
async fn act(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ActBody>,
) -> Result<Json<OneCase>, ApiError> {
    let (c, st) = load(&state, &user, &id).await?;
    let note = body.note.clone().filter(|n| !n.trim().is_empty());
    let cmd = match body.action.as_str() {
        "accept" => Command::Accept,
        "reject" => Command::Reject { reason: note.clone().unwrap_or_default() },
        "merge" => Command::Merge { into: body.duplicate_of.clone().unwrap_or_default() },
        "assign" => Command::Assign,
        "start" => Command::Start,
        "resolve" => Command::Resolve,
        "verify" => Command::Verify,
        "close" => Command::Close,
        "reopen" => Command::Reopen,
        "escalate" => Command::Escalate,
        "comment" => {
            let note = note.clone().unwrap_or_default();
            let c = cases::comment(&state.db, &id, &user.audit_name(), &note, db::now_ms()).await?;
            return Ok(Json(OneCase { case: c }));
        }
        other => return Err(ApiError::field("action", format!("unknown action '{other}' (expected accept, reject, merge, assign, start, resolve, verify, close, reopen, escalate, comment)"))),
    };
    if !st.may(&cmd) {
        return Err(ApiError::forbidden(format!(
            "you may not {} this case",
            body.action
        )));
    }
    match (&cmd, &body.assignee_user_id) {
        (Command::Assign, Some(u)) => check_assignee(&state, &c, u).await?,
        (Command::Merge { into }, _) if !into.trim().is_empty() && into != &id => {
            // Merged only into a case the caller handles too.
            let handles = load(&state, &user, into)
                .await
                .is_ok_and(|(_, s)| s.handler);
            if !handles {
                return Err(ApiError::field("duplicate_of", format!("no case '{into}'")));
            }
        }
        _ => {}
    }
    let extra = Extra {
        note,
        assignee_user_id: body.assignee_user_id.clone(),
        rating_comment: None,
    };
    let c = act_now(&state, &id, &user.audit_name(), &cmd, &extra).await?;
    Ok(Json(OneCase { case: c }))
}

/// The assignee must be a user whose grants let them handle the case (else
/// they would be told of a case they cannot open): 422 naming the field.
async fn check_assignee(state: &AppState, c: &CaseView, assignee: &str) -> Result<(), ApiError> {
    let refuse = || {
        ApiError::field(
            "assignee_user_id",
            format!("user '{assignee}' may not handle this case"),
        )
    };
    let (grants, _) = auth::grants_of(&state.db, assignee)
        .await
        .map_err(|_| refuse())?;
    let place = register::get_place(&state.db, &c.place_id).await?;
    let actor = Actor {
        user_id: assignee.to_string(),
        grants,
    };
    if actor_may_case(&actor, &place, c.grid_id.as_deref(), Action::HandleCase) {
        Ok(())
    } else {
        Err(refuse())
    }
}

#[derive(Deserialize, ToSchema)]
pub struct RateBody {
    /// 1 to 5.
    stars: i64,
    comment: Option<String>,
}

/// The reporter rates a closed case, once per closure; 2 or less allows reopening.
#[utoipa::path(post, path = "/api/v1/cases/{id}/rating", tag = "cases", params(("id" = String, Path, description = "case id")), request_body = RateBody,
    responses((status = 200, description = "rated", body = OneCase), (status = 422, description = "not closed, out of range or already rated"), (status = 403, description = "not the reporter")))]
async fn rate(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<RateBody>,
) -> Result<Json<OneCase>, ApiError> {
    let (_, st) = load(&state, &user, &id).await?;
    if !st.reporter {
        return Err(ApiError::forbidden("only the reporter rates a case"));
    }
    if !(1..=5).contains(&body.stars) {
        return Err(ApiError::field(
            "stars",
            format!("a rating is 1 to 5, not {}", body.stars),
        ));
    }
    if let Some(c) = &body.comment {
        rules::check_text("comment", c, rules::MAX_NOTE_CHARS, false)
            .map_err(|e| ApiError::field(e.field, e.reason))?;
    }
    let cmd = Command::Rate {
        stars: body.stars as u8,
    };
    let extra = Extra {
        rating_comment: body.comment.clone(),
        ..Default::default()
    };
    let c = act_now(&state, &id, &user.audit_name(), &cmd, &extra).await?;
    Ok(Json(OneCase { case: c }))
}

/// Add a photo: the raw bytes as the body (PNG, JPEG or WebP, at most 5 MiB). Stored with its SHA-256.
#[utoipa::path(post, path = "/api/v1/cases/{id}/photos", tag = "cases", params(("id" = String, Path, description = "case id")),
    responses((status = 201, description = "stored", body = PhotoView), (status = 413, description = "too large"), (status = 422, description = "not an image")))]
async fn add_photo(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    body: Body,
) -> Result<(StatusCode, Json<PhotoView>), ApiError> {
    let (_, _st) = load(&state, &user, &id).await?;
    let bytes = axum::body::to_bytes(body, MAX_PHOTO_BYTES + 1)
        .await
        .map_err(|_| {
            let mut e = ApiError::field(
                "photo",
                format!("the photo is larger than the limit of {MAX_PHOTO_BYTES} bytes"),
            );
            e.status = StatusCode::PAYLOAD_TOO_LARGE;
            e
        })?;
    if bytes.len() > MAX_PHOTO_BYTES {
        let mut e = ApiError::field(
            "photo",
            format!("the photo is larger than the limit of {MAX_PHOTO_BYTES} bytes"),
        );
        e.status = StatusCode::PAYLOAD_TOO_LARGE;
        return Err(e);
    }
    rules::check_photo(&bytes).map_err(|e| ApiError::field("photo", e))?;
    let p = cases::add_photo(
        &state.db,
        &id,
        &user.audit_name(),
        bytes.to_vec(),
        db::now_ms(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(p)))
}

/// A photo's bytes, with the type sniffed when it was stored.
#[utoipa::path(get, path = "/api/v1/cases/{id}/photos/{photo_id}", tag = "cases", params(("id" = String, Path, description = "case id"), ("photo_id" = String, Path, description = "photo id")), responses((status = 200, description = "the image (PNG, JPEG or WebP)", body = Vec<u8>, content_type = "application/octet-stream")))]
async fn get_photo(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((id, photo_id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    load(&state, &user, &id).await?;
    let (ct, bytes) = cases::photo_bytes(&state.db, &id, &photo_id).await?;
    Ok((
        [
            (header::CONTENT_TYPE, ct),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_string()),
        ],
        bytes,
    )
        .into_response())
}

#[derive(Deserialize, IntoParams)]
pub struct ListQuery {
    /// Comma-separated statuses.
    status: Option<String>,
    category: Option<String>,
    /// Reported at or after (ms).
    from: Option<i64>,
    /// Reported before (ms).
    to: Option<i64>,
    limit: Option<i64>,
    offset: Option<i64>,
}

fn filter_from(
    q: &ListQuery,
    open_only: bool,
    grids: Option<Vec<String>>,
) -> Result<ListFilter, ApiError> {
    let status = match &q.status {
        Some(s) => Some(
            s.split(',')
                .map(|x| {
                    Status::parse(x).ok_or_else(|| {
                        ApiError::field(
                            "status",
                            format!("unknown status '{x}' (expected {})", Status::choices()),
                        )
                    })
                })
                .collect::<Result<Vec<_>, _>>()?,
        ),
        None => None,
    };
    let category = q
        .category
        .as_deref()
        .map(|c| parse_category("category", c))
        .transpose()?;
    Ok(ListFilter {
        open_only,
        status,
        category,
        from: q.from,
        to: q.to,
        ids: None,
        grids,
    })
}

/// The work queue of a place: open cases below it, soonest deadline first, overdue flagged.
#[utoipa::path(get, path = "/api/v1/places/{id}/case-queue", tag = "cases", params(("id" = String, Path, description = "place id"), ListQuery), responses((status = 200, description = "queue", body = Queue)))]
async fn queue(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Query(q): Query<ListQuery>,
) -> Result<Json<Queue>, ApiError> {
    let (place, access) = check(&state, &user, &id, Action::ReadCases).await?;
    let list = cases::list_under(
        &state.db,
        &place.path,
        &filter_from(&q, true, grids(&access))?,
        q.limit.unwrap_or(100),
        q.offset.unwrap_or(0),
    )
    .await?;
    let overdue = list.iter().filter(|c| c.overdue).count();
    Ok(Json(Queue {
        cases: list,
        overdue,
    }))
}

/// Open cases, soonest deadline first, and how many are overdue.
#[derive(Serialize, ToSchema)]
pub struct Queue {
    cases: Vec<CaseView>,
    overdue: usize,
}

/// All cases below a place, newest first, with filters.
#[utoipa::path(get, path = "/api/v1/places/{id}/cases", tag = "cases", params(("id" = String, Path, description = "place id"), ListQuery), responses((status = 200, description = "cases", body = CaseList)))]
async fn list_cases(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Query(q): Query<ListQuery>,
) -> Result<Json<CaseList>, ApiError> {
    let (place, access) = check(&state, &user, &id, Action::ReadCases).await?;
    let list = cases::list_under(
        &state.db,
        &place.path,
        &filter_from(&q, false, grids(&access))?,
        q.limit.unwrap_or(100),
        q.offset.unwrap_or(0),
    )
    .await?;
    Ok(Json(CaseList { cases: list }))
}

/// The escalation sweep: overdue open cases below the place move one level up.
#[utoipa::path(post, path = "/api/v1/places/{id}/case-sweep", tag = "cases", params(("id" = String, Path, description = "place id")), responses((status = 200, description = "how many were escalated", body = Swept)))]
async fn sweep(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<Swept>, ApiError> {
    let (place, _) = check(&state, &user, &id, Action::EscalateCase).await?;
    let n = cases::sweep_in(
        &state.db,
        &place.path,
        sweep_grids(&user, &place).as_deref(),
        &user.audit_name(),
        calendar(),
        db::now_ms(),
        500,
    )
    .await?;
    Ok(Json(Swept { escalated: n }))
}

#[derive(Serialize, ToSchema)]
pub struct Swept {
    escalated: u64,
}

#[derive(Deserialize, IntoParams)]
pub struct Period {
    /// From (ms, inclusive); default one year ago.
    from: Option<i64>,
    /// To (ms, exclusive); default now.
    to: Option<i64>,
}

fn period(p: &Period) -> Result<(i64, i64), ApiError> {
    let now = db::now_ms();
    let to = p.to.unwrap_or(now + 1);
    let from = p.from.unwrap_or(to.saturating_sub(366 * rules::DAY_MS));
    if from >= to {
        return Err(ApiError::field(
            "from",
            "the period must start before it ends",
        ));
    }
    Ok((from, to))
}

/// An exact ratio (`den` 0: no data).
#[derive(Serialize, ToSchema)]
pub struct Ratio {
    num: i64,
    den: i64,
}

/// A rate as an exact ratio and as a percentage with one decimal ("—" without data).
#[derive(Serialize, ToSchema)]
pub struct Rate {
    num: i64,
    den: i64,
    percent: String,
}

impl From<rules::Ratio> for Rate {
    fn from(r: rules::Ratio) -> Rate {
        Rate {
            num: r.num,
            den: r.den,
            percent: r.percent(),
        }
    }
}

/// 接诉即办 KPIs of a period.
#[derive(Serialize, ToSchema)]
pub struct KpiView {
    disputes_mediated: i64,
    mediations: MediationCounts,
    received: i64,
    open: i64,
    overdue: i64,
    escalated: i64,
    response_rate: Rate,
    resolution_rate: Rate,
    satisfaction_rate: Rate,
    median_resolve_ms: Option<Ratio>,
    median_resolve_hours: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct CategoryCount {
    category: String,
    count: i64,
}

fn kpi_view(k: &rules::Kpis, m: &MediationCounts) -> KpiView {
    KpiView {
        disputes_mediated: m.mediated,
        mediations: *m,
        received: k.received,
        open: k.open,
        overdue: k.overdue,
        escalated: k.escalated,
        response_rate: k.response_rate.into(),
        resolution_rate: k.resolution_rate.into(),
        satisfaction_rate: k.satisfaction_rate.into(),
        median_resolve_ms: k.median_resolve_ms.map(|r| Ratio {
            num: r.num,
            den: r.den,
        }),
        median_resolve_hours: k
            .median_resolve_ms
            .map(|r| format!("{}", r.num / r.den / rules::HOUR_MS)),
    }
}

fn category_counts(by_category: Vec<(String, i64)>) -> Vec<CategoryCount> {
    by_category
        .into_iter()
        .map(|(category, count)| CategoryCount { category, count })
        .collect()
}

/// A place's statistics over `[from, to)`.
#[derive(Serialize, ToSchema)]
pub struct PlaceStats {
    #[schema(value_type = Object)]
    place: register::Place,
    from: i64,
    to: i64,
    kpis: KpiView,
    by_category: Vec<CategoryCount>,
}

/// The compound a public statistic is about.
#[derive(Serialize, ToSchema)]
pub struct CompoundName {
    code: Option<String>,
    name: String,
}

/// A compound's public statistics over `[from, to)` (counts and rates only).
#[derive(Serialize, ToSchema)]
pub struct PublicStats {
    compound: CompoundName,
    from: i64,
    to: i64,
    kpis: KpiView,
    by_category: Vec<CategoryCount>,
}

/// 接诉即办 KPIs of a place: response, resolution and satisfaction rates, median time to resolve, overdue, escalated.
#[utoipa::path(get, path = "/api/v1/places/{id}/case-stats", tag = "cases", params(("id" = String, Path, description = "place id"), Period), responses((status = 200, description = "statistics", body = PlaceStats)))]
async fn place_stats(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Query(p): Query<Period>,
) -> Result<Json<PlaceStats>, ApiError> {
    let place = register::get_place(&state.db, &id)
        .await
        .map_err(crate::problem::or_not_found(format!(
            "place '{id}' not found"
        )))?;
    if check_place(&user, &place, Action::HandleCase).is_err() {
        check_place(&user, &place, Action::ReadAudit)?;
    }
    let (from, to) = period(&p)?;
    let k = cases::stats(&state.db, &place.path, from, to, db::now_ms()).await?;
    let by_category = cases::counts_by_category(&state.db, &place.path, from, to).await?;
    let m = mediation::counts_under(&state.db, &place.path, from, to).await?;
    Ok(Json(PlaceStats {
        kpis: kpi_view(&k, &m),
        by_category: category_counts(by_category),
        place,
        from,
        to,
    }))
}

/// Public, anonymous statistics of a compound (counts and rates; no people, no texts).
#[utoipa::path(get, path = "/api/v1/public/compounds/{code}/case-stats", tag = "public", params(("code" = String, Path, description = "compound code"), Period), responses((status = 200, description = "statistics", body = PublicStats), (status = 404, description = "no such compound")))]
async fn public_stats(
    State(state): State<AppState>,
    Path(code): Path<String>,
    Query(p): Query<Period>,
) -> Result<Json<PublicStats>, ApiError> {
    let place =
        register::place_by_code(&state.db, &code)
            .await
            .map_err(crate::problem::or_not_found(format!(
                "compound '{code}' not found"
            )))?;
    let (from, to) = period(&p)?;
    let k = cases::stats(&state.db, &place.path, from, to, db::now_ms()).await?;
    let by_category = cases::counts_by_category(&state.db, &place.path, from, to).await?;
    let m = mediation::counts_under(&state.db, &place.path, from, to).await?;
    Ok(Json(PublicStats {
        compound: CompoundName {
            code: place.code,
            name: place.name,
        },
        from,
        to,
        kpis: kpi_view(&k, &m),
        by_category: category_counts(by_category),
    }))
}

/// The routing table of a community: which organisation kind handles each category.
#[utoipa::path(get, path = "/api/v1/places/{id}/case-routes", tag = "cases", params(("id" = String, Path, description = "community id")), responses((status = 200, description = "routes", body = Routes)))]
async fn get_routes(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<Routes>, ApiError> {
    let (place, _) = check(&state, &user, &id, Action::ReadStructure).await?;
    let routes = cases::routes_of(&state.db, &place).await?;
    Ok(Json(Routes {
        routes: routes
            .into_iter()
            .map(|(category, org_kind)| Route { category, org_kind })
            .collect(),
    }))
}

/// Which organisation kind handles a category.
#[derive(Serialize, ToSchema)]
pub struct Route {
    category: Category,
    org_kind: OrgKind,
}

#[derive(Serialize, ToSchema)]
pub struct Routes {
    routes: Vec<Route>,
}

#[derive(Deserialize, ToSchema)]
pub struct RouteBody {
    category: String,
    org_kind: String,
}

/// Set a community's own rule for a category (the rule is data; history is kept).
#[utoipa::path(post, path = "/api/v1/places/{id}/case-routes", tag = "cases", params(("id" = String, Path, description = "community id")), request_body = RouteBody, responses((status = 201, description = "set", body = Route)))]
async fn set_route(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<RouteBody>,
) -> Result<(StatusCode, Json<Route>), ApiError> {
    let (place, _) = check(&state, &user, &id, Action::WriteRegister).await?;
    let category = parse_category("category", &body.category)?;
    let org = OrgKind::parse(&body.org_kind).ok_or_else(|| {
        ApiError::field(
            "org_kind",
            format!(
                "unknown organisation kind '{}' (expected {})",
                body.org_kind,
                OrgKind::choices()
            ),
        )
    })?;
    cases::set_route(&state.db, &user.audit_name(), &place, category, org).await?;
    Ok((
        StatusCode::CREATED,
        Json(Route {
            category,
            org_kind: org,
        }),
    ))
}
