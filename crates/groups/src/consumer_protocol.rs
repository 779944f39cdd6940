//! Reading the `consumer` protocol's subscription and assignment, which the broker
//! otherwise passes through untouched: OffsetDelete must know which topics a group is
//! subscribed to, and lag reports which member owns a partition.

use bytes::{Buf, Bytes};
use streamhouse_kafka_proto::Decodable;
use streamhouse_kafka_proto::messages::{ConsumerProtocolAssignment, ConsumerProtocolSubscription};
use streamhouse_types::PartitionId;

/// The protocol type of Kafka consumers.
pub const CONSUMER: &str = "consumer";

/// Newest version of the embedded schemas we know. Newer versions only append fields,
/// so they decode as this one (as Kafka's own clients do).
const MAX_KNOWN_VERSION: i16 = 3;

/// Topics in a member's subscription metadata; `None` if it is not consumer metadata.
pub(crate) fn subscribed_topics(metadata: &Bytes) -> Option<Vec<String>> {
    let mut buf = metadata.clone();
    let version = read_version(&mut buf)?;
    let subscription = ConsumerProtocolSubscription::decode(&mut buf, version).ok()?;
    Some(subscription.topics.iter().map(|t| t.to_string()).collect())
}

/// `(topic, partition)` pairs of a member's assignment; `None` if it is not a consumer
/// assignment (an empty assignment is `Some(vec![])`).
pub(crate) fn assigned_partitions(assignment: &Bytes) -> Option<Vec<(String, PartitionId)>> {
    if assignment.is_empty() {
        return Some(Vec::new());
    }
    let mut buf = assignment.clone();
    let version = read_version(&mut buf)?;
    let assignment = ConsumerProtocolAssignment::decode(&mut buf, version).ok()?;
    Some(
        assignment
            .assigned_partitions
            .iter()
            .flat_map(|tp| {
                tp.partitions
                    .iter()
                    .map(move |p| (tp.topic.0.to_string(), *p))
            })
            .collect(),
    )
}

fn read_version(buf: &mut Bytes) -> Option<i16> {
    if buf.remaining() < 2 {
        return None;
    }
    let version = buf.get_i16();
    (version >= 0).then_some(version.min(MAX_KNOWN_VERSION))
}

#[cfg(test)]
mod tests {
    use bytes::{BufMut, BytesMut};
    use streamhouse_kafka_proto::messages::consumer_protocol_assignment::TopicPartition;
    use streamhouse_kafka_proto::{Encodable, StrBytes};

    use super::*;

    fn encode<T: Encodable>(version: i16, message: &T) -> Bytes {
        let mut buf = BytesMut::new();
        buf.put_i16(version);
        message.encode(&mut buf, version).expect("encodable");
        buf.freeze()
    }

    #[test]
    fn reads_subscriptions_and_assignments_of_every_version() {
        for version in 0..=MAX_KNOWN_VERSION {
            let subscription = ConsumerProtocolSubscription::default().with_topics(vec![
                StrBytes::from_static_str("orders"),
                StrBytes::from_static_str("payments"),
            ]);
            assert_eq!(
                subscribed_topics(&encode(version, &subscription)),
                Some(vec!["orders".to_owned(), "payments".to_owned()])
            );
            let assignment = ConsumerProtocolAssignment::default().with_assigned_partitions(vec![
                TopicPartition::default()
                    .with_topic(StrBytes::from_static_str("orders").into())
                    .with_partitions(vec![0, 2]),
            ]);
            assert_eq!(
                assigned_partitions(&encode(version, &assignment)),
                Some(vec![("orders".to_owned(), 0), ("orders".to_owned(), 2)])
            );
        }
    }

    #[test]
    fn foreign_metadata_is_not_mistaken_for_a_subscription() {
        assert_eq!(subscribed_topics(&Bytes::from_static(b"\x00")), None);
        assert_eq!(subscribed_topics(&Bytes::from_static(b"\xff\xff")), None);
        assert_eq!(
            subscribed_topics(&Bytes::from_static(b"\x00\x00\x7f\xff\xff\xff")),
            None
        );
        assert_eq!(assigned_partitions(&Bytes::new()), Some(vec![]));
    }
}
