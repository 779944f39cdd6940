"""One consumer group with a librdkafka member (confluent-kafka) and a kafka-python
member, both using the range assignor, sharing a 6-partition topic.

usage: groups_mixed.py BOOTSTRAP
Each member runs in its own thread. The script waits until the members hold 3
partitions each, produces RECORDS keyed records, lets the members consume and commit,
and prints one JSON object of observed outcomes as its last line. It exits non-zero if
a step does not finish within its timeout.
"""
import json
import sys
import threading
import time

from confluent_kafka import Consumer, Producer
from confluent_kafka.admin import AdminClient, NewTopic
from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition
from kafka.coordinator.assignors.range import RangePartitionAssignor

bootstrap = sys.argv[1]
TOPIC = "mixed"
GROUP = "mixed-group"
PARTITIONS = 6
RECORDS = 3000
stop = threading.Event()
lock = threading.Lock()
# Both members commit before either closes: a member leaving starts a rebalance that
# could revoke the other's partitions before its commit.
committed_all = threading.Barrier(2, timeout=30)


def fail(message):
    stop.set()
    print(message, file=sys.stderr, flush=True)
    sys.exit(1)


def wait_for(what, condition, timeout):
    deadline = time.monotonic() + timeout
    while not condition():
        for member in members.values():
            if member.error:
                fail(f"{member.name} failed: {member.error}")
        if time.monotonic() > deadline:
            fail(f"timed out after {timeout} s waiting for {what}; "
                 + "; ".join(f"{m.name}: {sorted(m.assignment)} {len(m.records)} records"
                             for m in members.values()))
        time.sleep(0.05)


class Member(threading.Thread):
    """Polls until `stop`; keeps (partition, offset, key, value) of every record and the
    assignment it held when it received each one."""

    def __init__(self, name):
        super().__init__(name=name, daemon=True)
        self.assignment = set()
        self.assignments = []  # every assignment seen, in order
        self.records = []
        self.foreign = 0  # records from partitions not assigned at the time
        self.committed = False
        self.error = None

    def on_assignment(self, partitions):
        with lock:
            self.assignment = set(partitions)
            if not stop.is_set():  # not the revocation when closing
                self.assignments.append(sorted(partitions))

    def on_record(self, partition, offset, key, value):
        with lock:
            if partition not in self.assignment:
                self.foreign += 1
            self.records.append((partition, offset, key, value))

    def run(self):
        try:
            self.consume()
        except Exception as e:  # reported by the main thread
            self.error = repr(e)
            committed_all.abort()


class Rdkafka(Member):
    def consume(self):
        consumer = Consumer({
            "bootstrap.servers": bootstrap,
            "group.id": GROUP,
            "client.id": "rdkafka-member",
            "partition.assignment.strategy": "range",
            "enable.auto.commit": False,
            "auto.offset.reset": "earliest",
            "session.timeout.ms": 6000,
            "heartbeat.interval.ms": 500,
        })
        consumer.subscribe(
            [TOPIC],
            on_assign=lambda c, ps: self.on_assignment([p.partition for p in ps]),
            on_revoke=lambda c, ps: self.on_assignment([]))
        while not stop.is_set():
            msg = consumer.poll(0.1)
            if msg is None:
                continue
            if msg.error():
                raise RuntimeError(f"poll: {msg.error()}")
            self.on_record(msg.partition(), msg.offset(), msg.key().decode(),
                           msg.value().decode())
        consumer.commit(asynchronous=False)
        self.committed = True
        committed_all.wait()
        consumer.close()


class KafkaPython(Member):
    def consume(self):
        consumer = KafkaConsumer(
            bootstrap_servers=bootstrap,
            group_id=GROUP,
            client_id="kafka-python-member",
            partition_assignment_strategy=[RangePartitionAssignor],
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            session_timeout_ms=6000,
            heartbeat_interval_ms=500,
        )
        consumer.subscribe([TOPIC])
        while not stop.is_set():
            batches = consumer.poll(timeout_ms=100)
            current = {tp.partition for tp in consumer.assignment()}
            if current != self.assignment:
                self.on_assignment(sorted(current))
            for tp, records in batches.items():
                for r in records:
                    self.on_record(tp.partition, r.offset, r.key.decode(), r.value.decode())
        consumer.commit()
        self.committed = True
        committed_all.wait()
        consumer.close()


creator = AdminClient({"bootstrap.servers": bootstrap})
creator.create_topics([NewTopic(TOPIC, num_partitions=PARTITIONS, replication_factor=1)])[
    TOPIC].result(15)

members = {"rdkafka": Rdkafka("rdkafka"), "kafka_python": KafkaPython("kafka_python")}
for member in members.values():
    member.start()


def balanced():
    with lock:
        a = [m.assignment for m in members.values()]
    return all(len(x) == PARTITIONS // 2 for x in a) and a[0] | a[1] == set(range(PARTITIONS))


wait_for("3 partitions per member", balanced, 40)
stable = {name: sorted(m.assignment) for name, m in members.items()}

producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5})
undelivered = []
for i in range(RECORDS):
    producer.produce(TOPIC, key=f"k{i}", value=f"v{i}",
                     on_delivery=lambda err, msg: err and undelivered.append(str(err)))
    producer.poll(0)
if producer.flush(30) != 0:
    fail("producer did not flush within 30 s")


def consumed():
    with lock:
        return sum(len(m.records) for m in members.values())


wait_for(f"{RECORDS} records consumed", lambda: consumed() >= RECORDS, 40)
time.sleep(1.0)  # a little longer, so a duplicate delivery would show
stop.set()
for member in members.values():
    member.join(30)
    if member.is_alive():
        fail(f"{member.name} did not commit and close within 30 s")
    if member.error:
        fail(f"{member.name} failed: {member.error}")

records = [r for m in members.values() for r in m.records]
values = [r[3] for r in records]
positions = [(r[0], r[1]) for r in records]
expected = {f"v{i}" for i in range(RECORDS)}
keys_match = all(r[2] == "k" + r[3][1:] for r in records)

admin = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=15_000)
offsets = admin.list_group_offsets(GROUP)[GROUP]
committed = {tp.partition: om.offset for tp, om in offsets.items() if tp.topic == TOPIC}
end_reader = KafkaConsumer(bootstrap_servers=bootstrap, request_timeout_ms=15_000)
ends = end_reader.end_offsets([TopicPartition(TOPIC, p) for p in range(PARTITIONS)])
end_reader.close()
admin.close()

print(json.dumps({
    "stable_assignment": stable,
    "assignment_history": {name: m.assignments for name, m in members.items()},
    "undelivered": undelivered,
    "consumed": len(records),
    "distinct_values": len(set(values)),
    "distinct_positions": len(set(positions)),
    "missing": len(expected - set(values)),
    "unexpected": len(set(values) - expected),
    "keys_match_values": keys_match,
    "per_member": {name: len(m.records) for name, m in members.items()},
    "per_member_partitions": {name: sorted({r[0] for r in m.records})
                              for name, m in members.items()},
    "foreign_records": sum(m.foreign for m in members.values()),
    "committed_by": {name: m.committed for name, m in members.items()},
    "committed": {str(p): o for p, o in sorted(committed.items())},
    "ends": {str(tp.partition): o for tp, o in sorted(ends.items())},
}))
