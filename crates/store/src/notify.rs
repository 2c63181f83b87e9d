//! Notifications of case changes, outbox style: [`enqueue`] runs inside the
//! transaction that writes the case event (so a change is never committed
//! without its notifications), writing one notification per recipient and
//! one pending delivery per channel. [`dispatch`] later hands pending
//! deliveries to pluggable [`Sender`]s, claiming each one first (so two
//! dispatchers never send the same delivery twice) and recording every
//! attempt (append-only). Who is told what is decided in
//! `gongzhi_domain::notify`.

use crate::db::{self, Db, Tx};
use crate::error::StoreError;
use gongzhi_domain::notify::{self as rules, Channel, CHANNELS};
use serde::Serialize;
use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// Writes the notifications of one case event (call inside its transaction).
pub async fn enqueue(
    tx: &mut Tx,
    case_id: &str,
    kind: &str,
    to_status: &str,
    note: Option<&str>,
    actor: &str,
    now: i64,
) -> Result<usize, StoreError> {
    let r = sqlx::query("SELECT reporter_user_id, assignee_user_id FROM cases WHERE id = $1")
        .bind(case_id.to_string())
        .fetch_one(&mut **tx)
        .await?;
    let (reporter, assignee) = (
        db::os(&r, "reporter_user_id")?,
        db::os(&r, "assignee_user_id")?,
    );
    let to = rules::recipients(kind, reporter.as_deref(), assignee.as_deref(), actor);
    for user in &to {
        let nid = db::new_id();
        sqlx::query(
            "INSERT INTO notifications (id, user_id, case_id, event_kind, to_status, note, created_at) VALUES ($1,$2,$3,$4,$5,$6,$7)",
        )
        .bind(nid.clone())
        .bind(user.clone())
        .bind(case_id.to_string())
        .bind(kind.to_string())
        .bind(to_status.to_string())
        .bind(note.map(str::to_string))
        .bind(now)
        .execute(&mut **tx)
        .await?;
        for ch in CHANNELS {
            sqlx::query(
                "INSERT INTO notification_deliveries (id, notification_id, channel, state, attempts, created_at) VALUES ($1,$2,$3,'pending',0,$4)",
            )
            .bind(db::new_id())
            .bind(nid.clone())
            .bind(ch.as_str())
            .bind(now)
            .execute(&mut **tx)
            .await?;
        }
    }
    Ok(to.len())
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct NotificationView {
    pub id: String,
    pub case_id: String,
    pub category: String,
    pub event_kind: String,
    pub to_status: String,
    pub note: Option<String>,
    pub created_at: i64,
    pub read_at: Option<i64>,
}

/// A user's notifications, newest first, and how many are unread.
pub async fn list(
    db: &Db,
    user_id: &str,
    unread_only: bool,
    limit: i64,
) -> Result<(Vec<NotificationView>, i64), StoreError> {
    let sql = format!(
        "SELECT n.id, n.case_id, c.category, n.event_kind, n.to_status, n.note, n.created_at, n.read_at \
         FROM notifications n JOIN cases c ON c.id = n.case_id WHERE n.user_id = $1{} ORDER BY n.created_at DESC, n.id DESC LIMIT $2",
        if unread_only { " AND n.read_at IS NULL" } else { "" }
    );
    let rows = sqlx::query(&sql)
        .bind(user_id.to_string())
        .bind(limit.clamp(1, 500))
        .fetch_all(db.reader())
        .await?;
    let list = rows
        .iter()
        .map(|r| {
            Ok(NotificationView {
                id: db::s(r, "id")?,
                case_id: db::s(r, "case_id")?,
                category: db::s(r, "category")?,
                event_kind: db::s(r, "event_kind")?,
                to_status: db::s(r, "to_status")?,
                note: db::os(r, "note")?,
                created_at: db::i(r, "created_at")?,
                read_at: db::oi(r, "read_at")?,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    Ok((list, unread(db, user_id).await?))
}

/// How many of a user's notifications are unread.
pub async fn unread(db: &Db, user_id: &str) -> Result<i64, StoreError> {
    db::i(
        &sqlx::query(
            "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM notifications WHERE user_id = $1 AND read_at IS NULL",
        )
        .bind(user_id.to_string())
        .fetch_one(db.reader())
        .await?,
        "n",
    )
}

/// Marks one of the user's own notifications read (again is a no-op);
/// another user's notification is "not found".
pub(crate) async fn mark_read(
    tx: &mut Tx,
    user_id: &str,
    id: &str,
    now: i64,
) -> Result<(), StoreError> {
    let r = sqlx::query("SELECT read_at FROM notifications WHERE id = $1 AND user_id = $2")
        .bind(id.to_string())
        .bind(user_id.to_string())
        .fetch_optional(&mut **tx)
        .await?
        .ok_or_else(|| StoreError::not_found(format!("notification '{id}'")))?;
    if db::oi(&r, "read_at")?.is_none() {
        sqlx::query("UPDATE notifications SET read_at = $1 WHERE id = $2 AND user_id = $3")
            .bind(now)
            .bind(id.to_string())
            .bind(user_id.to_string())
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// Marks all of a user's notifications read; returns how many were unread.
pub(crate) async fn mark_all_read(tx: &mut Tx, user_id: &str, now: i64) -> Result<u64, StoreError> {
    Ok(
        sqlx::query("UPDATE notifications SET read_at = $1 WHERE user_id = $2 AND read_at IS NULL")
            .bind(now)
            .bind(user_id.to_string())
            .execute(&mut **tx)
            .await?
            .rows_affected(),
    )
}

/// What a sender is handed.
#[derive(Debug, Clone, Serialize)]
pub struct Message {
    pub delivery_id: String,
    pub notification_id: String,
    pub user_id: String,
    pub case_id: String,
    pub event_kind: String,
    pub to_status: String,
    pub text: String,
}

/// A way of delivering notifications (in-app, SMS, WeChat, …).
pub trait Sender: Send + Sync {
    fn channel(&self) -> Channel;
    /// Delivers the message, or says why not (the attempt is recorded either way).
    fn send(&self, m: &Message) -> Result<String, String>;
}

/// The in-app inbox: the notification row is the delivery.
pub struct InAppSender;

impl Sender for InAppSender {
    fn channel(&self) -> Channel {
        Channel::InApp
    }
    fn send(&self, _m: &Message) -> Result<String, String> {
        Ok("in the inbox".into())
    }
}

/// SMS or WeChat without a gateway: writes each message as a JSON line to a
/// local file (when given) and reports it in the attempt row. No network.
pub struct LoggedSender {
    pub channel: Channel,
    pub file: Option<PathBuf>,
    lock: Mutex<()>,
}

impl LoggedSender {
    pub fn new(channel: Channel, file: Option<PathBuf>) -> Self {
        LoggedSender {
            channel,
            file,
            lock: Mutex::new(()),
        }
    }
}

impl Sender for LoggedSender {
    fn channel(&self) -> Channel {
        self.channel
    }
    fn send(&self, m: &Message) -> Result<String, String> {
        let line = serde_json::json!({"channel": self.channel, "message": m}).to_string();
        if let Some(path) = &self.file {
            append_line(path, &self.lock, &line)?;
            Ok(format!("logged to {}", path.display()))
        } else {
            tracing::info!(target: "gongzhi::notify", "{line}");
            Ok("logged".into())
        }
    }
}

/// Appends `line` to the file at `path` (created if missing), one writer
/// at a time under `lock`: the outbox of the logging senders.
pub fn append_line(path: &std::path::Path, lock: &Mutex<()>, line: &str) -> Result<(), String> {
    let _g = lock.lock().map_err(|e| e.to_string())?;
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    writeln!(f, "{line}").map_err(|e| e.to_string())
}

/// The default senders: the inbox, and SMS and WeChat logged to
/// `log_file` (e.g. `DATA_DIR/notifications.log`) or the process log.
pub fn default_senders(log_file: Option<PathBuf>) -> Vec<Arc<dyn Sender>> {
    vec![
        Arc::new(InAppSender),
        Arc::new(LoggedSender::new(Channel::Sms, log_file.clone())),
        Arc::new(LoggedSender::new(Channel::Wechat, log_file)),
    ]
}

/// A delivery claimed this long ago but never finished (a crash) is tried again.
pub const STALE_CLAIM_MS: i64 = 60_000;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct DispatchReport {
    pub sent: u64,
    pub retrying: u64,
    pub failed: u64,
}

/// Hands up to `batch` pending deliveries to their senders.
pub async fn dispatch(
    db: &Db,
    senders: &[Arc<dyn Sender>],
    now: i64,
    batch: i64,
) -> Result<DispatchReport, StoreError> {
    let stale = now - STALE_CLAIM_MS;
    let rows = sqlx::query(
        "SELECT d.id, d.channel, n.id AS nid, n.user_id, n.case_id, n.event_kind, n.to_status, n.note \
         FROM notification_deliveries d JOIN notifications n ON n.id = d.notification_id \
         WHERE d.state = 'pending' OR (d.state = 'sending' AND d.claimed_at < $1) ORDER BY d.created_at, d.id LIMIT $2",
    )
    .bind(stale)
    .bind(batch.clamp(1, 10_000))
    .fetch_all(db.reader())
    .await?;
    let mut report = DispatchReport::default();
    for r in &rows {
        let id = db::s(r, "id")?;
        let channel = db::s(r, "channel")?;
        // Claim it: only one dispatcher gets it.
        let id2 = id.clone();
        let claimed = db
            .write(move |tx| {
                let id = id2.clone();
                Box::pin(async move {
                    let n = sqlx::query(
                        "UPDATE notification_deliveries SET state = 'sending', claimed_at = $1, attempts = attempts + 1 \
                         WHERE id = $2 AND (state = 'pending' OR (state = 'sending' AND claimed_at < $3))",
                    )
                    .bind(now)
                    .bind(id.clone())
                    .bind(stale)
                    .execute(&mut **tx)
                    .await?
                    .rows_affected();
                    if n != 1 {
                        return Ok(None);
                    }
                    let a = sqlx::query("SELECT attempts FROM notification_deliveries WHERE id = $1")
                        .bind(id)
                        .fetch_one(&mut **tx)
                        .await?;
                    Ok(Some(db::i(&a, "attempts")?))
                })
            })
            .await?;
        let Some(attempts) = claimed else { continue };
        let (kind, to_status) = (db::s(r, "event_kind")?, db::s(r, "to_status")?);
        let m = Message {
            delivery_id: id.clone(),
            notification_id: db::s(r, "nid")?,
            user_id: db::s(r, "user_id")?,
            case_id: db::s(r, "case_id")?,
            text: match db::os(r, "note")? {
                Some(n) => format!("您的诉求有新进展（{kind} → {to_status}）：{n}"),
                None => format!("您的诉求有新进展（{kind} → {to_status}）"),
            },
            event_kind: kind,
            to_status,
        };
        let result = match senders.iter().find(|s| s.channel().as_str() == channel) {
            Some(s) => s.send(&m),
            None => Err(format!("no sender for channel '{channel}'")),
        };
        let (ok, detail) = match &result {
            Ok(d) => (true, d.clone()),
            Err(e) => (false, e.clone()),
        };
        let state = if ok {
            report.sent += 1;
            "sent"
        } else if rules::retry(attempts) {
            report.retrying += 1;
            "pending"
        } else {
            report.failed += 1;
            "failed"
        };
        let id2 = id.clone();
        db.write(move |tx| {
            let (id, detail) = (id2.clone(), detail.clone());
            Box::pin(async move {
                sqlx::query("INSERT INTO notification_attempts (id, delivery_id, at, ok, detail) VALUES ($1,$2,$3,$4,$5)")
                    .bind(db::new_id())
                    .bind(id.clone())
                    .bind(now)
                    .bind(ok as i64)
                    .bind(detail)
                    .execute(&mut **tx)
                    .await?;
                sqlx::query("UPDATE notification_deliveries SET state = $1, done_at = $2 WHERE id = $3")
                    .bind(state)
                    .bind((state != "pending").then_some(now))
                    .bind(id)
                    .execute(&mut **tx)
                    .await?;
                Ok(())
            })
        })
        .await?;
    }
    Ok(report)
}

/// The deliveries of a case's notifications: (user, event, channel, state, attempts recorded).
pub async fn deliveries_of_case(
    db: &Db,
    case_id: &str,
) -> Result<Vec<(String, String, String, String, i64)>, StoreError> {
    let rows = sqlx::query(
        "SELECT n.user_id, n.event_kind, d.channel, d.state, \
         (SELECT CAST(COUNT(*) AS BIGINT) FROM notification_attempts a WHERE a.delivery_id = d.id) AS tries \
         FROM notification_deliveries d JOIN notifications n ON n.id = d.notification_id WHERE n.case_id = $1 \
         ORDER BY n.created_at, n.user_id, d.channel",
    )
    .bind(case_id.to_string())
    .fetch_all(db.reader())
    .await?;
    rows.iter()
        .map(|r| {
            Ok((
                db::s(r, "user_id")?,
                db::s(r, "event_kind")?,
                db::s(r, "channel")?,
                db::s(r, "state")?,
                db::i(r, "tries")?,
            ))
        })
        .collect()
}

/// Marks one of the user's notifications read ([`mark_read`]).
pub async fn read(db: &Db, user_id: &str, id: &str, now: i64) -> Result<(), StoreError> {
    db.write_with(
        (user_id.to_string(), id.to_string()),
        move |tx, (uid, id)| Box::pin(async move { mark_read(tx, &uid, &id, now).await }),
    )
    .await
}

/// Marks all the user's notifications read ([`mark_all_read`]); how many.
pub async fn read_all(db: &Db, user_id: &str, now: i64) -> Result<u64, StoreError> {
    db.write_with(user_id.to_string(), move |tx, uid| {
        Box::pin(async move { mark_all_read(tx, &uid, now).await })
    })
    .await
}
