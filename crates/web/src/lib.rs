//! Gongzhi's HTTP face: the JSON API under `/api/v1` (OpenAPI 3.1 at
//! `/api/openapi.json`), server-rendered pages, health and metrics.

pub mod access;
pub mod api;
pub mod api_docs;
pub mod auth_api;
pub mod cases_api;
pub mod cases_pages;
pub mod deliberation_api;
pub mod error_pages;
pub mod fund_api;
pub mod fund_pages;
pub mod guard;
pub mod home_page;
pub mod i18n;
pub mod input;
pub mod matters_api;
pub mod matters_pages;
pub mod mediation_api;
pub mod meetings_api;
pub mod meetings_pages;
pub mod menu;
pub mod metrics;
pub mod notify_api;
pub mod notify_pages;
pub mod open311;
pub mod open311_queue_api;
pub mod pages;
pub mod problem;
pub mod ratelimit;
pub mod session;
pub mod votes_api;
pub mod votes_board_page;
pub mod votes_pages;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use gongzhi_store::Db;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;

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
}

pub type AppState = Arc<Inner>;

#[derive(OpenApi)]
#[openapi(
    info(title = "Gongzhi API", description = "Residential-compound co-governance: register, access, and what is built on them. Errors are RFC 9457 problem+json."),
    tags((name = "auth"), (name = "register"), (name = "access"), (name = "public"), (name = "votes"), (name = "matters"), (name = "cases"))
)]
struct ApiDoc;

#[derive(rust_embed::RustEmbed)]
#[folder = "assets/"]
struct Assets;

pub fn app(db: Db, config: Config) -> Router {
    app_and_state(db, config).0
}

/// The router and its state (shared with the separate metrics listener).
fn app_and_state(db: Db, config: Config) -> (Router, AppState) {
    let books_key = match &config.data_dir {
        Some(dir) => gongzhi_store::tlog::load_or_create_key(dir)
            .unwrap_or_else(|e| panic!("books checkpoint key: {e}")),
        None => ed25519_dalek::SigningKey::generate(&mut rand::rngs::OsRng),
    };
    let state: AppState = Arc::new(Inner {
        db,
        secure_cookies: config.secure_cookies,
        login_throttle: ratelimit::LoginThrottle::new(
            config.login_per_ip,
            config.login_per_account,
            config.login_window,
        ),
        metrics: metrics::Metrics::default(),
        csrf_key: guard::key_from(&books_key.to_bytes()),
        books_key,
        sandbox_payments: config.sandbox_payments,
        metrics_token: config.metrics_token.filter(|t| !t.is_empty()),
    });
    let (api_router, openapi) = utoipa_axum::router::OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(api::router())
        .merge(cases_api::router())
        .split_for_parts();
    let docs_json =
        Arc::new(serde_json::to_value(&openapi).expect("the OpenAPI document serialises"));
    let openapi = Arc::new(openapi);
    let router = Router::new()
        .merge(api_router)
        .route("/api/openapi.json", get(move || {
            let doc = openapi.clone();
            async move { Json(doc.as_ref().clone()) }
        }))
        .route("/api/docs", get(move |q, h| api_docs::handler(docs_json.clone(), q, h)))
        .route("/api/v1/{*rest}", get(api_not_found).post(api_not_found))
        .merge(open311::router())
        .merge(cases_pages::router())
        .merge(notify_pages::router())
        .route("/votes/{id}/board", get(votes_board_page::board))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics_with_token))
        .route("/", get(home_page::home))
        .route("/login", get(pages::login_form).post(pages::login_submit))
        .route("/logout", post(pages::logout))
        .route("/places/{id}", get(pages::place))
        .route("/owners/{id}", get(pages::owner))
        .route("/votes", get(votes_pages::my_votes))
        .route("/votes/{id}", get(votes_pages::vote_page))
        .route("/votes/{id}/ballot", post(votes_pages::cast))
        .merge(fund_pages::routes())
        .merge(matters_pages::router())
        .merge(meetings_pages::router())
        .merge(fund_pages::queue_routes())
        .route("/assets/{*file}", get(asset))
        .layer(middleware::from_fn(input::refuse_controls))
        .layer(middleware::from_fn_with_state(state.clone(), observe))
        .layer(middleware::from_fn(error_pages::html_errors))
        .layer(middleware::from_fn_with_state(state.clone(), menu::layer))
        .layer(middleware::from_fn_with_state(state.clone(), guard::guard))
        .layer(middleware::from_fn(guard::api_problems))
        .layer(middleware::from_fn(guard::security_headers))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request| {
            let rid = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-");
            tracing::info_span!("request", method = %req.method(), uri = %req.uri(), request_id = %rid)
        }))
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .with_state(state.clone());
    (router, state)
}

/// The router of the separate metrics listener: `/metrics` only.
fn metrics_app(state: AppState) -> Router {
    Router::new()
        .route("/metrics", get(metrics_text))
        .with_state(state)
}

async fn api_not_found() -> problem::ApiError {
    problem::ApiError::not_found("no such endpoint under /api/v1")
}

async fn readyz(State(state): State<AppState>) -> Response {
    if state.db.ping().await {
        (StatusCode::OK, "ready").into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "database unreachable").into_response()
    }
}

/// `/metrics` on the main listener: only with the metrics token.
async fn metrics_with_token(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
) -> Response {
    let allowed = match (&state.metrics_token, guard::bearer(&headers)) {
        (Some(want), Some(got)) => guard::same_secret(want, got),
        _ => false,
    };
    if !allowed {
        return (StatusCode::NOT_FOUND, "not found").into_response();
    }
    metrics_text(State(state)).await
}

async fn metrics_text(State(state): State<AppState>) -> Response {
    let up = state.db.ping().await;
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(up),
    )
        .into_response()
}

async fn asset(axum::extract::Path(file): axum::extract::Path<String>) -> Response {
    match Assets::get(&file) {
        Some(f) => {
            let ct = if file.ends_with(".css") {
                "text/css"
            } else if file.ends_with(".js") {
                "text/javascript"
            } else {
                "application/octet-stream"
            };
            (
                [
                    (header::CONTENT_TYPE, HeaderValue::from_static(ct)),
                    (
                        header::CACHE_CONTROL,
                        HeaderValue::from_static("public, max-age=3600"),
                    ),
                ],
                f.data.into_owned(),
            )
                .into_response()
        }
        None => (StatusCode::NOT_FOUND, "no such asset").into_response(),
    }
}

async fn observe(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = req.method().to_string();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let resp = next.run(req).await;
    state.metrics.observe(
        &method,
        &route,
        resp.status().as_u16(),
        start.elapsed().as_secs_f64(),
    );
    resp
}

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
    if let Some(every) = config.notify_every {
        let log = config
            .data_dir
            .as_ref()
            .map(|d| d.join("notifications.log"));
        notify_api::spawn_dispatcher(
            db.clone(),
            gongzhi_store::notify::default_senders(log),
            every,
        );
    }
    let (app, state) = app_and_state(db, config);
    if let Some(m) = metrics {
        let router = metrics_app(state);
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
