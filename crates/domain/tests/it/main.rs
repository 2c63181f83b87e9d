//! The domain's integration tests (property tests of the vote arithmetic).

mod vote_props;
