//! Kafka topic config names and values, to and from [`TopicConfig`].

use streamhouse_metadata::TopicConfig;

/// Kafka's config source for a value set on the topic.
pub(crate) const SOURCE_TOPIC: i8 = 1;
/// Kafka's config source for a value from the broker's static config.
pub(crate) const SOURCE_STATIC_BROKER: i8 = 4;
/// Kafka's config source for a default value.
pub(crate) const SOURCE_DEFAULT: i8 = 5;

/// [`TopicConfig::entries`], with each value's Kafka config source: default, or set on the topic.
pub(crate) fn describe_with_source(config: &TopicConfig) -> Vec<(&'static str, String, i8)> {
    let defaults = TopicConfig::default().entries();
    config
        .entries()
        .into_iter()
        .map(|(name, value)| {
            let is_default = defaults.iter().any(|(n, v)| *n == name && *v == value);
            (
                name,
                value,
                if is_default {
                    SOURCE_DEFAULT
                } else {
                    SOURCE_TOPIC
                },
            )
        })
        .collect()
}

/// Kafka's ConfigResource types.
pub(crate) const RESOURCE_TOPIC: i8 = 2;
/// Kafka's ConfigResource type for a broker.
pub(crate) const RESOURCE_BROKER: i8 = 4;

/// Kafka's config types, for DescribeConfigs v3+.
pub(crate) fn config_type(name: &str) -> i8 {
    const BOOLEAN: i8 = 1;
    const STRING: i8 = 2;
    const INT: i8 = 3;
    const LONG: i8 = 5;
    const LIST: i8 = 7;
    match name {
        "retention.ms" | "retention.bytes" | "connections.max.idle.ms" | "log.retention.ms" => LONG,
        "max.message.bytes"
        | "num.partitions"
        | "socket.request.max.bytes"
        | "message.max.bytes" => INT,
        "cleanup.policy" => LIST,
        "auto.create.topics.enable" => BOOLEAN,
        _ => STRING,
    }
}
