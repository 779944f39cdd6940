//! Flush commits and idempotent-producer state.

use super::*;

/// Flush commits: high watermarks advance, segment rows and producer states are recorded.
pub async fn commit_flush_commits(store: &dyn MetadataStore) {
    let topic = create(store, "conf-flush", 2).await;
    let l0 = lease(store, &topic, 0, "conf-flush-a", NOW).await;
    let l1 = lease(store, &topic, 1, "conf-flush-a", NOW).await;
    assert!(
        store
            .commit_flush(&[])
            .await
            .expect("empty commit")
            .is_empty()
    );

    let s0 = SegmentRef {
        byte_offset: 0,
        byte_length: 100,
        ..segment(0, 9, NOW + 9, "conf-flush/1")
    };
    let s1 = SegmentRef {
        byte_offset: 100,
        byte_length: 50,
        ..segment(0, 4, NOW + 4, "conf-flush/1")
    };
    let p7 = producer(7, 0, &[(0, 4, 0), (5, 9, 5)]);
    let outcome = store
        .commit_flush(&[
            PartitionCommit {
                lease: l0,
                segment: s0.clone(),
                producers: vec![p7.clone()],
            },
            commit(l1, s1.clone()),
        ])
        .await
        .expect("commit_flush");
    assert_eq!(
        outcome,
        vec![CommitOutcome::Committed, CommitOutcome::Committed]
    );
    assert_eq!(high_watermark(store, &topic, 0).await, 10);
    assert_eq!(high_watermark(store, &topic, 1).await, 5);
    assert_eq!(all_segments(store, &topic, 0).await, vec![s0.clone()]);
    assert_eq!(all_segments(store, &topic, 1).await, vec![s1]);
    assert_eq!(
        store
            .producer_states(topic.id, 0)
            .await
            .expect("producer_states"),
        vec![p7]
    );
    assert!(
        store
            .producer_states(topic.id, 1)
            .await
            .expect("producer_states")
            .is_empty()
    );

    // The next flush upserts producer 7 and adds producer 3.
    let s2 = segment(10, 19, NOW + 19, "conf-flush/2");
    let p7 = producer(7, 1, &[(0, 9, 10)]);
    let p3 = producer(3, 0, &[(0, 0, 19)]);
    let outcome = store
        .commit_flush(&[PartitionCommit {
            lease: l0,
            segment: s2.clone(),
            producers: vec![p7.clone(), p3.clone()],
        }])
        .await
        .expect("commit_flush");
    assert_eq!(outcome, vec![CommitOutcome::Committed]);
    assert_eq!(high_watermark(store, &topic, 0).await, 20);
    assert_eq!(all_segments(store, &topic, 0).await, vec![s0, s2]);
    let states = store
        .producer_states(topic.id, 0)
        .await
        .expect("producer_states");
    assert_eq!(states, vec![p3, p7], "producer states, by producer id");

    // Two consecutive runs of one partition in one flush.
    let outcome = store
        .commit_flush(&[
            commit(l1, segment(5, 9, NOW, "conf-flush/3")),
            commit(l1, segment(10, 14, NOW, "conf-flush/3")),
        ])
        .await
        .expect("commit_flush");
    assert_eq!(
        outcome,
        vec![CommitOutcome::Committed, CommitOutcome::Committed]
    );
    assert_eq!(high_watermark(store, &topic, 1).await, 15);
    assert_eq!(all_segments(store, &topic, 1).await.len(), 3);
}

/// Flush commits: fencing by epoch and base offset is all-or-nothing; retries are recognised.
pub async fn commit_flush_fencing(store: &dyn MetadataStore) {
    let topic = create(store, "conf-fence", 2).await;
    let (a, b) = ("conf-fence-a", "conf-fence-b");
    let a0 = lease(store, &topic, 0, a, NOW).await;
    let a1 = lease(store, &topic, 1, a, NOW).await;
    let first = segment(0, 9, NOW, "conf-fence/1");
    commit_ok(store, a0, first.clone()).await;

    // b takes partition 1 after a's lease expires; a's next flush covers both partitions.
    let b1 = lease(store, &topic, 1, b, NOW + LEASE_MS).await;
    assert_eq!(b1.epoch, a1.epoch + 1);
    let outcome = store
        .commit_flush(&[
            PartitionCommit {
                lease: a0,
                segment: segment(10, 19, NOW, "conf-fence/2"),
                producers: vec![producer(1, 0, &[(0, 9, 10)])],
            },
            PartitionCommit {
                lease: a1,
                segment: segment(0, 4, NOW, "conf-fence/2"),
                producers: vec![producer(2, 0, &[(0, 4, 0)])],
            },
        ])
        .await
        .expect("commit_flush");
    assert_eq!(
        outcome,
        vec![CommitOutcome::RolledBack, CommitOutcome::Fenced]
    );
    assert_eq!(
        high_watermark(store, &topic, 0).await,
        10,
        "nothing of a fenced flush is recorded"
    );
    assert_eq!(high_watermark(store, &topic, 1).await, 0);
    assert_eq!(all_segments(store, &topic, 0).await, vec![first.clone()]);
    assert!(all_segments(store, &topic, 1).await.is_empty());
    assert!(
        store
            .producer_states(topic.id, 0)
            .await
            .expect("producer_states")
            .is_empty()
    );
    assert!(
        store
            .producer_states(topic.id, 1)
            .await
            .expect("producer_states")
            .is_empty()
    );
    let referenced = store
        .referenced_objects(&keys(&["conf-fence/2"]))
        .await
        .expect("referenced_objects");
    assert!(referenced.is_empty());

    // The current holder with the wrong base offset is fenced too.
    for base in [3, -1] {
        let outcome = store
            .commit_flush(&[commit(b1, segment(base, 20, NOW, "conf-fence/3"))])
            .await
            .expect("commit_flush");
        assert_eq!(outcome, vec![CommitOutcome::Fenced]);
    }
    assert_eq!(high_watermark(store, &topic, 1).await, 0);
    commit_ok(store, b1, segment(0, 4, NOW, "conf-fence/4")).await;

    // A retried commit that already succeeded is recognised, alone or with new runs.
    let second = segment(10, 19, NOW, "conf-fence/5");
    commit_ok(store, a0, second.clone()).await;
    let outcome = store
        .commit_flush(&[commit(a0, second.clone())])
        .await
        .expect("commit_flush");
    assert_eq!(outcome, vec![CommitOutcome::AlreadyCommitted]);
    let third = segment(20, 29, NOW, "conf-fence/6");
    let outcome = store
        .commit_flush(&[commit(a0, second.clone()), commit(a0, third.clone())])
        .await
        .expect("commit_flush");
    assert_eq!(
        outcome,
        vec![CommitOutcome::AlreadyCommitted, CommitOutcome::Committed]
    );
    assert_eq!(high_watermark(store, &topic, 0).await, 30);
    assert_eq!(
        all_segments(store, &topic, 0).await,
        vec![first, second, third.clone()]
    );

    // Same offsets from another object (a zombie flush at the current epoch) are fenced.
    let outcome = store
        .commit_flush(&[commit(a0, segment(20, 29, NOW, "conf-fence/zombie"))])
        .await
        .expect("commit_flush");
    assert_eq!(outcome, vec![CommitOutcome::Fenced]);
    // A retry after losing the lease still reports the earlier success.
    let b0 = lease(store, &topic, 0, b, NOW + 2 * LEASE_MS).await;
    let outcome = store
        .commit_flush(&[
            commit(a0, third),
            commit(b0, segment(30, 30, NOW, "conf-fence/7")),
        ])
        .await
        .expect("commit_flush");
    assert_eq!(
        outcome,
        vec![CommitOutcome::AlreadyCommitted, CommitOutcome::Committed]
    );
    assert_eq!(high_watermark(store, &topic, 0).await, 31);

    // Unknown partitions are fenced; malformed runs are refused without effect.
    let ghost = LeaseEpoch {
        topic_id: Uuid::new_v4(),
        partition: 0,
        epoch: 1,
    };
    let outcome = store
        .commit_flush(&[commit(ghost, segment(0, 0, NOW, "conf-fence/8"))])
        .await
        .expect("commit_flush");
    assert_eq!(outcome, vec![CommitOutcome::Fenced]);
    let backwards = SegmentRef {
        last_offset: 30,
        ..segment(31, 31, NOW, "conf-fence/9")
    };
    assert!(store.commit_flush(&[commit(b0, backwards)]).await.is_err());
    assert_eq!(high_watermark(store, &topic, 0).await, 31);
}

/// Producer ids are unique and increasing.
pub async fn producer_ids(store: &dyn MetadataStore) {
    let mut previous = -1;
    for _ in 0..20 {
        let id = store
            .allocate_producer_id()
            .await
            .expect("allocate_producer_id");
        assert!(id > previous, "producer id {id} after {previous}");
        previous = id;
    }
}

/// A flush over more partitions than one multi-row statement carries: every run is
/// committed with its producer states, a retry of the same commit is recognised run by run,
/// and one fenced run among them rolls the whole flush back.
pub async fn commit_flush_wide(store: &dyn MetadataStore) {
    const PARTITIONS: i32 = 1_100;
    let topic = create(store, "conf-wide", PARTITIONS).await;
    let mut leases = Vec::new();
    for partition in 0..PARTITIONS {
        leases.push(lease(store, &topic, partition, "conf-wide-a", NOW).await);
    }
    let flush = |key: &str, base: Offset| -> Vec<PartitionCommit> {
        leases
            .iter()
            .rev() // the store orders them itself
            .map(|&l| PartitionCommit {
                lease: l,
                segment: SegmentRef {
                    byte_offset: i64::from(l.partition) * 10,
                    byte_length: 10,
                    ..segment(base, base + i64::from(l.partition), NOW, key)
                },
                producers: vec![producer(i64::from(l.partition), 0, &[(0, 0, base)])],
            })
            .collect()
    };
    let first = flush("conf-wide/1", 0);
    let outcome = store.commit_flush(&first).await.expect("commit_flush");
    assert!(outcome.iter().all(|o| *o == CommitOutcome::Committed));
    for partition in [0, 499, 500, 1_099] {
        assert_eq!(
            high_watermark(store, &topic, partition).await,
            i64::from(partition) + 1
        );
        let index = (PARTITIONS - 1 - partition) as usize;
        assert_eq!(
            all_segments(store, &topic, partition).await,
            vec![first[index].segment.clone()]
        );
        assert_eq!(
            store
                .producer_states(topic.id, partition)
                .await
                .expect("producer_states"),
            first[index].producers
        );
    }

    // The same commit again (a retry after a lost answer): recognised, nothing doubled.
    let outcome = store.commit_flush(&first).await.expect("retried commit");
    assert!(
        outcome
            .iter()
            .all(|o| *o == CommitOutcome::AlreadyCommitted)
    );
    assert_eq!(all_segments(store, &topic, 700).await.len(), 1);

    // A newer lease on one partition fences the next flush as a whole.
    let _newer = lease(store, &topic, 777, "conf-wide-b", NOW + LEASE_MS).await;
    let next: Vec<PartitionCommit> = leases
        .iter()
        .map(|&l| {
            let hw = i64::from(l.partition) + 1;
            commit(l, segment(hw, hw, NOW, "conf-wide/2"))
        })
        .collect();
    let outcome = store.commit_flush(&next).await.expect("fenced commit");
    assert_eq!(outcome[777], CommitOutcome::Fenced);
    assert_eq!(
        outcome
            .iter()
            .filter(|o| **o == CommitOutcome::RolledBack)
            .count(),
        PARTITIONS as usize - 1
    );
    assert_eq!(high_watermark(store, &topic, 3).await, 4);
}
