//! An object-store decorator that counts requests, bytes, errors and time per operation.

use std::fmt;
use std::ops::Range;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use bytes::Bytes;
use futures::StreamExt;
use futures::stream::BoxStream;
use object_store::path::Path;
use object_store::{
    GetOptions, GetResult, ListResult, MultipartUpload, ObjectMeta, ObjectStore,
    PutMultipartOptions, PutOptions, PutPayload, PutResult,
};
use streamhouse_metrics::{Metrics, StorageOp};

/// Counters for one kind of request.
#[derive(Debug, Default)]
pub(crate) struct OpCounters {
    requests: AtomicU64,
    errors: AtomicU64,
    bytes: AtomicU64,
    micros: AtomicU64,
}

impl OpCounters {
    fn record_outcome(&self, elapsed: Duration, bytes: u64, ok: bool) {
        self.requests.fetch_add(1, Ordering::Relaxed);
        self.micros
            .fetch_add(elapsed.as_micros() as u64, Ordering::Relaxed);
        if ok {
            self.bytes.fetch_add(bytes, Ordering::Relaxed);
        } else {
            self.errors.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn snapshot(&self) -> OpStats {
        OpStats {
            requests: self.requests.load(Ordering::Relaxed),
            errors: self.errors.load(Ordering::Relaxed),
            bytes: self.bytes.load(Ordering::Relaxed),
            micros: self.micros.load(Ordering::Relaxed),
        }
    }
}

/// A snapshot of one operation's counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OpStats {
    /// Requests made (successful or not).
    pub requests: u64,
    /// Requests that failed (not counting not-found, already-exists and precondition
    /// answers, which are answers).
    pub errors: u64,
    /// Payload bytes moved by successful requests.
    pub bytes: u64,
    /// Total time spent, in microseconds.
    pub micros: u64,
}

/// Live counters shared between an [`InstrumentedStore`] and whoever reports them.
#[derive(Debug, Default)]
pub struct StorageCounters {
    put: OpCounters,
    get: OpCounters,
    delete: OpCounters,
    list: OpCounters,
}

impl StorageCounters {
    /// A consistent-enough snapshot of all counters.
    pub fn snapshot(&self) -> StorageStats {
        StorageStats {
            put: self.put.snapshot(),
            get: self.get.snapshot(),
            delete: self.delete.snapshot(),
            list: self.list.snapshot(),
        }
    }
}

/// Snapshot of all operations' counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StorageStats {
    /// PUTs (single and multipart completions).
    pub put: OpStats,
    /// GETs (whole and ranged) and HEADs.
    pub get: OpStats,
    /// DELETEs.
    pub delete: OpStats,
    /// LIST calls.
    pub list: OpStats,
}

/// Wraps a store and counts every request into [`StorageCounters`] and, when given, the
/// agent's Prometheus metrics.
pub struct InstrumentedStore {
    inner: Arc<dyn ObjectStore>,
    counters: Arc<StorageCounters>,
    metrics: Option<Arc<Metrics>>,
}

impl InstrumentedStore {
    /// Wraps `inner`; the counters are shared with the caller.
    pub fn new(inner: Arc<dyn ObjectStore>, counters: Arc<StorageCounters>) -> Self {
        Self {
            inner,
            counters,
            metrics: None,
        }
    }

    /// Also records every request into `metrics` (`streamhouse_s3_*`).
    pub fn with_metrics(mut self, metrics: Arc<Metrics>) -> Self {
        self.metrics = Some(metrics);
        self
    }

    fn record<T>(
        &self,
        op: StorageOp,
        started: Instant,
        bytes: u64,
        result: &object_store::Result<T>,
    ) {
        record(
            &self.counters,
            self.metrics.as_deref(),
            op,
            started,
            bytes,
            result.is_ok(),
        );
    }
}

fn record(
    counters: &StorageCounters,
    metrics: Option<&Metrics>,
    op: StorageOp,
    started: Instant,
    bytes: u64,
    ok: bool,
) {
    let elapsed = started.elapsed();
    let op_counters = match op {
        StorageOp::Put => &counters.put,
        StorageOp::Get => &counters.get,
        StorageOp::Delete => &counters.delete,
        StorageOp::List => &counters.list,
    };
    op_counters.record_outcome(elapsed, bytes, ok);
    if let Some(metrics) = metrics {
        metrics.storage.request(op, elapsed, bytes, ok);
    }
}

impl fmt::Debug for InstrumentedStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "InstrumentedStore({})", self.inner)
    }
}

impl fmt::Display for InstrumentedStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Instrumented({})", self.inner)
    }
}

#[async_trait]
impl ObjectStore for InstrumentedStore {
    async fn put_opts(
        &self,
        location: &Path,
        payload: PutPayload,
        opts: PutOptions,
    ) -> object_store::Result<PutResult> {
        let started = Instant::now();
        let len = payload.content_length() as u64;
        let result = self.inner.put_opts(location, payload, opts).await;
        self.record(StorageOp::Put, started, len, &result);
        result
    }

    async fn put_multipart_opts(
        &self,
        location: &Path,
        opts: PutMultipartOptions,
    ) -> object_store::Result<Box<dyn MultipartUpload>> {
        // Multipart uploads are not used by StreamHouse's writers; counted as one PUT.
        let started = Instant::now();
        let result = self.inner.put_multipart_opts(location, opts).await;
        self.record(StorageOp::Put, started, 0, &result);
        result
    }

    async fn get_opts(
        &self,
        location: &Path,
        options: GetOptions,
    ) -> object_store::Result<GetResult> {
        let started = Instant::now();
        let result = self.inner.get_opts(location, options).await;
        self.record(StorageOp::Get, started, 0, &result);
        result
    }

    async fn get_range(&self, location: &Path, range: Range<u64>) -> object_store::Result<Bytes> {
        let started = Instant::now();
        let result = self.inner.get_range(location, range).await;
        let len = result.as_ref().map_or(0, |b| b.len() as u64);
        self.record(StorageOp::Get, started, len, &result);
        result
    }

    async fn head(&self, location: &Path) -> object_store::Result<ObjectMeta> {
        let started = Instant::now();
        let result = self.inner.head(location).await;
        self.record(StorageOp::Get, started, 0, &result);
        result
    }

    async fn delete(&self, location: &Path) -> object_store::Result<()> {
        let started = Instant::now();
        let result = self.inner.delete(location).await;
        self.record(StorageOp::Delete, started, 0, &result);
        result
    }

    fn list(&self, prefix: Option<&Path>) -> BoxStream<'static, object_store::Result<ObjectMeta>> {
        let counters = Arc::clone(&self.counters);
        let metrics = self.metrics.clone();
        let started = Instant::now();
        let failed = Arc::new(AtomicBool::new(false));
        let seen = Arc::clone(&failed);
        // Counted once, when the listing ends: S3's pagination is an implementation detail.
        let done = futures::stream::once(async move {
            let ok = !failed.load(Ordering::Relaxed);
            record(
                &counters,
                metrics.as_deref(),
                StorageOp::List,
                started,
                0,
                ok,
            );
            None
        });
        self.inner
            .list(prefix)
            .map(move |item| {
                if item.is_err() {
                    seen.store(true, Ordering::Relaxed);
                }
                Some(item)
            })
            .chain(done)
            .filter_map(futures::future::ready)
            .boxed()
    }

    async fn list_with_delimiter(&self, prefix: Option<&Path>) -> object_store::Result<ListResult> {
        let started = Instant::now();
        let result = self.inner.list_with_delimiter(prefix).await;
        self.record(StorageOp::List, started, 0, &result);
        result
    }

    async fn copy(&self, from: &Path, to: &Path) -> object_store::Result<()> {
        let started = Instant::now();
        let result = self.inner.copy(from, to).await;
        self.record(StorageOp::Put, started, 0, &result);
        result
    }

    async fn copy_if_not_exists(&self, from: &Path, to: &Path) -> object_store::Result<()> {
        let started = Instant::now();
        let result = self.inner.copy_if_not_exists(from, to).await;
        self.record(StorageOp::Put, started, 0, &result);
        result
    }
}
