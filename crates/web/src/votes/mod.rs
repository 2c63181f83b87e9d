//! Owners' votes: creation, ballots, the public board and record.
pub mod api;
pub mod board_page;
pub mod pages;

use crate::access::check;
use crate::problem::ApiError;
use crate::session::CurrentUser;
use crate::AppState;
use gongzhi_domain::policy::Action;
use gongzhi_store::auth;
use gongzhi_store::vote_questions;
use gongzhi_store::votes::{self, VoteView};

pub(crate) async fn load(state: &AppState, id: &str) -> Result<VoteView, ApiError> {
    votes::get_vote(&state.db, id)
        .await
        .map_err(crate::problem::or_not_found(format!(
            "vote '{id}' not found"
        )))
}

/// The caller's owners of record who are in the vote's frozen electorate.
pub async fn my_electors(
    state: &AppState,
    user: &CurrentUser,
    v: &VoteView,
) -> Result<Vec<String>, ApiError> {
    let mine = auth::owners_of_user(&state.db, &user.user_id).await?;
    if mine.is_empty() {
        return Ok(vec![]);
    }
    Ok(votes::electors_among(&state.db, &v.id, &mine).await?)
}

/// The vote if the caller may see it: over a place they may read, or as an
/// owner in its electorate. Returns the caller's electors too.
pub async fn vote_visible(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
) -> Result<(VoteView, Vec<String>), ApiError> {
    let v = load(state, id).await?;
    let mine = my_electors(state, user, &v).await?;
    if mine.is_empty() {
        check(state, user, &v.place_id, Action::ReadStructure)
            .await
            .map_err(crate::problem::hidden_as_not_found(format!(
                "vote '{id}' not found"
            )))?;
    }
    Ok((v, mine))
}

/// What an owner's own ballot says: a yes/no vote's choice, or the answers
/// to a vote's questions (`(question id, chosen option ids)`).
pub(crate) enum OwnVote {
    Choice(gongzhi_domain::vote::Choice),
    Answers(Vec<(String, Vec<String>)>),
}

/// Casts the caller's own online ballot in a vote they may see (the API and
/// the ballot form): the store's [`votes::cast_for_user`] (or, answering
/// questions, [`vote_questions::cast_for_user`]) resolves the owner and
/// checks the vote.
pub(crate) async fn cast_own(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
    owner_id: Option<&str>,
    vote: OwnVote,
) -> Result<votes::Receipt, ApiError> {
    vote_visible(state, user, id).await?;
    let cast_by = user.audit_name();
    let ballot = |choice| votes::OwnBallot {
        user_id: &user.user_id,
        vote_id: id,
        owner_id,
        choice,
        cast_by: &cast_by,
        now: gongzhi_store::db::now_ms(),
    };
    Ok(match vote {
        OwnVote::Choice(choice) => votes::cast_for_user(&state.db, ballot(choice)).await?,
        OwnVote::Answers(answers) => {
            let b = ballot(gongzhi_domain::vote::Choice::Abstain);
            vote_questions::cast_for_user(&state.db, b, answers).await?
        }
    })
}
