//! The routes, one module per resource.

use axum::Router;
use axum::routing::{get, post};

use crate::state::AppState;

pub(crate) mod agents;
pub(crate) mod cluster;
pub(crate) mod console;
pub(crate) mod groups;
pub(crate) mod health;
pub(crate) mod messages;
pub(crate) mod metrics;
pub(crate) mod topics;
pub(crate) mod ws;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/health", get(health::health))
        .route("/live", get(health::live))
        .route("/ready", get(health::ready))
        .route("/metrics", get(metrics::prometheus))
        .route("/ws", get(ws::upgrade))
        .route("/api/v1/openapi.json", get(crate::openapi::document))
        .route("/api/v1/metrics", get(metrics::history))
        .route("/api/v1/cluster", get(cluster::overview))
        .route("/api/v1/topics", get(topics::list).post(topics::create))
        .route(
            "/api/v1/topics/{name}",
            get(topics::detail).delete(topics::delete),
        )
        .route("/api/v1/topics/{name}/partitions", get(topics::partitions))
        .route(
            "/api/v1/topics/{name}/configs",
            axum::routing::patch(topics::alter_configs),
        )
        .route(
            "/api/v1/topics/{name}/messages",
            get(messages::browse).post(messages::produce),
        )
        .route("/api/v1/consumer-groups", get(groups::list))
        .route(
            "/api/v1/consumer-groups/{id}",
            get(groups::detail).delete(groups::delete),
        )
        .route("/api/v1/consumer-groups/{id}/lag", get(groups::lag))
        .route("/api/v1/consumer-groups/{id}/reset", post(groups::reset))
        .route("/api/v1/consumer-groups/{id}/offsets", post(groups::commit))
        .route("/api/v1/agents", get(agents::list))
        .route("/api/v1/agents/{id}", get(agents::detail))
}

/// `?offset=&limit=` for lists that can be long.
#[derive(Debug, Clone, Copy, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct Page {
    /// Items to skip (default 0).
    #[serde(default)]
    pub(crate) offset: usize,
    /// Items to return, 1..=1000 (default 100).
    #[serde(default = "default_limit")]
    #[param(minimum = 1, maximum = 1000)]
    pub(crate) limit: usize,
}

fn default_limit() -> usize {
    100
}

/// A page of a list, and where the next one starts.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub(crate) struct Paged<T> {
    /// This page's items.
    pub(crate) items: Vec<T>,
    /// How many items there are in all.
    pub(crate) total: usize,
    /// `offset` of the next page, absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) next_offset: Option<usize>,
}

impl Page {
    pub(crate) fn apply<T>(self, all: Vec<T>) -> Result<Paged<T>, crate::ApiError> {
        if !(1..=1000).contains(&self.limit) {
            return Err(crate::ApiError::invalid(format!(
                "limit {} must be between 1 and 1000",
                self.limit
            )));
        }
        let total = all.len();
        let items: Vec<T> = all.into_iter().skip(self.offset).take(self.limit).collect();
        let end = self.offset.saturating_add(items.len());
        Ok(Paged {
            next_offset: (end < total).then_some(end),
            items,
            total,
        })
    }
}
