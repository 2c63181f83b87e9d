//! Mediation (调解): a dispute case (noise, neighbour dispute) becomes a
//! mediation with parties (people or households), mediators (a mediation
//! committee or a police mediation room from the register), sessions (when,
//! where, who attended, notes) and one outcome: an agreement (its text),
//! failed, or referred to another body.
//!
//! The state machine: open → sessions (any number) → outcome. The outcome
//! concludes the mediation exactly once; no session is recorded after it. An
//! agreement needs at least one session. No I/O, no clock: times are given.

use crate::cases::{check_text, Category, Refused, Status, MAX_NOTE_CHARS, MAX_TEXT_CHARS};
use crate::place::str_enum;

str_enum!(
    /// How a mediation ended.
    OutcomeKind { Agreement = "agreement", Failed = "failed", Referred = "referred" }
);

str_enum!(
    /// Which side of the dispute a party is on.
    Side { Applicant = "applicant", Respondent = "respondent", Other = "other" }
);

/// The outcome of a mediation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The parties agreed: the agreement's text.
    Agreement { text: String },
    /// No agreement: why.
    Failed { reason: String },
    /// Handed to another body (court, police, street office, …).
    Referred { to: String, note: String },
}

impl Outcome {
    pub fn kind(&self) -> OutcomeKind {
        match self {
            Outcome::Agreement { .. } => OutcomeKind::Agreement,
            Outcome::Failed { .. } => OutcomeKind::Failed,
            Outcome::Referred { .. } => OutcomeKind::Referred,
        }
    }
}

/// A party as given (stored in full, shown masked).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Party {
    pub name: String,
    pub side: Side,
    pub phone: Option<String>,
}

/// A session as given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub held_at: i64,
    pub place: String,
    pub attendees: Vec<String>,
    pub notes: String,
}

/// What the state machine knows about a mediation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MediationState {
    pub sessions: u32,
    pub outcome: Option<OutcomeKind>,
    /// The newest session's time, if any (sessions are recorded in order).
    pub last_session_at: Option<i64>,
}

impl MediationState {
    pub fn new() -> Self {
        MediationState {
            sessions: 0,
            outcome: None,
            last_session_at: None,
        }
    }
    pub fn is_open(&self) -> bool {
        self.outcome.is_none()
    }
}

impl Default for MediationState {
    fn default() -> Self {
        Self::new()
    }
}

/// Limits.
pub const MAX_PARTIES: usize = 20;
pub const MAX_MEDIATORS: usize = 5;
pub const MAX_ATTENDEES: usize = 40;
pub const MAX_SESSIONS: u32 = 50;

fn refuse(field: &'static str, reason: impl Into<String>) -> Refused {
    Refused {
        field,
        reason: reason.into(),
    }
}

fn text(field: &'static str, s: &str, max: usize) -> Result<(), Refused> {
    check_text(field, s, max, true)
}

/// May a case of `category` in `status` become a mediation? Only disputes,
/// and only while the case is being handled (accepted, assigned, in progress).
pub fn can_open(category: Category, status: Status) -> Result<(), Refused> {
    if !category.is_dispute() {
        return Err(refuse(
            "category",
            format!("only disputes (noise, neighbour_dispute) are mediated, not {category}"),
        ));
    }
    if !matches!(
        status,
        Status::Accepted | Status::Assigned | Status::InProgress
    ) {
        return Err(refuse(
            "action",
            format!("a case that is {status} cannot become a mediation (accept it first)"),
        ));
    }
    Ok(())
}

/// Checks the parties and mediators of a new mediation: at least two
/// parties with names, phones valid when given, one to five distinct mediators.
pub fn check_opening(parties: &[Party], mediators: &[String]) -> Result<(), Refused> {
    if parties.len() < 2 {
        return Err(refuse(
            "parties",
            "a mediation is between at least two parties",
        ));
    }
    if parties.len() > MAX_PARTIES {
        return Err(refuse("parties", format!("at most {MAX_PARTIES} parties")));
    }
    for p in parties {
        text("parties.name", &p.name, 100)?;
        if let Some(ph) = &p.phone {
            if !crate::mask::valid_phone(ph) {
                return Err(refuse("parties.phone", "not a valid phone number"));
            }
        }
    }
    if mediators.is_empty() {
        return Err(refuse(
            "mediator_org_ids",
            "name the mediating organisation (mediation committee or police mediation room)",
        ));
    }
    if mediators.len() > MAX_MEDIATORS {
        return Err(refuse(
            "mediator_org_ids",
            format!("at most {MAX_MEDIATORS} mediators"),
        ));
    }
    let mut m = mediators.to_vec();
    m.sort();
    m.dedup();
    if m.len() != mediators.len() {
        return Err(refuse("mediator_org_ids", "a mediator is named twice"));
    }
    Ok(())
}

/// Records a session at time `now`: only before the outcome, not in the
/// future, not before the previous session.
pub fn add_session(
    s: &MediationState,
    session: &Session,
    now: i64,
) -> Result<MediationState, Refused> {
    if let Some(o) = s.outcome {
        return Err(refuse(
            "action",
            format!("the mediation is concluded ({o}): no more sessions"),
        ));
    }
    if s.sessions >= MAX_SESSIONS {
        return Err(refuse("action", format!("at most {MAX_SESSIONS} sessions")));
    }
    if session.held_at > now {
        return Err(refuse(
            "held_at",
            "a session is recorded after it was held, not in advance",
        ));
    }
    if s.last_session_at.is_some_and(|t| session.held_at < t) {
        return Err(refuse(
            "held_at",
            "sessions are recorded in order: this one is before the previous session",
        ));
    }
    text("place", &session.place, 200)?;
    text("notes", &session.notes, MAX_TEXT_CHARS)?;
    if session.attendees.is_empty() {
        return Err(refuse("attendees", "name who attended"));
    }
    if session.attendees.len() > MAX_ATTENDEES {
        return Err(refuse(
            "attendees",
            format!("at most {MAX_ATTENDEES} attendees"),
        ));
    }
    for a in &session.attendees {
        text("attendees", a, 100)?;
    }
    Ok(MediationState {
        sessions: s.sessions + 1,
        outcome: None,
        last_session_at: Some(session.held_at),
    })
}

/// Concludes the mediation with `outcome`, exactly once. An agreement needs
/// at least one session (an agreement is reached in a session).
pub fn conclude(s: &MediationState, outcome: &Outcome) -> Result<MediationState, Refused> {
    if let Some(o) = s.outcome {
        return Err(refuse(
            "outcome",
            format!("the mediation is already concluded ({o})"),
        ));
    }
    match outcome {
        Outcome::Agreement { text: t } => {
            if s.sessions == 0 {
                return Err(refuse(
                    "outcome",
                    "an agreement is reached in a session: record the session first",
                ));
            }
            text("text", t, MAX_TEXT_CHARS)?;
        }
        Outcome::Failed { reason } => text("text", reason, MAX_NOTE_CHARS)?,
        Outcome::Referred { to, note } => {
            text("referred_to", to, 200)?;
            check_text("text", note, MAX_NOTE_CHARS, false)?;
        }
    }
    Ok(MediationState {
        outcome: Some(outcome.kind()),
        ..*s
    })
}

/// Counts of concluded mediations (for the statistics: "disputes mediated"
/// are the agreements).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct MediationCounts {
    pub opened: i64,
    pub mediated: i64,
    pub failed: i64,
    pub referred: i64,
}

/// `opened` mediations opened in a period; `outcomes` those concluded in it.
pub fn counts(opened: i64, outcomes: &[OutcomeKind]) -> MediationCounts {
    let mut c = MediationCounts {
        opened,
        ..Default::default()
    };
    for o in outcomes {
        match o {
            OutcomeKind::Agreement => c.mediated += 1,
            OutcomeKind::Failed => c.failed += 1,
            OutcomeKind::Referred => c.referred += 1,
        }
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn session(at: i64) -> Session {
        Session {
            held_at: at,
            place: "议事厅".into(),
            attendees: vec!["王阿姨".into(), "李先生".into(), "调委会张主任".into()],
            notes: "双方陈述".into(),
        }
    }
    fn party(n: &str, side: Side) -> Party {
        Party {
            name: n.into(),
            side,
            phone: None,
        }
    }

    #[test]
    fn only_disputes_being_handled() {
        assert!(can_open(Category::Noise, Status::Accepted).is_ok());
        assert!(can_open(Category::NeighbourDispute, Status::InProgress).is_ok());
        assert_eq!(
            can_open(Category::Repair, Status::Accepted)
                .unwrap_err()
                .field,
            "category"
        );
        for s in [
            Status::Reported,
            Status::Rejected,
            Status::Merged,
            Status::Resolved,
            Status::Verified,
            Status::Closed,
        ] {
            assert_eq!(can_open(Category::Noise, s).unwrap_err().field, "action");
        }
    }

    #[test]
    fn opening_needs_two_parties_and_a_mediator() {
        let two = [
            party("王阿姨", Side::Applicant),
            party("李先生", Side::Respondent),
        ];
        assert!(check_opening(&two, &["org1".into()]).is_ok());
        assert_eq!(
            check_opening(&two[..1], &["org1".into()])
                .unwrap_err()
                .field,
            "parties"
        );
        assert_eq!(
            check_opening(&two, &[]).unwrap_err().field,
            "mediator_org_ids"
        );
        assert_eq!(
            check_opening(&two, &["o".into(), "o".into()])
                .unwrap_err()
                .field,
            "mediator_org_ids"
        );
        let mut bad = two.clone();
        bad[1].phone = Some("12ab".into());
        assert_eq!(
            check_opening(&bad, &["o".into()]).unwrap_err().field,
            "parties.phone"
        );
        bad[1].phone = None;
        bad[0].name = "  ".into();
        assert_eq!(
            check_opening(&bad, &["o".into()]).unwrap_err().field,
            "parties.name"
        );
    }

    #[test]
    fn open_sessions_outcome_once() {
        let s = MediationState::new();
        assert_eq!(
            conclude(
                &s,
                &Outcome::Agreement {
                    text: "协议".into()
                }
            )
            .unwrap_err()
            .field,
            "outcome",
            "no agreement without a session"
        );
        let s = add_session(&s, &session(100), 200).unwrap();
        assert_eq!(s.sessions, 1);
        assert_eq!(
            add_session(&s, &session(50), 200).unwrap_err().field,
            "held_at",
            "in order"
        );
        assert_eq!(
            add_session(&s, &session(300), 200).unwrap_err().field,
            "held_at",
            "not in the future"
        );
        let s = add_session(&s, &session(150), 200).unwrap();
        let done = conclude(
            &s,
            &Outcome::Agreement {
                text: "夜间把狗关在室内".into(),
            },
        )
        .unwrap();
        assert_eq!(done.outcome, Some(OutcomeKind::Agreement));
        assert!(!done.is_open());
        assert_eq!(
            add_session(&done, &session(190), 200).unwrap_err().field,
            "action"
        );
        assert_eq!(
            conclude(&done, &Outcome::Failed { reason: "x".into() })
                .unwrap_err()
                .field,
            "outcome"
        );
    }

    #[test]
    fn failed_and_referred_need_their_text() {
        let s = MediationState::new();
        assert!(conclude(
            &s,
            &Outcome::Failed {
                reason: "一方拒绝到场".into()
            }
        )
        .is_ok());
        assert_eq!(
            conclude(&s, &Outcome::Failed { reason: "".into() })
                .unwrap_err()
                .field,
            "text"
        );
        assert_eq!(
            conclude(
                &s,
                &Outcome::Referred {
                    to: " ".into(),
                    note: "".into()
                }
            )
            .unwrap_err()
            .field,
            "referred_to"
        );
        assert!(conclude(
            &s,
            &Outcome::Referred {
                to: "派出所".into(),
                note: "".into()
            }
        )
        .is_ok());
        let mut sess = session(1);
        sess.attendees.clear();
        assert_eq!(add_session(&s, &sess, 10).unwrap_err().field, "attendees");
    }

    #[test]
    fn counting() {
        let c = counts(
            5,
            &[
                OutcomeKind::Agreement,
                OutcomeKind::Agreement,
                OutcomeKind::Failed,
                OutcomeKind::Referred,
            ],
        );
        assert_eq!(
            c,
            MediationCounts {
                opened: 5,
                mediated: 2,
                failed: 1,
                referred: 1
            }
        );
    }

    #[derive(Debug, Clone)]
    enum Cmd {
        Session(i64),
        Conclude(u8),
    }

    proptest! {
        /// Whatever the sequence: at most one outcome is ever accepted, no
        /// session is accepted after it, an agreement always follows a
        /// session, and session times never go backwards.
        #[test]
        fn outcome_once_and_last(cmds in proptest::collection::vec(prop_oneof![
            (0i64..1000).prop_map(Cmd::Session),
            (0u8..3).prop_map(Cmd::Conclude),
        ], 0..40)) {
            let mut s = MediationState::new();
            let mut outcomes = 0;
            let mut last = i64::MIN;
            for c in cmds {
                match c {
                    Cmd::Session(at) => {
                        if let Ok(n) = add_session(&s, &session(at), 1000) {
                            prop_assert!(s.outcome.is_none());
                            prop_assert!(at >= last);
                            last = at;
                            s = n;
                        }
                    }
                    Cmd::Conclude(k) => {
                        let o = match k {
                            0 => Outcome::Agreement { text: "协议".into() },
                            1 => Outcome::Failed { reason: "未达成".into() },
                            _ => Outcome::Referred { to: "法院".into(), note: String::new() },
                        };
                        if let Ok(n) = conclude(&s, &o) {
                            outcomes += 1;
                            if k == 0 { prop_assert!(s.sessions >= 1); }
                            s = n;
                        }
                    }
                }
            }
            prop_assert!(outcomes <= 1);
            prop_assert_eq!(outcomes == 1, s.outcome.is_some());
        }
    }
}
