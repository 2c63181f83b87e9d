//! Limits on login attempts. [`LoginThrottle`] counts failed logins per
//! (IP, username) and per IP, with exponential backoff; [`Limiter`] is a plain
//! fixed-window counter. Both are bounded: their tables are swept when they
//! grow past a limit.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub struct Limiter {
    window: Duration,
    max: u32,
    slots: Mutex<HashMap<String, (Instant, u32)>>,
}

/// Keys remembered before expired windows are swept.
const MAX_KEYS: usize = 100_000;

impl Limiter {
    pub fn new(max: u32, window: Duration) -> Self {
        Limiter {
            window,
            max,
            slots: Mutex::new(HashMap::new()),
        }
    }

    /// Counts one attempt for `key`. `Err(seconds)` when over the limit.
    pub fn hit(&self, key: &str) -> Result<(), u64> {
        let now = Instant::now();
        let mut slots = self.slots.lock().expect("limiter lock");
        if slots.len() > MAX_KEYS {
            let w = self.window;
            slots.retain(|_, (start, _)| now.duration_since(*start) < w);
        }
        let e = slots.entry(key.to_string()).or_insert((now, 0));
        if now.duration_since(e.0) >= self.window {
            *e = (now, 0);
        }
        e.1 += 1;
        if e.1 > self.max {
            let left = self.window.saturating_sub(now.duration_since(e.0));
            return Err(left.as_secs().max(1));
        }
        Ok(())
    }
}

/// What a failed login crossed: a key newly locked, for the audit trail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lock {
    /// `ip+username` or `ip`.
    pub scope: &'static str,
    /// Failures counted under the key.
    pub failures: u32,
    /// Seconds until the key may try again.
    pub retry_after: u64,
}

struct Slot {
    failures: u32,
    last_failure: Instant,
    locked_until: Option<Instant>,
}

/// The longest lock is `window` times this.
const MAX_BACKOFF_FACTOR: u32 = 64;

/// Failed logins per (IP, username) and per IP. Only failures count, and a
/// success clears its (IP, username). When a key reaches its limit it is
/// locked for `window`, each further failure after that doubling the lock (up
/// to [`MAX_BACKOFF_FACTOR`] windows); a key quiet for a window after its
/// last failure and lock is forgotten. There is no per-username lock: a
/// stranger's failures from another IP never lock the right password out.
pub struct LoginThrottle {
    window: Duration,
    per_pair: u32,
    per_ip: u32,
    slots: Mutex<HashMap<String, Slot>>,
}

impl LoginThrottle {
    pub fn new(per_ip: u32, per_pair: u32, window: Duration) -> Self {
        LoginThrottle {
            window,
            per_pair: per_pair.max(1),
            per_ip: per_ip.max(1),
            slots: Mutex::new(HashMap::new()),
        }
    }

    fn keys(ip: &str, username: &str) -> [(String, &'static str); 2] {
        [
            (
                format!("{ip}\u{0}{}", username.to_lowercase()),
                "ip+username",
            ),
            (ip.to_string(), "ip"),
        ]
    }

    fn expired(&self, slot: &Slot, now: Instant) -> bool {
        let quiet_from = slot
            .locked_until
            .unwrap_or(slot.last_failure)
            .max(slot.last_failure);
        now >= quiet_from + self.window
    }

    /// `Err(seconds)` while (IP, username) or the IP is locked.
    pub fn check(&self, ip: &str, username: &str) -> Result<(), u64> {
        let now = Instant::now();
        let slots = self.slots.lock().expect("throttle lock");
        let wait = Self::keys(ip, username)
            .iter()
            .filter_map(|(k, _)| slots.get(k)?.locked_until)
            .filter(|until| *until > now)
            .map(|until| until - now)
            .max();
        match wait {
            Some(w) => Err(secs_up(w)),
            None => Ok(()),
        }
    }

    /// Counts a failed login; returns the keys it locked.
    pub fn fail(&self, ip: &str, username: &str) -> Vec<Lock> {
        let now = Instant::now();
        let mut slots = self.slots.lock().expect("throttle lock");
        if slots.len() > MAX_KEYS {
            slots.retain(|_, s| !self.expired(s, now));
        }
        let mut locks = Vec::new();
        for ((key, scope), limit) in Self::keys(ip, username)
            .into_iter()
            .zip([self.per_pair, self.per_ip])
        {
            let slot = slots.entry(key).or_insert(Slot {
                failures: 0,
                last_failure: now,
                locked_until: None,
            });
            if self.expired(slot, now) {
                *slot = Slot {
                    failures: 0,
                    last_failure: now,
                    locked_until: None,
                };
            }
            slot.failures += 1;
            slot.last_failure = now;
            if slot.failures >= limit {
                let doublings = (slot.failures - limit).min(MAX_BACKOFF_FACTOR.ilog2());
                let lock = self.window * (1u32 << doublings);
                slot.locked_until = Some(now + lock);
                locks.push(Lock {
                    scope,
                    failures: slot.failures,
                    retry_after: secs_up(lock),
                });
            }
        }
        locks
    }

    /// A successful login clears its (IP, username); the IP's count stays
    /// (logging into one's own account must not reset a guessing IP).
    pub fn succeed(&self, ip: &str, username: &str) {
        let [(pair, _), _] = Self::keys(ip, username);
        self.slots.lock().expect("throttle lock").remove(&pair);
    }
}

/// Whole seconds, rounded up, at least 1 (for Retry-After).
fn secs_up(d: Duration) -> u64 {
    (d.as_millis().div_ceil(1000) as u64).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn limits() {
        let l = Limiter::new(2, Duration::from_secs(60));
        assert!(l.hit("a").is_ok());
        assert!(l.hit("a").is_ok());
        assert!(l.hit("a").is_err());
        assert!(l.hit("b").is_ok());
    }

    #[test]
    fn throttle_counts_failures_per_pair_and_ip_with_backoff() {
        let t = LoginThrottle::new(5, 2, Duration::from_secs(60));
        assert!(t.fail("1.1.1.1", "Ann").is_empty());
        let locks = t.fail("1.1.1.1", "ann");
        assert_eq!(
            locks,
            vec![Lock {
                scope: "ip+username",
                failures: 2,
                retry_after: 60
            }]
        );
        assert_eq!(t.check("1.1.1.1", "ann"), Err(60));
        assert!(
            t.check("2.2.2.2", "ann").is_ok(),
            "another IP is not locked"
        );
        assert!(
            t.check("1.1.1.1", "bob").is_ok(),
            "another user is not locked"
        );
        // Each further failure doubles the lock.
        assert_eq!(t.fail("1.1.1.1", "ann")[0].retry_after, 120);
        // The IP's own limit: five failures whatever the usernames.
        t.fail("1.1.1.1", "cat");
        let locks = t.fail("1.1.1.1", "dan");
        assert_eq!(locks[0].scope, "ip", "{locks:?}");
        assert!(t.check("1.1.1.1", "eve").is_err());
        // A success clears only its pair.
        t.succeed("2.2.2.2", "ann");
        assert!(t.check("1.1.1.1", "ann").is_err());
    }

    #[test]
    fn backoff_is_capped() {
        let t = LoginThrottle::new(1000, 1, Duration::from_secs(10));
        let last = (0..100).map(|_| t.fail("ip", "u")).last().unwrap();
        assert_eq!(last[0].retry_after, 10 * u64::from(MAX_BACKOFF_FACTOR));
    }
}
