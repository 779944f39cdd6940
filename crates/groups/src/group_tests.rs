//! The state machine on its own: time is a number, answers are channels.

use bytes::Bytes;
use tokio::sync::oneshot::error::TryRecvError;

use super::*;

const SESSION: i32 = 10_000;
const REBALANCE: i32 = 30_000;

fn limits(initial_delay_ms: i64) -> Limits {
    Limits {
        min_session_ms: 6_000,
        max_session_ms: 300_000,
        initial_delay_ms,
        max_size: 10,
    }
}

fn request(member_id: &str, protocols: &[&str]) -> JoinRequest {
    JoinRequest {
        member_id: member_id.to_owned(),
        instance_id: None,
        client_id: "client".to_owned(),
        client_host: "/127.0.0.1".to_owned(),
        session_timeout_ms: SESSION,
        rebalance_timeout_ms: REBALANCE,
        protocol_type: "consumer".to_owned(),
        protocols: protocols
            .iter()
            .map(|p| ((*p).to_owned(), Bytes::from(format!("meta-{p}"))))
            .collect(),
        require_known_member_id: true,
    }
}

fn deliver(group: &mut Group) {
    for delivery in group.outbox.drain(..) {
        delivery.deliver();
    }
}

/// Waits for nothing: the answer must already be there.
fn ready<T: std::fmt::Debug>(group: &mut Group, reply: Reply<T>) -> Result<T, GroupError> {
    deliver(group);
    match reply {
        Reply::Now(result) => result,
        Reply::Later(mut rx) => rx.try_recv().expect("answer delivered"),
    }
}

fn parked<T>(reply: Reply<T>) -> oneshot::Receiver<Result<T, GroupError>> {
    match reply {
        Reply::Later(rx) => rx,
        Reply::Now(_) => panic!("expected the request to wait"),
    }
}

fn member_id_for(group: &mut Group) -> String {
    match group.join(request("", &["range"]), 0) {
        Reply::Now(Err(GroupError::MemberIdRequired(id))) => id,
        other => panic!("expected MEMBER_ID_REQUIRED, got {other:?}"),
    }
}

/// A new member's two-step join (MEMBER_ID_REQUIRED, then rejoin): its id and receiver.
fn join_new(
    group: &mut Group,
    protocols: &[&str],
    now: TimestampMs,
) -> (String, oneshot::Receiver<JoinOutcome>) {
    let id = match group.join(request("", protocols), now) {
        Reply::Now(Err(GroupError::MemberIdRequired(id))) => id,
        other => panic!("expected MEMBER_ID_REQUIRED, got {other:?}"),
    };
    (id.clone(), parked(group.join(request(&id, protocols), now)))
}

fn sync(
    group: &mut Group,
    member: &str,
    generation: i32,
    assignments: &[(&str, &str)],
) -> Reply<SyncResult> {
    group.sync(
        SyncRequest {
            generation,
            member_id: member.to_owned(),
            instance_id: None,
            protocol_type: Some("consumer".to_owned()),
            protocol_name: None,
            assignments: assignments
                .iter()
                .map(|(m, a)| ((*m).to_owned(), Bytes::from((*a).to_owned())))
                .collect(),
        },
        0,
    )
}

/// Three members through a whole rebalance; returns the group and the member ids
/// (leader first).
fn stable_group_of_three() -> (Group, Vec<String>) {
    let mut group = Group::new("g", limits(0), 0);
    // All three ask for an id first, so the barrier waits for all of them.
    let ids: Vec<String> = (0..3).map(|_| member_id_for(&mut group)).collect();
    let mut joins = Vec::new();
    for id in &ids {
        assert_ne!(group.state, GroupState::CompletingRebalance);
        joins.push((id.clone(), parked(group.join(request(id, &["range"]), 0))));
    }
    assert_eq!(group.state, GroupState::CompletingRebalance);
    deliver(&mut group);
    let mut results: Vec<JoinResult> = joins
        .into_iter()
        .map(|(_, mut rx)| rx.try_recv().expect("joined").expect("no error"))
        .collect();
    let leader = results[0].leader.clone();
    results.sort_by_key(|r| r.member_id != leader);
    assert!(results.iter().all(|r| r.generation == 1));
    assert_eq!(results[0].members.len(), 3, "the leader sees every member");
    assert!(results[1..].iter().all(|r| r.members.is_empty()));
    let ids: Vec<String> = results.iter().map(|r| r.member_id.clone()).collect();
    let follower_rx: Vec<_> = ids[1..]
        .iter()
        .map(|id| parked(sync(&mut group, id, 1, &[])))
        .collect();
    let assignments: Vec<(&str, &str)> = ids.iter().map(|id| (id.as_str(), "assigned")).collect();
    let leader_sync = sync(&mut group, &ids[0], 1, &assignments);
    assert_eq!(group.state, GroupState::Stable);
    assert_eq!(
        ready(&mut group, leader_sync).expect("synced").assignment,
        "assigned"
    );
    for mut rx in follower_rx {
        assert_eq!(
            rx.try_recv().expect("released").expect("synced").assignment,
            "assigned"
        );
    }
    (group, ids)
}

#[test]
fn a_group_of_three_rebalances_once_and_everyone_gets_an_assignment() {
    let (group, ids) = stable_group_of_three();
    assert_eq!(group.generation, 1);
    assert_eq!(group.leader.as_deref(), Some(ids[0].as_str()));
    assert_eq!(group.protocol_name.as_deref(), Some("range"));
}

#[test]
fn the_barrier_waits_for_every_known_member_until_the_rebalance_timeout() {
    let (mut group, ids) = stable_group_of_three();
    // A fourth member arrives: everyone must rejoin.
    let (_, mut newcomer) = join_new(&mut group, &["range"], 1_000);
    assert_eq!(group.state, GroupState::PreparingRebalance);
    assert_eq!(
        group.heartbeat(&ids[1], None, 1, 1_000),
        Err(GroupError::RebalanceInProgress)
    );
    // Two of the three rejoin; the third never does.
    let mut rejoined: Vec<_> = ids[..2]
        .iter()
        .map(|id| parked(group.join(request(id, &["range"]), 2_000)))
        .collect();
    // It keeps heartbeating (a consumer busy processing), so only the rebalance
    // timeout can remove it.
    for now in (2_000..30_000).step_by(5_000) {
        assert_eq!(
            group.heartbeat(&ids[2], None, 1, now),
            Err(GroupError::RebalanceInProgress)
        );
        group.tick(now);
    }
    group.tick(1_000 + i64::from(REBALANCE) - 1);
    deliver(&mut group);
    assert_eq!(
        newcomer.try_recv(),
        Err(TryRecvError::Empty),
        "barrier held"
    );
    group.tick(1_000 + i64::from(REBALANCE));
    deliver(&mut group);
    assert_eq!(group.state, GroupState::CompletingRebalance);
    assert_eq!(group.generation, 2);
    assert_eq!(
        group.members.len(),
        3,
        "the member that did not rejoin is out"
    );
    assert!(!group.members.contains_key(&ids[2]));
    assert!(newcomer.try_recv().expect("answered").is_ok());
    for rx in &mut rejoined {
        assert_eq!(
            rx.try_recv().expect("answered").expect("joined").generation,
            2
        );
    }
}

#[test]
fn a_member_that_stops_heartbeating_is_expired_and_its_partitions_move() {
    let (mut group, ids) = stable_group_of_three();
    for now in [4_000, 8_000] {
        group.heartbeat(&ids[0], None, 1, now).expect("alive");
        group.heartbeat(&ids[1], None, 1, now).expect("alive");
    }
    group.tick(10_001);
    assert_eq!(group.state, GroupState::PreparingRebalance);
    assert!(
        !group.members.contains_key(&ids[2]),
        "silent member expired"
    );
    let a = parked(group.join(request(&ids[0], &["range"]), 10_100));
    let b = parked(group.join(request(&ids[1], &["range"]), 10_100));
    deliver(&mut group);
    for mut rx in [a, b] {
        assert_eq!(
            rx.try_recv().expect("answered").expect("joined").generation,
            2
        );
    }
}

#[test]
fn members_parked_at_the_barrier_do_not_expire_but_members_whose_client_left_do() {
    for client_stays in [true, false] {
        let (mut group, ids) = stable_group_of_three();
        // The leader rejoins (it saw metadata change) and waits at the barrier; the
        // followers go silent.
        let mut leader_rx = parked(group.join(request(&ids[0], &["range"]), 1_000));
        if !client_stays {
            drop(leader_rx);
            leader_rx = oneshot::channel().1;
        }
        group.tick(1_000 + i64::from(SESSION) + 1);
        deliver(&mut group);
        assert!(!group.members.contains_key(&ids[1]) && !group.members.contains_key(&ids[2]));
        if client_stays {
            assert_eq!(group.state, GroupState::CompletingRebalance);
            assert_eq!(group.generation, 2);
            let joined = leader_rx.try_recv().expect("answered").expect("joined");
            assert_eq!(joined.members.len(), 1);
        } else {
            assert!(
                group.members.is_empty(),
                "a member whose client is gone expires"
            );
            assert_eq!(group.state, GroupState::Empty);
        }
    }
}

#[test]
fn leaving_members_trigger_a_rebalance_and_the_last_one_empties_the_group() {
    let (mut group, ids) = stable_group_of_three();
    group.leave(&ids[2], None, 1_000).expect("left");
    assert_eq!(group.state, GroupState::PreparingRebalance);
    assert_eq!(
        group.leave(&ids[2], None, 1_000),
        Err(GroupError::UnknownMemberId)
    );
    group.leave(&ids[0], None, 1_000).expect("left");
    group.leave(&ids[1], None, 1_000).expect("left");
    assert_eq!(group.state, GroupState::Empty);
    assert_eq!(group.generation, 2);
    assert!(group.leader.is_none());
}

#[test]
fn stale_generations_and_unknown_members_are_refused() {
    let (mut group, ids) = stable_group_of_three();
    assert_eq!(
        group.heartbeat(&ids[0], None, 0, 0),
        Err(GroupError::IllegalGeneration)
    );
    assert_eq!(
        group.heartbeat("nobody", None, 1, 0),
        Err(GroupError::UnknownMemberId)
    );
    let stale_sync = sync(&mut group, &ids[0], 0, &[]);
    assert_eq!(
        ready(&mut group, stale_sync),
        Err(GroupError::IllegalGeneration)
    );
    assert_eq!(
        group.validate_commit(0, &ids[0], None, 0),
        Err(GroupError::IllegalGeneration)
    );
    assert_eq!(
        group.validate_commit(-1, "", None, 0),
        Err(GroupError::UnknownMemberId),
        "a generation-less commit would overwrite an active group's positions"
    );
    group
        .validate_commit(1, &ids[0], None, 0)
        .expect("current member commits");
}

#[test]
fn commits_wait_out_the_assignment_phase_and_an_empty_group_takes_simple_commits() {
    let mut group = Group::new("g", limits(0), 0);
    group
        .validate_commit(-1, "", None, 0)
        .expect("simple commit to an empty group");
    let (id, _rx) = join_new(&mut group, &["range"], 0);
    deliver(&mut group);
    assert_eq!(
        group.validate_commit(1, &id, None, 0),
        Err(GroupError::RebalanceInProgress)
    );
}

#[test]
fn the_protocol_most_members_prefer_among_those_all_support_wins() {
    let mut group = Group::new("g", limits(0), 0);
    let (a, _a) = join_new(&mut group, &["range", "roundrobin"], 0);
    deliver(&mut group);
    let (_, _b) = join_new(&mut group, &["roundrobin", "range"], 0);
    let (_, _c) = join_new(&mut group, &["roundrobin"], 0);
    assert!(matches!(
        group.join(request("", &["sticky"]), 0),
        Reply::Now(Err(GroupError::InconsistentGroupProtocol))
    ));
    let mut other_type = request("", &["range"]);
    other_type.protocol_type = "connect".to_owned();
    assert!(matches!(
        group.join(other_type, 0),
        Reply::Now(Err(GroupError::InconsistentGroupProtocol))
    ));
    // The first member's rejoin completes the barrier: one vote for range, two for
    // roundrobin.
    let _ = group.join(request(&a, &["range", "roundrobin"]), 0);
    assert_eq!(group.state, GroupState::CompletingRebalance);
    assert_eq!(group.protocol_name.as_deref(), Some("roundrobin"));
}

#[test]
fn session_timeouts_outside_the_limits_and_full_groups_are_refused() {
    let mut group = Group::new("g", limits(0), 0);
    let mut short = request("", &["range"]);
    short.session_timeout_ms = 1_000;
    assert!(matches!(
        group.join(short, 0),
        Reply::Now(Err(GroupError::InvalidSessionTimeout { .. }))
    ));
    for _ in 0..10 {
        let _ = join_new(&mut group, &["range"], 0);
    }
    assert!(matches!(
        group.join(request("", &["range"]), 0),
        Reply::Now(Err(GroupError::GroupMaxSizeReached(10)))
    ));
}

#[test]
fn the_initial_delay_gathers_members_into_one_rebalance() {
    let mut group = Group::new("g", limits(3_000), 0);
    let (_, mut a) = join_new(&mut group, &["range"], 0);
    deliver(&mut group);
    assert_eq!(a.try_recv(), Err(TryRecvError::Empty), "held for the delay");
    let (_, mut b) = join_new(&mut group, &["range"], 2_000);
    group.tick(4_999);
    deliver(&mut group);
    assert_eq!(
        a.try_recv(),
        Err(TryRecvError::Empty),
        "extended by the newcomer"
    );
    group.tick(5_000);
    deliver(&mut group);
    assert_eq!(
        a.try_recv().expect("answered").expect("joined").generation,
        1
    );
    assert_eq!(
        b.try_recv().expect("answered").expect("joined").generation,
        1
    );
}

#[test]
fn a_restarted_static_member_takes_its_place_without_a_rebalance() {
    let static_request = |instance: &str| {
        let mut r = request("", &["range"]);
        r.instance_id = Some(instance.to_owned());
        r
    };
    let mut group = Group::new("g", limits(1_000), 0);
    let leader_rx = parked(group.join(static_request("pod-1"), 0));
    let follower_rx = parked(group.join(static_request("pod-2"), 0));
    group.tick(1_000);
    deliver(&mut group);
    let mut ids = Vec::new();
    for mut rx in [leader_rx, follower_rx] {
        ids.push(rx.try_recv().expect("answered").expect("joined").member_id);
    }
    let (leader, follower) = (ids[0].clone(), ids[1].clone());
    assert_eq!(group.leader.as_deref(), Some(leader.as_str()));
    let follower_sync = parked(sync(&mut group, &follower, 1, &[]));
    let leader_sync = sync(
        &mut group,
        &leader,
        1,
        &[(&leader, "p0"), (&follower, "p1")],
    );
    ready(&mut group, leader_sync).expect("synced");
    drop(follower_sync);
    assert_eq!(group.state, GroupState::Stable);

    // pod-2 restarts and joins without its old member id.
    let rejoin = group.join(static_request("pod-2"), 20);
    let rejoined = ready(&mut group, rejoin).expect("joined without a rebalance");
    assert_eq!(group.state, GroupState::Stable);
    assert_eq!(rejoined.generation, 1);
    assert_ne!(rejoined.member_id, follower);
    let mine = sync(&mut group, &rejoined.member_id, 1, &[]);
    assert_eq!(ready(&mut group, mine).expect("synced").assignment, "p1");
    // The old incarnation is fenced.
    assert_eq!(
        group.heartbeat(&follower, Some("pod-2"), 1, 20),
        Err(GroupError::FencedInstanceId)
    );
    assert_eq!(
        group.leave(&follower, Some("pod-2"), 20),
        Err(GroupError::FencedInstanceId)
    );

    // The leader restarts too: it sees the members but must not reassign.
    let rejoin = group.join(static_request("pod-1"), 30);
    let leader_again = ready(&mut group, rejoin).expect("joined without a rebalance");
    assert_eq!(group.state, GroupState::Stable);
    assert!(leader_again.skip_assignment);
    assert_eq!(leader_again.leader, leader_again.member_id);
    assert_eq!(leader_again.members.len(), 2);
    let proposal = sync(
        &mut group,
        &leader_again.member_id,
        1,
        &[(&leader_again.member_id, "other")],
    );
    assert_eq!(
        ready(&mut group, proposal).expect("synced").assignment,
        "p0"
    );
}

#[test]
fn saved_state_restores_generation_members_and_assignments() {
    let (group, ids) = stable_group_of_three();
    let saved = crate::stored::StoredGroupState::of(&group);
    let json = saved.to_json();
    let restored = Group::restore(
        "g",
        limits(0),
        50_000,
        crate::stored::StoredGroupState::from_json(&json).expect("parses"),
    );
    assert_eq!(restored.state, GroupState::Stable);
    assert_eq!(restored.generation, 1);
    assert_eq!(restored.leader, group.leader);
    for id in &ids {
        assert_eq!(restored.members[id].assignment, "assigned");
        assert_eq!(
            restored.members[id].session_deadline_ms,
            50_000 + i64::from(SESSION)
        );
    }
    assert!(crate::stored::StoredGroupState::from_json("{\"version\":2}").is_err());
}
