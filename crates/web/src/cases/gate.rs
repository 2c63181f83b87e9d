//! The gate over one case ([`load`]: its reporter, or staff over its place
//! through [`crate::access`]) and the working calendar: shared by the cases
//! API, the mediation API, the case pages and Open311, so that none of them
//! calls another.

use crate::access::check_case;
use crate::problem::ApiError;
use crate::session::CurrentUser;
use crate::AppState;
use gongzhi_domain::cases::{Calendar, Command, Standing};
use gongzhi_domain::policy::Action;
use gongzhi_store::cases::{self, CaseView, Extra};
use gongzhi_store::{db, StoreError};

/// The working calendar (holidays as data: `crate::calendar`).
pub fn calendar() -> &'static Calendar {
    crate::calendar::current()
}

/// Loads a case the caller may see: its reporter or staff over its place
/// (through [`crate::access`]). Others get 404.
pub async fn load(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
) -> Result<(CaseView, Standing), ApiError> {
    let (c, place) =
        cases::get_with_place(&state.db, id)
            .await
            .map_err(crate::problem::or_not_found(format!(
                "case '{id}' not found"
            )))?;
    let reporter = c.reporter_user_id.as_deref() == Some(user.user_id.as_str());
    let may = |a: Action| check_case(user, &place, c.grid_id.as_deref(), a).is_ok();
    if !reporter && !may(Action::ReadCases) {
        return Err(ApiError::not_found(format!("case '{id}' not found")));
    }
    let standing = Standing {
        reporter,
        handler: may(Action::HandleCase),
        escalator: may(Action::EscalateCase),
        verifier: may(Action::VerifyCase),
    };
    Ok((c, standing))
}

/// Applies a command to a case now, on the working calendar (the store
/// checks it against the state machine).
pub async fn act_now(
    state: &AppState,
    id: &str,
    actor: &str,
    cmd: &Command,
    extra: &Extra,
) -> Result<CaseView, StoreError> {
    cases::act(&state.db, id, actor, cmd, extra, calendar(), db::now_ms()).await
}
