//! What every handler shares: the server's settings ([`Config`]) and its
//! state ([`Inner`], handed to handlers as [`AppState`]).

use gongzhi_store::Db;
use std::sync::Arc;
use std::time::Duration;

use crate::{metrics, ratelimit};

/// Settings of one server.
#[derive(Clone, Debug)]
pub struct Config {
    /// Mark session cookies Secure (behind HTTPS).
    pub secure_cookies: bool,
    /// Failed logins from one IP (any usernames) before it is locked out
    /// (`ratelimit::LoginThrottle`).
    pub login_per_ip: u32,
    /// Failed logins for one username from one IP before that pair is locked
    /// out (other IPs, the account's owner included, are not).
    pub login_per_account: u32,
    /// How long failures are remembered and the first lock's length; each
    /// further failure doubles the lock (at most 64 windows).
    pub login_window: Duration,
    /// The data dir: holds the books checkpoint key (`books-signing.key`).
    /// Without one (tests), a fresh key is made for this process.
    pub data_dir: Option<std::path::PathBuf>,
    /// How often pending notification deliveries are handed to the senders
    /// (SMS/WeChat are logged to `DATA_DIR/notifications.log`); `None`: never.
    pub notify_every: Option<Duration>,
    /// Serve the sandbox payment gateway (pays intents without money: the
    /// demo and tests only). Off by default: a real gateway's signed callback
    /// is then the only way a bill is paid online.
    pub sandbox_payments: bool,
    /// `/metrics` on the main listener answers only `Authorization: Bearer
    /// <this>`; without a token it answers 404 there.
    pub metrics_token: Option<String>,
    /// A separate listen address serving `/metrics` (no token), e.g. one
    /// reachable only from the monitoring network.
    pub metrics_listen: Option<String>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            secure_cookies: false,
            login_per_ip: 60,
            login_per_account: 10,
            login_window: Duration::from_secs(300),
            data_dir: None,
            notify_every: Some(Duration::from_secs(1)),
            sandbox_payments: false,
            metrics_token: None,
            metrics_listen: None,
        }
    }
}

pub struct Inner {
    pub db: Db,
    pub secure_cookies: bool,
    pub login_throttle: ratelimit::LoginThrottle,
    pub metrics: metrics::Metrics,
    /// Signs the books' checkpoints. Kept in a file, never in the database.
    pub books_key: ed25519_dalek::SigningKey,
    /// The sandbox payment gateway, when switched on (`Config::sandbox_payments`).
    pub sandbox_payments: bool,
    /// Keys the per-session CSRF tokens (derived from the books key).
    pub csrf_key: [u8; 32],
    pub metrics_token: Option<String>,
    /// Texts one-time codes and invitation links (`accounts::LoggedSms` by default).
    pub sms: Arc<dyn crate::accounts::Sms>,
}

pub type AppState = Arc<Inner>;
