//! A user's own notifications under `/api/v1/notifications` (nobody else's:
//! another user's notification answers 404), marking them read, and the
//! background dispatcher that hands pending deliveries to the senders.

use crate::problem::ApiError;
use crate::session::CurrentUser;
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use gongzhi_store::notify::{self, Sender};
use gongzhi_store::{db, Db};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Duration;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(read_all))
        .routes(routes!(read_one))
}

#[derive(Deserialize, IntoParams)]
pub struct ListQuery {
    /// Only unread ones.
    #[serde(default)]
    unread: bool,
    limit: Option<i64>,
}

/// The caller's notifications and how many are unread.
#[derive(Serialize, ToSchema)]
pub struct NotificationList {
    notifications: Vec<notify::NotificationView>,
    unread: i64,
}

/// How many notifications were marked read.
#[derive(Serialize, ToSchema)]
pub struct Marked {
    marked: u64,
}

/// The caller's notifications, newest first, with the unread count.
#[utoipa::path(get, path = "/api/v1/notifications", tag = "cases", params(ListQuery), responses((status = 200, description = "notifications", body = NotificationList)))]
async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<ListQuery>,
) -> Result<Json<NotificationList>, ApiError> {
    let (list, unread) =
        notify::list(&state.db, &user.user_id, q.unread, q.limit.unwrap_or(50)).await?;
    Ok(Json(NotificationList {
        notifications: list,
        unread,
    }))
}

/// Mark one of the caller's notifications read.
#[utoipa::path(post, path = "/api/v1/notifications/{id}/read", tag = "cases", params(("id" = String, Path, description = "notification id")),
    responses((status = 204, description = "read"), (status = 404, description = "not the caller's")))]
async fn read_one(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    notify::read(&state.db, &user.user_id, &id, db::now_ms()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Mark all of the caller's notifications read.
#[utoipa::path(post, path = "/api/v1/notifications/read-all", tag = "cases", responses((status = 200, description = "how many were unread", body = Marked)))]
async fn read_all(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Json<Marked>, ApiError> {
    let n = notify::read_all(&state.db, &user.user_id, db::now_ms()).await?;
    Ok(Json(Marked { marked: n }))
}

/// Runs the dispatcher every `every` until the process ends.
pub fn spawn_dispatcher(db: Db, senders: Vec<Arc<dyn Sender>>, every: Duration) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        loop {
            tick.tick().await;
            match notify::dispatch(&db, &senders, db::now_ms(), 500).await {
                Ok(r) if r.failed > 0 => tracing::warn!(?r, "notification deliveries failed"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "notification dispatch"),
            }
        }
    });
}
