//! Uploads that never give up on accepted data, and ranged reads through a bounded cache.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use bytes::Bytes;
use futures::TryStreamExt;
use moka::future::Cache;
use object_store::path::Path;
use object_store::{ObjectMeta, ObjectStore, PutMode, PutOptions, PutPayload};
use streamhouse_metrics::{Metrics, StorageOp};
use streamhouse_types::{Offset, PartitionId};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::{Error, Result};

/// Where flush objects live, relative to the store root.
pub const FLUSH_PREFIX: &str = "data";
/// Where merged per-partition segments live.
pub const MERGED_PREFIX: &str = "merged";
const GET_ATTEMPTS: u32 = 3;

/// Tuning for a [`SegmentStore`].
#[derive(Debug, Clone)]
pub struct SegmentStoreConfig {
    /// Bytes of object ranges kept in the read cache.
    pub cache_bytes: u64,
    /// First retry delay after a failed upload.
    pub initial_backoff: Duration,
    /// Longest retry delay (backoff doubles up to this).
    pub max_backoff: Duration,
}

impl Default for SegmentStoreConfig {
    fn default() -> Self {
        Self {
            cache_bytes: 64 << 20,
            initial_backoff: Duration::from_millis(10),
            max_backoff: Duration::from_secs(5),
        }
    }
}

/// An object that was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredObject {
    /// Its key.
    pub key: String,
    /// Its size in bytes.
    pub size: u64,
}

type CacheKey = (Arc<str>, u64, u64);

/// Segment objects on an object store.
#[derive(Clone)]
pub struct SegmentStore {
    store: Arc<dyn ObjectStore>,
    cache: Cache<CacheKey, Bytes>,
    config: SegmentStoreConfig,
    metrics: Option<Arc<Metrics>>,
}

impl fmt::Debug for SegmentStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SegmentStore")
            .field("store", &self.store.to_string())
            .field("cached_bytes", &self.cache.weighted_size())
            .field("config", &self.config)
            .finish()
    }
}

impl SegmentStore {
    /// Segment objects on `store`.
    pub fn new(store: Arc<dyn ObjectStore>, config: SegmentStoreConfig) -> Self {
        let cache = Cache::builder()
            .weigher(|_key: &CacheKey, value: &Bytes| {
                u32::try_from(value.len()).unwrap_or(u32::MAX)
            })
            .max_capacity(config.cache_bytes)
            // LRU, not moka's default TinyLFU: consumers read forward, so the range just
            // fetched is the one about to be read again (the next fetches of that
            // segment). TinyLFU refuses a new entry once the cache is full of ranges that
            // were hit before, and each following fetch of the segment repeats the GET.
            .eviction_policy(moka::policy::EvictionPolicy::lru())
            .support_invalidation_closures()
            .build();
        Self {
            store,
            cache,
            config,
            metrics: None,
        }
    }

    /// Also records retries and cache hits and misses into `metrics`.
    pub fn with_metrics(mut self, metrics: Arc<Metrics>) -> Self {
        self.metrics = Some(metrics);
        self
    }

    /// The underlying store.
    pub fn object_store(&self) -> &Arc<dyn ObjectStore> {
        &self.store
    }

    /// A fresh, unique key for a flush object. UUIDv7 keys sort by creation time.
    pub fn new_flush_key(&self) -> String {
        format!("{FLUSH_PREFIX}/{}.seg", Uuid::now_v7())
    }

    /// A fresh, unique key for a merged segment of one partition.
    pub fn new_merged_key(
        &self,
        topic_id: Uuid,
        partition: PartitionId,
        base_offset: Offset,
    ) -> String {
        format!(
            "{MERGED_PREFIX}/{topic_id}/{partition}/{base_offset:020}-{}.seg",
            Uuid::now_v7()
        )
    }

    /// Uploads `payload` under `key`, retrying with exponential backoff until it succeeds.
    /// Use [`SegmentStore::put_until`] to be able to abandon it.
    pub async fn put(&self, key: &str, payload: PutPayload) -> Result<StoredObject> {
        self.put_until(key, payload, &CancellationToken::new())
            .await
    }

    /// Uploads `payload` under `key` (create-only, so a key is never overwritten), retrying
    /// every failure with exponential backoff until it succeeds or `abort` is cancelled.
    ///
    /// A retry that finds the object already there (the previous attempt landed but its
    /// response was lost) checks the size and counts as success.
    pub async fn put_until(
        &self,
        key: &str,
        payload: PutPayload,
        abort: &CancellationToken,
    ) -> Result<StoredObject> {
        let path = Path::from(key);
        let size = payload.content_length() as u64;
        let mut backoff = self.config.initial_backoff;
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let opts = PutOptions {
                mode: PutMode::Create,
                ..Default::default()
            };
            let outcome = match self.store.put_opts(&path, payload.clone(), opts).await {
                Ok(_) => Ok(()),
                Err(object_store::Error::AlreadyExists { .. }) if attempt > 1 => {
                    match self.store.head(&path).await {
                        Ok(meta) if meta.size == size => Ok(()),
                        Ok(meta) => {
                            // Keys are unique per attempt series, so this means corruption
                            // or a key collision: never treat it as ours.
                            return Err(Error::Upload {
                                key: key.to_owned(),
                                source: object_store::Error::Generic {
                                    store: "segment",
                                    source: format!(
                                        "object exists with size {} instead of {size}",
                                        meta.size
                                    )
                                    .into(),
                                },
                            });
                        }
                        Err(e) => Err(e),
                    }
                }
                Err(e) => Err(e),
            };
            match outcome {
                Ok(()) => {
                    if attempt > 1 {
                        tracing::info!(key, attempt, "upload succeeded after retries");
                    }
                    return Ok(StoredObject {
                        key: key.to_owned(),
                        size,
                    });
                }
                Err(error) => {
                    tracing::warn!(key, attempt, ?backoff, error = %error, "upload failed; retrying");
                    if let Some(metrics) = &self.metrics {
                        metrics.storage.retry(StorageOp::Put);
                    }
                    tokio::select! {
                        () = tokio::time::sleep(backoff) => {}
                        () = abort.cancelled() => return Err(Error::Cancelled { key: key.to_owned() }),
                    }
                    backoff = (backoff * 2).min(self.config.max_backoff);
                }
            }
        }
    }

    /// Reads `len` bytes at `start` of `key`, from the cache or with a ranged GET (retried
    /// a few times). Concurrent misses for the same range share one GET.
    pub async fn read_range(&self, key: &str, start: u64, len: u64) -> Result<Bytes> {
        let cache_key: CacheKey = (Arc::from(key), start, len);
        let store = Arc::clone(&self.store);
        let path = Path::from(key);
        let backoff = self.config.initial_backoff;
        let metrics = self.metrics.clone();
        let missed = Arc::new(AtomicBool::new(false));
        let miss = Arc::clone(&missed);
        let read = self
            .cache
            .try_get_with(cache_key, async move {
                // Runs only when no cached value (and no concurrent load) exists.
                miss.store(true, Ordering::Relaxed);
                let mut attempt = 0;
                loop {
                    attempt += 1;
                    match store.get_range(&path, start..start + len).await {
                        Ok(bytes) if bytes.len() as u64 == len => return Ok(bytes),
                        Ok(bytes) => {
                            return Err(object_store::Error::Generic {
                                store: "segment",
                                source: format!("short read: {} of {len} bytes", bytes.len()).into(),
                            });
                        }
                        Err(e @ object_store::Error::NotFound { .. }) => return Err(e),
                        Err(e) if attempt >= GET_ATTEMPTS => return Err(e),
                        Err(e) => {
                            tracing::debug!(key = %path, attempt, error = %e, "ranged GET failed; retrying");
                            if let Some(metrics) = &metrics {
                                metrics.storage.retry(StorageOp::Get);
                            }
                            tokio::time::sleep(backoff * attempt).await;
                        }
                    }
                }
            })
            .await
            .map_err(|source| Error::Read {
                key: key.to_owned(),
                start,
                len,
                source,
            });
        if let Some(metrics) = &self.metrics {
            if missed.load(Ordering::Relaxed) {
                metrics.cache.miss();
            } else {
                metrics.cache.segment_hit();
            }
            metrics
                .cache
                .set_size(self.cache.weighted_size(), self.config.cache_bytes);
        }
        read
    }

    /// Reads a whole object (for verification and tools).
    pub async fn read_object(&self, key: &str) -> Result<Bytes> {
        let path = Path::from(key);
        let result = self
            .store
            .get(&path)
            .await
            .map_err(|source| Error::Store { op: "get", source })?;
        result
            .bytes()
            .await
            .map_err(|source| Error::Store { op: "get", source })
    }

    /// Every segment object (flush and merged), with size and last-modified time.
    pub async fn list_objects(&self) -> Result<Vec<ObjectMeta>> {
        let mut all = Vec::new();
        for prefix in [FLUSH_PREFIX, MERGED_PREFIX] {
            let listed: Vec<ObjectMeta> = self
                .store
                .list(Some(&Path::from(prefix)))
                .try_collect()
                .await
                .map_err(|source| Error::Store { op: "list", source })?;
            all.extend(listed);
        }
        Ok(all)
    }

    /// Deletes an object and drops it from the cache. Deleting a missing object succeeds.
    pub async fn delete(&self, key: &str) -> Result<()> {
        self.cache
            .invalidate_entries_if({
                let key: Arc<str> = Arc::from(key);
                move |k, _| k.0 == key
            })
            .map_err(|e| Error::Store {
                op: "cache invalidate",
                source: object_store::Error::Generic {
                    store: "segment",
                    source: Box::new(e),
                },
            })?;
        match self.store.delete(&Path::from(key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(source) => Err(Error::Store {
                op: "delete",
                source,
            }),
        }
    }

    /// Applies the read cache's pending admissions and evictions now (the cache does them
    /// lazily, in batches), so what it holds afterwards is settled.
    pub async fn run_pending_cache_tasks(&self) {
        self.cache.run_pending_tasks().await;
    }

    /// The cache's configured size in bytes.
    pub fn cache_capacity_bytes(&self) -> u64 {
        self.config.cache_bytes
    }

    /// Bytes currently held by the read cache.
    pub fn cached_bytes(&self) -> u64 {
        self.cache.weighted_size()
    }
}
