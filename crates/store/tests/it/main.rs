//! The store's integration tests, one binary: each module a topic, each
//! database test on SQLite and PostgreSQL (`gongzhi_testkit::both!`).

mod books;
mod books_procedures;
mod invariants;
mod notify_and_queue;
mod register;
