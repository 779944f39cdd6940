//! Faults, fencing, backpressure and shutdown: acknowledged data is never lost, and
//! nothing becomes visible without a valid lease.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use streamhouse_engine::Error;
use streamhouse_metadata::TopicConfig;
use streamhouse_test_support::faults::FaultyStore;
use streamhouse_types::TopicPartition;

use crate::harness::*;

async fn faulty_stores() -> (Stores, Arc<FaultyStore>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let metadata =
        streamhouse_metadata::connect(&format!("sqlite://{}/meta.db", dir.path().display()), 4)
            .await
            .expect("sqlite");
    let local = streamhouse_storage::open_object_store(
        &format!("file://{}/objects", dir.path().display()),
        &[],
    )
    .expect("store")
    .store;
    let faulty = Arc::new(FaultyStore::new(local));
    (
        Stores::over(metadata, Arc::clone(&faulty) as _, Some(dir)),
        faulty,
    )
}

#[tokio::test]
async fn failed_uploads_are_retried_and_appends_resolve_only_when_durable() {
    let (stores, faulty) = faulty_stores().await;
    let (engine, tp) = stores.single_partition(fast_config()).await;

    faulty.faults.fail_puts.store(u64::MAX, Ordering::SeqCst);
    let append = {
        let engine = engine.clone();
        let tp = tp.clone();
        tokio::spawn(async move { engine.append(&tp, batch(1, 4, 100)).await })
    };
    // While every PUT fails, the append stays pending and nothing is visible.
    wait_until(|| faulty.faults.puts.load(Ordering::SeqCst) >= 3).await;
    assert!(
        !append.is_finished(),
        "append must not resolve before its data is durable"
    );
    assert_eq!(high_watermark(&engine, &tp).await, 0);

    faulty.faults.fail_puts.store(0, Ordering::SeqCst);
    let outcome = append
        .await
        .expect("join")
        .expect("append succeeds after retries");
    assert_eq!(outcome.base_offset, 0);
    assert_eq!(high_watermark(&engine, &tp).await, 4);
    engine.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn a_lost_put_response_neither_loses_nor_duplicates_data() {
    let (stores, faulty) = faulty_stores().await;
    let (engine, tp) = stores.single_partition(fast_config()).await;
    faulty.faults.lose_put_responses.store(1, Ordering::SeqCst);
    engine.append(&tp, batch(7, 3, 100)).await.expect("append");
    engine.append(&tp, batch(8, 3, 100)).await.expect("append");
    assert_eq!(read_all(&engine, &tp, 0).await.len(), 2);
    engine.shutdown(Duration::from_secs(5)).await;
    // A cold read after restart goes through the object store and finds both batches.
    let restarted = stores.engine(fast_config()).await;
    assert_eq!(read_all(&restarted, &tp, 0).await.len(), 2);
    restarted.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn a_deposed_leader_cannot_make_data_visible() {
    let stores = Stores::embedded().await;
    let engine = stores.engine(fast_config()).await;
    let topic = engine
        .create_topic("t", 1, TopicConfig::default())
        .await
        .expect("create");
    let tp = TopicPartition::new("t", 0);
    engine
        .append(&tp, batch(1, 2, 10))
        .await
        .expect("append while leader");

    // Another agent takes the lease (as if ours had expired): the epoch moves on.
    let far_future = i64::MAX / 2;
    let (intruder, _) = stores
        .metadata
        .acquire_lease(topic.id, 0, "intruder", far_future, far_future + 10_000)
        .await
        .expect("acquire")
        .expect("granted once expired");

    let fenced = engine.append(&tp, batch(2, 2, 10)).await;
    assert!(matches!(fenced, Err(Error::NotLeader(_))), "{fenced:?}");
    let state = stores
        .metadata
        .partition("t", 0)
        .await
        .expect("state")
        .expect("exists");
    assert_eq!(state.high_watermark, 2, "the fenced flush left no trace");
    assert_eq!(state.leader_epoch, intruder.epoch);
    let rows = stores
        .metadata
        .segments(topic.id, 0, 0, 100)
        .await
        .expect("segments");
    assert_eq!(rows.len(), 1);
    assert!(
        engine.led_partitions().is_empty(),
        "the engine forgot the partition"
    );
    engine.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn a_full_buffer_applies_backpressure_instead_of_growing() {
    let (stores, faulty) = faulty_stores().await;
    let config = streamhouse_config::EngineConfig {
        max_buffered_bytes: bytesize::ByteSize::kib(64),
        flush_bytes: Some(bytesize::ByteSize::kib(16)),
        ..fast_config()
    };
    let (engine, tp) = stores.single_partition(config).await;
    faulty.faults.fail_puts.store(u64::MAX, Ordering::SeqCst);

    // 40 × ~10 KB = 400 KB offered against a 64 KiB buffer while storage is down.
    let appends: Vec<_> = (0..40)
        .map(|i| {
            let engine = engine.clone();
            let tp = tp.clone();
            tokio::spawn(async move { engine.append(&tp, batch(i, 10, 1_000)).await })
        })
        .collect();
    wait_until(|| faulty.faults.puts.load(Ordering::SeqCst) >= 3).await;
    let stats = engine.stats();
    let accepted = stats.bytes_appended.load(Ordering::SeqCst);
    assert!(
        accepted <= 64 * 1024,
        "accepted {accepted} bytes past a 64 KiB buffer"
    );
    assert!(accepted > 0);
    assert!(
        appends.iter().all(|a| !a.is_finished()),
        "nothing acknowledged while storage is down"
    );

    faulty.faults.fail_puts.store(0, Ordering::SeqCst);
    for append in appends {
        append
            .await
            .expect("join")
            .expect("every append completes once storage recovers");
    }
    assert_eq!(
        engine.read(&tp, 0, 0).await.expect("read").high_watermark,
        400
    );
    engine.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn graceful_shutdown_flushes_everything_accepted() {
    let stores = Stores::embedded().await;
    let config = streamhouse_config::EngineConfig {
        flush_interval: Some(Duration::from_secs(60)),
        ..fast_config()
    };
    let engine = stores.engine(config).await;
    engine
        .create_topic("t", 3, TopicConfig::default())
        .await
        .expect("create");
    let appends: Vec<_> = (0..30)
        .map(|i| {
            let engine = engine.clone();
            tokio::spawn(async move {
                engine
                    .append(&TopicPartition::new("t", (i % 3) as i32), batch(i, 1, 10))
                    .await
            })
        })
        .collect();
    wait_until(|| engine.stats().batches_appended.load(Ordering::SeqCst) >= 30).await;
    assert!(
        appends.iter().all(|a| !a.is_finished()),
        "60 s linger: nothing flushed yet"
    );
    engine.shutdown(Duration::from_secs(10)).await;
    for append in appends {
        append
            .await
            .expect("join")
            .expect("accepted appends complete during shutdown");
    }
    assert!(matches!(
        engine
            .append(&TopicPartition::new("t", 0), batch(1, 1, 1))
            .await,
        Err(Error::ShuttingDown)
    ));
    let restarted = stores.engine(fast_config()).await;
    for p in 0..3 {
        assert_eq!(
            read_all(&restarted, &TopicPartition::new("t", p), 0)
                .await
                .len(),
            10
        );
    }
    restarted.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn leases_are_shared_between_agents_and_move_when_one_leaves() {
    let stores = Stores::embedded().await;
    let a = stores.engine_as("agent-a", fast_config()).await;
    a.create_topic("t", 4, TopicConfig::default())
        .await
        .expect("create");
    assert_eq!(a.led_partitions().len(), 4, "a lone agent takes everything");
    a.shutdown(Duration::from_secs(5)).await;

    let b = stores.engine_as("agent-b", fast_config()).await;
    let c = stores.engine_as("agent-c", fast_config()).await;
    // b started alone and took everything; c takes only what is free, so none yet.
    assert_eq!(b.led_partitions().len(), 4);
    assert!(c.led_partitions().is_empty());
    b.shutdown(Duration::from_secs(5)).await;
    // b released its leases on shutdown: c takes them on its next heartbeat.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while c.led_partitions().len() < 4 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(c.led_partitions().len(), 4);
    c.append(&TopicPartition::new("t", 0), batch(1, 1, 1))
        .await
        .expect("new leader appends");
    c.shutdown(Duration::from_secs(5)).await;
}
