//! Messages: browse a partition (or all) from an offset, a timestamp, the start or the
//! end, with keys and values shown as text, JSON or base64; produce over HTTP.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU32, Ordering};

use axum::Json;
use axum::extract::{Path, State};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use streamhouse_records::{NewRecord, decode_records, encode_records};
use streamhouse_types::TopicPartition;

use crate::error::ApiError;
use crate::extract::{Body, Params};
use crate::state::AppState;

/// Bytes read from storage per step while browsing.
const READ_STEP_BYTES: usize = 1 << 20;

/// How to show keys and values.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Format {
    /// UTF-8 text; bytes that are not UTF-8 fall back to base64.
    #[default]
    Text,
    /// Parsed JSON; bytes that are not JSON fall back to text, then base64.
    Json,
    /// Always base64.
    Base64,
}

/// Where browsing starts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum From {
    /// The oldest record still stored.
    #[default]
    Earliest,
    /// The last `limit` records.
    Latest,
}

/// Browse parameters.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct BrowseQuery {
    /// One partition; all partitions if absent.
    partition: Option<i32>,
    /// Start at this offset (per partition).
    offset: Option<i64>,
    /// Start at the first record at or after this timestamp (ms since the epoch).
    timestamp: Option<i64>,
    /// `earliest` (default) or `latest`, when neither offset nor timestamp is given.
    #[serde(default)]
    from: From,
    /// Records to return in all (default 50, at most `http.max_browse_records`); with
    /// several partitions, each contributes up to the rest of that budget in turn.
    #[param(minimum = 1)]
    limit: Option<u32>,
    /// `text` (default), `json` or `base64`.
    #[serde(default)]
    format: Format,
}

/// A key, value or header value as shown.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct Shown {
    /// `text`, `json` or `base64`: how `data` encodes the bytes.
    encoding: Format,
    /// The bytes, as text, as a JSON value (any JSON), or as base64.
    #[schema(value_type = Value)]
    data: serde_json::Value,
}

/// A header as shown.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct ShownHeader {
    key: String,
    /// Null for a null header value.
    value: Option<Shown>,
}

/// One record.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct Message {
    partition: i32,
    offset: i64,
    timestamp: i64,
    /// Null for a record without a key.
    key: Option<Shown>,
    /// Null for a tombstone.
    value: Option<Shown>,
    headers: Vec<ShownHeader>,
}

fn show(bytes: &Bytes, format: Format) -> Shown {
    let text = std::str::from_utf8(bytes).ok();
    match (format, text) {
        (Format::Json, Some(text)) => match serde_json::from_str::<serde_json::Value>(text) {
            Ok(value) => Shown {
                encoding: Format::Json,
                data: value,
            },
            Err(_) => show(bytes, Format::Text),
        },
        (Format::Text, Some(text)) => Shown {
            encoding: Format::Text,
            data: serde_json::Value::String(text.to_owned()),
        },
        _ => Shown {
            encoding: Format::Base64,
            data: serde_json::Value::String(STANDARD.encode(bytes)),
        },
    }
}

/// Reads records of a topic: one partition or all, from an offset, a timestamp, the
/// earliest or the latest records.
#[utoipa::path(get, path = "/api/v1/topics/{name}/messages", operation_id = "browse_messages", tag = "messages",
    params(("name" = String, Path, description = "Topic name"), BrowseQuery),
    responses((status = 200, body = Vec<Message>), (status = 404, body = crate::ErrorBody),
        (status = 422, body = crate::ErrorBody)))]
pub(crate) async fn browse(
    State(state): State<AppState>,
    Path(name): Path<String>,
    Params(query): Params<BrowseQuery>,
) -> Result<Json<Vec<Message>>, ApiError> {
    let engine = state.engine();
    let topic = engine.topic(&name).await?;
    let max = state.inner.config.max_browse_records;
    let limit = query.limit.unwrap_or(50);
    if limit == 0 || limit > max {
        return Err(ApiError::invalid(format!(
            "limit {limit} must be between 1 and {max}"
        )));
    }
    if query.offset.is_some() && query.timestamp.is_some() {
        return Err(ApiError::invalid("give offset or timestamp, not both"));
    }
    let partitions: Vec<i32> = match query.partition {
        Some(p) if (0..topic.partition_count).contains(&p) => vec![p],
        Some(p) => {
            return Err(ApiError::new(
                axum::http::StatusCode::NOT_FOUND,
                "unknown_partition",
                format!("topic {name:?} has no partition {p}"),
            ));
        }
        None => (0..topic.partition_count).collect(),
    };
    let mut out = Vec::new();
    for partition in partitions {
        let tp = TopicPartition::new(name.as_str(), partition);
        let (log_start, hw) = engine.offsets(&tp).await?;
        let start = if let Some(offset) = query.offset {
            if offset < log_start || offset > hw {
                return Err(ApiError::invalid(format!(
                    "offset {offset} of partition {partition} is outside {log_start}..={hw}"
                )));
            }
            offset
        } else if let Some(timestamp) = query.timestamp {
            match engine.offset_for_timestamp(&tp, timestamp).await? {
                Some((offset, _)) => offset,
                None => hw,
            }
        } else if query.from == From::Latest {
            (hw - i64::from(limit)).max(log_start)
        } else {
            log_start
        };
        let budget = limit as usize - out.len();
        if budget == 0 {
            break;
        }
        read_partition(&state, &tp, start, hw, budget, query.format, &mut out).await?;
    }
    Ok(Json(out))
}

fn corrupt(error: streamhouse_records::BatchError) -> ApiError {
    ApiError::new(
        axum::http::StatusCode::INTERNAL_SERVER_ERROR,
        "corrupt_storage",
        error.to_string(),
    )
}

async fn read_partition(
    state: &AppState,
    tp: &TopicPartition,
    start: i64,
    hw: i64,
    limit: usize,
    format: Format,
    out: &mut Vec<Message>,
) -> Result<(), ApiError> {
    let mut next = start;
    let mut taken = 0;
    while taken < limit && next < hw {
        let read = state.engine().read(tp, next, READ_STEP_BYTES).await?;
        if read.is_empty() {
            break;
        }
        let before = next;
        for chunk in &read.chunks {
            for item in streamhouse_records::batches(chunk) {
                let (header, batch) = item.map_err(corrupt)?;
                // Past this batch even if it holds nothing to show (control records).
                next = next.max(header.last_offset() + 1);
                let records = decode_records(&batch).map_err(corrupt)?;
                for record in records {
                    next = next.max(record.offset + 1);
                    if record.offset < start || taken >= limit {
                        continue;
                    }
                    taken += 1;
                    out.push(Message {
                        partition: tp.partition,
                        offset: record.offset,
                        timestamp: record.timestamp,
                        key: record.key.as_ref().map(|k| show(k, format)),
                        value: record.value.as_ref().map(|v| show(v, format)),
                        headers: record
                            .headers
                            .iter()
                            .map(|(key, value)| ShownHeader {
                                key: key.clone(),
                                value: value.as_ref().map(|v| show(v, format)),
                            })
                            .collect(),
                    });
                }
            }
        }
        if next == before {
            break;
        }
    }
    Ok(())
}

/// One record to produce.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewMessage {
    /// Text (or base64 with `encoding: base64`); absent for no key.
    key: Option<String>,
    /// A string is sent as its text (or decoded from base64); any other JSON value is
    /// sent as its JSON text. Absent or null for a tombstone.
    #[schema(value_type = Value, required = false)]
    value: Option<serde_json::Value>,
    /// Header values are text (or base64).
    #[serde(default)]
    #[schema(required = false)]
    headers: BTreeMap<String, String>,
    /// The partition; by key hash if absent (round robin without a key).
    partition: Option<i32>,
}

/// The partition Kafka's default partitioner (the Java client's, and librdkafka's
/// `murmur2_random`) picks for `key`, so HTTP and Kafka producers agree on where a key
/// goes.
fn kafka_partition_of(key: &[u8], partitions: i32) -> i32 {
    let hash = murmur2::murmur2(key, murmur2::KAFKA_SEED) & 0x7fff_ffff;
    (hash % partitions.max(1) as u32) as i32
}

/// Records to produce.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ProduceRequest {
    #[schema(min_items = 1)]
    records: Vec<NewMessage>,
    /// `text` (default) or `base64`: how keys, string values and header values are given.
    #[serde(default)]
    encoding: Format,
}

/// Where a produced record landed.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct Produced {
    partition: i32,
    offset: i64,
}

/// Spreads keyless records over partitions.
static ROUND_ROBIN: AtomicU32 = AtomicU32::new(0);

fn decode(text: &str, encoding: Format, what: &str) -> Result<Bytes, ApiError> {
    match encoding {
        Format::Base64 => STANDARD
            .decode(text)
            .map(Bytes::from)
            .map_err(|e| ApiError::invalid(format!("{what} is not base64: {e}"))),
        _ => Ok(Bytes::copy_from_slice(text.as_bytes())),
    }
}

/// Produces records (durably: the answer comes once they are stored).
#[utoipa::path(post, path = "/api/v1/topics/{name}/messages", operation_id = "produce_messages", tag = "messages",
    params(("name" = String, Path, description = "Topic name")), request_body = ProduceRequest,
    responses((status = 200, body = Vec<Produced>), (status = 400, body = crate::ErrorBody),
        (status = 404, body = crate::ErrorBody), (status = 422, body = crate::ErrorBody)))]
pub(crate) async fn produce(
    State(state): State<AppState>,
    Path(name): Path<String>,
    Body(request): Body<ProduceRequest>,
) -> Result<Json<Vec<Produced>>, ApiError> {
    if request.records.is_empty() {
        return Err(ApiError::invalid("records is empty"));
    }
    if request.encoding == Format::Json {
        return Err(ApiError::invalid("encoding must be text or base64"));
    }
    let engine = state.engine();
    let topic = engine.topic(&name).await?;
    let now = state.now_ms();
    let mut by_partition: BTreeMap<i32, Vec<(usize, NewRecord)>> = BTreeMap::new();
    for (index, message) in request.records.into_iter().enumerate() {
        let key = message
            .key
            .as_deref()
            .map(|k| decode(k, request.encoding, "key"))
            .transpose()?;
        let value = match message.value {
            None | Some(serde_json::Value::Null) => None,
            Some(serde_json::Value::String(s)) => Some(decode(&s, request.encoding, "value")?),
            Some(other) => Some(Bytes::from(other.to_string())),
        };
        let headers = message
            .headers
            .iter()
            .map(|(k, v)| Ok((k.clone(), decode(v, request.encoding, "header value")?)))
            .collect::<Result<Vec<_>, ApiError>>()?;
        let partition = match (message.partition, &key) {
            (Some(p), _) if (0..topic.partition_count).contains(&p) => p,
            (Some(p), _) => {
                // The topic (the resource) exists; the body names a partition it has not.
                return Err(ApiError::new(
                    axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                    "unknown_partition",
                    format!("topic {name:?} has no partition {p}"),
                ));
            }
            (None, Some(key)) => kafka_partition_of(key, topic.partition_count),
            (None, None) => {
                (ROUND_ROBIN.fetch_add(1, Ordering::Relaxed) % topic.partition_count as u32) as i32
            }
        };
        by_partition.entry(partition).or_default().push((
            index,
            NewRecord {
                key,
                value,
                headers,
                timestamp: now,
            },
        ));
    }
    // All or nothing up front: a partition led elsewhere would fail after the others
    // were written, and a client's retry would write those twice.
    let led = engine.led_partitions();
    if let Some(partition) = by_partition
        .keys()
        .find(|p| !led.contains(&TopicPartition::new(name.as_str(), **p)))
    {
        return Err(ApiError::new(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            "not_leader",
            format!("partition {partition} of {name:?} is led by another agent; produce there"),
        ));
    }
    let total: usize = by_partition.values().map(Vec::len).sum();
    let mut produced: Vec<Option<Produced>> = (0..total).map(|_| None).collect();
    for (partition, records) in by_partition {
        let batch: Vec<NewRecord> = records.iter().map(|(_, r)| r.clone()).collect();
        let outcome = engine
            .append(
                &TopicPartition::new(name.as_str(), partition),
                encode_records(&batch),
            )
            .await?;
        for (i, (index, _)) in records.iter().enumerate() {
            produced[*index] = Some(Produced {
                partition,
                offset: outcome.base_offset + i as i64,
            });
        }
    }
    Ok(Json(produced.into_iter().flatten().collect()))
}

#[cfg(test)]
mod tests {
    use super::kafka_partition_of;

    #[test]
    fn keys_hash_like_kafkas_default_partitioner() {
        // Kafka's Utils.murmur2 test vectors (UtilsTest.testMurmur2), as partitions of
        // a topic with 2^31-1 partitions would show them: hash & 0x7fffffff.
        let positive = |h: i32| (h as u32 & 0x7fff_ffff) as i32;
        for (key, hash) in [
            ("21", -973_932_308),
            ("foobar", -790_332_482),
            ("a-little-bit-long-string", -985_981_536),
            ("a-little-bit-longer-string", -1_486_304_829),
            (
                "lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8",
                -58_897_971,
            ),
        ] {
            assert_eq!(
                kafka_partition_of(key.as_bytes(), i32::MAX),
                positive(hash),
                "{key}"
            );
        }
        assert_eq!(kafka_partition_of(b"any", 1), 0);
    }
}
