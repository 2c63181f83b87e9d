//! Account pages, phone-first: sign up with a texted code, claim one's
//! household (and see one's claims), forgot password, accept an
//! invitation; for staff who manage access over a place, its accounts
//! (roles, state, invitations) and the claims waiting for them. Each form
//! calls the same store commands and checks as the API.

use super::{accept, compound_id, full, may_administer, may_decide, send_code};
use crate::access;
use crate::i18n::Lang;
use crate::page::{lang_of, page_error, render, LangQuery};
use crate::problem::ApiError;
use crate::session::{self, MaybeUser};
use crate::AppState;
use askama::Template;
use axum::extract::{ConnectInfo, Form, Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use gongzhi_domain::accounts::{ClaimRelation, CodePurpose};
use gongzhi_domain::policy::{Action, Role};
use gongzhi_store::accounts::{self as store, AccountView, ClaimView, FlatChoice, InvitationView};
use gongzhi_store::{auth, register};
use serde::Deserialize;
use std::net::SocketAddr;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/signup", get(signup_page).post(signup_submit))
        .route("/signup/code", post(signup_code))
        .route("/forgot", get(forgot_page).post(forgot_submit))
        .route("/forgot/code", post(forgot_code))
        .route("/claim", get(claim_page).post(claim_submit))
        .route("/invite/{token}", get(invite_page).post(invite_submit))
        .route("/claims/{id}/decide", post(owner_decide))
        .route("/places/{id}/accounts", get(admin_page))
        .route("/places/{id}/accounts/invite", post(admin_invite))
        .route("/places/{id}/accounts/claims/{claim}", post(admin_decide))
        .route("/places/{id}/accounts/users/{uid}/{what}", post(admin_user))
        .route(
            "/places/{id}/accounts/grants/{gid}/revoke",
            post(admin_revoke),
        )
}

/// A refusal in the reader's language: the field it names, or why.
fn message(e: &ApiError, lang: Lang) -> String {
    let field = e.errors.first().map(|f| f.field.as_str()).unwrap_or("");
    let key = match (e.status.as_u16(), field) {
        (429, _) => "acct.err.too_many",
        (409, _) => "acct.err.conflict",
        (_, "code") => "acct.err.code",
        (_, "password") | (_, "new_password") => "acct.err.password",
        (_, "phone") => "acct.err.phone",
        (_, "invitation") => "acct.err.expired",
        (_, "compound") => "acct.err.compound",
        (_, "building") | (_, "number") | (_, "owner_name") | (_, "claimant_name") => {
            "acct.err.required"
        }
        (_, "part_id") => "acct.err.flat",
        (403, _) => "err.forbidden",
        (404, _) => "err.not_found",
        _ => return e.detail.clone(),
    };
    let mut m = lang.t(key).to_string();
    if !field.is_empty() && key == "acct.err.required" {
        m = format!("{}: {m}", lang.t(&format!("acct.f.{field}")));
    }
    m
}

#[derive(Template)]
#[template(path = "signup.html")]
struct SignupPage {
    lang: Lang,
    logged_in: bool,
    /// `signup` or `forgot`.
    mode: &'static str,
    phone: String,
    sent: bool,
    error: String,
    done: bool,
}

impl SignupPage {
    fn new(lang: Lang, mode: &'static str) -> Self {
        SignupPage {
            lang,
            logged_in: false,
            mode,
            phone: String::new(),
            sent: false,
            error: String::new(),
            done: false,
        }
    }
}

#[derive(Deserialize)]
struct PhoneForm {
    phone: String,
}

#[derive(Deserialize)]
struct CodeForm {
    phone: String,
    code: String,
    password: String,
}

async fn signup_page(Query(q): Query<LangQuery>, headers: HeaderMap) -> Response {
    let (lang, set) = lang_of(&q, &headers);
    render(&SignupPage::new(lang, "signup"), StatusCode::OK, set)
}

async fn forgot_page(Query(q): Query<LangQuery>, headers: HeaderMap) -> Response {
    let (lang, set) = lang_of(&q, &headers);
    render(&SignupPage::new(lang, "forgot"), StatusCode::OK, set)
}

async fn code_step(
    state: &AppState,
    ip: &str,
    headers: &HeaderMap,
    phone: String,
    mode: &'static str,
) -> Response {
    let lang = Lang::from_request(None, headers);
    let purpose = if mode == "signup" {
        CodePurpose::Signup
    } else {
        CodePurpose::Reset
    };
    let mut page = SignupPage::new(lang, mode);
    let status = match send_code(state, ip, &phone, purpose).await {
        Ok(()) => {
            page.sent = true;
            StatusCode::OK
        }
        Err(e) => {
            page.error = message(&e, lang);
            e.status
        }
    };
    page.phone = phone;
    render(&page, status, None)
}

async fn signup_code(
    State(state): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(f): Form<PhoneForm>,
) -> Response {
    code_step(&state, &addr.ip().to_string(), &headers, f.phone, "signup").await
}

async fn forgot_code(
    State(state): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(f): Form<PhoneForm>,
) -> Response {
    code_step(&state, &addr.ip().to_string(), &headers, f.phone, "forgot").await
}

async fn signup_submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(f): Form<CodeForm>,
) -> Response {
    let lang = Lang::from_request(None, &headers);
    let made = async {
        auth::validate_password(&f.password)?;
        let hash = auth::hash_password_async(f.password.clone()).await?;
        let acc = store::signup(&state.db, &f.phone, &f.code, &hash).await?;
        Ok::<_, ApiError>(auth::create_session(&state.db, &acc.user_id).await?)
    }
    .await;
    match made {
        Ok(token) => (
            [(
                header::SET_COOKIE,
                session::session_cookie(&token, state.secure_cookies),
            )],
            Redirect::to("/claim"),
        )
            .into_response(),
        Err(e) => {
            let mut page = SignupPage::new(lang, "signup");
            page.sent = true;
            page.phone = f.phone;
            page.error = message(&e, lang);
            render(&page, e.status, None)
        }
    }
}

async fn forgot_submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(f): Form<CodeForm>,
) -> Response {
    let lang = Lang::from_request(None, &headers);
    let done = async {
        auth::validate_password(&f.password)?;
        let hash = auth::hash_password_async(f.password.clone()).await?;
        store::reset_password(&state.db, &f.phone, &f.code, &hash).await?;
        Ok::<_, ApiError>(())
    }
    .await;
    let mut page = SignupPage::new(lang, "forgot");
    page.phone = f.phone;
    match done {
        Ok(()) => {
            page.done = true;
            render(&page, StatusCode::OK, None)
        }
        Err(e) => {
            page.sent = true;
            page.error = message(&e, lang);
            render(&page, e.status, None)
        }
    }
}

#[derive(Template)]
#[template(path = "claim.html")]
struct ClaimPage {
    lang: Lang,
    logged_in: bool,
    compounds: Vec<(String, String)>,
    claims: Vec<ClaimView>,
    error: String,
    filed: String,
}

#[derive(Deserialize)]
struct ClaimQuery {
    lang: Option<String>,
    filed: Option<String>,
}

async fn claim_view(state: &AppState, user_id: &str, lang: Lang) -> Result<ClaimPage, ApiError> {
    let compounds = register::public_compounds(&state.db)
        .await?
        .into_iter()
        .map(|c| (c.code, c.name))
        .collect();
    Ok(ClaimPage {
        lang,
        logged_in: true,
        compounds,
        claims: store::my_claims(&state.db, user_id).await?,
        error: String::new(),
        filed: String::new(),
    })
}

async fn claim_page(
    State(state): State<AppState>,
    MaybeUser(user): MaybeUser,
    Query(q): Query<ClaimQuery>,
    headers: HeaderMap,
) -> Response {
    let (lang, set) = lang_of(&LangQuery { lang: q.lang }, &headers);
    let Some(user) = user else {
        return Redirect::to("/login").into_response();
    };
    match claim_view(&state, &user.user_id, lang).await {
        Ok(mut p) => {
            p.filed = q
                .filed
                .filter(|f| ["linked", "pending", "queued"].contains(&f.as_str()))
                .unwrap_or_default();
            render(&p, StatusCode::OK, set)
        }
        Err(e) => page_error(e, lang),
    }
}

#[derive(Deserialize)]
struct ClaimForm {
    compound: String,
    building: String,
    #[serde(default)]
    unit: String,
    number: String,
    owner_name: String,
    relation: String,
    #[serde(default)]
    claimant_name: String,
}

async fn claim_submit(
    State(state): State<AppState>,
    MaybeUser(user): MaybeUser,
    headers: HeaderMap,
    Form(f): Form<ClaimForm>,
) -> Response {
    let lang = Lang::from_request(None, &headers);
    let Some(user) = user else {
        return Redirect::to("/login").into_response();
    };
    let filed = async {
        let relation = ClaimRelation::parse(&f.relation)
            .ok_or_else(|| ApiError::field("relation", "unknown"))?;
        let compound = compound_id(&state, &f.compound).await?;
        let input = store::ClaimInput {
            compound_id: compound,
            building: f.building,
            unit: f.unit,
            number: f.number,
            owner_name: f.owner_name,
            claimant_name: f.claimant_name,
            relation,
        };
        Ok::<_, ApiError>(store::claim(&state.db, &user.user_id, input).await?)
    }
    .await;
    match filed {
        Ok(c) => Redirect::to(&format!("/claim?filed={}", c.status.as_str())).into_response(),
        Err(e) => match claim_view(&state, &user.user_id, lang).await {
            Ok(mut p) => {
                p.error = message(&e, lang);
                render(&p, e.status, None)
            }
            Err(e) => page_error(e, lang),
        },
    }
}

#[derive(Template)]
#[template(path = "invite.html")]
struct InvitePage {
    lang: Lang,
    logged_in: bool,
    token: String,
    inv: InvitationView,
    error: String,
}

async fn invite_page(
    State(state): State<AppState>,
    MaybeUser(user): MaybeUser,
    Path(token): Path<String>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    let (lang, set) = lang_of(&q, &headers);
    match store::invitation_by_token(&state.db, &token).await {
        Ok(inv) => render(
            &InvitePage {
                lang,
                logged_in: user.is_some(),
                token,
                inv,
                error: String::new(),
            },
            StatusCode::OK,
            set,
        ),
        Err(e) => page_error(e.into(), lang),
    }
}

#[derive(Deserialize)]
struct InviteForm {
    #[serde(default)]
    password: String,
}

async fn invite_submit(
    State(state): State<AppState>,
    MaybeUser(user): MaybeUser,
    Path(token): Path<String>,
    headers: HeaderMap,
    Form(f): Form<InviteForm>,
) -> Response {
    let lang = Lang::from_request(None, &headers);
    let pw = (!f.password.is_empty()).then_some(f.password);
    match accept(&state, user.as_ref(), &token, pw).await {
        Ok((_, _, Some(t))) => (
            [(
                header::SET_COOKIE,
                session::session_cookie(&t, state.secure_cookies),
            )],
            Redirect::to("/"),
        )
            .into_response(),
        Ok((_, _, None)) => Redirect::to("/").into_response(),
        Err(e) => match store::invitation_by_token(&state.db, &token).await {
            Ok(inv) => render(
                &InvitePage {
                    lang,
                    logged_in: user.is_some(),
                    token,
                    inv,
                    error: message(&e, lang),
                },
                e.status,
                None,
            ),
            Err(e2) => page_error(e2.into(), lang),
        },
    }
}

/// A claim waiting, with the flats it may be for.
struct OpenClaim {
    claim: ClaimView,
    flats: Vec<FlatChoice>,
}

#[derive(Template)]
#[template(path = "accounts_admin.html")]
struct AdminPage {
    lang: Lang,
    logged_in: bool,
    place_id: String,
    place_name: String,
    users: Vec<AccountView>,
    invitations: Vec<InvitationView>,
    claims: Vec<OpenClaim>,
    roles: Vec<&'static str>,
    /// Micro-grids a grid worker may be invited to: (id, name).
    grids: Vec<(String, String)>,
    new_token: String,
    error: String,
}

#[derive(Deserialize)]
struct AdminQuery {
    lang: Option<String>,
    invited: Option<String>,
    error: Option<String>,
}

/// The roles staff invite people to from this page.
const INVITABLE: &[Role] = &[
    Role::GridWorker,
    Role::BuildingHead,
    Role::CommitteeMember,
    Role::Supervisor,
    Role::BranchSecretary,
    Role::Steward,
    Role::CommunityStaff,
];

async fn admin_page(
    State(state): State<AppState>,
    MaybeUser(user): MaybeUser,
    Path(id): Path<String>,
    Query(q): Query<AdminQuery>,
    headers: HeaderMap,
) -> Response {
    let (lang, set) = lang_of(&LangQuery { lang: q.lang }, &headers);
    let Some(user) = user else {
        return Redirect::to("/login").into_response();
    };
    let page = async {
        let (place, _) = full(&state, &user, &id, Action::ManageAccess).await?;
        let mut claims = Vec::new();
        for c in store::open_claims(&state.db, &place.path, 100).await? {
            let flats = store::flats_numbered(&state.db, &c.compound_id, &c.number).await?;
            claims.push(OpenClaim { claim: c, flats });
        }
        let path = place.path_ids();
        let roles = INVITABLE
            .iter()
            .filter(|r| access::check_grant(&user, **r, &path).is_ok())
            .map(|r| r.as_str())
            .collect();
        let grids = register::grids_of(&state.db, &place)
            .await?
            .into_iter()
            .filter(|g| g.kind == "micro")
            .map(|g| (g.id, g.name))
            .collect();
        Ok::<_, ApiError>(AdminPage {
            lang,
            logged_in: true,
            grids,
            users: store::accounts_below(&state.db, &place.path, 500).await?,
            invitations: store::invitations_below(&state.db, &place.path).await?,
            place_id: place.id,
            place_name: place.name,
            claims,
            roles,
            new_token: q.invited.unwrap_or_default(),
            error: q
                .error
                .filter(|k| k.starts_with("acct.err.") || k.starts_with("err."))
                .map(|k| lang.t(&k).to_string())
                .unwrap_or_default(),
        })
    }
    .await;
    match page {
        Ok(p) => render(&p, StatusCode::OK, set),
        Err(e) => page_error(e, lang),
    }
}

/// Back to the accounts page, with the reason a form was refused.
fn back(id: &str, e: Option<ApiError>) -> Response {
    let to = match e {
        None => format!("/places/{id}/accounts"),
        Some(e) => {
            let key = match e.status.as_u16() {
                403 => "err.forbidden",
                404 => "err.not_found",
                409 => "acct.err.conflict",
                _ => match e.errors.first().map(|f| f.field.as_str()) {
                    Some("phone") => "acct.err.phone",
                    Some("part_id") => "acct.err.flat",
                    Some("grid_id") => "acct.err.grid",
                    Some("name") => "acct.err.required",
                    _ => "err.other",
                },
            };
            format!("/places/{id}/accounts?error={key}")
        }
    };
    Redirect::to(&to).into_response()
}

#[derive(Deserialize)]
struct InviteAdminForm {
    phone: String,
    name: String,
    role: String,
    #[serde(default)]
    grid_id: String,
}

async fn admin_invite(
    State(state): State<AppState>,
    MaybeUser(user): MaybeUser,
    Path(id): Path<String>,
    Form(f): Form<InviteAdminForm>,
) -> Response {
    let Some(user) = user else {
        return Redirect::to("/login").into_response();
    };
    let made = async {
        let role = Role::parse(&f.role).ok_or_else(|| ApiError::field("role", "unknown"))?;
        let grid =
            (!f.grid_id.is_empty() && role == Role::GridWorker).then_some(f.grid_id.as_str());
        let inv = super::invite(&state, &user, &id, role, &f.phone, &f.name, grid).await?;
        Ok::<_, ApiError>(inv.token)
    }
    .await;
    match made {
        Ok(t) => Redirect::to(&format!("/places/{id}/accounts?invited={t}")).into_response(),
        Err(e) => back(&id, Some(e)),
    }
}

#[derive(Deserialize)]
struct DecideForm {
    decision: String,
    #[serde(default)]
    part_id: String,
}

async fn admin_decide(
    State(state): State<AppState>,
    MaybeUser(user): MaybeUser,
    Path((id, claim)): Path<(String, String)>,
    Form(f): Form<DecideForm>,
) -> Response {
    let Some(user) = user else {
        return Redirect::to("/login").into_response();
    };
    let r = async {
        may_decide(&state, &user, &claim).await?;
        let part = (!f.part_id.is_empty()).then_some(f.part_id.as_str());
        store::decide_claim(
            &state.db,
            &user.audit_name(),
            &claim,
            f.decision == "approve",
            part,
            None,
        )
        .await?;
        Ok::<_, ApiError>(())
    }
    .await;
    back(&id, r.err())
}

async fn admin_user(
    State(state): State<AppState>,
    MaybeUser(user): MaybeUser,
    Path((id, uid, what)): Path<(String, String, String)>,
) -> Response {
    let Some(user) = user else {
        return Redirect::to("/login").into_response();
    };
    let r = async {
        may_administer(&state, &user, &uid).await?;
        let actor = user.audit_name();
        match what.as_str() {
            "disable" => store::set_disabled(&state.db, &actor, &uid, true).await?,
            "enable" => store::set_disabled(&state.db, &actor, &uid, false).await?,
            "force-reset" => store::force_reset(&state.db, &actor, &uid).await?,
            _ => return Err(ApiError::not_found("no such action")),
        };
        Ok::<_, ApiError>(())
    }
    .await;
    back(&id, r.err())
}

async fn admin_revoke(
    State(state): State<AppState>,
    MaybeUser(user): MaybeUser,
    Path((id, gid)): Path<(String, String)>,
) -> Response {
    let Some(user) = user else {
        return Redirect::to("/login").into_response();
    };
    let r = async {
        let (_, role, path) = store::grant_with_path(&state.db, &gid).await?;
        access::check_grant(&user, role, &path)?;
        store::revoke_grant(&state.db, &user.audit_name(), &gid).await?;
        Ok::<_, ApiError>(())
    }
    .await;
    back(&id, r.err())
}

/// An owner confirms (or refuses) a family member's or tenant's claim on
/// their flat, from their household page; back to the page it came from.
async fn owner_decide(
    State(state): State<AppState>,
    MaybeUser(user): MaybeUser,
    Path(claim): Path<String>,
    headers: HeaderMap,
    Form(f): Form<DecideForm>,
) -> Response {
    let lang = Lang::from_request(None, &headers);
    let Some(user) = user else {
        return Redirect::to("/login").into_response();
    };
    let r = async {
        may_decide(&state, &user, &claim).await?;
        store::decide_claim(
            &state.db,
            &user.audit_name(),
            &claim,
            f.decision == "approve",
            None,
            None,
        )
        .await?;
        Ok::<_, ApiError>(())
    }
    .await;
    match r {
        Ok(()) => {
            let owners = auth::owners_of_user(&state.db, &user.user_id)
                .await
                .unwrap_or_default();
            match owners.first() {
                Some(o) => Redirect::to(&format!("/owners/{o}")).into_response(),
                None => Redirect::to("/").into_response(),
            }
        }
        Err(e) => page_error(e, lang),
    }
}
