"""Consumer group administration through kafka-python's KafkaAdminClient and
confluent-kafka's AdminClient: listing (with a state filter), describing members and
assignments, committed offsets, deleting groups and offsets, altering offsets.

usage: groups_admin.py BOOTSTRAP
"adm-group" gets one active librdkafka member (it heartbeats from librdkafka's own
thread) that consumes and commits; "adm-empty" only has offsets committed by an admin
client. Prints one JSON object of observed outcomes as its last line; exits non-zero
if a step does not finish within its timeout.
"""
import json
import sys
import time

from confluent_kafka import (ConsumerGroupState, ConsumerGroupTopicPartitions, Consumer,
                             KafkaException, Producer, TopicPartition as CTopicPartition)
from confluent_kafka.admin import AdminClient, NewTopic
from kafka import KafkaAdminClient, TopicPartition
from kafka.structs import OffsetAndMetadata

bootstrap = sys.argv[1]
TOPIC = "adm"
GROUP = "adm-group"
EMPTY = "adm-empty"
PARTITIONS = 4
PER_PARTITION = 10
TIMEOUT = 15
out = {}


def fail(message):
    print(message, file=sys.stderr, flush=True)
    sys.exit(1)


ck = AdminClient({"bootstrap.servers": bootstrap})
kp = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=TIMEOUT * 1000)
ck.create_topics([NewTopic(TOPIC, num_partitions=PARTITIONS, replication_factor=1)])[
    TOPIC].result(TIMEOUT)

producer = Producer({"bootstrap.servers": bootstrap})
for p in range(PARTITIONS):
    for i in range(PER_PARTITION):
        producer.produce(TOPIC, value=f"{p}-{i}", partition=p)
if producer.flush(TIMEOUT) != 0:
    fail("producer did not flush")

# --- the active member consumes everything and commits offsets with metadata ---
member = Consumer({
    "bootstrap.servers": bootstrap,
    "group.id": GROUP,
    "client.id": "adm-member",
    "partition.assignment.strategy": "range",
    "enable.auto.commit": False,
    "auto.offset.reset": "earliest",
    "session.timeout.ms": 10000,
})
member.subscribe([TOPIC])
consumed = 0
deadline = time.monotonic() + 40
while consumed < PARTITIONS * PER_PARTITION:
    if time.monotonic() > deadline:
        fail(f"the member consumed only {consumed} records in 40 s")
    msg = member.poll(0.2)
    if msg is not None and not msg.error():
        consumed += 1
member.commit(offsets=[CTopicPartition(TOPIC, p, PER_PARTITION, metadata=f"meta-{p}")
                       for p in range(PARTITIONS)], asynchronous=False)
member_assignment = sorted(tp.partition for tp in member.assignment())
out["member_assignment"] = member_assignment

# "adm-empty": offsets only, committed by kafka-python's admin client (generation -1).
kp.alter_group_offsets(EMPTY, {TopicPartition(TOPIC, 0): OffsetAndMetadata(7, "", None)})


def kp_offsets(group):
    offsets = kp.list_group_offsets(group).get(group, {})
    # confluent-kafka commits metadata with its C string's NUL terminator
    # (metadata_size = strlen + 1); kafka-python shows the bytes as stored.
    return {f"{tp.topic}/{tp.partition}": [om.offset, om.metadata.rstrip("\0")]
            for tp, om in sorted(offsets.items())}


def ck_offsets(group, partitions=None):
    request = ConsumerGroupTopicPartitions(
        group, None if partitions is None
        else [CTopicPartition(TOPIC, p) for p in partitions])
    result = ck.list_consumer_group_offsets([request])[group].result(TIMEOUT)
    return {f"{tp.topic}/{tp.partition}": [tp.offset, tp.metadata,
                                           tp.error.name() if tp.error else None]
            for tp in result.topic_partitions}


def kp_list(states=None):
    return sorted([g["group_id"], g["protocol_type"], g.get("group_state")]
                  for g in kp.list_groups(states_filter=states))


def ck_list(states=None):
    kwargs = {"states": states} if states else {}
    result = ck.list_consumer_groups(request_timeout=TIMEOUT, **kwargs).result(TIMEOUT)
    return {"valid": sorted([g.group_id, g.state.name, g.is_simple_consumer_group]
                            for g in result.valid),
            "errors": [str(e) for e in result.errors]}


def kp_describe(group):
    d = kp.describe_groups([group])[group]
    members = []
    for m in d["members"]:
        # kafka-python decodes the consumer protocol's subscription and assignment.
        metadata, assignment = m["member_metadata"] or {}, m["member_assignment"] or {}
        members.append({
            "member_id": m["member_id"],
            "client_id": m["client_id"],
            "client_host": m["client_host"],
            "subscription": metadata.get("topics"),
            "assignment": sorted([a["topic"], sorted(a["partitions"])]
                                 for a in assignment.get("assigned_partitions", [])),
        })
    return {"error": d["error"], "state": d["group_state"], "protocol_type": d["protocol_type"],
            "protocol": d["protocol_data"], "members": members}


def ck_describe(group):
    d = ck.describe_consumer_groups([group], request_timeout=TIMEOUT)[group].result(TIMEOUT)
    return {"state": d.state.name, "assignor": d.partition_assignor,
            "simple": d.is_simple_consumer_group,
            "coordinator": f"{d.coordinator.host}:{d.coordinator.port}" if d.coordinator else None,
            "members": [{"member_id": m.member_id, "client_id": m.client_id, "host": m.host,
                         "assignment": sorted([tp.topic, tp.partition]
                                              for tp in m.assignment.topic_partitions)}
                        for m in d.members]}


def ck_error(future):
    try:
        future.result(TIMEOUT)
        return "ok"
    except KafkaException as e:
        return e.args[0].name()


def ck_alter(group, offsets):
    request = ConsumerGroupTopicPartitions(
        group, [CTopicPartition(TOPIC, p, o) for p, o in offsets])
    try:
        result = ck.alter_consumer_group_offsets([request])[group].result(TIMEOUT)
    except KafkaException as e:
        return e.args[0].name()
    errors = [tp.error.name() for tp in result.topic_partitions if tp.error]
    return errors[0] if errors else "ok"


def kp_delete_offsets(group, partitions):
    try:
        result = kp.delete_group_offsets(group, [TopicPartition(TOPIC, p) for p in partitions])
    except Exception as e:  # a top-level error
        return type(e).__name__
    return {f"{tp.topic}/{tp.partition}": err.__name__ for tp, err in sorted(result.items())}


# --- while the member is active ---
active = {}
active["kp_list"] = kp_list()
active["kp_list_stable"] = kp_list(["Stable"])
active["kp_list_empty"] = kp_list(["Empty"])
active["kp_describe"] = kp_describe(GROUP)
active["kp_offsets"] = kp_offsets(GROUP)
active["kp_offsets_empty_group"] = kp_offsets(EMPTY)
active["ck_list"] = ck_list()
active["ck_list_stable"] = ck_list({ConsumerGroupState.STABLE})
active["ck_list_empty"] = ck_list({ConsumerGroupState.EMPTY})
active["ck_describe"] = ck_describe(GROUP)
active["ck_offsets"] = ck_offsets(GROUP)
active["kp_delete"] = kp.delete_groups([GROUP])
active["ck_delete"] = ck_error(ck.delete_consumer_groups([GROUP], request_timeout=TIMEOUT)[GROUP])
active["ck_alter"] = ck_alter(GROUP, [(1, 3)])
active["kp_delete_offsets"] = kp_delete_offsets(GROUP, [2])
active["offsets_after_refusals"] = kp_offsets(GROUP)
active["described_after_refusals"] = ck_describe(GROUP)["state"]
out["active"] = active

# --- the member leaves: the group is empty ---
member.close()
empty = {}
empty["ck_describe"] = ck_describe(GROUP)
empty["kp_describe"] = kp_describe(GROUP)
empty["ck_list_empty"] = ck_list({ConsumerGroupState.EMPTY})
empty["ck_alter"] = ck_alter(GROUP, [(1, 3)])
empty["kp_delete_offsets"] = kp_delete_offsets(GROUP, [2])
empty["kp_delete_offsets_unknown_partition"] = kp_delete_offsets(GROUP, [99])
empty["kp_offsets"] = kp_offsets(GROUP)
empty["ck_offsets"] = ck_offsets(GROUP, range(PARTITIONS))
empty["ck_delete"] = ck_error(ck.delete_consumer_groups([GROUP], request_timeout=TIMEOUT)[GROUP])
empty["kp_delete"] = kp.delete_groups([EMPTY])
out["empty"] = empty

# --- after the deletes ---
gone = {}
gone["kp_list"] = kp_list()
gone["ck_list"] = ck_list()
gone["kp_offsets"] = kp_offsets(GROUP)
gone["kp_offsets_empty_group"] = kp_offsets(EMPTY)
gone["ck_offsets"] = ck_offsets(GROUP, range(PARTITIONS))
gone["ck_describe"] = ck_describe(GROUP)["state"]
gone["kp_delete_again"] = kp.delete_groups([GROUP])
gone["ck_delete_again"] = ck_error(
    ck.delete_consumer_groups([EMPTY], request_timeout=TIMEOUT)[EMPTY])
out["gone"] = gone
kp.close()
print(json.dumps(out))
