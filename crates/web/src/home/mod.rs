//! Each role's home page.
pub mod pages;
