//! Real votes for tests of what needs a decision.

use gongzhi_store::register::Place;
use gongzhi_store::Db;

/// For tests of what needs a decision: a real vote over `place`: created, opened, every owner votes `choice`
/// online, and (when `close`) closed and counted.
pub async fn vote(
    db: &Db,
    place: &Place,
    choice: gongzhi_domain::vote::Choice,
    close: bool,
) -> String {
    vote_with(db, place, choice, close, None).await
}

/// [`vote`] on spending: before it opens, the vote authorises `amount` fen
/// from the maintenance fund (`gongzhi_store::spending`).
pub async fn spending_vote(
    db: &Db,
    place: &Place,
    choice: gongzhi_domain::vote::Choice,
    close: bool,
    amount: i64,
) -> String {
    vote_with(db, place, choice, close, Some(amount)).await
}

async fn vote_with(
    db: &Db,
    place: &Place,
    choice: gongzhi_domain::vote::Choice,
    close: bool,
    spend: Option<i64>,
) -> String {
    let place = place.clone();
    db.write(move |tx| {
        let place = place.clone();
        Box::pin(async move {
            let now = gongzhi_store::db::now_ms();
            let v = gongzhi_store::votes::create_vote(
                tx,
                "t",
                gongzhi_store::votes::NewVote {
                    title: "2027 年度预算",
                    place: &place,
                    rule: gongzhi_domain::vote::Rule::CivilCode {
                        matter: gongzhi_domain::vote::Matter::Ordinary,
                    },
                    opens_at: now - 1000,
                    closes_at: now + 3_600_000,
                    channels: vec![gongzhi_domain::ballot::Channel::Online],
                },
            )
            .await?;
            if let Some(amount) = spend {
                gongzhi_store::spending::authorise_in(
                    tx,
                    "t",
                    &v.id,
                    amount,
                    "repairs decided by the owners",
                )
                .await?;
            }
            gongzhi_store::votes::open_vote(tx, "t", &v.id, 3, now).await?;
            let owners =
                sqlx::query("SELECT DISTINCT owner_id FROM vote_electorate WHERE vote_id = $1")
                    .bind(&v.id)
                    .fetch_all(&mut **tx)
                    .await?;
            for o in owners {
                let owner_id: String = sqlx::Row::try_get(&o, "owner_id")?;
                gongzhi_store::votes::cast(
                    tx,
                    gongzhi_store::votes::Cast {
                        vote_id: &v.id,
                        owner_id: &owner_id,
                        choice,
                        channel: gongzhi_domain::ballot::Channel::Online,
                        cast_by: "t",
                        proxy_holder: None,
                        evidence_id: None,
                        now,
                    },
                )
                .await?;
            }
            if close {
                gongzhi_store::votes::close_vote(tx, "t", &v.id, now).await?;
            }
            Ok(v.id)
        })
    })
    .await
    .unwrap()
}
