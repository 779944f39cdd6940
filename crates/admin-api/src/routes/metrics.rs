//! `/metrics` for Prometheus, and `/api/v1/metrics`: the sampled history for dashboards.

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use serde::{Deserialize, Serialize};

use crate::extract::Params;
use crate::live::Sample;
use crate::state::AppState;

/// Every metric in the Prometheus text exposition format (0.0.4).
#[utoipa::path(get, path = "/metrics", operation_id = "prometheus_metrics", tag = "metrics", responses(
    (status = 200, description = "Prometheus text format", content_type = "text/plain", body = String)))]
pub(crate) async fn prometheus(State(state): State<AppState>) -> impl IntoResponse {
    let engine = state.engine();
    let metrics = engine.metrics();
    // Cheap gauges are brought up to date at scrape time; lag and group states come from
    // the sampler.
    metrics.agent.refresh_uptime();
    metrics
        .agent
        .set_partitions_led(engine.led_partitions().len());
    metrics
        .cache
        .set_size(engine.cached_bytes(), engine.cache_capacity_bytes());
    metrics.cache.set_tail_size(engine.tail_bytes());
    (
        [(header::CONTENT_TYPE, streamhouse_metrics::CONTENT_TYPE)],
        metrics.encode(),
    )
}

/// `?since_ms=`: only samples taken at or after this time.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct Since {
    /// Milliseconds since the epoch (default: the whole history).
    #[serde(default)]
    since_ms: i64,
}

/// The sampled history.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct History {
    /// Time between samples.
    interval_ms: u64,
    /// How far back samples are kept.
    history_ms: u64,
    /// Samples, oldest first.
    samples: Vec<Sample>,
}

/// Produce and consume rates, lag per group, live agents: one sample per
/// `http.metrics_interval` over the last `http.metrics_history` (default 5 s over 1 h).
#[utoipa::path(get, path = "/api/v1/metrics", operation_id = "get_metrics_history", tag = "metrics", params(Since),
    responses((status = 200, body = History)))]
pub(crate) async fn history(
    State(state): State<AppState>,
    Params(since): Params<Since>,
) -> Json<History> {
    let config = &state.inner.config;
    Json(History {
        interval_ms: config.metrics_interval.as_millis() as u64,
        history_ms: config.metrics_history.as_millis() as u64,
        samples: state.inner.live.history(since.since_ms),
    })
}
