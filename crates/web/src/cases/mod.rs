//! Cases (诉求): raise, route, act, rate; mediation.
pub mod api;
pub mod gate;
pub mod mediation_api;
pub mod pages;
