//! `streamhouse_s3_*` and `streamhouse_segment_*`: object-store requests and the flushes
//! that produce them. (Named `s3` after the roadmap; they count whatever store is
//! configured, local files included.)

use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// Kinds of object-store request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StorageOp {
    /// PUTs, single and multipart completions.
    Put,
    /// GETs (whole and ranged) and HEADs.
    Get,
    /// DELETEs.
    Delete,
    /// LISTs.
    List,
}

impl StorageOp {
    const ALL: [Self; 4] = [Self::Put, Self::Get, Self::Delete, Self::List];

    fn label(self) -> OpLabel {
        let operation = match self {
            Self::Put => "put",
            Self::Get => "get",
            Self::Delete => "delete",
            Self::List => "list",
        };
        OpLabel { operation }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct OpLabel {
    operation: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct OutcomeLabel {
    outcome: &'static str,
}

/// Storage families.
#[derive(Debug)]
pub struct StorageMetrics {
    requests: Family<OpLabel, Counter>,
    bytes: Family<OpLabel, Counter>,
    duration: Family<OpLabel, Histogram>,
    errors: Family<OpLabel, Counter>,
    retries: Family<OpLabel, Counter>,
    flushes: Family<OutcomeLabel, Counter>,
    flush_duration: Histogram,
    flush_bytes: Histogram,
}

impl StorageMetrics {
    pub(crate) fn register(registry: &mut Registry) -> Self {
        let metrics = Self {
            requests: Family::default(),
            bytes: Family::default(),
            duration: Family::new_with_constructor(|| Histogram::new(crate::latency_buckets())),
            errors: Family::default(),
            retries: Family::default(),
            flushes: Family::default(),
            flush_duration: Histogram::new(crate::latency_buckets()),
            flush_bytes: Histogram::new(crate::size_buckets(1024.0, 16)),
        };
        // Every series exists from the start, so rates and alerts see zeros, not gaps.
        for op in StorageOp::ALL {
            let label = op.label();
            metrics.requests.get_or_create_owned(&label);
            metrics.bytes.get_or_create_owned(&label);
            metrics.duration.get_or_create_owned(&label);
            metrics.errors.get_or_create_owned(&label);
            metrics.retries.get_or_create_owned(&label);
        }
        for outcome in ["ok", "error"] {
            metrics
                .flushes
                .get_or_create_owned(&OutcomeLabel { outcome });
        }
        registry.register(
            "s3_requests",
            "Object-store requests, by operation (successful or not)",
            metrics.requests.clone(),
        );
        registry.register(
            "s3_bytes",
            "Payload bytes moved by successful object-store requests, by operation",
            metrics.bytes.clone(),
        );
        registry.register(
            "s3_request_duration_seconds",
            "Object-store request latency, by operation",
            metrics.duration.clone(),
        );
        registry.register(
            "s3_errors",
            "Object-store requests that failed, by operation",
            metrics.errors.clone(),
        );
        registry.register(
            "s3_retries",
            "Object-store requests retried after a failure, by operation",
            metrics.retries.clone(),
        );
        registry.register(
            "segment_flushes",
            "Flushes of buffered batches into one object, by outcome (ok, error)",
            metrics.flushes.clone(),
        );
        registry.register(
            "segment_flush_duration_seconds",
            "Time from the start of a flush to its metadata commit",
            metrics.flush_duration.clone(),
        );
        registry.register(
            "segment_flush_bytes",
            "Bytes per flushed object",
            metrics.flush_bytes.clone(),
        );
        metrics
    }

    /// One request of kind `op` took `elapsed`; `bytes` moved if it succeeded.
    pub fn request(&self, op: StorageOp, elapsed: Duration, bytes: u64, ok: bool) {
        let label = op.label();
        self.requests.get_or_create(&label).inc();
        self.duration
            .get_or_create(&label)
            .observe(elapsed.as_secs_f64());
        if ok {
            self.bytes.get_or_create(&label).inc_by(bytes);
        } else {
            self.errors.get_or_create(&label).inc();
        }
    }

    /// A failed request of kind `op` is being retried.
    pub fn retry(&self, op: StorageOp) {
        self.retries.get_or_create(&op.label()).inc();
    }

    /// A flush of `bytes` bytes committed after `elapsed`.
    pub fn flushed(&self, elapsed: Duration, bytes: u64) {
        self.flushes
            .get_or_create(&OutcomeLabel { outcome: "ok" })
            .inc();
        self.flush_duration.observe(elapsed.as_secs_f64());
        self.flush_bytes.observe(bytes as f64);
    }

    /// A flush attempt failed (it is retried; accepted data is never dropped).
    pub fn flush_failed(&self) {
        self.flushes
            .get_or_create(&OutcomeLabel { outcome: "error" })
            .inc();
    }
}
