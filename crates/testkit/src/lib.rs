//! Gongzhi's test kit (a dev-dependency of store, web and the binary, never
//! of production code):
//!
//! - [`fresh`]: a new SQLite file or a new PostgreSQL database per test, and
//!   the [`both!`] macro that runs a test body on each engine;
//! - [`world`]: one builder for what the tests stand on (a roster of
//!   compounds, buildings and owners, places, grids, organisations, users
//!   with roles), optionally served over HTTP on a random port;
//! - [`http`]: one client for the API and the pages (log in, GET, POST with
//!   problem+json checked, `post_ok`, `refused`, page forms with their CSRF
//!   token);
//! - [`votes`]: real votes for tests of what needs a decision.

pub mod cases;
pub mod fresh;
pub mod http;
pub mod votes;
pub mod world;

pub use fresh::{fresh, fresh_url, scalar, Fresh, Kind};
pub use votes::{spending_vote, vote};
pub use world::{
    add_user, compound_by_hand, pw_hash, serve, two_compounds, world, At, Grid, Parts, Rows, User,
    World, WorldBuilder,
};

/// Runs a test body once per database kind: `both!(name);` after
/// `async fn name(kind: Kind)`.
#[macro_export]
macro_rules! both {
    ($($name:ident),+ $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() { super::$name($crate::Kind::Sqlite).await }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() { super::$name($crate::Kind::Postgres).await }
        }
    )+};
}
