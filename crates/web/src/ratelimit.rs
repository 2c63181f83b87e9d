//! Fixed-window limits on login attempts, per client IP and per account.
//! Bounded: the table is swept when it grows past a limit.

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
}
