//! Fetch responses whose record batches stay in the buffers they are stored in.
//!
//! `kafka-protocol` encodes a message into one contiguous buffer, so a Fetch response
//! carrying megabytes of batches would copy every byte of them (and a partition whose
//! batches sit in several stored chunks would first be joined into one, a second copy).
//! Here the response's own fields — a few dozen bytes per partition — are written into
//! one small buffer and each partition's batches are left as the `Bytes` they are; the
//! connection sends the pieces with vectored writes. The byte layout is the library's,
//! field for field, and the tests compare the two encodings at every version served.
//!
//! A response using anything this path does not write (tagged fields the handler never
//! sets, fields of newer versions) is handed to the library instead, copying.

use bytes::{BufMut, Bytes, BytesMut};
use integer_encoding::VarInt;
use kafka_protocol::messages::fetch_response::PartitionData;
use kafka_protocol::messages::{ApiKey, FetchResponse, ResponseHeader};
use kafka_protocol::protocol::Encodable;

use crate::codec::encode_response;

/// Fetch versions this path writes: those StreamHouse serves ([`crate::SUPPORTED`]).
const VERSIONS: std::ops::RangeInclusive<i16> = 4..=12;
/// First flexible (KIP-482) Fetch version: compact lengths and tagged fields.
const FIRST_FLEXIBLE: i16 = 12;

/// Encodes a Fetch response (length prefix, header, body) as a list of buffers that,
/// written in order, form one response frame. `records` holds each partition's batches,
/// in the order the partitions appear in `response` (topic by topic); the partitions'
/// own `records` fields must be empty. A partition with no batches gets an empty (not
/// null) record set, as Kafka sends.
///
/// # Errors
/// If `records` does not match the partitions, or the message cannot be expressed at
/// `version` (a handler bug).
pub fn encode_fetch_response(
    version: i16,
    correlation_id: i32,
    response: &FetchResponse,
    records: &[Vec<Bytes>],
) -> Result<Vec<Bytes>, String> {
    let partitions = response
        .responses
        .iter()
        .flat_map(|topic| &topic.partitions);
    if partitions.clone().count() != records.len() {
        return Err(format!(
            "{} record sets for {} partitions",
            records.len(),
            partitions.count()
        ));
    }
    if partitions
        .clone()
        .any(|p| p.records.as_ref().is_some_and(|r| !r.is_empty()))
    {
        return Err("partition records are passed beside the response, not in it".to_owned());
    }
    if !VERSIONS.contains(&version) || !writes_all_of(response, version) {
        return with_library(version, correlation_id, response, records);
    }
    let flexible = version >= FIRST_FLEXIBLE;
    let mut head = Head {
        buf: BytesMut::with_capacity(64 + records.len() * 64),
        flexible,
    };
    head.buf.put_i32(0); // frame length, patched below
    ResponseHeader::default()
        .with_correlation_id(correlation_id)
        .encode(
            &mut head.buf,
            ApiKey::Fetch.response_header_version(version),
        )
        .map_err(|e| e.to_string())?;
    head.buf.put_i32(response.throttle_time_ms);
    if version >= 7 {
        head.buf.put_i16(response.error_code);
        head.buf.put_i32(response.session_id);
    }
    // Where each non-empty partition's batches go: (offset in `head`, index into
    // `records`). Between them the head stays in one piece.
    let mut cuts = Vec::with_capacity(records.len());
    let mut next = 0;
    head.array_len(response.responses.len());
    for topic in &response.responses {
        head.string(topic.topic.as_bytes())?;
        head.array_len(topic.partitions.len());
        for partition in &topic.partitions {
            let batches = &records[next];
            let len: usize = batches.iter().map(Bytes::len).sum();
            head.partition_fields(partition, version)?;
            if flexible {
                head.uvarint(len + 1);
            } else {
                head.buf.put_i32(
                    i32::try_from(len).map_err(|_| "record set larger than 2 GiB".to_owned())?,
                );
            }
            if len > 0 {
                cuts.push((head.buf.len(), next));
            }
            head.no_tagged_fields();
            next += 1;
        }
        head.no_tagged_fields();
    }
    head.no_tagged_fields();

    let record_bytes: usize = records.iter().flatten().map(Bytes::len).sum();
    let frame_len = i32::try_from(head.buf.len() - 4 + record_bytes)
        .map_err(|_| "response larger than 2 GiB".to_owned())?;
    head.buf[..4].copy_from_slice(&frame_len.to_be_bytes());
    let head = head.buf.freeze();
    let mut parts = Vec::with_capacity(1 + 2 * cuts.len());
    let mut from = 0;
    for (at, index) in cuts {
        parts.push(head.slice(from..at));
        parts.extend(records[index].iter().filter(|b| !b.is_empty()).cloned());
        from = at;
    }
    parts.push(head.slice(from..));
    Ok(parts)
}

/// Whether every field set in `response` is one this path writes at `version`: no tagged
/// fields (diverging epoch, current leader, snapshot id, unknown ones), and the session
/// id (v7) and preferred read replica (v11) only where the version has them. (The
/// library drops a top-level error code before v7 rather than refusing it; so does this
/// path.)
fn writes_all_of(response: &FetchResponse, version: i16) -> bool {
    (version >= 7 || response.session_id == 0)
        && response.unknown_tagged_fields.is_empty()
        && response.node_endpoints.is_empty()
        && response.responses.iter().all(|topic| {
            topic.unknown_tagged_fields.is_empty()
                && topic.partitions.iter().all(|p| {
                    p.unknown_tagged_fields.is_empty()
                        && p.diverging_epoch == Default::default()
                        && p.current_leader == Default::default()
                        && p.snapshot_id == Default::default()
                        && (version >= 11 || p.preferred_read_replica == -1)
                })
        })
}

/// The library's encoding, with the record sets joined into the message (copying).
fn with_library(
    version: i16,
    correlation_id: i32,
    response: &FetchResponse,
    records: &[Vec<Bytes>],
) -> Result<Vec<Bytes>, String> {
    let mut response = response.clone();
    let partitions = response
        .responses
        .iter_mut()
        .flat_map(|topic| &mut topic.partitions);
    for (partition, batches) in partitions.zip(records) {
        partition.records = Some(batches.concat().into());
    }
    encode_response(ApiKey::Fetch, version, correlation_id, &response).map(|frame| vec![frame])
}

/// The response's own bytes, written with the layout of the library's generated encoder
/// (`kafka_protocol::messages::fetch_response`).
struct Head {
    buf: BytesMut,
    flexible: bool,
}

impl Head {
    /// An unsigned varint (flexible versions' lengths).
    fn uvarint(&mut self, value: usize) {
        let value = u32::try_from(value).unwrap_or(u32::MAX);
        let mut scratch = [0u8; 5];
        let n = value.encode_var(&mut scratch);
        self.buf.put_slice(&scratch[..n]);
    }

    /// An array's length: compact (`len + 1` as a varint) in flexible versions.
    fn array_len(&mut self, len: usize) {
        if self.flexible {
            self.uvarint(len + 1);
        } else {
            self.buf.put_i32(i32::try_from(len).unwrap_or(i32::MAX));
        }
    }

    fn string(&mut self, value: &[u8]) -> Result<(), String> {
        if self.flexible {
            self.uvarint(value.len() + 1);
        } else {
            let len = i16::try_from(value.len()).map_err(|_| "topic name too long".to_owned())?;
            self.buf.put_i16(len);
        }
        self.buf.put_slice(value);
        Ok(())
    }

    /// An empty tagged-field section (flexible versions only).
    fn no_tagged_fields(&mut self) {
        if self.flexible {
            self.uvarint(0);
        }
    }

    /// A partition's fields up to its record set.
    fn partition_fields(&mut self, p: &PartitionData, version: i16) -> Result<(), String> {
        self.buf.put_i32(p.partition_index);
        self.buf.put_i16(p.error_code);
        self.buf.put_i64(p.high_watermark);
        self.buf.put_i64(p.last_stable_offset);
        if version >= 5 {
            self.buf.put_i64(p.log_start_offset);
        }
        match &p.aborted_transactions {
            None if self.flexible => self.uvarint(0),
            None => self.buf.put_i32(-1),
            Some(aborted) => {
                self.array_len(aborted.len());
                for transaction in aborted {
                    transaction
                        .encode(&mut self.buf, version)
                        .map_err(|e| e.to_string())?;
                }
            }
        }
        if version >= 11 {
            self.buf.put_i32(p.preferred_read_replica.0);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use kafka_protocol::messages::TopicName;
    use kafka_protocol::messages::fetch_response::{
        AbortedTransaction, EpochEndOffset, FetchableTopicResponse,
    };
    use kafka_protocol::messages::{BrokerId, ProducerId};
    use kafka_protocol::protocol::StrBytes;

    use super::*;

    fn topic(name: &str, partitions: Vec<PartitionData>) -> FetchableTopicResponse {
        FetchableTopicResponse::default()
            .with_topic(TopicName(StrBytes::from_string(name.to_owned())))
            .with_partitions(partitions)
    }

    fn partition(index: i32) -> PartitionData {
        PartitionData::default()
            .with_partition_index(index)
            .with_high_watermark(1_000 + i64::from(index))
            .with_last_stable_offset(1_000 + i64::from(index))
            .with_log_start_offset(7)
    }

    /// A response of the shapes the Fetch handler makes: several topics, batches in one
    /// or several chunks, empty record sets, an error, a long topic name.
    fn sample() -> (FetchResponse, Vec<Vec<Bytes>>) {
        let response = FetchResponse::default()
            .with_throttle_time_ms(3)
            .with_responses(vec![
                topic("orders", vec![partition(0), partition(1), partition(2)]),
                topic(
                    &"t".repeat(300),
                    vec![
                        partition(5)
                            .with_error_code(1)
                            .with_aborted_transactions(None),
                    ],
                ),
                topic("empty", vec![]),
            ]);
        let records = vec![
            vec![Bytes::from(vec![1u8; 200])],
            vec![
                Bytes::from(vec![2u8; 150]),
                Bytes::new(),
                Bytes::from(vec![3u8; 70_000]),
            ],
            vec![],
            vec![],
        ];
        (response, records)
    }

    fn joined(parts: &[Bytes]) -> Vec<u8> {
        parts.concat()
    }

    /// Encodes at `version`, checks the bytes are the library's, and returns the parts.
    fn same_as_library(
        version: i16,
        response: &FetchResponse,
        records: &[Vec<Bytes>],
    ) -> Vec<Bytes> {
        let parts = encode_fetch_response(version, 42, response, records).expect("encode");
        let library = with_library(version, 42, response, records).expect("library encoding");
        assert_eq!(joined(&parts), joined(&library), "v{version}");
        parts
    }

    #[test]
    fn every_served_version_is_byte_for_byte_the_librarys() {
        let (response, records) = sample();
        for version in VERSIONS {
            let parts = same_as_library(version, &response, &records);
            assert!(parts.len() > 1, "v{version}: batches were left in place");
            let len = i32::from_be_bytes([parts[0][0], parts[0][1], parts[0][2], parts[0][3]]);
            assert_eq!(len as usize + 4, joined(&parts).len(), "v{version}");
        }
    }

    #[test]
    fn partitions_without_batches_do_not_split_the_head() {
        let (response, records) = sample();
        let parts = encode_fetch_response(12, 42, &response, &records).expect("encode");
        // Two partitions have batches (1 chunk and 2 non-empty chunks): three head pieces
        // around them.
        assert_eq!(parts.len(), 3 + 3);
    }

    #[test]
    fn the_batches_are_not_copied() {
        let (response, records) = sample();
        let parts = encode_fetch_response(12, 42, &response, &records).expect("encode");
        for stored in records.iter().flatten().filter(|b| !b.is_empty()) {
            assert!(
                parts.iter().any(|p| p.as_ptr() == stored.as_ptr()),
                "a stored chunk is sent from its own buffer"
            );
        }
    }

    #[test]
    fn what_this_path_does_not_write_goes_to_the_library() {
        let (mut response, records) = sample();
        response.responses[0].partitions[1] = partition(1)
            .with_diverging_epoch(EpochEndOffset::default().with_epoch(4).with_end_offset(9));
        response.responses[0].partitions[2] = partition(2)
            .with_preferred_read_replica(BrokerId(3))
            .with_aborted_transactions(Some(vec![
                AbortedTransaction::default()
                    .with_producer_id(ProducerId(11))
                    .with_first_offset(5),
            ]));
        for version in [11, 12] {
            let parts = same_as_library(version, &response, &records);
            assert_eq!(parts.len(), 1, "v{version}: the library wrote it");
        }
        // The preferred read replica does not exist before v11: the library refuses it.
        assert!(encode_fetch_response(10, 42, &response, &records).is_err());
        // Nor does a session id before v7; from v7 this path writes it, and the top-level
        // error code.
        let (response, records) = sample();
        let response = response.with_session_id(5).with_error_code(1);
        assert!(encode_fetch_response(6, 42, &response, &records).is_err());
        assert!(same_as_library(7, &response, &records).len() > 1);
        let response = response.with_session_id(0);
        assert!(same_as_library(6, &response, &records).len() > 1);
    }

    #[test]
    fn aborted_transactions_are_written_like_the_library() {
        let (mut response, records) = sample();
        response.responses[0].partitions[0] = partition(0).with_aborted_transactions(Some(vec![
            AbortedTransaction::default()
                .with_producer_id(ProducerId(11))
                .with_first_offset(5),
        ]));
        for version in VERSIONS {
            let parts = same_as_library(version, &response, &records);
            assert!(parts.len() > 1, "v{version}: written by this path");
        }
    }

    #[test]
    fn mismatched_record_sets_are_refused() {
        let (response, mut records) = sample();
        records.pop();
        assert!(encode_fetch_response(12, 42, &response, &records).is_err());
        let (mut response, records) = sample();
        response.responses[0].partitions[0].records = Some(Bytes::from_static(b"x"));
        assert!(encode_fetch_response(12, 42, &response, &records).is_err());
    }
}
