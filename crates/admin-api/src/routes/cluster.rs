//! The cluster at a glance, for the dashboard's cards.

use axum::Json;
use axum::extract::State;
use serde::Serialize;

use crate::error::ApiError;
use crate::state::AppState;

/// Counts across the cluster.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct Overview {
    topics: usize,
    partitions: usize,
    /// Agents that heartbeated within a lease TTL.
    live_agents: usize,
    agents: usize,
    /// Records stored (high watermark minus log start, over all partitions).
    records: i64,
    /// Bytes of record batches stored.
    bytes: i64,
    /// This agent's produce and consume rates over the last sample interval (0 before
    /// the first sample).
    produce_records_per_sec: f64,
    produce_bytes_per_sec: f64,
    consume_records_per_sec: f64,
    consume_bytes_per_sec: f64,
    /// Sum of every consumer group's lag at the last sample.
    total_lag: i64,
    consumer_groups: usize,
    /// The agent answering.
    agent_id: String,
    version: &'static str,
}

/// Topics, partitions, agents, records, bytes, groups, and the latest rates and lag.
#[utoipa::path(get, path = "/api/v1/cluster", operation_id = "get_cluster", tag = "cluster",
    responses((status = 200, body = Overview)))]
pub(crate) async fn overview(State(state): State<AppState>) -> Result<Json<Overview>, ApiError> {
    let engine = state.engine();
    let store = engine.metadata();
    let storage = |e| ApiError::from(streamhouse_engine::Error::from(e));
    let partitions = store.partitions(None).await.map_err(storage)?;
    let agents = store.list_agents().await.map_err(storage)?;
    let now = state.now_ms();
    let latest = state.inner.live.latest();
    let rate = |f: fn(&crate::live::Sample) -> f64| latest.as_ref().map_or(0.0, f);
    Ok(Json(Overview {
        bytes: crate::routes::topics::stored_bytes(&state, None)
            .await?
            .values()
            .sum(),
        produce_records_per_sec: rate(|s| s.produce_records_per_sec),
        produce_bytes_per_sec: rate(|s| s.produce_bytes_per_sec),
        consume_records_per_sec: rate(|s| s.consume_records_per_sec),
        consume_bytes_per_sec: rate(|s| s.consume_bytes_per_sec),
        total_lag: latest.as_ref().map_or(0, |s| s.total_lag),
        topics: engine.list_topics().await?.len(),
        records: partitions
            .iter()
            .map(|p| p.high_watermark - p.log_start_offset)
            .sum(),
        partitions: partitions.len(),
        live_agents: agents
            .iter()
            .filter(|a| a.is_live(now, state.inner.lease_ttl_ms))
            .count(),
        agents: agents.len(),
        consumer_groups: state.groups().all_groups().await?.len(),
        agent_id: engine.agent_id().to_owned(),
        version: env!("CARGO_PKG_VERSION"),
    }))
}
