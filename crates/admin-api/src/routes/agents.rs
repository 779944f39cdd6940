//! Agents: address, liveness, uptime and the partitions each leads.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Path, State};
use serde::Serialize;
use streamhouse_metadata::AgentInfo;

use crate::error::ApiError;
use crate::state::AppState;

/// An agent.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct AgentView {
    agent_id: String,
    /// Kafka address it advertises.
    address: String,
    rack: Option<String>,
    /// `live` if it heartbeated within a lease TTL, else `dead`.
    status: &'static str,
    started_at_ms: i64,
    heartbeat_at_ms: i64,
    uptime_ms: i64,
    /// Partitions whose lease it holds.
    partitions: usize,
}

async fn views(state: &AppState) -> Result<Vec<AgentView>, ApiError> {
    let store = state.engine().metadata();
    let agents: Vec<AgentInfo> = store
        .list_agents()
        .await
        .map_err(streamhouse_engine::Error::from)?;
    let now = state.now_ms();
    let mut led: HashMap<String, usize> = HashMap::new();
    for p in store
        .partitions(None)
        .await
        .map_err(streamhouse_engine::Error::from)?
    {
        if let Some(leader) = p.leader
            && p.lease_expires_at_ms > now
        {
            *led.entry(leader).or_default() += 1;
        }
    }
    Ok(agents
        .into_iter()
        .map(|a| {
            let live = a.is_live(now, state.inner.lease_ttl_ms);
            AgentView {
                partitions: led.get(&a.id).copied().unwrap_or(0),
                status: if live { "live" } else { "dead" },
                uptime_ms: if live { now - a.started_at_ms } else { 0 },
                agent_id: a.id,
                address: a.advertised_addr,
                rack: a.rack,
                started_at_ms: a.started_at_ms,
                heartbeat_at_ms: a.heartbeat_at_ms,
            }
        })
        .collect())
}

/// Lists agents.
#[utoipa::path(get, path = "/api/v1/agents", operation_id = "list_agents", tag = "agents",
    responses((status = 200, body = Vec<AgentView>)))]
pub(crate) async fn list(State(state): State<AppState>) -> Result<Json<Vec<AgentView>>, ApiError> {
    Ok(Json(views(&state).await?))
}

/// One agent.
#[utoipa::path(get, path = "/api/v1/agents/{id}", operation_id = "get_agent", tag = "agents",
    params(("id" = String, Path, description = "Agent id")),
    responses((status = 200, body = AgentView), (status = 404, body = crate::ErrorBody)))]
pub(crate) async fn detail(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<AgentView>, ApiError> {
    views(&state)
        .await?
        .into_iter()
        .find(|a| a.agent_id == id)
        .map(Json)
        .ok_or_else(|| {
            ApiError::new(
                axum::http::StatusCode::NOT_FOUND,
                "unknown_agent",
                format!("no agent {id:?}"),
            )
        })
}
