//! The web crate's integration tests, one binary: each module a topic over real
//! HTTP, each on SQLite and PostgreSQL (`gongzhi_testkit::both!`).

mod accounts;
mod api;
mod auth;
mod books;
mod cases;
mod hardening;
mod pages_ux;
mod points;
