//! Notifications: the reader's inbox and the dispatcher.
pub mod api;
pub mod pages;
