"""Joins a consumer group, reads `count` records of a topic, commits and leaves.

Usage: consume.py BOOTSTRAP TOPIC GROUP COUNT. Prints the records read as JSON lines.
"""

import json
import sys
import time

from confluent_kafka import Consumer

bootstrap, topic, group, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
consumer = Consumer(
    {
        "bootstrap.servers": bootstrap,
        "group.id": group,
        "client.id": "console-e2e",
        "auto.offset.reset": "earliest",
        "enable.auto.commit": False,
    }
)
consumer.subscribe([topic])
seen = 0
deadline = time.time() + 60
while seen < count and time.time() < deadline:
    message = consumer.poll(1.0)
    if message is None:
        continue
    if message.error():
        raise SystemExit(f"consume error: {message.error()}")
    seen += 1
    print(json.dumps({"partition": message.partition(), "offset": message.offset()}))
consumer.commit(asynchronous=False)
consumer.close()
if seen < count:
    raise SystemExit(f"read {seen} of {count} records within 60 s")
