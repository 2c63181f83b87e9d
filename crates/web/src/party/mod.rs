//! Party members at home (党员回小区): the register, check-ins with their
//! receipts, the figures by place.
pub mod api;
