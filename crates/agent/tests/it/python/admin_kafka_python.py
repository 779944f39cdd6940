"""Admin through kafka-python's KafkaAdminClient (an independent Kafka
protocol implementation). usage: admin_kafka_python.py BOOTSTRAP"""
import json
import sys

from kafka.admin import ConfigResource, ConfigResourceType, KafkaAdminClient, NewPartitions, NewTopic
from kafka.errors import TopicAlreadyExistsError

bootstrap = sys.argv[1]
admin = KafkaAdminClient(bootstrap_servers=bootstrap)
out = {}
admin.create_topics([NewTopic("kp-admin", num_partitions=2, replication_factor=1,
                              topic_configs={"cleanup.policy": "compact"})])
try:
    admin.create_topics([NewTopic("kp-admin", num_partitions=2, replication_factor=1)])
    out["duplicate"] = "created twice"
except TopicAlreadyExistsError:
    out["duplicate"] = "TopicAlreadyExistsError"
out["topics"] = sorted(admin.list_topics())

def describe():
    # kafka-python 3 answers {"topic": {name: {config: value}}}, listing values set on
    # the topic (not defaults).
    result = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, "kp-admin")])
    return {k: (v["value"] if isinstance(v, dict) else v) for k, v in result["topic"]["kp-admin"].items()}

out["before"] = describe()
admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, "kp-admin",
                                    configs={"retention.ms": "120000"})])
out["after"] = describe()
admin.create_partitions({"kp-admin": NewPartitions(total_count=5)})
out["partitions"] = len(admin.describe_topics(["kp-admin"])[0]["partitions"])
out["cluster_brokers"] = len(admin.describe_cluster()["brokers"])
admin.delete_topics(["kp-admin"])
out["topics_after"] = sorted(admin.list_topics())
print(json.dumps(out))
