//! Accounts for real people: sign-up by phone verified against the register,
//! household claims and the community's queue, invitations to a role,
//! password recovery, and user administration below a place. Store commands:
//! `gongzhi_store::accounts`; rules: `gongzhi_domain::accounts`.

pub mod api;
pub mod pages;

use std::io::Write as _;
use std::path::PathBuf;
use std::sync::Mutex;

/// A way of texting a phone. The default writes each message as a JSON line
/// to `DATA_DIR/sms.log` (or the process log without a data dir): no
/// network. A real gateway implements the same trait.
pub trait Sms: Send + Sync {
    fn send(&self, phone: &str, text: &str) -> Result<(), String>;
}

/// SMS without a gateway: one JSON line per message.
pub struct LoggedSms {
    file: Option<PathBuf>,
    lock: Mutex<()>,
}

impl LoggedSms {
    pub fn new(file: Option<PathBuf>) -> Self {
        LoggedSms {
            file,
            lock: Mutex::new(()),
        }
    }
}

impl Sms for LoggedSms {
    fn send(&self, phone: &str, text: &str) -> Result<(), String> {
        let line = serde_json::json!({
            "channel": "sms",
            "to": phone,
            "text": text,
            "at": gongzhi_store::db::now_ms(),
        })
        .to_string();
        match &self.file {
            Some(path) => {
                let _g = self.lock.lock().map_err(|e| e.to_string())?;
                let mut f = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .map_err(|e| format!("{}: {e}", path.display()))?;
                writeln!(f, "{line}").map_err(|e| e.to_string())
            }
            None => {
                tracing::info!(target: "gongzhi::sms", "{line}");
                Ok(())
            }
        }
    }
}

/// The text of a one-time code.
pub fn code_text(code: &str) -> String {
    format!("【共治】验证码 {code}，10 分钟内有效，请勿告诉他人。Gongzhi code {code}, valid 10 minutes.")
}
