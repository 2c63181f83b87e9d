//! The binary's integration tests, one binary: the CLI (`*_cli`), the demo
//! city, votes and deliberation over HTTP, and the invariants over the whole
//! demo.

// The demo loader, compiled into this binary at its root (its modules
// name each other as `crate::demo_…`), for the invariants over the demo city.
#[allow(dead_code)]
#[path = "../../src/demo.rs"]
mod demo;
#[allow(dead_code)]
#[path = "../../src/demo_books.rs"]
mod demo_books;
#[allow(dead_code)]
#[path = "../../src/demo_cases.rs"]
mod demo_cases;
#[allow(dead_code)]
#[path = "../../src/demo_matters.rs"]
mod demo_matters;
#[allow(dead_code)]
#[path = "../../src/demo_party.rs"]
mod demo_party;
#[allow(dead_code)]
#[path = "../../src/demo_points.rs"]
mod demo_points;
#[allow(dead_code)]
#[path = "../../src/demo_questions.rs"]
mod demo_questions;
#[allow(dead_code)]
#[path = "../../src/demo_votes.rs"]
mod demo_votes;

mod audit_vote_cli;
mod auth_cli;
mod books_cli;
mod cli;
mod deliberation;
mod demo_cases_cli;
mod demo_cli;
mod demo_questions_cli;
mod demo_votes_cli;
mod invariants;
mod party;
mod roster_cli;
mod votes;
mod votes_questions;
