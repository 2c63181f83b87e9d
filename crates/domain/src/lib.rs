//! The pure domain of Gongzhi: the rules owners, workers and stewards live by.
//!
//! No I/O, no database, no HTTP. Everything here is deterministic and is where
//! most of the tests live.

pub mod accounts;
pub mod ballot;
pub mod book_entries;
pub mod calendar;
pub mod cases;
pub mod deliberation;
pub mod flows;
pub mod fund_calc;
pub mod ical;
pub mod ledger;
pub mod mask;
pub mod mediation;
pub mod merkle;
pub mod money;
pub mod notify;
pub mod party;
pub mod place;
pub mod points;
pub mod policy;
pub mod procedure;
pub mod questions;
pub mod roster;
pub mod split;
pub mod vote;
