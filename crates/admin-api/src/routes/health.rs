//! `/health` (the process answers), `/live` (same, for orchestrators), `/ready` (the
//! metadata store and the object store answer, and the agent is not draining).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;

use crate::state::AppState;

/// A health answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct Health {
    /// `ok`, or `unavailable` with the reasons.
    status: &'static str,
    /// Why the agent is not ready, if it is not.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    problems: Vec<String>,
}

/// The process is up.
#[utoipa::path(get, path = "/health", tag = "health", responses((status = 200, body = Health)))]
pub(crate) async fn health() -> Json<Health> {
    Json(Health {
        status: "ok",
        problems: Vec::new(),
    })
}

/// The process is up (liveness probe).
#[utoipa::path(get, path = "/live", tag = "health", responses((status = 200, body = Health)))]
pub(crate) async fn live() -> Json<Health> {
    health().await
}

/// Ready for traffic: the metadata store and the object store answer, and the agent is
/// not shutting down.
#[utoipa::path(get, path = "/ready", tag = "health", responses(
    (status = 200, body = Health), (status = 503, body = Health)))]
pub(crate) async fn ready(State(state): State<AppState>) -> (StatusCode, Json<Health>) {
    let mut problems = Vec::new();
    if state.is_draining() {
        problems.push("the agent is shutting down".to_owned());
    }
    if let Err(error) = state.engine().metadata().ping().await {
        problems.push(format!("metadata store: {error}"));
    }
    if let Err(error) = state
        .engine()
        .check_object_store(std::time::Duration::from_secs(5))
        .await
    {
        problems.push(format!("object store: {error}"));
    }
    if problems.is_empty() {
        (
            StatusCode::OK,
            Json(Health {
                status: "ok",
                problems,
            }),
        )
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(Health {
                status: "unavailable",
                problems,
            }),
        )
    }
}
