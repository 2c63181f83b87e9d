//! The books of the common fund: transfers, approvals, billing, budgets,
//! the public board and its proofs.
pub mod api;
pub mod pages;
