//! Vote pages: the caller's votes, and one vote — the question, the rule, live
//! turnout, the owner's own ballot with yes / no / abstain buttons (made for a
//! phone), and the result with its conditions once closed.

use crate::i18n::Lang;
use crate::page::{cst, lang_of, page_error, render, LangQuery};
use crate::problem::ApiError;
use crate::session::MaybeUser;
use crate::votes::{cast_own, vote_visible, OwnVote};
use crate::AppState;
use askama::Template;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use gongzhi_domain::ballot::{RecastRefusal, VoteStatus, MAX_BALLOTS_PER_OWNER, RECAST_PER_WINDOW};
use gongzhi_domain::questions::Question;
use gongzhi_domain::vote::{Base, Choice, Matter, Rule};
use gongzhi_store::{auth, vote_questions, votes};

/// An owner's votes, a vote's page and ballot, and the public board.
pub fn router() -> axum::Router<AppState> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/votes", get(my_votes))
        .route("/votes/{id}", get(vote_page))
        .route("/votes/{id}/ballot", post(cast))
        .route("/votes/{id}/board", get(super::board_page::board))
}

/// Percentage with one decimal of `part / whole` (hundredths or counts), integer arithmetic.
fn pct(part: i64, whole: i64) -> String {
    let t = tenths(part, whole);
    format!("{}.{}", t / 10, t % 10)
}

/// `part / whole` in tenths of a percent (0..=1000), rounded half up.
fn tenths(part: i64, whole: i64) -> i64 {
    if whole <= 0 {
        return 0;
    }
    ((i128::from(part) * 1000 + i128::from(whole) / 2) / i128::from(whole)) as i64
}

fn centi(s: &str) -> i64 {
    gongzhi_domain::money::Area::parse(s)
        .map(|a| a.0)
        .unwrap_or(0)
}

pub struct VoteRow {
    id: String,
    title: String,
    status_key: String,
    closes: String,
}

#[derive(Template)]
#[template(path = "votes.html")]
struct VotesPage {
    lang: Lang,
    logged_in: bool,
    votes: Vec<VoteRow>,
}

pub async fn my_votes(
    State(state): State<AppState>,
    MaybeUser(user): MaybeUser,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    let (lang, set) = lang_of(&q, &headers);
    let Some(user) = user else {
        return Redirect::to("/login").into_response();
    };
    let list = async {
        let mine = auth::owners_of_user(&state.db, &user.user_id).await?;
        votes::votes_of_owners(&state.db, &mine).await
    }
    .await;
    match list {
        Ok(vs) => {
            let votes = vs
                .into_iter()
                .map(|v| VoteRow {
                    id: v.id,
                    title: v.title,
                    status_key: format!("vote.status.{}", v.status),
                    closes: cst(v.closes_at),
                })
                .collect();
            render(
                &VotesPage {
                    lang,
                    logged_in: true,
                    votes,
                },
                StatusCode::OK,
                set,
            )
        }
        Err(e) => page_error(e.into(), lang),
    }
}

pub struct Cond {
    name: String,
    held: bool,
    detail: String,
}

#[derive(Template)]
#[template(path = "vote.html")]
struct VotePage {
    lang: Lang,
    logged_in: bool,
    id: String,
    title: String,
    rule_text: String,
    status: String,
    status_key: String,
    opens: String,
    closes: String,
    open: bool,
    closed: bool,
    voted_area: String,
    total_area: String,
    area_pct: String,
    area_tenths: i64,
    heads_tenths: i64,
    voted_heads: i64,
    total_heads: i64,
    heads_pct: String,
    /// The caller is an owner in the electorate.
    elector: bool,
    my_choice_key: String,
    my_receipt: String,
    passed: bool,
    counts: Vec<(&'static str, String)>,
    conditions: Vec<Cond>,
    /// What the vote authorises to be spent from the maintenance fund:
    /// (yuan, purpose), as the owners vote on it.
    spending: Option<(String, String)>,
    /// A vote with questions (an election, a naming vote): the ballot is a
    /// choice of options per question; the result is per option.
    questions: Vec<QuestionView>,
    /// Closed with questions: whether turnout was met.
    turnout_met: bool,
}

/// One option of a question on the page: on the ballot (checked when the
/// owner's current ballot chose it) and in the result.
pub struct OptionView {
    id: String,
    label: String,
    checked: bool,
    yes_area: String,
    yes_heads: i64,
    approved: bool,
    elected: bool,
}

/// One question on the page, its seats and choices in words.
pub struct QuestionView {
    id: String,
    title: String,
    rule_words: String,
    options: Vec<OptionView>,
    /// The owner's current answer in words (labels, or abstention).
    my_answer: String,
    tie: bool,
}

/// The questions of a vote for the page: the owner's current `answers`
/// (`{"q1": ["c1"]}`) and, once closed, the `/2` `result`.
fn question_views(
    lang: Lang,
    qs: &[Question],
    answers: Option<&serde_json::Value>,
    result: Option<&serde_json::Value>,
) -> Vec<QuestionView> {
    qs.iter()
        .enumerate()
        .map(|(i, q)| {
            let chosen: Vec<&str> = answers
                .and_then(|a| a[&q.id].as_array())
                .map(|a| a.iter().filter_map(|c| c.as_str()).collect())
                .unwrap_or_default();
            let r = result.map(|r| &r["questions"][i]);
            let elected: Vec<&str> = r
                .and_then(|r| r["elected"].as_array())
                .map(|a| a.iter().filter_map(|c| c.as_str()).collect())
                .unwrap_or_default();
            let options = q
                .options
                .iter()
                .enumerate()
                .map(|(j, o)| {
                    let c = r.map(|r| &r["options"][j]);
                    OptionView {
                        id: o.id.clone(),
                        label: o.label.clone(),
                        checked: chosen.contains(&o.id.as_str()),
                        yes_area: c
                            .and_then(|c| c["yes_area"].as_str())
                            .unwrap_or("")
                            .to_string(),
                        yes_heads: c.and_then(|c| c["yes_headcount"].as_i64()).unwrap_or(0),
                        approved: c.and_then(|c| c["approval_met"].as_bool()).unwrap_or(false),
                        elected: elected.contains(&o.id.as_str()),
                    }
                })
                .collect::<Vec<_>>();
            let labels: Vec<&str> = options
                .iter()
                .filter(|o| o.checked)
                .map(|o| o.label.as_str())
                .collect();
            QuestionView {
                id: q.id.clone(),
                title: q.title.clone(),
                rule_words: lang
                    .t("vote.q.seats")
                    .replace("{seats}", &q.seats.to_string())
                    .replace("{max}", &q.max_choices.to_string()),
                my_answer: if labels.is_empty() {
                    lang.t("vote.q.none").to_string()
                } else {
                    labels.join("、")
                },
                options,
                tie: r.and_then(|r| r["tie"].as_bool()).unwrap_or(false),
            }
        })
        .collect()
}

pub async fn vote_page(
    State(state): State<AppState>,
    MaybeUser(user): MaybeUser,
    Path(id): Path<String>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    let (lang, set) = lang_of(&q, &headers);
    let Some(user) = user else {
        return Redirect::to("/login").into_response();
    };
    let page: Result<VotePage, ApiError> = async {
        let (v, mine) = vote_visible(&state, &user, &id).await?;
        let t = votes::turnout(&state.db, &id).await?;
        let mut my_choice_key = String::new();
        let mut my_receipt = String::new();
        let mut my_answers = None;
        if let [one] = mine.as_slice() {
            if let Some(b) = votes::current_ballot_of(&state.db, &id, one).await? {
                my_choice_key = format!("vote.choice.{}", b.choice);
                my_receipt = b.receipt;
                if v.questions.is_some() {
                    my_choice_key = "vote.q.answered".into();
                    my_answers = vote_questions::current_answers(&state.db, &id, one).await?;
                }
            }
        }
        let questions = v
            .questions
            .as_deref()
            .map(|qs| question_views(lang, qs, my_answers.as_ref(), v.result.as_ref()))
            .unwrap_or_default();
        let turnout_met = v
            .result
            .as_ref()
            .and_then(|r| r["turnout_met"].as_bool())
            .unwrap_or(false);
        let (mut passed, mut counts, mut conditions) = (false, vec![], vec![]);
        if let Some(r) = &v.result {
            passed = r["passed"].as_bool().unwrap_or(false);
            for (k, key) in [
                ("total_area", "vote.k.total_area"),
                ("voted_area", "vote.k.voted_area"),
                ("yes_area", "vote.k.yes_area"),
                ("total_headcount", "vote.k.total_headcount"),
                ("voted_headcount", "vote.k.voted_headcount"),
                ("yes_headcount", "vote.k.yes_headcount"),
            ] {
                let val = match &r[k] {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                counts.push((key, val));
            }
            if let Some(cs) = r["conditions"].as_array() {
                conditions = cs
                    .iter()
                    .map(|c| Cond {
                        name: condition_text(lang, c["name"].as_str().unwrap_or("")),
                        held: c["held"].as_bool().unwrap_or(false),
                        detail: condition_detail(lang, c["detail"].as_str().unwrap_or("")),
                    })
                    .collect();
            }
        }
        let spending = gongzhi_store::spending::get(&state.db, &id)
            .await?
            .map(|s| (gongzhi_domain::money::Fen(s.amount).to_string(), s.purpose));
        Ok(VotePage {
            lang,
            logged_in: true,
            spending,
            id: v.id.clone(),
            title: v.title.clone(),
            rule_text: rule_text(lang, &v.rule),
            status: v.status.to_string(),
            status_key: format!("vote.status.{}", v.status),
            opens: cst(v.opens_at),
            closes: cst(v.closes_at),
            open: v.status == VoteStatus::Open,
            closed: v.status == VoteStatus::Closed,
            area_pct: pct(centi(&t.voted_area), centi(&t.total_area)),
            area_tenths: tenths(centi(&t.voted_area), centi(&t.total_area)),
            heads_tenths: tenths(t.voted_headcount, t.total_headcount),
            heads_pct: pct(t.voted_headcount, t.total_headcount),
            voted_area: t.voted_area,
            total_area: t.total_area,
            voted_heads: t.voted_headcount,
            total_heads: t.total_headcount,
            elector: !mine.is_empty(),
            my_choice_key,
            my_receipt,
            passed,
            counts,
            conditions,
            questions,
            turnout_met,
        })
    }
    .await;
    match page {
        Ok(p) => render(&p, StatusCode::OK, set),
        Err(e) => page_error(e, lang),
    }
}

/// The review of a ballot with questions before it is cast: each question
/// with the options chosen, the same choices as hidden fields, confirm.
#[derive(Template)]
#[template(path = "vote_review.html")]
struct ReviewPage {
    lang: Lang,
    logged_in: bool,
    id: String,
    title: String,
    questions: Vec<QuestionView>,
}

/// The ballot form's answers: fields `q:<question id>` = option id, each
/// question at most its `max_choices` (else a message in the reader's
/// language naming the question).
fn form_answers(
    lang: Lang,
    qs: &[Question],
    fields: &[(String, String)],
) -> Result<Vec<(String, Vec<String>)>, ApiError> {
    let mut answers: Vec<(String, Vec<String>)> = Vec::new();
    for (k, val) in fields {
        let Some(qid) = k.strip_prefix("q:") else {
            continue;
        };
        match answers.iter_mut().find(|(q, _)| q == qid) {
            Some((_, chosen)) => chosen.push(val.clone()),
            None => answers.push((qid.to_string(), vec![val.clone()])),
        }
    }
    for (qid, chosen) in &answers {
        if let Some(q) = qs.iter().find(|q| &q.id == qid) {
            if chosen.len() > q.max_choices as usize {
                let mut e = ApiError::field(format!("answers.{qid}"), "too many choices");
                e.detail = lang
                    .t("vote.q.too_many")
                    .replace("{q}", &q.title)
                    .replace("{max}", &q.max_choices.to_string());
                return Err(e);
            }
        }
    }
    Ok(answers)
}

/// The ballot form: casts the owner's online ballot and shows the vote
/// again. In a vote with questions the form is first reviewed (a page with
/// the choices in words) and cast when confirmed (`confirm`).
pub async fn cast(
    State(state): State<AppState>,
    MaybeUser(user): MaybeUser,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let lang = Lang::from_request(None, &headers);
    let Some(user) = user else {
        return Redirect::to("/login").into_response();
    };
    let field = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let result = async {
        let (v, _) = vote_visible(&state, &user, &id).await?;
        let vote = match &v.questions {
            Some(qs) => {
                let answers = form_answers(lang, qs, &fields)?;
                if field("confirm").is_none() {
                    let chosen = serde_json::Value::Object(
                        answers
                            .iter()
                            .map(|(q, c)| (q.clone(), serde_json::json!(c)))
                            .collect(),
                    );
                    return Ok(Some(ReviewPage {
                        lang,
                        logged_in: true,
                        id: v.id.clone(),
                        title: v.title.clone(),
                        questions: question_views(lang, qs, Some(&chosen), None),
                    }));
                }
                OwnVote::Answers(answers)
            }
            None => {
                let c = field("choice").unwrap_or("");
                let choice = Choice::parse(c.trim())
                    .ok_or_else(|| ApiError::field("choice", format!("unknown choice '{c}'")))?;
                OwnVote::Choice(choice)
            }
        };
        cast_own(&state, &user, &id, None, vote).await.map(|_| None)
    }
    .await;
    match result {
        Ok(Some(review)) => render(&review, StatusCode::OK, None),
        Ok(None) => Redirect::to(&format!("/votes/{id}")).into_response(),
        Err(e) => page_error(recast_refusal_in(e, lang), lang),
    }
}

/// The re-cast limit's refusals (the domain's [`RecastRefusal`]) in the
/// reader's language; other errors as they are.
fn recast_refusal_in(mut e: ApiError, lang: Lang) -> ApiError {
    let cap = RecastRefusal::TooMany {
        cast: MAX_BALLOTS_PER_OWNER,
    }
    .to_string();
    if e.status == StatusCode::TOO_MANY_REQUESTS {
        e.detail = lang
            .t("vote.recast_too_soon")
            .replace("{n}", &RECAST_PER_WINDOW.to_string())
            .replace("{s}", &e.retry_after.unwrap_or(1).to_string());
    } else if e.errors.iter().any(|f| f.reason == cap) {
        e.detail = lang
            .t("vote.ballot_cap")
            .replace("{max}", &MAX_BALLOTS_PER_OWNER.to_string());
    }
    e
}

/// The rule of a vote in the reader's language (the domain's `Display` is the
/// English of record).
pub fn rule_text(lang: Lang, rule: &Rule) -> String {
    match *rule {
        Rule::CivilCode {
            matter: Matter::Ordinary,
        } => lang.t("rule.civil_ordinary").into(),
        Rule::CivilCode {
            matter: Matter::Special,
        } => lang.t("rule.civil_special").into(),
        Rule::Custom {
            base,
            area,
            headcount,
            bound,
            turnout,
        } => {
            let of = lang.t(match base {
                Base::Eligible => "rule.base.eligible",
                Base::Participants => "rule.base.participants",
            });
            let parts: Vec<String> = [("rule.custom_area", area), ("rule.custom_heads", headcount)]
                .into_iter()
                .filter_map(|(key, f)| {
                    f.map(|f| {
                        lang.t(key)
                            .replace("{sym}", bound.symbol())
                            .replace("{base}", of)
                            .replace("{f}", &f.to_string())
                    })
                })
                .collect();
            let mut s = lang
                .t("rule.custom")
                .replace("{parts}", &parts.join(lang.t("rule.and")));
            s.push_str(lang.t(if turnout {
                "rule.with_turnout"
            } else {
                "rule.no_turnout"
            }));
            s
        }
    }
}

/// A condition's name (`turnout: voted_area ≥ 2/3 of total_area`) in the
/// reader's language; anything of another shape is shown as it is.
fn condition_text(lang: Lang, name: &str) -> String {
    let Some((stage, rest)) = name.split_once(": ") else {
        return name.into();
    };
    let w: Vec<&str> = rest.split(' ').collect();
    let stage_key = match stage {
        "turnout" => "cond.turnout",
        "approval" => "cond.approval",
        _ => return name.into(),
    };
    let [value, sym, f, "of", base] = w.as_slice() else {
        return name.into();
    };
    let k = |q: &str| lang.t(&format!("vote.k.{q}"));
    lang.t("cond.shape")
        .replace("{stage}", lang.t(stage_key))
        .replace("{value}", k(value))
        .replace("{sym}", sym)
        .replace("{f}", f)
        .replace("{base}", k(base))
}

/// `800.00 of 1200.00 m²` / `7 of 10 owners` → `800.00 / 1200.00 m²` / `7 / 10 人`.
fn condition_detail(lang: Lang, detail: &str) -> String {
    detail
        .replace(" of ", " / ")
        .replace("owners", lang.t("cond.owners"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The store's refusals of a re-cast, as the ballot form shows them.
    #[test]
    fn recast_refusals_in_each_language() {
        let too_soon: ApiError = gongzhi_store::StoreError::RateLimited {
            field: "owner_id".into(),
            reason: RecastRefusal::TooSoon {
                retry_after_ms: 41_500,
            }
            .to_string(),
            retry_after_secs: 42,
        }
        .into();
        assert_eq!(too_soon.status, StatusCode::TOO_MANY_REQUESTS);
        let cap: ApiError = gongzhi_store::StoreError::invalid(
            "owner_id",
            RecastRefusal::TooMany { cast: 20 }.to_string(),
        )
        .into();
        for (lang, soon, most) in [
            (
                Lang::ZhCn,
                "每分钟最多改票 3 次，请 42 秒后再试",
                "已投票 20 次，达到上限",
            ),
            (
                Lang::ZhTw,
                "每分鐘最多改票 3 次，請 42 秒後再試",
                "已投票 20 次，達到上限",
            ),
            (
                Lang::En,
                "at most 3 times a minute: try again in 42 s",
                "cast 20 ballots",
            ),
        ] {
            let e = recast_refusal_in(too_soon.clone(), lang);
            assert!(e.detail.contains(soon), "{lang:?}: {}", e.detail);
            let page = page_error(e, lang);
            assert_eq!(page.status(), StatusCode::TOO_MANY_REQUESTS);
            assert_eq!(page.headers()[axum::http::header::RETRY_AFTER], "42");
            let e = recast_refusal_in(cap.clone(), lang);
            assert!(e.detail.contains(most), "{lang:?}: {}", e.detail);
        }
        // Other errors keep their detail.
        let other = ApiError::field("choice", "unknown choice 'maybe'");
        assert_eq!(
            recast_refusal_in(other, Lang::ZhCn).detail,
            "choice: unknown choice 'maybe'"
        );
    }

    #[test]
    fn rules_and_conditions_in_each_language() {
        use gongzhi_domain::vote::{Bound, Fraction};
        let r = Rule::Custom {
            base: Base::Eligible,
            area: None,
            headcount: Some(Fraction::new(3, 4).unwrap()),
            bound: Bound::AtLeast,
            turnout: false,
        };
        assert_eq!(
            rule_text(Lang::ZhCn, &r),
            "本地规则：同意 ≥ 全体业主人数的 3/4；不设参与率要求"
        );
        assert_eq!(
            rule_text(Lang::En, &r),
            r.to_string(),
            "English is the domain's text"
        );
        for m in [Matter::Ordinary, Matter::Special] {
            let r = Rule::CivilCode { matter: m };
            assert_eq!(rule_text(Lang::En, &r), r.to_string());
            assert!(rule_text(Lang::ZhCn, &r).starts_with("《民法典》"));
        }
        let r = Rule::Custom {
            base: Base::Participants,
            area: Some(Fraction::new(1, 2).unwrap()),
            headcount: Some(Fraction::new(1, 2).unwrap()),
            bound: Bound::MoreThan,
            turnout: true,
        };
        assert_eq!(rule_text(Lang::En, &r), r.to_string());
        assert_eq!(
            condition_text(Lang::ZhCn, "turnout: voted_area ≥ 2/3 of total_area"),
            "参与率：参与表决面积 ≥ 总专有面积的 2/3"
        );
        assert_eq!(
            condition_text(Lang::En, "approval: yes_headcount > 1/2 of voted_headcount"),
            "approval: Yes owners > 1/2 of Participating owners"
        );
        assert_eq!(condition_text(Lang::ZhCn, "odd"), "odd");
        assert_eq!(condition_detail(Lang::ZhCn, "7 of 10 owners"), "7 / 10 人");
    }

    #[test]
    fn percentages_round_half_up_in_tenths() {
        assert_eq!(pct(2, 3), "66.7");
        assert_eq!(pct(1, 8), "12.5");
        assert_eq!(pct(0, 0), "0.0");
        assert_eq!(pct(7, 7), "100.0");
    }
}
