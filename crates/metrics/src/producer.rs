//! `streamhouse_producer_*`: what producers wrote, over Kafka and HTTP alike.

use std::collections::HashSet;
use std::sync::Mutex;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use crate::{TopicLabel, Totals, lock};

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct ErrorLabels {
    /// Empty when the refusal came before the topic was known to exist, so clients
    /// cannot create series by naming topics that do not exist.
    topic: String,
    error: &'static str,
}

/// One topic's produce counters, resolved once per led partition so that an append only
/// adds to atomics (no label lookup, no allocation).
#[derive(Debug, Clone)]
pub struct TopicCounters {
    records: Counter,
    bytes: Counter,
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
    /// Error names seen, so a deleted topic's error series can be removed.
    error_names: Mutex<HashSet<&'static str>>,
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
            error_names: Mutex::default(),
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
            "Produce requests' partitions refused, by topic (empty if not known to exist) and Kafka error name",
            metrics.errors.clone(),
        );
        registry.register(
            "producer_ack_latency_seconds",
            "Time from receiving a produce request to acknowledging it (after durability for acks=all)",
            metrics.ack_latency.clone(),
        );
        metrics
    }

    /// The counters appends to `topic` add to.
    pub fn topic_counters(&self, topic: &str) -> TopicCounters {
        let label = TopicLabel::of(topic);
        TopicCounters {
            records: self.records.get_or_create_owned(&label),
            bytes: self.bytes.get_or_create_owned(&label),
        }
    }

    /// Batches of `records` records in `bytes` bytes appended to the topic of `counters`
    /// (one produce request's data for one partition).
    pub fn appended(&self, counters: &TopicCounters, records: u64, bytes: u64) {
        counters.records.inc_by(records);
        counters.bytes.inc_by(bytes);
        self.batch_records.observe(records as f64);
        self.totals.add(records, bytes);
    }

    /// A partition's batches refused with the Kafka error `error` (e.g. `MESSAGE_TOO_LARGE`).
    /// `topic` is `None` unless the topic is known to exist.
    pub fn error(&self, topic: Option<&str>, error: &'static str) {
        self.errors
            .get_or_create(&ErrorLabels {
                topic: topic.unwrap_or_default().to_owned(),
                error,
            })
            .inc();
        lock(&self.error_names).insert(error);
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
        let label = TopicLabel::of(topic);
        self.records.remove(&label);
        self.bytes.remove(&label);
        for &error in lock(&self.error_names).iter() {
            self.errors.remove(&ErrorLabels {
                topic: topic.to_owned(),
                error,
            });
        }
    }
}
