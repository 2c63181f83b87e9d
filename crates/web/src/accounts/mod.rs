//! Accounts for real people: sign-up by phone verified against the register,
//! household claims and the community's queue, invitations to a role,
//! password recovery, and user administration below a place. Store commands:
//! `gongzhi_store::accounts`; rules: `gongzhi_domain::accounts`.

pub mod api;
pub mod pages;

use crate::access;
use crate::problem::ApiError;
use crate::session::{self, CurrentUser};
use crate::AppState;
use gongzhi_domain::accounts::{ClaimRelation, CodePurpose};
use gongzhi_domain::policy::{self, Action, Role};
use gongzhi_store::accounts::{self as store, Outgoing};
use gongzhi_store::auth;
use std::path::PathBuf;
use std::sync::Mutex;

/// A way of texting a phone. The default writes each message as a JSON line
/// to `DATA_DIR/sms.log` (or the process log without a data dir): no
/// network. A real gateway implements the same trait.
pub trait Sms: Send + Sync {
    fn send(&self, phone: &str, text: &str) -> Result<(), String>;
}

/// SMS without a gateway: one JSON line per message.
pub struct LoggedSms {
    file: Option<PathBuf>,
    lock: Mutex<()>,
}

impl LoggedSms {
    pub fn new(file: Option<PathBuf>) -> Self {
        LoggedSms {
            file,
            lock: Mutex::new(()),
        }
    }
}

impl Sms for LoggedSms {
    fn send(&self, phone: &str, text: &str) -> Result<(), String> {
        let line = serde_json::json!({
            "channel": "sms",
            "to": phone,
            "text": text,
            "at": gongzhi_store::db::now_ms(),
        })
        .to_string();
        match &self.file {
            Some(path) => gongzhi_store::notify::append_line(path, &self.lock, &line),
            None => {
                tracing::info!(target: "gongzhi::sms", "{line}");
                Ok(())
            }
        }
    }
}

/// The text of a one-time code.
pub fn code_text(code: &str) -> String {
    format!("【共治】验证码 {code}，10 分钟内有效，请勿告诉他人。Gongzhi code {code}, valid 10 minutes.")
}

/// Texts what `request_code` decided, without telling the asker which.
pub async fn send_code(
    state: &AppState,
    ip: &str,
    phone: &str,
    purpose: CodePurpose,
) -> Result<(), ApiError> {
    let out = store::request_code(&state.db, phone, purpose, &session::client_key(ip)).await?;
    let phone = gongzhi_domain::accounts::normalise_phone(phone).unwrap_or_default();
    let text = match out {
        Outgoing::Code(code) => code_text(&code),
        Outgoing::AlreadyRegistered => "【共治】此号码已注册。如忘记密码，请在登录页点“找回密码”。This number already has a Gongzhi account: use 'forgot password' to reset it.".to_string(),
        Outgoing::Nothing => return Ok(()),
    };
    if let Err(e) = state.sms.send(&phone, &text) {
        tracing::error!(error = %e, "could not send an SMS");
    }
    Ok(())
}

/// A compound named by id or code, or 422 on `compound`.
pub async fn compound_id(state: &AppState, v: &str) -> Result<String, ApiError> {
    let v = v.trim();
    let p = match gongzhi_store::register::place_by_code(&state.db, v).await {
        Ok(p) => Some(p),
        Err(_) => gongzhi_store::register::get_place(&state.db, v).await.ok(),
    };
    p.filter(|p| p.kind == "compound")
        .map(|p| p.id)
        .ok_or_else(|| ApiError::field("compound", "no such compound"))
}

/// `action` over the whole place (a grid worker's narrowed access is not enough).
pub async fn full(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
    action: Action,
) -> Result<(gongzhi_store::register::Place, policy::Access), ApiError> {
    let (place, access) = access::check(state, user, id, action).await?;
    if access != policy::Access::Full {
        return Err(ApiError::forbidden("not allowed over the whole place"));
    }
    Ok((place, access))
}

/// Whether the caller may decide claim `id` (see [`decide_claim`]).
pub async fn may_decide(state: &AppState, user: &CurrentUser, id: &str) -> Result<(), ApiError> {
    let (claim, path, claimant) =
        store::claim_for_decision(&state.db, id)
            .await
            .map_err(crate::problem::or_not_found(format!(
                "claim '{id}' not found"
            )))?;
    let path = gongzhi_store::register::path_ids(&path);
    let staff = matches!(
        access::check_path(user, &path, Action::WriteRegister),
        Ok(policy::Access::Full)
    );
    let owner = match (&claim.part_id, claim.relation) {
        (Some(part), ClaimRelation::Family | ClaimRelation::Tenant) => {
            store::owns_part(&state.db, &user.user_id, part).await?
        }
        _ => false,
    };
    let refused = match gongzhi_domain::accounts::may_decide_claim(
        claimant == user.user_id,
        staff,
        claim.relation,
        owner,
    ) {
        Ok(()) => return Ok(()),
        Err(r) => r,
    };
    if refused == gongzhi_domain::accounts::ClaimRefusal::OwnClaim {
        return Err(ApiError::forbidden("nobody decides their own claim"));
    }
    if !policy::can_see_place(&user.actor, &path) {
        return Err(ApiError::not_found(format!("claim '{id}' not found")));
    }
    Err(ApiError::forbidden(
        "only the community's staff or the flat's owner decide this claim",
    ))
}

/// Accepts as the logged-in `user` or as a new account: (user, grant, a new
/// session's token when an account was made).
pub async fn accept(
    state: &AppState,
    user: Option<&CurrentUser>,
    token: &str,
    password: Option<String>,
) -> Result<(String, String, Option<String>), ApiError> {
    match user {
        Some(u) => {
            let inv_phone = store::invitation_phone(&state.db, token).await?;
            if let Some(mine) = store::phone_of(&state.db, &u.user_id).await? {
                if mine != inv_phone {
                    return Err(ApiError::forbidden(
                        "this invitation was sent to another phone",
                    ));
                }
            }
            let (uid, gid) =
                store::accept_invitation(&state.db, token, Some(&u.user_id), None).await?;
            Ok((uid, gid, None))
        }
        None => {
            let pw = password.unwrap_or_default();
            auth::validate_password(&pw)?;
            let hash = auth::hash_password_async(pw).await?;
            let (uid, gid) = store::accept_invitation(&state.db, token, None, Some(&hash)).await?;
            let t = auth::create_session(&state.db, &uid).await?;
            Ok((uid, gid, Some(t)))
        }
    }
}

/// Whether the caller may administer account `id`: they manage access over
/// every place where it holds a role or owns a flat (an account with
/// neither: administrators only), and it is not their own.
pub async fn may_administer(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
) -> Result<(), ApiError> {
    if id == user.user_id {
        return Err(ApiError::forbidden("not on your own account"));
    }
    auth::get_user(&state.db, id).await?;
    let mut paths = store::account_paths(&state.db, id).await?;
    if paths.is_empty() {
        paths.push(vec![]);
    }
    for p in &paths {
        let r = if p.is_empty() {
            // a role over everything (an administrator): only another administrator
            access::check_grant(user, Role::Admin, p)
        } else {
            access::check_path(user, p, Action::ManageAccess).map(|_| ())
        };
        r.map_err(|_| ApiError::forbidden("the account holds roles or flats outside your scope"))?;
    }
    Ok(())
}

/// Invites a person to `role` over place `place_id` (the caller must manage
/// access there and may grant the role) and texts them the link: the one
/// path the API and the accounts page share.
pub async fn invite(
    state: &AppState,
    user: &CurrentUser,
    place_id: &str,
    role: Role,
    phone: &str,
    name: &str,
    grid_id: Option<&str>,
) -> Result<store::NewInvitation, ApiError> {
    let (place, _) = full(state, user, place_id, Action::ManageAccess).await?;
    access::check_grant(user, role, &place.path_ids())?;
    let inv = store::invite(
        &state.db,
        &user.audit_name(),
        &user.user_id,
        phone,
        name,
        role,
        Some(&place.id),
        grid_id,
    )
    .await?;
    let phone = gongzhi_domain::accounts::normalise_phone(phone).unwrap_or_default();
    let text = format!(
        "【共治】您受邀担任 {}（{}）。打开链接设置密码：/invite/{} （7 天内有效） You are invited to Gongzhi.",
        crate::i18n::Lang::ZhCn.tc("role.", role.as_str()),
        place.name,
        inv.token
    );
    if let Err(e) = state.sms.send(&phone, &text) {
        tracing::error!(error = %e, "could not send an invitation SMS");
    }
    Ok(inv)
}
