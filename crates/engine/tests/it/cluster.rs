//! Cluster mode: PostgreSQL metadata and a real S3-API server process (`s3s-fs`).

use std::time::Duration;

use streamhouse_metadata::TopicConfig;
use streamhouse_test_support::postgres::TestDatabase;
use streamhouse_test_support::s3::S3Server;
use streamhouse_types::TopicPartition;

use crate::harness::*;

#[tokio::test]
async fn agents_on_postgres_and_s3_write_read_merge_collect_and_hand_over() {
    let Some(db) = TestDatabase::create().await.expect("postgres") else {
        return;
    };
    let Some(s3) = S3Server::start().await.expect("s3s-fs") else {
        return;
    };
    let metadata = streamhouse_metadata::connect(&db.url, 4)
        .await
        .expect("connect");
    let opened =
        streamhouse_storage::open_object_store(&s3.url("cluster"), &s3.object_store_options())
            .expect("s3");
    assert!(opened.remote);
    let stores = Stores::over(metadata, opened.store, None);
    let config = streamhouse_config::EngineConfig {
        gc_grace: Duration::ZERO,
        merge_min_age: Duration::ZERO,
        retention_check_interval: Duration::from_secs(3600),
        gc_interval: Duration::from_secs(3600),
        ..fast_config()
    };

    let a = stores.engine_as("agent-a", config.clone()).await;
    a.create_topic("events", 3, TopicConfig::default())
        .await
        .expect("create");
    let mut sent = vec![Vec::new(); 3];
    for i in 0..30u64 {
        let p = (i % 3) as usize;
        let b = batch(i, 4, 300);
        a.append(&TopicPartition::new("events", p as i32), b.clone())
            .await
            .expect("append");
        sent[p].push(b);
    }
    let puts = stores.counters.snapshot().put.requests;
    assert!(
        (1..=30).contains(&puts),
        "one object per flush, not per partition: {puts}"
    );
    assert_eq!(a.run_merge().await.expect("merge"), 3);
    assert_eq!(
        a.run_gc().await.expect("gc") as u64,
        puts,
        "every flush object merged away and collected"
    );
    a.shutdown(Duration::from_secs(10)).await;

    // Another agent takes over and reads everything from S3 through the segment index.
    let b = stores.engine_as("agent-b", config).await;
    assert_eq!(b.led_partitions().len(), 3);
    for (p, sent) in sent.iter().enumerate() {
        let stored = read_all(&b, &TopicPartition::new("events", p as i32), 0).await;
        assert_eq!(stored.len(), 10);
        for (s, expected) in stored.iter().zip(sent) {
            assert_eq!(without_base_offset(s), without_base_offset(expected));
        }
    }
    let next = b
        .append(&TopicPartition::new("events", 0), batch(99, 1, 10))
        .await
        .expect("append");
    assert_eq!(next.base_offset, 40);
    b.shutdown(Duration::from_secs(10)).await;
    db.drop_database().await.expect("drop database");
}
