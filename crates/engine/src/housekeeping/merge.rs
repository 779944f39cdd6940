//! Merging: rewrites runs of small flush chunks of one partition into one per-partition
//! object. The bytes are copied verbatim, so no offset or batch changes; the index rows are
//! swapped in one fenced transaction, and the old objects are left to the collector.

use std::sync::Arc;

use streamhouse_metadata::SegmentRef;
use streamhouse_storage::FLUSH_PREFIX;
use streamhouse_storage::format::{ChunkMeta, ObjectBuilder};
use uuid::Uuid;

use crate::Result;
use crate::engine::Inner;

/// Segments looked at per partition per pass.
const SCAN_LIMIT: usize = 10_000;

/// When a flush object was written, from its UUIDv7 key.
fn flush_object_time_ms(key: &str) -> Option<i64> {
    let name = key
        .strip_prefix(FLUSH_PREFIX)?
        .strip_prefix('/')?
        .strip_suffix(".seg")?;
    let (secs, nanos) = Uuid::parse_str(name).ok()?.get_timestamp()?.to_unix();
    Some(secs as i64 * 1000 + i64::from(nanos / 1_000_000))
}

/// Splits segments into runs worth merging: consecutive small flush chunks older than
/// `min_age_ms`, each run at most `target` bytes and at least two segments long.
pub(crate) fn plan(
    segments: &[SegmentRef],
    now_ms: i64,
    min_age_ms: i64,
    small: i64,
    target: i64,
) -> Vec<Vec<SegmentRef>> {
    let mut runs = Vec::new();
    let mut run: Vec<SegmentRef> = Vec::new();
    let mut run_bytes = 0i64;
    let close = |run: &mut Vec<SegmentRef>, runs: &mut Vec<Vec<SegmentRef>>| {
        if run.len() >= 2 {
            runs.push(std::mem::take(run));
        }
        run.clear();
    };
    for segment in segments {
        let eligible = segment.byte_length < small
            && flush_object_time_ms(&segment.object_key).is_some_and(|t| t + min_age_ms <= now_ms);
        if !eligible {
            close(&mut run, &mut runs);
            run_bytes = 0;
            continue;
        }
        if run_bytes + segment.byte_length > target {
            close(&mut run, &mut runs);
            run_bytes = 0;
        }
        run_bytes += segment.byte_length;
        run.push(segment.clone());
    }
    close(&mut run, &mut runs);
    runs
}

pub(crate) async fn run_once(inner: &Arc<Inner>) -> Result<usize> {
    let now = inner.clock.now_ms();
    let config = &inner.config;
    let mut written = 0;
    for log in inner.led_partitions() {
        let (log_start, _) = log.bounds();
        let segments = inner
            .metadata
            .segments(log.topic_id(), log.tp.partition, log_start, SCAN_LIMIT)
            .await?;
        let runs = plan(
            &segments,
            now,
            config.merge_min_age.as_millis() as i64,
            config.merge_small_bytes.as_u64() as i64,
            config.merge_target_bytes.as_u64() as i64,
        );
        for run in runs {
            let mut pieces = Vec::with_capacity(run.len());
            for segment in &run {
                pieces.push(
                    inner
                        .segments
                        .read_range(
                            &segment.object_key,
                            segment.byte_offset as u64,
                            segment.byte_length as u64,
                        )
                        .await?,
                );
            }
            let first = &run[0];
            let last = &run[run.len() - 1];
            let meta = ChunkMeta {
                topic_id: log.topic_id(),
                partition: log.tp.partition,
                base_offset: first.base_offset,
                last_offset: last.last_offset,
                max_timestamp: run.iter().map(|s| s.max_timestamp).max().unwrap_or(-1),
                record_count: run.iter().map(|s| s.record_count).sum(),
            };
            let mut builder = ObjectBuilder::new();
            let range = builder.push_chunk(meta, pieces);
            let key =
                inner
                    .segments
                    .new_merged_key(log.topic_id(), log.tp.partition, first.base_offset);
            inner
                .segments
                .put_until(&key, builder.finish(), &inner.abort)
                .await?;
            let merged = SegmentRef {
                base_offset: meta.base_offset,
                last_offset: meta.last_offset,
                max_timestamp: meta.max_timestamp,
                object_key: key.clone(),
                byte_offset: range.start as i64,
                byte_length: (range.end - range.start) as i64,
                record_count: meta.record_count,
            };
            if inner
                .metadata
                .replace_segments(log.lease, &run, &merged)
                .await?
            {
                written += 1;
                tracing::debug!(tp = %log.tp, segments = run.len(), bytes = merged.byte_length, %key, "merged segments");
            } else {
                // The rows changed underneath us (retention, a new leader): discard ours.
                inner.segments.delete(&key).await?;
            }
        }
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg(base: i64, len: i64, key: String) -> SegmentRef {
        SegmentRef {
            base_offset: base,
            last_offset: base + 9,
            max_timestamp: 0,
            object_key: key,
            byte_offset: 8,
            byte_length: len,
            record_count: 10,
        }
    }

    #[test]
    fn flush_keys_carry_their_creation_time() {
        let key = format!("{FLUSH_PREFIX}/{}.seg", Uuid::now_v7());
        let t = flush_object_time_ms(&key).expect("uuid7 key");
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock")
            .as_millis() as i64;
        assert!((now - t).abs() < 5_000);
        assert_eq!(flush_object_time_ms("merged/x/0/1.seg"), None);
    }

    #[test]
    fn plans_runs_of_small_old_flush_chunks() {
        let key = || format!("{FLUSH_PREFIX}/{}.seg", Uuid::now_v7());
        let now = flush_object_time_ms(&key()).expect("t") + 60_000;
        let segs = vec![
            seg(0, 100, key()),
            seg(10, 100, key()),
            seg(20, 5_000, key()), // too big: breaks the run
            seg(30, 100, key()),
            seg(40, 100, key()),
            seg(50, 100, key()),
            seg(60, 100, "merged/a/0/60.seg".into()),
            seg(70, 100, key()),
        ];
        let runs = plan(&segs, now, 1_000, 1_000, 250);
        let bases: Vec<Vec<i64>> = runs
            .iter()
            .map(|r| r.iter().map(|s| s.base_offset).collect())
            .collect();
        assert_eq!(
            bases,
            vec![vec![0, 10], vec![30, 40]],
            "target 250 bytes splits 30,40 | 50"
        );
        assert!(
            plan(&segs, now - 59_500, 1_000, 1_000, 10_000).is_empty(),
            "too young"
        );
    }
}
