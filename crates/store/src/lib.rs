//! Gongzhi's storage: one query code path over SQLite and PostgreSQL.
//!
//! Every function takes either the [`Db`] (reads) or a write transaction
//! ([`Tx`]) and writes its audit entry in that same transaction.

pub mod accounts;
pub mod audit;
pub mod audits;
pub mod auth;
pub mod billing;
pub mod books;
pub mod budget;
pub mod cases;
pub mod db;
pub mod deliberation;
pub mod error;
pub mod import;
pub mod matters;
pub mod mediation;
pub mod meetings;
pub mod migrate;
pub mod notify;
pub mod open311;
pub mod party;
pub mod password;
pub mod payments;
pub mod points;
pub mod procedures;
pub mod register;
pub(crate) mod scope;
pub mod spending;
pub mod stewardship;
pub mod tlog;
pub mod vote_questions;
pub mod votes;
pub mod wishes;

pub use books as fund;
pub use db::{Backend, Db, Tx};
pub use error::StoreError;
