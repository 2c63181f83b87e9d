//! Cases for tests that need one to exist.

use gongzhi_domain::cases::{Calendar, Category, Channel, Command, Priority};
use gongzhi_store::cases::{self, Extra, NewCase};
use gongzhi_store::register::Place;
use gongzhi_store::{auth, db, Db};

/// A user `resident` (no password) reports a repair at `place` on the web,
/// and staff accept it: the case's id and the resident's user id.
pub async fn accepted_case(db: &Db, place: Place) -> (String, String) {
    db.write(move |tx| {
        let place = place.clone();
        Box::pin(async move {
            let u = auth::create_user(tx, "t", "resident", "x", None).await?;
            let nc = NewCase {
                place,
                part_id: None,
                category: Category::Repair,
                priority: Priority::Normal,
                description: "楼道灯不亮".into(),
                address: None,
                lat: None,
                lon: None,
                channel: Channel::Web,
                reporter_user_id: Some(u.clone()),
                reporter_name: None,
                reporter_phone: None,
                consent_publish: false,
                raised_by: format!("user:{u}"),
            };
            let cal = Calendar::china_2026();
            let id = cases::raise_in(tx, &nc, &cal, db::now_ms()).await?;
            cases::act_in(
                tx,
                &id,
                "user:staff",
                &Command::Accept,
                &Extra::default(),
                &cal,
                db::now_ms(),
            )
            .await?;
            Ok((id, u))
        })
    })
    .await
    .unwrap()
}
