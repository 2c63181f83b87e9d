//! Party members at home as pages: the member's own page (check in, the
//! receipt to print), the branch's console (figures, members, check-ins to
//! confirm, paper forms to record), the employer contact's receipts, and
//! the public receipt check. Each calls the same store commands as the API
//! and the same access gate.

use crate::access;
use crate::i18n::Lang;
use crate::page::{lang_of, page_error, render, LangQuery};
use crate::problem::ApiError;
use crate::session::MaybeUser;
use crate::AppState;
use askama::Template;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use gongzhi_domain::policy::Action;
use gongzhi_store::party::{self, Channel, MemberView, PartyStats};
use gongzhi_store::{auth, db};
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/party", get(member_page))
        .route("/party/check-in", post(member_check_in))
        .route("/party/receipt", get(receipt_page))
        .route("/party/employer", get(employer_page))
        .route("/check-in-receipts", get(check_page))
        .route("/places/{id}/party", get(branch_page))
        .route("/places/{id}/party/paper", post(branch_paper))
        .route("/places/{id}/party/confirm", post(branch_confirm))
}

fn this_year() -> i64 {
    party::year_of(db::now_ms())
}

/// The member record of the caller's person, if any.
async fn my_member(
    state: &AppState,
    user_id: &str,
) -> Result<Option<MemberView>, gongzhi_store::StoreError> {
    match auth::get_user(&state.db, user_id).await?.person_id {
        Some(p) => party::member_of_person(&state.db, &p, this_year()).await,
        None => Ok(None),
    }
}

#[derive(Template)]
#[template(path = "party_member.html")]
struct MemberPage {
    lang: Lang,
    logged_in: bool,
    member: Option<MemberView>,
    year: i64,
    receipt_code: Option<String>,
    branch: Option<String>,
}

async fn member_page(
    State(state): State<AppState>,
    MaybeUser(user): MaybeUser,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    let (lang, set) = lang_of(&q, &headers);
    let Some(user) = user else {
        return Redirect::to("/login").into_response();
    };
    let member = match my_member(&state, &user.user_id).await {
        Ok(m) => m,
        Err(e) => return page_error(e.into(), lang),
    };
    let year = this_year();
    let receipt_code = member.as_ref().and_then(|m| m.receipt_code.clone());
    let mut branch = None;
    if let Some(code) = &receipt_code {
        match party::receipt(&state.db, code).await {
            Ok(r) => branch = r.branch,
            Err(e) => return page_error(e.into(), lang),
        }
    }
    render(
        &MemberPage {
            lang,
            logged_in: true,
            member,
            year,
            receipt_code,
            branch,
        },
        StatusCode::OK,
        set,
    )
}

async fn member_check_in(
    State(state): State<AppState>,
    MaybeUser(user): MaybeUser,
    headers: HeaderMap,
) -> Response {
    let lang = Lang::from_request(None, &headers);
    let Some(user) = user else {
        return Redirect::to("/login").into_response();
    };
    let m = match my_member(&state, &user.user_id).await {
        Ok(Some(m)) => m,
        Ok(None) => return page_error(ApiError::not_found(lang.t("party.not_member")), lang),
        Err(e) => return page_error(e.into(), lang),
    };
    match party::request_checkin(
        &state.db,
        &user.audit_name(),
        &m.id,
        this_year(),
        Channel::Online,
    )
    .await
    {
        Ok(_) => Redirect::to("/party").into_response(),
        Err(e) => page_error(e.into(), lang),
    }
}

#[derive(Template)]
#[template(path = "party_receipt.html")]
struct ReceiptPage {
    lang: Lang,
    logged_in: bool,
    name: String,
    receipt: party::Receipt,
}

/// The member's receipt, to print for their employer.
async fn receipt_page(
    State(state): State<AppState>,
    MaybeUser(user): MaybeUser,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    let (lang, set) = lang_of(&q, &headers);
    let Some(user) = user else {
        return Redirect::to("/login").into_response();
    };
    let m = match my_member(&state, &user.user_id).await {
        Ok(Some(m)) => m,
        Ok(None) => return page_error(ApiError::not_found(lang.t("party.not_member")), lang),
        Err(e) => return page_error(e.into(), lang),
    };
    let Some(code) = m.receipt_code.clone() else {
        return page_error(ApiError::not_found(lang.t("party.no_receipt")), lang);
    };
    match party::receipt(&state.db, &code).await {
        Ok(receipt) => render(
            &ReceiptPage {
                lang,
                logged_in: true,
                name: m.name,
                receipt,
            },
            StatusCode::OK,
            set,
        ),
        Err(e) => page_error(e.into(), lang),
    }
}

#[derive(Template)]
#[template(path = "party_employer.html")]
struct EmployerPage {
    lang: Lang,
    logged_in: bool,
    receipts: Vec<party::EmployerReceipt>,
}

/// The receipts of the members of the caller's employer units.
async fn employer_page(
    State(state): State<AppState>,
    MaybeUser(user): MaybeUser,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    let (lang, set) = lang_of(&q, &headers);
    let Some(user) = user else {
        return Redirect::to("/login").into_response();
    };
    let receipts = match auth::get_user(&state.db, &user.user_id).await {
        Ok(u) => match u.person_id {
            Some(p) => party::employer_receipts(&state.db, &p, db::now_ms()).await,
            None => Ok(Vec::new()),
        },
        Err(e) => Err(e),
    };
    match receipts {
        Ok(receipts) => render(
            &EmployerPage {
                lang,
                logged_in: true,
                receipts,
            },
            StatusCode::OK,
            set,
        ),
        Err(e) => page_error(e.into(), lang),
    }
}

#[derive(Deserialize, Default)]
pub struct CheckQuery {
    lang: Option<String>,
    code: Option<String>,
}

#[derive(Template)]
#[template(path = "party_check.html")]
struct CheckPage {
    lang: Lang,
    logged_in: bool,
    code: String,
    receipt: Option<party::Receipt>,
    /// A code was given and is not a receipt's.
    unknown: bool,
}

/// Anyone checks a receipt's code (no login).
async fn check_page(
    State(state): State<AppState>,
    MaybeUser(user): MaybeUser,
    Query(q): Query<CheckQuery>,
    headers: HeaderMap,
) -> Response {
    let (lang, set) = lang_of(
        &LangQuery {
            lang: q.lang.clone(),
        },
        &headers,
    );
    let code = q
        .code
        .unwrap_or_default()
        .trim()
        .chars()
        .take(32)
        .collect::<String>();
    let (receipt, unknown) = if code.is_empty() {
        (None, false)
    } else {
        match party::receipt(&state.db, &code).await {
            Ok(r) => (Some(r), false),
            Err(gongzhi_store::StoreError::NotFound { .. }) => (None, true),
            Err(e) => return page_error(e.into(), lang),
        }
    };
    let status = if unknown {
        StatusCode::NOT_FOUND
    } else {
        StatusCode::OK
    };
    render(
        &CheckPage {
            lang,
            logged_in: user.is_some(),
            code,
            receipt,
            unknown,
        },
        status,
        set,
    )
}

#[derive(Template)]
#[template(path = "party_branch.html")]
struct BranchPage {
    lang: Lang,
    logged_in: bool,
    place_id: String,
    place_name: String,
    year: i64,
    stats: PartyStats,
    rate: String,
    members: Vec<MemberView>,
    /// Check-ins waiting for the branch: (check-in id, member).
    waiting: Vec<(String, MemberView)>,
    can_manage: bool,
    notice: String,
}

#[derive(Deserialize, Default)]
pub struct BranchQuery {
    lang: Option<String>,
    /// A message after an action (`confirmed`, `recorded`).
    done: Option<String>,
}

/// A permille as a percentage with one decimal.
fn percent(permille: Option<i64>) -> String {
    permille.map_or("—".into(), |p| format!("{}.{}%", p / 10, p % 10))
}

/// The branch's console over a place (the compound, or a place above it).
async fn branch_page(
    State(state): State<AppState>,
    MaybeUser(user): MaybeUser,
    Path(id): Path<String>,
    Query(q): Query<BranchQuery>,
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
    let place = match access::check(&state, &user, &id, Action::ReadParty).await {
        Ok((p, _)) => p,
        Err(e) => return page_error(e, lang),
    };
    let can_manage = access::check_place(&user, &place, Action::ManageParty).is_ok();
    let year = this_year();
    let loaded = async {
        let stats = party::stats(&state.db, &place, year).await?;
        let members = party::members_under(&state.db, &place, year, 2000).await?;
        let waiting = members
            .iter()
            .filter(|m| m.checkin == "requested")
            .filter_map(|m| Some((m.checkin_id.clone()?, m.clone())))
            .collect();
        Ok::<_, gongzhi_store::StoreError>((stats, members, waiting))
    }
    .await;
    let (stats, members, waiting) = match loaded {
        Ok(x) => x,
        Err(e) => return page_error(e.into(), lang),
    };
    let notice = match q.done.as_deref() {
        Some("confirmed") => lang.t("party.done_confirmed").to_string(),
        Some("recorded") => lang.t("party.done_recorded").to_string(),
        _ => String::new(),
    };
    render(
        &BranchPage {
            lang,
            logged_in: true,
            place_id: place.id.clone(),
            place_name: place.name.clone(),
            year,
            rate: percent(stats.checkin_rate_permille),
            stats,
            members,
            waiting,
            can_manage,
            notice,
        },
        StatusCode::OK,
        set,
    )
}

#[derive(Deserialize)]
pub struct MemberForm {
    member_id: Option<String>,
    checkin_id: Option<String>,
}

/// The branch records a member's paper form.
async fn branch_paper(
    State(state): State<AppState>,
    MaybeUser(user): MaybeUser,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(f): Form<MemberForm>,
) -> Response {
    let lang = Lang::from_request(None, &headers);
    let Some(user) = user else {
        return Redirect::to("/login").into_response();
    };
    let place = match access::check(&state, &user, &id, Action::ManageParty).await {
        Ok((p, _)) => p,
        Err(e) => return page_error(e, lang),
    };
    let member_id = f.member_id.unwrap_or_default();
    let m = match party::member_within(&state.db, &member_id, &place, this_year()).await {
        Ok(m) => m,
        Err(gongzhi_store::StoreError::Invalid { .. }) => {
            return page_error(
                ApiError::field("member_id", lang.t("party.unknown_member")),
                lang,
            )
        }
        Err(e) => return page_error(e.into(), lang),
    };
    match party::request_checkin(
        &state.db,
        &user.audit_name(),
        &m.id,
        this_year(),
        Channel::Paper,
    )
    .await
    {
        Ok(_) => Redirect::to(&format!("/places/{id}/party?done=recorded")).into_response(),
        Err(e) => page_error(e.into(), lang),
    }
}

/// The branch confirms a check-in (never one's own).
async fn branch_confirm(
    State(state): State<AppState>,
    MaybeUser(user): MaybeUser,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(f): Form<MemberForm>,
) -> Response {
    let lang = Lang::from_request(None, &headers);
    let Some(user) = user else {
        return Redirect::to("/login").into_response();
    };
    let place = match access::check(&state, &user, &id, Action::ManageParty).await {
        Ok((p, _)) => p,
        Err(e) => return page_error(e, lang),
    };
    let cid = f.checkin_id.unwrap_or_default();
    let hidden = || ApiError::not_found(lang.t("party.unknown_checkin"));
    match party::checkin(&state.db, &cid).await {
        Ok(c) if c.compound_path.starts_with(&place.path) => {}
        _ => return page_error(hidden(), lang),
    }
    let person = auth::get_user(&state.db, &user.user_id)
        .await
        .ok()
        .and_then(|u| u.person_id);
    match party::confirm_checkin(&state.db, &user.audit_name(), person.as_deref(), &cid).await {
        Ok(_) => Redirect::to(&format!("/places/{id}/party?done=confirmed")).into_response(),
        Err(e) => page_error(e.into(), lang),
    }
}
