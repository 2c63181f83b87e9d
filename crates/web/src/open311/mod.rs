//! Open311 GeoReport v2 for outside clients, and the staff queue of its
//! requests.
pub mod api;
pub mod queue_api;
