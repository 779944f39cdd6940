//! The segment index: reads, retention, merges and garbage-collection support.

use super::*;
use crate::PartitionSize;

/// Segment index reads: offset ranges with limits, and the timestamp search.
pub async fn segment_queries(store: &dyn MetadataStore) {
    let topic = create(store, "conf-segments", 2).await;
    let held = lease(store, &topic, 0, "conf-segments-a", NOW).await;
    let rows = vec![
        segment(0, 9, 100, "conf-segments/1"),
        segment(10, 19, 200, "conf-segments/2"),
        segment(20, 29, 150, "conf-segments/3"),
        segment(30, 39, 400, "conf-segments/4"),
    ];
    for row in &rows {
        commit_ok(store, held, row.clone()).await;
    }
    let read = async |from: Offset, limit: usize| {
        store
            .segments(topic.id, 0, from, limit)
            .await
            .expect("segments")
    };
    assert_eq!(read(0, 100).await, rows);
    let all: Vec<PartitionSize> = store
        .partition_sizes(None)
        .await
        .expect("partition_sizes")
        .into_iter()
        .filter(|s| s.topic_id == topic.id)
        .collect();
    let sizes = store
        .partition_sizes(Some(topic.id))
        .await
        .expect("partition_sizes of a topic");
    assert_eq!(all, sizes);
    assert!(
        store
            .partition_sizes(Some(Uuid::new_v4()))
            .await
            .expect("partition_sizes of no topic")
            .is_empty()
    );
    let stored: i64 = rows.iter().map(|r| r.byte_length).sum();
    assert_eq!(
        sizes,
        vec![PartitionSize {
            topic_id: topic.id,
            partition: 0,
            bytes: stored
        }],
        "partition 1 has nothing stored, so no row"
    );
    assert_eq!(read(-5, 100).await, rows);
    assert_eq!(read(15, 100).await, rows[1..]);
    assert_eq!(read(19, 100).await, rows[1..]);
    assert_eq!(read(20, 100).await, rows[2..]);
    assert_eq!(read(39, 100).await, rows[3..]);
    assert!(read(40, 100).await.is_empty());
    assert_eq!(read(0, 2).await, rows[..2]);
    assert_eq!(read(25, 1).await, rows[2..3]);
    assert!(read(0, 0).await.is_empty());
    assert!(
        store
            .segments(topic.id, 1, 0, 10)
            .await
            .expect("segments")
            .is_empty()
    );
    assert!(
        store
            .segments(Uuid::new_v4(), 0, 0, 10)
            .await
            .expect("segments")
            .is_empty()
    );

    let find = async |ts: TimestampMs| {
        store
            .segment_for_timestamp(topic.id, 0, ts)
            .await
            .expect("segment_for_timestamp")
            .map(|s| s.base_offset)
    };
    assert_eq!(find(i64::MIN).await, Some(0));
    assert_eq!(find(100).await, Some(0));
    assert_eq!(find(101).await, Some(10));
    assert_eq!(
        find(160).await,
        Some(10),
        "first by offset, not closest timestamp"
    );
    assert_eq!(find(201).await, Some(30));
    assert_eq!(find(400).await, Some(30));
    assert_eq!(find(401).await, None);
    let other = store
        .segment_for_timestamp(topic.id, 1, 0)
        .await
        .expect("segment_for_timestamp");
    assert_eq!(other, None);

    assert_eq!(
        store
            .advance_log_start(held, 12)
            .await
            .expect("advance_log_start"),
        12
    );
    assert_eq!(
        find(0).await,
        Some(10),
        "the row holding the log start still counts"
    );
    assert_eq!(
        store
            .advance_log_start(held, 20)
            .await
            .expect("advance_log_start"),
        20
    );
    assert_eq!(find(0).await, Some(20));
    assert_eq!(
        find(160).await,
        Some(30),
        "rows before the log start are skipped"
    );
}

/// Retention: the log start moves forward only, up to the high watermark, dropping rows.
pub async fn advance_log_start(store: &dyn MetadataStore) {
    let topic = create(store, "conf-retention", 1).await;
    let (a, b) = ("conf-retention-a", "conf-retention-b");
    let held = lease(store, &topic, 0, a, NOW).await;
    let rows = vec![
        segment(0, 9, NOW, "conf-retention/1"),
        segment(10, 19, NOW, "conf-retention/2"),
        segment(20, 29, NOW, "conf-retention/3"),
    ];
    for row in &rows {
        commit_ok(store, held, row.clone()).await;
    }
    let log_start = async || {
        store
            .partition(&topic.name, 0)
            .await
            .expect("partition")
            .expect("exists")
            .log_start_offset
    };

    assert_eq!(store.advance_log_start(held, 5).await.expect("advance"), 5);
    assert_eq!(log_start().await, 5);
    assert_eq!(
        all_segments(store, &topic, 0).await,
        rows,
        "the row holding 5 stays"
    );
    assert_eq!(
        store.advance_log_start(held, 3).await.expect("advance"),
        5,
        "never backwards"
    );
    assert_eq!(log_start().await, 5);
    assert_eq!(
        store.advance_log_start(held, 10).await.expect("advance"),
        10
    );
    assert_eq!(all_segments(store, &topic, 0).await, rows[1..]);
    let referenced = store
        .referenced_objects(&keys(&["conf-retention/1", "conf-retention/2"]))
        .await
        .expect("referenced_objects");
    assert_eq!(
        referenced,
        keys(&["conf-retention/2"]).into_iter().collect()
    );

    assert_eq!(
        store.advance_log_start(held, 1_000).await.expect("advance"),
        30,
        "clamped to hw"
    );
    assert_eq!(log_start().await, 30);
    assert!(all_segments(store, &topic, 0).await.is_empty());
    assert_eq!(high_watermark(store, &topic, 0).await, 30);
    commit_ok(store, held, segment(30, 31, NOW, "conf-retention/4")).await;

    let stolen = lease(store, &topic, 0, b, NOW + LEASE_MS).await;
    let err = store
        .advance_log_start(held, 31)
        .await
        .expect_err("stale lease");
    assert!(
        matches!(err, Error::Fenced { topic_id, partition: 0, epoch } if topic_id == topic.id && epoch == held.epoch),
        "{err:?}"
    );
    assert_eq!(log_start().await, 30);
    assert_eq!(
        store.advance_log_start(stolen, 31).await.expect("advance"),
        31
    );

    let ghost = LeaseEpoch {
        partition: 7,
        ..stolen
    };
    assert!(store.advance_log_start(ghost, 1).await.is_err());
}

/// Merges: the old rows are swapped for the merged row only if they are unchanged.
pub async fn replace_segments(store: &dyn MetadataStore) {
    let topic = create(store, "conf-merge", 1).await;
    let held = lease(store, &topic, 0, "conf-merge-a", NOW).await;
    let rows = vec![
        segment(0, 9, NOW + 9, "conf-merge/1"),
        segment(10, 19, NOW + 19, "conf-merge/2"),
        segment(20, 29, NOW + 29, "conf-merge/3"),
    ];
    for row in &rows {
        commit_ok(store, held, row.clone()).await;
    }
    let merged = SegmentRef {
        base_offset: 0,
        last_offset: 19,
        max_timestamp: NOW + 19,
        object_key: "conf-merge/merged".to_owned(),
        byte_offset: 0,
        byte_length: 180,
        record_count: 20,
    };

    let wrong_key = vec![
        rows[0].clone(),
        SegmentRef {
            object_key: "x".to_owned(),
            ..rows[1].clone()
        },
    ];
    let wrong_bytes = vec![
        rows[0].clone(),
        SegmentRef {
            byte_length: 1,
            ..rows[1].clone()
        },
    ];
    let beyond = vec![
        rows[0].clone(),
        rows[1].clone(),
        rows[2].clone(),
        segment(30, 39, NOW, "x"),
    ];
    let beyond_merged = SegmentRef {
        last_offset: 39,
        ..merged.clone()
    };
    let cases: Vec<(&str, Vec<SegmentRef>, SegmentRef)> = vec![
        ("changed object key", wrong_key, merged.clone()),
        ("changed byte range", wrong_bytes, merged.clone()),
        ("row that does not exist", beyond, beyond_merged),
        (
            "gap between old rows",
            vec![rows[0].clone(), rows[2].clone()],
            merged.clone(),
        ),
        (
            "short merged row",
            rows[..2].to_vec(),
            SegmentRef {
                last_offset: 18,
                ..merged.clone()
            },
        ),
        (
            "shifted merged row",
            rows[..2].to_vec(),
            SegmentRef {
                base_offset: 1,
                ..merged.clone()
            },
        ),
        ("no old rows", Vec::new(), merged.clone()),
    ];
    for (case, old, new) in cases {
        let replaced = store
            .replace_segments(held, &old, &new)
            .await
            .expect("replace_segments");
        assert!(!replaced, "{case}: must not replace");
        assert_eq!(
            all_segments(store, &topic, 0).await,
            rows,
            "{case}: nothing changes"
        );
    }

    assert!(
        store
            .replace_segments(held, &rows[..2], &merged)
            .await
            .expect("replace_segments")
    );
    assert_eq!(
        all_segments(store, &topic, 0).await,
        vec![merged.clone(), rows[2].clone()]
    );
    let referenced = store
        .referenced_objects(&keys(&[
            "conf-merge/1",
            "conf-merge/2",
            "conf-merge/3",
            "conf-merge/merged",
        ]))
        .await
        .expect("referenced_objects");
    assert_eq!(
        referenced,
        keys(&["conf-merge/3", "conf-merge/merged"])
            .into_iter()
            .collect()
    );
    assert_eq!(
        high_watermark(store, &topic, 0).await,
        30,
        "merging leaves bounds alone"
    );
    assert!(
        !store
            .replace_segments(held, &rows[..2], &merged)
            .await
            .expect("replace_segments")
    );

    let stolen = lease(store, &topic, 0, "conf-merge-b", NOW + LEASE_MS).await;
    let again = vec![merged.clone(), rows[2].clone()];
    let all = SegmentRef {
        last_offset: 29,
        object_key: "conf-merge/all".to_owned(),
        ..merged.clone()
    };
    let err = store
        .replace_segments(held, &again, &all)
        .await
        .expect_err("stale lease");
    assert!(matches!(err, Error::Fenced { .. }), "{err:?}");
    assert_eq!(all_segments(store, &topic, 0).await, again);
    assert!(
        store
            .replace_segments(stolen, &again, &all)
            .await
            .expect("replace_segments")
    );
    assert_eq!(all_segments(store, &topic, 0).await, vec![all]);
}

/// Garbage collection support: which objects some row still references.
pub async fn referenced_objects(store: &dyn MetadataStore) {
    let a = create(store, "conf-objects-a", 1).await;
    let b = create(store, "conf-objects-b", 1).await;
    let la = lease(store, &a, 0, "conf-objects-agent", NOW).await;
    let lb = lease(store, &b, 0, "conf-objects-agent", NOW).await;
    let odd = "conf-objects/we\"ird\\key',ü";
    let outcome = store
        .commit_flush(&[
            commit(la, segment(0, 0, NOW, "conf-objects/shared")),
            commit(lb, segment(0, 0, NOW, "conf-objects/shared")),
        ])
        .await
        .expect("commit_flush");
    assert_eq!(outcome, vec![CommitOutcome::Committed; 2]);
    commit_ok(store, la, segment(1, 1, NOW, "conf-objects/only-a")).await;
    commit_ok(store, lb, segment(1, 1, NOW, odd)).await;

    assert!(
        store
            .referenced_objects(&[])
            .await
            .expect("referenced_objects")
            .is_empty()
    );
    let asked = keys(&[
        "conf-objects/shared",
        "conf-objects/only-a",
        "conf-objects/missing",
        odd,
        odd,
    ]);
    let found = store
        .referenced_objects(&asked)
        .await
        .expect("referenced_objects");
    assert_eq!(
        found,
        keys(&["conf-objects/shared", "conf-objects/only-a", odd])
            .into_iter()
            .collect()
    );

    store.delete_topic(&a.name).await.expect("delete_topic");
    let found = store
        .referenced_objects(&asked)
        .await
        .expect("referenced_objects");
    assert_eq!(
        found,
        keys(&["conf-objects/shared", odd]).into_iter().collect()
    );
    store.delete_topic(&b.name).await.expect("delete_topic");
    assert!(
        store
            .referenced_objects(&asked)
            .await
            .expect("referenced_objects")
            .is_empty()
    );
}
