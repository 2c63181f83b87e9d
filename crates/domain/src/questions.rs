//! Multi-question votes and elections: the published record `gongzhi.vote/2`.
//!
//! A vote may carry several questions, each with its options, the number of
//! options an owner may choose (`max_choices`) and the number that win
//! (`seats`). An election of the owners' committee is one question whose
//! options are the candidates and whose `seats` is the committee size; the
//! "eight sights" naming vote is eight questions with one seat each.
//!
//! # Counting (exactly as the record's checker does)
//!
//! * The electorate, the headcount and the areas are those of
//!   [`crate::vote`]: an owner counts once with the area of all their parts.
//! * An owner who cast a ballot takes part in the whole vote: turnout is per
//!   vote, as in `gongzhi.vote/1`. A question missing from their answers, or
//!   answered with an empty list, is an abstention on that question.
//! * For each option, `yes_area` and `yes_headcount` are the area and heads
//!   of the owners whose answer lists it; `approval_met` is the vote's rule
//!   applied to that option exactly as `/1` applies it to "yes" (the same
//!   [`crate::vote::tally`] conditions, with the option's counts as the yes
//!   counts).
//! * `elected`: the options whose approval is met, ordered by
//!   `yes_headcount` descending then `yes_area` descending, the first
//!   `seats`. If options tie on both at the last seat, none of the tied
//!   options is elected and `tie` is true (a run-off is needed). If turnout
//!   is not met, `elected` is empty for every question (and `tie` false).

use crate::money::{format_hundredths, Area};
use crate::vote::{
    area_as_string, as_array, as_object, invalid, non_empty, only_keys, parse_parts, parse_rule,
    record_object, required, string_field, type_name, wire_parts, Counts, Electorate, Part, Rule,
    VoteError,
};
use serde::ser::SerializeStruct;
use serde::{Deserialize, Serialize, Serializer};
use serde_json::{Map, Value};
use std::collections::HashMap;

/// The `format` value of a published multi-question vote record.
pub const RECORD_FORMAT_2: &str = "gongzhi.vote/2";

/// One option of a question (a candidate, a name for a sight).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Choice {
    /// Unique within its question, e.g. "c1".
    pub id: String,
    pub label: String,
}

/// One question of a vote; serializes as in the record (`id`, `title`,
/// `seats`, `max_choices`, `options`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Question {
    /// Unique within the vote, e.g. "q1".
    pub id: String,
    pub title: String,
    /// How many options win; `1 ≤ seats ≤ options`.
    pub seats: u32,
    /// How many options an owner may choose; `1 ≤ max_choices ≤ options`.
    pub max_choices: u32,
    pub options: Vec<Choice>,
}

/// One owner's ballot: for each answered question, the chosen option ids.
/// Questions not listed (or listed with no option) are abstentions.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Answers {
    pub owner: String,
    /// `(question id, chosen option ids)`, in any order.
    pub answers: Vec<(String, Vec<String>)>,
}

/// The count of one option.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OptionResult {
    pub id: String,
    #[serde(serialize_with = "area_as_string")]
    pub yes_area: Area,
    pub yes_headcount: u64,
    pub approval_met: bool,
}

/// The count of one question.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QuestionResult {
    pub id: String,
    /// In the question's option order.
    pub options: Vec<OptionResult>,
    /// The elected option ids, best first.
    pub elected: Vec<String>,
    /// Options tied on heads and area at the last seat (none of them elected).
    pub tie: bool,
}

/// The count of a multi-question vote. Serializes as the `/2` audit report:
/// `total_area`, `total_headcount`, `voted_area`, `voted_headcount`,
/// `turnout_met`, `questions` (areas as strings with two decimals).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuestionsTally {
    pub total_area: Area,
    pub total_headcount: u64,
    pub voted_area: Area,
    pub voted_headcount: u64,
    pub turnout_met: bool,
    /// In the vote's question order.
    pub questions: Vec<QuestionResult>,
}

impl Serialize for QuestionsTally {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("QuestionsTally", 6)?;
        st.serialize_field("total_area", &format_hundredths(self.total_area.0))?;
        st.serialize_field("total_headcount", &self.total_headcount)?;
        st.serialize_field("voted_area", &format_hundredths(self.voted_area.0))?;
        st.serialize_field("voted_headcount", &self.voted_headcount)?;
        st.serialize_field("turnout_met", &self.turnout_met)?;
        st.serialize_field("questions", &self.questions)?;
        st.end()
    }
}

/// Checks the questions: at least one; ids non-empty and unique (options
/// within their question); `seats` and `max_choices` between 1 and the
/// number of options. Errors name the place (`questions[1].seats`).
pub fn validate_questions(questions: &[Question]) -> Result<(), VoteError> {
    if questions.is_empty() {
        return Err(invalid(
            "questions",
            "a vote with questions needs at least one",
        ));
    }
    let mut ids: HashMap<&str, usize> = HashMap::new();
    for (i, q) in questions.iter().enumerate() {
        let path = format!("questions[{i}]");
        if q.id.trim().is_empty() {
            return Err(invalid(&format!("{path}.id"), "must not be empty"));
        }
        if let Some(first) = ids.insert(&q.id, i) {
            return Err(invalid(
                &format!("{path}.id"),
                format!(
                    "question '{}' is listed twice (first at questions[{first}])",
                    q.id
                ),
            ));
        }
        if q.options.is_empty() {
            return Err(invalid(
                &format!("{path}.options"),
                "a question needs at least one option",
            ));
        }
        let n = q.options.len();
        for (name, value) in [("seats", q.seats), ("max_choices", q.max_choices)] {
            if value < 1 || value as usize > n {
                return Err(invalid(
                    &format!("{path}.{name}"),
                    format!("{value} is out of range; it must be between 1 and the number of options ({n})"),
                ));
            }
        }
        let mut opts: HashMap<&str, usize> = HashMap::new();
        for (j, o) in q.options.iter().enumerate() {
            if o.id.trim().is_empty() {
                return Err(invalid(
                    &format!("{path}.options[{j}].id"),
                    "must not be empty",
                ));
            }
            if let Some(first) = opts.insert(&o.id, j) {
                return Err(invalid(
                    &format!("{path}.options[{j}].id"),
                    format!(
                        "option '{}' is listed twice (first at options[{first}])",
                        o.id
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// Where each question's options are, for checking and counting answers.
/// Ids are found by a scan (a few short strings: faster than hashing).
struct Index<'a> {
    questions: Vec<&'a str>,
    options: Vec<Vec<&'a str>>,
}

impl<'a> Index<'a> {
    fn of(questions: &'a [Question]) -> Index<'a> {
        Index {
            questions: questions.iter().map(|q| q.id.as_str()).collect(),
            options: questions
                .iter()
                .map(|q| q.options.iter().map(|o| o.id.as_str()).collect())
                .collect(),
        }
    }

    fn question(&self, id: &str) -> Option<usize> {
        self.questions.iter().position(|q| *q == id)
    }

    fn option(&self, question: usize, id: &str) -> Option<usize> {
        self.options[question].iter().position(|o| *o == id)
    }
}

/// Checks one ballot's answers against the questions and appends the chosen
/// `(question, option)` indices to `chosen` (cleared first). `path` names the
/// ballot (`ballots[3].`, or empty); it is only built for an error. Errors: an unknown
/// question or option, a question answered twice, more choices than
/// `max_choices`, the same option twice.
fn check_answers(
    index: &Index<'_>,
    questions: &[Question],
    ballot: &Answers,
    path: &dyn Fn() -> String,
    chosen: &mut Vec<(usize, usize)>,
) -> Result<(), VoteError> {
    chosen.clear();
    for (qid, options) in &ballot.answers {
        let fail = |message: String| invalid(&format!("{}answers.{qid}", path()), message);
        let Some(qi) = index.question(qid) else {
            return Err(fail(format!("unknown question '{qid}'")));
        };
        if ballot
            .answers
            .iter()
            .filter(|(other, _)| other == qid)
            .count()
            > 1
        {
            return Err(fail(format!("question '{qid}' is answered twice")));
        }
        let q = &questions[qi];
        if options.len() > q.max_choices as usize {
            return Err(fail(format!(
                "{} choices; question '{qid}' allows at most {}",
                options.len(),
                q.max_choices
            )));
        }
        let start = chosen.len();
        for oid in options {
            let Some(oi) = index.option(qi, oid) else {
                return Err(fail(format!("unknown option '{oid}' of question '{qid}'")));
            };
            if chosen[start..].contains(&(qi, oi)) {
                return Err(fail(format!("option '{oid}' is chosen twice")));
            }
            chosen.push((qi, oi));
        }
    }
    Ok(())
}

/// Checks one ballot's answers against the questions (for a ballot being
/// cast): an unknown question or option, a question answered twice, more
/// choices than `max_choices`, the same option twice — each named under
/// `answers.<question>` (the error's path).
pub fn validate_answers(questions: &[Question], answers: &Answers) -> Result<(), VoteError> {
    check_answers(
        &Index::of(questions),
        questions,
        answers,
        &String::new,
        &mut Vec::new(),
    )
}

/// Counts a multi-question vote (see the module documentation).
///
/// Errors: those of [`crate::vote::tally`] for the electorate, the rule and
/// the ballots' owners; invalid questions ([`validate_questions`]); a
/// ballot's bad answers ([`validate_answers`]), named `ballots[i].answers.q`.
pub fn tally_questions(
    parts: &[Part],
    questions: &[Question],
    ballots: &[Answers],
    rule: &Rule,
) -> Result<QuestionsTally, VoteError> {
    let electorate = Electorate::of(parts, rule)?;
    validate_questions(questions)?;
    let areas = electorate.voter_areas(ballots.iter().map(|b| b.owner.as_str()))?;
    let index = Index::of(questions);
    // yes[q][o] = (area, heads)
    let mut yes: Vec<Vec<(i128, u64)>> = questions
        .iter()
        .map(|q| vec![(0, 0); q.options.len()])
        .collect();
    let mut chosen = Vec::new();
    for (i, (ballot, area)) in ballots.iter().zip(&areas).enumerate() {
        check_answers(
            &index,
            questions,
            ballot,
            &|| format!("ballots[{i}]."),
            &mut chosen,
        )?;
        for &(qi, oi) in &chosen {
            let cell = &mut yes[qi][oi];
            cell.0 += area;
            cell.1 += 1;
        }
    }
    let mut counts = Counts {
        total_area: electorate.total_area,
        voted_area: areas.iter().sum(),
        yes_area: 0,
        total_heads: electorate.owners.len() as u64,
        voted_heads: areas.len() as u64,
        yes_heads: 0,
    };
    let turnout_met = counts.decide(rule).0;
    let results = questions
        .iter()
        .zip(&yes)
        .map(|(q, counted)| {
            let options: Vec<OptionResult> = q
                .options
                .iter()
                .zip(counted)
                .map(|(o, &(area, heads))| {
                    counts.yes_area = area;
                    counts.yes_heads = heads;
                    OptionResult {
                        id: o.id.clone(),
                        yes_area: Area(area as i64),
                        yes_headcount: heads,
                        approval_met: counts.decide(rule).1,
                    }
                })
                .collect();
            let (elected, tie) = if turnout_met {
                elect(&options, q.seats as usize)
            } else {
                (Vec::new(), false)
            };
            QuestionResult {
                id: q.id.clone(),
                options,
                elected,
                tie,
            }
        })
        .collect();
    Ok(QuestionsTally {
        total_area: Area(counts.total_area as i64),
        total_headcount: counts.total_heads,
        voted_area: Area(counts.voted_area as i64),
        voted_headcount: counts.voted_heads,
        turnout_met,
        questions: results,
    })
}

/// The approved options by heads then area, the first `seats`; a tie on
/// both across the last seat elects none of the tied.
fn elect(options: &[OptionResult], seats: usize) -> (Vec<String>, bool) {
    let mut ranked: Vec<&OptionResult> = options.iter().filter(|o| o.approval_met).collect();
    // Stable: equal options keep the question's order.
    let key = |o: &OptionResult| (o.yes_headcount, o.yes_area);
    ranked.sort_by_key(|o| std::cmp::Reverse(key(o)));
    if ranked.len() > seats && key(ranked[seats - 1]) == key(ranked[seats]) {
        let last = key(ranked[seats - 1]);
        let elected = ranked
            .iter()
            .take(seats)
            .filter(|o| key(o) != last)
            .map(|o| o.id.clone())
            .collect();
        return (elected, true);
    }
    (
        ranked.iter().take(seats).map(|o| o.id.clone()).collect(),
        false,
    )
}

// ---------------------------------------------------------------------------
// Published record (format gongzhi.vote/2)
// ---------------------------------------------------------------------------

/// A published multi-question vote record, format `gongzhi.vote/2`:
///
/// ```json
/// {"format": "gongzhi.vote/2", "title": "…", "rule": <as in gongzhi.vote/1>,
///  "questions": [{"id": "q1", "title": "…", "seats": 5, "max_choices": 5,
///                 "options": [{"id": "c1", "label": "…"}]}],
///  "parts": [{"part": "…", "area": "72.50", "owner": "o-1"}],
///  "ballots": [{"owner": "o-1", "answers": {"q1": ["c1", "c4"]}}]}
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuestionsRecord {
    pub title: String,
    pub rule: Rule,
    pub questions: Vec<Question>,
    pub parts: Vec<Part>,
    pub ballots: Vec<Answers>,
}

struct WireAnswers<'a>(&'a Answers);

impl Serialize for WireAnswers<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        struct Map<'b>(&'b [(String, Vec<String>)]);
        impl Serialize for Map<'_> {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_map(self.0.iter().map(|(k, v)| (k, v)))
            }
        }
        let mut st = s.serialize_struct("Ballot", 2)?;
        st.serialize_field("owner", &self.0.owner)?;
        st.serialize_field("answers", &Map(&self.0.answers))?;
        st.end()
    }
}

impl Serialize for QuestionsRecord {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let ballots: Vec<WireAnswers<'_>> = self.ballots.iter().map(WireAnswers).collect();
        let mut st = s.serialize_struct("QuestionsRecord", 6)?;
        st.serialize_field("format", RECORD_FORMAT_2)?;
        st.serialize_field("title", &self.title)?;
        st.serialize_field("rule", &self.rule)?;
        st.serialize_field("questions", &self.questions)?;
        st.serialize_field("parts", &wire_parts(&self.parts))?;
        st.serialize_field("ballots", &ballots)?;
        st.end()
    }
}

fn count_field(obj: &Map<String, Value>, key: &str, path: &str) -> Result<u32, VoteError> {
    let path = format!("{path}.{key}");
    let v = required(obj, key, &path)?;
    match v.as_i64() {
        Some(n) if n < 1 => Err(invalid(
            &path,
            format!("{n} is out of range; it must be between 1 and the number of options"),
        )),
        Some(n) => u32::try_from(n).map_err(|_| invalid(&path, format!("{n} is too large"))),
        None => Err(invalid(
            &path,
            format!("expected an integer, found {}", type_name(v)),
        )),
    }
}

fn parse_questions(obj: &Map<String, Value>) -> Result<Vec<Question>, VoteError> {
    let qs = as_array(required(obj, "questions", "questions")?, "questions")?;
    let mut questions = Vec::with_capacity(qs.len());
    for (i, qv) in qs.iter().enumerate() {
        let path = format!("questions[{i}]");
        let qo = as_object(qv, &path)?;
        only_keys(
            qo,
            &path,
            &["id", "title", "seats", "max_choices", "options"],
        )?;
        let opath = format!("{path}.options");
        let ovs = as_array(required(qo, "options", &opath)?, &opath)?;
        let mut options = Vec::with_capacity(ovs.len());
        for (j, ov) in ovs.iter().enumerate() {
            let path = format!("{opath}[{j}]");
            let oo = as_object(ov, &path)?;
            only_keys(oo, &path, &["id", "label"])?;
            options.push(Choice {
                id: non_empty(oo, "id", &path)?.to_string(),
                label: string_field(oo, "label", &format!("{path}.label"))?.to_string(),
            });
        }
        questions.push(Question {
            id: non_empty(qo, "id", &path)?.to_string(),
            title: string_field(qo, "title", &format!("{path}.title"))?.to_string(),
            seats: count_field(qo, "seats", &path)?,
            max_choices: count_field(qo, "max_choices", &path)?,
            options,
        });
    }
    Ok(questions)
}

fn parse_ballots(obj: &Map<String, Value>) -> Result<Vec<Answers>, VoteError> {
    let bs = as_array(required(obj, "ballots", "ballots")?, "ballots")?;
    let mut ballots = Vec::with_capacity(bs.len());
    for (i, bv) in bs.iter().enumerate() {
        let path = format!("ballots[{i}]");
        let bo = as_object(bv, &path)?;
        only_keys(bo, &path, &["owner", "answers"])?;
        let owner = non_empty(bo, "owner", &path)?.to_string();
        let apath = format!("{path}.answers");
        let ao = as_object(required(bo, "answers", &apath)?, &apath)?;
        let mut answers = Vec::with_capacity(ao.len());
        for (qid, list) in ao {
            let qpath = format!("{apath}.{qid}");
            let chosen = as_array(list, &qpath)?
                .iter()
                .map(|c| {
                    c.as_str().map(str::to_string).ok_or_else(|| {
                        invalid(
                            &qpath,
                            format!("expected option ids, found {}", type_name(c)),
                        )
                    })
                })
                .collect::<Result<Vec<String>, VoteError>>()?;
            answers.push((qid.clone(), chosen));
        }
        ballots.push(Answers { owner, answers });
    }
    Ok(ballots)
}

impl QuestionsRecord {
    /// Parses and checks the structure of a `/2` record (the electorate,
    /// questions and answers rules are checked by [`QuestionsRecord::tally`]).
    pub fn from_json(json: &str) -> Result<QuestionsRecord, VoteError> {
        let value: Value =
            serde_json::from_str(json).map_err(|e| VoteError::Json(e.to_string()))?;
        let obj = record_object(
            &value,
            RECORD_FORMAT_2,
            &["format", "title", "rule", "questions", "parts", "ballots"],
        )?;
        Ok(QuestionsRecord {
            title: string_field(obj, "title", "title")?.to_string(),
            rule: parse_rule(required(obj, "rule", "rule")?)?,
            questions: parse_questions(obj)?,
            parts: parse_parts(obj)?,
            ballots: parse_ballots(obj)?,
        })
    }

    /// The record in its published JSON form (compact, keys in format order).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a vote record always serializes")
    }

    /// Counts this record's vote.
    pub fn tally(&self) -> Result<QuestionsTally, VoteError> {
        tally_questions(&self.parts, &self.questions, &self.ballots, &self.rule)
    }
}

/// The re-count of a published record of either format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Audit {
    /// `gongzhi.vote/1`.
    YesNo(crate::vote::AuditReport),
    /// `gongzhi.vote/2`.
    Questions {
        title: String,
        rule: Rule,
        questions: Vec<Question>,
        tally: QuestionsTally,
    },
}

/// Parses a published record of either format (`gongzhi.vote/2` when its
/// `format` says so, otherwise it is read as `gongzhi.vote/1`) and
/// re-counts it. Errors name the broken rule and where it is.
pub fn audit_any(json: &str) -> Result<Audit, VoteError> {
    let is_2 = serde_json::from_str::<Value>(json)
        .ok()
        .is_some_and(|v| v.get("format").and_then(Value::as_str) == Some(RECORD_FORMAT_2));
    if !is_2 {
        return crate::vote::audit_record(json).map(Audit::YesNo);
    }
    let record = QuestionsRecord::from_json(json)?;
    let tally = record.tally()?;
    Ok(Audit::Questions {
        title: record.title,
        rule: record.rule,
        questions: record.questions,
        tally,
    })
}
