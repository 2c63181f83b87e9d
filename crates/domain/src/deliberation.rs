//! Opinion collection and meetings around a matter: questionnaires (single
//! or multiple choice, or free text; one current answer per person, counted),
//! door-to-door records (敲门行动) dated by the visit, and meetings — a topic
//! meeting, a four-party joint meeting (四方联席会) or an owners' assembly,
//! which must be announced at least 15 days ahead (Property Management
//! Regulation art. 14).

use crate::policy::Role;
use serde::{Deserialize, Serialize};

pub const DAY_MS: i64 = 86_400_000;
/// Days of notice an owners' assembly needs.
pub const ASSEMBLY_NOTICE_DAYS: i64 = 15;

/// A problem with one named field of the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct FieldError {
    pub field: String,
    pub reason: String,
}

fn bad(field: impl Into<String>, reason: impl Into<String>) -> FieldError {
    FieldError {
        field: field.into(),
        reason: reason.into(),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QuestionKind {
    Single,
    Multiple,
    Text,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Question {
    pub text: String,
    pub kind: QuestionKind,
    /// The choices of a single or multiple choice question; empty for text.
    #[serde(default)]
    pub options: Vec<String>,
}

/// Checks a questionnaire's questions: 1–50, each with text; choice
/// questions have 2–20 distinct options, text questions none.
pub fn validate_questions(qs: &[Question]) -> Result<(), FieldError> {
    if qs.is_empty() || qs.len() > 50 {
        return Err(bad("questions", "1 to 50 questions"));
    }
    for (i, q) in qs.iter().enumerate() {
        let t = q.text.trim();
        if t.is_empty() || t.chars().count() > 500 {
            return Err(bad(format!("questions[{i}].text"), "1 to 500 characters"));
        }
        match q.kind {
            QuestionKind::Text if !q.options.is_empty() => {
                return Err(bad(
                    format!("questions[{i}].options"),
                    "a free-text question has no options",
                ))
            }
            QuestionKind::Text => {}
            QuestionKind::Single | QuestionKind::Multiple => {
                if q.options.len() < 2 || q.options.len() > 20 {
                    return Err(bad(
                        format!("questions[{i}].options"),
                        "a choice question has 2 to 20 options",
                    ));
                }
                for (j, o) in q.options.iter().enumerate() {
                    let o = o.trim();
                    if o.is_empty() || o.chars().count() > 200 {
                        return Err(bad(
                            format!("questions[{i}].options[{j}]"),
                            "1 to 200 characters",
                        ));
                    }
                    if q.options[..j].iter().any(|p| p.trim() == o) {
                        return Err(bad(
                            format!("questions[{i}].options[{j}]"),
                            format!("'{o}' is listed twice"),
                        ));
                    }
                }
            }
        }
    }
    Ok(())
}

/// One answer: the index of the chosen option, the indices of the chosen
/// options, or a text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Answer {
    One(usize),
    Many(Vec<usize>),
    Text(String),
}

/// Checks one person's answers against the questions: one answer per
/// question, of the question's kind, naming existing options.
pub fn validate_answers(qs: &[Question], answers: &[Answer]) -> Result<(), FieldError> {
    if answers.len() != qs.len() {
        return Err(bad(
            "answers",
            format!("{} answers for {} questions", answers.len(), qs.len()),
        ));
    }
    for (i, (q, a)) in qs.iter().zip(answers).enumerate() {
        let f = format!("answers[{i}]");
        match (q.kind, a) {
            (QuestionKind::Single, Answer::One(k)) if *k < q.options.len() => {}
            (QuestionKind::Single, Answer::One(k)) => {
                return Err(bad(f, format!("no option {k}")));
            }
            (QuestionKind::Multiple, Answer::Many(ks)) => {
                if ks.is_empty() {
                    return Err(bad(f, "choose at least one option"));
                }
                for (j, k) in ks.iter().enumerate() {
                    if *k >= q.options.len() {
                        return Err(bad(f, format!("no option {k}")));
                    }
                    if ks[..j].contains(k) {
                        return Err(bad(f, format!("option {k} chosen twice")));
                    }
                }
            }
            (QuestionKind::Text, Answer::Text(t)) => {
                let n = t.trim().chars().count();
                if n == 0 || n > 2000 {
                    return Err(bad(f, "1 to 2000 characters"));
                }
            }
            (QuestionKind::Single, _) => return Err(bad(f, "one option's index")),
            (QuestionKind::Multiple, _) => return Err(bad(f, "a list of option indices")),
            (QuestionKind::Text, _) => return Err(bad(f, "a text")),
        }
    }
    Ok(())
}

/// The count of one question: how many chose each option, and how many
/// answered in text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QuestionCount {
    pub options: Vec<u64>,
    pub texts: u64,
}

/// Counts the current answers (one per person, already validated).
pub fn count(qs: &[Question], answers: &[Vec<Answer>]) -> Vec<QuestionCount> {
    let mut out: Vec<QuestionCount> = qs
        .iter()
        .map(|q| QuestionCount {
            options: vec![0; q.options.len()],
            texts: 0,
        })
        .collect();
    for person in answers {
        for (c, a) in out.iter_mut().zip(person) {
            match a {
                Answer::One(k) => {
                    if let Some(n) = c.options.get_mut(*k) {
                        *n += 1;
                    }
                }
                Answer::Many(ks) => {
                    for k in ks {
                        if let Some(n) = c.options.get_mut(*k) {
                            *n += 1;
                        }
                    }
                }
                Answer::Text(_) => c.texts += 1,
            }
        }
    }
    out
}

/// A visit's date, `YYYY-MM-DD`, a real calendar date.
pub fn validate_date(s: &str) -> Result<(), FieldError> {
    let b = s.as_bytes();
    let shape = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    if !shape {
        return Err(bad("visited_on", "a date as YYYY-MM-DD"));
    }
    let n = |r: std::ops::Range<usize>| s[r].parse::<u32>().unwrap_or(0);
    let (y, m, d) = (n(0..4), n(5..7), n(8..10));
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => 0,
    };
    if !(2000..=2100).contains(&y) || d == 0 || d > days {
        return Err(bad("visited_on", format!("'{s}' is not a calendar date")));
    }
    Ok(())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MeetingKind {
    /// 专题会: a meeting on one matter.
    Topic,
    /// 四方联席会: community party organisation, owners' (or property
    /// management) committee, steward and compound branch.
    FourParty,
    /// 业主大会: the owners' assembly.
    OwnersAssembly,
}

impl MeetingKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MeetingKind::Topic => "topic",
            MeetingKind::FourParty => "four_party",
            MeetingKind::OwnersAssembly => "owners_assembly",
        }
    }
    pub fn parse(s: &str) -> Option<MeetingKind> {
        match s {
            "topic" => Some(MeetingKind::Topic),
            "four_party" => Some(MeetingKind::FourParty),
            "owners_assembly" => Some(MeetingKind::OwnersAssembly),
            _ => None,
        }
    }
}

/// Checks a meeting's times (ms): it ends after it starts, lasts at most a
/// day, and an owners' assembly starts at least 15 days after it is announced.
pub fn check_schedule(
    kind: MeetingKind,
    announced_at: i64,
    starts_at: i64,
    ends_at: i64,
) -> Result<(), FieldError> {
    if ends_at <= starts_at {
        return Err(bad("ends_at", "the meeting must end after it starts"));
    }
    if ends_at - starts_at > DAY_MS {
        return Err(bad("ends_at", "a meeting lasts at most one day"));
    }
    if kind == MeetingKind::OwnersAssembly
        && starts_at - announced_at < ASSEMBLY_NOTICE_DAYS * DAY_MS
    {
        return Err(bad(
            "starts_at",
            format!(
                "an owners' assembly must be announced at least {ASSEMBLY_NOTICE_DAYS} days ahead (Property Management Regulation art. 14): announced {} days {} hours before it starts",
                (starts_at - announced_at).max(0) / DAY_MS,
                (starts_at - announced_at).max(0) % DAY_MS / 3_600_000
            ),
        ));
    }
    Ok(())
}

/// Whether someone may comment on or answer about a matter: anyone holding
/// a role over its scope other than owner or resident (staff, committee,
/// grid workers…), and owners and residents only when they own or live in a
/// part inside the scope (`lives_or_owns_in_scope`).
pub fn may_speak(roles_over_scope: &[Role], lives_or_owns_in_scope: bool) -> bool {
    lives_or_owns_in_scope
        || roles_over_scope
            .iter()
            .any(|r| !matches!(r, Role::Owner | Role::Resident))
}

#[cfg(test)]
mod tests {
    #[test]
    fn who_speaks_on_a_matter() {
        assert!(may_speak(&[Role::Owner], true));
        assert!(!may_speak(&[Role::Owner, Role::Resident], false));
        assert!(may_speak(&[Role::GridWorker], false));
        assert!(!may_speak(&[], false));
    }

    use super::*;

    fn q(kind: QuestionKind, options: &[&str]) -> Question {
        Question {
            text: "问题".into(),
            kind,
            options: options.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn questions_are_checked() {
        assert!(validate_questions(&[]).is_err());
        let ok = [
            q(QuestionKind::Single, &["同意", "反对"]),
            q(QuestionKind::Multiple, &["书屋", "课堂", "扶手"]),
            q(QuestionKind::Text, &[]),
        ];
        assert_eq!(validate_questions(&ok), Ok(()));
        assert_eq!(
            validate_questions(&[q(QuestionKind::Single, &["同意"])])
                .unwrap_err()
                .field,
            "questions[0].options"
        );
        assert_eq!(
            validate_questions(&[q(QuestionKind::Text, &["x"])])
                .unwrap_err()
                .field,
            "questions[0].options"
        );
        assert_eq!(
            validate_questions(&[q(QuestionKind::Multiple, &["a", "b", " a"])])
                .unwrap_err()
                .field,
            "questions[0].options[2]"
        );
        let mut blank = q(QuestionKind::Text, &[]);
        blank.text = "  ".into();
        assert_eq!(
            validate_questions(&[blank]).unwrap_err().field,
            "questions[0].text"
        );
    }

    #[test]
    fn answers_are_checked_and_counted() {
        let qs = [
            q(QuestionKind::Single, &["同意", "反对"]),
            q(QuestionKind::Multiple, &["书屋", "课堂", "扶手"]),
            q(QuestionKind::Text, &[]),
        ];
        let a1 = vec![
            Answer::One(0),
            Answer::Many(vec![0, 2]),
            Answer::Text("好".into()),
        ];
        let a2 = vec![
            Answer::One(1),
            Answer::Many(vec![2]),
            Answer::Text("不".into()),
        ];
        assert_eq!(validate_answers(&qs, &a1), Ok(()));
        let field = |a: Vec<Answer>| validate_answers(&qs, &a).unwrap_err().field;
        assert_eq!(field(vec![Answer::One(0)]), "answers");
        assert_eq!(
            field(vec![Answer::One(2), a1[1].clone(), a1[2].clone()]),
            "answers[0]"
        );
        assert_eq!(
            field(vec![a1[0].clone(), Answer::Many(vec![1, 1]), a1[2].clone()]),
            "answers[1]"
        );
        assert_eq!(
            field(vec![a1[0].clone(), Answer::Many(vec![]), a1[2].clone()]),
            "answers[1]"
        );
        assert_eq!(
            field(vec![a1[0].clone(), a1[1].clone(), Answer::One(0)]),
            "answers[2]"
        );
        assert_eq!(
            field(vec![Answer::Text("x".into()), a1[1].clone(), a1[2].clone()]),
            "answers[0]"
        );
        let c = count(&qs, &[a1, a2]);
        assert_eq!(c[0].options, vec![1, 1]);
        assert_eq!(c[1].options, vec![1, 0, 2]);
        assert_eq!(c[2].texts, 2);
        // JSON shapes: 0, [0, 2], "text".
        let parsed: Vec<Answer> = serde_json::from_str(r#"[1, [0, 2], "好"]"#).unwrap();
        assert_eq!(parsed[1], Answer::Many(vec![0, 2]));
    }

    #[test]
    fn visit_dates() {
        assert_eq!(validate_date("2025-02-28"), Ok(()));
        assert_eq!(validate_date("2024-02-29"), Ok(()));
        assert!(validate_date("2025-02-29").is_err());
        assert!(validate_date("2025-13-01").is_err());
        assert!(validate_date("2025-1-01").is_err());
        assert!(validate_date("２０25-01-01").is_err());
    }

    #[test]
    fn an_owners_assembly_needs_fifteen_days_notice() {
        let d = DAY_MS;
        let k = MeetingKind::OwnersAssembly;
        assert_eq!(check_schedule(k, 0, 15 * d, 15 * d + 3_600_000), Ok(()));
        let e = check_schedule(k, 0, 15 * d - 1, 15 * d + 3_600_000).unwrap_err();
        assert_eq!(e.field, "starts_at");
        assert!(e.reason.contains("15 days"), "{}", e.reason);
        assert_eq!(
            check_schedule(MeetingKind::Topic, 0, d, d + 3_600_000),
            Ok(())
        );
        assert_eq!(
            check_schedule(MeetingKind::Topic, 0, d, d)
                .unwrap_err()
                .field,
            "ends_at"
        );
        assert_eq!(
            check_schedule(MeetingKind::FourParty, 0, d, 3 * d)
                .unwrap_err()
                .field,
            "ends_at"
        );
        for k in [MeetingKind::Topic, MeetingKind::FourParty, k] {
            assert_eq!(MeetingKind::parse(k.as_str()), Some(k));
        }
    }
}
