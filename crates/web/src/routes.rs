//! The route table: every route the server answers, in one place. Each
//! feature folder (`register/`, `votes/`, `books/`, …) lists its own paths in
//! `api::router()` (JSON under `/api/v1`, documented in the OpenAPI document)
//! and `pages::router()` (HTML); this file merges them and adds the
//! infrastructure routes (health, metrics, the OpenAPI document, assets).

use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use gongzhi_store::Db;
use std::sync::Arc;
use std::time::Instant;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

use crate::state::{AppState, Config, Inner};
use crate::{
    accounts, api_docs, auth, books, calendar, cases, error_pages, guard, home, input, matters,
    meetings, menu, metrics, notify, open311, party, points, problem, ratelimit, register, votes,
};

/// Every JSON operation, by feature.
fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(register::api::router())
        .merge(auth::api::router())
        .merge(votes::api::router())
        .merge(books::api::router())
        .merge(matters::api::router())
        .merge(matters::deliberation_api::router())
        .merge(meetings::api::router())
        .merge(cases::api::router())
        .merge(cases::mediation_api::router())
        .merge(notify::api::router())
        .merge(open311::queue_api::router())
        .merge(calendar::api::router())
        .merge(party::api::router())
        .merge(accounts::api::router())
        .merge(points::api::router())
        .merge(points::wishes_api::router())
}

/// Every page, by feature (and Open311's GeoReport v2, which has its own
/// formats and is not part of the OpenAPI document).
fn pages() -> Router<AppState> {
    Router::new()
        .merge(home::pages::router())
        .merge(register::pages::router())
        .merge(votes::pages::router())
        .merge(books::pages::router())
        .merge(matters::pages::router())
        .merge(meetings::pages::router())
        .merge(cases::pages::router())
        .merge(notify::pages::router())
        .merge(party::pages::router())
        .merge(accounts::pages::router())
        .merge(points::pages::router())
        .merge(open311::api::router())
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Gongzhi API", description = "Residential-compound co-governance: register, access, and what is built on them. Errors are RFC 9457 problem+json."),
    tags((name = "auth"), (name = "register"), (name = "access"), (name = "public"), (name = "votes"), (name = "matters"), (name = "cases"), (name = "party"), (name = "points"))
)]
struct ApiDoc;

#[derive(rust_embed::RustEmbed)]
#[folder = "assets/"]
struct Assets;

/// The whole application: every route below, behind the layers every
/// request passes (input checks, metrics, error pages, the menu, the
/// same-site guard, problem+json, security headers, request ids, tracing).
pub fn app(db: Db, config: Config) -> Router {
    app_and_state(db, config).0
}

/// The router and its state (shared with the separate metrics listener).
pub(crate) fn app_and_state(db: Db, config: Config) -> (Router, AppState) {
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
        sms: Arc::new(crate::accounts::LoggedSms::new(
            config.data_dir.as_ref().map(|d| d.join("sms.log")),
        )),
    });
    let (api_router, openapi) = api().split_for_parts();
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
        .merge(pages())
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics_with_token))
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
pub(crate) fn metrics_app(state: AppState) -> Router {
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
    let allowed = match (&state.metrics_token, crate::session::bearer(&headers)) {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Every operation of the OpenAPI document describes the body of its
    /// success answer (a client can be generated from it): each 2xx answer
    /// but 204 has content with a schema.
    #[test]
    fn every_operation_documents_its_success_body() {
        let (_, doc) = api().split_for_parts();
        let doc = serde_json::to_value(&doc).unwrap();
        let mut missing = Vec::new();
        let mut operations = 0;
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                if !["get", "post", "put", "delete", "patch"].contains(&method.as_str()) {
                    continue;
                }
                operations += 1;
                let responses = op["responses"].as_object().unwrap();
                let success: Vec<_> = responses.keys().filter(|c| c.starts_with('2')).collect();
                let described = !success.is_empty()
                    && success.iter().all(|c| {
                        c.as_str() == "204"
                            || responses[c.as_str()]["content"]
                                .as_object()
                                .is_some_and(|m| m.values().all(|v| v.get("schema").is_some()))
                    });
                if !described {
                    missing.push(format!("{method} {path}"));
                }
            }
        }
        assert!(operations > 120, "{operations} operations");
        assert!(
            missing.is_empty(),
            "no success body documented: {missing:#?}"
        );
    }

    /// Pages and API handlers both call the store's commands (or their
    /// feature's shared functions in `mod.rs`), never each other: no page
    /// source names an `api` module.
    #[test]
    fn no_page_calls_an_api_handler() {
        let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut pages = 0;
        for feature in std::fs::read_dir(&src).unwrap() {
            let dir = feature.unwrap().path();
            if !dir.is_dir() {
                continue;
            }
            for file in std::fs::read_dir(&dir).unwrap() {
                let f = file.unwrap().path();
                let name = f.file_name().unwrap().to_string_lossy().to_string();
                if !name.ends_with("pages.rs") && !name.ends_with("_page.rs") {
                    continue;
                }
                pages += 1;
                let text = std::fs::read_to_string(&f).unwrap();
                for (n, line) in text.lines().enumerate() {
                    let code = line.split("//").next().unwrap_or("");
                    assert!(
                        !code.contains("api::") && !code.contains("_api::"),
                        "{}:{}: a page calls an API module: {line}",
                        f.display(),
                        n + 1
                    );
                }
            }
        }
        assert!(pages >= 10, "found {pages} page files");
    }
}
