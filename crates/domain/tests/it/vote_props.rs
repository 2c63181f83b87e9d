//! Vote tally: checked against a deliberately naive second implementation,
//! plus hand-made boundary cases of Civil Code arts. 278 and 1259.
//!
//! The naive model differs from `vote::tally` on purpose:
//! * it counts heads with a `BTreeSet` of owner keys;
//! * it finds a voter's area by scanning every part (no owner map);
//! * it sums in `u128`;
//! * it compares against a threshold computed by integer division
//!   ("at least p/q of B" ⇔ `v ≥ ⌈B·p/q⌉`, "more than p/q of B" ⇔
//!   `v > ⌊B·p/q⌋`) instead of cross-multiplying;
//! * it hard-codes the Civil Code constants instead of going through `Rule`
//!   fractions.

use gongzhi_domain::money::Area;
use gongzhi_domain::vote::{
    audit_record, tally, Ballot, Base, Bound, Choice, Fraction, Matter, Part, Rule, Stage, Tally,
    VoteError, VoteRecord,
};
use proptest::prelude::*;
use std::collections::BTreeSet;

// ---------------------------------------------------------------------------
// The naive model
// ---------------------------------------------------------------------------

#[derive(Debug, PartialEq, Eq)]
pub struct Naive {
    pub total_area: u128,
    pub voted_area: u128,
    pub yes_area: u128,
    pub total_heads: u128,
    pub voted_heads: u128,
    pub yes_heads: u128,
    pub turnout_met: bool,
    pub approval_met: bool,
    pub passed: bool,
}

/// `v ≥ ⌈b·p/q⌉`
fn at_least(v: u128, b: u128, p: u128, q: u128) -> bool {
    v >= (b * p).div_ceil(q)
}

/// `v > ⌊b·p/q⌋`
fn more_than(v: u128, b: u128, p: u128, q: u128) -> bool {
    v > (b * p) / q
}

pub fn naive(parts: &[Part], ballots: &[Ballot], rule: &Rule) -> Naive {
    let owners: BTreeSet<&str> = parts.iter().map(|p| p.owner.as_str()).collect();
    let total_area: u128 = parts.iter().map(|p| p.area.0 as u128).sum();
    let total_heads = owners.len() as u128;
    let area_of = |owner: &str| -> u128 {
        parts
            .iter()
            .filter(|p| p.owner == owner)
            .map(|p| p.area.0 as u128)
            .sum()
    };
    let voters: BTreeSet<&str> = ballots.iter().map(|b| b.owner.as_str()).collect();
    let yes: BTreeSet<&str> = ballots
        .iter()
        .filter(|b| b.choice == Choice::Yes)
        .map(|b| b.owner.as_str())
        .collect();
    let voted_area: u128 = voters.iter().map(|o| area_of(o)).sum();
    let yes_area: u128 = yes.iter().map(|o| area_of(o)).sum();
    let voted_heads = voters.len() as u128;
    let yes_heads = yes.len() as u128;

    let civil_turnout =
        at_least(voted_area, total_area, 2, 3) && at_least(voted_heads, total_heads, 2, 3);
    let (turnout_met, approval_met) = match *rule {
        Rule::CivilCode {
            matter: Matter::Ordinary,
        } => (
            civil_turnout,
            more_than(yes_area, voted_area, 1, 2) && more_than(yes_heads, voted_heads, 1, 2),
        ),
        Rule::CivilCode {
            matter: Matter::Special,
        } => (
            civil_turnout,
            at_least(yes_area, voted_area, 3, 4) && at_least(yes_heads, voted_heads, 3, 4),
        ),
        Rule::Custom {
            base,
            area,
            headcount,
            bound,
            turnout,
        } => {
            let (area_base, head_base) = match base {
                Base::Eligible => (total_area, total_heads),
                Base::Participants => (voted_area, voted_heads),
            };
            let cmp = |v: u128, b: u128, f: Fraction| match bound {
                Bound::AtLeast => at_least(v, b, f.num.into(), f.den.into()),
                Bound::MoreThan => more_than(v, b, f.num.into(), f.den.into()),
            };
            // An absent fraction imposes nothing.
            let a_ok = match area {
                Some(f) => cmp(yes_area, area_base, f),
                None => true,
            };
            let h_ok = match headcount {
                Some(f) => cmp(yes_heads, head_base, f),
                None => true,
            };
            (if turnout { civil_turnout } else { true }, a_ok && h_ok)
        }
    };
    let approval_met = approval_met && voted_heads > 0;
    Naive {
        total_area,
        voted_area,
        yes_area,
        total_heads,
        voted_heads,
        yes_heads,
        turnout_met,
        approval_met,
        passed: turnout_met && approval_met,
    }
}

fn as_naive(t: &Tally) -> Naive {
    Naive {
        total_area: t.total_area.0 as u128,
        voted_area: t.voted_area.0 as u128,
        yes_area: t.yes_area.0 as u128,
        total_heads: t.total_headcount.into(),
        voted_heads: t.voted_headcount.into(),
        yes_heads: t.yes_headcount.into(),
        turnout_met: t.turnout_met,
        approval_met: t.approval_met,
        passed: t.passed,
    }
}

// ---------------------------------------------------------------------------
// Generators
// ---------------------------------------------------------------------------

pub const DEVELOPER: &str = "developer";

fn choice() -> impl Strategy<Value = Choice> {
    prop_oneof![Just(Choice::Yes), Just(Choice::No), Just(Choice::Abstain)]
}

fn fraction() -> impl Strategy<Value = Fraction> {
    (1u32..=12).prop_flat_map(|den| (1..=den).prop_map(move |num| Fraction { num, den }))
}

pub fn rule() -> impl Strategy<Value = Rule> {
    let custom = (
        prop_oneof![Just(Base::Eligible), Just(Base::Participants)],
        prop::option::of(fraction()),
        prop::option::of(fraction()),
        prop_oneof![Just(Bound::AtLeast), Just(Bound::MoreThan)],
        any::<bool>(),
    )
        .prop_filter("a custom rule needs a fraction", |(_, a, h, _, _)| {
            a.is_some() || h.is_some()
        })
        .prop_map(|(base, area, headcount, bound, turnout)| Rule::Custom {
            base,
            area,
            headcount,
            bound,
            turnout,
        });
    prop_oneof![
        Just(Rule::CivilCode {
            matter: Matter::Ordinary
        }),
        Just(Rule::CivilCode {
            matter: Matter::Special
        }),
        custom,
    ]
}

/// An electorate of parts with shared owners and (often) a developer holding
/// many unsold parts, and the ballots of a random subset of owners in a
/// random order.
fn vote() -> impl Strategy<Value = (Vec<Part>, Vec<Ballot>)> {
    // Small areas make exact-boundary cases frequent; large ones test scale.
    let max_area = prop_oneof![Just(3i64), Just(200i64), Just(1_000_000i64)];
    (1usize..=8, max_area, any::<bool>())
        .prop_flat_map(|(owners, max_area, with_developer)| {
            let owner_count = owners + usize::from(with_developer);
            (
                prop::collection::vec((1..=max_area, 0..owner_count), 1..=24),
                Just(owners),
                Just(with_developer),
                // One optional choice per possible owner, and a sort key each.
                prop::collection::vec(prop::option::of(choice()), owner_count),
                prop::collection::vec(any::<u32>(), owner_count),
            )
        })
        .prop_map(|(raw_parts, owners, with_developer, choices, order)| {
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
            let mut ballots: Vec<(u32, Ballot)> = choices
                .iter()
                .enumerate()
                .filter_map(|(i, c)| {
                    let k = key(i);
                    match c {
                        Some(c) if present.contains(&k) => Some((order[i], Ballot::new(k, *c))),
                        _ => None,
                    }
                })
                .collect();
            ballots.sort_by_key(|(o, _)| *o);
            (parts, ballots.into_iter().map(|(_, b)| b).collect())
        })
}

// ---------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn tally_agrees_with_the_naive_model((parts, ballots) in vote(), rule in rule()) {
        let t = tally(&parts, &ballots, &rule).unwrap();
        prop_assert_eq!(as_naive(&t), naive(&parts, &ballots, &rule));
        // The conditions explain the verdict.
        let turnout_ok = t.conditions.iter().filter(|c| c.stage == Stage::Turnout).all(|c| c.held);
        let approval_ok = t.conditions.iter().filter(|c| c.stage == Stage::Approval).all(|c| c.held);
        prop_assert_eq!(t.turnout_met, turnout_ok);
        prop_assert_eq!(t.approval_met, approval_ok);
        prop_assert!(t.conditions.iter().any(|c| c.stage == Stage::Approval));
    }

    #[test]
    fn order_of_parts_and_ballots_does_not_matter(
        (parts, ballots) in vote(),
        rule in rule(),
    ) {
        let t = tally(&parts, &ballots, &rule).unwrap();
        let mut rp = parts.clone();
        rp.reverse();
        let mut rb = ballots.clone();
        rb.reverse();
        prop_assert_eq!(tally(&rp, &rb, &rule).unwrap(), t);
    }

    #[test]
    fn turning_a_no_into_a_yes_never_loses_the_vote(
        (parts, ballots) in vote(),
        rule in rule(),
        pick in any::<prop::sample::Index>(),
    ) {
        let refusers: Vec<usize> = ballots
            .iter()
            .enumerate()
            .filter(|(_, b)| b.choice != Choice::Yes)
            .map(|(i, _)| i)
            .collect();
        prop_assume!(!refusers.is_empty());
        let before = tally(&parts, &ballots, &rule).unwrap();
        let mut changed = ballots.clone();
        changed[refusers[pick.index(refusers.len())]].choice = Choice::Yes;
        let after = tally(&parts, &changed, &rule).unwrap();
        prop_assert!(!before.passed || after.passed);
        prop_assert_eq!(before.turnout_met, after.turnout_met);
    }

    #[test]
    fn published_record_audits_to_the_same_tally(
        (parts, ballots) in vote(),
        rule in rule(),
    ) {
        let record = VoteRecord { title: "t".into(), rule, parts, ballots };
        let json = record.to_json();
        prop_assert_eq!(&VoteRecord::from_json(&json).unwrap(), &record);
        let report = audit_record(&json).unwrap();
        prop_assert_eq!(report.tally, record.tally().unwrap());
    }

    #[test]
    fn foreign_and_repeated_ballots_are_refused(
        (parts, ballots) in vote(),
        rule in rule(),
        at in any::<prop::sample::Index>(),
    ) {
        let mut foreign = ballots.clone();
        let i = at.index(foreign.len() + 1);
        foreign.insert(i, Ballot::new("o-stranger", Choice::Yes));
        prop_assert_eq!(
            tally(&parts, &foreign, &rule).unwrap_err(),
            VoteError::UnknownOwner { index: i, owner: "o-stranger".into() }
        );
        prop_assume!(!ballots.is_empty());
        let mut twice = ballots.clone();
        let j = at.index(ballots.len());
        twice.push(ballots[j].clone());
        prop_assert_eq!(
            tally(&parts, &twice, &rule).unwrap_err(),
            VoteError::DuplicateBallot { index: ballots.len(), first: j, owner: ballots[j].owner.clone() }
        );
    }
}

// ---------------------------------------------------------------------------
// Hand-made boundary cases
// ---------------------------------------------------------------------------

const ORDINARY: Rule = Rule::CivilCode {
    matter: Matter::Ordinary,
};
const SPECIAL: Rule = Rule::CivilCode {
    matter: Matter::Special,
};

fn area(s: &str) -> Area {
    Area::parse(s).unwrap()
}

/// One part per owner `o1, o2, …` with the given areas.
fn flats(areas: &[&str]) -> Vec<Part> {
    areas
        .iter()
        .enumerate()
        .map(|(i, a)| Part::new(format!("1-{}01", i + 1), area(a), format!("o{}", i + 1)))
        .collect()
}

fn ballots(v: &[(&str, Choice)]) -> Vec<Ballot> {
    v.iter().map(|(o, c)| Ballot::new(*o, *c)).collect()
}

use Choice::{Abstain, No, Yes};

fn held(t: &Tally) -> Vec<bool> {
    t.conditions.iter().map(|c| c.held).collect()
}

#[test]
fn exactly_two_thirds_turnout_passes() {
    let parts = flats(&["100.00", "100.00", "100.00"]);
    let t = tally(&parts, &ballots(&[("o1", Yes), ("o2", Yes)]), &ORDINARY).unwrap();
    assert_eq!((t.voted_area, t.total_area), (Area(20_000), Area(30_000)));
    assert_eq!((t.voted_headcount, t.total_headcount), (2, 3));
    assert!(t.turnout_met, "2/3 is 'at least 2/3' (art. 1259)");
    assert!(t.passed);
    assert_eq!(held(&t), vec![true, true, true, true]);
}

#[test]
fn one_hundredth_below_two_thirds_fails() {
    // total 300.00; the voters hold 199.99 (< 200.00), heads still 2 of 3.
    let parts = flats(&["100.00", "99.99", "100.01"]);
    let t = tally(&parts, &ballots(&[("o1", Yes), ("o2", Yes)]), &ORDINARY).unwrap();
    assert_eq!(t.voted_area, Area(19_999));
    assert_eq!(t.total_area, Area(30_000));
    assert!(!t.turnout_met);
    assert!(t.approval_met);
    assert!(!t.passed);
    assert_eq!(held(&t), vec![false, true, true, true]);
    assert_eq!(t.conditions[0].detail, "199.99 of 300.00 m²");
}

#[test]
fn exactly_half_yes_fails_an_ordinary_matter() {
    let parts = flats(&["80.00", "80.00", "80.00", "80.00"]);
    let b = ballots(&[("o1", Yes), ("o2", Yes), ("o3", No), ("o4", No)]);
    let t = tally(&parts, &b, &ORDINARY).unwrap();
    assert!(t.turnout_met);
    assert_eq!((t.yes_area, t.voted_area), (Area(16_000), Area(32_000)));
    assert!(
        !t.approval_met,
        "'more than half' excludes half (art. 1259)"
    );
    assert_eq!(held(&t), vec![true, true, false, false]);
}

#[test]
fn half_plus_a_hundredth_passes_area_but_exactly_half_the_heads_fails() {
    let parts = flats(&["100.01", "99.99"]);
    let t = tally(&parts, &ballots(&[("o1", Yes), ("o2", No)]), &ORDINARY).unwrap();
    assert_eq!((t.yes_area, t.voted_area), (Area(10_001), Area(20_000)));
    assert_eq!((t.yes_headcount, t.voted_headcount), (1, 2));
    assert_eq!(held(&t), vec![true, true, true, false]);
    assert!(!t.approval_met && !t.passed);
}

#[test]
fn exactly_three_quarters_passes_a_special_matter() {
    let parts = flats(&["90.00", "90.00", "90.00", "90.00"]);
    let b = ballots(&[("o1", Yes), ("o2", Yes), ("o3", Yes), ("o4", No)]);
    let t = tally(&parts, &b, &SPECIAL).unwrap();
    assert!(t.passed, "'at least 3/4' includes 3/4");
    let names: Vec<&str> = t.conditions.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names[2], "approval: yes_area ≥ 3/4 of voted_area");

    // One hundredth less yes area → fails on area only.
    let parts = flats(&["90.00", "90.00", "89.99", "90.01"]);
    let t = tally(&parts, &b, &SPECIAL).unwrap();
    assert_eq!(held(&t), vec![true, true, false, true]);
    assert!(!t.passed);
    // The same votes pass as an ordinary matter.
    assert!(tally(&parts, &b, &ORDINARY).unwrap().passed);
}

#[test]
fn abstentions_count_in_turnout_only() {
    let parts = flats(&["100.00", "100.00", "100.00"]);
    let with = tally(
        &parts,
        &ballots(&[("o1", Yes), ("o2", Abstain), ("o3", Abstain)]),
        &ORDINARY,
    )
    .unwrap();
    assert_eq!((with.voted_headcount, with.yes_headcount), (3, 1));
    assert_eq!(
        (with.voted_area, with.yes_area),
        (Area(30_000), Area(10_000))
    );
    assert!(with.turnout_met);
    assert!(!with.approval_met, "an abstention is not a yes");

    let without = tally(&parts, &ballots(&[("o1", Yes)]), &ORDINARY).unwrap();
    assert!(!without.turnout_met);
    assert!(without.approval_met, "1 yes of 1 participant");
    assert!(!without.passed);
}

#[test]
fn developers_ten_unsold_parts_are_one_head() {
    let mut parts: Vec<Part> = (1..=10)
        .map(|i| Part::new(format!("2-1-{i:02}01"), area("95.00"), "developer"))
        .collect();
    parts.push(Part::new("2-2-101", area("95.00"), "o1"));
    parts.push(Part::new("2-2-102", area("95.00"), "o2"));
    let t = tally(&parts, &ballots(&[("developer", Yes)]), &ORDINARY).unwrap();
    assert_eq!(t.total_headcount, 3);
    assert_eq!(t.total_area, Area(12 * 9_500));
    assert_eq!(t.voted_area, Area(10 * 9_500));
    assert_eq!(t.voted_headcount, 1);
    // 10/12 of the area took part, but only 1 of 3 heads.
    assert_eq!(held(&t), vec![true, false, true, true]);
    assert!(!t.passed);

    // With one more owner voting no: heads 2 of 3 turn out; approval fails
    // on heads (1 of 2 is exactly half) though the area is overwhelming.
    let t = tally(
        &parts,
        &ballots(&[("developer", Yes), ("o1", No)]),
        &ORDINARY,
    )
    .unwrap();
    assert_eq!(held(&t), vec![true, true, true, false]);
}

#[test]
fn one_owners_many_parts_are_one_head_with_all_their_area() {
    let parts = vec![
        Part::new("6-1-301", area("89.50"), "o-17"),
        Part::new("B1-023", area("12.50"), "o-17"),
        Part::new("6-1-302", area("89.50"), "o-18"),
    ];
    let t = tally(&parts, &ballots(&[("o-17", Yes)]), &ORDINARY).unwrap();
    assert_eq!(t.total_headcount, 2);
    assert_eq!(t.voted_area, Area(10_200));
    assert_eq!(t.yes_area, Area(10_200));
}

#[test]
fn nobody_voted() {
    let parts = flats(&["100.00", "100.00"]);
    let custom = |base, bound, turnout| Rule::Custom {
        base,
        area: Some(Fraction { num: 1, den: 2 }),
        headcount: Some(Fraction { num: 3, den: 4 }),
        bound,
        turnout,
    };
    for rule in [
        ORDINARY,
        SPECIAL,
        custom(Base::Participants, Bound::AtLeast, false),
        custom(Base::Participants, Bound::MoreThan, true),
        custom(Base::Eligible, Bound::AtLeast, false),
    ] {
        let t = tally(&parts, &[], &rule).unwrap();
        assert_eq!((t.voted_area, t.yes_area), (Area(0), Area(0)));
        assert_eq!((t.voted_headcount, t.yes_headcount), (0, 0));
        assert!(!t.approval_met, "{rule}: nobody voted, nothing is approved");
        assert!(!t.passed);
        assert!(t
            .conditions
            .iter()
            .filter(|c| c.stage == Stage::Approval)
            .all(|c| !c.held));
    }
}

#[test]
fn qijiang_building_six_three_quarters_of_households() {
    // A custom rule: at least 3/4 of all the building's households agree; no
    // art. 278 turnout. 12 households; 9 yes passes, 8 fails.
    let rule = Rule::Custom {
        base: Base::Eligible,
        area: None,
        headcount: Some(Fraction { num: 3, den: 4 }),
        bound: Bound::AtLeast,
        turnout: false,
    };
    let areas = ["89.50"; 12];
    let parts = flats(&areas);
    let yes = |n: usize| -> Vec<Ballot> {
        (1..=12)
            .map(|i| Ballot::new(format!("o{i}"), if i <= n { Yes } else { No }))
            .collect()
    };
    let t = tally(&parts, &yes(9), &rule).unwrap();
    assert!(t.turnout_met && t.passed);
    assert_eq!(t.conditions.len(), 1);
    assert_eq!(
        t.conditions[0].name,
        "approval: yes_headcount ≥ 3/4 of total_headcount"
    );
    assert_eq!(t.conditions[0].detail, "9 of 12 owners");
    assert!(!tally(&parts, &yes(8), &rule).unwrap().passed);
    // Only the 9 yes voters turn up: still 9 of 12 eligible.
    assert!(tally(&parts, &yes(9)[..9], &rule).unwrap().passed);
    // "More than 3/4" excludes exactly 9 of 12.
    let strict = Rule::Custom {
        base: Base::Eligible,
        area: None,
        headcount: Some(Fraction { num: 3, den: 4 }),
        bound: Bound::MoreThan,
        turnout: false,
    };
    assert!(!tally(&parts, &yes(9), &strict).unwrap().passed);
    assert!(tally(&parts, &yes(10), &strict).unwrap().passed);
}

#[test]
fn pingli_seventy_percent_of_households_with_turnout() {
    // ≥ 70% of households (7/10), plus the art. 278 turnout.
    let rule = Rule::Custom {
        base: Base::Eligible,
        area: None,
        headcount: Some(Fraction { num: 7, den: 10 }),
        bound: Bound::AtLeast,
        turnout: true,
    };
    let parts = flats(&["60.00"; 10]);
    let b: Vec<Ballot> = (1..=7).map(|i| Ballot::new(format!("o{i}"), Yes)).collect();
    let t = tally(&parts, &b, &rule).unwrap();
    assert_eq!(held(&t), vec![true, true, true]);
    assert!(t.passed);
    assert!(!tally(&parts, &b[..6], &rule).unwrap().passed);
}

#[test]
fn huge_areas_do_not_overflow() {
    let big = Area(i64::MAX / 4);
    let parts = vec![
        Part::new("A", big, "o1"),
        Part::new("B", big, "o2"),
        Part::new("C", big, "o3"),
    ];
    let t = tally(&parts, &ballots(&[("o1", Yes), ("o2", Yes)]), &SPECIAL).unwrap();
    assert!(t.turnout_met && t.approval_met);
    let too_big = vec![
        Part::new("A", Area(i64::MAX), "o1"),
        Part::new("B", Area(1), "o2"),
    ];
    assert_eq!(
        tally(&too_big, &[], &ORDINARY).unwrap_err(),
        VoteError::AreaTooLarge
    );
}
