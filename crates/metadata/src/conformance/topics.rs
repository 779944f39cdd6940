//! Topics: creation, lookup, configuration, growth and deletion.

use super::*;

/// Topics: create, get, list (ordered), partitions, config round trip, delete.
pub async fn topic_lifecycle(store: &dyn MetadataStore) {
    assert!(!store.backend().is_empty());
    store.ping().await.expect("ping");

    let b = create(store, "conf-lifecycle-b", 1).await;
    let a = create(store, "conf-lifecycle-a", 3).await;
    assert_eq!(a.name, "conf-lifecycle-a");
    assert_eq!(a.partition_count, 3);
    assert_eq!(a.config, TopicConfig::default());
    assert_eq!(a.created_at_ms, NOW);
    assert_ne!(a.id, b.id);
    assert_ne!(a.id, Uuid::nil());
    assert_eq!(
        store.get_topic(&a.name).await.expect("get_topic"),
        Some(a.clone())
    );

    let listed: Vec<Topic> = store
        .list_topics()
        .await
        .expect("list_topics")
        .into_iter()
        .filter(|t| t.name.starts_with("conf-lifecycle-"))
        .collect();
    assert_eq!(
        listed,
        vec![a.clone(), b.clone()],
        "topics are listed by name"
    );

    let parts = store.partitions(Some(&a.name)).await.expect("partitions");
    assert_eq!(parts.len(), 3);
    for (i, p) in parts.iter().enumerate() {
        assert_eq!(p.partition, i32::try_from(i).expect("small"));
        assert_eq!((p.topic_id, p.topic.as_str()), (a.id, a.name.as_str()));
        assert_eq!((p.log_start_offset, p.high_watermark), (0, 0));
        assert_eq!(
            (&p.leader, p.leader_epoch, p.lease_expires_at_ms),
            (&None, 0, 0)
        );
    }
    let p2 = store.partition(&a.name, 2).await.expect("partition");
    assert_eq!(p2.as_ref(), parts.get(2));
    assert_eq!(store.partition(&a.name, 3).await.expect("partition"), None);
    assert_eq!(
        store
            .partition("conf-lifecycle-none", 0)
            .await
            .expect("partition"),
        None
    );
    assert!(
        store
            .partitions(Some("conf-lifecycle-none"))
            .await
            .expect("partitions")
            .is_empty()
    );

    let everything: Vec<(String, i32)> = store
        .partitions(None)
        .await
        .expect("partitions")
        .into_iter()
        .filter(|p| p.topic.starts_with("conf-lifecycle-"))
        .map(|p| (p.topic, p.partition))
        .collect();
    let expected: Vec<(String, i32)> = [(&a.name, 0), (&a.name, 1), (&a.name, 2), (&b.name, 0)]
        .into_iter()
        .map(|(n, p)| (n.clone(), p))
        .collect();
    assert_eq!(everything, expected, "all partitions, by topic then index");

    let config = TopicConfig {
        retention_ms: 1_000,
        retention_bytes: 2_048,
        max_message_bytes: 500,
        cleanup_policy: CleanupPolicy::CompactDelete,
        timestamp_type: TimestampType::LogAppendTime,
    };
    store
        .update_topic_config(&a.name, &config)
        .await
        .expect("update_topic_config");
    let updated = store
        .get_topic(&a.name)
        .await
        .expect("get_topic")
        .expect("exists");
    assert_eq!(
        updated,
        Topic {
            config: config.clone(),
            ..a.clone()
        }
    );
    let config = TopicConfig {
        retention_ms: -1,
        cleanup_policy: CleanupPolicy::Compact,
        ..TopicConfig::default()
    };
    store
        .update_topic_config(&a.name, &config)
        .await
        .expect("update_topic_config");
    let updated = store
        .get_topic(&a.name)
        .await
        .expect("get_topic")
        .expect("exists");
    assert_eq!(updated.config, config);
    assert_eq!(
        store.get_topic(&b.name).await.expect("get_topic"),
        Some(b.clone())
    );

    assert_eq!(store.delete_topic(&b.name).await.expect("delete_topic"), b);
    assert_eq!(store.get_topic(&b.name).await.expect("get_topic"), None);
    let names: Vec<String> = store
        .list_topics()
        .await
        .expect("list_topics")
        .into_iter()
        .map(|t| t.name)
        .filter(|n| n.starts_with("conf-lifecycle-"))
        .collect();
    assert_eq!(names, vec![a.name.clone()]);
}

/// Topic errors: duplicate names, unknown topics, bad partition counts, odd names.
pub async fn topic_errors(store: &dyn MetadataStore) {
    let name = "conf-errors-a";
    let topic = create(store, name, 2).await;
    let err = store
        .create_topic(name, 5, &TopicConfig::default(), NOW + 1)
        .await
        .expect_err("duplicate name");
    assert!(
        matches!(&err, Error::TopicExists(n) if n == name),
        "{err:?}"
    );
    assert_eq!(store.get_topic(name).await.expect("get_topic"), Some(topic));
    assert_eq!(
        store
            .partitions(Some(name))
            .await
            .expect("partitions")
            .len(),
        2
    );

    for count in [0, -1, i32::MIN] {
        let err = store
            .create_topic("conf-errors-empty", count, &TopicConfig::default(), NOW)
            .await
            .expect_err("no partitions");
        assert!(
            matches!(&err, Error::InvalidPartitionCount { requested, .. } if *requested == count),
            "{err:?}"
        );
    }
    assert_eq!(
        store
            .get_topic("conf-errors-empty")
            .await
            .expect("get_topic"),
        None
    );

    let missing = "conf-errors-missing";
    let err = store
        .update_topic_config(missing, &TopicConfig::default())
        .await
        .expect_err("unknown topic");
    assert!(
        matches!(&err, Error::UnknownTopic(n) if n == missing),
        "{err:?}"
    );
    let err = store
        .add_partitions(missing, 4)
        .await
        .expect_err("unknown topic");
    assert!(
        matches!(&err, Error::UnknownTopic(n) if n == missing),
        "{err:?}"
    );
    let err = store
        .delete_topic(missing)
        .await
        .expect_err("unknown topic");
    assert!(
        matches!(&err, Error::UnknownTopic(n) if n == missing),
        "{err:?}"
    );
    assert_eq!(store.get_topic(missing).await.expect("get_topic"), None);
    assert_eq!(store.get_topic("").await.expect("get_topic"), None);

    // Names are validated by the engine; the store only has to keep them intact.
    let odd = "conf-errors-'\"; DROP TABLE topics; -- ü\\%_";
    let topic = create(store, odd, 1).await;
    assert_eq!(store.get_topic(odd).await.expect("get_topic"), Some(topic));
    assert_eq!(
        store.get_topic("conf-errors-%").await.expect("get_topic"),
        None
    );
}

/// Growing a topic: only upwards, new partitions start empty, old ones keep their state.
pub async fn add_partitions(store: &dyn MetadataStore) {
    let topic = create(store, "conf-grow", 2).await;
    let held = lease(store, &topic, 0, "conf-grow-agent", NOW).await;
    commit_ok(store, held, segment(0, 4, NOW, "conf-grow/1")).await;

    for count in [2, 1, 0, -3] {
        let err = store
            .add_partitions(&topic.name, count)
            .await
            .expect_err("must grow");
        assert!(
            matches!(&err, Error::InvalidPartitionCount { topic: t, requested, .. }
                if t == &topic.name && *requested == count),
            "{err:?}"
        );
    }
    assert_eq!(
        store
            .partitions(Some(&topic.name))
            .await
            .expect("partitions")
            .len(),
        2
    );

    let grown = store
        .add_partitions(&topic.name, 5)
        .await
        .expect("add_partitions");
    assert_eq!(
        grown,
        Topic {
            partition_count: 5,
            ..topic.clone()
        }
    );
    assert_eq!(
        store.get_topic(&topic.name).await.expect("get_topic"),
        Some(grown)
    );
    let parts = store
        .partitions(Some(&topic.name))
        .await
        .expect("partitions");
    let indexes: Vec<i32> = parts.iter().map(|p| p.partition).collect();
    assert_eq!(indexes, vec![0, 1, 2, 3, 4]);
    assert_eq!(parts[0].high_watermark, 5);
    assert_eq!(parts[0].leader.as_deref(), Some("conf-grow-agent"));
    assert_eq!(parts[0].leader_epoch, held.epoch);
    for p in &parts[1..] {
        assert_eq!(
            (p.high_watermark, p.log_start_offset, p.leader_epoch),
            (0, 0, 0)
        );
        assert_eq!(p.leader, None);
    }
    let new_lease = lease(store, &topic, 4, "conf-grow-agent", NOW).await;
    commit_ok(store, new_lease, segment(0, 0, NOW, "conf-grow/2")).await;
    assert_eq!(high_watermark(store, &topic, 4).await, 1);
}

/// Deleting a topic removes all its rows; a topic re-created under the name starts afresh.
pub async fn delete_topic(store: &dyn MetadataStore) {
    let name = "conf-delete";
    let topic = create(store, name, 2).await;
    let held = lease(store, &topic, 0, "conf-delete-a", NOW).await;
    let outcome = store
        .commit_flush(&[PartitionCommit {
            lease: held,
            segment: segment(0, 9, NOW, "conf-delete/1"),
            producers: vec![producer(5, 0, &[(0, 9, 0)])],
        }])
        .await
        .expect("commit_flush");
    assert_eq!(outcome, vec![CommitOutcome::Committed]);
    let mine = GroupOffset {
        topic: name.to_owned(),
        partition: 0,
        offset: 4,
        leader_epoch: -1,
        metadata: None,
        commit_timestamp_ms: NOW,
    };
    let other = GroupOffset {
        topic: "conf-delete-other".to_owned(),
        ..mine.clone()
    };
    let group = store
        .claim_group("conf-delete-group", "conf-delete-a", NOW)
        .await
        .expect("claim_group");
    store
        .commit_group_offsets(
            &group.group_id,
            group.coordinator_epoch,
            &[mine, other.clone()],
        )
        .await
        .expect("commit_group_offsets");

    assert_eq!(store.delete_topic(name).await.expect("delete_topic"), topic);
    assert_eq!(store.get_topic(name).await.expect("get_topic"), None);
    assert!(
        store
            .partitions(Some(name))
            .await
            .expect("partitions")
            .is_empty()
    );
    assert_eq!(store.partition(name, 0).await.expect("partition"), None);
    assert!(
        store
            .segments(topic.id, 0, 0, 10)
            .await
            .expect("segments")
            .is_empty()
    );
    assert!(
        store
            .producer_states(topic.id, 0)
            .await
            .expect("producer_states")
            .is_empty()
    );
    let referenced = store
        .referenced_objects(&keys(&["conf-delete/1"]))
        .await
        .expect("referenced_objects");
    assert!(
        referenced.is_empty(),
        "the objects are left for the garbage collector"
    );
    let offsets = store
        .group_offsets("conf-delete-group")
        .await
        .expect("group_offsets");
    assert_eq!(offsets, vec![other]);
    let outcome = store
        .commit_flush(&[commit(held, segment(10, 19, NOW, "conf-delete/2"))])
        .await
        .expect("commit_flush");
    assert_eq!(outcome, vec![CommitOutcome::Fenced]);
    assert!(
        store
            .acquire_lease(topic.id, 0, "conf-delete-a", NOW, NOW + LEASE_MS)
            .await
            .is_err()
    );
    let err = store.delete_topic(name).await.expect_err("already deleted");
    assert!(matches!(err, Error::UnknownTopic(_)), "{err:?}");

    let again = create(store, name, 1).await;
    assert_ne!(again.id, topic.id, "a re-created topic gets a new id");
    let parts = store.partitions(Some(name)).await.expect("partitions");
    assert_eq!(parts.len(), 1);
    assert_eq!(
        (
            parts[0].high_watermark,
            parts[0].leader_epoch,
            &parts[0].leader
        ),
        (0, 0, &None)
    );
    assert!(
        store
            .segments(again.id, 0, 0, 10)
            .await
            .expect("segments")
            .is_empty()
    );
    assert_eq!(
        store.load_group(&group.group_id).await.expect("load_group"),
        Some(group.clone()),
        "deleting a topic leaves its groups' records alone"
    );
    store
        .delete_group(&group.group_id, group.coordinator_epoch)
        .await
        .expect("cleanup");
}
