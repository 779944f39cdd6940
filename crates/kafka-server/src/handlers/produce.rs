//! Produce: every partition's batches are accepted in order; each answer waits
//! until its batches are durable (acks=1 and acks=all both mean "in object storage and
//! committed"), or until the request timeout.

use std::time::Duration;

use bytes::{Buf, Bytes};
use futures::future::join_all;
use streamhouse_engine::{Records, Submitted};
use streamhouse_kafka_proto::ErrorCode;
use streamhouse_kafka_proto::StrBytes;
use streamhouse_kafka_proto::messages::produce_response::{
    PartitionProduceResponse, TopicProduceResponse,
};
use streamhouse_kafka_proto::messages::{ProduceRequest, ProduceResponse, TopicName};
use streamhouse_types::TopicPartition;

use crate::error::{produce_error_name, to_error_code};
use crate::listener::ServerContext;

/// A Produce request taken apart for submission: what to refuse it with, if anything, and
/// each topic's name (owned) with its partitions' record sets, in request order.
pub(crate) struct Parts {
    refuse: Option<ErrorCode>,
    acks: i16,
    timeout_ms: i32,
    topics: Vec<(String, Vec<PartitionSet>)>,
}

/// A partition index and its record set (`None` if the request had none).
type PartitionSet = (i32, Option<Records>);

impl Parts {
    /// Takes `request`, decoded from `frame` (the request body), apart. Names are copied
    /// out: the request's are slices of the frame, and the answer waits for durability, so
    /// they would keep the whole frame alive meanwhile. Nothing else of the request
    /// outlives this call, so the record sets can be owned slices of the frame (see
    /// [`record_sets`]).
    pub(crate) fn new(mut request: ProduceRequest, frame: Bytes) -> Self {
        let refuse = if request.transactional_id.is_some() {
            // Transactions come later; refuse rather than pretend.
            Some(ErrorCode::TransactionalIdAuthorizationFailed)
        } else if !matches!(request.acks, -1..=1) {
            Some(ErrorCode::InvalidRequiredAcks)
        } else {
            None
        };
        let (acks, timeout_ms) = (request.acks, request.timeout_ms);
        let topic_data = std::mem::take(&mut request.topic_data);
        drop(request);
        let mut names = Vec::with_capacity(topic_data.len());
        let mut indexes = Vec::new();
        let mut sets = Vec::new();
        for topic in topic_data {
            names.push((topic.name.0.to_string(), topic.partition_data.len()));
            for partition in topic.partition_data {
                indexes.push(partition.index);
                sets.push(partition.records);
            }
        }
        let mut sets = indexes.into_iter().zip(record_sets(frame, sets));
        let topics = names
            .into_iter()
            .map(|(name, count)| (name, sets.by_ref().take(count).collect()))
            .collect();
        Self {
            refuse,
            acks,
            timeout_ms,
            topics,
        }
    }

    /// The acknowledgement the client asked for (0: no answer).
    pub(crate) fn acks(&self) -> i16 {
        self.acks
    }

    /// Every partition's record set, in request order.
    #[cfg(test)]
    pub(crate) fn record_sets(&self) -> impl Iterator<Item = Option<&Records>> {
        self.topics
            .iter()
            .flat_map(|(_, sets)| sets.iter().map(|(_, records)| records.as_ref()))
    }
}

/// Accepts every partition's batches in request order (offsets are assigned now), and
/// returns the future that waits for them to become durable and builds the response. A
/// connection submits pipelined produce requests one after another, then lets their
/// durability waits overlap.
pub(crate) async fn submit(
    context: &ServerContext,
    _version: i16,
    request: Parts,
) -> impl Future<Output = ProduceResponse> + Send + '_ {
    let Parts {
        refuse,
        timeout_ms,
        topics: parts,
        ..
    } = request;
    let deadline = tokio::time::Instant::now() + Duration::from_millis(timeout_ms.max(0) as u64);
    let mut topics = Vec::with_capacity(parts.len());
    for (name, sets) in parts {
        let mut partitions = Vec::with_capacity(sets.len());
        for (index, records) in sets {
            let tp = TopicPartition::new(name.as_str(), index);
            let submitted = match (refuse, records) {
                (Some(code), _) => Err(Refused::Code(code)),
                (None, None) => Err(Refused::Code(ErrorCode::CorruptMessage)),
                (None, Some(records)) => context
                    .engine
                    .submit(&tp, records)
                    .await
                    .map_err(Refused::Engine),
            };
            partitions.push((tp, submitted));
        }
        topics.push((TopicName(StrBytes::from_string(name)), partitions));
    }
    async move {
        let topics = topics.into_iter().map(|(name, partitions)| async move {
            let partitions = partitions
                .into_iter()
                .map(|(tp, submitted)| finish(context, tp, submitted, deadline));
            TopicProduceResponse::default()
                .with_name(name)
                .with_partition_responses(join_all(partitions).await)
        });
        ProduceResponse::default().with_responses(join_all(topics).await)
    }
}

enum Refused {
    Code(ErrorCode),
    Engine(streamhouse_engine::Error),
}

async fn finish(
    context: &ServerContext,
    tp: TopicPartition,
    submitted: Result<Submitted, Refused>,
    deadline: tokio::time::Instant,
) -> PartitionProduceResponse {
    let response = PartitionProduceResponse::default()
        .with_index(tp.partition)
        .with_base_offset(-1)
        .with_log_append_time_ms(-1)
        .with_log_start_offset(-1);
    // Refused before the topic was looked up, or timed out after it was found.
    let refused = |code: ErrorCode, topic: Option<&str>| {
        context
            .engine
            .metrics()
            .producer
            .error(topic, produce_error_name(code));
        response.clone().with_error_code(code.code())
    };
    let result = match submitted {
        Err(Refused::Code(code)) => return refused(code, None),
        Err(Refused::Engine(error)) => Err(error),
        Ok(submitted) => match tokio::time::timeout_at(deadline, submitted.durable()).await {
            Err(_elapsed) => return refused(ErrorCode::RequestTimedOut, Some(&tp.topic)),
            Ok(result) => result,
        },
    };
    match result {
        Err(error) => {
            tracing::debug!(%tp, %error, "produce refused");
            let code = to_error_code(&error);
            let known_topic = !matches!(
                error,
                streamhouse_engine::Error::UnknownTopic(_)
                    | streamhouse_engine::Error::UnknownPartition(_)
                    | streamhouse_engine::Error::InvalidTopic(_)
            );
            context
                .engine
                .metrics()
                .producer
                .error(known_topic.then_some(&*tp.topic), produce_error_name(code));
            response
                .with_error_code(code.code())
                .with_error_message(Some(StrBytes::from_string(error.to_string())))
        }
        Ok(outcome) => {
            let log_start = context
                .engine
                .offsets(&tp)
                .await
                .map_or(-1, |(start, _)| start);
            response
                .with_base_offset(outcome.base_offset)
                .with_log_append_time_ms(outcome.log_append_time.unwrap_or(-1))
                .with_log_start_offset(log_start)
        }
    }
}

/// The record sets of a request decoded from `frame`, given back as parts of the frame:
/// owned, writable slices when nothing else holds the frame's buffer (the connection reads
/// a large frame into a buffer of its own), so that the engine can patch offsets in place
/// and keep the bytes without copying them; shared slices otherwise, which it copies.
fn record_sets(frame: Bytes, sets: Vec<Option<Bytes>>) -> Vec<Option<Records>> {
    let base = frame.as_ptr() as usize;
    let mut ranges = Vec::with_capacity(sets.len());
    let mut end = 0;
    for set in &sets {
        let range = match set {
            None => None,
            Some(set) if set.is_empty() => Some(end..end),
            Some(set) => {
                let start = (set.as_ptr() as usize).wrapping_sub(base);
                if start < end || start > frame.len() || frame.len() - start < set.len() {
                    // Not a slice of the frame, in order: a decoder detail changed. Stay
                    // correct, at the cost of a copy.
                    return sets.into_iter().map(|s| s.map(Records::Shared)).collect();
                }
                end = start + set.len();
                Some(start..end)
            }
        };
        ranges.push(range);
    }
    drop(sets);
    match frame.try_into_mut() {
        Ok(mut owned) => {
            let mut at = 0;
            ranges
                .into_iter()
                .map(|range| {
                    range.map(|range| {
                        owned.advance(range.start - at);
                        at = range.end;
                        Records::Owned(owned.split_to(range.len()))
                    })
                })
                .collect()
        }
        Err(frame) => ranges
            .into_iter()
            .map(|range| range.map(|range| Records::Shared(frame.slice(range))))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_sets_are_owned_slices_of_a_frame_no_one_else_holds() {
        let frame = Bytes::from((0..100u8).collect::<Vec<_>>());
        let sets = vec![Some(frame.slice(10..20)), None, Some(frame.slice(30..60))];
        let start = frame.as_ptr() as usize;
        let got = record_sets(frame, sets);
        let [Some(Records::Owned(a)), None, Some(Records::Owned(b))] = &got[..] else {
            panic!("expected owned record sets, got {got:?}");
        };
        assert_eq!(
            (a.as_ptr() as usize - start, &a[..]),
            (10, &(10..20).collect::<Vec<u8>>()[..])
        );
        assert_eq!(
            (b.as_ptr() as usize - start, &b[..]),
            (30, &(30..60).collect::<Vec<u8>>()[..])
        );
    }

    #[test]
    fn record_sets_of_a_shared_frame_or_from_elsewhere_stay_shared() {
        let frame = Bytes::from(vec![1u8; 100]);
        let held = frame.clone();
        let got = record_sets(frame, vec![Some(held.slice(0..10))]);
        assert!(matches!(&got[..], [Some(Records::Shared(b))] if b.len() == 10));

        let frame = Bytes::from(vec![1u8; 100]);
        let elsewhere = Bytes::from(vec![2u8; 10]);
        let got = record_sets(
            frame.clone(),
            vec![Some(frame.slice(0..5)), Some(elsewhere)],
        );
        assert!(
            matches!(&got[..], [Some(Records::Shared(a)), Some(Records::Shared(b))]
            if a[..] == [1; 5] && b[..] == [2; 10])
        );
    }
}
