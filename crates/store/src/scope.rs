//! The compound a scope lies in: what the books log (a matter's steps) and
//! a vote's authorised spending are filed under. Below both, so neither
//! imports the other.

use crate::db::{self, Tx};
use crate::error::StoreError;
use crate::register::Place;

/// The compound a scope belongs to: the compound on its path (the place
/// itself or an ancestor), or None for a scope above any compound.
pub async fn compound_of_scope(tx: &mut Tx, scope_path: &str) -> Result<Option<Place>, StoreError> {
    for id in crate::register::path_ids(scope_path) {
        let r =
            sqlx::query("SELECT id, kind, name, parent_id, code, path FROM places WHERE id = $1")
                .bind(&id)
                .fetch_optional(&mut **tx)
                .await?;
        if let Some(r) = r {
            if db::s(&r, "kind")? == "compound" {
                return Ok(Some(Place {
                    id: db::s(&r, "id")?,
                    kind: db::s(&r, "kind")?,
                    name: db::s(&r, "name")?,
                    parent_id: db::os(&r, "parent_id")?,
                    code: db::os(&r, "code")?,
                    path: db::s(&r, "path")?,
                }));
            }
        }
    }
    Ok(None)
}
