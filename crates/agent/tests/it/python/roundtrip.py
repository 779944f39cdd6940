"""Round trip through StreamHouse with two independent Python clients.

confluent-kafka (librdkafka) produces with the given codec; kafka-python (pure Python,
its own protocol code) consumes. Prints one JSON line with what was read.

usage: roundtrip.py BOOTSTRAP TOPIC CODEC COUNT
"""
import json
import sys

from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic
from kafka import KafkaConsumer, TopicPartition

bootstrap, topic, codec, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])

admin = AdminClient({"bootstrap.servers": bootstrap})
admin.create_topics([NewTopic(topic, num_partitions=3, replication_factor=1)])[topic].result()

producer = Producer({
    "bootstrap.servers": bootstrap,
    "compression.type": codec,
    "enable.idempotence": True,
    "acks": "all",
    "linger.ms": 5,
})
errors = []
def report(err, msg):
    if err is not None:
        errors.append(str(err))
for i in range(count):
    key = None if i % 10 == 0 else f"key-{i}".encode()
    value = None if i % 17 == 0 else f"value-{i}".encode() * (1 + i % 3)
    producer.produce(topic, key=key, value=value, partition=i % 3,
                     headers=[("h", f"{i}".encode()), ("empty", None)],
                     timestamp=1_700_000_000_000 + i, on_delivery=report)
    if i % 1000 == 0:
        producer.poll(0)
left = producer.flush(30)
if left or errors:
    print(json.dumps({"error": f"{left} undelivered, errors: {errors[:3]}"}))
    sys.exit(1)

consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False,
                         auto_offset_reset="earliest", consumer_timeout_ms=10_000)
partitions = [TopicPartition(topic, p) for p in range(3)]
consumer.assign(partitions)
consumer.seek_to_beginning(*partitions)
seen = []
for record in consumer:
    seen.append({
        "p": record.partition, "o": record.offset,
        "k": record.key.decode() if record.key is not None else None,
        "v": record.value.decode() if record.value is not None else None,
        "h": [[k, v.decode() if v is not None else None] for k, v in record.headers],
        "ts": record.timestamp,
    })
    if len(seen) == count:
        break
consumer.close()
print(json.dumps({"records": seen}))
