//! Multi-question votes (`gongzhi.vote/2`): checked against a naive second
//! implementation, plus hand-made cases (ties at the last seat, exactly half,
//! a developer owning many parts, abstentions) and every named broken rule.
//!
//! The naive model differs from `questions::tally_questions` on purpose:
//! * each option's approval is the naive `/1` model itself, run on the
//!   ballots turned into "yes" (lists the option) or "abstain";
//! * an option's counts come from scanning every ballot for it;
//! * an option is elected when the approved options strictly better than it
//!   plus those equal to it fit in the seats; a group of equals straddling
//!   the last seat is a tie (no sort with a cut-off).

use crate::vote_props::{naive, rule, DEVELOPER};
use gongzhi_domain::money::Area;
use gongzhi_domain::questions::{
    audit_any, tally_questions, validate_answers, Answers, Audit, Choice as Opt, Question,
    QuestionsRecord, QuestionsTally,
};
use gongzhi_domain::vote::{Ballot, Choice, Matter, Part, Rule};
use proptest::prelude::*;
use serde_json::json;
use std::collections::BTreeSet;

// ---------------------------------------------------------------------------
// The naive model
// ---------------------------------------------------------------------------

#[derive(Debug, PartialEq, Eq)]
struct NaiveOption {
    id: String,
    yes_area: u128,
    yes_heads: u128,
    approval_met: bool,
}

#[derive(Debug, PartialEq, Eq)]
struct NaiveQuestion {
    options: Vec<NaiveOption>,
    elected: Vec<String>,
    tie: bool,
}

fn lists(b: &Answers, q: &str, o: &str) -> bool {
    b.answers
        .iter()
        .any(|(qid, chosen)| qid == q && chosen.iter().any(|c| c == o))
}

fn naive_questions(
    parts: &[Part],
    questions: &[Question],
    ballots: &[Answers],
    rule: &Rule,
) -> (bool, Vec<NaiveQuestion>) {
    let as_yes_no = |q: &str, o: &str| -> Vec<Ballot> {
        ballots
            .iter()
            .map(|b| {
                let c = if lists(b, q, o) {
                    Choice::Yes
                } else {
                    Choice::Abstain
                };
                Ballot::new(b.owner.clone(), c)
            })
            .collect()
    };
    let turnout_met = naive(parts, &as_yes_no("", ""), rule).turnout_met;
    let out = questions
        .iter()
        .map(|q| {
            let options: Vec<NaiveOption> = q
                .options
                .iter()
                .map(|o| {
                    let n = naive(parts, &as_yes_no(&q.id, &o.id), rule);
                    NaiveOption {
                        id: o.id.clone(),
                        yes_area: n.yes_area,
                        yes_heads: n.yes_heads,
                        approval_met: n.approval_met,
                    }
                })
                .collect();
            let approved: Vec<&NaiveOption> = options.iter().filter(|o| o.approval_met).collect();
            let seats = q.seats as usize;
            let mut elected: Vec<(u128, u128, usize, String)> = Vec::new();
            let mut tie = false;
            if turnout_met {
                for (pos, o) in options.iter().enumerate() {
                    if !o.approval_met {
                        continue;
                    }
                    let better = approved
                        .iter()
                        .filter(|p| {
                            p.yes_heads > o.yes_heads
                                || (p.yes_heads == o.yes_heads && p.yes_area > o.yes_area)
                        })
                        .count();
                    let equal = approved
                        .iter()
                        .filter(|p| p.yes_heads == o.yes_heads && p.yes_area == o.yes_area)
                        .count();
                    if better + equal <= seats {
                        elected.push((o.yes_heads, o.yes_area, pos, o.id.clone()));
                    } else if better < seats {
                        tie = true;
                    }
                }
            }
            elected.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.cmp(&a.1)).then(a.2.cmp(&b.2)));
            NaiveQuestion {
                options,
                elected: elected.into_iter().map(|e| e.3).collect(),
                tie,
            }
        })
        .collect();
    (turnout_met, out)
}

fn as_naive(t: &QuestionsTally) -> (bool, Vec<NaiveQuestion>) {
    (
        t.turnout_met,
        t.questions
            .iter()
            .map(|q| NaiveQuestion {
                options: q
                    .options
                    .iter()
                    .map(|o| NaiveOption {
                        id: o.id.clone(),
                        yes_area: o.yes_area.0 as u128,
                        yes_heads: o.yes_headcount.into(),
                        approval_met: o.approval_met,
                    })
                    .collect(),
                elected: q.elected.clone(),
                tie: q.tie,
            })
            .collect(),
    )
}

// ---------------------------------------------------------------------------
// Generators
// ---------------------------------------------------------------------------

fn question(i: usize) -> impl Strategy<Value = Question> {
    (1usize..=5).prop_flat_map(move |n| {
        (1..=n as u32, 1..=n as u32).prop_map(move |(seats, max_choices)| Question {
            id: format!("q{i}"),
            title: format!("Question {i}"),
            seats,
            max_choices,
            options: (0..n)
                .map(|j| Opt {
                    id: format!("c{j}"),
                    label: format!("Option {j}"),
                })
                .collect(),
        })
    })
}

fn questions() -> impl Strategy<Value = Vec<Question>> {
    (1usize..=3).prop_flat_map(|n| (0..n).map(question).collect::<Vec<_>>())
}

/// An electorate (shared owners, often a developer with many parts; small
/// areas make ties and exact boundaries frequent), questions, and the
/// ballots of a random subset of owners: per question an omitted answer, an
/// empty list, or a random subset of at most `max_choices` options.
fn vote() -> impl Strategy<Value = (Vec<Part>, Vec<Question>, Vec<Answers>)> {
    let max_area = prop_oneof![Just(1i64), Just(3i64), Just(1_000_000i64)];
    (1usize..=8, max_area, any::<bool>(), questions())
        .prop_flat_map(|(owners, max_area, with_developer, qs)| {
            let owner_count = owners + usize::from(with_developer);
            // Per owner: votes?, and per question: None (omitted) or a bitmask.
            let ballot = prop::option::of(prop::collection::vec(
                prop::option::of(any::<u8>()),
                qs.len(),
            ));
            (
                prop::collection::vec((1..=max_area, 0..owner_count), 1..=20),
                Just(owners),
                Just(with_developer),
                Just(qs),
                prop::collection::vec(ballot, owner_count),
            )
        })
        .prop_map(|(raw_parts, owners, with_developer, qs, raw_ballots)| {
            let key = |i: usize| {
                if with_developer && i == owners {
                    DEVELOPER.to_string()
                } else {
                    format!("o-{i}")
                }
            };
            let parts: Vec<Part> = raw_parts
                .iter()
                .enumerate()
                .map(|(n, &(area, owner))| Part::new(format!("P{n}"), Area(area), key(owner)))
                .collect();
            let present: BTreeSet<String> = parts.iter().map(|p| p.owner.clone()).collect();
            let ballots = raw_ballots
                .iter()
                .enumerate()
                .filter_map(|(i, b)| {
                    let k = key(i);
                    let b = b.as_ref().filter(|_| present.contains(&k))?;
                    let answers = qs
                        .iter()
                        .zip(b)
                        .filter_map(|(q, mask)| {
                            let mask = (*mask)?;
                            let chosen: Vec<String> = q
                                .options
                                .iter()
                                .enumerate()
                                .filter(|(j, _)| mask & (1 << j) != 0)
                                .map(|(_, o)| o.id.clone())
                                .take(q.max_choices as usize)
                                .collect();
                            Some((q.id.clone(), chosen))
                        })
                        .collect();
                    Some(Answers { owner: k, answers })
                })
                .collect();
            (parts, qs, ballots)
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn tally_agrees_with_the_naive_model((parts, qs, ballots) in vote(), rule in rule()) {
        let t = tally_questions(&parts, &qs, &ballots, &rule).unwrap();
        prop_assert_eq!(as_naive(&t), naive_questions(&parts, &qs, &ballots, &rule));
        let n = naive(&parts, &[], &rule);
        prop_assert_eq!(t.total_area.0 as u128, n.total_area);
        prop_assert_eq!(u128::from(t.total_headcount), n.total_heads);
        prop_assert_eq!(t.voted_headcount as usize, ballots.len());
        for (q, r) in qs.iter().zip(&t.questions) {
            prop_assert!(r.elected.len() <= q.seats as usize);
            prop_assert!(t.turnout_met || (r.elected.is_empty() && !r.tie));
        }
    }

    #[test]
    fn published_record_audits_to_the_same_tally((parts, qs, ballots) in vote(), rule in rule()) {
        let record = QuestionsRecord { title: "t".into(), rule, questions: qs, parts, ballots };
        let json = record.to_json();
        let reread = QuestionsRecord::from_json(&json).unwrap();
        prop_assert_eq!(reread.to_json(), json.clone());
        match audit_any(&json).unwrap() {
            Audit::Questions { tally, .. } => prop_assert_eq!(tally, record.tally().unwrap()),
            other => prop_assert!(false, "expected a /2 audit, got {:?}", other),
        }
    }

    #[test]
    fn order_of_parts_and_ballots_does_not_matter((parts, qs, ballots) in vote(), rule in rule()) {
        let t = tally_questions(&parts, &qs, &ballots, &rule).unwrap();
        let mut rp = parts.clone();
        rp.reverse();
        let mut rb = ballots.clone();
        rb.reverse();
        prop_assert_eq!(tally_questions(&rp, &qs, &rb, &rule).unwrap(), t);
    }
}

// ---------------------------------------------------------------------------
// Hand-made cases
// ---------------------------------------------------------------------------

const ORDINARY: Rule = Rule::CivilCode {
    matter: Matter::Ordinary,
};

fn q(id: &str, seats: u32, max_choices: u32, options: &[&str]) -> Question {
    Question {
        id: id.into(),
        title: id.to_uppercase(),
        seats,
        max_choices,
        options: options
            .iter()
            .map(|o| Opt {
                id: (*o).into(),
                label: o.to_uppercase(),
            })
            .collect(),
    }
}

/// One part of 100.00 m² per owner `o1…on`.
fn flats(n: usize) -> Vec<Part> {
    (1..=n)
        .map(|i| Part::new(format!("1-{i:02}"), Area(10_000), format!("o{i}")))
        .collect()
}

fn ballot(owner: &str, answers: &[(&str, &[&str])]) -> Answers {
    Answers {
        owner: owner.into(),
        answers: answers
            .iter()
            .map(|(q, cs)| (q.to_string(), cs.iter().map(|c| c.to_string()).collect()))
            .collect(),
    }
}

fn report(t: &QuestionsTally) -> serde_json::Value {
    serde_json::to_value(t).unwrap()
}

#[test]
fn candidates_with_exactly_half_are_not_approved_so_no_tie() {
    // 6 owners, all vote; 2 seats. a: 6 heads; b and c: 3 heads each (half).
    let qs = [q("q1", 2, 2, &["a", "b", "c"])];
    let bs: Vec<Answers> = (1..=6)
        .map(|i| {
            let other = if i <= 3 { "b" } else { "c" };
            ballot(&format!("o{i}"), &[("q1", &["a", other])])
        })
        .collect();
    let t = tally_questions(&flats(6), &qs, &bs, &ORDINARY).unwrap();
    let r = &t.questions[0];
    assert_eq!(
        (r.options[1].yes_headcount, r.options[2].yes_headcount),
        (3, 3)
    );
    assert!(!r.options[1].approval_met && !r.options[2].approval_met);
    assert_eq!(r.elected, vec!["a"]);
    assert!(!r.tie, "unapproved options never tie for a seat");
}

#[test]
fn tie_between_approved_options_across_the_last_seat() {
    // 5 owners, 2 seats: a 5 heads, b 3, c 3 (equal areas): a elected, b/c tie.
    let qs = [q("q1", 2, 3, &["a", "b", "c"])];
    let bs = vec![
        ballot("o1", &[("q1", &["a", "b", "c"])]),
        ballot("o2", &[("q1", &["a", "b", "c"])]),
        ballot("o3", &[("q1", &["a", "b"])]),
        ballot("o4", &[("q1", &["a", "c"])]),
        ballot("o5", &[("q1", &["a"])]),
    ];
    let t = tally_questions(&flats(5), &qs, &bs, &ORDINARY).unwrap();
    let r = &t.questions[0];
    assert!(r.options.iter().all(|o| o.approval_met));
    assert_eq!(r.elected, vec!["a"]);
    assert!(r.tie);
    // With three seats the tied pair fits: both elected, no tie.
    let qs = [q("q1", 3, 3, &["a", "b", "c"])];
    let t = tally_questions(&flats(5), &qs, &bs, &ORDINARY).unwrap();
    assert_eq!(t.questions[0].elected, vec!["a", "b", "c"]);
    assert!(!t.questions[0].tie);
    // Equal heads but different areas: area decides, no tie.
    let mut parts = flats(5);
    parts[2].area = Area(10_001); // o3 chose b
    let qs = [q("q1", 2, 3, &["a", "b", "c"])];
    let t = tally_questions(&parts, &qs, &bs, &ORDINARY).unwrap();
    assert_eq!(t.questions[0].elected, vec!["a", "b"]);
    assert!(!t.questions[0].tie);
}

#[test]
fn exactly_half_is_not_approval_and_abstentions_count_in_turnout() {
    // 4 owners vote; on q2, o3 and o4 abstain (omitted / empty list).
    let qs = [q("q1", 1, 1, &["x", "y"]), q("q2", 1, 1, &["z"])];
    let bs = vec![
        ballot("o1", &[("q1", &["x"]), ("q2", &["z"])]),
        ballot("o2", &[("q1", &["x"]), ("q2", &["z"])]),
        ballot("o3", &[("q1", &["y"]), ("q2", &[])]),
        ballot("o4", &[("q1", &["y"])]),
    ];
    let t = tally_questions(&flats(4), &qs, &bs, &ORDINARY).unwrap();
    assert!(t.turnout_met);
    assert_eq!(
        report(&t),
        json!({
            "total_area": "400.00", "total_headcount": 4,
            "voted_area": "400.00", "voted_headcount": 4, "turnout_met": true,
            "questions": [
                {"id": "q1", "options": [
                    {"id": "x", "yes_area": "200.00", "yes_headcount": 2, "approval_met": false},
                    {"id": "y", "yes_area": "200.00", "yes_headcount": 2, "approval_met": false}],
                 "elected": [], "tie": false},
                {"id": "q2", "options": [
                    {"id": "z", "yes_area": "200.00", "yes_headcount": 2, "approval_met": false}],
                 "elected": [], "tie": false}
            ]
        })
    );
}

#[test]
fn a_developer_with_many_parts_is_one_head_with_all_its_area() {
    // Developer: 10 unsold parts of 100.00; o1, o2 one each. 3 heads.
    let mut parts = flats(2);
    for i in 0..10 {
        parts.push(Part::new(format!("D-{i}"), Area(10_000), "developer"));
    }
    let qs = [q("q1", 1, 1, &["a", "b"])];
    let bs = vec![
        ballot("developer", &[("q1", &["a"])]),
        ballot("o1", &[("q1", &["b"])]),
        ballot("o2", &[("q1", &["b"])]),
    ];
    let t = tally_questions(&parts, &qs, &bs, &ORDINARY).unwrap();
    assert_eq!((t.total_headcount, t.voted_headcount), (3, 3));
    let r = &t.questions[0];
    assert_eq!(
        (r.options[0].yes_area, r.options[0].yes_headcount),
        (Area(100_000), 1)
    );
    // a: most area, 1 of 3 heads; b: 2 of 3 heads, 200 of 1200 m². Neither
    // has both majorities.
    assert!(!r.options[0].approval_met && !r.options[1].approval_met);
    assert!(r.elected.is_empty() && !r.tie);
}

#[test]
fn turnout_not_met_elects_nobody() {
    let qs = [q("q1", 1, 1, &["a"])];
    let bs = vec![ballot("o1", &[("q1", &["a"])])];
    let t = tally_questions(&flats(2), &qs, &bs, &ORDINARY).unwrap();
    assert!(!t.turnout_met);
    assert!(t.questions[0].options[0].approval_met);
    assert!(t.questions[0].elected.is_empty());
}

// ---------------------------------------------------------------------------
// The record and its broken rules
// ---------------------------------------------------------------------------

const RECORD: &str = r#"{"format": "gongzhi.vote/2", "title": "业主委员会选举",
  "rule": {"kind": "civil_code", "matter": "ordinary"},
  "questions": [{"id": "q1", "title": "委员", "seats": 2, "max_choices": 2,
                 "options": [{"id": "c1", "label": "张三"}, {"id": "c2", "label": "李四"},
                             {"id": "c3", "label": "王五"}]}],
  "parts": [{"part": "1-101", "area": "72.50", "owner": "o-1"},
            {"part": "1-102", "area": "80", "owner": "o-2"},
            {"part": "1-103", "area": "90.25", "owner": "o-3"}],
  "ballots": [{"owner": "o-1", "answers": {"q1": ["c1", "c2"]}},
              {"owner": "o-2", "answers": {"q1": ["c1", "c3"]}},
              {"owner": "o-3", "answers": {"q1": ["c2"]}}]}"#;

#[test]
fn the_record_audits_to_the_exact_report() {
    let Audit::Questions { tally, .. } = audit_any(RECORD).unwrap() else {
        panic!("a /2 record");
    };
    assert_eq!(
        report(&tally),
        json!({
            "total_area": "242.75", "total_headcount": 3,
            "voted_area": "242.75", "voted_headcount": 3, "turnout_met": true,
            "questions": [{"id": "q1", "options": [
                {"id": "c1", "yes_area": "152.50", "yes_headcount": 2, "approval_met": true},
                {"id": "c2", "yes_area": "162.75", "yes_headcount": 2, "approval_met": true},
                {"id": "c3", "yes_area": "80.00", "yes_headcount": 1, "approval_met": false}],
              "elected": ["c2", "c1"], "tie": false}]
        })
    );
    // A /1 record still audits as /1.
    let v1 = r#"{"format": "gongzhi.vote/1", "title": "t",
        "rule": {"kind": "civil_code", "matter": "ordinary"},
        "parts": [{"part": "A", "area": "1", "owner": "o"}],
        "ballots": [{"owner": "o", "choice": "yes"}]}"#;
    assert!(matches!(audit_any(v1).unwrap(), Audit::YesNo(r) if r.tally.passed));
}

fn broken(from: &str, to: &str) -> String {
    assert!(RECORD.contains(from), "{from}");
    audit_any(&RECORD.replacen(from, to, 1))
        .unwrap_err()
        .to_string()
}

#[test]
fn each_broken_rule_is_named() {
    assert_eq!(
        broken(r#"{"q1": ["c2"]}"#, r#"{"q9": ["c2"]}"#),
        "ballots[2].answers.q9: unknown question 'q9'"
    );
    assert_eq!(
        broken(r#"{"q1": ["c2"]}"#, r#"{"q1": ["c7"]}"#),
        "ballots[2].answers.q1: unknown option 'c7' of question 'q1'"
    );
    assert_eq!(
        broken(r#"{"q1": ["c2"]}"#, r#"{"q1": ["c1", "c2", "c3"]}"#),
        "ballots[2].answers.q1: 3 choices; question 'q1' allows at most 2"
    );
    assert_eq!(
        broken(r#"{"q1": ["c2"]}"#, r#"{"q1": ["c2", "c2"]}"#),
        "ballots[2].answers.q1: option 'c2' is chosen twice"
    );
    assert_eq!(
        broken(r#"{"owner": "o-3""#, r#"{"owner": "o-1""#),
        "ballots[2]: owner 'o-1' has already voted in ballots[0]"
    );
    assert_eq!(
        broken(r#"{"owner": "o-3""#, r#"{"owner": "o-99""#),
        "ballots[2]: owner 'o-99' is not in the electorate"
    );
    for (from, to, what) in [
        (r#""seats": 2"#, r#""seats": 0"#, "questions[0].seats: 0"),
        (r#""seats": 2"#, r#""seats": 4"#, "questions[0].seats: 4"),
        (
            r#""max_choices": 2"#,
            r#""max_choices": 0"#,
            "questions[0].max_choices: 0",
        ),
        (
            r#""max_choices": 2"#,
            r#""max_choices": 5"#,
            "questions[0].max_choices: 5",
        ),
    ] {
        let e = broken(from, to);
        assert!(
            e.starts_with(what) && e.contains("must be between 1 and the number of options"),
            "{e}"
        );
    }
    assert_eq!(
        broken(r#""area": "80""#, r#""area": "80.001""#),
        "parts[1].area: '80.001' has more than two decimals"
    );
    assert_eq!(
        broken(r#""area": "80""#, r#""area": "0""#),
        "parts[1].area: '0' must be greater than zero"
    );
    assert_eq!(
        broken(r#""seats": 2"#, r#""seats": "2""#),
        "questions[0].seats: expected an integer, found a string"
    );
    assert_eq!(
        broken(r#"{"id": "c3""#, r#"{"id": "c1""#),
        "questions[0].options[2].id: option 'c1' is listed twice (first at options[0])"
    );
    assert_eq!(
        broken(r#""answers": {"q1": ["c2"]}"#, r#""choice": "yes""#),
        "ballots[2]: unknown field 'choice'; expected only 'owner', 'answers'"
    );
    assert_eq!(
        broken(r#""questions": ["#, r#""questions": [], "x": ["#),
        "record: unknown field 'x'; expected only 'format', 'title', 'rule', 'questions', 'parts', 'ballots'"
    );
}

#[test]
fn a_ballot_being_cast_is_checked_the_same_way() {
    let qs = [q("q1", 1, 2, &["a", "b"]), q("q2", 1, 1, &["c"])];
    let ok = ballot("o1", &[("q1", &["a", "b"]), ("q2", &[])]);
    assert_eq!(validate_answers(&qs, &ok), Ok(()));
    let bad = ballot("o1", &[("q2", &["c"]), ("q2", &["c"])]);
    assert_eq!(
        validate_answers(&qs, &bad).unwrap_err().to_string(),
        "answers.q2: question 'q2' is answered twice"
    );
}
