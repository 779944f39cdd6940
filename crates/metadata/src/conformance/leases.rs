//! Agents and partition leases.

use super::*;

/// Agents: register (and re-register), heartbeat, list in order, deregister.
pub async fn agents(store: &dyn MetadataStore) {
    let listed = async || -> Vec<AgentInfo> {
        let mut agents = store.list_agents().await.expect("list_agents");
        agents.retain(|a| a.id.starts_with("conf-agent-"));
        agents
    };
    let two = AgentInfo {
        id: "conf-agent-2".to_owned(),
        advertised_addr: "10.0.0.2:9092".to_owned(),
        rack: None,
        started_at_ms: NOW,
        heartbeat_at_ms: NOW,
    };
    let mut one = AgentInfo {
        id: "conf-agent-1".to_owned(),
        advertised_addr: "10.0.0.1:9092".to_owned(),
        rack: Some("us-east-1a".to_owned()),
        started_at_ms: NOW + 1,
        heartbeat_at_ms: NOW + 1,
    };
    store.register_agent(&two).await.expect("register_agent");
    store.register_agent(&one).await.expect("register_agent");
    assert_eq!(
        listed().await,
        vec![one.clone(), two.clone()],
        "agents are listed by id"
    );

    assert!(
        store
            .heartbeat_agent(&one.id, NOW + 500)
            .await
            .expect("heartbeat_agent")
    );
    one.heartbeat_at_ms = NOW + 500;
    assert_eq!(listed().await, vec![one.clone(), two.clone()]);
    assert!(
        !store
            .heartbeat_agent("conf-agent-unknown", NOW)
            .await
            .expect("heartbeat_agent")
    );

    let restarted = AgentInfo {
        advertised_addr: "10.0.0.9:19092".to_owned(),
        rack: None,
        started_at_ms: NOW + 1_000,
        heartbeat_at_ms: NOW + 1_000,
        ..one.clone()
    };
    store
        .register_agent(&restarted)
        .await
        .expect("register_agent");
    assert_eq!(listed().await, vec![restarted.clone(), two.clone()]);

    store
        .deregister_agent(&restarted.id)
        .await
        .expect("deregister_agent");
    assert_eq!(listed().await, vec![two.clone()]);
    assert!(
        !store
            .heartbeat_agent(&restarted.id, NOW + 2_000)
            .await
            .expect("heartbeat_agent")
    );
    store
        .deregister_agent("conf-agent-unknown")
        .await
        .expect("deregister unknown");
    store
        .deregister_agent(&two.id)
        .await
        .expect("deregister_agent");
    assert!(listed().await.is_empty());
}

/// Leases: grant, contention, re-acquire by the holder, expiry, unknown partitions.
pub async fn lease_acquire_and_contend(store: &dyn MetadataStore) {
    let topic = create(store, "conf-lease", 1).await;
    let (a, b) = ("conf-lease-a", "conf-lease-b");

    let (first, state) = store
        .acquire_lease(topic.id, 0, a, NOW, NOW + LEASE_MS)
        .await
        .expect("acquire_lease")
        .expect("free partition is granted");
    assert_eq!(
        first,
        LeaseEpoch {
            topic_id: topic.id,
            partition: 0,
            epoch: 1
        }
    );
    assert_eq!(state.leader.as_deref(), Some(a));
    assert_eq!(
        (state.leader_epoch, state.lease_expires_at_ms),
        (1, NOW + LEASE_MS)
    );
    assert_eq!(
        (state.topic_id, state.topic.as_str(), state.partition),
        (topic.id, "conf-lease", 0)
    );
    let stored = store.partition(&topic.name, 0).await.expect("partition");
    assert_eq!(stored, Some(state.clone()));

    let contended = store
        .acquire_lease(topic.id, 0, b, NOW + 1, NOW + 1 + LEASE_MS)
        .await
        .expect("acquire_lease");
    assert_eq!(contended, None, "a live lease is not taken");
    assert_eq!(
        store.partition(&topic.name, 0).await.expect("partition"),
        Some(state)
    );

    // The holder acquiring again is granted a new epoch, fencing its earlier incarnation.
    let (second, state) = store
        .acquire_lease(topic.id, 0, a, NOW + 2, NOW + 2 + LEASE_MS)
        .await
        .expect("acquire_lease")
        .expect("holder re-acquires");
    assert_eq!(second.epoch, 2);
    assert_eq!(
        (state.leader_epoch, state.lease_expires_at_ms),
        (2, NOW + 2 + LEASE_MS)
    );
    commit_ok(store, second, segment(0, 9, NOW, "conf-lease/1")).await;
    let outcome = store
        .commit_flush(&[commit(first, segment(10, 19, NOW, "conf-lease/2"))])
        .await
        .expect("commit_flush");
    assert_eq!(
        outcome,
        vec![CommitOutcome::Fenced],
        "the older epoch is fenced"
    );

    let early = store
        .acquire_lease(topic.id, 0, b, NOW + 1 + LEASE_MS, NOW + 10 * LEASE_MS)
        .await
        .expect("acquire_lease");
    assert_eq!(early, None, "not expired until its expiry time");
    let (stolen, state) = store
        .acquire_lease(topic.id, 0, b, NOW + 2 + LEASE_MS, NOW + 2 + 2 * LEASE_MS)
        .await
        .expect("acquire_lease")
        .expect("an expired lease is taken");
    assert_eq!(stolen.epoch, 3);
    assert_eq!(state.leader.as_deref(), Some(b));
    assert_eq!(
        state.high_watermark, 10,
        "the new holder sees the committed bounds"
    );
    assert_eq!(
        store
            .acquire_lease(topic.id, 0, a, NOW + 3 + LEASE_MS, NOW + 3 * LEASE_MS)
            .await
            .expect("acquire"),
        None
    );

    let err = store
        .acquire_lease(topic.id, 1, a, NOW, NOW + LEASE_MS)
        .await
        .expect_err("no such partition");
    assert!(
        matches!(err, Error::UnknownPartition { partition: 1, .. }),
        "{err:?}"
    );
    let err = store
        .acquire_lease(Uuid::new_v4(), 0, a, NOW, NOW + LEASE_MS)
        .await
        .expect_err("no such topic");
    assert!(matches!(err, Error::UnknownPartition { .. }), "{err:?}");
}

/// Leases: renewal only at the held epoch, release, and takeover after release.
pub async fn lease_renew_and_release(store: &dyn MetadataStore) {
    let topic = create(store, "conf-renew", 2).await;
    let (a, b) = ("conf-renew-a", "conf-renew-b");
    let l0 = lease(store, &topic, 0, a, NOW).await;
    let l1 = lease(store, &topic, 1, a, NOW).await;
    let expiry = |p: i32| async move {
        store
            .partition("conf-renew", p)
            .await
            .expect("partition")
            .expect("exists")
            .lease_expires_at_ms
    };

    let later = NOW + 5 * LEASE_MS;
    let renewed = store
        .renew_leases(a, &[l0, l1], later)
        .await
        .expect("renew_leases");
    assert_eq!(renewed, vec![l0, l1]);
    assert_eq!((expiry(0).await, expiry(1).await), (later, later));
    assert!(
        store
            .renew_leases(a, &[], later)
            .await
            .expect("renew_leases")
            .is_empty()
    );

    let stale = LeaseEpoch {
        epoch: l0.epoch - 1,
        ..l0
    };
    let renewed = store
        .renew_leases(a, &[stale, l1], later + 1)
        .await
        .expect("renew_leases");
    assert_eq!(renewed, vec![l1], "a lease at another epoch is not renewed");
    assert_eq!((expiry(0).await, expiry(1).await), (later, later + 1));
    let renewed = store
        .renew_leases(b, &[l0, l1], later + 2)
        .await
        .expect("renew_leases");
    assert!(renewed.is_empty(), "another agent cannot renew");
    assert_eq!(expiry(0).await, later);

    store
        .release_lease(b, l1)
        .await
        .expect("release by another agent is a no-op");
    store
        .release_lease(
            a,
            LeaseEpoch {
                epoch: l1.epoch + 5,
                ..l1
            },
        )
        .await
        .expect("release at another epoch is a no-op");
    let p1 = store
        .partition(&topic.name, 1)
        .await
        .expect("partition")
        .expect("exists");
    assert_eq!((p1.leader.as_deref(), p1.leader_epoch), (Some(a), l1.epoch));

    store.release_lease(a, l0).await.expect("release_lease");
    let p0 = store
        .partition(&topic.name, 0)
        .await
        .expect("partition")
        .expect("exists");
    assert_eq!(
        (p0.leader, p0.leader_epoch, p0.lease_expires_at_ms),
        (None, l0.epoch, 0)
    );
    assert!(
        store
            .renew_leases(a, &[l0], later)
            .await
            .expect("renew_leases")
            .is_empty()
    );
    store
        .release_lease(a, l0)
        .await
        .expect("releasing twice is a no-op");

    let (taken, state) = store
        .acquire_lease(topic.id, 0, b, NOW + 1, NOW + 1 + LEASE_MS)
        .await
        .expect("acquire_lease")
        .expect("a released lease is free at once");
    assert_eq!(taken.epoch, l0.epoch + 1);
    assert_eq!(state.leader.as_deref(), Some(b));
}
