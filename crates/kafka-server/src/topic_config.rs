//! Kafka topic config names and values, to and from [`TopicConfig`].

use streamhouse_metadata::{CleanupPolicy, TimestampType, TopicConfig};

/// The topic configs StreamHouse honours, in Kafka's names.
pub(crate) const NAMES: &[&str] = &[
    "retention.ms",
    "retention.bytes",
    "max.message.bytes",
    "cleanup.policy",
    "message.timestamp.type",
];

/// Sets one Kafka topic config on `config`; an unknown name or a bad value is an error
/// message for INVALID_CONFIG.
pub(crate) fn apply(
    config: &mut TopicConfig,
    name: &str,
    value: Option<&str>,
) -> Result<(), String> {
    let defaults = TopicConfig::default();
    let number = |v: Option<&str>| -> Result<Option<i64>, String> {
        v.map(|v| {
            v.trim()
                .parse::<i64>()
                .map_err(|_| format!("{name}: {v:?} is not a number"))
        })
        .transpose()
    };
    match name {
        "retention.ms" => config.retention_ms = number(value)?.unwrap_or(defaults.retention_ms),
        "retention.bytes" => {
            config.retention_bytes = number(value)?.unwrap_or(defaults.retention_bytes)
        }
        "max.message.bytes" => {
            let bytes = number(value)?.unwrap_or(i64::from(defaults.max_message_bytes));
            config.max_message_bytes = i32::try_from(bytes)
                .map_err(|_| format!("max.message.bytes: {bytes} is out of range"))?;
        }
        "cleanup.policy" => {
            config.cleanup_policy = match value {
                None => defaults.cleanup_policy,
                Some(v) => CleanupPolicy::parse(v).ok_or_else(|| {
                    format!("cleanup.policy: {v:?} is not delete, compact or both")
                })?,
            }
        }
        "message.timestamp.type" => {
            config.timestamp_type = match value {
                None => defaults.timestamp_type,
                Some(v) => TimestampType::parse(v).ok_or_else(|| {
                    format!("message.timestamp.type: {v:?} is not CreateTime or LogAppendTime")
                })?,
            }
        }
        other => {
            return Err(format!(
                "unknown topic config {other:?}; supported: {}",
                NAMES.join(", ")
            ));
        }
    }
    Ok(())
}

/// `(name, value)` of every honoured config of `config`.
pub(crate) fn describe(config: &TopicConfig) -> Vec<(&'static str, String)> {
    vec![
        ("retention.ms", config.retention_ms.to_string()),
        ("retention.bytes", config.retention_bytes.to_string()),
        ("max.message.bytes", config.max_message_bytes.to_string()),
        ("cleanup.policy", config.cleanup_policy.as_str().to_owned()),
        (
            "message.timestamp.type",
            config.timestamp_type.as_str().to_owned(),
        ),
    ]
}

/// Kafka's config source for a value set on the topic.
pub(crate) const SOURCE_TOPIC: i8 = 1;
/// Kafka's config source for a value from the broker's static config.
pub(crate) const SOURCE_STATIC_BROKER: i8 = 4;
/// Kafka's config source for a default value.
pub(crate) const SOURCE_DEFAULT: i8 = 5;

/// [`describe`], with each value's Kafka config source: default, or set on the topic.
pub(crate) fn describe_with_source(config: &TopicConfig) -> Vec<(&'static str, String, i8)> {
    let defaults = describe(&TopicConfig::default());
    describe(config)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_configs_parse_and_bad_ones_are_explained() {
        let mut config = TopicConfig::default();
        apply(&mut config, "retention.ms", Some("60000")).expect("ok");
        apply(&mut config, "cleanup.policy", Some("delete,compact")).expect("ok");
        apply(&mut config, "message.timestamp.type", Some("LogAppendTime")).expect("ok");
        assert_eq!(config.retention_ms, 60_000);
        assert_eq!(config.cleanup_policy, CleanupPolicy::CompactDelete);
        assert_eq!(config.timestamp_type, TimestampType::LogAppendTime);
        apply(&mut config, "retention.ms", None).expect("reset to default");
        assert_eq!(config.retention_ms, TopicConfig::default().retention_ms);
        assert!(apply(&mut config, "retention.ms", Some("soon")).is_err());
        assert!(apply(&mut config, "segment.bytes", Some("1")).is_err());
        assert!(apply(&mut config, "max.message.bytes", Some("99999999999")).is_err());
        assert_eq!(describe(&config).len(), NAMES.len());
    }
}
