//! `streamhouse_cache_*`: how reads were served.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct TierLabel {
    tier: &'static str,
}

/// Read-path families. A read is a hit in the `tail` tier (recent durable batches in
/// memory) or the `segment` tier (cached object ranges); a miss costs a ranged GET.
#[derive(Debug)]
pub struct CacheMetrics {
    hits: Family<TierLabel, Counter>,
    misses: Counter,
    size: Gauge,
    capacity: Gauge,
    tail_size: Gauge,
}

impl CacheMetrics {
    pub(crate) fn register(registry: &mut Registry) -> Self {
        let metrics = Self {
            hits: Family::default(),
            misses: Counter::default(),
            size: Gauge::default(),
            capacity: Gauge::default(),
            tail_size: Gauge::default(),
        };
        for tier in ["tail", "segment"] {
            metrics.hits.get_or_create_owned(&TierLabel { tier });
        }
        registry.register(
            "cache_hits",
            "Reads served from memory, by tier (tail: recent batches; segment: cached object ranges)",
            metrics.hits.clone(),
        );
        registry.register(
            "cache_misses",
            "Object ranges read from the object store because no tier held them",
            metrics.misses.clone(),
        );
        registry.register(
            "cache_size_bytes",
            "Bytes held by the segment read cache",
            metrics.size.clone(),
        );
        registry.register(
            "cache_capacity_bytes",
            "Configured size of the segment read cache",
            metrics.capacity.clone(),
        );
        registry.register(
            "tail_size_bytes",
            "Bytes held by the in-memory tail of recent durable batches (bounded by engine.tail_bytes)",
            metrics.tail_size.clone(),
        );
        metrics
    }

    /// A read served from the in-memory tail.
    pub fn tail_hit(&self) {
        self.hits.get_or_create(&TierLabel { tier: "tail" }).inc();
    }

    /// An object range served from the segment cache.
    pub fn segment_hit(&self) {
        self.hits
            .get_or_create(&TierLabel { tier: "segment" })
            .inc();
    }

    /// An object range fetched from the object store.
    pub fn miss(&self) {
        self.misses.inc();
    }

    /// The in-memory tail now holds `bytes`.
    pub fn set_tail_size(&self, bytes: u64) {
        self.tail_size.set(i64::try_from(bytes).unwrap_or(i64::MAX));
    }

    /// The segment cache now holds `size` of `capacity` bytes.
    pub fn set_size(&self, size: u64, capacity: u64) {
        self.size.set(i64::try_from(size).unwrap_or(i64::MAX));
        self.capacity
            .set(i64::try_from(capacity).unwrap_or(i64::MAX));
    }
}
