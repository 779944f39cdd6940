//! The StreamHouse HTTP surface.
//!
//! Layer: beside `kafka-server`, above `groups` and `engine`; nothing imports it but the
//! binary. One axum router serves the REST admin API under `/api/v1` (cluster, topics,
//! partitions, messages, consumer groups, agents, sampled metrics history), the health
//! checks `/health`, `/live` and `/ready`, Prometheus `/metrics`, live events on the
//! WebSocket `/ws`, and the OpenAPI 3 document at `/api/v1/openapi.json`, generated from
//! the handlers with utoipa, and the web console (built from `console/`, embedded with
//! feature `console`) at `/` for every other GET. Every error has one JSON shape,
//! [`ErrorBody`]. Every routed
//! request gets a request id (`x-request-id`) and a tracing span.
#![warn(missing_docs)]

mod error;
mod extract;
mod live;
mod openapi;
mod request_log;
mod routes;
mod state;

use std::net::SocketAddr;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

pub use error::{ApiError, ErrorBody};
pub use openapi::ApiDoc;
pub use request_log::REQUEST_ID;
pub use state::AppState;

/// The whole HTTP surface as a router (also usable in tests without a socket).
pub fn router(state: AppState) -> Router {
    let limit = state.inner.config.max_body_bytes.as_u64() as usize;
    routes::routes()
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            request_log::track,
        ))
        .fallback(routes::console::fallback)
        .layer(DefaultBodyLimit::max(limit))
        .with_state(state)
}

/// A bound HTTP listener. Bind first (so a port in use is reported at start-up), then
/// [`HttpServer::run`].
#[derive(Debug)]
pub struct HttpServer {
    listener: TcpListener,
}

impl HttpServer {
    /// Binds `listen` (`host:port`; port 0 picks a free one).
    pub async fn bind(listen: &str) -> std::io::Result<Self> {
        Ok(Self {
            listener: TcpListener::bind(listen).await?,
        })
    }

    /// The bound address.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves, and samples live metrics, until `shutdown` is cancelled; then lets
    /// in-flight requests finish.
    pub async fn run(self, state: AppState, shutdown: CancellationToken) -> std::io::Result<()> {
        let sampler = tokio::spawn(live::run_sampler(state.clone(), shutdown.clone()));
        // Upgraded WebSockets are not tracked by graceful shutdown: close them too.
        let closing = state.inner.closing.clone();
        let served = axum::serve(self.listener, router(state))
            .with_graceful_shutdown(async move {
                shutdown.cancelled().await;
                closing.cancel();
            })
            .await;
        sampler.abort();
        served
    }
}
