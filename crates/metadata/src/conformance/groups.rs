//! Consumer group offsets.

use super::*;

/// Consumer group offsets: upsert, fetch in order, partial and full deletes, group listing.
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
    let offset = |topic: &str, partition: i32, offset: Offset| GroupOffset {
        topic: topic.to_owned(),
        partition,
        offset,
        leader_epoch: 3,
        metadata: Some(format!("meta-{offset}")),
        commit_timestamp_ms: NOW + offset,
    };
    store
        .commit_group_offsets(g1, &[])
        .await
        .expect("empty commit");
    assert!(groups().await.is_empty());

    let committed = vec![
        offset("t-b", 1, 30),
        offset("t-a", 1, 20),
        offset("t-a", 0, 10),
    ];
    store
        .commit_group_offsets(g1, &committed)
        .await
        .expect("commit_group_offsets");
    let expected = vec![
        committed[2].clone(),
        committed[1].clone(),
        committed[0].clone(),
    ];
    assert_eq!(
        store.group_offsets(g1).await.expect("group_offsets"),
        expected
    );

    let moved = GroupOffset {
        leader_epoch: -1,
        metadata: None,
        ..offset("t-a", 0, 15)
    };
    store
        .commit_group_offsets(g1, std::slice::from_ref(&moved))
        .await
        .expect("commit_group_offsets");
    let expected = vec![moved, committed[1].clone(), committed[0].clone()];
    assert_eq!(
        store.group_offsets(g1).await.expect("group_offsets"),
        expected
    );

    store
        .commit_group_offsets(g2, &[offset("t-a", 0, 99)])
        .await
        .expect("commit_group_offsets");
    assert_eq!(groups().await, vec![g1.to_owned(), g2.to_owned()]);
    assert_eq!(
        store.group_offsets(g2).await.expect("group_offsets"),
        vec![offset("t-a", 0, 99)]
    );
    assert!(
        store
            .group_offsets("conf-groups-none")
            .await
            .expect("group_offsets")
            .is_empty()
    );

    let subset = [
        ("t-a".to_owned(), 0),
        ("t-b".to_owned(), 1),
        ("t-c".to_owned(), 9),
    ];
    let deleted = store
        .delete_group_offsets(g1, Some(&subset))
        .await
        .expect("delete subset");
    assert_eq!(deleted, 2);
    assert_eq!(
        store.group_offsets(g1).await.expect("group_offsets"),
        vec![committed[1].clone()]
    );
    assert_eq!(
        store.group_offsets(g2).await.expect("group_offsets").len(),
        1,
        "other groups keep theirs"
    );
    assert_eq!(
        store
            .delete_group_offsets(g1, Some(&[]))
            .await
            .expect("delete none"),
        0
    );

    assert_eq!(
        store
            .delete_group_offsets(g2, None)
            .await
            .expect("delete all"),
        1
    );
    assert_eq!(groups().await, vec![g1.to_owned()]);
    assert_eq!(
        store
            .delete_group_offsets(g1, None)
            .await
            .expect("delete all"),
        1
    );
    assert!(
        store
            .group_offsets(g1)
            .await
            .expect("group_offsets")
            .is_empty()
    );
    assert!(groups().await.is_empty());
    assert_eq!(
        store
            .delete_group_offsets("conf-groups-none", None)
            .await
            .expect("delete"),
        0
    );
}
