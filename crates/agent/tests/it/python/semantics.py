"""Produce semantics through librdkafka (confluent-kafka), checked with kafka-python.

usage: semantics.py BOOTSTRAP
Prints one JSON object of observed outcomes.
"""
import hashlib
import json
import sys

from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, ConfigResource, NewPartitions, NewTopic
from kafka import KafkaConsumer, TopicPartition

bootstrap = sys.argv[1]
out = {}
admin = AdminClient({"bootstrap.servers": bootstrap})

def create(name, partitions, config=None):
    admin.create_topics([NewTopic(name, num_partitions=partitions, replication_factor=1,
                                  config=config or {})])[name].result()

def consume_all(topic, partitions, expect, max_partition_fetch_bytes=1048576):
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False,
                             consumer_timeout_ms=10_000,
                             max_partition_fetch_bytes=max_partition_fetch_bytes)
    tps = [TopicPartition(topic, p) for p in range(partitions)]
    consumer.assign(tps)
    consumer.seek_to_beginning(*tps)
    records = []
    for record in consumer:
        records.append(record)
        if len(records) >= expect:
            break
    consumer.close()
    return records

def produce(config, topic, values, partition=None, timestamps=None, flush_each=False):
    errors = []
    producer = Producer({"bootstrap.servers": bootstrap, **config})
    def report(err, msg):
        if err is not None:
            errors.append(err.name())
    for i, value in enumerate(values):
        kwargs = {"value": value, "on_delivery": report}
        if partition is not None:
            kwargs["partition"] = partition
        if timestamps is not None:
            kwargs["timestamp"] = timestamps[i]
        while True:
            try:
                producer.produce(topic, **kwargs)
                break
            except BufferError:
                producer.poll(0.1)
        if flush_each:
            producer.flush(10)
        elif i % 5000 == 0:
            producer.poll(0)
    left = producer.flush(60)
    return left, errors

# acks = 0 / 1 / all
out["acks"] = {}
for acks in ["0", "1", "all"]:
    topic = f"acks-{acks}"
    create(topic, 1)
    left, errors = produce({"acks": acks, "enable.idempotence": False, "linger.ms": 2}, topic,
                           [f"v{i}".encode() for i in range(1000)], partition=0)
    records = consume_all(topic, 1, 1000)
    out["acks"][acks] = {"undelivered": left, "errors": errors[:3],
                         "consumed": len(records),
                         "in_order": [r.value for r in records] == [f"v{i}".encode() for i in range(1000)]}

# 1 MiB records
create("big", 1, {"max.message.bytes": str(2 * 1024 * 1024)})
big = [bytes([65 + i]) * (1024 * 1024) for i in range(5)]
left, errors = produce({"message.max.bytes": 3_000_000, "acks": "all"}, "big", big, partition=0)
records = consume_all("big", 1, 5)
out["big"] = {"undelivered": left, "errors": errors[:3],
              "sizes": [len(r.value) for r in records],
              "intact": [hashlib.sha256(r.value).hexdigest() for r in records]
                        == [hashlib.sha256(v).hexdigest() for v in big]}

# 100,000 records with enable.idempotence=true arrive exactly once
create("idem", 3)
left, errors = produce({"enable.idempotence": True, "acks": "all", "linger.ms": 5,
                        "batch.num.messages": 2000}, "idem",
                       [str(i).encode() for i in range(100_000)])
records = consume_all("idem", 3, 100_000)
values = [int(r.value) for r in records]
out["idempotent"] = {"undelivered": left, "errors": errors[:3], "consumed": len(values),
                     "distinct": len(set(values)), "min": min(values, default=None),
                     "max": max(values, default=None)}

# ListOffsets by timestamp: one batch per record, timestamps 1,000,000 + i * 1000
create("times", 1)
produce({"linger.ms": 0, "acks": "all"}, "times", [f"t{i}".encode() for i in range(20)],
        partition=0, timestamps=[1_000_000 + i * 1000 for i in range(20)], flush_each=True)
consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
tp = TopicPartition("times", 0)
found = consumer.offsets_for_times({tp: 1_000_000 + 7 * 1000})[tp]
between = consumer.offsets_for_times({tp: 1_000_000 + 7 * 1000 + 1})[tp]
after = consumer.offsets_for_times({tp: 9_000_000})[tp]
out["times"] = {"exact": [found.offset, found.timestamp],
                "between": [between.offset, between.timestamp],
                "after_all": None if after is None else after.offset,
                "earliest": consumer.beginning_offsets([tp])[tp],
                "latest": consumer.end_offsets([tp])[tp]}
consumer.close()

# Record-level lookup inside one batch (linger holds all 10 records in one request), and
# the record with the largest timestamp through AdminClient.list_offsets.
create("times-batched", 1)
stamps = [5_000, 1_000, 9_000, 3_000, 7_000, 2_000, 8_000, 4_000, 6_000, 10_000]
produce({"linger.ms": 500, "acks": "all"}, "times-batched", [f"b{i}".encode() for i in range(10)],
        partition=0, timestamps=stamps)
consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
tpb = TopicPartition("times-batched", 0)
hit = consumer.offsets_for_times({tpb: 8_500})[tpb]
out["times_batched"] = [hit.offset, hit.timestamp]
consumer.close()
from confluent_kafka import TopicPartition as CTopicPartition
from confluent_kafka.admin import OffsetSpec
listed = admin.list_offsets({CTopicPartition("times-batched", 0): OffsetSpec.max_timestamp()})
info = list(listed.values())[0].result()
out["max_timestamp"] = [info.offset, info.timestamp]

# Describe and alter configs, grow partitions, delete records, describe the cluster.
resource = ConfigResource("TOPIC", "times")
described = admin.describe_configs([resource])[resource].result()
out["described"] = {k: described[k].value for k in ("retention.ms", "cleanup.policy", "max.message.bytes")}
alter = ConfigResource("TOPIC", "times", incremental_configs=[])
from confluent_kafka.admin import AlterConfigOpType, ConfigEntry
alter.add_incremental_config(ConfigEntry("retention.ms", "60000",
                                         incremental_operation=AlterConfigOpType.SET))
admin.incremental_alter_configs([alter])[alter].result()
described = admin.describe_configs([resource])[resource].result()
out["altered_retention"] = described["retention.ms"].value
admin.create_partitions([NewPartitions("times", 4)])["times"].result()
out["partitions_after_grow"] = len(admin.list_topics(topic="times", timeout=10).topics["times"].partitions)
deleted = admin.delete_records([CTopicPartition("times", 0, 5)])
out["low_watermark"] = list(deleted.values())[0].result().low_watermark
consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
out["earliest_after_delete"] = consumer.beginning_offsets([tp])[tp]
consumer.close()
cluster = admin.describe_cluster().result()
out["cluster"] = {"id": cluster.cluster_id, "nodes": len(cluster.nodes)}
print(json.dumps(out))
