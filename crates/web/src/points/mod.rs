//! Points (积分) and the points store (积分超市): awards by community staff,
//! the caller's own points, the store's items, redemptions held until the
//! station hands them over.
pub mod api;
pub mod pages;
pub mod wishes_api;
