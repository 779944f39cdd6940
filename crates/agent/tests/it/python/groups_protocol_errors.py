"""Bad group requests, sent with kafka-python's protocol classes over a raw socket, get
the Kafka error codes and change no committed offset.

usage: groups_protocol_errors.py BOOTSTRAP
Expects an agent with --groups-min-session-timeout 1s and the default 4 KiB limit on
offset commit metadata. Prints one JSON object of observed outcomes (error codes and
committed offsets) as its last line; exits non-zero if the agent stops answering.
"""
import json
import socket
import struct
import sys

from kafka.admin import KafkaAdminClient, NewTopic
from kafka.protocol.consumer import group as g
from kafka.protocol.consumer.metadata import (ConsumerProtocolAssignment,
                                              ConsumerProtocolSubscription)
from kafka.protocol.metadata.find_coordinator import (FindCoordinatorRequest,
                                                      FindCoordinatorResponse)
from kafka.protocol.metadata.metadata import MetadataRequest, MetadataResponse

bootstrap = sys.argv[1]
host, port = bootstrap.rsplit(":", 1)
TOPIC = "pe"
GROUP = "pe-group"
METADATA_MAX = 4096
out = {}


class Connection:
    """One Kafka connection; every call sends a request and waits (at most 20 s) for its
    response."""

    def __init__(self):
        self.sock = socket.create_connection((host, int(port)), timeout=20)
        self.correlation_id = 0

    def _read(self, n):
        data = b""
        while len(data) < n:
            chunk = self.sock.recv(n - len(data))
            if not chunk:
                sys.exit(f"connection closed by the agent after {len(data)} of {n} bytes")
            data += chunk
        return data

    def call(self, request_class, response_class, version, **fields):
        self.correlation_id += 1
        request = request_class(version=version, **fields)
        request.with_header(correlation_id=self.correlation_id, client_id="pe-client")
        self.sock.sendall(request.encode(header=True, framed=True))
        size = struct.unpack(">i", self._read(4))[0]
        response = response_class.decode(self._read(size), version=version, header=True)
        if response.header.correlation_id != self.correlation_id:
            sys.exit(f"correlation id {response.header.correlation_id} != {self.correlation_id}")
        return response


conn = Connection()

admin = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=15_000)
admin.create_topics([NewTopic(TOPIC, num_partitions=2, replication_factor=1)])
admin.close()

coordinator = conn.call(FindCoordinatorRequest, FindCoordinatorResponse, 3,
                        key=GROUP, key_type=0)
out["find_coordinator"] = {"error": coordinator.error_code,
                           "address": f"{coordinator.host}:{coordinator.port}"}

JoinProtocol = g.JoinGroupRequest.JoinGroupRequestProtocol
SUBSCRIPTION = ConsumerProtocolSubscription(version=0, topics=[TOPIC], user_data=b"").encode()
RANGE = [JoinProtocol(name="range", metadata=SUBSCRIPTION)]


def join(member_id="", group_id=GROUP, session_timeout_ms=30_000, protocol_type="consumer",
         protocols=RANGE, version=5):
    r = conn.call(g.JoinGroupRequest, g.JoinGroupResponse, version,
                  group_id=group_id, session_timeout_ms=session_timeout_ms,
                  rebalance_timeout_ms=10_000, member_id=member_id, group_instance_id=None,
                  protocol_type=protocol_type, protocols=protocols)
    return {"error": r.error_code, "member_id": r.member_id, "generation": r.generation_id,
            "leader": r.leader, "protocol_name": r.protocol_name,
            "members": sorted(m.member_id for m in r.members)}


def sync(member_id, generation, assignments):
    Assignment = g.SyncGroupRequest.SyncGroupRequestAssignment
    r = conn.call(g.SyncGroupRequest, g.SyncGroupResponse, 3,
                  group_id=GROUP, generation_id=generation, member_id=member_id,
                  group_instance_id=None,
                  assignments=[Assignment(member_id=m, assignment=a) for m, a in assignments])
    return r


def heartbeat(member_id, generation):
    return conn.call(g.HeartbeatRequest, g.HeartbeatResponse, 3, group_id=GROUP,
                     generation_id=generation, member_id=member_id,
                     group_instance_id=None).error_code


def commit(member_id, generation, offsets, version=8, group_id=GROUP):
    """offsets: [(topic, partition, offset, metadata)] -> [error code per partition]."""
    Topic = g.OffsetCommitRequest.OffsetCommitRequestTopic
    Partition = Topic.OffsetCommitRequestPartition
    topics = {}
    for topic, partition, offset, metadata in offsets:
        topics.setdefault(topic, []).append(
            Partition(partition_index=partition, committed_offset=offset,
                      committed_metadata=metadata))
    r = conn.call(g.OffsetCommitRequest, g.OffsetCommitResponse, version,
                  group_id=group_id, generation_id_or_member_epoch=generation,
                  member_id=member_id, group_instance_id=None, retention_time_ms=-1,
                  topics=[Topic(name=t, partitions=ps) for t, ps in topics.items()])
    codes = {(t.name, p.partition_index): p.error_code for t in r.topics for p in t.partitions}
    return [codes.get((t, p), "missing") for t, p, _, _ in offsets]


def committed(group_id=GROUP):
    """{"topic/partition": [offset, len(metadata)]} via OffsetFetch v5 for pe/0 and pe/1."""
    Topic = g.OffsetFetchRequest.OffsetFetchRequestTopic
    r = conn.call(g.OffsetFetchRequest, g.OffsetFetchResponse, 5, group_id=group_id,
                  topics=[Topic(name=TOPIC, partition_indexes=[0, 1])])
    if r.error_code != 0:
        return {"error": r.error_code}
    return {f"{t.name}/{p.partition_index}": [p.committed_offset, len(p.metadata or "")]
            for t in r.topics for p in t.partitions}


def committed_v8(group_id=GROUP):
    """All of the group's committed offsets via the v8 (multi-group, flexible) form."""
    Group = g.OffsetFetchRequest.OffsetFetchRequestGroup
    r = conn.call(g.OffsetFetchRequest, g.OffsetFetchResponse, 8,
                  groups=[Group(group_id=group_id, topics=None)], require_stable=False)
    result = {}
    for grp in r.groups:
        if grp.error_code != 0:
            return {"error": grp.error_code}
        for t in grp.topics:
            for p in t.partitions:
                result[f"{t.name}/{p.partition_index}"] = [p.committed_offset,
                                                          len(p.metadata or "")]
    return result


# --- a real member: MEMBER_ID_REQUIRED, then join, sync, heartbeat ---
first = join()
out["member_id_required"] = {"error": first["error"], "has_member_id": first["member_id"] != ""}
member = first["member_id"]
joined = join(member_id=member)
out["join"] = {"error": joined["error"], "generation": joined["generation"],
               "leader_is_member": joined["leader"] == member,
               "protocol_name": joined["protocol_name"],
               "members": [m == member for m in joined["members"]]}
generation = joined["generation"]
assignment = ConsumerProtocolAssignment(version=0, assigned_partitions=[(TOPIC, [0, 1])],
                                        user_data=b"").encode()
synced = sync(member, generation, [(member, assignment)])
out["sync"] = {"error": synced.error_code, "assignment_echoed": bytes(synced.assignment) == assignment}
out["heartbeat"] = heartbeat(member, generation)

# --- OffsetCommit ---
out["commit_valid"] = commit(member, generation, [(TOPIC, 0, 10, "a"), (TOPIC, 1, 20, "b")])
out["offsets_initial"] = committed()

out["commit_wrong_generation_unknown_topic"] = commit(member, generation + 1, [
    (TOPIC, 0, 12, None), ("no-such-topic", 0, 5, None)])
out["commit_unknown_partitions"] = commit(member, generation, [
    (TOPIC, 0, 11, "valid"), ("no-such-topic", 0, 5, None), (TOPIC, 7, 5, None)])
out["offsets_after_unknown_partitions"] = committed()

out["commit_metadata_too_large"] = commit(member, generation, [
    (TOPIC, 0, 99, "x" * (METADATA_MAX + 1)), (TOPIC, 1, 21, "y" * METADATA_MAX)])
out["offsets_after_metadata_too_large"] = committed()

# Every refused request below is followed by an OffsetFetch: nothing may have changed.
out["offsets_after"] = {}


def refused(name, outcome):
    out[name] = outcome
    out["offsets_after"][name] = committed()


refused("commit_wrong_generation",
        commit(member, generation + 1, [(TOPIC, 0, 500, None), (TOPIC, 1, 500, None)]))
refused("commit_old_generation_v2",
        commit(member, generation - 1, [(TOPIC, 0, 501, None)], version=2))
refused("commit_unknown_member", commit("nobody", generation, [(TOPIC, 0, 502, None)]))
refused("commit_no_generation_while_active",
        commit("", -1, [(TOPIC, 0, 503, None), (TOPIC, 1, 503, None)]))

# --- Heartbeat and SyncGroup against the live generation ---
refused("heartbeat_wrong_generation", heartbeat(member, generation + 1))
refused("heartbeat_unknown_member", heartbeat("nobody", generation))
refused("sync_wrong_generation", sync(member, generation + 1, []).error_code)
refused("sync_unknown_member", sync("nobody", generation, []).error_code)

# --- JoinGroup refusals (none may disturb the stable group) ---
refused("join_session_below_min", join(session_timeout_ms=500)["error"])
refused("join_session_above_max", join(session_timeout_ms=31 * 60 * 1000)["error"])
refused("join_empty_group_id", join(group_id="")["error"])
refused("join_other_protocol_type", join(protocol_type="connect")["error"])
refused("join_no_common_protocol",
        join(protocols=[JoinProtocol(name="roundrobin", metadata=SUBSCRIPTION)])["error"])
refused("join_no_protocols", join(protocols=[])["error"])
refused("join_unknown_member", join(member_id="nobody")["error"])
out["heartbeat_after_refusals"] = heartbeat(member, generation)
out["offsets_v8"] = committed_v8()

# --- a group nobody knows: a member of a generation there is none of ---
out["commit_unknown_group_with_generation"] = commit("ghost", 3, [(TOPIC, 0, 1, None)],
                                                     group_id="pe-ghost")
out["offsets_unknown_group"] = committed("pe-ghost")

# --- the topic was not auto-created by the refused commit ---
metadata = conn.call(MetadataRequest, MetadataResponse, 1, topics=None)
out["topics"] = sorted(t.name for t in metadata.topics)

# --- leaving empties the group: generation-less commits are allowed again ---
Member = g.LeaveGroupRequest.MemberIdentity
left = conn.call(g.LeaveGroupRequest, g.LeaveGroupResponse, 3, group_id=GROUP,
                 members=[Member(member_id=member, group_instance_id=None)])
out["leave"] = [left.error_code] + [m.error_code for m in left.members]
left_again = conn.call(g.LeaveGroupRequest, g.LeaveGroupResponse, 3, group_id=GROUP,
                       members=[Member(member_id=member, group_instance_id=None)])
out["leave_again"] = [left_again.error_code] + [m.error_code for m in left_again.members]
out["heartbeat_after_leave"] = heartbeat(member, generation)
never = conn.call(g.LeaveGroupRequest, g.LeaveGroupResponse, 3, group_id="pe-never",
                  members=[Member(member_id="x", group_instance_id=None)])
out["leave_unknown_group"] = [never.error_code] + [m.error_code for m in never.members]
out["commit_no_generation_when_empty"] = commit("", -1, [(TOPIC, 0, 600, "admin")])
out["offsets_final"] = committed()
print(json.dumps(out))
