//! Fetch: whole stored batches from each requested partition, within the per-partition
//! and response byte limits (the first batch is always returned so a consumer can make
//! progress), long-polling up to `max_wait_ms` until `min_bytes` are available.
//!
//! The batches are not copied into the response: each partition's stay in the buffers
//! they were read from (tail blocks, cached object ranges) and are written to the socket
//! from there ([`streamhouse_kafka_proto::encode_fetch_response`]).
//!
//! Fetch sessions (KIP-227) are not offered: every response carries session id 0, which
//! clients treat as "sessionless" and answer with full fetch requests.

use std::time::Duration;

use bytes::Bytes;

use streamhouse_engine::Error;
use streamhouse_kafka_proto::ErrorCode;
use streamhouse_kafka_proto::messages::fetch_response::{FetchableTopicResponse, PartitionData};
use streamhouse_kafka_proto::messages::{FetchRequest, FetchResponse};
use streamhouse_types::TopicPartition;
use tokio::time::Instant;

use crate::error::to_error_code;
use crate::listener::ServerContext;

/// How often a long-poll re-reads when it waits on partitions led by another agent.
const REMOTE_POLL: Duration = Duration::from_millis(50);

struct Wanted {
    tp: TopicPartition,
    offset: i64,
    max_bytes: usize,
}

/// The response, and each partition's batches in the response's partition order (they
/// are encoded beside it, not copied into it).
pub(crate) struct Fetched {
    pub(crate) response: FetchResponse,
    pub(crate) records: Vec<Vec<Bytes>>,
}

pub(crate) async fn handle(
    context: &ServerContext,
    _version: i16,
    request: FetchRequest,
) -> Fetched {
    let started = std::time::Instant::now();
    let response = fetch(context, request).await;
    context
        .engine
        .metrics()
        .consumer
        .fetch_answered(started.elapsed());
    response
}

async fn fetch(context: &ServerContext, request: FetchRequest) -> Fetched {
    if request.session_id != 0 {
        // We never hand out sessions, so a non-zero id is not ours.
        return Fetched {
            response: FetchResponse::default()
                .with_error_code(ErrorCode::FetchSessionIdNotFound.code()),
            records: Vec::new(),
        };
    }
    let wanted: Vec<(String, Vec<Wanted>)> = request
        .topics
        .iter()
        .map(|t| {
            let name = t.topic.0.to_string();
            let partitions = t
                .partitions
                .iter()
                .map(|p| Wanted {
                    tp: TopicPartition::new(name.as_str(), p.partition),
                    offset: p.fetch_offset,
                    max_bytes: p.partition_max_bytes.max(0) as usize,
                })
                .collect();
            (name, partitions)
        })
        .collect();
    let deadline = Instant::now() + Duration::from_millis(request.max_wait_ms.max(0) as u64);
    let min_bytes = request.min_bytes.max(0) as usize;
    let max_bytes = request.max_bytes.max(0) as usize;
    let mut published = context.engine.data_published();
    loop {
        // Flushes from here on wake the wait below, so none between this read and the
        // wait is missed.
        published.mark_unchanged();
        let read = read_once(context, &wanted, max_bytes).await;
        if read.total >= min_bytes.max(1)
            || read.failed
            || Instant::now() >= deadline
            || context.shutdown.is_cancelled()
        {
            return read.answer(context, &wanted);
        }
        // Wait for the next flush that makes data readable here: one waiter however many
        // partitions are wanted. Partitions led by another agent cannot be watched from
        // here, so those are polled gently instead.
        let all_led_here = wanted
            .iter()
            .flat_map(|(_, ps)| ps)
            .all(|w| context.engine.leads(&w.tp));
        let wake = if all_led_here {
            deadline
        } else {
            deadline.min(Instant::now() + REMOTE_POLL)
        };
        tokio::select! {
            Ok(()) = published.changed() => {}
            () = tokio::time::sleep_until(wake) => {}
            () = context.shutdown.cancelled() => {}
        }
    }
}

/// One pass over every wanted partition.
struct ReadOnce {
    response: FetchResponse,
    /// Each partition's batches, in response order.
    records: Vec<Vec<Bytes>>,
    /// Bytes of record batches in the response.
    total: usize,
    /// Whether any partition failed (a failure is answered at once, not waited on).
    failed: bool,
    /// Records and bytes returned, per wanted topic (same order).
    fetched: Vec<(u64, u64)>,
}

impl ReadOnce {
    /// The response to send; counts what it carries.
    fn answer(self, context: &ServerContext, wanted: &[(String, Vec<Wanted>)]) -> Fetched {
        let metrics = &context.engine.metrics().consumer;
        for ((name, _), (records, bytes)) in wanted.iter().zip(self.fetched) {
            if bytes > 0 {
                metrics.fetched(name, records, bytes);
            }
        }
        Fetched {
            response: self.response,
            records: self.records,
        }
    }
}

/// Reads every partition once.
async fn read_once(
    context: &ServerContext,
    wanted: &[(String, Vec<Wanted>)],
    max_bytes: usize,
) -> ReadOnce {
    let mut total = 0usize;
    let mut failed = false;
    let mut topics = Vec::with_capacity(wanted.len());
    let mut records = Vec::new();
    let mut fetched = Vec::with_capacity(wanted.len());
    for (name, partitions) in wanted {
        let (mut topic_records, mut topic_bytes) = (0u64, 0u64);
        let mut out = Vec::with_capacity(partitions.len());
        for w in partitions {
            // Each partition has a record set, possibly empty.
            let mut batches = Vec::new();
            let entry = PartitionData::default()
                .with_records(None)
                .with_partition_index(w.tp.partition)
                .with_high_watermark(-1)
                .with_last_stable_offset(-1)
                .with_log_start_offset(-1);
            let budget = max_bytes.saturating_sub(total);
            if total > 0 && budget == 0 {
                out.push(match context.engine.offsets(&w.tp).await {
                    Ok((start, hw)) => entry
                        .with_high_watermark(hw)
                        .with_last_stable_offset(hw)
                        .with_log_start_offset(start),
                    Err(error) => entry.with_error_code(to_error_code(&error).code()),
                });
                records.push(batches);
                continue;
            }
            match context
                .engine
                .read(&w.tp, w.offset, w.max_bytes.min(budget))
                .await
            {
                Ok(read) => {
                    let entry = entry
                        .with_high_watermark(read.high_watermark)
                        .with_last_stable_offset(read.high_watermark)
                        .with_log_start_offset(read.log_start_offset);
                    // Only the response's first batch may exceed the limits.
                    if !read.is_empty() && (total == 0 || read.len() <= budget) {
                        total += read.len();
                        topic_records += read.records;
                        topic_bytes += read.len() as u64;
                        batches = read.chunks;
                    }
                    out.push(entry);
                }
                Err(Error::OffsetOutOfRange {
                    log_start_offset,
                    high_watermark,
                    ..
                }) => {
                    failed = true;
                    out.push(
                        entry
                            .with_error_code(ErrorCode::OffsetOutOfRange.code())
                            .with_high_watermark(high_watermark)
                            .with_last_stable_offset(high_watermark)
                            .with_log_start_offset(log_start_offset),
                    );
                }
                Err(error) => {
                    failed = true;
                    out.push(entry.with_error_code(to_error_code(&error).code()));
                }
            }
            records.push(batches);
        }
        topics.push(
            FetchableTopicResponse::default()
                .with_topic(streamhouse_kafka_proto::messages::TopicName(
                    streamhouse_kafka_proto::StrBytes::from_string(name.clone()),
                ))
                .with_partitions(out),
        );
        fetched.push((topic_records, topic_bytes));
    }
    ReadOnce {
        response: FetchResponse::default().with_responses(topics),
        records,
        total,
        failed,
        fetched,
    }
}
