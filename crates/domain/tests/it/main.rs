//! The domain's integration tests (property tests of the vote arithmetic).

mod questions_props;
mod vote_props;
