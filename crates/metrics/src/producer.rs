//! `streamhouse_producer_*`: what producers wrote, over Kafka and HTTP alike.

use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use crate::Totals;

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct TopicLabel {
    topic: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct ErrorLabels {
    topic: String,
    error: String,
}

/// Producer-side families.
#[derive(Debug)]
pub struct ProducerMetrics {
    records: Family<TopicLabel, Counter>,
    bytes: Family<TopicLabel, Counter>,
    batch_records: Histogram,
    errors: Family<ErrorLabels, Counter>,
    ack_latency: Histogram,
    totals: Totals,
}

impl ProducerMetrics {
    pub(crate) fn register(registry: &mut Registry) -> Self {
        let metrics = Self {
            records: Family::default(),
            bytes: Family::default(),
            batch_records: Histogram::new(crate::size_buckets(1.0, 17)),
            errors: Family::default(),
            ack_latency: Histogram::new(crate::latency_buckets()),
            totals: Totals::default(),
        };
        registry.register(
            "producer_records",
            "Records appended, by topic",
            metrics.records.clone(),
        );
        registry.register(
            "producer_bytes",
            "Record-batch bytes appended, by topic",
            metrics.bytes.clone(),
        );
        registry.register(
            "producer_batch_records",
            "Records per appended batch",
            metrics.batch_records.clone(),
        );
        registry.register(
            "producer_errors",
            "Batches refused, by topic and Kafka error name",
            metrics.errors.clone(),
        );
        registry.register(
            "producer_ack_latency_seconds",
            "Time from receiving a produce request to acknowledging it (after durability for acks=all)",
            metrics.ack_latency.clone(),
        );
        metrics
    }

    /// One batch of `records` records and `bytes` bytes appended to `topic`.
    pub fn appended(&self, topic: &str, records: u64, bytes: u64) {
        let label = TopicLabel {
            topic: topic.to_owned(),
        };
        self.records.get_or_create(&label).inc_by(records);
        self.bytes.get_or_create(&label).inc_by(bytes);
        self.batch_records.observe(records as f64);
        self.totals.add(records, bytes);
    }

    /// A batch for `topic` refused with the Kafka error `error` (e.g. `CorruptMessage`).
    pub fn error(&self, topic: &str, error: &str) {
        self.errors
            .get_or_create(&ErrorLabels {
                topic: topic.to_owned(),
                error: error.to_owned(),
            })
            .inc();
    }

    /// A produce request answered `elapsed` after it arrived.
    pub fn acknowledged(&self, elapsed: Duration) {
        self.ack_latency.observe(elapsed.as_secs_f64());
    }

    /// Records and bytes appended so far, over all topics.
    pub fn totals(&self) -> &Totals {
        &self.totals
    }

    /// Drops a deleted topic's series.
    pub fn forget_topic(&self, topic: &str) {
        let label = TopicLabel {
            topic: topic.to_owned(),
        };
        self.records.remove(&label);
        self.bytes.remove(&label);
    }
}
