//! Matters (议事) and their deliberation: topics, opinions, steps.
pub mod api;
pub mod deliberation_api;
pub mod pages;
