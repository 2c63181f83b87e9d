//! `gongzhi bench election`: the domain's count of an owners' committee
//! election (`gongzhi.vote/2`): `ballots` owners each choosing up to `seats`
//! of `candidates`, best of 3; then the published record written and
//! re-audited as `gongzhi audit vote` does.

use gongzhi_domain::money::Area;
use gongzhi_domain::questions::{
    audit_any, tally_questions, Answers, Audit, Choice, Question, QuestionsRecord,
};
use gongzhi_domain::vote::{Matter, Part, Rule};
use std::time::Instant;

fn e(x: impl std::fmt::Display) -> anyhow::Error {
    anyhow::anyhow!("{x}")
}

pub fn run(ballots: usize, candidates: usize, seats: usize) -> anyhow::Result<()> {
    if candidates == 0 || seats == 0 || seats > candidates {
        anyhow::bail!("need 1 ≤ seats ≤ candidates");
    }
    let t = Instant::now();
    // `ballots` + 10 % owners, one part each; the first `ballots` vote.
    let parts: Vec<Part> = (0..ballots + ballots / 10)
        .map(|i| {
            Part::new(
                format!("p{i}"),
                Area(6000 + (i as i64 * 37) % 9000),
                format!("o-{i}"),
            )
        })
        .collect();
    let question = Question {
        id: "q1".into(),
        title: "业主委员会委员".into(),
        seats: seats as u32,
        max_choices: seats as u32,
        options: (0..candidates)
            .map(|c| Choice {
                id: format!("c{c}"),
                label: format!("候选人{c}"),
            })
            .collect(),
    };
    // Each owner chooses up to `seats` candidates, skewed so that candidates
    // have different support (a deterministic mix).
    let bs: Vec<Answers> = (0..ballots)
        .map(|i| {
            let mut x = (i as u64)
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            // Three in four choose a full slate, the others 1 to `seats`.
            let n = if i % 4 == 0 {
                1 + (x >> 60) as usize % seats
            } else {
                seats
            };
            let mut chosen: Vec<String> = Vec::with_capacity(n);
            while chosen.len() < n {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                // The smaller of two draws: lower-numbered candidates are more popular.
                let c = ((x >> 33) as usize % candidates).min((x >> 13) as usize % candidates);
                let id = format!("c{c}");
                if !chosen.contains(&id) {
                    chosen.push(id);
                }
            }
            Answers {
                owner: format!("o-{i}"),
                answers: vec![("q1".into(), chosen)],
            }
        })
        .collect();
    let gen = t.elapsed();
    let rule = Rule::CivilCode {
        matter: Matter::Ordinary,
    };
    let qs = [question];
    let mut best = f64::MAX;
    let mut result = None;
    for _ in 0..3 {
        let t = Instant::now();
        let r = tally_questions(&parts, &qs, &bs, &rule).map_err(e)?;
        best = best.min(t.elapsed().as_secs_f64());
        result = Some(r);
    }
    let r = result.expect("three runs");
    println!(
        "election tally: {} parts, {} ballots, {candidates} candidates for {seats} seats (generated in {:.2} s): best of 3 {:.3} s ({:.0} ballots/s); turnout_met={}, elected={:?}, tie={}",
        parts.len(), bs.len(), gen.as_secs_f64(), best, bs.len() as f64 / best, r.turnout_met, r.questions[0].elected, r.questions[0].tie
    );
    let record = QuestionsRecord {
        title: "业主委员会选举".into(),
        rule,
        questions: qs.to_vec(),
        parts,
        ballots: bs,
    };
    let t = Instant::now();
    let json = record.to_json();
    let written = t.elapsed();
    let t = Instant::now();
    let Audit::Questions { tally, .. } = audit_any(&json).map_err(e)? else {
        anyhow::bail!("the record did not read as gongzhi.vote/2");
    };
    let audited = t.elapsed();
    anyhow::ensure!(tally == r, "the re-audit differs from the tally");
    println!(
        "election record: {} MB written in {:.2} s; re-audited (parse + count) in {:.2} s: same result",
        json.len() / 1_000_000, written.as_secs_f64(), audited.as_secs_f64()
    );
    Ok(())
}
