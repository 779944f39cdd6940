//! The coordinator over a real engine and SQLite metadata: persistence across
//! coordinator restarts, fencing by a newer coordinator, lag, and offset retention.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use streamhouse_config::{EngineConfig, GroupsConfig};
use streamhouse_engine::{Engine, EngineParts};
use streamhouse_groups::{
    GroupCoordinator, GroupError, GroupState, JoinRequest, OffsetCommit, SyncRequest,
};
use streamhouse_metadata::{AgentInfo, MetadataStore, TopicConfig};
use streamhouse_types::{Clock, ManualClock, SystemClock, TopicPartition};

struct Node {
    engine: Engine,
    store: Arc<dyn MetadataStore>,
    _dir: tempfile::TempDir,
}

async fn node() -> Node {
    let dir = tempfile::tempdir().expect("tempdir");
    let store =
        streamhouse_metadata::connect(&format!("sqlite://{}/meta.db", dir.path().display()), 4)
            .await
            .expect("sqlite");
    let engine = Engine::start(EngineParts {
        metadata: Arc::clone(&store),
        object_store: Arc::new(object_store::memory::InMemory::new()),
        remote_store: false,
        config: EngineConfig {
            flush_interval: Some(Duration::from_millis(2)),
            ..EngineConfig::default()
        },
        agent: AgentInfo::new("agent-1", "127.0.0.1:9092"),
        clock: Arc::new(SystemClock),
        metrics: streamhouse_metrics::Metrics::new("test"),
    })
    .await
    .expect("engine");
    engine
        .create_topic("t", 2, TopicConfig::default())
        .await
        .expect("topic");
    Node {
        engine,
        store,
        _dir: dir,
    }
}

fn config() -> GroupsConfig {
    GroupsConfig {
        min_session_timeout: Duration::from_millis(100),
        initial_rebalance_delay: Duration::ZERO,
        ..GroupsConfig::default()
    }
}

fn coordinator(node: &Node, clock: Arc<dyn Clock>) -> GroupCoordinator {
    GroupCoordinator::new(
        node.engine.clone(),
        config(),
        Duration::from_secs(10),
        clock,
    )
}

fn join_request(member_id: &str) -> JoinRequest {
    JoinRequest {
        member_id: member_id.to_owned(),
        instance_id: None,
        client_id: "test".to_owned(),
        client_host: "/127.0.0.1".to_owned(),
        session_timeout_ms: 10_000,
        rebalance_timeout_ms: 10_000,
        protocol_type: "consumer".to_owned(),
        protocols: vec![("range".to_owned(), Bytes::from_static(b"subscription"))],
        require_known_member_id: false,
    }
}

/// One member through join and sync: `(member id, generation)`.
async fn stable_member(groups: &GroupCoordinator, group: &str) -> (String, i32) {
    let joined = groups.join(group, join_request("")).await.expect("join");
    let synced = groups
        .sync(
            group,
            SyncRequest {
                generation: joined.generation,
                member_id: joined.member_id.clone(),
                instance_id: None,
                protocol_type: None,
                protocol_name: None,
                assignments: vec![(joined.member_id.clone(), Bytes::from_static(b"mine"))],
            },
        )
        .await
        .expect("sync");
    assert_eq!(synced.assignment, "mine");
    (joined.member_id, joined.generation)
}

fn commit(partition: i32, offset: i64) -> OffsetCommit {
    OffsetCommit {
        topic: "t".to_owned(),
        partition,
        offset,
        leader_epoch: -1,
        metadata: Some(format!("at {offset}")),
    }
}

#[tokio::test]
async fn a_restarted_coordinator_continues_the_group_without_a_rebalance() {
    let node = node().await;
    let first = coordinator(&node, Arc::new(SystemClock));
    let (member, generation) = stable_member(&first, "g").await;
    let results = first
        .commit_offsets("g", generation, &member, None, vec![commit(0, 5)])
        .await
        .expect("commit");
    assert_eq!(results, vec![Ok(())]);
    first.shutdown().await;

    // A new coordinator (a restarted agent) loads the saved group: the member's
    // generation is still current and its assignment is kept.
    let second = coordinator(&node, Arc::new(SystemClock));
    second
        .heartbeat("g", &member, None, generation)
        .await
        .expect("the member is still in the current generation");
    let described = second.describe_group("g").await.expect("describe");
    assert_eq!(described.state, GroupState::Stable);
    assert_eq!(described.generation, generation);
    assert_eq!(described.members.len(), 1);
    assert_eq!(described.members[0].assignment, "mine");
    let offsets = second.fetch_offsets("g", None).await.expect("fetch");
    assert_eq!(offsets.len(), 1);
    assert_eq!(
        (offsets[0].offset, offsets[0].metadata.as_deref()),
        (5, Some("at 5"))
    );
}

#[tokio::test]
async fn a_coordinator_whose_group_was_claimed_elsewhere_can_no_longer_write_it() {
    let node = node().await;
    let groups = coordinator(&node, Arc::new(SystemClock));
    let (member, generation) = stable_member(&groups, "g").await;
    groups
        .commit_offsets("g", generation, &member, None, vec![commit(0, 1)])
        .await
        .expect("commit");
    // Another agent takes the group over (its claim bumps the coordinator epoch).
    let taken = node
        .store
        .claim_group("g", "agent-2", 0)
        .await
        .expect("claim");
    assert!(taken.coordinator_epoch >= 2);
    assert_eq!(
        groups
            .commit_offsets("g", generation, &member, None, vec![commit(0, 99)])
            .await,
        Err(GroupError::NotCoordinator),
        "the old coordinator's commit is fenced"
    );
    let stored = node.store.group_offsets("g").await.expect("offsets");
    assert_eq!(
        stored[0].offset, 1,
        "nothing was written by the fenced coordinator"
    );
}

#[tokio::test]
async fn lag_is_the_distance_from_each_commit_to_the_end_of_the_log() {
    let node = node().await;
    for (partition, records) in [(0, 10), (1, 4)] {
        let batch = streamhouse_test_support::batches::sample_batch(1, records, 10, 0);
        node.engine
            .append(&TopicPartition::new("t", partition), batch)
            .await
            .expect("append");
    }
    let groups = coordinator(&node, Arc::new(SystemClock));
    assert_eq!(groups.lag("nobody").await, Err(GroupError::GroupIdNotFound));
    // A consumer that manages its own partitions commits with generation -1.
    groups
        .commit_offsets("g", -1, "", None, vec![commit(0, 7), commit(1, 4)])
        .await
        .expect("commit");
    let lag = groups.lag("g").await.expect("lag");
    let rows: Vec<_> = lag
        .partitions
        .iter()
        .map(|p| (p.partition, p.committed_offset, p.log_end_offset, p.lag))
        .collect();
    assert_eq!(
        rows,
        vec![(0, Some(7), 10, Some(3)), (1, Some(4), 4, Some(0))]
    );
    assert_eq!(lag.total_lag, 3);
    assert_eq!(lag.state, GroupState::Empty);
}

#[tokio::test]
async fn offsets_of_empty_groups_expire_after_the_retention() {
    let node = node().await;
    let clock = Arc::new(ManualClock::new(SystemClock.now_ms()));
    let groups = coordinator(&node, Arc::clone(&clock) as Arc<dyn Clock>);
    let week = config().offset_retention.as_millis() as i64;

    // A group that only commits: each offset expires a retention after its commit.
    groups
        .commit_offsets("standalone", -1, "", None, vec![commit(0, 3)])
        .await
        .expect("commit");
    clock.advance(week / 2);
    groups
        .commit_offsets("standalone", -1, "", None, vec![commit(1, 4)])
        .await
        .expect("commit");
    clock.advance(week / 2 + 1);
    groups.expire_offsets().await.expect("expire");
    let left: Vec<_> = node
        .store
        .group_offsets("standalone")
        .await
        .expect("offsets")
        .iter()
        .map(|o| o.partition)
        .collect();
    assert_eq!(left, vec![1], "only the old commit expired");

    // A consumer group: its offsets live as long as it has members, and a retention
    // after it became empty.
    let (member, generation) = stable_member(&groups, "consumers").await;
    groups
        .commit_offsets("consumers", generation, &member, None, vec![commit(0, 8)])
        .await
        .expect("commit");
    clock.advance(2 * week);
    groups
        .heartbeat("consumers", &member, None, generation)
        .await
        .expect("alive");
    groups.expire_offsets().await.expect("expire");
    assert_eq!(
        node.store
            .group_offsets("consumers")
            .await
            .expect("offsets")
            .len(),
        1
    );
    let left = groups
        .leave("consumers", &[(member.clone(), None)])
        .await
        .expect("leave");
    assert_eq!(left, vec![Ok(())]);
    clock.advance(week - 1);
    groups.expire_offsets().await.expect("expire");
    assert_eq!(
        node.store
            .group_offsets("consumers")
            .await
            .expect("offsets")
            .len(),
        1
    );
    clock.advance(2);
    groups.expire_offsets().await.expect("expire");
    assert!(
        node.store
            .group_offsets("consumers")
            .await
            .expect("offsets")
            .is_empty()
    );
    assert_eq!(
        groups
            .describe_group("consumers")
            .await
            .expect("describe")
            .state,
        GroupState::Dead,
        "an empty group without offsets is removed"
    );
}

#[tokio::test]
async fn ids_of_groups_that_do_not_exist_leave_nothing_behind() {
    let node = node().await;
    let groups = coordinator(&node, Arc::new(SystemClock));
    for i in 0..500 {
        let group = format!("ghost-{i}");
        assert_eq!(
            groups.heartbeat(&group, "m", None, 1).await,
            Err(GroupError::UnknownMemberId)
        );
        assert_eq!(
            groups.leave(&group, &[("m".to_owned(), None)]).await,
            Ok(vec![Err(GroupError::UnknownMemberId)])
        );
        assert_eq!(
            groups.delete_group(&group).await,
            Err(GroupError::GroupIdNotFound)
        );
    }
    assert_eq!(
        groups.tracked_groups(),
        0,
        "unknown ids are not kept in memory"
    );
    stable_member(&groups, "real").await;
    assert_eq!(groups.tracked_groups(), 1);
    assert_eq!(
        node.store.list_groups().await.expect("groups").len(),
        1,
        "no rows for ghosts"
    );
}
