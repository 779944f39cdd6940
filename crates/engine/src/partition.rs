//! A partition this agent leads: offset assignment, the pending (not yet durable) chunk,
//! and the in-memory tail of recent durable batches.

use std::collections::{HashMap, VecDeque};
use std::ops::Range;
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

use streamhouse_metadata::{LeaseEpoch, ProducerBatch, ProducerState, TimestampType, TopicConfig};
use streamhouse_metrics::TopicCounters;
use streamhouse_records::{BatchHeader, patch_base_offset, patch_max_timestamp};
use streamhouse_types::{Offset, TimestampMs, TopicPartition};
use tokio::sync::{OwnedSemaphorePermit, oneshot};
use uuid::Uuid;

use crate::blocks::{Block, BlockBuffer, Records};
use crate::{Error, Result};

/// Kafka keeps the last five batches per producer for duplicate detection.
const PRODUCER_WINDOW: usize = 5;

/// Where an append landed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AppendOutcome {
    /// Offset of the first record appended.
    pub base_offset: Offset,
    /// Offset of the last record appended.
    pub last_offset: Offset,
    /// The broker timestamp for LogAppendTime topics, else `None`.
    pub log_append_time: Option<TimestampMs>,
    /// True if the batches were a retry of ones already written (idempotent producer);
    /// the offsets are the original ones and nothing new was stored.
    pub duplicate: bool,
}

pub(crate) type AppendWaiter = oneshot::Sender<Result<()>>;

/// Batches accepted for one partition since the last flush.
#[derive(Debug, Default)]
pub(crate) struct PendingChunk {
    pub(crate) bytes: BlockBuffer,
    pub(crate) base_offset: Offset,
    pub(crate) last_offset: Offset,
    pub(crate) max_timestamp: TimestampMs,
    pub(crate) record_count: i64,
    pub(crate) producers: HashMap<i64, ProducerState>,
    pub(crate) waiters: Vec<AppendWaiter>,
    pub(crate) permits: Option<OwnedSemaphorePermit>,
}

impl PendingChunk {
    fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }
}

#[derive(Debug)]
pub(crate) struct LogState {
    /// Next offset to assign (the high watermark plus everything pending or in flight).
    pub(crate) next_offset: Offset,
    pub(crate) log_start_offset: Offset,
    pub(crate) high_watermark: Offset,
    pub(crate) pending: PendingChunk,
    /// Bytes of the last chunk taken for a flush: the size to expect of the next one.
    last_chunk_len: usize,
    /// Recent durable blocks, for tail reads.
    pub(crate) tail: VecDeque<Block>,
    tail_bytes: usize,
    producers: HashMap<i64, ProducerState>,
    /// Set when the lease is lost or the topic deleted: no more appends.
    pub(crate) closed: Option<CloseReason>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CloseReason {
    LostLease,
    TopicDeleted,
}

/// A led partition.
#[derive(Debug)]
pub(crate) struct PartitionLog {
    pub(crate) tp: TopicPartition,
    pub(crate) lease: LeaseEpoch,
    pub(crate) config: RwLock<Arc<TopicConfig>>,
    state: Mutex<LogState>,
    /// This topic's produce counters (`streamhouse_producer_*`).
    pub(crate) produced: TopicCounters,
}

impl PartitionLog {
    pub(crate) fn new(
        tp: TopicPartition,
        lease: LeaseEpoch,
        config: Arc<TopicConfig>,
        log_start_offset: Offset,
        high_watermark: Offset,
        producers: Vec<ProducerState>,
        produced: TopicCounters,
    ) -> Self {
        Self {
            tp,
            lease,
            config: RwLock::new(config),
            state: Mutex::new(LogState {
                next_offset: high_watermark,
                log_start_offset,
                high_watermark,
                pending: PendingChunk::default(),
                last_chunk_len: 0,
                tail: VecDeque::new(),
                tail_bytes: 0,
                producers: producers.into_iter().map(|p| (p.producer_id, p)).collect(),
                closed: None,
            }),
            produced,
        }
    }

    pub(crate) fn topic_id(&self) -> Uuid {
        self.lease.topic_id
    }

    pub(crate) fn state(&self) -> MutexGuard<'_, LogState> {
        // A panic while holding this lock would be a bug; the data it guards stays
        // consistent at every await-free step, so recovering the guard is safe.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub(crate) fn config(&self) -> Arc<TopicConfig> {
        Arc::clone(
            &self
                .config
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        )
    }

    pub(crate) fn set_config(&self, config: Arc<TopicConfig>) {
        *self
            .config
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = config;
    }

    /// Assigns offsets to validated batches (`batches` locates each in `records`) and
    /// adds them to the pending chunk. Returns the outcome and a receiver that resolves
    /// once the chunk is durable.
    pub(crate) fn append(
        &self,
        records: Records,
        batches: &[(BatchHeader, Range<usize>)],
        permit: OwnedSemaphorePermit,
        now_ms: TimestampMs,
    ) -> Result<(AppendOutcome, Option<oneshot::Receiver<Result<()>>>)> {
        let config = self.config();
        let log_append_time =
            (config.timestamp_type == TimestampType::LogAppendTime).then_some(now_ms);
        let mut state = self.state();
        match state.closed {
            Some(CloseReason::LostLease) => return Err(Error::NotLeader(self.tp.clone())),
            Some(CloseReason::TopicDeleted) => {
                return Err(Error::UnknownTopic(self.tp.topic.to_string()));
            }
            None => {}
        }
        if let Some(duplicate) = state.check_idempotence(batches)? {
            return Ok((duplicate, None));
        }
        let base_offset = state.next_offset;
        if state.pending.is_empty() {
            state.pending.base_offset = base_offset;
            state.pending.max_timestamp = -1;
        }
        let mut offset = base_offset;
        for (header, _) in batches {
            let max_timestamp = log_append_time.unwrap_or(header.max_timestamp);
            if header.is_idempotent() {
                state.record_producer_batch(header, offset, max_timestamp);
            }
            state.pending.record_count += i64::from(header.record_count);
            state.pending.max_timestamp = state.pending.max_timestamp.max(max_timestamp);
            offset += i64::from(header.last_offset_delta) + 1;
        }
        let last_offset = offset - 1;
        state.next_offset = offset;
        state.pending.last_offset = last_offset;
        let size_hint = state.last_chunk_len;
        state
            .pending
            .bytes
            .push(records, base_offset, last_offset, size_hint, |stored| {
                let mut offset = base_offset;
                for (header, range) in batches {
                    let batch = &mut stored[range.clone()];
                    patch_base_offset(batch, offset);
                    if let Some(now) = log_append_time {
                        patch_max_timestamp(batch, now);
                    }
                    offset += i64::from(header.last_offset_delta) + 1;
                }
            });
        let (tx, rx) = oneshot::channel();
        state.pending.waiters.push(tx);
        match &mut state.pending.permits {
            Some(held) => held.merge(permit),
            slot @ None => *slot = Some(permit),
        }
        let outcome = AppendOutcome {
            base_offset,
            last_offset: state.next_offset - 1,
            log_append_time,
            duplicate: false,
        };
        Ok((outcome, Some(rx)))
    }

    /// Takes the pending chunk for a flush, leaving an empty one.
    pub(crate) fn take_pending(&self) -> Option<PendingChunk> {
        let mut state = self.state();
        if state.pending.is_empty() {
            return None;
        }
        state.last_chunk_len = state.pending.bytes.len();
        Some(std::mem::take(&mut state.pending))
    }

    /// Makes a flushed chunk (its blocks, in order) visible: advances the high watermark and
    /// keeps the blocks in the tail (long-polls are woken once the whole flush is
    /// published; see `Engine::data_published`). `tail_cap` bounds this partition's share
    /// of the tail.
    pub(crate) fn publish(&self, blocks: &[Block], tail_cap: usize) {
        let mut state = self.state();
        for block in blocks {
            debug_assert_eq!(
                block.base_offset, state.high_watermark,
                "blocks are published in order"
            );
            state.high_watermark = block.last_offset + 1;
            state.tail_bytes += block.bytes.len();
            state.tail.push_back(block.clone());
        }
        state.trim_tail(tail_cap);
    }

    /// Bytes held by this partition's tail.
    pub(crate) fn tail_bytes(&self) -> usize {
        self.state().tail_bytes
    }

    /// Evicts the oldest tail blocks beyond `tail_cap` bytes. A partition that publishes
    /// is trimmed as it does; an idle one is trimmed by the flusher, because the cap per
    /// partition shrinks as this agent takes more partitions.
    pub(crate) fn trim_tail(&self, tail_cap: usize) {
        self.state().trim_tail(tail_cap);
    }

    /// Stops accepting appends and fails everything not yet durable.
    pub(crate) fn close(&self, reason: CloseReason) {
        let pending = {
            let mut state = self.state();
            state.closed = Some(reason);
            std::mem::take(&mut state.pending)
        };
        for waiter in pending.waiters {
            let _ = waiter.send(Err(self.close_error(reason)));
        }
    }

    pub(crate) fn close_error(&self, reason: CloseReason) -> Error {
        match reason {
            CloseReason::LostLease => Error::NotLeader(self.tp.clone()),
            CloseReason::TopicDeleted => Error::UnknownTopic(self.tp.topic.to_string()),
        }
    }

    pub(crate) fn set_log_start(&self, log_start_offset: Offset) {
        let mut state = self.state();
        state.log_start_offset = state.log_start_offset.max(log_start_offset);
        while state
            .tail
            .front()
            .is_some_and(|c| c.last_offset < log_start_offset)
        {
            if let Some(evicted) = state.tail.pop_front() {
                state.tail_bytes -= evicted.bytes.len();
            }
        }
    }

    pub(crate) fn bounds(&self) -> (Offset, Offset) {
        let state = self.state();
        (state.log_start_offset, state.high_watermark)
    }
}

impl LogState {
    /// Evicts the oldest tail blocks until at most `tail_cap` bytes remain, keeping the
    /// newest block whatever its size.
    fn trim_tail(&mut self, tail_cap: usize) {
        while self.tail.len() > 1 && self.tail_bytes > tail_cap {
            if let Some(evicted) = self.tail.pop_front() {
                self.tail_bytes -= evicted.bytes.len();
            }
        }
    }

    /// Kafka's idempotence rules for the first batch of a request; later batches of the
    /// same producer must continue the sequence. Returns the original outcome for a
    /// duplicate.
    fn check_idempotence(
        &self,
        batches: &[(BatchHeader, Range<usize>)],
    ) -> Result<Option<AppendOutcome>> {
        let mut expected: HashMap<i64, i32> = HashMap::new();
        for (header, _) in batches {
            if !header.is_idempotent() {
                continue;
            }
            let id = header.producer_id;
            let Some(known) = self.producers.get(&id) else {
                // Unknown producer (new, or its state expired): accept any start.
                expected.insert(id, header.last_sequence().wrapping_add(1));
                continue;
            };
            if header.producer_epoch < known.producer_epoch {
                return Err(Error::InvalidProducerEpoch {
                    producer_id: id,
                    epoch: header.producer_epoch,
                    current: known.producer_epoch,
                });
            }
            if header.producer_epoch > known.producer_epoch {
                if header.base_sequence != 0 {
                    return Err(Error::OutOfOrderSequence {
                        producer_id: id,
                        sequence: header.base_sequence,
                        expected: 0,
                    });
                }
                expected.insert(id, header.last_sequence().wrapping_add(1));
                continue;
            }
            // A retry of one of the last five batches: answer with its original offsets.
            // (Producers send one batch per partition per request.)
            let retried = known.batches.iter().find(|b| {
                b.first_sequence == header.base_sequence
                    && b.last_sequence == header.last_sequence()
            });
            if let Some(original) = retried
                && batches.len() == 1
            {
                return Ok(Some(AppendOutcome {
                    base_offset: original.base_offset,
                    last_offset: original.base_offset + i64::from(header.last_offset_delta),
                    log_append_time: None,
                    duplicate: true,
                }));
            }
            let next = expected.get(&id).copied().unwrap_or_else(|| {
                known
                    .batches
                    .last()
                    .map_or(0, |b| b.last_sequence.wrapping_add(1) & i32::MAX)
            });
            if header.base_sequence != next {
                return Err(Error::OutOfOrderSequence {
                    producer_id: id,
                    sequence: header.base_sequence,
                    expected: next,
                });
            }
            expected.insert(id, header.last_sequence().wrapping_add(1));
        }
        Ok(None)
    }

    fn record_producer_batch(
        &mut self,
        header: &BatchHeader,
        base_offset: Offset,
        timestamp: TimestampMs,
    ) {
        let state = self
            .producers
            .entry(header.producer_id)
            .or_insert_with(|| ProducerState {
                producer_id: header.producer_id,
                producer_epoch: header.producer_epoch,
                batches: Vec::new(),
            });
        if state.producer_epoch != header.producer_epoch {
            state.producer_epoch = header.producer_epoch;
            state.batches.clear();
        }
        state.batches.push(ProducerBatch {
            first_sequence: header.base_sequence,
            last_sequence: header.last_sequence(),
            base_offset,
            timestamp,
        });
        if state.batches.len() > PRODUCER_WINDOW {
            state.batches.remove(0);
        }
        let snapshot = state.clone();
        self.pending.producers.insert(header.producer_id, snapshot);
    }
}
