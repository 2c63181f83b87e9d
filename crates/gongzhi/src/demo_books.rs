//! The demo's books, from the reports:
//!
//! * Jingcheng Mingdian (晶城名邸, 606 households) — the trust-model pilot:
//!   a year of fees billed by area × rate, the steward's 10% remuneration
//!   posted each month (酬金制), running expenses, lift-advertising and
//!   parking revenue, a dividend of 4 yuan/m² shared by area (the 72.00 m²
//!   shop gets 288.00 yuan), and the corridor light bulb: requested by the
//!   steward, approved by the committee chair and by the supervisor, posted,
//!   traceable from the owners' payments to the receipt.
//! * Jinyuan Shangcheng A zone (金元尚城A区, 539 households): a maintenance
//!   fund of 5,200,000 yuan earning 200,000 yuan interest a year; facilities
//!   paid from the interest by a passed vote; the principal untouched.

use gongzhi_domain::fund_calc;
use gongzhi_domain::ledger::{AccountCode, TransferKind};
use gongzhi_domain::money::{Area, Fen};
use gongzhi_domain::policy::Role;
use gongzhi_store::fund::{self, Idem, NewDisbursement, NewTransfer};
use gongzhi_store::register::{self, PartFilter, Place};
use gongzhi_store::{auth, Db};
use std::fmt::Write as _;

fn idem(k: String) -> Idem {
    Idem::new(&k, "demo".into()).expect("demo keys are valid")
}

fn posted(
    debit: AccountCode,
    credit: AccountCode,
    amount: i64,
    code: &str,
    memo: String,
    by: &str,
    role: Role,
) -> NewTransfer {
    NewTransfer {
        kind: TransferKind::Posted,
        debit,
        credit,
        amount,
        code: code.into(),
        memo,
        pending_id: None,
        link: None,
        vote_id: None,
        by_user: by.into(),
        by_role: role.as_str().into(),
        timeout_at: None,
    }
}

/// Money out of the books the only way it goes: a disbursement requested
/// by the steward, approved by the committee (reserves) and the supervisor
/// (posts).
#[allow(clippy::too_many_arguments)]
async fn spend(
    db: &Db,
    c: &Place,
    key: String,
    category: AccountCode,
    amount: i64,
    purpose: String,
    payee: &str,
    (steward, committee, supervisor): (&str, &str, &str),
) -> anyhow::Result<String> {
    let d = fund::request_disbursement(
        db,
        steward,
        c,
        idem(key.clone()),
        NewDisbursement {
            purpose,
            payee: payee.into(),
            amount,
            category,
            source: AccountCode::Bank,
            documents: vec![],
            link: None,
            vote_id: None,
        },
    )
    .await?;
    let id = d.value.disbursement.id;
    fund::approve(
        db,
        committee,
        &[Role::CommitteeMember],
        c,
        &id,
        idem(format!("{key}-1")),
    )
    .await?;
    fund::approve(
        db,
        supervisor,
        &[Role::Supervisor],
        c,
        &id,
        idem(format!("{key}-2")),
    )
    .await?;
    Ok(id)
}

async fn areas(db: &Db, c: &Place) -> anyhow::Result<Vec<(String, String, i64)>> {
    let parts = register::parts_under(db, c, &PartFilter::All, false, 100_000, 0).await?;
    parts
        .into_iter()
        .map(|p| {
            Ok((
                p.number.clone(),
                p.kind.clone(),
                Area::parse(&p.area_m2)
                    .map_err(|e| anyhow::anyhow!("{e}"))?
                    .0,
            ))
        })
        .collect()
}

pub async fn load(db: &Db) -> anyhow::Result<String> {
    let mut s = String::new();
    use AccountCode::*;
    // --- Jingcheng Mingdian: the trust-model pilot ---
    let c = register::place_by_code(db, "jingcheng-mingdian").await?;
    let steward = auth::user_id_by_name(db, "steward").await?;
    let committee = auth::user_id_by_name(db, "committee").await?;
    let supervisor = auth::user_id_by_name(db, "supervisor").await?;
    let parts = areas(db, &c).await?;
    let rates = |kind: &str| match kind {
        "shop" => 300,
        "parking" => 0,
        _ => 150,
    };
    let monthly: i64 = parts
        .iter()
        .map(|(_, k, a)| fund_calc::fee(*a, rates(k)))
        .sum();
    let mut fees_total = 0;
    for m in 1..=12 {
        // 96% collected each month
        let collected = monthly * 96 / 100;
        fees_total += collected;
        let k = |x: &str| idem(format!("demo-jc-{m}-{x}"));
        fund::record_transfer(
            db,
            &c,
            k("fee"),
            posted(
                Bank,
                FeeIncome,
                collected,
                "fee",
                format!("2026-{m:02} property fees collected (area × rate)"),
                &steward,
                Role::Steward,
            ),
        )
        .await?;
        fund::record_transfer(
            db,
            &c,
            k("ads"),
            posted(
                Bank,
                RevenueAdvertising,
                20_000_00,
                "revenue",
                format!("2026-{m:02} lift advertising"),
                &steward,
                Role::Steward,
            ),
        )
        .await?;
        fund::record_transfer(
            db,
            &c,
            k("park"),
            posted(
                Bank,
                RevenueParking,
                12_500_00,
                "revenue",
                format!("2026-{m:02} parking rental"),
                &steward,
                Role::Steward,
            ),
        )
        .await?;
        let rem = fund_calc::remuneration(collected, 1000);
        let team = (steward.as_str(), committee.as_str(), supervisor.as_str());
        spend(
            db,
            &c,
            format!("demo-jc-{m}-rem"),
            StewardRemuneration,
            rem,
            format!("2026-{m:02} steward remuneration 10% of fee income"),
            "Jingcheng Property Service",
            team,
        )
        .await?;
        for (acct, share, what, payee) in [
            (ExpenseCleaning, 30, "cleaning", "Jiejing Cleaning"),
            (ExpenseSecurity, 35, "security", "Pingan Security"),
            (ExpenseGreening, 8, "greening", "Lvyuan Gardens"),
            (
                ExpenseUtilities,
                12,
                "common-area electricity and water",
                "State Grid / Water Co.",
            ),
        ] {
            spend(
                db,
                &c,
                format!("demo-jc-{m}-{}", acct.as_str()),
                acct,
                collected * share / 100,
                format!("2026-{m:02} {what}"),
                payee,
                team,
            )
            .await?;
        }
    }
    // the dividend: 4 yuan per m² of every part, from the public revenue
    let weights: Vec<i64> = parts.iter().map(|(_, _, a)| *a).collect();
    let total = fund_calc::dividend_total_at_rate(&weights, 400);
    let shares = fund_calc::dividend_by_area(total, &weights)?;
    gongzhi_store::billing::dividend_run(
        db,
        &committee,
        "committee_member",
        &c,
        total,
        RevenueAdvertising,
        idem("demo-jc-div".into()),
    )
    .await?;
    spend(
        db,
        &c,
        "demo-jc-div-pay".into(),
        DividendsPayable,
        total,
        "dividend paid to owners' accounts".into(),
        "owners of record (by area)",
        (&steward, &committee, &supervisor),
    )
    .await?;
    let shop = parts
        .iter()
        .zip(&shares)
        .find(|((_, k, a), _)| k == "shop" && *a == 7200)
        .map(|((n, _, _), v)| format!("shop {n} (72.00 m²) gets {}", Fen(*v)));
    // December billed per part by area × rate; the demo owner pays their bills
    gongzhi_store::billing::bill_run(
        db,
        &steward,
        "steward",
        &c,
        "2026-12",
        gongzhi_store::billing::Rates {
            flat: 150,
            shop: 300,
            parking: 0,
        },
        idem("demo-jc-bill-2026-12".into()),
    )
    .await?;
    let owner_user = auth::user_id_by_name(db, "owner").await?;
    for o in auth::owners_of_user(db, &owner_user).await? {
        for b in gongzhi_store::billing::bills_of_owner(db, &o).await? {
            gongzhi_store::billing::record_payment(
                db,
                &steward,
                "steward",
                &c,
                &b.id,
                b.amount - b.paid,
                "online",
                idem(format!("demo-jc-pay-{}", b.id)),
            )
            .await?;
        }
    }
    // the corridor light bulb, dual-approved
    let d = fund::request_disbursement(
        db,
        &steward,
        &c,
        idem("demo-jc-bulb".into()),
        NewDisbursement {
            purpose: "corridor light bulb, building 3 unit 2, 5th floor".into(),
            payee: "Sanxia Electric (receipt 2026-0042)".into(),
            amount: 35_00,
            category: ExpenseRepair,
            source: Bank,
            documents: vec!["receipt 2026-0042".into(), "photo before/after".into()],
            link: Some("case: dark corridor reported by owner".into()),
            vote_id: None,
        },
    )
    .await?;
    let bulb = d.value.disbursement.id;
    fund::approve(
        db,
        &committee,
        &[Role::CommitteeMember],
        &c,
        &bulb,
        idem("demo-jc-bulb-1".into()),
    )
    .await?;
    fund::approve(
        db,
        &supervisor,
        &[Role::Supervisor],
        &c,
        &bulb,
        idem("demo-jc-bulb-2".into()),
    )
    .await?;
    // one awaiting its second approval, for the approval queue
    let d = fund::request_disbursement(
        db,
        &steward,
        &c,
        idem("demo-jc-paint".into()),
        NewDisbursement {
            purpose: "repaint the bicycle shed".into(),
            payee: "Jincheng Decoration".into(),
            amount: 2_800_00,
            category: ExpenseRepair,
            source: Bank,
            documents: vec!["quote Q-17".into()],
            link: None,
            vote_id: None,
        },
    )
    .await?;
    let paint = d.value.disbursement.id;
    fund::approve(
        db,
        &committee,
        &[Role::CommitteeMember],
        &c,
        &paint,
        idem("demo-jc-paint-1".into()),
    )
    .await?;
    let _ = writeln!(
        s,
        "Books: jingcheng-mingdian — fees {} yuan over 12 months, dividend {} yuan by area ({}), corridor light bulb 35.00 dual-approved",
        Fen(fees_total),
        Fen(total),
        shop.unwrap_or_else(|| "no 72 m² shop".into())
    );

    // --- Jinyuan Shangcheng A: the maintenance fund ---
    let j = register::place_by_code(db, "jinyuan-shangcheng-a").await?;
    let k = |x: &str| idem(format!("demo-jy-{x}"));
    fund::record_transfer(
        db,
        &j,
        k("principal"),
        posted(
            MaintenanceBank,
            MaintenancePrincipal,
            5_200_000_00,
            "opening",
            "maintenance fund principal deposited by owners".into(),
            &steward,
            Role::Steward,
        ),
    )
    .await?;
    for q in 1..=4 {
        fund::record_transfer(
            db,
            &j,
            k(&format!("int{q}")),
            posted(
                MaintenanceBank,
                MaintenanceInterest,
                50_000_00,
                "interest",
                format!("2026 Q{q} bank interest"),
                &steward,
                Role::Steward,
            ),
        )
        .await?;
    }
    // the owners decided it by a vote (a real one: the books check it)
    let facilities_vote = crate::demo_votes::jinyuan_facilities(db).await?;
    let d = fund::request_disbursement(
        db,
        &steward,
        &j,
        k("gym"),
        NewDisbursement {
            purpose: "outdoor fitness equipment and 12 benches".into(),
            payee: "Ankang Sports Facilities".into(),
            amount: 86_000_00,
            category: ExpenseRepair,
            source: MaintenanceInterest,
            documents: vec!["contract AK-2026-31".into(), "acceptance report".into()],
            link: None,
            vote_id: Some(facilities_vote.clone()),
        },
    )
    .await?;
    let gym = d.value.disbursement.id;
    fund::approve(
        db,
        "demo-jinyuan-committee",
        &[Role::CommitteeMember],
        &j,
        &gym,
        k("gym-1"),
    )
    .await?;
    fund::approve(
        db,
        "demo-jinyuan-supervisor",
        &[Role::Supervisor],
        &j,
        &gym,
        k("gym-2"),
    )
    .await?;
    // an emergency use (Civil Code art. 281): a stopped lift, paid from the
    // interest without a vote, approved by the committee and the steward,
    // published at once
    let e = fund::request_emergency(
        db,
        &steward,
        &j,
        k("lift"),
        NewDisbursement {
            purpose: "2栋电梯停运：更换曳引机主板".into(),
            payee: "Thyssen Lift Service Ankang".into(),
            amount: 18_000_00,
            category: ExpenseRepair,
            source: MaintenanceInterest,
            documents: vec!["maintenance report 0917".into()],
            link: None,
            vote_id: None,
        },
        "elevator_stopped",
    )
    .await?;
    let lift = e.value.disbursement.id;
    fund::approve(
        db,
        "demo-jinyuan-committee",
        &[Role::CommitteeMember],
        &j,
        &lift,
        k("lift-1"),
    )
    .await?;
    fund::approve(db, &steward, &[Role::Steward], &j, &lift, k("lift-2")).await?;
    let _ = writeln!(s, "Books: jinyuan-shangcheng-a — maintenance fund principal 5200000.00 kept, interest 200000.00, 86000.00 spent from interest by vote, 18000.00 emergency lift repair");
    Ok(s)
}
