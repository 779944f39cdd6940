//! `streamhouse_kafka_*`: the Kafka listener, per connection and per API.

use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct ApiLabel {
    api: &'static str,
}

/// Kafka listener families.
#[derive(Debug)]
pub struct KafkaMetrics {
    connections_open: Gauge,
    connections: Counter,
    connection_limit_reached: Counter,
    requests: Family<ApiLabel, Counter>,
    request_duration: Family<ApiLabel, Histogram>,
    request_errors: Family<ApiLabel, Counter>,
}

impl KafkaMetrics {
    pub(crate) fn register(registry: &mut Registry) -> Self {
        let metrics = Self {
            connections_open: Gauge::default(),
            connections: Counter::default(),
            connection_limit_reached: Counter::default(),
            requests: Family::default(),
            request_duration: Family::new_with_constructor(|| {
                Histogram::new(crate::latency_buckets())
            }),
            request_errors: Family::default(),
        };
        registry.register(
            "kafka_connections_open",
            "Kafka client connections open now",
            metrics.connections_open.clone(),
        );
        registry.register(
            "kafka_connections",
            "Kafka client connections accepted",
            metrics.connections.clone(),
        );
        registry.register(
            "kafka_connection_limit_reached",
            "Times the listener stopped accepting because kafka.max_connections were open",
            metrics.connection_limit_reached.clone(),
        );
        registry.register(
            "kafka_requests",
            "Kafka requests answered, by API (e.g. Produce, Fetch)",
            metrics.requests.clone(),
        );
        registry.register(
            "kafka_request_duration_seconds",
            "Time from reading a Kafka request to writing its answer, by API",
            metrics.request_duration.clone(),
        );
        registry.register(
            "kafka_request_errors",
            "Kafka requests that could not be decoded or answered, by API",
            metrics.request_errors.clone(),
        );
        metrics
    }

    /// A connection was accepted; [`KafkaMetrics::connection_closed`] must follow.
    pub fn connection_opened(&self) {
        self.connections.inc();
        self.connections_open.inc();
    }

    /// A connection accepted earlier has closed.
    pub fn connection_closed(&self) {
        self.connections_open.dec();
    }

    /// The listener stopped accepting: the connection limit is reached.
    pub fn connection_limit_reached(&self) {
        self.connection_limit_reached.inc();
    }

    /// A request to `api` was answered after `elapsed`.
    pub fn request(&self, api: &'static str, elapsed: Duration) {
        let label = ApiLabel { api };
        self.requests.get_or_create(&label).inc();
        self.request_duration
            .get_or_create(&label)
            .observe(elapsed.as_secs_f64());
    }

    /// A request to `api` failed as a whole (undecodable, or the connection broke).
    pub fn request_error(&self, api: &'static str) {
        self.request_errors.get_or_create(&ApiLabel { api }).inc();
    }
}
