//! Consumer groups with the Python clients against the real binary: a group shared by a
//! librdkafka (confluent-kafka) and a kafka-python member, both admin clients listing,
//! describing and deleting groups and offsets, and bad group requests answered with
//! Kafka error codes that change no committed offset.

use serde_json::{Value, json};

use crate::kafka::{Agent, python_clients_installed, python_script, run_python};

/// The partitions in a JSON array of partition numbers.
fn partitions(value: &Value) -> Vec<i64> {
    value
        .as_array()
        .unwrap_or_else(|| panic!("not an array: {value}"))
        .iter()
        .map(|p| p.as_i64().expect("partition number"))
        .collect()
}

#[test]
fn librdkafka_and_kafka_python_members_share_a_range_group_and_consume_each_record_once() {
    if !python_clients_installed() {
        return;
    }
    let agent = Agent::start_with(&["--groups-initial-rebalance-delay", "500ms"]);
    let out = run_python(&[&python_script("groups_mixed.py"), &agent.addr]);

    // Range over 6 partitions and 2 members: 3 contiguous partitions each.
    let rdkafka = partitions(&out["stable_assignment"]["rdkafka"]);
    let kafka_python = partitions(&out["stable_assignment"]["kafka_python"]);
    let mut all = [rdkafka.clone(), kafka_python.clone()].concat();
    all.sort_unstable();
    assert_eq!(all, vec![0, 1, 2, 3, 4, 5], "{out}");
    assert!(
        [vec![0, 1, 2], vec![3, 4, 5]].contains(&rdkafka),
        "range assigns contiguous partitions: {out}"
    );
    // No rebalance after the members settled, until they closed.
    for member in ["rdkafka", "kafka_python"] {
        let history = out["assignment_history"][member]
            .as_array()
            .expect("history");
        assert_eq!(
            history.last(),
            Some(&out["stable_assignment"][member]),
            "{member} was reassigned while consuming: {out}"
        );
        assert_eq!(
            out["per_member_partitions"][member], out["stable_assignment"][member],
            "{member} consumed exactly its own partitions: {out}"
        );
        assert_eq!(out["committed_by"][member], true, "{out}");
    }
    assert_eq!(out["foreign_records"], 0, "{out}");

    assert_eq!(out["undelivered"], json!([]), "{out}");
    assert_eq!(out["consumed"], 3000, "no duplicates: {out}");
    assert_eq!(out["distinct_values"], 3000, "{out}");
    assert_eq!(out["distinct_positions"], 3000, "{out}");
    assert_eq!(out["missing"], 0, "{out}");
    assert_eq!(out["unexpected"], 0, "{out}");
    assert_eq!(out["keys_match_values"], true, "{out}");

    // Both members' commits are at the end of every partition.
    let ends = out["ends"].as_object().expect("ends");
    assert_eq!(ends.len(), 6, "{out}");
    assert!(ends.values().all(|e| e.as_i64() > Some(0)), "{out}");
    assert_eq!(
        ends.values().filter_map(Value::as_i64).sum::<i64>(),
        3000,
        "{out}"
    );
    assert_eq!(out["committed"], out["ends"], "{out}");
}

#[test]
fn admin_clients_list_describe_and_delete_groups_and_their_offsets() {
    if !python_clients_installed() {
        return;
    }
    let agent = Agent::start_with(&["--groups-initial-rebalance-delay", "200ms"]);
    let out = run_python(&[&python_script("groups_admin.py"), &agent.addr]);
    let committed = json!({
        "adm/0": [10, "meta-0"], "adm/1": [10, "meta-1"],
        "adm/2": [10, "meta-2"], "adm/3": [10, "meta-3"],
    });
    let committed_ck = json!({
        "adm/0": [10, "meta-0", null], "adm/1": [10, "meta-1", null],
        "adm/2": [10, "meta-2", null], "adm/3": [10, "meta-3", null],
    });
    assert_eq!(out["member_assignment"], json!([0, 1, 2, 3]), "{out}");

    // While the member is active.
    let a = &out["active"];
    assert_eq!(
        a["kp_list"],
        json!([
            ["adm-empty", "", "Empty"],
            ["adm-group", "consumer", "Stable"]
        ]),
        "{out}"
    );
    assert_eq!(
        a["kp_list_stable"],
        json!([["adm-group", "consumer", "Stable"]]),
        "{out}"
    );
    assert_eq!(
        a["kp_list_empty"],
        json!([["adm-empty", "", "Empty"]]),
        "{out}"
    );
    let described = &a["kp_describe"];
    assert_eq!(described["error"], Value::Null, "{out}");
    assert_eq!(described["state"], "Stable", "{out}");
    assert_eq!(described["protocol_type"], "consumer", "{out}");
    assert_eq!(described["protocol"], "range", "{out}");
    let members = described["members"].as_array().expect("members");
    assert_eq!(members.len(), 1, "{out}");
    let member_id = members[0]["member_id"].as_str().expect("member id");
    assert!(
        member_id.starts_with("adm-member-"),
        "member ids start with the client id: {out}"
    );
    assert_eq!(members[0]["client_id"], "adm-member", "{out}");
    assert_eq!(members[0]["client_host"], "/127.0.0.1", "{out}");
    assert_eq!(members[0]["subscription"], json!(["adm"]), "{out}");
    assert_eq!(
        members[0]["assignment"],
        json!([["adm", [0, 1, 2, 3]]]),
        "{out}"
    );
    assert_eq!(a["kp_offsets"], committed, "{out}");
    assert_eq!(
        a["kp_offsets_empty_group"],
        json!({"adm/0": [7, ""]}),
        "kafka-python's admin commit (generation -1) created the group: {out}"
    );

    assert_eq!(
        a["ck_list"],
        json!({"valid": [["adm-empty", "EMPTY", true], ["adm-group", "STABLE", false]],
               "errors": []}),
        "{out}"
    );
    assert_eq!(
        a["ck_list_stable"],
        json!({"valid": [["adm-group", "STABLE", false]], "errors": []}),
        "{out}"
    );
    assert_eq!(
        a["ck_list_empty"],
        json!({"valid": [["adm-empty", "EMPTY", true]], "errors": []}),
        "{out}"
    );
    let ck = &a["ck_describe"];
    assert_eq!(ck["state"], "STABLE", "{out}");
    assert_eq!(ck["assignor"], "range", "{out}");
    assert_eq!(ck["simple"], false, "{out}");
    assert_eq!(ck["coordinator"], agent.addr.as_str(), "{out}");
    assert_eq!(
        ck["members"],
        json!([{"member_id": member_id, "client_id": "adm-member", "host": "/127.0.0.1",
                "assignment": [["adm", 0], ["adm", 1], ["adm", 2], ["adm", 3]]}]),
        "{out}"
    );
    assert_eq!(a["ck_offsets"], committed_ck, "{out}");

    // Refused while the member is active; nothing changed.
    assert_eq!(
        a["kp_delete"],
        json!({"adm-group": "NonEmptyGroupError"}),
        "{out}"
    );
    assert_eq!(a["ck_delete"], "NON_EMPTY_GROUP", "{out}");
    assert_eq!(
        a["ck_alter"], "UNKNOWN_MEMBER_ID",
        "an admin commit must not overwrite an active group's offsets: {out}"
    );
    assert_eq!(
        a["kp_delete_offsets"],
        json!({"adm/2": "GroupSubscribedToTopicError"}),
        "{out}"
    );
    assert_eq!(a["offsets_after_refusals"], committed, "{out}");
    assert_eq!(a["described_after_refusals"], "STABLE", "{out}");

    // The member left: the group is empty; offsets can be altered and deleted.
    let e = &out["empty"];
    assert_eq!(
        e["ck_describe"]["state"], "EMPTY",
        "a member's close leaves the group: {out}"
    );
    assert_eq!(e["ck_describe"]["members"], json!([]), "{out}");
    assert_eq!(e["kp_describe"]["state"], "Empty", "{out}");
    assert_eq!(e["kp_describe"]["members"], json!([]), "{out}");
    assert_eq!(
        e["ck_list_empty"],
        json!({"valid": [["adm-empty", "EMPTY", true], ["adm-group", "EMPTY", false]],
               "errors": []}),
        "{out}"
    );
    assert_eq!(e["ck_alter"], "ok", "{out}");
    assert_eq!(e["kp_delete_offsets"], json!({"adm/2": "NoError"}), "{out}");
    assert_eq!(
        e["kp_delete_offsets_unknown_partition"],
        json!({"adm/99": "UnknownTopicOrPartitionError"}),
        "{out}"
    );
    assert_eq!(
        e["kp_offsets"],
        json!({"adm/0": [10, "meta-0"], "adm/1": [3, ""], "adm/3": [10, "meta-3"]}),
        "adm/1 altered to 3, adm/2 deleted: {out}"
    );
    assert_eq!(
        e["ck_offsets"],
        json!({"adm/0": [10, "meta-0", null], "adm/1": [3, null, null],
               "adm/2": [-1001, null, null], "adm/3": [10, "meta-3", null]}),
        "{out}"
    );
    assert_eq!(e["ck_delete"], "ok", "{out}");
    assert_eq!(e["kp_delete"], json!({"adm-empty": "OK"}), "{out}");

    // Deleted groups are gone with their offsets.
    let g = &out["gone"];
    assert_eq!(g["kp_list"], json!([]), "{out}");
    assert_eq!(g["ck_list"], json!({"valid": [], "errors": []}), "{out}");
    assert_eq!(g["kp_offsets"], json!({}), "{out}");
    assert_eq!(g["kp_offsets_empty_group"], json!({}), "{out}");
    assert_eq!(
        g["ck_offsets"],
        json!({"adm/0": [-1001, null, null], "adm/1": [-1001, null, null],
               "adm/2": [-1001, null, null], "adm/3": [-1001, null, null]}),
        "{out}"
    );
    assert_eq!(g["ck_describe"], "DEAD", "{out}");
    assert_eq!(
        g["kp_delete_again"],
        json!({"adm-group": "GroupIdNotFoundError"}),
        "{out}"
    );
    assert_eq!(g["ck_delete_again"], "GROUP_ID_NOT_FOUND", "{out}");
}

#[test]
fn bad_group_requests_get_kafka_error_codes_and_change_no_offsets() {
    if !python_clients_installed() {
        return;
    }
    let agent = Agent::start_with(&[
        "--groups-initial-rebalance-delay",
        "200ms",
        "--groups-min-session-timeout",
        "1s",
    ]);
    let out = run_python(&[&python_script("groups_protocol_errors.py"), &agent.addr]);
    const UNKNOWN_TOPIC_OR_PARTITION: i64 = 3;
    const OFFSET_METADATA_TOO_LARGE: i64 = 12;
    const ILLEGAL_GENERATION: i64 = 22;
    const INCONSISTENT_GROUP_PROTOCOL: i64 = 23;
    const INVALID_GROUP_ID: i64 = 24;
    const UNKNOWN_MEMBER_ID: i64 = 25;
    const INVALID_SESSION_TIMEOUT: i64 = 26;
    const MEMBER_ID_REQUIRED: i64 = 79;

    assert_eq!(
        out["find_coordinator"],
        json!({"error": 0, "address": agent.addr}),
        "{out}"
    );
    // JoinGroup v5 without a member id: MEMBER_ID_REQUIRED, carrying the id to use.
    assert_eq!(
        out["member_id_required"],
        json!({"error": MEMBER_ID_REQUIRED, "has_member_id": true}),
        "{out}"
    );
    assert_eq!(
        out["join"],
        json!({"error": 0, "generation": 1, "leader_is_member": true,
               "protocol_name": "range", "members": [true]}),
        "{out}"
    );
    assert_eq!(
        out["sync"],
        json!({"error": 0, "assignment_echoed": true}),
        "{out}"
    );
    assert_eq!(out["heartbeat"], 0, "{out}");

    // OffsetCommit: per-partition errors; the valid partitions commit.
    let initial = json!({"pe/0": [10, 1], "pe/1": [20, 1]});
    assert_eq!(out["commit_valid"], json!([0, 0]), "{out}");
    assert_eq!(out["offsets_initial"], initial, "{out}");
    assert_eq!(
        out["commit_unknown_partitions"],
        json!([0, UNKNOWN_TOPIC_OR_PARTITION, UNKNOWN_TOPIC_OR_PARTITION]),
        "an unknown topic and an out-of-range partition: {out}"
    );
    assert_eq!(
        out["offsets_after_unknown_partitions"],
        json!({"pe/0": [11, 5], "pe/1": [20, 1]}),
        "{out}"
    );
    assert_eq!(
        out["commit_metadata_too_large"],
        json!([OFFSET_METADATA_TOO_LARGE, 0]),
        "4097 bytes of metadata are refused, 4096 accepted: {out}"
    );
    let settled = json!({"pe/0": [11, 5], "pe/1": [21, 4096]});
    assert_eq!(
        out["offsets_after_metadata_too_large"], settled,
        "the refused partition kept its offset: {out}"
    );
    assert_eq!(
        out["commit_wrong_generation"],
        json!([ILLEGAL_GENERATION, ILLEGAL_GENERATION]),
        "{out}"
    );
    assert_eq!(
        out["commit_old_generation_v2"],
        json!([ILLEGAL_GENERATION]),
        "{out}"
    );
    assert_eq!(
        out["commit_unknown_member"],
        json!([UNKNOWN_MEMBER_ID]),
        "{out}"
    );
    assert_eq!(
        out["commit_no_generation_while_active"],
        json!([UNKNOWN_MEMBER_ID, UNKNOWN_MEMBER_ID]),
        "a generation-less commit must not overwrite an active group's offsets: {out}"
    );

    // Heartbeat and SyncGroup.
    assert_eq!(
        out["heartbeat_wrong_generation"], ILLEGAL_GENERATION,
        "{out}"
    );
    assert_eq!(out["heartbeat_unknown_member"], UNKNOWN_MEMBER_ID, "{out}");
    assert_eq!(out["sync_wrong_generation"], ILLEGAL_GENERATION, "{out}");
    assert_eq!(
        out["commit_wrong_generation_unknown_topic"],
        json!([ILLEGAL_GENERATION, 3]),
        "an unknown topic says so whatever the generation: {out}"
    );
    assert_eq!(out["sync_unknown_member"], UNKNOWN_MEMBER_ID, "{out}");

    // JoinGroup refusals; the stable group is undisturbed.
    assert_eq!(
        out["join_session_below_min"], INVALID_SESSION_TIMEOUT,
        "{out}"
    );
    assert_eq!(
        out["join_session_above_max"], INVALID_SESSION_TIMEOUT,
        "{out}"
    );
    assert_eq!(out["join_empty_group_id"], INVALID_GROUP_ID, "{out}");
    assert_eq!(
        out["join_other_protocol_type"], INCONSISTENT_GROUP_PROTOCOL,
        "{out}"
    );
    assert_eq!(
        out["join_no_common_protocol"], INCONSISTENT_GROUP_PROTOCOL,
        "{out}"
    );
    assert_eq!(
        out["join_no_protocols"], INCONSISTENT_GROUP_PROTOCOL,
        "{out}"
    );
    assert_eq!(out["join_unknown_member"], UNKNOWN_MEMBER_ID, "{out}");
    assert_eq!(
        out["heartbeat_after_refusals"], 0,
        "refused joins did not start a rebalance: {out}"
    );
    // After every refused commit, heartbeat, sync and join: the offsets are unchanged.
    let after = out["offsets_after"].as_object().expect("offsets_after");
    assert_eq!(after.len(), 15, "{out}");
    for (refused, offsets) in after {
        assert_eq!(offsets, &settled, "after {refused}: {out}");
    }
    assert_eq!(out["offsets_v8"], settled, "OffsetFetch v8 agrees: {out}");

    // A group nobody knows: a commit with a generation is refused and creates nothing.
    assert_eq!(
        out["commit_unknown_group_with_generation"],
        json!([ILLEGAL_GENERATION]),
        "{out}"
    );
    assert_eq!(
        out["offsets_unknown_group"],
        json!({"pe/0": [-1, 0], "pe/1": [-1, 0]}),
        "{out}"
    );
    assert_eq!(
        out["topics"],
        json!(["pe"]),
        "a commit for an unknown topic must not create it: {out}"
    );

    // Leaving empties the group; a generation-less commit is then accepted.
    assert_eq!(out["leave"], json!([0, 0]), "{out}");
    assert_eq!(
        out["leave_again"],
        json!([0, UNKNOWN_MEMBER_ID]),
        "LeaveGroup v3 reports the unknown member per member: {out}"
    );
    assert_eq!(out["heartbeat_after_leave"], UNKNOWN_MEMBER_ID, "{out}");
    assert_eq!(
        out["leave_unknown_group"],
        json!([0, UNKNOWN_MEMBER_ID]),
        "a group nobody knows has no such member: {out}"
    );
    assert_eq!(out["commit_no_generation_when_empty"], json!([0]), "{out}");
    assert_eq!(
        out["offsets_final"],
        json!({"pe/0": [600, 5], "pe/1": [21, 4096]}),
        "{out}"
    );
}
