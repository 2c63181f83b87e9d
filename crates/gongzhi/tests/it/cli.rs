//! The `gongzhi` binary as the tests run it: the demo city into a data
//! directory, and `gongzhi audit vote` over a published record.

use gongzhi_store::Db;
use serde_json::Value;
use std::path::Path;
use std::process::Output;

/// `gongzhi demo --load-only --data-dir DIR` (logging warnings only, no
/// database URL from the environment).
pub async fn demo(dir: &Path) -> Output {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_gongzhi"))
        .arg("demo")
        .arg("--load-only")
        .arg("--data-dir")
        .arg(dir)
        .env("GONGZHI_LOG", "warn")
        .env_remove("GONGZHI_DATABASE_URL")
        .output()
        .await
        .expect("run the gongzhi binary")
}

/// [`demo`], which must succeed; its standard output.
pub async fn demo_ok(dir: &Path) -> String {
    let out = demo(dir).await;
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// The demo's database in `dir`.
pub async fn demo_db(dir: &Path) -> Db {
    Db::connect(&format!("sqlite://{}", dir.join("gongzhi.db").display()))
        .await
        .unwrap()
}

/// `gongzhi audit vote FILE --json`.
pub async fn audit_vote(file: &Path) -> Output {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_gongzhi"))
        .args(["audit", "vote"])
        .arg(file)
        .arg("--json")
        .output()
        .await
        .unwrap()
}

/// [`audit_vote`], which must succeed; its JSON report.
pub async fn audit_vote_ok(file: &Path) -> Value {
    let out = audit_vote(file).await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}
