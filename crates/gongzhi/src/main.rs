//! `gongzhi`: the server and the command line of the co-governance platform.

mod audit_vote;
mod bench;
mod bench_cases;
mod bench_election;
mod bench_logins;
mod bench_party;
mod bench_points;
mod bench_votes;
mod books_bench;
mod books_cli;
mod demo;
mod demo_books;
mod demo_cases;
mod demo_matters;
mod demo_party;
mod demo_points;
mod demo_questions;
mod demo_votes;
mod party_cli;
mod roster_cli;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use gongzhi_store::{auth, db, Db};
use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "gongzhi",
    version,
    about = "Gongzhi 共治: residential-compound co-governance"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Where the data lives; the same for every command that touches data.
#[derive(Args, Clone)]
struct Storage {
    /// sqlite://PATH or postgres://USER@HOST/DB. Default: the SQLite file
    /// gongzhi.db in the data dir.
    #[arg(long, env = "GONGZHI_DATABASE_URL")]
    database_url: Option<String>,
    /// Directory for the default SQLite database and other local files.
    #[arg(long, env = "GONGZHI_DATA_DIR", default_value = "data")]
    data_dir: PathBuf,
}

impl Storage {
    fn url(&self) -> String {
        db::resolve_url(self.database_url.as_deref(), &self.data_dir)
    }
    async fn open(&self) -> anyhow::Result<Db> {
        let url = self.url();
        Db::connect(&url).await.map_err(|e| anyhow::anyhow!("{e}"))
    }
}

#[derive(Subcommand)]
enum Command {
    /// Run the web server (JSON API, pages, metrics).
    Serve {
        #[command(flatten)]
        storage: Storage,
        #[arg(long, env = "GONGZHI_LISTEN", default_value = "127.0.0.1:8080")]
        listen: String,
        /// Mark session cookies Secure (when served over HTTPS). They are
        /// Secure anyway on a request that came over HTTPS or through a proxy
        /// saying so (X-Forwarded-Proto / Forwarded: proto=https).
        #[arg(long)]
        secure_cookies: bool,
        /// Serve the sandbox payment gateway, which marks bills paid without
        /// money: for trials only, never for a real compound.
        #[arg(long)]
        sandbox_payments: bool,
        /// Serve /metrics (no token) on this separate address, e.g. one only
        /// the monitoring network reaches.
        #[arg(long, env = "GONGZHI_METRICS_LISTEN")]
        metrics_listen: Option<String>,
        /// Serve /metrics on the main listener to `Authorization: Bearer
        /// TOKEN` only. Without it (or --metrics-listen), /metrics answers 404.
        #[arg(long, env = "GONGZHI_METRICS_TOKEN", hide_env_values = true)]
        metrics_token: Option<String>,
    },
    /// Run the server on a fresh SQLite database loaded with the demo city.
    Demo {
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: String,
        /// Where to put the demo database; a new temporary directory if omitted.
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// Load the demo data and exit without serving.
        #[arg(long)]
        load_only: bool,
    },
    /// Import data.
    #[command(subcommand)]
    Import(ImportCmd),
    /// Administration.
    #[command(subcommand)]
    Admin(AdminCmd),
    /// Independent checks of published records.
    #[command(subcommand)]
    Audit(AuditCmd),
    /// Benchmarks (figures for BENCHMARKS.md).
    #[command(subcommand)]
    Bench(BenchCmd),
    /// Verify a compound's public books: signed checkpoint, every entry's
    /// leaf, the root, every balance; with --state, consistency with the last
    /// verified checkpoint. Exit 0 when whole; 1 naming the first failure.
    Verify {
        /// The server, e.g. https://gongzhi.example
        #[arg(long)]
        from: String,
        /// The compound's code, e.g. jingcheng-mingdian
        #[arg(long)]
        compound: String,
        /// The pinned checkpoint verifier key (name+hash+base64).
        #[arg(long)]
        key: Option<String>,
        /// Remember the last verified checkpoint (and key) in this file.
        #[arg(long)]
        state: Option<PathBuf>,
    },
    /// Export data.
    #[command(subcommand)]
    Export(ExportCmd),
}

#[derive(Subcommand)]
enum ExportCmd {
    /// A compound's public books as an hledger or beancount journal, or CSV.
    Books {
        #[arg(long)]
        from: String,
        #[arg(long)]
        compound: String,
        #[arg(long, value_enum)]
        format: books_cli::Format,
        /// Write here instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum BenchCmd {
    /// The books: transfers/s with the Merkle log, verify of the log, and the
    /// verifier's work on a large log in memory.
    Books {
        #[arg(long, default_value_t = 5_000)]
        transfers: usize,
        #[arg(long, default_value_t = 8)]
        concurrency: usize,
        #[arg(long, default_value_t = 1_000_000)]
        leaves: usize,
        /// Parts of the compound billed in the billing-run measurement.
        #[arg(long, default_value_t = 10_000)]
        parts: usize,
        #[command(flatten)]
        storage: Storage,
    },
    /// Generate a synthetic roster and import it (validation + one transaction).
    Import {
        #[arg(long, default_value_t = 1_000_000)]
        rows: usize,
        #[command(flatten)]
        storage: Storage,
    },
    /// Cases: raised per second through the API, queue latency with many cases, the escalation sweep.
    Cases {
        /// Cases bulk-loaded before the queue and sweep measurements.
        #[arg(long, default_value_t = 1_000_000)]
        bulk: usize,
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        #[arg(long, default_value_t = 8)]
        concurrency: usize,
        #[command(flatten)]
        storage: Storage,
    },
    /// API read throughput on loopback against a 10,000-part SQLite register.
    Api {
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        #[arg(long, default_value_t = 16)]
        concurrency: usize,
    },
    /// Points: awards/s through the store command, the HTTP API and a batch;
    /// racing redemptions for the last 3 items.
    Points {
        #[arg(long, default_value_t = 2_000)]
        awards: usize,
        #[arg(long, default_value_t = 8)]
        clients: usize,
        /// People in the batch (an activity's confirmed hours).
        #[arg(long, default_value_t = 1_000)]
        batch: usize,
        #[arg(long, default_value_t = 100)]
        racers: usize,
        #[command(flatten)]
        storage: Storage,
    },
    /// Party members: importing N (one per flat of a street of 100 compounds), re-importing,
    /// and the street's party-stats (p50/p99).
    Party {
        #[arg(long, default_value_t = 100_000)]
        members: usize,
        /// Times the street's figures are computed.
        #[arg(long, default_value_t = 50)]
        repeats: usize,
        #[command(flatten)]
        storage: Storage,
    },
    /// Logins: the server's resident memory (RSS of a `gongzhi serve` child) and logins/s
    /// under N password logins from C concurrent clients, twice.
    Logins {
        #[arg(long, default_value_t = 1_000)]
        logins: usize,
        #[arg(long, default_value_t = 16)]
        clients: usize,
        /// Run this `gongzhi` binary as the server instead of this one (to compare builds side by side).
        #[arg(long)]
        server: Option<PathBuf>,
    },
    /// Votes: domain tally of N ballots; freezing, casting and closing on a 10,000-part register;
    /// ballots through the HTTP API; closing (tallying from the database) a vote of N ballots.
    Votes {
        #[arg(long, default_value_t = 1_000_000)]
        ballots: usize,
        /// Database for the store part (default: a fresh SQLite file).
        #[arg(long)]
        database_url: Option<String>,
        /// Seconds of casting through the HTTP API.
        #[arg(long, default_value_t = 10)]
        http_seconds: u64,
        /// Concurrent HTTP clients.
        #[arg(long, default_value_t = 16)]
        clients: usize,
    },
    /// An owners' committee election (gongzhi.vote/2) in the domain: tallying N ballots choosing
    /// up to `seats` of `candidates`; writing and re-auditing its published record.
    Election {
        #[arg(long, default_value_t = 1_000_000)]
        ballots: usize,
        #[arg(long, default_value_t = 15)]
        candidates: usize,
        #[arg(long, default_value_t = 9)]
        seats: usize,
    },
}

#[derive(Subcommand)]
enum ImportCmd {
    /// Import a roster CSV (district,street,community,compound,building,unit,number,kind,area_m2,area_basis,owner_key,owner_name,phone).
    Roster {
        file: PathBuf,
        /// Validate and report what would change; write nothing.
        #[arg(long)]
        dry_run: bool,
        #[command(flatten)]
        storage: Storage,
    },
    /// Import party members (compound,building,unit,number,name,phone,status,employer,joined_on).
    PartyMembers {
        file: PathBuf,
        /// Validate and report what would change; write nothing.
        #[arg(long)]
        dry_run: bool,
        #[command(flatten)]
        storage: Storage,
    },
}

#[derive(Subcommand)]
enum AdminCmd {
    /// Create a user. The password is read from standard input (first line).
    CreateUser {
        username: String,
        /// Make the user an administrator over everything.
        #[arg(long)]
        admin: bool,
        /// Take the password from this argument instead of standard input.
        #[arg(long)]
        password: Option<String>,
        #[command(flatten)]
        storage: Storage,
    },
    /// Revoke every API token and session of a user (audited); prints how many.
    RevokeTokens {
        username: String,
        #[command(flatten)]
        storage: Storage,
    },
}

#[derive(Subcommand)]
enum AuditCmd {
    /// Recompute a published vote record (format gongzhi.vote/1).
    Vote {
        file: PathBuf,
        /// Print one JSON object with the counts and outcomes.
        #[arg(long)]
        json: bool,
    },
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("GONGZHI_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    let json = std::env::var("GONGZHI_LOG_FORMAT")
        .map(|v| v == "json")
        .unwrap_or(false);
    let b = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if json {
        b.json().init();
    } else {
        b.init();
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Command::Audit(AuditCmd::Vote { file, json }) = &cli.command {
        return ExitCode::from(audit_vote::run(file, *json) as u8);
    }
    init_tracing();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    match rt.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Serve {
            storage,
            listen,
            secure_cookies,
            sandbox_payments,
            metrics_listen,
            metrics_token,
        } => {
            if sandbox_payments {
                eprintln!("gongzhi: WARNING: the sandbox payment gateway is on: bills can be marked paid without money (trials only)");
            }
            let db = storage.open().await?;
            tracing::info!(database = db.display_url(), %listen, "gongzhi serving");
            eprintln!("gongzhi: serving http://{listen}/ on {}", db.display_url());
            gongzhi_web::serve(
                db,
                &listen,
                gongzhi_web::Config {
                    secure_cookies,
                    sandbox_payments,
                    data_dir: Some(storage.data_dir.clone()),
                    metrics_listen,
                    metrics_token,
                    ..Default::default()
                },
            )
            .await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Demo {
            listen,
            data_dir,
            load_only,
        } => {
            let dir = match data_dir {
                Some(d) => d,
                None => std::env::temp_dir().join(format!("gongzhi-demo-{}", std::process::id())),
            };
            std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
            let path = dir.join(db::DEFAULT_DB_FILE);
            if path.exists() {
                anyhow::bail!("{} already exists: the demo starts on a fresh database; pick another --data-dir", path.display());
            }
            let db = Db::connect(&format!("sqlite://{}", path.display()))
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            let summary = demo::load(&db).await?;
            let cases = demo_cases::load(&db).await?;
            println!("Gongzhi demo city loaded into {}", path.display());
            println!("{summary}");
            println!("Cases: {cases}");
            if load_only {
                return Ok(ExitCode::SUCCESS);
            }
            println!("Open http://{listen}/  (Ctrl-C to stop)");
            gongzhi_web::serve(
                db,
                &listen,
                gongzhi_web::Config {
                    data_dir: Some(dir.clone()),
                    // the demo's residents try paying their bills online
                    sandbox_payments: true,
                    ..Default::default()
                },
            )
            .await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Import(ImportCmd::Roster {
            file,
            dry_run,
            storage,
        }) => roster_cli::run(&file, dry_run, &storage.url()).await,
        Command::Import(ImportCmd::PartyMembers {
            file,
            dry_run,
            storage,
        }) => party_cli::run(&file, dry_run, &storage.url()).await,
        Command::Admin(AdminCmd::CreateUser {
            username,
            admin,
            password,
            storage,
        }) => {
            let password = match password {
                Some(p) => p,
                None => {
                    let mut s = String::new();
                    std::io::stdin()
                        .read_to_string(&mut s)
                        .context("reading the password from standard input")?;
                    s.lines().next().unwrap_or("").to_string()
                }
            };
            auth::validate_username(&username).map_err(|e| anyhow::anyhow!("{e}"))?;
            auth::validate_password(&password).map_err(|e| anyhow::anyhow!("{e}"))?;
            let db = storage.open().await?;
            let hash = tokio::task::spawn_blocking(move || auth::hash_password(&password))
                .await?
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            let id = db
                .write(move |tx| {
                    let (username, hash) = (username.clone(), hash.clone());
                    Box::pin(async move {
                        let id = auth::create_user(tx, "cli", &username, &hash, None).await?;
                        if admin {
                            auth::add_grant(
                                tx,
                                "cli",
                                &id,
                                gongzhi_domain::policy::Role::Admin,
                                None,
                                None,
                            )
                            .await?;
                        }
                        Ok(id)
                    })
                })
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!(
                "created user {id}{}",
                if admin { " (administrator)" } else { "" }
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Admin(AdminCmd::RevokeTokens { username, storage }) => {
            let db = storage.open().await?;
            let uid = auth::user_id_by_name(&db, &username)
                .await
                .map_err(|_| anyhow::anyhow!("no user '{username}'"))?;
            let r = db
                .write(move |tx| {
                    let uid = uid.clone();
                    Box::pin(async move { auth::revoke_all(tx, "cli", &uid, "admin").await })
                })
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!(
                "revoked {} API token(s) and {} session(s) of {username}",
                r.tokens, r.sessions
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench(BenchCmd::Logins {
            logins,
            clients,
            server,
        }) => {
            bench_logins::run(logins, clients, server).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench(BenchCmd::Party {
            members,
            repeats,
            storage,
        }) => {
            bench_party::run(members, &storage.url(), repeats).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench(BenchCmd::Points {
            awards,
            clients,
            batch,
            racers,
            storage,
        }) => {
            bench_points::run(&storage.url(), awards, clients, batch, racers).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench(BenchCmd::Import { rows, storage }) => {
            bench::import(rows, &storage.url()).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench(BenchCmd::Cases {
            bulk,
            seconds,
            concurrency,
            storage,
        }) => {
            bench_cases::run(&storage.url(), bulk, seconds, concurrency).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench(BenchCmd::Api {
            seconds,
            concurrency,
        }) => {
            bench::api(seconds, concurrency).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench(BenchCmd::Books {
            transfers,
            concurrency,
            leaves,
            parts,
            storage,
        }) => {
            books_bench::run(transfers, concurrency, &storage.url(), leaves).await?;
            books_bench::billing(&storage.url(), parts).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Verify {
            from,
            compound,
            key,
            state,
        } => books_cli::verify(&from, &compound, key.as_deref(), state.as_deref()).await,
        Command::Export(ExportCmd::Books {
            from,
            compound,
            format,
            out,
        }) => books_cli::export(&from, &compound, format, out.as_deref()).await,
        Command::Bench(BenchCmd::Votes {
            ballots,
            database_url,
            http_seconds,
            clients,
        }) => {
            bench_votes::run(ballots, database_url, http_seconds, clients).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench(BenchCmd::Election {
            ballots,
            candidates,
            seats,
        }) => {
            bench_election::run(ballots, candidates, seats)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Audit(_) => unreachable!("handled before the runtime starts"),
    }
}
