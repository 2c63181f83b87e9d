//! `gongzhi audit vote FILE.json [--json]` end to end: the built binary on the
//! fixtures in `tests/fixtures/`, whose expected counts are computed by hand
//! below (Civil Code art. 278 thresholds, art. 1259 bounds).

use serde_json::{json, Value};
use std::path::PathBuf;
use std::process::{Command, Output};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("fixtures")
        .join(name)
}

fn audit(path: PathBuf, json: bool) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_gongzhi"));
    cmd.arg("audit").arg("vote").arg(&path);
    if json {
        cmd.arg("--json");
    }
    cmd.output().expect("run the gongzhi binary")
}

/// Runs `audit vote <fixture> --json`, expects exit 0 and exactly one JSON
/// object on stdout, and returns it.
fn report(name: &str) -> Value {
    let out = audit(fixture(name), true);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{name}: stdout {stdout} stderr {stderr}"
    );
    let v: Value = serde_json::from_str(stdout.trim())
        .unwrap_or_else(|e| panic!("{name}: stdout is not one JSON value ({e}): {stdout}"));
    let keys: Vec<&str> = v
        .as_object()
        .expect("a JSON object")
        .keys()
        .map(String::as_str)
        .collect();
    let mut sorted = keys.clone();
    sorted.sort_unstable();
    assert_eq!(
        sorted,
        vec![
            "approval_met",
            "passed",
            "total_area",
            "total_headcount",
            "turnout_met",
            "voted_area",
            "voted_headcount",
            "yes_area",
            "yes_headcount",
        ],
        "{name}: exactly the nine report fields"
    );
    v
}

/// Runs `audit vote <fixture> --json`, expects exit 2, nothing on stdout and
/// `error: …<needle>…` on stderr.
fn refused(path: PathBuf, needle: &str) {
    let out = audit(path.clone(), true);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}: stdout {stdout} stderr {stderr}",
        path.display()
    );
    assert!(
        stdout.trim().is_empty(),
        "{}: nothing on stdout, got {stdout}",
        path.display()
    );
    assert!(
        stderr.starts_with("error: "),
        "{}: stderr {stderr}",
        path.display()
    );
    assert!(
        stderr.contains(needle),
        "{}: stderr should name the problem {needle:?}, got {stderr}",
        path.display()
    );
}

// ---------------------------------------------------------------------------
// Valid records: exit 0 whether the vote passed or failed
// ---------------------------------------------------------------------------

/// Qianshan Meilin building 6 (Qijiang report): 2 units × 6 floors × 2 flats
/// = 24 flats of 89.50 m² (x01) and 112.35 m² (x02); total 12 × 89.50 +
/// 12 × 112.35 = 1074.00 + 1348.20 = 2422.20 m². Owner o-05 holds 6-1-301
/// and 6-1-302; the developer holds the unsold 6-2-601 and 6-2-602. Heads:
/// 24 flats − 1 − 1 = 22. Rule: at least 3/4 of all households (custom,
/// eligible base, no art. 278 turnout): 3/4 × 22 = 16.5, so 17 yes are needed.
///
/// Yes o-01…o-17: all of unit 1 (6 × 89.50 + 6 × 112.35 = 1211.10) and unit 2
/// flats 101–302 (3 × 89.50 + 3 × 112.35 = 605.55) = 1816.65 m², 17 heads.
/// No o-18 (89.50), o-19 (112.35); abstain o-20 (89.50): voted 2108.00 m²,
/// 20 heads. 17 × 4 = 68 ≥ 22 × 3 = 66: passes.
#[test]
fn qianshan_meilin_building_6_elevator_passes_with_17_of_22_households() {
    assert_eq!(
        report("qianshan_meilin_b6_elevator_pass.json"),
        json!({
            "total_area": "2422.20", "voted_area": "2108.00", "yes_area": "1816.65",
            "total_headcount": 22, "voted_headcount": 20, "yes_headcount": 17,
            "turnout_met": true, "approval_met": true, "passed": true
        })
    );
}

/// The same with o-17 (6-2-302, 112.35 m²) voting no: 16 yes heads, 16 × 4 =
/// 64 < 66: fails. Yes area 1816.65 − 112.35 = 1704.30.
#[test]
fn qianshan_meilin_building_6_elevator_fails_with_16_of_22_households() {
    assert_eq!(
        report("qianshan_meilin_b6_elevator_fail.json"),
        json!({
            "total_area": "2422.20", "voted_area": "2108.00", "yes_area": "1704.30",
            "total_headcount": 22, "voted_headcount": 20, "yes_headcount": 16,
            "turnout_met": true, "approval_met": false, "passed": false
        })
    );
}

/// Ordinary matter. Parts: o-1 95.00; o-2 95.00; o-3 120.00 + shop 72.00;
/// developer 95.00 + 95.00 → 572.00 m², 4 heads. o-1 yes, o-3 yes, developer
/// abstains: voted 95 + 192 + 190 = 477.00 m² (× 3 = 1431 ≥ 1144), 3 heads
/// (× 3 = 9 ≥ 8); yes 287.00 m² (× 2 = 574 > 477), 2 heads (× 2 = 4 > 3).
#[test]
fn civil_code_ordinary_matter_passes_with_an_abstaining_developer() {
    assert_eq!(
        report("civil_ordinary_hire_steward.json"),
        json!({
            "total_area": "572.00", "voted_area": "477.00", "yes_area": "287.00",
            "total_headcount": 4, "voted_headcount": 3, "yes_headcount": 2,
            "turnout_met": true, "approval_met": true, "passed": true
        })
    );
}

/// 100.01 yes vs 99.99 no: area 10001 × 2 > 20000 holds, but heads 1 × 2 = 2
/// is not more than 2: exactly half fails (art. 1259).
#[test]
fn civil_code_ordinary_exactly_half_the_heads_fails() {
    assert_eq!(
        report("civil_ordinary_half_heads.json"),
        json!({
            "total_area": "200.00", "voted_area": "200.00", "yes_area": "100.01",
            "total_headcount": 2, "voted_headcount": 2, "yes_headcount": 1,
            "turnout_met": true, "approval_met": false, "passed": false
        })
    );
}

/// Voters hold 100.00 + 99.99 = 199.99 of 300.00 m²: 59997 < 60000, one
/// hundredth short of 2/3, though 2 of 3 heads turn out.
#[test]
fn civil_code_turnout_one_hundredth_short_fails() {
    assert_eq!(
        report("civil_ordinary_turnout_short.json"),
        json!({
            "total_area": "300.00", "voted_area": "199.99", "yes_area": "199.99",
            "total_headcount": 3, "voted_headcount": 2, "yes_headcount": 2,
            "turnout_met": false, "approval_met": true, "passed": false
        })
    );
}

/// Matter 8: 3 of 4 equal owners agree: exactly 3/4 of area and heads passes
/// ("at least", art. 1259).
#[test]
fn civil_code_special_matter_exactly_three_quarters_passes() {
    assert_eq!(
        report("civil_special_exact_three_quarters.json"),
        json!({
            "total_area": "360.00", "voted_area": "360.00", "yes_area": "270.00",
            "total_headcount": 4, "voted_headcount": 4, "yes_headcount": 3,
            "turnout_met": true, "approval_met": true, "passed": true
        })
    );
}

#[test]
fn human_readable_summary_shows_counts_conditions_and_verdict() {
    let out = audit(fixture("civil_ordinary_half_heads.json"), false);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    for needle in [
        "200.00 m², 2 owners",
        "100.01 m², 1 owner\n",
        "[held  ] turnout: voted_area ≥ 2/3 of total_area",
        "[held  ] approval: yes_area > 1/2 of voted_area",
        "[FAILED] approval: yes_headcount > 1/2 of voted_headcount — 1 of 2 owners",
        "FAILED",
    ] {
        assert!(
            text.contains(needle),
            "summary should contain {needle:?}:\n{text}"
        );
    }
    assert!(!text.contains("PASSED"), "{text}");

    let out = audit(fixture("qianshan_meilin_b6_elevator_pass.json"), false);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("PASSED"), "{text}");
    assert!(
        text.contains("approval: yes_headcount ≥ 3/4 of total_headcount — 17 of 22 owners"),
        "{text}"
    );
    assert!(text.contains("no turnout requirement"), "{text}");
}

// ---------------------------------------------------------------------------
// Invalid records: exit 2 and `error: <what and where>` on stderr
// ---------------------------------------------------------------------------

#[test]
fn wrong_or_missing_format_is_refused() {
    refused(
        fixture("invalid_wrong_format.json"),
        "format: expected 'gongzhi.vote/1', found 'gongzhi.vote/3'",
    );
    refused(fixture("invalid_missing_format.json"), "format: missing");
}

#[test]
fn ballot_of_an_unknown_owner_is_refused() {
    refused(
        fixture("invalid_unknown_owner.json"),
        "ballots[3]: owner 'o-99' is not in the electorate",
    );
}

#[test]
fn two_ballots_of_one_owner_are_refused() {
    refused(
        fixture("invalid_two_ballots.json"),
        "ballots[3]: owner 'o-1' has already voted in ballots[0]",
    );
}

#[test]
fn bad_areas_are_refused() {
    refused(
        fixture("invalid_negative_area.json"),
        "parts[2].area: '-88.00' is negative",
    );
    refused(
        fixture("invalid_zero_area.json"),
        "parts[1].area: '0.00' must be greater than zero",
    );
    refused(
        fixture("invalid_three_decimals.json"),
        "parts[3].area: '1.234' has more than two decimals",
    );
}

#[test]
fn duplicate_part_and_empty_electorate_are_refused() {
    refused(
        fixture("invalid_duplicate_part.json"),
        "parts[3]: part '3-101' is listed twice (first at parts[0])",
    );
    refused(
        fixture("invalid_empty_electorate.json"),
        "the electorate is empty",
    );
}

#[test]
fn unknown_choice_is_refused() {
    refused(
        fixture("invalid_unknown_choice.json"),
        "ballots[1].choice: unknown choice 'maybe'",
    );
}

#[test]
fn unknown_rule_words_are_refused() {
    refused(
        fixture("invalid_unknown_rule_kind.json"),
        "rule.kind: unknown rule kind 'majority'",
    );
    refused(
        fixture("invalid_unknown_matter.json"),
        "rule.matter: unknown matter 'urgent'",
    );
    refused(
        fixture("invalid_unknown_base.json"),
        "rule.base: unknown base 'residents'",
    );
    refused(
        fixture("invalid_unknown_bound.json"),
        "rule.bound: unknown bound 'at_most'",
    );
}

#[test]
fn bad_fractions_are_refused() {
    refused(
        fixture("invalid_fraction_over_one.json"),
        "rule.headcount: '4/3' is greater than 1",
    );
    refused(
        fixture("invalid_fraction_zero_denominator.json"),
        "rule.area: '3/0' has a zero denominator",
    );
    refused(
        fixture("invalid_fraction_garbage.json"),
        "rule.headcount: '75%' is not a fraction",
    );
    refused(
        fixture("invalid_custom_without_fraction.json"),
        "rule: a custom rule needs an area or a headcount fraction",
    );
}

#[test]
fn broken_json_and_unreadable_files_are_refused() {
    refused(
        fixture("invalid_not_json.json"),
        "the record is not valid JSON",
    );
    refused(fixture("no_such_record.json"), "cannot read");
    // Also without --json.
    let out = audit(fixture("invalid_unknown_owner.json"), false);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("error: ballots[3]: owner 'o-99'"));
}

// ---------------------------------------------------------------------------
// gongzhi.vote/2: questions and elections
// ---------------------------------------------------------------------------

/// Parts: o-1 100.00, o-2 80.00, o-3 120.00, o-4 60.00, the developer's two
/// unsold 50.00 (one head): 460.00 m², 5 heads. o-1, o-2, o-3 and the
/// developer vote: 400.00 m² (≥ 306.67) and 4 heads (≥ 3.34): turnout met.
///
/// q1 (2 seats): c1 o-1+o-2+o-3 = 300.00, 3 heads (600 > 400, 6 > 4:
/// approved); c2 o-1+o-3 = 220.00, 2 heads (exactly half: not approved);
/// c3 o-2+developer = 180.00, 2 heads (not approved). Elected: c1 only.
/// q2 (1 seat): o-2 abstains (no answer); s1 and s2 are each chosen by o-1,
/// o-3 and the developer: 320.00 m², 3 heads, both approved and tied at the
/// only seat: nobody elected, tie.
const ELECTION: &str = "election_two_seats_and_a_sight.json";

fn audit_v2(path: PathBuf) -> Value {
    let out = audit(path, true);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(stdout.trim()).expect("one JSON object")
}

#[test]
fn a_v2_record_audits_to_the_exact_report() {
    let v = audit_v2(fixture(ELECTION));
    assert_eq!(
        v,
        json!({
            "total_area": "460.00", "total_headcount": 5,
            "voted_area": "400.00", "voted_headcount": 4, "turnout_met": true,
            "questions": [
                {"id": "q1", "options": [
                    {"id": "c1", "yes_area": "300.00", "yes_headcount": 3, "approval_met": true},
                    {"id": "c2", "yes_area": "220.00", "yes_headcount": 2, "approval_met": false},
                    {"id": "c3", "yes_area": "180.00", "yes_headcount": 2, "approval_met": false}],
                 "elected": ["c1"], "tie": false},
                {"id": "q2", "options": [
                    {"id": "s1", "yes_area": "320.00", "yes_headcount": 3, "approval_met": true},
                    {"id": "s2", "yes_area": "320.00", "yes_headcount": 3, "approval_met": true}],
                 "elected": [], "tie": true}
            ]
        })
    );
    // Keys in the documented order.
    let out = String::from_utf8(audit(fixture(ELECTION), true).stdout).unwrap();
    assert!(out.starts_with(r#"{"total_area":"460.00","total_headcount":5,"voted_area":"400.00","voted_headcount":4,"turnout_met":true,"questions":[{"id":"q1","options":[{"id":"c1","yes_area":"300.00","yes_headcount":3,"approval_met":true}"#), "{out}");
}

#[test]
fn a_v2_record_reads_as_text() {
    let out = audit(fixture(ELECTION), false);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    for needle in [
        "Vote:       业主委员会选举与景点命名",
        "Electorate: 460.00 m², 5 owners",
        "Turnout:    met",
        "  c1 张三: 300.00 m², 3 owners — approved",
        "  c2 李四: 220.00 m², 2 owners — not approved",
        "  Elected: c1",
        "  Elected: none",
        "TIE at the last seat",
    ] {
        assert!(text.contains(needle), "{needle:?} in {text}");
    }
}

/// The election fixture with one change, written to a temporary file.
fn broken_v2(name: &str, from: &str, to: &str) -> PathBuf {
    let text = std::fs::read_to_string(fixture(ELECTION)).unwrap();
    assert!(text.contains(from), "{from}");
    let dir = std::env::temp_dir().join(format!("gongzhi-audit-v2-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{name}.json"));
    std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
    path
}

#[test]
fn every_broken_v2_rule_exits_2_naming_it() {
    let cases = [
        ("unknown_question", r#""q1": ["c3"]"#, r#""q7": ["c3"]"#, "ballots[3].answers.q7: unknown question 'q7'"),
        ("unknown_option", r#""q1": ["c3"]"#, r#""q1": ["c9"]"#, "ballots[3].answers.q1: unknown option 'c9' of question 'q1'"),
        ("too_many", r#""q1": ["c3"]"#, r#""q1": ["c3", "c1", "c2"]"#, "ballots[3].answers.q1: 3 choices; question 'q1' allows at most 2"),
        ("twice", r#""q1": ["c3"]"#, r#""q1": ["c3", "c3"]"#, "ballots[3].answers.q1: option 'c3' is chosen twice"),
        ("two_ballots", r#"{"owner": "developer""#, r#"{"owner": "o-2""#, "ballots[3]: owner 'o-2' has already voted in ballots[1]"),
        ("unknown_owner", r#"{"owner": "developer""#, r#"{"owner": "o-99""#, "ballots[3]: owner 'o-99' is not in the electorate"),
        ("seats_zero", r#""seats": 2"#, r#""seats": 0"#, "questions[0].seats: 0 is out of range"),
        ("seats_over", r#""seats": 2"#, r#""seats": 4"#, "questions[0].seats: 4 is out of range; it must be between 1 and the number of options (3)"),
        ("choices_zero", r#""max_choices": 2"#, r#""max_choices": 0"#, "questions[0].max_choices: 0 is out of range"),
        ("choices_over", r#""max_choices": 2"#, r#""max_choices": 9"#, "questions[0].max_choices: 9 is out of range"),
        ("bad_area", r#""area": "80.00""#, r#""area": "80.001""#, "parts[1].area: '80.001' has more than two decimals"),
        ("v1_body", r#""questions": ["#, r#""questionz": ["#, "record: unknown field 'questionz'"),
    ];
    for (name, from, to, needle) in cases {
        refused(broken_v2(name, from, to), needle);
    }
}
