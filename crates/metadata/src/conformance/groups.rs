//! Consumer groups: coordination records fenced by the coordinator epoch, and their offsets.

use super::*;

/// A committed offset whose metadata and commit time derive from the offset.
fn offset(topic: &str, partition: i32, offset: Offset) -> GroupOffset {
    GroupOffset {
        topic: topic.to_owned(),
        partition,
        offset,
        leader_epoch: 3,
        metadata: Some(format!("meta-{offset}")),
        commit_timestamp_ms: NOW + offset,
    }
}

/// Panics unless `result` failed with [`Error::GroupFenced`] for `group` at `epoch`.
fn assert_fenced<T: std::fmt::Debug>(result: crate::Result<T>, group: &str, epoch: i64) {
    match result {
        Err(Error::GroupFenced {
            group: fenced,
            epoch: at,
        }) if fenced == group && at == epoch => {}
        other => panic!("expected GroupFenced for {group:?} at epoch {epoch}, got {other:?}"),
    }
}

async fn claim(store: &dyn MetadataStore, group: &str, agent: &str, now: TimestampMs) -> i64 {
    store
        .claim_group(group, agent, now)
        .await
        .expect("claim_group")
        .coordinator_epoch
}

async fn offsets_of(store: &dyn MetadataStore, group: &str) -> Vec<GroupOffset> {
    store.group_offsets(group).await.expect("group_offsets")
}

/// Consumer group offsets: upsert, fetch in order, partial and full deletes, group listing,
/// all at the epoch of a claim.
pub async fn group_offsets(store: &dyn MetadataStore) {
    let (g1, g2) = ("conf-groups-1", "conf-groups-2");
    let groups = async || -> Vec<String> {
        let mut groups = store
            .groups_with_offsets()
            .await
            .expect("groups_with_offsets");
        groups.retain(|g| g.starts_with("conf-groups-"));
        groups
    };

    // Offsets of a group nobody has claimed are refused.
    assert_fenced(
        store
            .commit_group_offsets("conf-groups-none", 1, &[offset("t-a", 0, 1)])
            .await,
        "conf-groups-none",
        1,
    );
    assert!(offsets_of(store, "conf-groups-none").await.is_empty());

    let e1 = claim(store, g1, "conf-groups-agent", NOW).await;
    let e2 = claim(store, g2, "conf-groups-agent", NOW).await;
    store
        .commit_group_offsets(g1, e1, &[])
        .await
        .expect("empty commit");
    assert!(groups().await.is_empty());

    let committed = vec![
        offset("t-b", 1, 30),
        offset("t-a", 1, 20),
        offset("t-a", 0, 10),
    ];
    store
        .commit_group_offsets(g1, e1, &committed)
        .await
        .expect("commit_group_offsets");
    let expected = vec![
        committed[2].clone(),
        committed[1].clone(),
        committed[0].clone(),
    ];
    assert_eq!(offsets_of(store, g1).await, expected);

    let moved = GroupOffset {
        leader_epoch: -1,
        metadata: None,
        ..offset("t-a", 0, 15)
    };
    store
        .commit_group_offsets(g1, e1, std::slice::from_ref(&moved))
        .await
        .expect("commit_group_offsets");
    let expected = vec![moved, committed[1].clone(), committed[0].clone()];
    assert_eq!(offsets_of(store, g1).await, expected);

    store
        .commit_group_offsets(g2, e2, &[offset("t-a", 0, 99)])
        .await
        .expect("commit_group_offsets");
    assert_eq!(groups().await, vec![g1.to_owned(), g2.to_owned()]);
    assert_eq!(offsets_of(store, g2).await, vec![offset("t-a", 0, 99)]);
    assert!(offsets_of(store, "conf-groups-none").await.is_empty());

    let subset = [
        ("t-a".to_owned(), 0),
        ("t-b".to_owned(), 1),
        ("t-c".to_owned(), 9),
    ];
    let deleted = store
        .delete_group_offsets(g1, e1, Some(&subset))
        .await
        .expect("delete subset");
    assert_eq!(deleted, 2);
    assert_eq!(offsets_of(store, g1).await, vec![committed[1].clone()]);
    assert_eq!(
        offsets_of(store, g2).await.len(),
        1,
        "other groups keep theirs"
    );
    assert_eq!(
        store
            .delete_group_offsets(g1, e1, Some(&[]))
            .await
            .expect("delete none"),
        0
    );

    assert_eq!(
        store
            .delete_group_offsets(g2, e2, None)
            .await
            .expect("delete all"),
        1
    );
    assert_eq!(groups().await, vec![g1.to_owned()]);
    assert_eq!(
        store
            .delete_group_offsets(g1, e1, None)
            .await
            .expect("delete all"),
        1
    );
    assert!(offsets_of(store, g1).await.is_empty());
    assert!(groups().await.is_empty());
    assert_eq!(
        store
            .delete_group_offsets(g1, e1, None)
            .await
            .expect("delete"),
        0
    );

    // Deleting offsets leaves the group records; deleting the groups removes them.
    for (group, epoch) in [(g1, e1), (g2, e2)] {
        assert!(store.load_group(group).await.expect("load_group").is_some());
        store
            .delete_group(group, epoch)
            .await
            .expect("delete_group");
        assert_eq!(store.load_group(group).await.expect("load_group"), None);
    }
}

/// Group coordination: claims create and bump the epoch, state round-trips, every write at a
/// stale epoch is refused without effect, offsets expire by commit time, deletes remove the
/// record with its offsets (and never reissue an epoch), and records list in id order.
pub async fn group_coordination(store: &dyn MetadataStore) {
    let (main, other, first) = ("conf-coord-main", "conf-coord-other", "conf-coord-Apple");
    let listed = async || -> Vec<StoredGroup> {
        let mut groups = store.list_groups().await.expect("list_groups");
        groups.retain(|g| g.group_id.starts_with("conf-coord-"));
        groups
    };

    // Nothing to load, store or delete before the first claim.
    assert_eq!(store.load_group(main).await.expect("load_group"), None);
    assert_fenced(store.store_group(main, 1, "{}", NOW).await, main, 1);
    assert_fenced(store.delete_group(main, 1).await, main, 1);
    assert_eq!(store.load_group(main).await.expect("load_group"), None);
    assert!(listed().await.is_empty());

    // The first claim creates the record at epoch 1 with no state.
    let claimed = store
        .claim_group(main, "agent-a", NOW)
        .await
        .expect("claim_group");
    let expected = StoredGroup {
        group_id: main.to_owned(),
        coordinator: "agent-a".to_owned(),
        coordinator_epoch: 1,
        state: None,
        updated_at_ms: NOW,
    };
    assert_eq!(claimed, expected);
    assert_eq!(
        store.load_group(main).await.expect("load_group"),
        Some(expected.clone())
    );

    // Stored state is loaded back, and a later store replaces it.
    store
        .store_group(main, 1, r#"{"v":1}"#, NOW + 1)
        .await
        .expect("store_group");
    let stored = StoredGroup {
        state: Some(r#"{"v":1}"#.to_owned()),
        updated_at_ms: NOW + 1,
        ..expected.clone()
    };
    assert_eq!(
        store.load_group(main).await.expect("load_group"),
        Some(stored)
    );
    store
        .store_group(main, 1, r#"{"v":2}"#, NOW + 2)
        .await
        .expect("store_group");
    let committed = vec![
        offset("t-a", 0, 10),
        offset("t-a", 1, 20),
        offset("t-b", 0, 30),
    ];
    store
        .commit_group_offsets(main, 1, &committed)
        .await
        .expect("commit_group_offsets");

    // Another agent takes over: a new epoch, the state carried over.
    let taken = store
        .claim_group(main, "agent-b", NOW + 100)
        .await
        .expect("claim_group");
    let taken_expected = StoredGroup {
        group_id: main.to_owned(),
        coordinator: "agent-b".to_owned(),
        coordinator_epoch: 2,
        state: Some(r#"{"v":2}"#.to_owned()),
        updated_at_ms: NOW + 100,
    };
    assert_eq!(taken, taken_expected);
    assert_eq!(
        store.load_group(main).await.expect("load_group"),
        Some(taken_expected.clone())
    );

    // The old epoch (and any epoch but the current one) is fenced and changes nothing.
    let changed = vec![offset("t-a", 0, 11), offset("t-c", 0, 40)];
    for epoch in [1, 3, 0] {
        assert_fenced(
            store
                .store_group(main, epoch, r#"{"v":"stale"}"#, NOW + 200)
                .await,
            main,
            epoch,
        );
        assert_fenced(
            store.commit_group_offsets(main, epoch, &changed).await,
            main,
            epoch,
        );
        assert_fenced(
            store.commit_group_offsets(main, epoch, &[]).await,
            main,
            epoch,
        );
        assert_fenced(
            store.delete_group_offsets(main, epoch, None).await,
            main,
            epoch,
        );
        assert_fenced(
            store
                .delete_group_offsets(main, epoch, Some(&[("t-a".to_owned(), 0)]))
                .await,
            main,
            epoch,
        );
        assert_fenced(
            store.expire_group_offsets(main, epoch, NOW + 1000).await,
            main,
            epoch,
        );
        assert_fenced(store.delete_group(main, epoch).await, main, epoch);
        assert_eq!(
            store.load_group(main).await.expect("load_group"),
            Some(taken_expected.clone()),
            "a fenced write at epoch {epoch} changed the record"
        );
        assert_eq!(
            offsets_of(store, main).await,
            committed,
            "a fenced write at epoch {epoch} changed the offsets"
        );
    }

    // A claim fences earlier epochs even when the same agent made them.
    assert_eq!(claim(store, main, "agent-b", NOW + 300).await, 3);
    assert_fenced(store.store_group(main, 2, "{}", NOW + 301).await, main, 2);
    assert_fenced(store.commit_group_offsets(main, 2, &changed).await, main, 2);
    assert_eq!(offsets_of(store, main).await, committed);

    // Expiry deletes only this group's offsets committed strictly before the cutoff.
    assert_eq!(claim(store, other, "agent-a", NOW).await, 1);
    let others = vec![offset("t-a", 0, 5)];
    store
        .commit_group_offsets(other, 1, &others)
        .await
        .expect("commit_group_offsets");
    assert_eq!(
        store
            .expire_group_offsets(main, 3, NOW + 20)
            .await
            .expect("expire_group_offsets"),
        1
    );
    assert_eq!(offsets_of(store, main).await, committed[1..].to_vec());
    assert_eq!(
        store
            .expire_group_offsets(main, 3, NOW + 20)
            .await
            .expect("expire_group_offsets"),
        0
    );
    assert_eq!(offsets_of(store, main).await, committed[1..].to_vec());
    assert_eq!(
        offsets_of(store, other).await,
        others,
        "other groups keep theirs"
    );

    // Records list in byte order of their ids.
    assert_eq!(claim(store, first, "agent-c", NOW + 400).await, 1);
    let main_now = store
        .load_group(main)
        .await
        .expect("load_group")
        .expect("claimed");
    let other_now = store
        .load_group(other)
        .await
        .expect("load_group")
        .expect("claimed");
    let first_now = StoredGroup {
        group_id: first.to_owned(),
        coordinator: "agent-c".to_owned(),
        coordinator_epoch: 1,
        state: None,
        updated_at_ms: NOW + 400,
    };
    assert_eq!(
        listed().await,
        vec![first_now.clone(), main_now, other_now.clone()]
    );

    // Deleting a group removes its record and offsets, and nothing of other groups.
    store.delete_group(main, 3).await.expect("delete_group");
    assert_eq!(store.load_group(main).await.expect("load_group"), None);
    assert!(offsets_of(store, main).await.is_empty());
    assert_eq!(listed().await, vec![first_now, other_now]);
    assert_eq!(offsets_of(store, other).await, others);
    let with_offsets = store
        .groups_with_offsets()
        .await
        .expect("groups_with_offsets");
    assert!(!with_offsets.iter().any(|g| g == main), "{with_offsets:?}");
    assert_fenced(store.store_group(main, 3, "{}", NOW + 500).await, main, 3);
    assert_fenced(store.commit_group_offsets(main, 3, &changed).await, main, 3);
    assert_fenced(store.delete_group(main, 3).await, main, 3);
    assert!(offsets_of(store, main).await.is_empty());

    // A re-created group starts without state and offsets, and continues the epoch count, so
    // a stale coordinator of the deleted group stays fenced.
    let again = store
        .claim_group(main, "agent-a", NOW + 600)
        .await
        .expect("claim_group");
    assert_eq!(
        again,
        StoredGroup {
            group_id: main.to_owned(),
            coordinator: "agent-a".to_owned(),
            coordinator_epoch: 4,
            state: None,
            updated_at_ms: NOW + 600,
        }
    );
    for epoch in 1..=3 {
        assert_fenced(
            store.store_group(main, epoch, "{}", NOW + 601).await,
            main,
            epoch,
        );
    }
    assert!(offsets_of(store, main).await.is_empty());

    for (group, epoch) in [(main, 4), (other, 1), (first, 1)] {
        store
            .delete_group(group, epoch)
            .await
            .expect("delete_group");
    }
    assert!(listed().await.is_empty());
    assert!(offsets_of(store, other).await.is_empty());
}
