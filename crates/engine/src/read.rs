//! The read path: the in-memory tail, then the segment index and cached ranged GETs.

use bytes::Bytes;
use streamhouse_records::{batches, record_timestamps};
use streamhouse_types::{Offset, TopicPartition};

use crate::engine::Engine;
use crate::{Error, Result};

/// How many segment rows one cold read looks up at a time.
const SEGMENT_LOOKAHEAD: usize = 16;

/// Batches read from a partition.
#[derive(Debug, Clone, Default)]
pub struct ReadResult {
    /// Whole stored batches in offset order, as zero-copy slices of stored chunks.
    /// Concatenated, they are a valid Kafka `records` field.
    pub chunks: Vec<Bytes>,
    /// The partition's high watermark when read.
    pub high_watermark: Offset,
    /// The partition's log start offset when read.
    pub log_start_offset: Offset,
    /// Records in the returned batches (from their headers).
    pub records: u64,
}

impl ReadResult {
    /// Total bytes of batches returned.
    pub fn len(&self) -> usize {
        self.chunks.iter().map(Bytes::len).sum()
    }

    /// Whether no batch was returned.
    pub fn is_empty(&self) -> bool {
        self.chunks.is_empty()
    }

    /// The batches as one byte string (copies if there is more than one chunk).
    pub fn concat(&self) -> Bytes {
        match self.chunks.as_slice() {
            [] => Bytes::new(),
            [one] => one.clone(),
            many => many.concat().into(),
        }
    }
}

/// Appends to `out` the batches of `chunk` that end at or after `offset`, while the total
/// stays within `budget` (the first batch overall is always taken). Returns the next
/// offset to read and whether the budget stopped it.
fn take_batches(
    tp: &TopicPartition,
    chunk: &Bytes,
    offset: Offset,
    budget: &mut usize,
    out: &mut ReadResult,
) -> Result<(Offset, bool)> {
    let mut next = offset;
    let mut start: Option<usize> = None;
    let mut end = 0usize;
    let mut pos = 0usize;
    for item in batches(chunk) {
        let (header, batch) = item.map_err(|e| corrupt(tp, e))?;
        let batch_start = pos;
        pos += batch.len();
        if header.last_offset() < offset {
            continue;
        }
        let first_overall = out.is_empty() && start.is_none();
        if !first_overall && batch.len() > *budget {
            if let Some(s) = start {
                out.chunks.push(chunk.slice(s..end));
            }
            return Ok((next, true));
        }
        *budget = budget.saturating_sub(batch.len());
        out.records += u64::try_from(header.record_count).unwrap_or(0);
        start.get_or_insert(batch_start);
        end = pos;
        next = header.last_offset().saturating_add(1);
    }
    if let Some(s) = start {
        out.chunks.push(chunk.slice(s..end));
    }
    Ok((next, false))
}

pub(crate) async fn read(
    engine: &Engine,
    tp: &TopicPartition,
    offset: Offset,
    max_bytes: usize,
) -> Result<ReadResult> {
    let inner = &engine.inner;
    let led = inner.partition(tp);
    let (topic_id, log_start, hw) = match &led {
        Some(log) => {
            let (start, hw) = log.bounds();
            (log.topic_id(), start, hw)
        }
        None => {
            let state = engine.partition_state(tp).await?;
            (state.topic_id, state.log_start_offset, state.high_watermark)
        }
    };
    let mut result = ReadResult {
        chunks: Vec::new(),
        high_watermark: hw,
        log_start_offset: log_start,
        records: 0,
    };
    if offset < log_start || offset > hw {
        return Err(Error::OffsetOutOfRange {
            tp: tp.clone(),
            offset,
            log_start_offset: log_start,
            high_watermark: hw,
        });
    }
    let mut budget = max_bytes;
    let mut next = offset;

    // 1. The in-memory tail holds the most recent durable chunks, contiguous up to hw.
    if let Some(log) = &led {
        let tail: Vec<_> = {
            let state = log.state();
            match state.tail.front() {
                Some(front) if front.base_offset <= offset => state
                    .tail
                    .iter()
                    .filter(|c| c.last_offset >= offset)
                    .cloned()
                    .collect(),
                _ => Vec::new(),
            }
        };
        if !tail.is_empty() {
            inner
                .stats
                .tail_reads
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            inner.metrics.cache.tail_hit();
            for chunk in tail {
                let (after, full) = take_batches(tp, &chunk.bytes, next, &mut budget, &mut result)?;
                next = after;
                if full {
                    break;
                }
            }
            return Ok(result);
        }
    }

    // 2. Older data: the segment index, then the object store through the cache.
    inner
        .stats
        .storage_reads
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    while next < hw {
        let rows = inner
            .metadata
            .segments(topic_id, tp.partition, next, SEGMENT_LOOKAHEAD)
            .await?;
        if rows.is_empty() {
            break;
        }
        for row in rows {
            if row.base_offset > next {
                return Err(Error::CorruptStorage {
                    tp: tp.clone(),
                    reason: format!("segment index has a gap before offset {}", row.base_offset),
                });
            }
            let chunk = inner
                .segments
                .read_range(
                    &row.object_key,
                    row.byte_offset as u64,
                    row.byte_length as u64,
                )
                .await?;
            let (after, full) = take_batches(tp, &chunk, next, &mut budget, &mut result)?;
            next = after.max(row.last_offset + 1);
            if full || budget == 0 || next >= hw {
                return Ok(result);
            }
        }
    }
    if result.chunks.is_empty() && offset < hw {
        // Retention or a merge replaced the rows between our bounds check and the lookup.
        let state = engine.partition_state(tp).await?;
        if offset < state.log_start_offset {
            return Err(Error::OffsetOutOfRange {
                tp: tp.clone(),
                offset,
                log_start_offset: state.log_start_offset,
                high_watermark: state.high_watermark,
            });
        }
    }
    Ok(result)
}

/// The first record at or after `timestamp`: its offset and timestamp. `None` if every
/// record is older.
pub(crate) async fn offset_for_timestamp(
    engine: &Engine,
    tp: &TopicPartition,
    timestamp: streamhouse_types::TimestampMs,
) -> Result<Option<(Offset, streamhouse_types::TimestampMs)>> {
    let state = engine.partition_state(tp).await?;
    let Some(first) = engine
        .inner
        .metadata
        .segment_for_timestamp(state.topic_id, tp.partition, timestamp)
        .await?
    else {
        return Ok(None);
    };
    // The index narrows the search to the first segment whose max timestamp is late enough;
    // timestamps need not grow with offsets, so later segments are searched in turn.
    let mut from = first.base_offset;
    loop {
        let rows = engine
            .inner
            .metadata
            .segments(state.topic_id, tp.partition, from, SEGMENT_LOOKAHEAD)
            .await?;
        if rows.is_empty() {
            return Ok(None);
        }
        for row in rows {
            from = row.last_offset.saturating_add(1);
            if row.max_timestamp < timestamp {
                continue;
            }
            let chunk = read_segment(engine, &row).await?;
            for item in batches(&chunk) {
                let (header, batch) = item.map_err(|e| corrupt(tp, e))?;
                if header.max_timestamp < timestamp || header.last_offset() < state.log_start_offset
                {
                    continue;
                }
                let records = record_timestamps(&batch).map_err(|e| corrupt(tp, e))?;
                if let Some(found) = records
                    .into_iter()
                    .find(|(offset, ts)| *offset >= state.log_start_offset && *ts >= timestamp)
                {
                    return Ok(Some(found));
                }
            }
        }
    }
}

/// The record with the largest timestamp (the first one, if several share it): its offset
/// and timestamp, for ListOffsets' MAX_TIMESTAMP. `None` for an empty log.
pub(crate) async fn max_timestamp(
    engine: &Engine,
    tp: &TopicPartition,
) -> Result<Option<(Offset, streamhouse_types::TimestampMs)>> {
    let state = engine.partition_state(tp).await?;
    let rows = engine
        .inner
        .metadata
        .segments(
            state.topic_id,
            tp.partition,
            state.log_start_offset,
            usize::MAX >> 1,
        )
        .await?;
    let Some(best) =
        rows.iter().fold(
            None::<&streamhouse_metadata::SegmentRef>,
            |best, row| match best {
                Some(b) if b.max_timestamp >= row.max_timestamp => Some(b),
                _ => Some(row),
            },
        )
    else {
        return Ok(None);
    };
    let chunk = read_segment(engine, best).await?;
    for item in batches(&chunk) {
        let (header, batch) = item.map_err(|e| corrupt(tp, e))?;
        if header.max_timestamp != best.max_timestamp
            || header.last_offset() < state.log_start_offset
        {
            continue;
        }
        let records = record_timestamps(&batch).map_err(|e| corrupt(tp, e))?;
        if let Some(found) = records
            .into_iter()
            .find(|(offset, ts)| *offset >= state.log_start_offset && *ts == best.max_timestamp)
        {
            return Ok(Some(found));
        }
    }
    Ok(None)
}

async fn read_segment(engine: &Engine, row: &streamhouse_metadata::SegmentRef) -> Result<Bytes> {
    Ok(engine
        .inner
        .segments
        .read_range(
            &row.object_key,
            row.byte_offset as u64,
            row.byte_length as u64,
        )
        .await?)
}

fn corrupt(tp: &TopicPartition, error: streamhouse_records::BatchError) -> Error {
    Error::CorruptStorage {
        tp: tp.clone(),
        reason: error.to_string(),
    }
}
