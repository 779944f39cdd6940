//! StreamHouse's Prometheus metrics.
//!
//! One [`Metrics`] per agent owns a `prometheus-client` registry; each layer records into
//! the typed handles of its own family ([`ProducerMetrics`], [`StorageMetrics`], ...) and
//! the HTTP layer renders the registry with [`Metrics::encode`]. Every name starts with
//! `streamhouse_`; counters end in `_total`, durations are in seconds, sizes in bytes.
//!
//! Hot-path cost: an append adds to counters resolved when its partition was taken
//! ([`TopicCounters`]) and observes one histogram (a short lock); a fetch looks up its
//! topic's series once per topic per response; nothing is recorded per record.

use std::sync::Arc;

use prometheus_client::registry::Registry;

mod agent;
mod cache;
mod consumer;
mod groups;
mod http;
mod kafka;
mod producer;
mod storage;
mod totals;

pub use agent::AgentMetrics;
pub use cache::CacheMetrics;
pub use consumer::ConsumerMetrics;
pub use groups::GroupMetrics;
pub use http::HttpMetrics;
pub use kafka::KafkaMetrics;
pub use producer::{ProducerMetrics, TopicCounters};
pub use storage::{StorageMetrics, StorageOp};
pub use totals::Totals;

/// The `Content-Type` of [`Metrics::encode`]'s output (Prometheus text format 0.0.4).
pub const CONTENT_TYPE: &str = prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

/// Latency buckets in seconds: 0.5 ms doubling to ~16 s.
fn latency_buckets() -> impl Iterator<Item = f64> {
    prometheus_client::metrics::histogram::exponential_buckets(0.0005, 2.0, 16)
}

/// Size buckets: 1 doubling to ~16 M (records per batch, bytes per object).
fn size_buckets(start: f64, length: u16) -> impl Iterator<Item = f64> {
    prometheus_client::metrics::histogram::exponential_buckets(start, 2.0, length)
}

/// The `topic` label of the producer and consumer families.
#[derive(Debug, Clone, PartialEq, Eq, Hash, prometheus_client::encoding::EncodeLabelSet)]
struct TopicLabel {
    topic: String,
}

impl TopicLabel {
    fn of(topic: &str) -> Self {
        Self {
            topic: topic.to_owned(),
        }
    }
}

fn lock<T>(mutex: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Every metric one agent exports. Cheap to share: hold it in an `Arc`.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    /// Records and bytes produced, batch sizes, errors, acknowledgement latency.
    pub producer: ProducerMetrics,
    /// Records and bytes fetched, fetch latency, consumer-group lag.
    pub consumer: ConsumerMetrics,
    /// Object-store requests, bytes, latency, errors, retries, and flushes.
    pub storage: StorageMetrics,
    /// Read-cache hits, misses and size.
    pub cache: CacheMetrics,
    /// Partitions led, leases, heartbeats, uptime.
    pub agent: AgentMetrics,
    /// Kafka connections, and requests and latency per API.
    pub kafka: KafkaMetrics,
    /// HTTP requests and latency per route.
    pub http: HttpMetrics,
    /// Consumer groups by state, and rebalances.
    pub groups: GroupMetrics,
}

impl Metrics {
    /// A fresh registry with every family registered and all counters at zero.
    pub fn new(version: &str) -> Arc<Self> {
        let mut registry = Registry::with_prefix("streamhouse");
        let metrics = Self {
            producer: ProducerMetrics::register(&mut registry),
            consumer: ConsumerMetrics::register(&mut registry),
            storage: StorageMetrics::register(&mut registry),
            cache: CacheMetrics::register(&mut registry),
            agent: AgentMetrics::register(&mut registry, version),
            kafka: KafkaMetrics::register(&mut registry),
            http: HttpMetrics::register(&mut registry),
            groups: GroupMetrics::register(&mut registry),
            registry,
        };
        Arc::new(metrics)
    }

    /// The registry in the Prometheus text exposition format (version 0.0.4).
    pub fn encode(&self) -> String {
        let mut out = String::with_capacity(64 * 1024);
        // Writing into a String cannot fail; an encoder error would be a bug in a label.
        if let Err(error) =
            prometheus_client::encoding::prometheus_text::encode(&mut out, &self.registry)
        {
            out.push_str(&format!("# encoding failed: {error}\n"));
        }
        out
    }
}

#[cfg(test)]
mod tests;
