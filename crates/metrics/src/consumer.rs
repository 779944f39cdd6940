//! `streamhouse_consumer_*`: what consumers fetched, and how far behind groups are.

use std::collections::HashSet;
use std::sync::Mutex;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use crate::{TopicLabel, Totals};

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct LagLabels {
    group: String,
    topic: String,
}

/// Consumer-side families.
#[derive(Debug)]
pub struct ConsumerMetrics {
    records: Family<TopicLabel, Counter>,
    bytes: Family<TopicLabel, Counter>,
    fetch_latency: Histogram,
    lag: Family<LagLabels, Gauge>,
    /// The lag series last set, so series of vanished groups can be removed without
    /// a moment where the others are missing.
    lag_keys: Mutex<HashSet<LagLabels>>,
    totals: Totals,
}

impl ConsumerMetrics {
    pub(crate) fn register(registry: &mut Registry) -> Self {
        let metrics = Self {
            records: Family::default(),
            bytes: Family::default(),
            fetch_latency: Histogram::new(crate::latency_buckets()),
            lag: Family::default(),
            lag_keys: Mutex::default(),
            totals: Totals::default(),
        };
        registry.register(
            "consumer_records",
            "Records returned by Fetch, by topic",
            metrics.records.clone(),
        );
        registry.register(
            "consumer_bytes",
            "Record-batch bytes returned by Fetch, by topic",
            metrics.bytes.clone(),
        );
        registry.register(
            "consumer_fetch_latency_seconds",
            "Time to answer a Fetch request, long-poll wait included",
            metrics.fetch_latency.clone(),
        );
        registry.register(
            "consumer_lag",
            "Records between a group's committed offsets and the high watermarks, by group and topic (groups this agent coordinates)",
            metrics.lag.clone(),
        );
        metrics
    }

    /// A Fetch returned `records` records in `bytes` bytes of `topic`.
    pub fn fetched(&self, topic: &str, records: u64, bytes: u64) {
        let label = TopicLabel::of(topic);
        self.records.get_or_create(&label).inc_by(records);
        self.bytes.get_or_create(&label).inc_by(bytes);
        self.totals.add(records, bytes);
    }

    /// A Fetch request answered after `elapsed`.
    pub fn fetch_answered(&self, elapsed: Duration) {
        self.fetch_latency.observe(elapsed.as_secs_f64());
    }

    /// Replaces every lag series with `lags` (group, topic, records behind).
    pub fn set_lag<'a>(&self, lags: impl IntoIterator<Item = (&'a str, &'a str, i64)>) {
        let mut keys = crate::lock(&self.lag_keys);
        let mut fresh = HashSet::new();
        for (group, topic, lag) in lags {
            let key = LagLabels {
                group: group.to_owned(),
                topic: topic.to_owned(),
            };
            self.lag.get_or_create(&key).set(lag);
            fresh.insert(key);
        }
        for stale in keys.difference(&fresh) {
            self.lag.remove(stale);
        }
        *keys = fresh;
    }

    /// Drops a deleted topic's series.
    pub fn forget_topic(&self, topic: &str) {
        let label = TopicLabel::of(topic);
        self.records.remove(&label);
        self.bytes.remove(&label);
    }

    /// Records and bytes fetched so far, over all topics.
    pub fn totals(&self) -> &Totals {
        &self.totals
    }
}
