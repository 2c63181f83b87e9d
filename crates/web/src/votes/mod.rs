//! Owners' votes: creation, ballots, the public board and record.
pub mod api;
pub mod board_page;
pub mod pages;
