"""Admin operations and error codes through confluent-kafka's AdminClient and kafka-python.

usage: admin_errors.py BOOTSTRAP
Prints one JSON object of observed outcomes.
"""
import json
import sys

from confluent_kafka import KafkaError, KafkaException, Producer
from confluent_kafka.admin import AdminClient, NewTopic
from kafka import KafkaConsumer, TopicPartition
from kafka.errors import OffsetOutOfRangeError

bootstrap = sys.argv[1]
out = {}
admin = AdminClient({"bootstrap.servers": bootstrap})

def create(topic, **kwargs):
    fs = admin.create_topics([topic], request_timeout=15, **kwargs)
    try:
        fs[topic.topic].result()
        return "ok"
    except KafkaException as e:
        return e.args[0].name()

out["create"] = create(NewTopic("admin-t", num_partitions=3, replication_factor=1,
                                config={"retention.ms": "3600000", "max.message.bytes": "2000"}))
out["create_again"] = create(NewTopic("admin-t", num_partitions=3, replication_factor=1))
out["invalid_name"] = create(NewTopic("bad name!", num_partitions=1, replication_factor=1))
out["zero_partitions"] = create(NewTopic("zero-p", num_partitions=0, replication_factor=1))
out["bad_config"] = create(NewTopic("bad-config", num_partitions=1, replication_factor=1,
                                    config={"retention.ms": "soon"}))
out["validate_only"] = create(NewTopic("validated", num_partitions=2, replication_factor=1),
                              validate_only=True)
metadata = admin.list_topics(timeout=10)
out["listed"] = sorted(t for t in metadata.topics)
out["admin_t_partitions"] = len(metadata.topics["admin-t"].partitions)

# A record larger than the topic's max.message.bytes.
producer = Producer({"bootstrap.servers": bootstrap, "message.max.bytes": 10_000_000,
                     "retries": 0, "enable.idempotence": False})
result = {}
def report(err, msg):
    result["too_large"] = err.name() if err else "ok"
producer.produce("admin-t", value=b"x" * 5000, partition=0, on_delivery=report)
producer.flush(15)
out.update(result)

# Offset out of range.
consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False,
                         auto_offset_reset="none", consumer_timeout_ms=5000)
tp = TopicPartition("admin-t", 1)
consumer.assign([tp])
consumer.seek(tp, 1000)
try:
    for _ in consumer:
        break
    out["out_of_range"] = "no error"
except OffsetOutOfRangeError:
    out["out_of_range"] = "OFFSET_OUT_OF_RANGE"
consumer.close()

fs = admin.delete_topics(["admin-t", "never-existed"], request_timeout=15)
deleted = {}
for name, f in fs.items():
    try:
        f.result()
        deleted[name] = "ok"
    except KafkaException as e:
        deleted[name] = e.args[0].name()
out["delete"] = deleted
out["listed_after"] = sorted(admin.list_topics(timeout=10).topics)
print(json.dumps(out))
