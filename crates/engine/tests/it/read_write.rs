//! Appends and reads: offsets, bytes, limits, long-poll, restart, idempotence, PUT counts.

use std::time::Duration;

use bytes::Bytes;

use streamhouse_engine::Error;
use streamhouse_metadata::{TimestampType, TopicConfig};
use streamhouse_records::BatchHeader;
use streamhouse_test_support::batches::{BatchOptions, TestRecord, encode_batch};
use streamhouse_types::TopicPartition;

use crate::harness::*;

#[tokio::test]
async fn appended_batches_read_back_byte_for_byte_with_assigned_offsets() {
    let stores = Stores::embedded().await;
    let engine = stores.engine(fast_config()).await;
    engine
        .create_topic("orders", 2, TopicConfig::default())
        .await
        .expect("create");
    let tp = TopicPartition::new("orders", 1);

    let sent: Vec<_> = (0..20)
        .map(|i| batch(i, 1 + (i as usize % 4), 100))
        .collect();
    let mut expected_base = 0;
    for b in &sent {
        let outcome = engine.append(&tp, b.clone()).await.expect("append");
        let header = BatchHeader::parse(b).expect("header");
        assert_eq!(outcome.base_offset, expected_base);
        assert_eq!(
            outcome.last_offset,
            expected_base + i64::from(header.last_offset_delta)
        );
        expected_base = outcome.last_offset + 1;
    }
    let stored = read_all(&engine, &tp, 0).await;
    assert_eq!(stored.len(), sent.len());
    let mut next = 0;
    for (s, b) in stored.iter().zip(&sent) {
        let header = BatchHeader::parse(s).expect("header");
        assert_eq!(header.base_offset, next, "offsets are contiguous");
        header.validate(s).expect("stored batch keeps a valid CRC");
        assert_eq!(
            without_base_offset(s),
            without_base_offset(b),
            "bytes kept intact"
        );
        next = header.last_offset() + 1;
    }
    // Records decode with the right offsets through an independent decoder.
    let all = engine
        .read(&tp, 0, usize::MAX)
        .await
        .expect("read")
        .concat();
    let records = streamhouse_test_support::batches::decode_records(&all).expect("decode");
    assert_eq!(records.len() as i64, next);
    assert!(
        records
            .iter()
            .enumerate()
            .all(|(i, r)| r.offset == i as i64)
    );
    // The other partition is untouched.
    let other = engine
        .read(&TopicPartition::new("orders", 0), 0, 1 << 20)
        .await
        .expect("read");
    assert!(other.is_empty());
    assert_eq!(other.high_watermark, 0);
    engine.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn reads_honour_byte_limits_the_first_batch_rule_and_mid_batch_offsets() {
    let stores = Stores::embedded().await;
    let (engine, tp) = stores.single_partition(fast_config()).await;
    for i in 0..5 {
        engine
            .append(&tp, batch(i, 10, 1_000))
            .await
            .expect("append"); // ~10 KB batches
    }
    // A limit smaller than one batch still returns exactly one whole batch.
    let one = engine.read(&tp, 0, 10).await.expect("read");
    assert_eq!(split(&one.concat()).len(), 1);
    // An offset inside a batch returns that whole batch first.
    let mid = engine.read(&tp, 15, 1).await.expect("read");
    let first = BatchHeader::parse(&mid.concat()).expect("header");
    assert_eq!((first.base_offset, first.last_offset()), (10, 19));
    // A limit of ~2.5 batches returns 2.
    let size = split(&one.concat())[0].len();
    let two = engine.read(&tp, 0, size * 5 / 2).await.expect("read");
    assert_eq!(split(&two.concat()).len(), 2);
    assert_eq!(two.high_watermark, 50);
    // Out of range is a typed error with the valid range.
    match engine.read(&tp, 51, 100).await {
        Err(Error::OffsetOutOfRange {
            log_start_offset: 0,
            high_watermark: 50,
            offset: 51,
            ..
        }) => {}
        other => panic!("expected OffsetOutOfRange, got {other:?}"),
    }
    assert!(
        engine
            .read(&tp, 50, 100)
            .await
            .expect("read at hw")
            .is_empty()
    );
    assert!(matches!(
        engine.read(&tp, -1, 100).await,
        Err(Error::OffsetOutOfRange { .. })
    ));
    engine.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn bad_input_gets_typed_errors() {
    let stores = Stores::embedded().await;
    let engine = stores.engine(fast_config()).await;
    let config = TopicConfig {
        max_message_bytes: 2_000,
        ..TopicConfig::default()
    };
    engine
        .create_topic("small", 1, config)
        .await
        .expect("create");
    let tp = TopicPartition::new("small", 0);
    assert!(matches!(
        engine.append(&tp, batch(1, 10, 1_000)).await,
        Err(Error::MessageTooLarge { max: 2_000, .. })
    ));
    let mut corrupt = batch(1, 1, 10).to_vec();
    let last = corrupt.len() - 1;
    corrupt[last] ^= 1;
    assert!(matches!(
        engine.append(&tp, Bytes::from(corrupt)).await,
        Err(Error::CorruptBatch { .. })
    ));
    assert!(matches!(
        engine
            .append(&tp, bytes::Bytes::from_static(&[1, 2, 3]))
            .await,
        Err(Error::CorruptBatch { .. })
    ));
    assert!(matches!(
        engine.append(&tp, bytes::Bytes::new()).await,
        Err(Error::CorruptBatch { .. })
    ));
    assert!(matches!(
        engine
            .append(&TopicPartition::new("nope", 0), batch(1, 1, 10))
            .await,
        Err(Error::UnknownTopic(_))
    ));
    assert!(matches!(
        engine
            .append(&TopicPartition::new("small", 9), batch(1, 1, 10))
            .await,
        Err(Error::UnknownPartition(_))
    ));
    let transactional = encode_batch(
        &[TestRecord::default()],
        BatchOptions {
            producer_id: 7,
            producer_epoch: 0,
            base_sequence: 0,
            transactional: true,
            ..Default::default()
        },
    );
    assert!(matches!(
        engine.append(&tp, transactional).await,
        Err(Error::UnsupportedBatch { .. })
    ));
    assert!(matches!(
        engine
            .create_topic("bad name", 1, TopicConfig::default())
            .await,
        Err(Error::InvalidTopic(_))
    ));
    assert!(matches!(
        engine.create_topic("zero", 0, TopicConfig::default()).await,
        Err(Error::InvalidPartitions(_))
    ));
    assert!(matches!(
        engine
            .create_topic("small", 1, TopicConfig::default())
            .await,
        Err(Error::TopicExists(_))
    ));
    assert!(matches!(
        engine.delete_topic("missing").await,
        Err(Error::UnknownTopic(_))
    ));
    // Nothing bad was stored.
    assert_eq!(high_watermark(&engine, &tp).await, 0);
    engine.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn long_poll_wakes_when_data_becomes_durable() {
    let stores = Stores::embedded().await;
    let (engine, tp) = stores.single_partition(fast_config()).await;
    let mut published = engine.data_published();
    published.mark_unchanged();
    let waiter = tokio::spawn(async move { published.changed().await });
    tokio::task::yield_now().await;
    engine.append(&tp, batch(1, 3, 10)).await.expect("append");
    tokio::time::timeout(Duration::from_secs(10), waiter)
        .await
        .expect("woke as soon as the flush published the data")
        .expect("join")
        .expect("the engine is running");
    assert_eq!(high_watermark(&engine, &tp).await, 3);
    // With no new data, nothing is signalled.
    let mut published = engine.data_published();
    published.mark_unchanged();
    assert!(
        tokio::time::timeout(Duration::from_millis(50), published.changed())
            .await
            .is_err(),
        "no flush published anything"
    );
    engine.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn a_restarted_engine_reads_everything_from_object_storage_and_continues_offsets() {
    let stores = Stores::embedded().await;
    let (engine, tp) = stores.single_partition(fast_config()).await;
    let sent: Vec<_> = (0..10).map(|i| batch(i, 5, 200)).collect();
    for b in &sent {
        engine.append(&tp, b.clone()).await.expect("append");
    }
    engine.shutdown(Duration::from_secs(5)).await;

    let restarted = stores.engine(fast_config()).await;
    assert_eq!(restarted.led_partitions(), vec![tp.clone()]);
    let gets_before = stores.counters.snapshot().get.requests;
    let stored = read_all(&restarted, &tp, 0).await;
    assert!(
        stores.counters.snapshot().get.requests > gets_before,
        "cold reads go to object storage"
    );
    assert_eq!(stored.len(), sent.len());
    for (s, b) in stored.iter().zip(&sent) {
        assert_eq!(without_base_offset(s), without_base_offset(b));
    }
    let next = restarted
        .append(&tp, batch(99, 1, 10))
        .await
        .expect("append");
    assert_eq!(next.base_offset, 50);
    restarted.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn puts_per_flush_do_not_grow_with_the_number_of_partitions() {
    async fn puts_for(partitions: i32) -> u64 {
        let stores = Stores::embedded().await;
        let config = streamhouse_config::EngineConfig {
            flush_interval: Some(Duration::from_millis(300)),
            ..fast_config()
        };
        let engine = stores.engine(config).await;
        engine
            .create_topic("t", partitions, TopicConfig::default())
            .await
            .expect("create");
        let before = stores.counters.snapshot().put.requests;
        // 100 appends issued together, spread over the partitions.
        let appends = (0..100).map(|i| {
            let engine = engine.clone();
            async move {
                let tp = TopicPartition::new("t", i % partitions);
                engine
                    .append(&tp, batch(i as u64, 2, 50))
                    .await
                    .expect("append")
            }
        });
        futures::future::join_all(appends).await;
        let puts = stores.counters.snapshot().put.requests - before;
        let total: i64 = futures::future::join_all((0..partitions).map(|p| {
            let engine = engine.clone();
            async move {
                engine
                    .read(&TopicPartition::new("t", p), 0, 0)
                    .await
                    .expect("read")
                    .high_watermark
            }
        }))
        .await
        .into_iter()
        .sum();
        assert_eq!(total, 200, "every record durable");
        engine.shutdown(Duration::from_secs(5)).await;
        puts
    }
    let one = puts_for(1).await;
    let hundred = puts_for(100).await;
    assert_eq!(one, 1, "one flush, one object");
    assert_eq!(
        hundred, one,
        "100 partitions still share one object per flush"
    );
}

#[tokio::test]
async fn the_tail_stays_within_its_bound_when_partitions_are_added() {
    let stores = Stores::embedded().await;
    let tail_bytes = 1 << 20;
    let config = streamhouse_config::EngineConfig {
        tail_bytes: bytesize::ByteSize::b(tail_bytes),
        ..fast_config()
    };
    let (engine, old) = stores.single_partition(config).await;
    // Ten appends of ~90 KB, each durable before the next: ten tail blocks, ~900 KB.
    for i in 0..10 {
        engine
            .append(&old, batch(i, 90, 1000))
            .await
            .expect("append");
    }
    let filled = engine.tail_bytes();
    assert!(
        filled > 800_000,
        "the only partition may use the whole tail: {filled}"
    );

    // Nine more partitions: each may now keep a tenth. The old one no longer publishes,
    // but the next flush trims it all the same.
    engine
        .create_topic("new", 9, TopicConfig::default())
        .await
        .expect("create");
    engine
        .append(&TopicPartition::new("new", 0), batch(100, 10, 100))
        .await
        .expect("append");
    let trimmed = engine.tail_bytes();
    assert!(
        trimmed < 2 * tail_bytes / 10 + 10_000,
        "tail of {trimmed} bytes after the cap became {} per partition",
        tail_bytes / 10
    );
    // What was evicted is still readable, from object storage.
    assert_eq!(read_all(&engine, &old, 0).await.len(), 10);
    engine.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn the_size_threshold_never_makes_more_than_one_put_per_flush_interval() {
    let stores = Stores::embedded().await;
    let interval = Duration::from_millis(200);
    let config = streamhouse_config::EngineConfig {
        flush_interval: Some(interval),
        flush_bytes: Some(bytesize::ByteSize::kib(1)),
        ..fast_config()
    };
    let (engine, tp) = stores.single_partition(config).await;
    let before = stores.counters.snapshot().put.requests;
    // 50 appends of ~10 KB, one every 20 ms: each alone is past the size threshold.
    let started = std::time::Instant::now();
    let mut appends = Vec::new();
    for i in 0..50u64 {
        let (engine, tp) = (engine.clone(), tp.clone());
        appends.push(tokio::spawn(async move {
            engine.append(&tp, batch(i, 10, 1_000)).await
        }));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    for append in appends {
        append.await.expect("task").expect("append");
    }
    let elapsed = started.elapsed();
    let puts = stores.counters.snapshot().put.requests - before;
    // Flushes begin at least one interval apart, so over `elapsed` there are at most
    // elapsed / interval + 1 of them (without the spacing, about one per append).
    let bound = (elapsed.as_millis() / interval.as_millis()) as u64 + 1;
    assert!(
        (2..=bound).contains(&puts),
        "{puts} PUTs in {elapsed:?}; expected 2..={bound}"
    );
    let read = engine.read(&tp, 0, 0).await.expect("read");
    assert_eq!(read.high_watermark, 500, "every record durable");
    engine.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn log_append_time_topics_stamp_batches_with_the_broker_time() {
    let stores = Stores::embedded().await;
    let engine = stores.engine(fast_config()).await;
    let config = TopicConfig {
        timestamp_type: TimestampType::LogAppendTime,
        ..TopicConfig::default()
    };
    engine.create_topic("t", 1, config).await.expect("create");
    let tp = TopicPartition::new("t", 0);
    let outcome = engine.append(&tp, batch_at(1, 2, 5)).await.expect("append");
    let stamped = outcome.log_append_time.expect("LogAppendTime reported");
    let stored = engine.read(&tp, 0, 1 << 20).await.expect("read").concat();
    let header = BatchHeader::parse(&stored).expect("header");
    assert!(header.is_log_append_time());
    assert_eq!(header.max_timestamp, stamped);
    header.validate(&stored).expect("CRC recomputed");
    engine.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn idempotent_producers_get_duplicates_detected_and_sequences_enforced() {
    let stores = Stores::embedded().await;
    let (engine, tp) = stores.single_partition(fast_config()).await;
    let pid = stores.metadata.allocate_producer_id().await.expect("pid");
    let idem = |epoch: i16, seq: i32, n: usize| {
        let records: Vec<TestRecord> = (0..n)
            .map(|i| TestRecord {
                value: Some(format!("v{seq}-{i}").into()),
                ..Default::default()
            })
            .collect();
        encode_batch(
            &records,
            BatchOptions {
                producer_id: pid,
                producer_epoch: epoch,
                base_sequence: seq,
                ..Default::default()
            },
        )
    };
    let first = engine.append(&tp, idem(0, 0, 3)).await.expect("seq 0");
    let second = engine.append(&tp, idem(0, 3, 2)).await.expect("seq 3");
    assert_eq!((first.base_offset, second.base_offset), (0, 3));
    // A retry of the first batch is answered with its original offsets and stores nothing.
    let retry = engine.append(&tp, idem(0, 0, 3)).await.expect("duplicate");
    assert!(retry.duplicate);
    assert_eq!(retry.base_offset, 0);
    assert!(matches!(
        engine.append(&tp, idem(0, 9, 1)).await,
        Err(Error::OutOfOrderSequence {
            expected: 5,
            sequence: 9,
            ..
        })
    ));
    let bumped = engine
        .append(&tp, idem(1, 0, 1))
        .await
        .expect("new epoch starts at 0");
    assert_eq!(bumped.base_offset, 5);
    assert!(matches!(
        engine.append(&tp, idem(0, 5, 1)).await,
        Err(Error::InvalidProducerEpoch { .. })
    ));
    assert_eq!(
        engine.read(&tp, 0, 0).await.expect("read").high_watermark,
        6
    );
    // The producer state is durable: a restarted engine still detects the duplicate.
    engine.shutdown(Duration::from_secs(5)).await;
    let restarted = stores.engine(fast_config()).await;
    assert!(
        restarted
            .append(&tp, idem(1, 0, 1))
            .await
            .expect("dup after restart")
            .duplicate
    );
    restarted.shutdown(Duration::from_secs(5)).await;
    assert_eq!(stores.counters.snapshot().put.errors, 0);
}

#[tokio::test]
async fn timestamps_are_looked_up_per_record_inside_batches() {
    let stores = Stores::embedded().await;
    let (engine, tp) = stores.single_partition(fast_config()).await;
    let batch_of = |timestamps: &[i64]| {
        let records: Vec<TestRecord> = timestamps
            .iter()
            .map(|&timestamp| TestRecord {
                value: Some("v".into()),
                timestamp,
                ..Default::default()
            })
            .collect();
        encode_batch(&records, BatchOptions::default())
    };
    // Offsets 0..=3 and 4..=6; timestamps do not grow with offsets.
    engine
        .append(&tp, batch_of(&[100, 300, 200, 400]))
        .await
        .expect("append");
    engine
        .append(&tp, batch_of(&[150, 900, 250]))
        .await
        .expect("append");
    let lookup = |ts| {
        let engine = engine.clone();
        let tp = tp.clone();
        async move { engine.offset_for_timestamp(&tp, ts).await.expect("lookup") }
    };
    assert_eq!(lookup(0).await, Some((0, 100)));
    assert_eq!(
        lookup(101).await,
        Some((1, 300)),
        "inside the first batch, not its start"
    );
    assert_eq!(lookup(301).await, Some((3, 400)));
    assert_eq!(lookup(401).await, Some((5, 900)), "in the second batch");
    assert_eq!(lookup(901).await, None);
    assert_eq!(
        engine.max_timestamp(&tp).await.expect("max"),
        Some((5, 900))
    );
    engine.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn owned_record_sets_are_patched_in_place_and_read_back_like_copied_ones() {
    let stores = Stores::embedded().await;
    let engine = stores.engine(fast_config()).await;
    let config = TopicConfig {
        timestamp_type: TimestampType::LogAppendTime,
        ..TopicConfig::default()
    };
    engine
        .create_topic("owned", 1, config)
        .await
        .expect("create");
    let tp = TopicPartition::new("owned", 0);
    // Large owned sets (kept as they are, one of them two batches long) between small owned
    // and shared ones (copied), as a Kafka connection hands them over.
    let mut sent = Vec::new();
    for i in 0..6u64 {
        let set: Vec<Bytes> = match i % 3 {
            0 => vec![batch(i, 40, 1_000), batch(100 + i, 3, 1_000)],
            1 => vec![batch(i, 2, 100)],
            _ => vec![batch(i, 40, 1_000)],
        };
        let joined = bytes::BytesMut::from(&set.concat()[..]);
        let outcome = if i % 3 == 1 && i > 3 {
            engine.append(&tp, joined.freeze()).await
        } else {
            engine.append(&tp, joined).await
        }
        .expect("append");
        assert!(outcome.log_append_time.is_some());
        sent.extend(set);
    }
    let stored = read_all(&engine, &tp, 0).await;
    assert_eq!(stored.len(), sent.len());
    let mut next = 0;
    for (s, b) in stored.iter().zip(&sent) {
        let header = BatchHeader::parse(s).expect("header");
        assert_eq!(header.base_offset, next, "offsets patched, in order");
        assert!(header.is_log_append_time(), "timestamp patched");
        header.validate(s).expect("CRC recomputed after the patch");
        let sent_header = BatchHeader::parse(b).expect("header");
        assert_eq!(header.record_count, sent_header.record_count);
        // Past the patched header fields, the records are the bytes sent.
        assert_eq!(s[61..], b[61..], "records kept intact");
        next = header.last_offset() + 1;
    }
    engine.shutdown(Duration::from_secs(5)).await;
}
