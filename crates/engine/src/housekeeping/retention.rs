//! Time- and size-based retention: moves the log start offset past whole segments that
//! are too old or beyond the size budget, and drops their index rows. The objects are left
//! to the garbage collector.

use std::sync::Arc;

use streamhouse_metadata::SegmentRef;
use streamhouse_types::{Offset, TimestampMs};

use crate::Result;
use crate::engine::Inner;
use crate::partition::PartitionLog;

/// The log start offset retention allows, given a partition's segments (in offset order).
/// Kafka's rules: a segment expires when its largest timestamp is older than
/// `retention_ms`; the oldest segments go while the rest still exceed `retention_bytes`.
pub(crate) fn retained_start(
    segments: &[SegmentRef],
    now_ms: TimestampMs,
    retention_ms: i64,
    retention_bytes: i64,
) -> Option<Offset> {
    let mut drop = 0usize;
    if retention_ms >= 0 {
        let cutoff = now_ms - retention_ms;
        drop = segments
            .iter()
            .take_while(|s| s.max_timestamp < cutoff)
            .count();
    }
    if retention_bytes >= 0 {
        let mut total: i64 = segments.iter().map(|s| s.byte_length).sum();
        let mut by_size = 0usize;
        for segment in segments {
            if total - segment.byte_length < retention_bytes {
                break;
            }
            total -= segment.byte_length;
            by_size += 1;
        }
        drop = drop.max(by_size);
    }
    drop.checked_sub(1)
        .map(|last| segments[last].last_offset + 1)
}

pub(crate) async fn run_once(inner: &Arc<Inner>) -> Result<()> {
    let now = inner.clock.now_ms();
    for log in inner.led_partitions() {
        // One partition's failure (say, a lost lease) must not stop the others.
        if let Err(error) = enforce(inner, &log, now).await {
            tracing::warn!(tp = %log.tp, %error, "retention failed for a partition");
        }
    }
    Ok(())
}

async fn enforce(inner: &Arc<Inner>, log: &Arc<PartitionLog>, now: TimestampMs) -> Result<()> {
    let config = log.config();
    if config.retention_ms < 0 && config.retention_bytes < 0 {
        return Ok(());
    }
    let (log_start, _) = log.bounds();
    let segments = inner
        .metadata
        .segments(log.topic_id(), log.tp.partition, log_start, usize::MAX >> 1)
        .await?;
    let Some(new_start) =
        retained_start(&segments, now, config.retention_ms, config.retention_bytes)
    else {
        return Ok(());
    };
    if new_start <= log_start {
        return Ok(());
    }
    let start = inner
        .metadata
        .advance_log_start(log.lease, new_start)
        .await?;
    log.set_log_start(start);
    tracing::info!(tp = %log.tp, log_start = start, "retention advanced the log start");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg(base: i64, last: i64, ts: i64, len: i64) -> SegmentRef {
        SegmentRef {
            base_offset: base,
            last_offset: last,
            max_timestamp: ts,
            object_key: format!("k{base}"),
            byte_offset: 0,
            byte_length: len,
            record_count: last - base + 1,
        }
    }

    #[test]
    fn time_retention_drops_the_expired_prefix_only() {
        let segs = [
            seg(0, 9, 100, 10),
            seg(10, 19, 900, 10),
            seg(20, 29, 200, 10),
        ];
        // Only a prefix expires: segment 20..29 is old but follows a young one.
        assert_eq!(retained_start(&segs, 1_000, 500, -1), Some(10));
        assert_eq!(retained_start(&segs, 1_000, 5_000, -1), None);
        assert_eq!(retained_start(&segs, 10_000, 0, -1), Some(30));
    }

    #[test]
    fn size_retention_keeps_the_newest_within_budget() {
        let segs = [seg(0, 9, 0, 100), seg(10, 19, 0, 100), seg(20, 29, 0, 100)];
        assert_eq!(retained_start(&segs, 0, -1, 300), None);
        // Like Kafka, a segment goes only if what remains still meets the budget.
        assert_eq!(retained_start(&segs, 0, -1, 250), None);
        assert_eq!(retained_start(&segs, 0, -1, 200), Some(10));
        assert_eq!(retained_start(&segs, 0, -1, 199), Some(10));
        assert_eq!(retained_start(&segs, 0, -1, 100), Some(20));
        assert_eq!(retained_start(&segs, 0, -1, 0), Some(30));
    }
}
