//! The flusher: turns every led partition's pending chunk into one object, uploads it,
//! commits the segment index in one metadata transaction, then makes the data visible.
//!
//! One flush is in flight at a time, and flushes begin at most once per `flush_interval`;
//! appends keep accumulating for the next one meanwhile, so a slow upload or a burst of
//! data turns into bigger objects rather than more of them.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use streamhouse_metadata::{CommitOutcome, PartitionCommit, SegmentRef};
use streamhouse_storage::format::{ChunkMeta, ObjectBuilder};
use tokio::sync::Notify;

use crate::Error;
use crate::engine::Inner;
use crate::partition::{CloseReason, PartitionLog, PendingChunk};

/// Wakes the flusher: on the first pending byte, when the size threshold is reached, and
/// on shutdown.
#[derive(Debug, Default)]
pub(crate) struct FlushSignal {
    pub(crate) notify: Notify,
    /// When the oldest pending append arrived (the flush interval counts from it).
    pub(crate) first_pending: std::sync::Mutex<Option<Instant>>,
}

/// The flush policy. A flush starts `flush_interval` after the first byte pending since the
/// last one, or earlier once `flush_bytes` are pending, but never sooner than
/// `flush_interval` after the previous flush began: an agent makes at most one PUT per
/// interval, whatever its throughput (objects grow instead, within
/// `engine.max_buffered_bytes`). On shutdown it flushes at once.
pub(crate) async fn run(inner: Arc<Inner>) {
    let interval = inner.flush_interval;
    let mut last_flush: Option<Instant> = None;
    loop {
        let stopping = inner.stopping.is_cancelled();
        let pending = inner.pending_bytes.load(Ordering::Acquire);
        if pending == 0 {
            if stopping {
                break;
            }
            tokio::select! {
                () = inner.flush_signal.notify.notified() => {}
                () = inner.stopping.cancelled() => {}
            }
            continue;
        }
        if !stopping {
            if pending < inner.flush_bytes {
                let started = *inner
                    .flush_signal
                    .first_pending
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                let deadline = started.unwrap_or_else(Instant::now) + interval;
                if Instant::now() < deadline {
                    tokio::select! {
                        () = tokio::time::sleep_until(deadline.into()) => {}
                        // The size threshold may have been reached: decide again.
                        () = inner.flush_signal.notify.notified() => continue,
                        () = inner.stopping.cancelled() => {}
                    }
                }
            } else if let Some(spaced) = last_flush.map(|at| at + interval)
                && Instant::now() < spaced
            {
                tokio::select! {
                    () = tokio::time::sleep_until(spaced.into()) => {}
                    () = inner.stopping.cancelled() => {}
                }
            }
        }
        last_flush = Some(Instant::now());
        flush_once(&inner).await;
    }
    tracing::debug!("flusher stopped");
}

struct Taken {
    log: Arc<PartitionLog>,
    chunk: PendingChunk,
}

/// Flushes everything pending now. Never drops accepted data: upload and commit are retried
/// until they succeed, the partition's lease is lost, or the engine is aborted.
pub(crate) async fn flush_once(inner: &Arc<Inner>) {
    *inner
        .flush_signal
        .first_pending
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner) = None;
    let tail_cap = inner.tail_cap_per_partition();
    let mut taken: Vec<Taken> = Vec::new();
    for log in inner.led_partitions() {
        match log.take_pending() {
            Some(chunk) => taken.push(Taken { log, chunk }),
            // The cap per partition shrinks as partitions are added; an idle partition is
            // not trimmed by publishing, so it is trimmed here, keeping the whole tail
            // within `engine.tail_bytes`.
            None => log.trim_tail(tail_cap),
        }
    }
    if taken.is_empty() {
        return;
    }
    let flushed_bytes: usize = taken.iter().map(|t| t.chunk.bytes.len()).sum();
    inner
        .pending_bytes
        .fetch_sub(flushed_bytes, Ordering::AcqRel);

    let mut chunks = Vec::with_capacity(taken.len());
    let mut builder = ObjectBuilder::new();
    for t in &mut taken {
        let blocks = std::mem::take(&mut t.chunk.bytes).into_blocks();
        let range = builder.push_chunk(
            ChunkMeta {
                topic_id: t.log.topic_id(),
                partition: t.log.tp.partition,
                base_offset: t.chunk.base_offset,
                last_offset: t.chunk.last_offset,
                max_timestamp: t.chunk.max_timestamp,
                record_count: t.chunk.record_count,
            },
            blocks.iter().map(|b| b.bytes.clone()),
        );
        chunks.push((blocks, range));
    }
    let payload = builder.finish();

    let started = Instant::now();
    let mut key = inner.segments.new_flush_key();
    let mut uploaded_at = Instant::now();
    if let Err(error) = inner
        .segments
        .put_until(&key, payload.clone(), &inner.abort)
        .await
    {
        inner.metrics.storage.flush_failed();
        fail_all(taken, &error.into());
        return;
    }

    let mut live: Vec<usize> = (0..taken.len()).collect();
    let mut backoff = Duration::from_millis(10);
    let mut attempt = 0u32;
    while !live.is_empty() {
        attempt += 1;
        // After failed commits, an object older than half the GC grace period might be
        // collected before the commit makes it referenced: write it again under a new key.
        if attempt > 1 && uploaded_at.elapsed() > inner.config.gc_grace / 2 {
            key = inner.segments.new_flush_key();
            if let Err(error) = inner
                .segments
                .put_until(&key, payload.clone(), &inner.abort)
                .await
            {
                fail_all(taken, &error.into());
                return;
            }
            uploaded_at = Instant::now();
        }
        let commits: Vec<PartitionCommit> = live
            .iter()
            .map(|&i| {
                let t = &taken[i];
                let range = &chunks[i].1;
                PartitionCommit {
                    lease: t.log.lease,
                    segment: SegmentRef {
                        base_offset: t.chunk.base_offset,
                        last_offset: t.chunk.last_offset,
                        max_timestamp: t.chunk.max_timestamp,
                        object_key: key.clone(),
                        byte_offset: range.start as i64,
                        byte_length: (range.end - range.start) as i64,
                        record_count: t.chunk.record_count,
                    },
                    producers: t.chunk.producers.values().cloned().collect(),
                }
            })
            .collect();
        match inner.metadata.commit_flush(&commits).await {
            Ok(outcomes) => {
                let fenced: Vec<usize> = live
                    .iter()
                    .zip(&outcomes)
                    .filter(|(_, o)| **o == CommitOutcome::Fenced)
                    .map(|(&i, _)| i)
                    .collect();
                if fenced.is_empty() {
                    break;
                }
                for &i in &fenced {
                    let log = Arc::clone(&taken[i].log);
                    tracing::warn!(tp = %log.tp, epoch = log.lease.epoch, "flush fenced: lease lost");
                    inner.drop_partition(&log, CloseReason::LostLease);
                    for waiter in std::mem::take(&mut taken[i].chunk.waiters) {
                        let _ = waiter.send(Err(Error::NotLeader(log.tp.clone())));
                    }
                }
                live.retain(|i| !fenced.contains(i));
            }
            Err(error) if inner.abort.is_cancelled() => {
                fail_all(taken, &error.into());
                return;
            }
            Err(error) => {
                tracing::warn!(%error, ?backoff, "flush commit failed; retrying");
                inner.metrics.storage.flush_failed();
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(inner.config.upload_max_backoff);
            }
        }
    }

    for i in live {
        let t = &mut taken[i];
        t.log.publish(&chunks[i].0, tail_cap);
        for waiter in std::mem::take(&mut t.chunk.waiters) {
            let _ = waiter.send(Ok(()));
        }
    }
    inner.published.send_modify(|flushes| *flushes += 1);
    inner.stats.flushes.fetch_add(1, Ordering::Relaxed);
    inner
        .metrics
        .storage
        .flushed(started.elapsed(), flushed_bytes as u64);
}

fn fail_all(taken: Vec<Taken>, error: &Error) {
    tracing::error!(%error, "flush abandoned; failing its appends");
    for t in taken {
        for waiter in t.chunk.waiters {
            let _ = waiter.send(Err(Error::ShuttingDown));
        }
    }
}
