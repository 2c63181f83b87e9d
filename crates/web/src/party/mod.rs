//! Party members at home (党员回小区): the register, check-ins with their
//! receipts, the figures by place; the member's, branch's and employer's pages.
pub mod api;
pub mod pages;
