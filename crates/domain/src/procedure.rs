//! Procedures as data: how a matter (议题) goes from being raised to being
//! reported back. A procedure is an ordered list of steps; each says who acts
//! (a role over the matter's scope), what it produces (a note, a document, a
//! meeting, a vote, a publication) and its time limits: at least N days after
//! the previous step (an owners' meeting is announced 15 days ahead) and at
//! most N days after it (a decision is published within 3 days).
//!
//! Built in: the seven-step method 七步工作法 (Pingli), 五议两公开 (Honggu)
//! and the e管家 funded-project flow (Chengdu). Communities define their own as
//! JSON of the same shape; [`validate`] checks them, [`check_step`] checks one
//! more completed step against the procedure and the steps done so far.
//!
//! [`window`] says when the next step may be done, for the matter page.

use crate::policy::Role;
use serde::{Deserialize, Serialize};

const DAY_MS: i64 = 86_400_000;

/// What a step produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Produces {
    Note,
    Document,
    Meeting,
    Vote,
    Publication,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    /// Unique in the procedure, e.g. "raise".
    pub key: String,
    /// Shown name, e.g. "公开提事".
    pub name: String,
    /// Who acts: one of these roles over the matter's scope.
    pub roles: Vec<Role>,
    pub produces: Produces,
    /// At least this many days after the previous step (e.g. 15: notice of an owners' meeting).
    #[serde(default)]
    pub min_days_after_previous: Option<u32>,
    /// At most this many days after the previous step (e.g. 3: publish a decision).
    #[serde(default)]
    pub max_days_after_previous: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Procedure {
    pub key: String,
    pub name: String,
    pub steps: Vec<Step>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProcedureError {
    #[error("steps: a procedure needs at least one step")]
    Empty,
    #[error("steps: at most 30 steps")]
    TooLong,
    #[error("steps[{0}].key: empty")]
    EmptyKey(usize),
    #[error("steps[{index}].key: '{key}' is used twice")]
    DuplicateKey { index: usize, key: String },
    #[error("steps[{0}].roles: at least one role acts in each step")]
    NoRoles(usize),
    #[error("steps[{0}]: the first step has no previous step to count days from")]
    FirstStepDays(usize),
    #[error(
        "steps[{index}]: min_days_after_previous {min} is more than max_days_after_previous {max}"
    )]
    DaysInverted { index: usize, min: u32, max: u32 },
    #[error("steps[{index}]: at most 365 days")]
    DaysTooLong { index: usize },
    #[error("key: '{0}' must be 1–40 characters of a–z, 0–9 and _")]
    BadKey(String),
    #[error("key: '{0}' is a built-in procedure; give a community's own procedure another key")]
    ShadowsBuiltin(String),
    #[error("name: empty or longer than 100 characters")]
    BadName,
}

/// Checks a procedure a community (or another place) defines for its own
/// matters: a valid procedure, with a key that is a short slug (so it can be
/// named in a URL and a request) and is not one of the built-ins' keys (a
/// matter that names `seven_step` always gets the built-in seven steps).
pub fn check_local(p: &Procedure) -> Result<(), ProcedureError> {
    let slug = |k: &str| {
        (1..=40).contains(&k.len())
            && k.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    };
    if !slug(&p.key) {
        return Err(ProcedureError::BadKey(p.key.clone()));
    }
    if builtins().iter().any(|b| b.key == p.key) {
        return Err(ProcedureError::ShadowsBuiltin(p.key.clone()));
    }
    let name = p.name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(ProcedureError::BadName);
    }
    validate(p)
}

/// Why a completed step does not fit the procedure.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StepError {
    #[error("every step is done; the procedure is complete")]
    Complete,
    #[error("the next step is '{expected}', not '{got}'")]
    OutOfOrder { expected: String, got: String },
    #[error("step '{step}' may be done by {allowed}, not by {role}")]
    WrongRole {
        step: String,
        role: String,
        allowed: String,
    },
    #[error("step '{step}' must come at least {days} days after '{previous}'")]
    TooEarly {
        step: String,
        previous: String,
        days: u32,
    },
    #[error("step '{step}' had to come within {days} days after '{previous}'")]
    TooLate {
        step: String,
        previous: String,
        days: u32,
    },
    #[error("step '{step}' is dated before '{previous}'")]
    BeforePrevious { step: String, previous: String },
}

pub fn validate(p: &Procedure) -> Result<(), ProcedureError> {
    if p.steps.is_empty() {
        return Err(ProcedureError::Empty);
    }
    if p.steps.len() > 30 {
        return Err(ProcedureError::TooLong);
    }
    for (i, s) in p.steps.iter().enumerate() {
        if s.key.trim().is_empty() {
            return Err(ProcedureError::EmptyKey(i));
        }
        if p.steps[..i].iter().any(|o| o.key == s.key) {
            return Err(ProcedureError::DuplicateKey {
                index: i,
                key: s.key.clone(),
            });
        }
        if s.roles.is_empty() {
            return Err(ProcedureError::NoRoles(i));
        }
        if i == 0 && (s.min_days_after_previous.is_some() || s.max_days_after_previous.is_some()) {
            return Err(ProcedureError::FirstStepDays(i));
        }
        if let (Some(min), Some(max)) = (s.min_days_after_previous, s.max_days_after_previous) {
            if min > max {
                return Err(ProcedureError::DaysInverted { index: i, min, max });
            }
        }
        if s.min_days_after_previous.unwrap_or(0) > 365
            || s.max_days_after_previous.unwrap_or(0) > 365
        {
            return Err(ProcedureError::DaysTooLong { index: i });
        }
    }
    Ok(())
}

/// Checks that step `key`, done by `role` at `at` (ms), is the next step of
/// `p` after the steps done at `done_at` (ms, one per completed step, in
/// order). Returns the index of the step.
pub fn check_step(
    p: &Procedure,
    done_at: &[i64],
    key: &str,
    role: Role,
    at: i64,
) -> Result<usize, StepError> {
    let i = done_at.len();
    let step = p.steps.get(i).ok_or(StepError::Complete)?;
    if step.key != key {
        return Err(StepError::OutOfOrder {
            expected: step.key.clone(),
            got: key.to_string(),
        });
    }
    if !step.roles.contains(&role) && role != Role::Admin {
        return Err(StepError::WrongRole {
            step: step.key.clone(),
            role: role.as_str().to_string(),
            allowed: step
                .roles
                .iter()
                .map(|r| r.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        });
    }
    if let Some(prev_at) = done_at.last() {
        let previous = p.steps[i - 1].key.clone();
        if at < *prev_at {
            return Err(StepError::BeforePrevious {
                step: step.key.clone(),
                previous,
            });
        }
        let elapsed = at - prev_at;
        if let Some(d) = step.min_days_after_previous {
            if elapsed < i64::from(d) * DAY_MS {
                return Err(StepError::TooEarly {
                    step: step.key.clone(),
                    previous,
                    days: d,
                });
            }
        }
        if let Some(d) = step.max_days_after_previous {
            if elapsed > i64::from(d) * DAY_MS {
                return Err(StepError::TooLate {
                    step: step.key.clone(),
                    previous,
                    days: d,
                });
            }
        }
    }
    Ok(i)
}

/// When the next step may be done: its index, the earliest time (the
/// previous step plus its minimum days) and the latest (plus its maximum
/// days), in ms. None when every step is done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NextWindow {
    pub index: usize,
    pub earliest: Option<i64>,
    pub latest: Option<i64>,
}

/// The window of the step after the steps done at `done_at` (ms, in order).
pub fn window(p: &Procedure, done_at: &[i64]) -> Option<NextWindow> {
    let index = done_at.len();
    let step = p.steps.get(index)?;
    let prev = done_at.last().copied();
    let at = |days: Option<u32>| match (prev, days) {
        (Some(t), Some(d)) => Some(t + i64::from(d) * DAY_MS),
        _ => None,
    };
    Some(NextWindow {
        index,
        earliest: at(step.min_days_after_previous),
        latest: at(step.max_days_after_previous),
    })
}

fn step(
    key: &str,
    name: &str,
    roles: &[Role],
    produces: Produces,
    min: Option<u32>,
    max: Option<u32>,
) -> Step {
    Step {
        key: key.into(),
        name: name.into(),
        roles: roles.to_vec(),
        produces,
        min_days_after_previous: min,
        max_days_after_previous: max,
    }
}

/// The built-in procedures.
pub fn builtins() -> Vec<Procedure> {
    use Produces::*;
    use Role::*;
    let staff = [CommunityStaff, StreetAdmin];
    vec![
        // Pingli (report 004): 公开提事 → 小区分事 → 社区议事 → 民主定事 → 综合办事 → 结果公示 → 反馈民事.
        Procedure {
            key: "seven_step".into(),
            name: "七步工作法".into(),
            steps: vec![
                step(
                    "raise",
                    "公开提事",
                    &[Owner, Resident, GridWorker, CommitteeMember],
                    Note,
                    None,
                    None,
                ),
                step(
                    "triage",
                    "小区分事",
                    &[CommitteeMember, BranchSecretary, GridWorker],
                    Note,
                    None,
                    Some(7),
                ),
                step(
                    "deliberate",
                    "社区议事",
                    &[CommunityStaff, CommitteeMember, BranchSecretary],
                    Meeting,
                    None,
                    None,
                ),
                // Owners' meeting: announced at deliberation, at least 15 days ahead (Property Management Regulation art. 14).
                step(
                    "decide",
                    "民主定事",
                    &[CommitteeMember, CommunityStaff],
                    Vote,
                    Some(15),
                    None,
                ),
                step(
                    "carry_out",
                    "综合办事",
                    &[Steward, CommitteeMember, CommunityStaff],
                    Document,
                    None,
                    None,
                ),
                step(
                    "publish",
                    "结果公示",
                    &[CommitteeMember, CommunityStaff],
                    Publication,
                    None,
                    Some(3),
                ),
                step(
                    "report_back",
                    "反馈民事",
                    &[GridWorker, CommitteeMember, CommunityStaff],
                    Note,
                    None,
                    None,
                ),
            ],
        },
        // Honggu (report 001). The report names the method only; its usual
        // form is: residents propose, the party organisation proposes, the two
        // committees consult, party members review, residents' representatives
        // decide; the decision and the result are published.
        Procedure {
            key: "five_deliberations_two_publications".into(),
            name: "五议两公开".into(),
            steps: vec![
                step(
                    "residents_propose",
                    "居民提议",
                    &[Owner, Resident, GridWorker],
                    Note,
                    None,
                    None,
                ),
                step(
                    "party_proposes",
                    "党组织提议",
                    &[BranchSecretary],
                    Note,
                    None,
                    None,
                ),
                step(
                    "committees_consult",
                    "两委商议",
                    &staff,
                    Meeting,
                    None,
                    None,
                ),
                step(
                    "members_review",
                    "党员审议",
                    &[BranchSecretary],
                    Meeting,
                    None,
                    None,
                ),
                step(
                    "representatives_decide",
                    "居民代表决议",
                    &[CommunityStaff, CommitteeMember],
                    Vote,
                    None,
                    None,
                ),
                step(
                    "publish_decision",
                    "决议公开",
                    &[CommunityStaff, CommitteeMember],
                    Publication,
                    None,
                    Some(3),
                ),
                step(
                    "publish_result",
                    "实施结果公开",
                    &[CommunityStaff, CommitteeMember],
                    Publication,
                    None,
                    None,
                ),
            ],
        },
        // Chengdu (report 002): e管家 funded projects.
        Procedure {
            key: "e_steward_project".into(),
            name: "e管家项目".into(),
            steps: vec![
                step(
                    "propose",
                    "居民提出与评论",
                    &[Owner, Resident],
                    Note,
                    None,
                    None,
                ),
                step(
                    "sort",
                    "党组织梳理",
                    &[BranchSecretary, CommunityStaff],
                    Document,
                    None,
                    None,
                ),
                step(
                    "council_decides",
                    "居民议事会决定项目清单",
                    &[CommunityStaff, CommitteeMember],
                    Vote,
                    None,
                    None,
                ),
                step(
                    "publish_list",
                    "清单公示",
                    &[CommunityStaff],
                    Publication,
                    None,
                    Some(3),
                ),
                step(
                    "organisations_apply",
                    "社会组织线上申请承接",
                    &[CommunityStaff],
                    Document,
                    None,
                    None,
                ),
                step(
                    "deliver",
                    "项目实施",
                    &[CommunityStaff, Steward],
                    Document,
                    None,
                    None,
                ),
                step(
                    "accept",
                    "监督人、议事会与居民验收评价",
                    &[Supervisor, CommitteeMember, CommunityStaff],
                    Publication,
                    None,
                    None,
                ),
            ],
        },
    ]
}

/// A step of a matter as done: what its compound's books log records.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StepDone {
    pub idx: i64,
    pub step_key: String,
    pub role: String,
    pub actor: String,
    pub note: String,
    pub vote_id: Option<String>,
    pub at: i64,
}

#[cfg(test)]
mod tests {

    #[test]
    fn local_procedures() {
        let mut p = builtins().into_iter().next().unwrap();
        assert_eq!(
            check_local(&p),
            Err(ProcedureError::ShadowsBuiltin(p.key.clone()))
        );
        p.key = "courtyard_talk".into();
        p.name = "小院说事".into();
        assert_eq!(check_local(&p), Ok(()));
        for bad in ["", "Courtyard", "院子", "a-b", &"x".repeat(41)] {
            p.key = bad.into();
            assert_eq!(
                check_local(&p),
                Err(ProcedureError::BadKey(bad.into())),
                "{bad}"
            );
        }
        p.key = "courtyard_talk".into();
        p.name = "  ".into();
        assert_eq!(check_local(&p), Err(ProcedureError::BadName));
        p.name = "小院说事".into();
        p.steps.clear();
        assert_eq!(check_local(&p), Err(ProcedureError::Empty));
    }

    use super::*;

    #[test]
    fn builtins_are_valid_and_roundtrip_as_json() {
        let b = builtins();
        assert_eq!(b.len(), 3);
        for p in &b {
            validate(p).unwrap_or_else(|e| panic!("{}: {e}", p.key));
            let json = serde_json::to_string(p).unwrap();
            let back: Procedure = serde_json::from_str(&json).unwrap();
            assert_eq!(&back, p);
        }
        assert_eq!(
            b[0].steps
                .iter()
                .map(|s| s.name.as_str())
                .collect::<Vec<_>>(),
            [
                "公开提事",
                "小区分事",
                "社区议事",
                "民主定事",
                "综合办事",
                "结果公示",
                "反馈民事"
            ]
        );
    }

    #[test]
    fn bad_procedures_are_refused() {
        let mut p = builtins().remove(0);
        p.steps[1].key = "raise".into();
        assert_eq!(
            validate(&p),
            Err(ProcedureError::DuplicateKey {
                index: 1,
                key: "raise".into()
            })
        );
        let mut p = builtins().remove(0);
        p.steps[0].min_days_after_previous = Some(1);
        assert_eq!(validate(&p), Err(ProcedureError::FirstStepDays(0)));
        let mut p = builtins().remove(0);
        p.steps[2].roles.clear();
        assert_eq!(validate(&p), Err(ProcedureError::NoRoles(2)));
        let mut p = builtins().remove(0);
        p.steps[3].max_days_after_previous = Some(10);
        assert_eq!(
            validate(&p),
            Err(ProcedureError::DaysInverted {
                index: 3,
                min: 15,
                max: 10
            })
        );
        let p = Procedure {
            key: "x".into(),
            name: "x".into(),
            steps: vec![],
        };
        assert_eq!(validate(&p), Err(ProcedureError::Empty));
    }

    #[test]
    fn steps_follow_order_roles_and_days() {
        let p = builtins().remove(0);
        let d = DAY_MS;
        assert_eq!(check_step(&p, &[], "raise", Role::Owner, 0), Ok(0));
        assert!(matches!(
            check_step(&p, &[], "triage", Role::CommitteeMember, 0),
            Err(StepError::OutOfOrder { .. })
        ));
        assert!(matches!(
            check_step(&p, &[0], "triage", Role::Owner, d),
            Err(StepError::WrongRole { .. })
        ));
        assert_eq!(
            check_step(&p, &[0], "triage", Role::CommitteeMember, 7 * d),
            Ok(1),
            "7 days is within 7"
        );
        assert!(matches!(
            check_step(&p, &[0], "triage", Role::CommitteeMember, 7 * d + 1),
            Err(StepError::TooLate { days: 7, .. })
        ));
        // The owners' vote: at least 15 days after the meeting was announced.
        let done = [0, d, 2 * d];
        assert!(matches!(
            check_step(
                &p,
                &done,
                "decide",
                Role::CommitteeMember,
                2 * d + 15 * d - 1
            ),
            Err(StepError::TooEarly { days: 15, .. })
        ));
        assert_eq!(
            check_step(&p, &done, "decide", Role::CommitteeMember, 2 * d + 15 * d),
            Ok(3)
        );
        assert!(matches!(
            check_step(&p, &done, "decide", Role::CommitteeMember, d),
            Err(StepError::BeforePrevious { .. })
        ));
        let all: Vec<i64> = (0..7).map(|i| i * 20 * d).collect();
        assert_eq!(
            check_step(&p, &all, "report_back", Role::GridWorker, 1000 * d),
            Err(StepError::Complete)
        );
        // Publication within 3 days of carrying out.
        let five = [0, d, 2 * d, 20 * d, 30 * d];
        assert_eq!(
            check_step(&p, &five, "publish", Role::CommunityStaff, 33 * d),
            Ok(5)
        );
        assert!(matches!(
            check_step(&p, &five, "publish", Role::CommunityStaff, 33 * d + 1),
            Err(StepError::TooLate { days: 3, .. })
        ));
    }

    #[test]
    fn the_next_steps_window_agrees_with_check_step() {
        let p = builtins().remove(0);
        let d = DAY_MS;
        assert_eq!(
            window(&p, &[]),
            Some(NextWindow {
                index: 0,
                earliest: None,
                latest: None
            })
        );
        let w = window(&p, &[0, d, 2 * d]).unwrap();
        assert_eq!((w.index, w.earliest, w.latest), (3, Some(17 * d), None));
        assert!(check_step(&p, &[0, d, 2 * d], "decide", Role::CommitteeMember, 17 * d).is_ok());
        assert!(check_step(
            &p,
            &[0, d, 2 * d],
            "decide",
            Role::CommitteeMember,
            17 * d - 1
        )
        .is_err());
        let w = window(&p, &[0, d, 2 * d, 20 * d, 30 * d]).unwrap();
        assert_eq!((w.index, w.earliest, w.latest), (5, None, Some(33 * d)));
        let all: Vec<i64> = (0..7).map(|i| i * d).collect();
        assert_eq!(window(&p, &all), None);
    }
}
