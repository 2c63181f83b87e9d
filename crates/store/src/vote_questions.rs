//! Votes with questions (elections, naming votes): the questions set on a
//! draft, ballots that answer them (appended with the ballot, checked by the
//! domain's [`questions::validate_answers`]), and the close that counts them
//! with [`questions::tally_questions`] and publishes `gongzhi.vote/2` at the
//! same URL as a yes/no vote's record. Everything else — the frozen
//! electorate, window, channels, re-cast limit, proxies, evidence — is the
//! yes/no vote's own path in [`crate::votes`].

use crate::audit::{self, Entry};
use crate::db::{self, Db, Tx};
use crate::error::StoreError;
use crate::votes::{self, Cast, Elector, NewVote, Receipt, VoteView};
use gongzhi_domain::ballot::VoteStatus;
use gongzhi_domain::questions::{self, Answers, Question, QuestionsRecord};
use gongzhi_domain::vote::{Choice, VoteError, VoteRecord};
use serde_json::{json, Value};
use std::collections::HashMap;

/// A domain error about questions or answers as a field error: the field is
/// the error's path (`questions[0].seats`, `answers.q1`).
fn field_error(e: VoteError) -> StoreError {
    match e {
        VoteError::InvalidRecord { path, message } => StoreError::invalid(path, message),
        other => StoreError::invalid("questions", other.to_string()),
    }
}

/// Sets a draft vote's questions (checked by
/// [`questions::validate_questions`]); appended to the audit trail.
pub async fn set_questions(
    tx: &mut Tx,
    actor: &str,
    vote_id: &str,
    qs: &[Question],
) -> Result<VoteView, StoreError> {
    let v = votes::vote_in_tx(tx, vote_id).await?;
    if v.status != VoteStatus::Draft {
        return Err(StoreError::Conflict(format!(
            "the vote is {}; questions are set only on a draft",
            v.status
        )));
    }
    questions::validate_questions(qs).map_err(field_error)?;
    for (i, q) in qs.iter().enumerate() {
        if q.title.trim().is_empty() || q.title.chars().count() > 200 {
            return Err(StoreError::invalid(
                format!("questions[{i}].title"),
                "1 to 200 characters",
            ));
        }
        if let Some(j) = q
            .options
            .iter()
            .position(|o| o.label.trim().is_empty() || o.label.chars().count() > 100)
        {
            return Err(StoreError::invalid(
                format!("questions[{i}].options[{j}].label"),
                "1 to 100 characters",
            ));
        }
    }
    let text = serde_json::to_string(qs).expect("questions serialize");
    sqlx::query("UPDATE votes SET questions_json = $1 WHERE id = $2")
        .bind(text)
        .bind(vote_id.to_string())
        .execute(&mut **tx)
        .await?;
    audit::record(
        tx,
        Entry {
            actor: actor.into(),
            action: "vote.questions".into(),
            entity: "vote".into(),
            entity_id: vote_id.into(),
            scope_path: v.scope_path.clone(),
            before: v.questions.as_ref().map(|q| json!(q)),
            after: Some(json!(qs)),
        },
    )
    .await?;
    votes::vote_in_tx(tx, vote_id).await
}

/// Creates a draft vote with questions in one transaction
/// ([`votes::create_vote`] then [`set_questions`]).
pub async fn create(
    db: &Db,
    actor: &str,
    v: NewVote<'_>,
    qs: Vec<Question>,
) -> Result<VoteView, StoreError> {
    let args = (
        actor.to_string(),
        v.title.to_string(),
        v.place.clone(),
        qs,
        v.channels,
    );
    let (rule, opens_at, closes_at) = (v.rule, v.opens_at, v.closes_at);
    db.write_with(args, move |tx, (actor, title, place, qs, channels)| {
        Box::pin(async move {
            let nv = NewVote {
                title: &title,
                place: &place,
                rule,
                opens_at,
                closes_at,
                channels,
            };
            let v = votes::create_vote(tx, &actor, nv).await?;
            set_questions(tx, &actor, &v.id, &qs).await
        })
    })
    .await
}

/// A ballot's answers in the vote's question order, as stored and published
/// (`{"q1": ["c1", "c4"]}`; questions not answered are left out).
fn answers_json(qs: &[Question], answers: &[(String, Vec<String>)]) -> String {
    let body: Vec<String> = qs
        .iter()
        .filter_map(|q| {
            let (_, chosen) = answers.iter().find(|(id, _)| *id == q.id)?;
            Some(format!("{}:{}", json!(q.id), json!(chosen)))
        })
        .collect();
    format!("{{{}}}", body.join(","))
}

/// Casts (or re-casts) an owner's ballot that answers a vote's questions:
/// the answers are checked against the questions (an unknown question or
/// option, too many choices, an option twice → invalid `answers.<q>`), then
/// the ballot goes through [`votes::cast`]'s checks and is appended with
/// its answers in this transaction.
pub async fn cast_answers(
    tx: &mut Tx,
    c: Cast<'_>,
    answers: Vec<(String, Vec<String>)>,
) -> Result<Receipt, StoreError> {
    let v = votes::vote_in_tx(tx, c.vote_id).await?;
    let Some(qs) = v.questions else {
        return Err(StoreError::invalid(
            "answers",
            "this vote has no questions: the ballot is a choice (yes, no, abstain)",
        ));
    };
    let ballot = Answers {
        owner: c.owner_id.to_string(),
        answers,
    };
    questions::validate_answers(&qs, &ballot).map_err(field_error)?;
    let vote_id = c.vote_id.to_string();
    let r = votes::cast_checked(
        tx,
        Cast {
            choice: Choice::Abstain,
            ..c
        },
        true,
    )
    .await?;
    let text = answers_json(&qs, &ballot.answers);
    sqlx::query(
        "INSERT INTO vote_ballot_answers (ballot_id, vote_id, answers_json) VALUES ($1, $2, $3)",
    )
    .bind(r.ballot_id.clone())
    .bind(vote_id)
    .bind(text.clone())
    .execute(&mut **tx)
    .await?;
    audit::record(
        tx,
        Entry {
            actor: c.cast_by.into(),
            action: "vote.ballot.answers".into(),
            entity: "vote_ballot".into(),
            entity_id: r.ballot_id.clone(),
            scope_path: v.scope_path,
            before: None,
            after: Some(json!({"receipt": r.receipt, "answers": serde_json::from_str::<Value>(&text).unwrap_or(Value::Null)})),
        },
    )
    .await?;
    Ok(r)
}

/// A user's own online ballot answering a vote's questions: the owner as
/// in [`votes::cast_for_user`] (`b.choice` is ignored), then
/// [`cast_answers`], in one transaction.
pub async fn cast_for_user(
    db: &Db,
    b: votes::OwnBallot<'_>,
    answers: Vec<(String, Vec<String>)>,
) -> Result<Receipt, StoreError> {
    votes::cast_for_user_with(db, b, Some(answers)).await
}

/// A worker's paper or proxy ballot answering a vote's questions, with its
/// evidence ([`cast_answers`]) in its own transaction.
pub async fn record_ballot(
    db: &Db,
    c: Cast<'_>,
    answers: Vec<(String, Vec<String>)>,
) -> Result<Receipt, StoreError> {
    votes::record_ballot_with(db, c, Some(answers)).await
}

/// The answers of an owner's current ballot in a vote with questions.
pub async fn current_answers(
    db: &Db,
    vote_id: &str,
    owner_id: &str,
) -> Result<Option<Value>, StoreError> {
    let r = sqlx::query("SELECT a.answers_json FROM vote_current_ballots cb JOIN vote_ballot_answers a ON a.ballot_id = cb.ballot_id WHERE cb.vote_id = $1 AND cb.owner_id = $2")
        .bind(vote_id.to_string())
        .bind(owner_id.to_string())
        .fetch_optional(db.reader())
        .await?;
    match r {
        Some(r) => Ok(serde_json::from_str(&db::s(&r, "answers_json")?).ok()),
        None => Ok(None),
    }
}

/// At close: the `gongzhi.vote/2` record of a vote with questions — the
/// yes/no record's parts and ballots (owners by their opaque keys, in key
/// order) with each current ballot's answers — counted by the domain.
/// Returns `(format, record JSON, result)`; the result is the record's
/// audit report, so the published record re-audits to it exactly.
pub(crate) async fn close_record(
    tx: &mut Tx,
    v: &VoteView,
    qs: &[Question],
    el: &[Elector],
    record: VoteRecord,
) -> Result<(&'static str, String, Value), StoreError> {
    let rows = sqlx::query("SELECT cb.owner_id, a.answers_json FROM vote_current_ballots cb JOIN vote_ballot_answers a ON a.ballot_id = cb.ballot_id WHERE cb.vote_id = $1")
        .bind(v.id.clone())
        .fetch_all(&mut **tx)
        .await?;
    let ref_of: HashMap<&str, &str> = el
        .iter()
        .map(|e| (e.owner_id.as_str(), e.owner_ref.as_str()))
        .collect();
    let mut answers_of: HashMap<String, Vec<(String, Vec<String>)>> = HashMap::new();
    for r in &rows {
        let owner = db::s(r, "owner_id")?;
        let Some(owner_ref) = ref_of.get(owner.as_str()) else {
            continue;
        };
        let m: HashMap<String, Vec<String>> = serde_json::from_str(&db::s(r, "answers_json")?)
            .map_err(|e| StoreError::Config(format!("stored answers: {e}")))?;
        // In question order, as published.
        let ordered = qs
            .iter()
            .filter_map(|q| m.get(&q.id).map(|c| (q.id.clone(), c.clone())))
            .collect();
        answers_of.insert(owner_ref.to_string(), ordered);
    }
    let ballots = record
        .ballots
        .iter()
        .map(|b| Answers {
            owner: b.owner.clone(),
            answers: answers_of.remove(&b.owner).unwrap_or_default(),
        })
        .collect();
    let q_record = QuestionsRecord {
        title: record.title,
        rule: record.rule,
        questions: qs.to_vec(),
        parts: record.parts,
        ballots,
    };
    let t = q_record
        .tally()
        .map_err(|e| StoreError::Conflict(format!("the vote cannot be counted: {e}")))?;
    Ok((
        questions::RECORD_FORMAT_2,
        q_record.to_json(),
        serde_json::to_value(&t).expect("a tally serializes"),
    ))
}
