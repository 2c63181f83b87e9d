//! The register: places, parts, owners, residents, grids, organisations,
//! grants (API), and the place and owner pages; login and logout.
pub mod api;
pub mod pages;
