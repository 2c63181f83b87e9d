//! Gongzhi's HTTP face: the JSON API under `/api/v1` (OpenAPI 3.1 at
//! `/api/openapi.json`), server-rendered pages, health and metrics.
//!
//! Infrastructure sits at the top (`state`, `routes`, `access`, `guard`,
//! `problem`, `session`, `i18n`, `menu`, …); each capability is a feature
//! folder with `api.rs` (JSON) and `pages.rs` (HTML), both calling the
//! store's commands.

pub mod access;
pub mod accounts;
pub mod api_docs;
pub mod auth;
pub mod books;
pub mod calendar;
pub mod cases;
pub mod error_pages;
pub mod guard;
pub mod home;
pub mod i18n;
pub mod input;
pub mod matters;
pub mod meetings;
pub mod menu;
pub mod metrics;
pub mod notify;
pub mod open311;
pub mod page;
pub mod party;
pub mod points;
pub mod problem;
pub mod ratelimit;
pub mod register;
pub mod routes;
pub mod session;
pub mod state;
pub mod votes;

use gongzhi_store::Db;
use std::net::SocketAddr;

pub use routes::app;
pub use state::{AppState, Config, Inner};

/// Binds and serves until the process is told to stop.
pub async fn serve(db: Db, listen: &str, config: Config) -> anyhow::Result<()> {
    let listener = bind(listen).await?;
    let metrics = match &config.metrics_listen {
        Some(addr) => Some(bind(addr).await?),
        None => None,
    };
    serve_with_metrics(db, listener, metrics, config).await
}

async fn bind(listen: &str) -> anyhow::Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {listen}: {e}"))
}

pub async fn serve_on(
    db: Db,
    listener: tokio::net::TcpListener,
    config: Config,
) -> anyhow::Result<()> {
    serve_with_metrics(db, listener, None, config).await
}

/// Serves on `listener`, and `/metrics` alone on `metrics` if given.
pub async fn serve_with_metrics(
    db: Db,
    listener: tokio::net::TcpListener,
    metrics: Option<tokio::net::TcpListener>,
    config: Config,
) -> anyhow::Result<()> {
    // the working calendar: built-in years and DATA_DIR/calendars/*.txt
    let years =
        calendar::load(config.data_dir.as_deref()).map_err(|e| anyhow::anyhow!("calendar {e}"))?;
    calendar::install(years);
    if let Some(every) = config.notify_every {
        let log = config
            .data_dir
            .as_ref()
            .map(|d| d.join("notifications.log"));
        notify::api::spawn_dispatcher(
            db.clone(),
            gongzhi_store::notify::default_senders(log),
            every,
        );
    }
    let (app, state) = routes::app_and_state(db, config);
    if let Some(m) = metrics {
        let router = routes::metrics_app(state);
        tokio::spawn(async move {
            if let Err(e) = axum::serve(m, router).await {
                tracing::error!(error = %e, "metrics listener stopped");
            }
        });
    }
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await?;
    Ok(())
}
