//! The one place where requests meet the policy. Every handler that touches a
//! place's data calls [`check`]; the rules themselves live in
//! `gongzhi_domain::policy`. Places outside the caller's world answer 404, so
//! another compound's existence is not even confirmed.

use crate::problem::ApiError;
use crate::session::CurrentUser;
use crate::AppState;
use gongzhi_domain::policy::{self, Access, Action, Target};
use gongzhi_store::register::{self, PartFilter, Place};

pub async fn check(
    state: &AppState,
    user: &CurrentUser,
    place_id: &str,
    action: Action,
) -> Result<(Place, Access), ApiError> {
    let place = register::get_place(&state.db, place_id)
        .await
        .map_err(|_| ApiError::not_found(format!("place '{place_id}' not found")))?;
    let access = check_place(user, &place, action)?;
    Ok((place, access))
}

pub fn check_place(user: &CurrentUser, place: &Place, action: Action) -> Result<Access, ApiError> {
    let path = place.path_ids();
    if !policy::can_see_place(&user.actor, &path) {
        return Err(ApiError::not_found("place not found"));
    }
    policy::authorize(&user.actor, action, Target { path: &path })
        .map_err(|d| ApiError::forbidden(d.0))
}

/// The gate for one case: `action` on a case at `place` in micro-grid
/// `case_grid` (a grid worker scoped to a micro-grid acts only on its cases).
pub fn check_case(
    user: &CurrentUser,
    place: &Place,
    case_grid: Option<&str>,
    action: Action,
) -> Result<(), ApiError> {
    let path = place.path_ids();
    if !policy::can_see_place(&user.actor, &path) {
        return Err(ApiError::not_found("place not found"));
    }
    policy::authorize_case(&user.actor, action, Target { path: &path }, case_grid)
        .map_err(|d| ApiError::forbidden(d.0))
}

/// The micro-grids a narrowed access is limited to (`None`: all).
pub fn grids(access: &Access) -> Option<Vec<String>> {
    match access {
        Access::Full => None,
        Access::Grids(g) => Some(g.clone()),
    }
}

pub fn filter(access: &Access) -> PartFilter {
    match access {
        Access::Full => PartFilter::All,
        Access::Grids(g) => PartFilter::Grids(g.clone()),
    }
}
