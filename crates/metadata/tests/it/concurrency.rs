//! Races between agents sharing one store: whatever the interleaving, exactly one writer
//! wins each contested step, the partition bounds agree with the segment rows, and a group
//! coordinator that has been superseded can write nothing.

use std::sync::Arc;

use streamhouse_metadata::{
    CommitOutcome, Error, GroupOffset, LeaseEpoch, MetadataStore, PartitionCommit, SegmentRef,
    Topic, TopicConfig,
};
use streamhouse_types::Offset;

const NOW: i64 = 1_000_000;
const LEASE_MS: i64 = 10_000;
const ROUNDS: i32 = 16;

fn segment(base: Offset, last: Offset, key: &str) -> SegmentRef {
    SegmentRef {
        base_offset: base,
        last_offset: last,
        max_timestamp: NOW,
        object_key: key.to_owned(),
        byte_offset: 0,
        byte_length: 100,
        record_count: last - base + 1,
    }
}

fn commit(lease: LeaseEpoch, segment: SegmentRef) -> PartitionCommit {
    PartitionCommit {
        lease,
        segment,
        producers: Vec::new(),
    }
}

async fn topic(store: &dyn MetadataStore, name: &str, partitions: i32) -> Topic {
    store
        .create_topic(name, partitions, &TopicConfig::default(), NOW)
        .await
        .expect("create_topic")
}

async fn lease(
    store: &dyn MetadataStore,
    topic: &Topic,
    partition: i32,
    agent: &str,
) -> LeaseEpoch {
    store
        .acquire_lease(topic.id, partition, agent, NOW, NOW + LEASE_MS)
        .await
        .expect("acquire_lease")
        .expect("granted")
        .0
}

/// Checks that the high watermark is one past the last row and rows are contiguous.
async fn assert_consistent(
    store: &dyn MetadataStore,
    topic: &Topic,
    partition: i32,
) -> Vec<SegmentRef> {
    let rows = store
        .segments(topic.id, partition, 0, usize::MAX)
        .await
        .expect("segments");
    let state = store
        .partition(&topic.name, partition)
        .await
        .expect("partition")
        .expect("exists");
    let mut next = 0;
    for row in &rows {
        assert_eq!(row.base_offset, next, "rows are contiguous: {rows:?}");
        next = row.last_offset + 1;
    }
    assert_eq!(
        state.high_watermark, next,
        "high watermark matches the rows: {rows:?}"
    );
    rows
}

/// Several agents grab the same free partitions at once: one lease per partition.
pub(crate) async fn racing_acquirers(store: Arc<dyn MetadataStore>) {
    let topic = topic(store.as_ref(), "race-acquire", ROUNDS).await;
    for partition in 0..ROUNDS {
        let tasks: Vec<_> = (0..4)
            .map(|agent| {
                let store = Arc::clone(&store);
                tokio::spawn(async move {
                    let agent = format!("agent-{agent}");
                    let granted = store
                        .acquire_lease(topic.id, partition, &agent, NOW, NOW + LEASE_MS)
                        .await
                        .expect("acquire_lease");
                    granted.map(|(lease, state)| (agent, lease, state))
                })
            })
            .collect();
        let mut winners = Vec::new();
        for task in tasks {
            if let Some(won) = task.await.expect("task") {
                winners.push(won);
            }
        }
        assert_eq!(
            winners.len(),
            1,
            "exactly one agent gets partition {partition}"
        );
        let (agent, lease, state) = &winners[0];
        assert_eq!(lease.epoch, 1);
        let stored = store
            .partition(&topic.name, partition)
            .await
            .expect("partition")
            .expect("exists");
        assert_eq!(stored.leader.as_ref(), Some(agent));
        assert_eq!(&stored, state);
    }
}

/// Concurrent flushes of the same offsets: one wins, the others are fenced and leave no
/// trace — at the same epoch, at different epochs, and across partitions locked in
/// opposite orders (which must not deadlock).
pub(crate) async fn racing_flushes(store: Arc<dyn MetadataStore>) {
    let same = topic(store.as_ref(), "race-flush-same", ROUNDS).await;
    for partition in 0..ROUNDS {
        let held = lease(store.as_ref(), &same, partition, "agent").await;
        let tasks: Vec<_> = (0..3)
            .map(|writer| {
                let store = Arc::clone(&store);
                tokio::spawn(async move {
                    let key = format!("same-{partition}-{writer}");
                    let outcome = store
                        .commit_flush(&[commit(held, segment(0, 9 + writer, &key))])
                        .await
                        .expect("commit_flush");
                    (key, outcome)
                })
            })
            .collect();
        let mut winner = None;
        for task in tasks {
            let (key, outcome) = task.await.expect("task");
            match outcome.as_slice() {
                [CommitOutcome::Committed] => {
                    assert!(winner.is_none(), "two flushes of offset 0 committed");
                    winner = Some(key);
                }
                [CommitOutcome::Fenced] => {}
                other => panic!("unexpected outcome {other:?}"),
            }
        }
        let rows = assert_consistent(store.as_ref(), &same, partition).await;
        assert_eq!(rows.len(), 1);
        assert_eq!(Some(&rows[0].object_key), winner.as_ref());
    }

    // An old and a new leader flush at once: only the current epoch can win.
    let epochs = topic(store.as_ref(), "race-flush-epochs", ROUNDS).await;
    for partition in 0..ROUNDS {
        let old = lease(store.as_ref(), &epochs, partition, "agent").await;
        let new = lease(store.as_ref(), &epochs, partition, "agent").await;
        let flush = |lease: LeaseEpoch, key: &'static str| {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                store
                    .commit_flush(&[commit(lease, segment(0, 4, key))])
                    .await
                    .expect("commit_flush")
            })
        };
        let (old_task, new_task) = (flush(old, "old"), flush(new, "new"));
        assert_eq!(old_task.await.expect("task"), vec![CommitOutcome::Fenced]);
        assert_eq!(
            new_task.await.expect("task"),
            vec![CommitOutcome::Committed]
        );
        let rows = assert_consistent(store.as_ref(), &epochs, partition).await;
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].object_key, "new");
    }

    // Two-partition flushes listing the partitions in opposite orders.
    let pairs = topic(store.as_ref(), "race-flush-pairs", 2 * ROUNDS).await;
    for round in 0..ROUNDS {
        let (p, q) = (2 * round, 2 * round + 1);
        let lp = lease(store.as_ref(), &pairs, p, "agent").await;
        let lq = lease(store.as_ref(), &pairs, q, "agent").await;
        let flush = |first: LeaseEpoch, second: LeaseEpoch, key: &'static str| {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                store
                    .commit_flush(&[
                        commit(first, segment(0, 9, key)),
                        commit(second, segment(0, 9, key)),
                    ])
                    .await
                    .expect("commit_flush must not fail (no deadlock)")
            })
        };
        let (forward, backward) = (flush(lp, lq, "forward"), flush(lq, lp, "backward"));
        let outcomes = [forward.await.expect("task"), backward.await.expect("task")];
        let all = |o: CommitOutcome| vec![o, o];
        let committed = outcomes
            .iter()
            .filter(|o| **o == all(CommitOutcome::Committed))
            .count();
        let fenced = outcomes
            .iter()
            .filter(|o| **o == all(CommitOutcome::Fenced))
            .count();
        assert_eq!((committed, fenced), (1, 1), "all or nothing: {outcomes:?}");
        let rows_p = assert_consistent(store.as_ref(), &pairs, p).await;
        let rows_q = assert_consistent(store.as_ref(), &pairs, q).await;
        assert_eq!(rows_p.len(), 1);
        assert_eq!(
            rows_p[0].object_key, rows_q[0].object_key,
            "both rows from the winner"
        );
    }
}

/// The old leader flushes while a new agent steals its expired lease and flushes from the
/// high watermark it was handed. The new leader always commits; the old one commits only if
/// it got in before the steal, and then the new leader's run starts after it.
pub(crate) async fn flush_against_lease_steal(store: Arc<dyn MetadataStore>) {
    let topic = topic(store.as_ref(), "race-steal", ROUNDS).await;
    let mut old_won = 0;
    for partition in 0..ROUNDS {
        let old = lease(store.as_ref(), &topic, partition, "old").await;
        let old_task = {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                store
                    .commit_flush(&[commit(old, segment(0, 9, "old"))])
                    .await
                    .expect("commit_flush")
            })
        };
        let new_task = {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                let (lease, state) = store
                    .acquire_lease(
                        topic.id,
                        partition,
                        "new",
                        NOW + LEASE_MS,
                        NOW + 2 * LEASE_MS,
                    )
                    .await
                    .expect("acquire_lease")
                    .expect("an expired lease is taken");
                let hw = state.high_watermark;
                let outcome = store
                    .commit_flush(&[commit(lease, segment(hw, hw + 4, "new"))])
                    .await
                    .expect("commit_flush");
                (hw, outcome)
            })
        };
        let old_outcome = old_task.await.expect("task");
        let (seen_hw, new_outcome) = new_task.await.expect("task");
        assert_eq!(new_outcome, vec![CommitOutcome::Committed]);
        let rows = assert_consistent(store.as_ref(), &topic, partition).await;
        let keys: Vec<&str> = rows.iter().map(|r| r.object_key.as_str()).collect();
        match old_outcome.as_slice() {
            [CommitOutcome::Committed] => {
                old_won += 1;
                assert_eq!(seen_hw, 10);
                assert_eq!(keys, ["old", "new"]);
            }
            [CommitOutcome::Fenced] => {
                assert_eq!(seen_hw, 0);
                assert_eq!(keys, ["new"]);
            }
            other => panic!("unexpected outcome {other:?}"),
        }
    }
    eprintln!("old leader committed before the steal in {old_won}/{ROUNDS} rounds");
}

/// Many agents claim one group at once: each claim gets its own epoch, the epochs are exactly
/// 1..=N, and the record left is the one the claim with epoch N returned.
pub(crate) async fn racing_group_claims(store: Arc<dyn MetadataStore>) {
    const CLAIMS: i64 = 16;
    let tasks: Vec<_> = (0..CLAIMS)
        .map(|agent| {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                store
                    .claim_group("race-claim", &format!("agent-{agent}"), NOW + agent)
                    .await
                    .expect("claim_group")
            })
        })
        .collect();
    let mut claims = Vec::new();
    for task in tasks {
        claims.push(task.await.expect("task"));
    }
    let mut epochs: Vec<i64> = claims.iter().map(|c| c.coordinator_epoch).collect();
    epochs.sort_unstable();
    assert_eq!(epochs, (1..=CLAIMS).collect::<Vec<_>>(), "{claims:?}");
    let last = claims
        .iter()
        .find(|c| c.coordinator_epoch == CLAIMS)
        .expect("some claim got the last epoch");
    let stored = store
        .load_group("race-claim")
        .await
        .expect("load_group")
        .expect("claimed");
    assert_eq!(&stored, last);
    assert_eq!(stored.coordinator_epoch, CLAIMS);
    assert_eq!(stored.state, None);
}

/// A coordinator commits offsets while another agent claims the group and reads its offsets,
/// as a new coordinator does. Whichever goes first, the new coordinator must not miss a
/// commit made at the old epoch: once its claim has returned, the old epoch can change
/// nothing.
pub(crate) async fn group_commit_against_claim(store: Arc<dyn MetadataStore>) {
    const PARTITIONS: i32 = 32;
    let offsets = |offset: i64| -> Vec<GroupOffset> {
        (0..PARTITIONS)
            .map(|partition| GroupOffset {
                topic: "t".to_owned(),
                partition,
                offset,
                leader_epoch: -1,
                metadata: None,
                commit_timestamp_ms: NOW,
            })
            .collect()
    };
    let mut old_won = 0;
    for round in 0..ROUNDS {
        let group = format!("race-coord-{round}");
        let old = store
            .claim_group(&group, "old", NOW)
            .await
            .expect("claim_group")
            .coordinator_epoch;
        let commit_task = {
            let (store, group, offsets) = (Arc::clone(&store), group.clone(), offsets(7));
            tokio::spawn(async move { store.commit_group_offsets(&group, old, &offsets).await })
        };
        let claim_task = {
            let (store, group) = (Arc::clone(&store), group.clone());
            tokio::spawn(async move {
                let claimed = store
                    .claim_group(&group, "new", NOW + 1)
                    .await
                    .expect("claim_group");
                let seen = store.group_offsets(&group).await.expect("group_offsets");
                (claimed, seen)
            })
        };
        let committed = match commit_task.await.expect("task") {
            Ok(()) => true,
            Err(Error::GroupFenced { epoch, .. }) if epoch == old => false,
            Err(other) => panic!("unexpected commit error {other:?}"),
        };
        let (claimed, seen) = claim_task.await.expect("task");
        assert_eq!(claimed.coordinator_epoch, old + 1);
        let expected = if committed {
            old_won += 1;
            offsets(7)
        } else {
            Vec::new()
        };
        assert_eq!(
            seen, expected,
            "the new coordinator sees exactly the commits made before its claim"
        );
        let late = store.commit_group_offsets(&group, old, &offsets(8)).await;
        assert!(
            matches!(late, Err(Error::GroupFenced { .. })),
            "the old epoch is fenced after the claim: {late:?}"
        );
        assert_eq!(
            store.group_offsets(&group).await.expect("group_offsets"),
            expected
        );
    }
    eprintln!("old coordinator committed before the claim in {old_won}/{ROUNDS} rounds");
}
