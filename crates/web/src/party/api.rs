//! Party members at home, over HTTP: the member's own record and check-in,
//! the branch's register, paper check-ins and confirmations, the public
//! receipt check, the employer contact's receipts, and the figures by
//! place. Membership is sensitive: every read but the receipt check needs
//! `Action::ReadParty` over the place, or is the caller's own.

use crate::access;
use crate::problem::{ApiError, ApiJson};
use crate::session::CurrentUser;
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use gongzhi_domain::policy::Action;
use gongzhi_store::party::{
    self, Channel, CheckIn, EmployerReceipt, MemberView, PartyStats, Receipt,
};
use gongzhi_store::{auth, db, register};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(me))
        .routes(routes!(check_in))
        .routes(routes!(members))
        .routes(routes!(paper_check_in))
        .routes(routes!(confirm))
        .routes(routes!(receipt))
        .routes(routes!(employer_receipts))
        .routes(routes!(stats))
}

#[derive(Deserialize, IntoParams)]
pub struct YearQuery {
    /// Calendar year (default: this year, China time).
    year: Option<i64>,
}

fn year(q: Option<i64>) -> Result<i64, ApiError> {
    let y = q.unwrap_or_else(|| party::year_of(db::now_ms()));
    if !(2000..=2200).contains(&y) {
        return Err(ApiError::field("year", "must be between 2000 and 2200"));
    }
    Ok(y)
}

/// The person the caller's account stands for.
async fn person_of(state: &AppState, user: &CurrentUser) -> Result<Option<String>, ApiError> {
    Ok(auth::get_user(&state.db, &user.user_id).await?.person_id)
}

/// A party member as the party organisations (or the member) see them.
#[derive(Serialize, ToSchema)]
pub struct Member {
    pub id: String,
    pub name: String,
    /// Masked, e.g. `138****8000`.
    pub phone: Option<String>,
    pub compound_id: String,
    pub part_id: String,
    pub part_number: String,
    /// `in_service`, `retired` or `flowing`.
    pub status: String,
    pub employer: Option<String>,
    pub joined_on: Option<String>,
    /// This year's check-in: `none`, `requested` or `confirmed`.
    pub checkin: String,
}

impl From<MemberView> for Member {
    fn from(m: MemberView) -> Self {
        Member {
            id: m.id,
            name: m.name,
            phone: m.phone,
            compound_id: m.compound_id,
            part_id: m.part_id,
            part_number: m.part_number,
            status: m.status,
            employer: m.employer,
            joined_on: m.joined_on,
            checkin: m.checkin,
        }
    }
}

/// The caller's own member record and, once confirmed, this year's receipt
/// code.
#[derive(Serialize, ToSchema)]
pub struct MyRecord {
    pub member: Member,
    pub year: i64,
    pub receipt_code: Option<String>,
}

/// The caller's own party member record (404 when the caller is not a member).
#[utoipa::path(get, path = "/api/v1/party/me", tag = "party", params(YearQuery), responses((status = 200, body = MyRecord), (status = 404, description = "not a party member")))]
async fn me(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<YearQuery>,
) -> Result<Json<MyRecord>, ApiError> {
    let year = year(q.year)?;
    let not = || ApiError::not_found("you are not in the party member register");
    let person = person_of(&state, &user).await?.ok_or_else(not)?;
    let m = party::member_of_person(&state.db, &person, year)
        .await?
        .ok_or_else(not)?;
    let receipt_code = m.receipt_code.clone();
    Ok(Json(MyRecord {
        member: m.into(),
        year,
        receipt_code,
    }))
}

/// A check-in as created.
#[derive(Serialize, ToSchema)]
pub struct CheckInCreated {
    pub id: String,
    pub member_id: String,
    pub year: i64,
    /// `online` (the member) or `paper` (recorded by the branch).
    pub channel: String,
}

impl From<CheckIn> for CheckInCreated {
    fn from(c: CheckIn) -> Self {
        CheckInCreated {
            id: c.id,
            member_id: c.member_id,
            year: c.year,
            channel: match c.channel {
                Channel::Online => "online",
                Channel::Paper => "paper",
            }
            .into(),
        }
    }
}

/// The caller checks in (报到) to the branch of the compound where they
/// live, for this year; the branch confirms it.
#[utoipa::path(post, path = "/api/v1/party/check-ins", tag = "party", responses((status = 201, body = CheckInCreated), (status = 404, description = "not a party member"), (status = 409, description = "already checked in this year"), (status = 422, description = "not an in-service member")))]
async fn check_in(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<(StatusCode, Json<CheckInCreated>), ApiError> {
    let year = year(None)?;
    let not = || ApiError::not_found("you are not in the party member register");
    let person = person_of(&state, &user).await?.ok_or_else(not)?;
    let m = party::member_of_person(&state.db, &person, year)
        .await?
        .ok_or_else(not)?;
    let c =
        party::request_checkin(&state.db, &user.audit_name(), &m.id, year, Channel::Online).await?;
    Ok((StatusCode::CREATED, Json(c.into())))
}

#[derive(Deserialize, IntoParams)]
pub struct MembersQuery {
    year: Option<i64>,
    /// At most this many (default 1000, at most 10000).
    limit: Option<i64>,
}

/// The party members below a place.
#[derive(Serialize, ToSchema)]
pub struct MemberList {
    pub year: i64,
    pub members: Vec<Member>,
}

/// The party members living below a place, phones masked (party
/// organisations and party staff only).
#[utoipa::path(get, path = "/api/v1/places/{id}/party-members", tag = "party", params(("id" = String, Path, description = "place id"), MembersQuery), responses((status = 200, body = MemberList), (status = 404, description = "no such place")))]
async fn members(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Query(q): Query<MembersQuery>,
) -> Result<Json<MemberList>, ApiError> {
    let year = year(q.year)?;
    let (place, _) = access::check(&state, &user, &id, Action::ReadParty).await?;
    let members = party::members_under(&state.db, &place, year, q.limit.unwrap_or(1000)).await?;
    Ok(Json(MemberList {
        year,
        members: members.into_iter().map(Into::into).collect(),
    }))
}

#[derive(Deserialize, ToSchema)]
pub struct PaperCheckIn {
    /// The member whose paper form is recorded.
    pub member_id: String,
}

/// The branch records a member's paper check-in form (this year).
#[utoipa::path(post, path = "/api/v1/places/{id}/party-check-ins", tag = "party", params(("id" = String, Path, description = "the compound (or a place above it)")), request_body = PaperCheckIn, responses((status = 201, body = CheckInCreated), (status = 409, description = "already checked in this year"), (status = 422, description = "no such member below the place")))]
async fn paper_check_in(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<PaperCheckIn>,
) -> Result<(StatusCode, Json<CheckInCreated>), ApiError> {
    let year = year(None)?;
    let (place, _) = access::check(&state, &user, &id, Action::ManageParty).await?;
    let m = party::member_within(&state.db, &body.member_id, &place, year).await?;
    let c =
        party::request_checkin(&state.db, &user.audit_name(), &m.id, year, Channel::Paper).await?;
    Ok((StatusCode::CREATED, Json(c.into())))
}

/// A confirmed check-in's receipt code.
#[derive(Serialize, ToSchema)]
pub struct Confirmed {
    pub checkin_id: String,
    /// The receipt's verification code (8 characters), for the employer.
    pub receipt_code: String,
}

/// The branch confirms a check-in and issues its receipt (报到回执单).
/// Nobody confirms their own.
#[utoipa::path(post, path = "/api/v1/party/check-ins/{id}/confirm", tag = "party", params(("id" = String, Path, description = "check-in id")), responses((status = 200, body = Confirmed), (status = 404, description = "no such check-in"), (status = 409, description = "already confirmed"), (status = 422, description = "one's own check-in")))]
async fn confirm(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<Confirmed>, ApiError> {
    let hidden = || ApiError::not_found(format!("check-in '{id}' not found"));
    let c = party::checkin(&state.db, &id).await.map_err(|e| match e {
        gongzhi_store::error::StoreError::NotFound { .. } => hidden(),
        e => e.into(),
    })?;
    let compound = register::get_place(&state.db, &c.compound_id).await?;
    access::check_place(&user, &compound, Action::ManageParty).map_err(
        crate::problem::hidden_as_not_found(format!("check-in '{id}' not found")),
    )?;
    let person = person_of(&state, &user).await?;
    let code =
        party::confirm_checkin(&state.db, &user.audit_name(), person.as_deref(), &id).await?;
    Ok(Json(Confirmed {
        checkin_id: id,
        receipt_code: code,
    }))
}

/// What a receipt's code proves.
#[derive(Serialize, ToSchema)]
pub struct ReceiptCheck {
    pub valid: bool,
    /// The member's name, masked (e.g. `张*`).
    pub member: String,
    pub compound: String,
    pub branch: Option<String>,
    pub year: i64,
    /// `YYYY-MM-DD`.
    pub checked_in_on: String,
}

impl From<Receipt> for ReceiptCheck {
    fn from(r: Receipt) -> Self {
        ReceiptCheck {
            valid: r.valid,
            member: r.member,
            compound: r.compound,
            branch: r.branch,
            year: r.year,
            checked_in_on: r.checked_in_on,
        }
    }
}

/// Checks a check-in receipt's code, without an account (an employer, an
/// evaluator). An unknown code is a 404 problem.
#[utoipa::path(get, path = "/api/v1/public/check-in-receipts/{code}", tag = "public", params(("code" = String, Path, description = "the receipt's 8-character code (dashes, spaces and case ignored)")), responses((status = 200, body = ReceiptCheck), (status = 404, description = "no such receipt")))]
async fn receipt(
    State(state): State<AppState>,
    Path(code): Path<String>,
) -> Result<Json<ReceiptCheck>, ApiError> {
    let r = party::receipt(&state.db, &code)
        .await
        .map_err(crate::problem::or_not_found(
            "no check-in receipt with this code",
        ))?;
    Ok(Json(r.into()))
}

/// Receipts of an employer unit's members.
#[derive(Serialize, ToSchema)]
pub struct EmployerReceipts {
    pub receipts: Vec<EmployerReceiptRow>,
}

#[derive(Serialize, ToSchema)]
pub struct EmployerReceiptRow {
    pub code: String,
    pub member: String,
    pub employer: String,
    pub compound: String,
    pub year: i64,
    /// Unix milliseconds.
    pub confirmed_at: i64,
}

impl From<EmployerReceipt> for EmployerReceiptRow {
    fn from(r: EmployerReceipt) -> Self {
        EmployerReceiptRow {
            code: r.code,
            member: r.member,
            employer: r.employer,
            compound: r.compound,
            year: r.year,
            confirmed_at: r.confirmed_at,
        }
    }
}

/// The check-in receipts of the members of the employer units the caller
/// is a current contact of (empty for anyone else).
#[utoipa::path(get, path = "/api/v1/party/employer-receipts", tag = "party", responses((status = 200, body = EmployerReceipts)))]
async fn employer_receipts(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Json<EmployerReceipts>, ApiError> {
    let receipts = match person_of(&state, &user).await? {
        Some(p) => party::employer_receipts(&state.db, &p, db::now_ms()).await?,
        None => Vec::new(),
    };
    Ok(Json(EmployerReceipts {
        receipts: receipts.into_iter().map(Into::into).collect(),
    }))
}

/// Party figures of a place and of each child place.
#[derive(Serialize, ToSchema)]
pub struct Stats {
    pub place_id: String,
    pub name: String,
    pub year: i64,
    pub members: i64,
    pub in_service: i64,
    pub retired: i64,
    pub flowing: i64,
    /// In-service members whose check-in of the year is confirmed.
    pub checked_in: i64,
    /// `checked_in / in_service` in tenths of a percent (1000 = 100.0%).
    pub checkin_rate_permille: Option<i64>,
    pub micro_grids: i64,
    /// Micro-grids with at least one member living in them.
    pub micro_grids_with_member: i64,
    #[schema(no_recursion)]
    pub children: Vec<Stats>,
}

impl Stats {
    fn of(s: PartyStats, year: i64) -> Stats {
        Stats {
            place_id: s.place_id,
            name: s.name,
            year,
            members: s.members,
            in_service: s.in_service,
            retired: s.retired,
            flowing: s.flowing,
            checked_in: s.checked_in,
            checkin_rate_permille: s.checkin_rate_permille,
            micro_grids: s.micro_grids,
            micro_grids_with_member: s.micro_grids_with_member,
            children: s.children.into_iter().map(|c| Stats::of(c, year)).collect(),
        }
    }
}

/// Members, check-ins and micro-grids with a member, for a place and each
/// child place (party organisations and party staff).
#[utoipa::path(get, path = "/api/v1/places/{id}/party-stats", tag = "party", params(("id" = String, Path, description = "place id"), YearQuery), responses((status = 200, body = Stats), (status = 404, description = "no such place")))]
async fn stats(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Query(q): Query<YearQuery>,
) -> Result<Json<Stats>, ApiError> {
    let year = year(q.year)?;
    let (place, _) = access::check(&state, &user, &id, Action::ReadParty).await?;
    let s = party::stats(&state.db, &place, year).await?;
    Ok(Json(Stats::of(s, year)))
}
