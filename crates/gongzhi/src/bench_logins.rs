//! `gongzhi bench logins`: the server's resident memory under password
//! checks. Starts `gongzhi serve` as a child process on a fresh SQLite file,
//! logs in `logins` times with `clients` concurrent clients, twice, and
//! reports the child's RSS (from /proc) before, after each round and at its
//! peak, with logins per second. Argon2id needs 19 MiB per check; the
//! server's bounded pool ([`gongzhi_store::password`]) keeps RSS flat.

use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const PASSWORD: &str = "bench password";

/// `VmRSS` / `VmHWM` of a process, in KiB.
fn proc_kib(pid: u32, field: &str) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| anyhow::anyhow!("no {field} in /proc/{pid}/status"))
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

async fn round(base: &str, logins: usize, clients: usize) -> anyhow::Result<(Duration, usize)> {
    let left = Arc::new(AtomicUsize::new(logins));
    let failed = Arc::new(AtomicUsize::new(0));
    let t = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (left, failed, base) = (left.clone(), failed.clone(), base.to_string());
        tasks.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            while left
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok()
            {
                let r = client
                    .post(format!("{base}/api/v1/auth/login"))
                    .json(&serde_json::json!({"username": "bench", "password": PASSWORD}))
                    .send()
                    .await;
                if !r.is_ok_and(|r| r.status().is_success()) {
                    failed.fetch_add(1, Ordering::SeqCst);
                }
            }
        }));
    }
    for t in tasks {
        t.await?;
    }
    Ok((t.elapsed(), failed.load(Ordering::SeqCst)))
}

pub async fn run(
    logins: usize,
    clients: usize,
    server: Option<std::path::PathBuf>,
) -> anyhow::Result<()> {
    anyhow::ensure!(
        logins > 0 && clients > 0,
        "logins and clients must be positive"
    );
    let dir = std::env::temp_dir().join(format!("gongzhi-bench-logins-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let exe = match server {
        Some(p) => p,
        None => std::env::current_exe()?,
    };
    let created = Command::new(&exe)
        .args([
            "admin",
            "create-user",
            "bench",
            "--password",
            PASSWORD,
            "--data-dir",
        ])
        .arg(&dir)
        .stdout(Stdio::null())
        .status()?;
    anyhow::ensure!(created.success(), "could not create the bench user");
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let base = format!("http://127.0.0.1:{port}");
    let child = Command::new(&exe)
        .args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--data-dir",
        ])
        .arg(&dir)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    let server = Server(child);
    let pid = server.0.id();
    let ready = Instant::now();
    while reqwest::get(format!("{base}/healthz")).await.is_err() {
        anyhow::ensure!(
            ready.elapsed() < Duration::from_secs(30),
            "the server did not start"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let start = proc_kib(pid, "VmRSS:")?;
    println!(
        "bench logins: {logins} logins per round, {clients} concurrent clients, server {} (pid {pid})",
        exe.display()
    );
    println!("server RSS at start: {:.1} MiB", mib(start));
    for r in 1..=2 {
        let (took, failed) = round(&base, logins, clients).await?;
        anyhow::ensure!(failed == 0, "{failed} logins failed in round {r}");
        let rss = proc_kib(pid, "VmRSS:")?;
        println!(
            "round {r}: {:.1} logins/s ({:.2} s); server RSS {:.1} MiB ({:+.1} MiB since start)",
            logins as f64 / took.as_secs_f64(),
            took.as_secs_f64(),
            mib(rss),
            mib(rss) - mib(start)
        );
    }
    println!(
        "server peak RSS (VmHWM): {:.1} MiB",
        mib(proc_kib(pid, "VmHWM:")?)
    );
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
