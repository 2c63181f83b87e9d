//! Credentials: API tokens, password changes, revocation.
pub mod api;
