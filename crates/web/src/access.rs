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
    let place =
        register::get_place(&state.db, place_id)
            .await
            .map_err(crate::problem::or_not_found(format!(
                "place '{place_id}' not found"
            )))?;
    let access = check_place(user, &place, action)?;
    Ok((place, access))
}

pub fn check_place(user: &CurrentUser, place: &Place, action: Action) -> Result<Access, ApiError> {
    let path = place.path_ids();
    if !policy::can_see_place(&user.actor, &path) {
        return Err(ApiError::not_found("place not found"));
    }
    check_path(user, &path, action)
}

/// `action` over the place at `path` (its ids from the top; empty: the
/// whole system, e.g. an administrator's), without the visibility check of
/// [`check_place`]: for callers that have already decided what is visible.
pub fn check_path(user: &CurrentUser, path: &[String], action: Action) -> Result<Access, ApiError> {
    policy::authorize(&user.actor, action, Target { path }).map_err(|d| ApiError::forbidden(d.0))
}

/// Whether the caller reads the register at `path` in full (not narrowed
/// to micro-grids).
pub fn reads_register_fully(user: &CurrentUser, path: &[String]) -> bool {
    check_path(user, path, Action::ReadRegister).is_ok_and(|a| a == Access::Full)
}

/// Whether the caller may give `role` over the place at `path` (empty: the
/// whole system).
pub fn check_grant(
    user: &CurrentUser,
    role: policy::Role,
    path: &[String],
) -> Result<(), ApiError> {
    policy::authorize_grant(&user.actor, role, path).map_err(|d| ApiError::forbidden(d.0))
}

/// A person named in a write (as `field`): every place they are known at (home,
/// current residences) must let the caller change the register. Otherwise the person
/// is unknown to them — a 422 naming the field, confirming nothing about
/// another compound's people.
pub async fn check_person(
    state: &AppState,
    user: &CurrentUser,
    person_id: &str,
    field: &str,
) -> Result<(), ApiError> {
    let unknown = || ApiError::field(field, format!("no person '{person_id}'"));
    let places = register::person_places(&state.db, person_id)
        .await
        .map_err(|_| unknown())?;
    for p in &places {
        check_place(user, p, Action::WriteRegister).map_err(|_| unknown())?;
    }
    Ok(())
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

/// The micro-grids whose cases the caller's escalation sweep below `place`
/// may move (`None`: all). The sweep is allowed compound-wide, but each case
/// it escalates must be one the caller may escalate: a grid worker scoped to
/// micro-grids moves only theirs (`policy::authorize_case`).
pub fn sweep_grids(user: &CurrentUser, place: &Place) -> Option<Vec<String>> {
    let path = place.path_ids();
    let mut grids = Vec::new();
    for g in &user.actor.grants {
        let one = policy::Actor {
            user_id: user.user_id.clone(),
            grants: vec![g.clone()],
        };
        if policy::authorize(&one, Action::EscalateCase, Target { path: &path }).is_err() {
            continue;
        }
        match (&g.grid, g.role) {
            (Some(grid), policy::Role::GridWorker) => grids.push(grid.clone()),
            _ => return None,
        }
    }
    Some(grids)
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

/// May another user (`actor`, e.g. a case's assignee) take `action` on a
/// case at `place` in `case_grid`? The policy of [`check_case`], asked for
/// someone other than the caller.
pub fn actor_may_case(
    actor: &policy::Actor,
    place: &Place,
    case_grid: Option<&str>,
    action: Action,
) -> bool {
    let path = place.path_ids();
    policy::authorize_case(actor, action, Target { path: &path }, case_grid).is_ok()
}

/// The role the caller acts in for `action` over `place`: the first of
/// their roles there that allows it on its own (`admin` when none does).
pub fn acting_role(user: &CurrentUser, place: &Place, action: Action) -> String {
    let path = place.path_ids();
    policy::roles_over(&user.actor, &path)
        .into_iter()
        .find(|r| {
            let one = policy::Actor {
                user_id: user.user_id.clone(),
                grants: vec![policy::Grant {
                    role: *r,
                    scope: vec![],
                    grid: None,
                }],
            };
            policy::authorize(&one, action, Target { path: &path }).is_ok()
        })
        .map(|r| r.as_str().to_string())
        .unwrap_or_else(|| "admin".into())
}

/// An owner of record the caller may change the register for: every part
/// of the owner must be visible (else 404) and fully writable (else 403).
pub async fn check_owner(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
) -> Result<register::OwnerDetail, ApiError> {
    let owner = register::get_owner(&state.db, id)
        .await
        .map_err(crate::problem::or_not_found(format!(
            "owner '{id}' not found"
        )))?;
    if owner.parts.is_empty() {
        return Err(ApiError::not_found(format!("owner '{id}' not found")));
    }
    for p in &owner.parts {
        let path = register::path_ids(&p.place_path);
        if !policy::can_see_place(&user.actor, &path) {
            return Err(ApiError::not_found(format!("owner '{id}' not found")));
        }
        if !matches!(
            check_path(user, &path, Action::WriteRegister),
            Ok(Access::Full)
        ) {
            return Err(ApiError::forbidden(
                "you may not change the register over every part of this owner",
            ));
        }
    }
    Ok(owner)
}
