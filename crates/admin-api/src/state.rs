//! What every handler can reach.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use streamhouse_config::HttpConfig;
use streamhouse_engine::Engine;
use streamhouse_groups::GroupCoordinator;
use streamhouse_types::TimestampMs;
use tokio_util::sync::CancellationToken;

use crate::live::Live;

/// Shared state of the HTTP surface. Cheap to clone.
#[derive(Debug, Clone)]
pub struct AppState {
    pub(crate) inner: Arc<Inner>,
}

#[derive(Debug)]
pub(crate) struct Inner {
    pub(crate) engine: Engine,
    pub(crate) groups: GroupCoordinator,
    pub(crate) config: HttpConfig,
    /// How long an agent counts as live after its last heartbeat.
    pub(crate) lease_ttl_ms: i64,
    /// Partitions of a topic created without a count (`engine.default_partitions`).
    pub(crate) default_partitions: i32,
    pub(crate) draining: AtomicBool,
    /// Cancelled when draining starts: WebSockets close so shutdown need not wait.
    pub(crate) closing: CancellationToken,
    pub(crate) live: Live,
}

impl AppState {
    /// State over a running engine and group coordinator.
    pub fn new(
        engine: Engine,
        groups: GroupCoordinator,
        config: HttpConfig,
        lease_ttl_ms: i64,
        default_partitions: i32,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                engine,
                groups,
                lease_ttl_ms,
                default_partitions,
                draining: AtomicBool::new(false),
                closing: CancellationToken::new(),
                live: Live::new(config.metrics_interval, config.metrics_history),
                config,
            }),
        }
    }

    /// Marks the agent as draining: `/ready` answers 503 from now on, so load balancers
    /// stop sending traffic before the listeners close.
    pub fn start_draining(&self) {
        self.inner.draining.store(true, Ordering::SeqCst);
        self.inner.closing.cancel();
    }

    pub(crate) fn is_draining(&self) -> bool {
        self.inner.draining.load(Ordering::SeqCst)
    }

    pub(crate) fn engine(&self) -> &Engine {
        &self.inner.engine
    }

    pub(crate) fn groups(&self) -> &GroupCoordinator {
        &self.inner.groups
    }

    pub(crate) fn now_ms(&self) -> TimestampMs {
        streamhouse_types::Clock::now_ms(&streamhouse_types::SystemClock)
    }
}
