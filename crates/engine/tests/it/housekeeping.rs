//! Retention, merge and garbage collection, each proven by reading the data before and after.

use std::sync::Arc;
use std::time::Duration;

use streamhouse_engine::Error;
use streamhouse_metadata::TopicConfig;
use streamhouse_types::{ManualClock, TopicPartition};

use crate::harness::*;

fn manual_config() -> streamhouse_config::EngineConfig {
    streamhouse_config::EngineConfig {
        // Housekeeping is driven by the test, not by timers.
        retention_check_interval: Duration::from_secs(3600),
        gc_interval: Duration::from_secs(3600),
        merge_min_age: Duration::ZERO,
        gc_grace: Duration::ZERO,
        ..fast_config()
    }
}

#[tokio::test]
async fn time_retention_drops_old_segments_and_keeps_the_rest_readable() {
    let mut stores = Stores::embedded().await;
    let clock = Arc::new(ManualClock::new(1_000_000));
    stores.clock = Arc::clone(&clock) as _;
    let engine = stores.engine(manual_config()).await;
    let config = TopicConfig {
        retention_ms: 60_000,
        ..TopicConfig::default()
    };
    engine.create_topic("t", 1, config).await.expect("create");
    let tp = TopicPartition::new("t", 0);
    // Three flushes with record timestamps 0 s, 100 s and 200 s (one flush per append).
    for (i, ts) in [0, 100_000, 200_000].into_iter().enumerate() {
        engine
            .append(&tp, batch_at(i as u64, 10, ts))
            .await
            .expect("append");
    }
    assert_eq!(read_all(&engine, &tp, 0).await.len(), 3);

    clock.set(200_000 + 30_000); // the first two are past 60 s, the last is not
    engine.run_retention().await.expect("retention");
    match engine.read(&tp, 0, 1 << 20).await {
        Err(Error::OffsetOutOfRange {
            log_start_offset: 20,
            high_watermark: 30,
            ..
        }) => {}
        other => panic!("expected the log to start at 20 now, got {other:?}"),
    }
    let kept = read_all(&engine, &tp, 20).await;
    assert_eq!(kept.len(), 1);
    assert_eq!(
        without_base_offset(&kept[0]),
        without_base_offset(&batch_at(2, 10, 200_000))
    );
    let state = engine.partition_state(&tp).await.expect("state");
    assert_eq!(state.log_start_offset, 20);
    engine.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn size_retention_keeps_the_newest_data_within_the_budget() {
    let stores = Stores::embedded().await;
    let engine = stores.engine(manual_config()).await;
    let one = batch(0, 10, 100).len() as i64;
    let config = TopicConfig {
        retention_ms: -1,
        retention_bytes: one * 2,
        ..TopicConfig::default()
    };
    engine.create_topic("t", 1, config).await.expect("create");
    let tp = TopicPartition::new("t", 0);
    for i in 0..5 {
        engine.append(&tp, batch(i, 10, 100)).await.expect("append");
    }
    engine.run_retention().await.expect("retention");
    let state = engine.partition_state(&tp).await.expect("state");
    assert_eq!(state.log_start_offset, 30, "two newest batches kept");
    assert_eq!(read_all(&engine, &tp, 30).await.len(), 2);
    engine.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn merge_rewrites_small_objects_without_changing_a_byte_or_an_offset_and_gc_collects_them() {
    let stores = Stores::embedded().await;
    let engine = stores.engine(manual_config()).await;
    let topic = engine
        .create_topic("t", 2, TopicConfig::default())
        .await
        .expect("create");
    for i in 0..12u64 {
        let tp = TopicPartition::new("t", (i % 2) as i32);
        engine.append(&tp, batch(i, 3, 100)).await.expect("append");
    }
    let mut before = Vec::new();
    for p in 0..2 {
        let rows = stores
            .metadata
            .segments(topic.id, p, 0, 1000)
            .await
            .expect("rows");
        assert_eq!(rows.len(), 6, "one row per flush");
        before.push(read_all(&engine, &TopicPartition::new("t", p), 0).await);
    }
    let objects_before = engine_objects(&stores).await;
    assert_eq!(objects_before, 12);

    let merged = engine.run_merge().await.expect("merge");
    assert_eq!(merged, 2, "one merged object per partition");
    for p in 0..2 {
        let rows = stores
            .metadata
            .segments(topic.id, p, 0, 1000)
            .await
            .expect("rows");
        assert_eq!(rows.len(), 1);
        assert_eq!((rows[0].base_offset, rows[0].last_offset), (0, 17));
        assert!(rows[0].object_key.starts_with("merged/"));
    }

    // Restart to bypass the in-memory tail: reads now come from the merged objects.
    engine.shutdown(Duration::from_secs(5)).await;
    let engine = stores.engine(manual_config()).await;
    for p in 0..2 {
        let after = read_all(&engine, &TopicPartition::new("t", p), 0).await;
        assert_eq!(
            after, before[p as usize],
            "identical batches, offsets included"
        );
    }

    // The 12 flush objects are unreferenced now; the two merged ones are not.
    let deleted = engine.run_gc().await.expect("gc");
    assert_eq!(deleted, 12);
    assert_eq!(engine_objects(&stores).await, 2);
    assert_eq!(
        engine.run_gc().await.expect("gc"),
        0,
        "referenced objects are never deleted"
    );
    for p in 0..2 {
        let after = read_all(&engine, &TopicPartition::new("t", p), 0).await;
        assert_eq!(after, before[p as usize]);
    }
    engine.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn gc_waits_out_the_grace_period_and_collects_deleted_topics() {
    let mut stores = Stores::embedded().await;
    let clock = Arc::new(ManualClock::new(streamhouse_types::Clock::now_ms(
        &streamhouse_types::SystemClock,
    )));
    stores.clock = Arc::clone(&clock) as _;
    let config = streamhouse_config::EngineConfig {
        gc_grace: Duration::from_secs(600),
        ..manual_config()
    };
    let engine = stores.engine(config).await;
    engine
        .create_topic("doomed", 1, TopicConfig::default())
        .await
        .expect("create");
    engine
        .create_topic("kept", 1, TopicConfig::default())
        .await
        .expect("create");
    engine
        .append(&TopicPartition::new("doomed", 0), batch(1, 1, 10))
        .await
        .expect("append");
    engine
        .append(&TopicPartition::new("kept", 0), batch(2, 1, 10))
        .await
        .expect("append");
    engine.delete_topic("doomed").await.expect("delete");
    assert_eq!(engine_objects(&stores).await, 2);

    assert_eq!(
        engine.run_gc().await.expect("gc"),
        0,
        "younger than the grace period"
    );
    clock.advance(601_000);
    assert_eq!(
        engine.run_gc().await.expect("gc"),
        0,
        "first seen unreferenced only now"
    );
    clock.advance(601_000);
    assert_eq!(
        engine.run_gc().await.expect("gc"),
        1,
        "unreferenced for a whole grace period"
    );
    assert_eq!(engine_objects(&stores).await, 1);
    let kept = read_all(&engine, &TopicPartition::new("kept", 0), 0).await;
    assert_eq!(kept.len(), 1);
    engine.shutdown(Duration::from_secs(5)).await;
}

async fn engine_objects(stores: &Stores) -> usize {
    let segments =
        streamhouse_storage::SegmentStore::new(Arc::clone(&stores.objects), Default::default());
    segments.list_objects().await.expect("list").len()
}
