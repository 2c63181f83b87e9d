//! The register: places, parts, owners, residents, grids, organisations,
//! grants (API), and the place and owner pages; login and logout.
pub mod api;
pub mod pages;

use crate::problem::ApiError;
use crate::session::CurrentUser;
use crate::AppState;
use gongzhi_store::register;

/// The top places of the caller's world (each grant's place; everything's
/// top for an administrator), with their part counts: the API's place list
/// and the home page both show them.
pub async fn top_places(
    state: &AppState,
    user: &CurrentUser,
) -> Result<Vec<register::PlaceSummary>, ApiError> {
    if user.actor.grants.iter().any(|g| g.scope.is_empty()) {
        return Ok(register::children(&state.db, None).await?);
    }
    let mut out: Vec<register::PlaceSummary> = Vec::new();
    for g in &user.actor.grants {
        if let Some(id) = g.scope.last() {
            if out.iter().any(|p| &p.id == id) {
                continue;
            }
            let p = register::get_place(&state.db, id).await?;
            let parts = register::count_parts_under(&state.db, &p).await?;
            out.push(register::PlaceSummary {
                id: p.id,
                kind: p.kind,
                name: p.name,
                code: p.code,
                parts,
            });
        }
    }
    Ok(out)
}
