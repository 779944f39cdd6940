//! `streamhouse_agent_*` and `streamhouse_build_info`: this agent's place in the cluster.

use std::time::Instant;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::Registry;

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct OutcomeLabel {
    outcome: &'static str,
}

/// Agent families.
#[derive(Debug)]
pub struct AgentMetrics {
    partitions_led: Gauge,
    leases_acquired: Counter,
    leases_lost: Counter,
    heartbeats: Family<OutcomeLabel, Counter>,
    live_agents: Gauge,
    uptime: Gauge<f64, std::sync::atomic::AtomicU64>,
    started: Instant,
}

impl AgentMetrics {
    pub(crate) fn register(registry: &mut Registry, version: &str) -> Self {
        let metrics = Self {
            partitions_led: Gauge::default(),
            leases_acquired: Counter::default(),
            leases_lost: Counter::default(),
            heartbeats: Family::default(),
            live_agents: Gauge::default(),
            uptime: Gauge::default(),
            started: Instant::now(),
        };
        for outcome in ["ok", "error"] {
            metrics
                .heartbeats
                .get_or_create_owned(&OutcomeLabel { outcome });
        }
        registry.register(
            "build",
            "StreamHouse version of this agent",
            Info::new(vec![("version".to_owned(), version.to_owned())]),
        );
        registry.register(
            "agent_partitions_led",
            "Partitions this agent leads (holds the lease of)",
            metrics.partitions_led.clone(),
        );
        registry.register(
            "agent_leases_acquired",
            "Partition leases this agent acquired",
            metrics.leases_acquired.clone(),
        );
        registry.register(
            "agent_leases_lost",
            "Partition leases this agent lost or gave up",
            metrics.leases_lost.clone(),
        );
        registry.register(
            "agent_heartbeats",
            "Heartbeats to the metadata store, by outcome (ok, error)",
            metrics.heartbeats.clone(),
        );
        registry.register(
            "agent_live_agents",
            "Agents this agent sees as live in the cluster",
            metrics.live_agents.clone(),
        );
        registry.register(
            "agent_uptime_seconds",
            "Seconds since this agent started",
            metrics.uptime.clone(),
        );
        metrics
    }

    /// This agent now leads `count` partitions.
    pub fn set_partitions_led(&self, count: usize) {
        self.partitions_led
            .set(i64::try_from(count).unwrap_or(i64::MAX));
    }

    /// A partition lease was acquired.
    pub fn lease_acquired(&self) {
        self.leases_acquired.inc();
    }

    /// A partition lease was lost or released.
    pub fn lease_lost(&self) {
        self.leases_lost.inc();
    }

    /// A heartbeat to the metadata store succeeded or failed.
    pub fn heartbeat(&self, ok: bool) {
        let outcome = if ok { "ok" } else { "error" };
        self.heartbeats
            .get_or_create(&OutcomeLabel { outcome })
            .inc();
    }

    /// The cluster has `count` live agents.
    pub fn set_live_agents(&self, count: usize) {
        self.live_agents
            .set(i64::try_from(count).unwrap_or(i64::MAX));
    }

    /// Brings the uptime gauge up to date (called before each scrape).
    pub fn refresh_uptime(&self) {
        self.uptime.set(self.started.elapsed().as_secs_f64());
    }
}
