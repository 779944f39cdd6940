//! The engine: the public face of the log, and the shared state its tasks work on.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use streamhouse_config::EngineConfig;
use streamhouse_metadata::{AgentInfo, MetadataStore, PartitionState, Topic, TopicConfig};
use streamhouse_metrics::Metrics;
use streamhouse_records::validate_batch_ranges;
use streamhouse_storage::{SegmentStore, SegmentStoreConfig};
use streamhouse_types::{Clock, Offset, TopicPartition, validate_topic_name};
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::blocks::Records;
use crate::flush::FlushSignal;
use crate::partition::{AppendOutcome, CloseReason, PartitionLog};
use crate::read::ReadResult;
use crate::{Error, Result, flush, housekeeping, leases, read};

/// What the engine is built from: stores chosen by URL elsewhere, config, identity, clock.
#[derive(Debug)]
pub struct EngineParts {
    /// The metadata store.
    pub metadata: Arc<dyn MetadataStore>,
    /// The object store (already scoped to its prefix).
    pub object_store: Arc<dyn object_store::ObjectStore>,
    /// Whether the object store is remote (S3...): picks flush defaults.
    pub remote_store: bool,
    /// Engine tuning.
    pub config: EngineConfig,
    /// This agent's identity, registered in the metadata store.
    pub agent: AgentInfo,
    /// Time source.
    pub clock: Arc<dyn Clock>,
    /// Where the engine and the storage under it record their Prometheus metrics.
    pub metrics: Arc<Metrics>,
}

/// An append whose offsets are assigned, waiting to become durable.
#[derive(Debug)]
pub struct Submitted {
    outcome: AppendOutcome,
    durable: Option<tokio::sync::oneshot::Receiver<Result<()>>>,
}

impl Submitted {
    /// Where the batches will land (known before they are durable; not yet visible).
    pub fn outcome(&self) -> AppendOutcome {
        self.outcome
    }

    /// Waits until the batches are durable (uploaded and committed) and visible.
    pub async fn durable(self) -> Result<AppendOutcome> {
        if let Some(durable) = self.durable {
            durable.await.map_err(|_| Error::ShuttingDown)??;
        }
        Ok(self.outcome)
    }
}

/// Counters the engine keeps about itself.
#[derive(Debug, Default)]
pub struct EngineStats {
    /// Flushes committed.
    pub flushes: AtomicU64,
    /// Batches appended.
    pub batches_appended: AtomicU64,
    /// Bytes appended.
    pub bytes_appended: AtomicU64,
    /// Reads served from the in-memory tail.
    pub tail_reads: AtomicU64,
    /// Reads served from object storage (through the cache).
    pub storage_reads: AtomicU64,
}

/// Shared state of the engine and its background tasks.
#[derive(Debug)]
pub(crate) struct Inner {
    pub(crate) metadata: Arc<dyn MetadataStore>,
    pub(crate) segments: SegmentStore,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) agent: AgentInfo,
    pub(crate) config: EngineConfig,
    pub(crate) flush_interval: Duration,
    pub(crate) flush_bytes: usize,
    pub(crate) tail_bytes: usize,
    /// Accepted-but-not-durable bytes, bounded by `buffer`.
    pub(crate) pending_bytes: AtomicUsize,
    pub(crate) buffer: Arc<Semaphore>,
    buffer_bytes: usize,
    pub(crate) flush_signal: FlushSignal,
    /// Counts flushes that made data readable; long-polls watch it (see
    /// [`Engine::data_published`]).
    pub(crate) published: watch::Sender<u64>,
    partitions: RwLock<HashMap<TopicPartition, Arc<PartitionLog>>>,
    /// Graceful stop: refuse new work, flush what was accepted.
    pub(crate) stopping: CancellationToken,
    /// Hard stop: abandon in-flight uploads.
    pub(crate) abort: CancellationToken,
    pub(crate) rebalance_lock: tokio::sync::Mutex<()>,
    /// Unreferenced objects the collector has seen, with when it first saw each.
    pub(crate) gc_suspects: std::sync::Mutex<HashMap<String, i64>>,
    pub(crate) stats: EngineStats,
    pub(crate) metrics: Arc<Metrics>,
}

/// The log engine. Cheap to clone; all clones share one engine.
#[derive(Debug, Clone)]
pub struct Engine {
    pub(crate) inner: Arc<Inner>,
    tasks: Arc<tokio::sync::Mutex<Vec<JoinHandle<()>>>>,
}

impl Engine {
    /// Registers the agent, takes its share of partition leases and starts the flusher,
    /// lease keeper and housekeeping tasks.
    pub async fn start(parts: EngineParts) -> Result<Self> {
        let config = parts.config;
        let flush_bytes = config.flush_bytes_for(parts.remote_store) as usize;
        let buffer_bytes = (config.max_buffered_bytes.as_u64() as usize).max(flush_bytes);
        let segments = SegmentStore::new(
            parts.object_store,
            SegmentStoreConfig {
                cache_bytes: config.read_cache_bytes_for(parts.remote_store),
                initial_backoff: Duration::from_millis(10),
                max_backoff: config.upload_max_backoff,
            },
        )
        .with_metrics(Arc::clone(&parts.metrics));
        let inner = Arc::new(Inner {
            metadata: parts.metadata,
            segments,
            clock: parts.clock,
            agent: parts.agent,
            flush_interval: config.flush_interval_for(parts.remote_store),
            flush_bytes,
            tail_bytes: config.tail_bytes.as_u64() as usize,
            pending_bytes: AtomicUsize::new(0),
            buffer: Arc::new(Semaphore::new(buffer_bytes)),
            buffer_bytes,
            flush_signal: FlushSignal::default(),
            published: watch::Sender::new(0),
            partitions: RwLock::new(HashMap::new()),
            stopping: CancellationToken::new(),
            abort: CancellationToken::new(),
            rebalance_lock: tokio::sync::Mutex::new(()),
            gc_suspects: std::sync::Mutex::new(HashMap::new()),
            stats: EngineStats::default(),
            metrics: parts.metrics,
            config,
        });
        let mut agent = inner.agent.clone();
        agent.started_at_ms = inner.clock.now_ms();
        agent.heartbeat_at_ms = agent.started_at_ms;
        inner.metadata.register_agent(&agent).await?;
        leases::rebalance(&inner).await?;
        let tasks = vec![
            tokio::spawn(flush::run(Arc::clone(&inner))),
            tokio::spawn(leases::run(Arc::clone(&inner))),
            tokio::spawn(housekeeping::run(Arc::clone(&inner))),
        ];
        tracing::info!(
            agent = %inner.agent.id,
            flush_interval = ?inner.flush_interval,
            flush_bytes = inner.flush_bytes,
            partitions = inner.led_partitions().len(),
            "engine started"
        );
        Ok(Self {
            inner,
            tasks: Arc::new(tokio::sync::Mutex::new(tasks)),
        })
    }

    /// This agent's id.
    pub fn agent_id(&self) -> &str {
        &self.inner.agent.id
    }

    /// The metadata store (for layers above that need read access, such as admin APIs).
    pub fn metadata(&self) -> &Arc<dyn MetadataStore> {
        &self.inner.metadata
    }

    /// Counters.
    pub fn stats(&self) -> &EngineStats {
        &self.inner.stats
    }

    /// The Prometheus metrics this engine records into; the protocol layers above record
    /// into the same registry.
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.inner.metrics
    }

    /// The read cache's configured size.
    pub fn cache_capacity_bytes(&self) -> u64 {
        self.inner.segments.cache_capacity_bytes()
    }

    /// Checks that the object store answers: a HEAD of a key that need not exist
    /// (not-found is an answer). For readiness probes.
    pub async fn check_object_store(&self, timeout: Duration) -> Result<()> {
        let probe = object_store::path::Path::from("streamhouse-readiness-probe");
        let store = self.inner.segments.object_store();
        match tokio::time::timeout(timeout, store.head(&probe)).await {
            Err(_) => Err(Error::Storage(streamhouse_storage::Error::Store {
                op: "head",
                source: object_store::Error::Generic {
                    store: "probe",
                    source: format!("no answer within {timeout:?}").into(),
                },
            })),
            Ok(Ok(_) | Err(object_store::Error::NotFound { .. })) => Ok(()),
            Ok(Err(source)) => Err(Error::Storage(streamhouse_storage::Error::Store {
                op: "head",
                source,
            })),
        }
    }

    /// Bytes held by the read cache.
    pub fn cached_bytes(&self) -> u64 {
        self.inner.segments.cached_bytes()
    }

    /// Bytes held by the in-memory tail over every led partition (bounded by
    /// `engine.tail_bytes`, give or take each partition's newest block).
    pub fn tail_bytes(&self) -> u64 {
        self.inner
            .led_partitions()
            .iter()
            .map(|log| log.tail_bytes() as u64)
            .sum()
    }

    // ----- topics -----

    /// Creates a topic after validating its name, partition count and config, and takes
    /// this agent's share of its partitions at once.
    #[tracing::instrument(level = "info", skip(self, config), err(Display))]
    pub async fn create_topic(
        &self,
        name: &str,
        partitions: i32,
        config: TopicConfig,
    ) -> Result<Topic> {
        validate_new_topic(name, partitions, &config)?;
        let topic = self
            .inner
            .metadata
            .create_topic(name, partitions, &config, self.inner.clock.now_ms())
            .await
            .map_err(|e| match e {
                streamhouse_metadata::Error::TopicExists(name) => Error::TopicExists(name),
                other => other.into(),
            })?;
        leases::rebalance(&self.inner).await?;
        Ok(topic)
    }

    /// A topic by name.
    pub async fn topic(&self, name: &str) -> Result<Topic> {
        self.inner
            .metadata
            .get_topic(name)
            .await?
            .ok_or_else(|| Error::UnknownTopic(name.to_owned()))
    }

    /// All topics.
    pub async fn list_topics(&self) -> Result<Vec<Topic>> {
        Ok(self.inner.metadata.list_topics().await?)
    }

    /// Replaces a topic's config.
    #[tracing::instrument(level = "info", skip(self), err(Display))]
    pub async fn update_topic_config(&self, name: &str, config: TopicConfig) -> Result<()> {
        validate_topic_config(&config)?;
        self.inner
            .metadata
            .update_topic_config(name, &config)
            .await
            .map_err(|e| map_unknown_topic(e, name))?;
        let config = Arc::new(config);
        for log in self.inner.led_partitions() {
            if &*log.tp.topic == name {
                log.set_config(Arc::clone(&config));
            }
        }
        Ok(())
    }

    /// Grows a topic to `new_count` partitions.
    #[tracing::instrument(level = "info", skip(self), err(Display))]
    pub async fn add_partitions(&self, name: &str, new_count: i32) -> Result<Topic> {
        let topic = self
            .inner
            .metadata
            .add_partitions(name, new_count)
            .await
            .map_err(|e| match e {
                streamhouse_metadata::Error::InvalidPartitionCount { reason, .. } => {
                    Error::InvalidPartitions(reason)
                }
                other => map_unknown_topic(other, name),
            })?;
        leases::rebalance(&self.inner).await?;
        Ok(topic)
    }

    /// Deletes a topic. Appends still pending for it fail; its objects are collected later.
    #[tracing::instrument(level = "info", skip(self), err(Display))]
    pub async fn delete_topic(&self, name: &str) -> Result<Topic> {
        let topic = self
            .inner
            .metadata
            .delete_topic(name)
            .await
            .map_err(|e| map_unknown_topic(e, name))?;
        for log in self.inner.led_partitions() {
            if log.topic_id() == topic.id {
                self.inner.drop_partition(&log, CloseReason::TopicDeleted);
            }
        }
        self.inner.metrics.producer.forget_topic(name);
        self.inner.metrics.consumer.forget_topic(name);
        Ok(topic)
    }

    /// A partition's bounds and leader as recorded in the metadata store.
    pub async fn partition_state(&self, tp: &TopicPartition) -> Result<PartitionState> {
        self.inner
            .metadata
            .partition(&tp.topic, tp.partition)
            .await?
            .ok_or_else(|| self.unknown(tp))
    }

    /// A partition's log start offset and high watermark: from memory if this agent leads
    /// it, else from the metadata store.
    pub async fn offsets(&self, tp: &TopicPartition) -> Result<(Offset, Offset)> {
        match self.inner.partition(tp) {
            Some(log) => Ok(log.bounds()),
            None => {
                let state = self.partition_state(tp).await?;
                Ok((state.log_start_offset, state.high_watermark))
            }
        }
    }

    /// Partitions this agent leads now.
    pub fn led_partitions(&self) -> Vec<TopicPartition> {
        let mut led: Vec<TopicPartition> = self
            .inner
            .led_partitions()
            .iter()
            .map(|l| l.tp.clone())
            .collect();
        led.sort();
        led
    }

    // ----- the write path -----

    /// Appends record batches (Kafka RecordBatch v2, concatenated) to a partition this
    /// agent leads. Validates every batch (framing, CRC, size, idempotence), assigns
    /// offsets, and resolves once the data is durable: uploaded and committed. Waits for
    /// buffer space when too much data is pending (backpressure).
    pub async fn append(
        &self,
        tp: &TopicPartition,
        records: impl Into<Records>,
    ) -> Result<AppendOutcome> {
        self.submit(tp, records).await?.durable().await
    }

    /// The first half of [`Engine::append`]: validates the batches and assigns their
    /// offsets, waiting only for buffer space. Submissions to one partition get offsets in
    /// the order they are made, so a protocol layer can submit pipelined requests in order
    /// and then wait for their durability concurrently. [`Records::Owned`] bytes are kept
    /// without a copy when large.
    pub async fn submit(
        &self,
        tp: &TopicPartition,
        records: impl Into<Records>,
    ) -> Result<Submitted> {
        let records = records.into();
        if self.inner.stopping.is_cancelled() {
            return Err(Error::ShuttingDown);
        }
        let log = match self.inner.partition(tp) {
            Some(log) => log,
            None => return Err(self.not_led(tp).await),
        };
        let batches = validate_batch_ranges(&records).map_err(|source| Error::CorruptBatch {
            tp: tp.clone(),
            source,
        })?;
        if batches.is_empty() {
            return Err(Error::CorruptBatch {
                tp: tp.clone(),
                source: streamhouse_records::BatchError::Empty,
            });
        }
        if let Some((header, _)) = batches
            .iter()
            .find(|(h, _)| h.is_transactional() || h.is_control())
        {
            return Err(Error::UnsupportedBatch {
                tp: tp.clone(),
                reason: if header.is_control() {
                    "control batches are written by the broker, not producers"
                } else {
                    "transactions are not supported yet"
                },
            });
        }
        let max = log.config().max_message_bytes.max(0) as usize;
        if let Some((_, too_big)) = batches.iter().find(|(_, b)| b.len() > max) {
            return Err(Error::MessageTooLarge {
                size: too_big.len(),
                max,
            });
        }
        let len = records.len();
        if len > self.inner.buffer_bytes {
            return Err(Error::MessageTooLarge {
                size: len,
                max: self.inner.buffer_bytes,
            });
        }
        let permit = tokio::select! {
            permit = Arc::clone(&self.inner.buffer).acquire_many_owned(len as u32) => {
                permit.map_err(|_| Error::ShuttingDown)?
            }
            () = self.inner.stopping.cancelled() => return Err(Error::ShuttingDown),
        };
        // Counted before the bytes enter the pending chunk, so the flusher never takes
        // bytes it has not been told about.
        self.inner.note_pending(len);
        let durable = match log.append(records, &batches, permit, self.inner.clock.now_ms()) {
            Ok((outcome, Some(durable))) => {
                self.inner
                    .stats
                    .batches_appended
                    .fetch_add(batches.len() as u64, Ordering::Relaxed);
                self.inner
                    .stats
                    .bytes_appended
                    .fetch_add(len as u64, Ordering::Relaxed);
                let records: u64 = batches
                    .iter()
                    .map(|(h, _)| u64::try_from(h.record_count).unwrap_or(0))
                    .sum();
                self.inner
                    .metrics
                    .producer
                    .appended(&log.produced, records, len as u64);
                (outcome, durable)
            }
            Ok((outcome, None)) => {
                // An idempotent retry of data already written: nothing new is pending.
                self.inner.pending_bytes.fetch_sub(len, Ordering::AcqRel);
                return Ok(Submitted {
                    outcome,
                    durable: None,
                });
            }
            Err(error) => {
                self.inner.pending_bytes.fetch_sub(len, Ordering::AcqRel);
                return Err(error);
            }
        };
        let (outcome, durable) = durable;
        Ok(Submitted {
            outcome,
            durable: Some(durable),
        })
    }

    // ----- the read path -----

    /// Reads whole stored batches from `offset` on, up to about `max_bytes` (the first batch
    /// is returned even if larger). Empty at the high watermark; an offset outside
    /// `log_start..=high_watermark` is [`Error::OffsetOutOfRange`].
    pub async fn read(
        &self,
        tp: &TopicPartition,
        offset: Offset,
        max_bytes: usize,
    ) -> Result<ReadResult> {
        read::read(self, tp, offset, max_bytes).await
    }

    /// Changes each time a flush makes new data readable on this agent. A long-poll over
    /// many partitions waits on this one receiver (then checks its partitions) instead of
    /// registering a waiter per partition.
    pub fn data_published(&self) -> watch::Receiver<u64> {
        self.inner.published.subscribe()
    }

    /// Whether this agent leads `tp` now (only then does [`Engine::data_published`] cover it).
    pub fn leads(&self, tp: &TopicPartition) -> bool {
        self.inner.partition(tp).is_some()
    }

    /// The offset and timestamp of the first record at or after `timestamp` (Kafka
    /// ListOffsets by time); `None` if all data is older.
    pub async fn offset_for_timestamp(
        &self,
        tp: &TopicPartition,
        timestamp: streamhouse_types::TimestampMs,
    ) -> Result<Option<(Offset, streamhouse_types::TimestampMs)>> {
        read::offset_for_timestamp(self, tp, timestamp).await
    }

    /// The offset and timestamp of the record with the largest timestamp (Kafka ListOffsets
    /// MAX_TIMESTAMP); `None` for an empty log.
    pub async fn max_timestamp(
        &self,
        tp: &TopicPartition,
    ) -> Result<Option<(Offset, streamhouse_types::TimestampMs)>> {
        read::max_timestamp(self, tp).await
    }

    /// A fresh idempotent producer id (Kafka InitProducerId).
    pub async fn allocate_producer_id(&self) -> Result<i64> {
        Ok(self.inner.metadata.allocate_producer_id().await?)
    }

    /// Runs one retention pass over the partitions this agent leads.
    pub async fn run_retention(&self) -> Result<()> {
        housekeeping::retention::run_once(&self.inner).await
    }

    /// Runs one merge pass over the partitions this agent leads. Returns objects written.
    pub async fn run_merge(&self) -> Result<usize> {
        housekeeping::merge::run_once(&self.inner).await
    }

    /// Runs one garbage-collection pass. Returns objects deleted.
    pub async fn run_gc(&self) -> Result<usize> {
        housekeeping::gc::run_once(&self.inner).await
    }

    /// Deletes records before `offset` (Kafka DeleteRecords). Returns the new log start.
    #[tracing::instrument(level = "info", skip(self), fields(%tp), err(Display))]
    pub async fn delete_records(&self, tp: &TopicPartition, offset: Offset) -> Result<Offset> {
        let log = match self.inner.partition(tp) {
            Some(log) => log,
            None => return Err(self.not_led(tp).await),
        };
        let (log_start, hw) = log.bounds();
        if offset < log_start || offset > hw {
            return Err(Error::OffsetOutOfRange {
                tp: tp.clone(),
                offset,
                log_start_offset: log_start,
                high_watermark: hw,
            });
        }
        let start = self
            .inner
            .metadata
            .advance_log_start(log.lease, offset)
            .await?;
        log.set_log_start(start);
        Ok(start)
    }

    /// Graceful shutdown: refuses new appends, flushes everything already accepted, then
    /// releases leases so other agents take over at once. If the flush cannot finish
    /// within `deadline`, in-flight uploads are abandoned and their appends fail (they were
    /// never acknowledged).
    pub async fn shutdown(&self, deadline: Duration) {
        self.inner.stopping.cancel();
        self.inner.flush_signal.notify.notify_one();
        let tasks = std::mem::take(&mut *self.tasks.lock().await);
        let started = Instant::now();
        for task in tasks {
            let left = deadline.saturating_sub(started.elapsed());
            let abort = task.abort_handle();
            if tokio::time::timeout(left, task).await.is_err() {
                tracing::error!("shutdown deadline passed; abandoning in-flight work");
                self.inner.abort.cancel();
                abort.abort();
            }
        }
        for log in self.inner.led_partitions() {
            if let Err(error) = self
                .inner
                .metadata
                .release_lease(&self.inner.agent.id, log.lease)
                .await
            {
                tracing::warn!(tp = %log.tp, %error, "could not release lease");
            }
            self.inner.drop_partition(&log, CloseReason::LostLease);
        }
        if let Err(error) = self
            .inner
            .metadata
            .deregister_agent(&self.inner.agent.id)
            .await
        {
            tracing::warn!(%error, "could not deregister agent");
        }
        tracing::info!("engine stopped");
    }

    /// Why this agent cannot write `tp`: it does not exist, or another agent leads it.
    async fn not_led(&self, tp: &TopicPartition) -> Error {
        match self.inner.metadata.partition(&tp.topic, tp.partition).await {
            Ok(Some(_)) => Error::NotLeader(tp.clone()),
            Ok(None) => match self.inner.metadata.get_topic(&tp.topic).await {
                Ok(Some(_)) => Error::UnknownPartition(tp.clone()),
                Ok(None) => Error::UnknownTopic(tp.topic.to_string()),
                Err(error) => error.into(),
            },
            Err(error) => error.into(),
        }
    }

    fn unknown(&self, tp: &TopicPartition) -> Error {
        Error::UnknownPartition(tp.clone())
    }
}

fn map_unknown_topic(error: streamhouse_metadata::Error, name: &str) -> Error {
    match error {
        streamhouse_metadata::Error::UnknownTopic(_) => Error::UnknownTopic(name.to_owned()),
        other => other.into(),
    }
}

/// The checks a new topic must pass: Kafka's name rules, 1..=100000 partitions, and a
/// valid config.
pub fn validate_new_topic(name: &str, partitions: i32, config: &TopicConfig) -> Result<()> {
    validate_topic_name(name).map_err(Error::InvalidTopic)?;
    if !(1..=100_000).contains(&partitions) {
        return Err(Error::InvalidPartitions(format!(
            "a topic needs between 1 and 100000 partitions, not {partitions}"
        )));
    }
    validate_topic_config(config)
}

/// Checks a topic config's values are in range.
pub fn validate_topic_config(config: &TopicConfig) -> Result<()> {
    let mut problems = Vec::new();
    if config.retention_ms < -1 {
        problems.push(format!(
            "retention.ms must be -1 or at least 0, not {}",
            config.retention_ms
        ));
    }
    if config.retention_bytes < -1 {
        problems.push(format!(
            "retention.bytes must be -1 or at least 0, not {}",
            config.retention_bytes
        ));
    }
    if config.max_message_bytes < 0 {
        problems.push(format!(
            "max.message.bytes must be at least 0, not {}",
            config.max_message_bytes
        ));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Error::InvalidConfig(problems.join("; ")))
    }
}

impl Inner {
    pub(crate) fn partition(&self, tp: &TopicPartition) -> Option<Arc<PartitionLog>> {
        self.partitions
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(tp)
            .cloned()
    }

    pub(crate) fn led_partitions(&self) -> Vec<Arc<PartitionLog>> {
        self.partitions
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .values()
            .cloned()
            .collect()
    }

    pub(crate) fn insert_partition(&self, log: Arc<PartitionLog>) {
        let previous = self
            .partitions
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(log.tp.clone(), log);
        self.metrics.agent.lease_acquired();
        if let Some(previous) = previous {
            previous.close(CloseReason::LostLease);
        }
    }

    /// Stops leading a partition: closes it (failing pending appends) and forgets it.
    pub(crate) fn drop_partition(&self, log: &Arc<PartitionLog>, reason: CloseReason) {
        {
            let mut map = self
                .partitions
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if map
                .get(&log.tp)
                .is_some_and(|current| Arc::ptr_eq(current, log))
            {
                map.remove(&log.tp);
                self.metrics.agent.lease_lost();
            }
        }
        let dropped = {
            let state = log.state();
            state.pending.bytes.len()
        };
        log.close(reason);
        self.pending_bytes.fetch_sub(dropped, Ordering::AcqRel);
    }

    pub(crate) fn note_pending(&self, len: usize) {
        let before = self.pending_bytes.fetch_add(len, Ordering::AcqRel);
        if before == 0 {
            let mut first = self
                .flush_signal
                .first_pending
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            first.get_or_insert_with(Instant::now);
            drop(first);
            self.flush_signal.notify.notify_one();
        } else if before + len >= self.flush_bytes {
            self.flush_signal.notify.notify_one();
        }
    }

    /// Each led partition's share of the tail budget (at least one chunk is always kept).
    pub(crate) fn tail_cap_per_partition(&self) -> usize {
        let led = self
            .partitions
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .len()
            .max(1);
        self.tail_bytes / led
    }
}
