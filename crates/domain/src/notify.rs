//! Notifications on case changes: who is told of which event, over which
//! channels, and when a failed delivery is retried. No I/O: the store writes
//! the notifications in the same transaction as the case event (an outbox),
//! senders deliver them later.

use crate::place::str_enum;

str_enum!(
    /// How a notification reaches a person. In-app is the inbox itself; SMS
    /// and WeChat go through pluggable senders (logged locally by default).
    Channel { InApp = "in_app", Sms = "sms", Wechat = "wechat" }
);

/// Every notification gets one delivery per channel.
pub const CHANNELS: &[Channel] = &[Channel::InApp, Channel::Sms, Channel::Wechat];

/// A failed delivery is tried at most this many times.
pub const MAX_ATTEMPTS: i64 = 5;

/// Event kinds the assignee (the person doing the work) is told of.
const ASSIGNEE_EVENTS: &[&str] = &[
    "assigned",
    "reopened",
    "escalated",
    "commented",
    "photo_added",
    "verified",
    "closed",
    "rated",
    "mediation_opened",
    "mediation_session",
    "mediation_concluded",
];

/// The user id behind an audit actor name (`user:ID`), if it is a user.
pub fn actor_user(actor: &str) -> Option<&str> {
    actor.strip_prefix("user:")
}

/// Who is notified of an event of `kind` on a case: its reporter of every
/// change, its assignee of the changes that concern the work; never the
/// person who made the change; each person once.
pub fn recipients(
    kind: &str,
    reporter: Option<&str>,
    assignee: Option<&str>,
    actor: &str,
) -> Vec<String> {
    let me = actor_user(actor);
    let mut out: Vec<String> = Vec::new();
    if let Some(r) = reporter {
        if Some(r) != me {
            out.push(r.to_string());
        }
    }
    if let Some(a) = assignee {
        if Some(a) != me && ASSIGNEE_EVENTS.contains(&kind) && !out.iter().any(|o| o == a) {
            out.push(a.to_string());
        }
    }
    out
}

/// After a failed attempt: try again (`true`) or give up.
pub fn retry(attempts: i64) -> bool {
    attempts < MAX_ATTEMPTS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reporter_of_everything_assignee_of_the_work_never_the_actor() {
        assert_eq!(
            recipients("accepted", Some("r"), Some("a"), "user:s"),
            vec!["r"]
        );
        assert_eq!(
            recipients("assigned", Some("r"), Some("a"), "user:s"),
            vec!["r", "a"]
        );
        assert_eq!(
            recipients("assigned", Some("r"), Some("a"), "user:a"),
            vec!["r"],
            "not the actor"
        );
        assert_eq!(
            recipients("commented", Some("r"), Some("a"), "user:r"),
            vec!["a"]
        );
        assert_eq!(
            recipients("reported", Some("r"), None, "user:r"),
            Vec::<String>::new(),
            "raising one's own case tells nobody"
        );
        assert_eq!(
            recipients("reported", Some("r"), None, "user:gw"),
            vec!["r"],
            "raised on their behalf"
        );
        assert_eq!(
            recipients("rated", Some("x"), Some("x"), "demo"),
            vec!["x"],
            "once each"
        );
        assert_eq!(
            recipients("resolved", None, None, "user:s"),
            Vec::<String>::new()
        );
    }

    #[test]
    fn retries_are_bounded() {
        assert!(retry(1));
        assert!(!retry(MAX_ATTEMPTS));
        assert_eq!(actor_user("user:u1"), Some("u1"));
        assert_eq!(actor_user("demo"), None);
    }
}
