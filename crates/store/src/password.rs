//! Argon2id password hashing with bounded memory.
//!
//! Each Argon2id computation with the default (OWASP) parameters needs a
//! 19 MiB work area. Letting the argon2 crate allocate it per call on
//! tokio's blocking threads made the allocator keep ~19 MiB per thread that
//! ever checked a password: 200 logins grew a server from 165 MiB to ~1.8 GiB.
//! Here every computation borrows its work area from a small free list
//! instead, and at most [`Pool::permits`] run at once (a queue with a
//! timeout in front), so the memory held for hashing is bounded by
//! `permits × 19 MiB`, allocated once and reused.

use crate::error::StoreError;
use argon2::password_hash::{rand_core::OsRng, Output, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;
use tokio::sync::Semaphore;

/// How long a password check waits for a free slot before the request is
/// refused as busy (429 with Retry-After).
pub const QUEUE_TIMEOUT: Duration = Duration::from_secs(10);

/// The bounded pool of Argon2 work areas.
pub struct Pool {
    permits: usize,
    timeout: Duration,
    slots: Semaphore,
    free: Mutex<Vec<Vec<Block>>>,
}

/// The process's pool: as many concurrent computations as cores (at least
/// one, at most eight).
pub fn pool() -> &'static Pool {
    static POOL: OnceLock<Pool> = OnceLock::new();
    POOL.get_or_init(|| {
        let n = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
            .clamp(1, 8);
        Pool::new(n)
    })
}

impl Pool {
    pub fn new(permits: usize) -> Pool {
        Pool::with_timeout(permits, QUEUE_TIMEOUT)
    }

    /// A pool whose queue gives up after `timeout`.
    pub fn with_timeout(permits: usize, timeout: Duration) -> Pool {
        assert!(permits >= 1, "a password pool needs at least one slot");
        Pool {
            permits,
            timeout,
            slots: Semaphore::new(permits),
            free: Mutex::new(Vec::new()),
        }
    }

    /// How many computations may run at once.
    pub fn permits(&self) -> usize {
        self.permits
    }

    /// Work areas allocated so far (never more than [`Pool::permits`] are kept).
    pub fn areas(&self) -> usize {
        self.free.lock().map(|f| f.len()).unwrap_or(0)
    }

    /// Runs `f` with a work area of at least `blocks` blocks; the area goes
    /// back to the free list (up to `permits` areas are kept).
    fn with_area<T>(&self, blocks: usize, f: impl FnOnce(&mut [Block]) -> T) -> T {
        let taken = self.free.lock().ok().and_then(|mut f| f.pop());
        let mut area = match taken {
            Some(a) if a.len() >= blocks => a,
            _ => vec![Block::default(); blocks],
        };
        let out = f(&mut area);
        if let Ok(mut free) = self.free.lock() {
            if free.len() < self.permits {
                free.push(area);
            }
        }
        out
    }

    /// Hashes `password` (Argon2id, default parameters) into a PHC string.
    pub fn hash_blocking(&self, password: &str) -> Result<String, StoreError> {
        let params = Params::default();
        let salt = SaltString::generate(&mut OsRng);
        let mut raw_salt = [0u8; 64];
        let salt_bytes = salt
            .decode_b64(&mut raw_salt)
            .map_err(|e| StoreError::Config(format!("cannot hash password: {e}")))?;
        let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
        let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
        self.with_area(params.block_count(), |area| {
            argon.hash_password_into_with_memory(password.as_bytes(), salt_bytes, &mut out, area)
        })
        .map_err(|e| StoreError::Config(format!("cannot hash password: {e}")))?;
        let phc = PasswordHash {
            algorithm: Algorithm::Argon2id.ident(),
            version: Some(Version::V0x13.into()),
            params: (&params)
                .try_into()
                .map_err(|e| StoreError::Config(format!("cannot hash password: {e}")))?,
            salt: Some(salt.as_salt()),
            hash: Some(
                Output::new(&out)
                    .map_err(|e| StoreError::Config(format!("cannot hash password: {e}")))?,
            ),
        };
        Ok(phc.to_string())
    }

    /// Whether `password` matches the PHC string `hash` (any Argon2 variant
    /// and parameters the string names). A malformed hash never matches.
    pub fn verify_blocking(&self, hash: &str, password: &str) -> bool {
        let Ok(phc) = PasswordHash::new(hash) else {
            return false;
        };
        let (Some(expected), Some(salt)) = (phc.hash, phc.salt) else {
            return false;
        };
        let Ok(alg) = Algorithm::try_from(phc.algorithm) else {
            return false;
        };
        let version = phc
            .version
            .map(Version::try_from)
            .transpose()
            .ok()
            .flatten()
            .unwrap_or_default();
        let Ok(params) = Params::try_from(&phc) else {
            return false;
        };
        let mut raw_salt = [0u8; 64];
        let Ok(salt_bytes) = salt.decode_b64(&mut raw_salt) else {
            return false;
        };
        let argon = Argon2::new(alg, version, params.clone());
        let mut out = vec![0u8; expected.len()];
        let ok = self.with_area(params.block_count(), |area| {
            argon.hash_password_into_with_memory(password.as_bytes(), salt_bytes, &mut out, area)
        });
        // `Output`'s equality is constant-time.
        ok.is_ok() && Output::new(&out).is_ok_and(|o| o == expected)
    }

    /// Waits (at most the pool's timeout) for a slot, then runs `f` on a
    /// blocking thread.
    async fn run<T: Send + 'static>(
        &'static self,
        f: impl FnOnce(&'static Pool) -> T + Send + 'static,
    ) -> Result<T, StoreError> {
        let busy = || StoreError::RateLimited {
            field: "password".into(),
            reason: "too many password checks at once; try again shortly".into(),
            retry_after_secs: 1,
        };
        let _permit = tokio::time::timeout(self.timeout, self.slots.acquire())
            .await
            .map_err(|_| busy())?
            .map_err(|_| busy())?;
        tokio::task::spawn_blocking(move || f(self))
            .await
            .map_err(|e| StoreError::Config(format!("password worker failed: {e}")))
    }

    /// [`Pool::hash_blocking`] through the bounded queue.
    pub async fn hash(&'static self, password: String) -> Result<String, StoreError> {
        self.run(move |p| p.hash_blocking(&password)).await?
    }

    /// [`Pool::verify_blocking`] through the bounded queue; `hash == None`
    /// (an unknown user) costs the same as a known one and never matches.
    pub async fn verify(
        &'static self,
        hash: Option<String>,
        password: String,
    ) -> Result<bool, StoreError> {
        self.run(move |p| {
            let known = hash.is_some();
            let h = hash.unwrap_or_else(|| dummy_hash().to_string());
            p.verify_blocking(&h, &password) && known
        })
        .await
    }
}

/// A fixed hash checked for unknown users, so that they cost the same time.
pub fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        pool()
            .hash_blocking("gongzhi-dummy-password")
            .expect("hashing a constant works")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::password_hash::{PasswordHasher, PasswordVerifier};

    #[test]
    fn hashes_verify_both_ways_with_the_argon2_crate() {
        let p = Pool::new(2);
        let ours = p.hash_blocking("correct horse").unwrap();
        assert!(
            ours.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{ours}"
        );
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(Argon2::default()
            .verify_password(b"correct horse", &parsed)
            .is_ok());
        assert!(Argon2::default()
            .verify_password(b"wrong horse", &parsed)
            .is_err());
        // A hash made by the crate (as stored by earlier versions) verifies here.
        let salt = SaltString::generate(&mut OsRng);
        let theirs = Argon2::default()
            .hash_password(b"battery staple", &salt)
            .unwrap()
            .to_string();
        assert!(p.verify_blocking(&theirs, "battery staple"));
        assert!(!p.verify_blocking(&theirs, "battery stapler"));
        assert!(!p.verify_blocking("not a hash", "battery staple"));
        assert!(!p.verify_blocking("$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ", "x"));
    }

    #[test]
    fn keeps_at_most_permits_work_areas() {
        let p = std::sync::Arc::new(Pool::new(2));
        let threads: Vec<_> = (0..6)
            .map(|i| {
                let p = p.clone();
                std::thread::spawn(move || p.hash_blocking(&format!("password {i}")).unwrap())
            })
            .collect();
        let hashes: Vec<String> = threads.into_iter().map(|t| t.join().unwrap()).collect();
        assert!(p.areas() <= 2, "kept {} areas", p.areas());
        assert!(p.areas() >= 1);
        for (i, h) in hashes.iter().enumerate() {
            assert!(p.verify_blocking(h, &format!("password {i}")));
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_queue_refuses_when_every_slot_stays_busy() {
        static ONE: OnceLock<Pool> = OnceLock::new();
        let p = ONE.get_or_init(|| Pool::with_timeout(1, Duration::from_millis(50)));
        let held = p.slots.acquire().await.unwrap();
        let r = p.verify(None, "x".into()).await;
        assert!(
            matches!(r, Err(StoreError::RateLimited { ref field, .. }) if field == "password"),
            "{r:?}"
        );
        drop(held);
        let h = p.hash("a good password".into()).await.unwrap();
        assert!(p.verify(Some(h), "a good password".into()).await.unwrap());
    }
}
