//! `gongzhi audit vote FILE.json [--json]`: re-count a published vote record.
//!
//! Anyone holding a published `gongzhi.vote/1` (yes/no) or `gongzhi.vote/2`
//! (questions, elections) record can check the announced result against the
//! Civil Code (art. 278 thresholds, art. 1259 bounds) or the compound's own
//! rule. Exit codes: 0 when the record is valid (whether
//! the vote passed or failed), 2 when the file cannot be read or the record is
//! invalid — then `error: <what and where>` goes to stderr.

use gongzhi_domain::money::format_hundredths;
use gongzhi_domain::questions::{audit_any, Audit, Question, QuestionsTally};
use gongzhi_domain::vote::{AuditReport, Rule, Stage};
use std::io::Write;
use std::path::Path;

/// Reads `path`, re-counts the vote and prints the report: with `json`, one
/// JSON object (`total_area`, `voted_area`, `yes_area`, `total_headcount`,
/// `voted_headcount`, `yes_headcount`, `turnout_met`, `approval_met`,
/// `passed`; for `/2`: `total_area`, `total_headcount`, `voted_area`,
/// `voted_headcount`, `turnout_met`, `questions`); otherwise a
/// human-readable summary. Returns the exit code.
pub fn run(path: &Path, json: bool) -> i32 {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: cannot read {}: {e}", path.display());
            return 2;
        }
    };
    let report = match audit_any(&text) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    let out = if json {
        let written = match &report {
            Audit::YesNo(r) => serde_json::to_string(r),
            Audit::Questions { tally, .. } => serde_json::to_string(tally),
        };
        match written {
            Ok(s) => s + "\n",
            Err(e) => {
                eprintln!("error: cannot write the report as JSON: {e}");
                return 2;
            }
        }
    } else {
        match &report {
            Audit::YesNo(r) => render(r),
            Audit::Questions {
                title,
                rule,
                questions,
                tally,
            } => render_questions(title, rule, questions, tally),
        }
    };
    let mut stdout = std::io::stdout().lock();
    // A closed pipe (e.g. `| head`) is not the record's fault: ignore it.
    let _ = stdout
        .write_all(out.as_bytes())
        .and_then(|()| stdout.flush());
    0
}

fn amount(area: i64, heads: u64) -> String {
    let noun = if heads == 1 { "owner" } else { "owners" };
    format!("{} m², {heads} {noun}", format_hundredths(area))
}

/// The human-readable summary of a `/2` record: per question each option's
/// area and heads, whether its approval is met, the elected and any tie.
pub fn render_questions(
    title: &str,
    rule: &Rule,
    questions: &[Question],
    t: &QuestionsTally,
) -> String {
    let mut lines = vec![
        format!("{:<12}{title}", "Vote:"),
        format!("{:<12}{rule}", "Rule:"),
        format!(
            "{:<12}{}",
            "Electorate:",
            amount(t.total_area.0, t.total_headcount)
        ),
        format!(
            "{:<12}{}",
            "Voted:",
            amount(t.voted_area.0, t.voted_headcount)
        ),
        format!(
            "{:<12}{}",
            "Turnout:",
            if t.turnout_met {
                "met"
            } else {
                "NOT met (nobody is elected)"
            }
        ),
    ];
    for (q, r) in questions.iter().zip(&t.questions) {
        lines.push(format!(
            "Question {} — {} ({} seats, up to {} choices):",
            q.id, q.title, q.seats, q.max_choices
        ));
        for (o, c) in q.options.iter().zip(&r.options) {
            let mark = if c.approval_met {
                "approved"
            } else {
                "not approved"
            };
            lines.push(format!(
                "  {} {}: {} — {mark}",
                o.id,
                o.label,
                amount(c.yes_area.0, c.yes_headcount)
            ));
        }
        lines.push(format!(
            "  Elected: {}",
            if r.elected.is_empty() {
                "none".to_string()
            } else {
                r.elected.join(", ")
            }
        ));
        if r.tie {
            lines.push(
                "  TIE at the last seat: none of the tied is elected; a run-off is needed"
                    .to_string(),
            );
        }
    }
    let mut s = lines.join("\n");
    s.push('\n');
    s
}

/// The human-readable summary.
pub fn render(report: &AuditReport) -> String {
    let t = &report.tally;
    let met = |b: bool| if b { "met" } else { "NOT met" };
    let mut lines: Vec<String> = Vec::new();
    let mut line = |label: &str, value: String| lines.push(format!("{label:<12}{value}"));
    line("Vote:", report.title.clone());
    line("Rule:", report.rule.to_string());
    line("Electorate:", amount(t.total_area.0, t.total_headcount));
    line("Voted:", amount(t.voted_area.0, t.voted_headcount));
    line("Yes:", amount(t.yes_area.0, t.yes_headcount));
    lines.push("Conditions:".to_string());
    if !t.conditions.iter().any(|c| c.stage == Stage::Turnout) {
        lines.push("  (no turnout requirement under this rule)".to_string());
    }
    for c in &t.conditions {
        let mark = if c.held { "held  " } else { "FAILED" };
        lines.push(format!("  [{mark}] {} — {}", c.name, c.detail));
    }
    let mut line = |label: &str, value: &str| lines.push(format!("{label:<12}{value}"));
    line("Turnout:", met(t.turnout_met));
    line("Approval:", met(t.approval_met));
    line("Result:", if t.passed { "PASSED" } else { "FAILED" });
    let mut s = lines.join("\n");
    s.push('\n');
    s
}
