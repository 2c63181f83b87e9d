//! A compound's common-fund books: accounts, immutable transfers, two-party
//! approved disbursements and idempotency keys, each write appending its
//! leaf to the compound's Merkle log ([`crate::tlog`]) in the same
//! transaction.
//!
//! Concurrency: every write begins by updating the compound's `fund_books`
//! row ([`lock`]). On PostgreSQL that is a row lock taken at READ COMMITTED
//! ([`Db::write_locked`]), so writers of one compound queue behind it and,
//! once through, see the latest balances; on SQLite the single writer does
//! the same. The cash rule (never below zero) is then checked by the domain
//! ledger on balances read inside that transaction.
//!
//! `journal`: the books' settings, the lock, appending transfers and
//! records to the log, idempotency, the passed-vote check, matter steps;
//! `disbursements`: two-party approved spending (and emergency use);
//! `reads`: balances, transfers, entries. `crate::fund` is this module.

mod disbursements;
mod journal;
mod reads;

pub use disbursements::*;
pub use journal::*;
pub use reads::*;
