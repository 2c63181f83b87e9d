//! Meetings: agendas, attendance, minutes, calendars.
pub mod api;
pub mod pages;
