//! Account pages: sign up, claim a household, forgot password, accept an
//! invitation; staff: the accounts below a place and the claims queue.

use crate::AppState;

pub fn router() -> axum::Router<AppState> {
    axum::Router::new()
}
