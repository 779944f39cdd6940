//! `streamhouse consume <topic>`: reads partitions with `GET /topics/{name}/messages`
//! from a start position to the end (or, with `--follow`, polling until Ctrl-C).
//!
//! With `--group` it starts where the group's committed offsets say and commits the
//! positions it reached through `POST /consumer-groups/{id}/offsets`, which, as Kafka's
//! admin tools, only works for a group without active members.

use std::collections::BTreeMap;
use std::io::{BufWriter, Stdout, Write};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::Serialize;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use crate::api::{GroupDetail, Message, Shown, TopicDetail};
use crate::client::{Client, ServerArgs, is_not_found};
use crate::error::{Error, Result};

/// Records per browse request (the server's default cap is 1000).
const BROWSE_LIMIT: u64 = 500;

/// How often `--follow` looks for new records.
const POLL_INTERVAL: Duration = Duration::from_millis(500);

/// `streamhouse consume <topic> ...`
#[derive(Debug, clap::Args)]
pub struct ConsumeArgs {
    #[command(flatten)]
    server: ServerArgs,
    /// Topic to read.
    topic: String,
    /// Where to start in each partition: `earliest` (default), `latest` or an offset
    /// (clamped to the stored range).
    #[arg(long, value_name = "earliest|latest|OFFSET", value_parser = parse_start)]
    from: Option<Start>,
    /// Start at the first record at or after this time: ms since the epoch or RFC 3339.
    #[arg(long, value_name = "TIME", value_parser = crate::group::parse_timestamp,
        conflicts_with = "from")]
    from_timestamp: Option<i64>,
    /// Read only this partition.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(i32).range(0..))]
    partition: Option<i32>,
    /// Stop after this many records.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    max_messages: Option<u64>,
    /// Keep waiting for new records until Ctrl-C.
    #[arg(long)]
    follow: bool,
    /// Start at this group's committed offsets (partitions without one start at --from)
    /// and commit the positions reached. The group must have no active members.
    #[arg(long, value_name = "GROUP")]
    group: Option<String>,
    /// `text`: the value per line; `json`: one object per line with topic, partition,
    /// offset, timestamp, key, value and headers.
    #[arg(long, value_enum, default_value_t = RecordFormat::Text)]
    format: RecordFormat,
    /// In text format, print the key before the value.
    #[arg(long)]
    print_key: bool,
    /// In text format with --print-key, what goes between key and value.
    #[arg(long, value_name = "SEP", default_value = "\t")]
    key_separator: String,
}

/// Where to start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Start {
    Earliest,
    Latest,
    Offset(i64),
}

fn parse_start(text: &str) -> Result<Start, String> {
    match text {
        "earliest" | "beginning" => Ok(Start::Earliest),
        "latest" | "end" => Ok(Start::Latest),
        _ => match text.parse::<i64>() {
            Ok(offset) if offset >= 0 => Ok(Start::Offset(offset)),
            _ => Err("expected earliest, latest or an offset (>= 0)".to_owned()),
        },
    }
}

/// How records are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum RecordFormat {
    Text,
    Json,
}

/// A record as `--format json` prints it. Keys, values and header values are strings
/// when they are UTF-8, `{"base64": "..."}` when not, and null when absent.
#[derive(Debug, Serialize)]
struct JsonRecord<'a> {
    topic: &'a str,
    partition: i32,
    offset: i64,
    timestamp: i64,
    key: Value,
    value: Value,
    headers: Vec<JsonHeader>,
}

#[derive(Debug, Serialize)]
struct JsonHeader {
    key: String,
    value: Value,
}

pub(crate) async fn run(args: ConsumeArgs) -> Result<()> {
    let client = Client::new(&args.server)?;
    let topic = client
        .get::<TopicDetail>(&["topics", &args.topic], &[])
        .await?
        .body;
    let mut ends: BTreeMap<i32, (i64, i64)> = topic
        .partitions
        .iter()
        .filter(|p| args.partition.is_none_or(|only| only == p.partition))
        .map(|p| (p.partition, (p.log_start_offset, p.high_watermark)))
        .collect();
    if let Some(p) = args.partition
        && ends.is_empty()
    {
        return Err(Error::Refused(format!(
            "topic {:?} has no partition {p} (it has {})",
            args.topic,
            topic.partitions.len()
        )));
    }
    let committed = match &args.group {
        Some(group) => committed_offsets(&client, group, &args.topic).await?,
        None => BTreeMap::new(),
    };

    let mut positions: BTreeMap<i32, i64> = BTreeMap::new();
    for (&partition, &(log_start, hw)) in &ends {
        let start = match (committed.get(&partition), args.from_timestamp, args.from) {
            (Some(&offset), _, _) => offset,
            (None, Some(ts), _) => offset_for_timestamp(&client, &args.topic, partition, ts)
                .await?
                .unwrap_or(hw),
            (None, None, None | Some(Start::Earliest)) => log_start,
            (None, None, Some(Start::Latest)) => hw,
            (None, None, Some(Start::Offset(offset))) => offset,
        };
        positions.insert(partition, start.clamp(log_start, hw));
    }

    let stop = CancellationToken::new();
    if args.follow {
        let stop = stop.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                stop.cancel();
            }
        });
    }
    let mut out = BufWriter::new(std::io::stdout());
    let mut printed = 0u64;
    let mut last_commit: BTreeMap<i32, i64> = committed.clone();
    let done = |printed: u64| args.max_messages.is_some_and(|max| printed >= max);
    'rounds: loop {
        for (&partition, next) in positions.iter_mut() {
            let Some(&(log_start, hw)) = ends.get(&partition) else {
                continue;
            };
            // Retention may have removed what we had not read yet.
            *next = (*next).max(log_start);
            while *next < hw {
                if done(printed) || stop.is_cancelled() {
                    break 'rounds;
                }
                let budget = args
                    .max_messages
                    .map_or(BROWSE_LIMIT, |max| (max - printed).min(BROWSE_LIMIT));
                let messages = browse(&client, &args.topic, partition, *next, budget).await?;
                if messages.is_empty() {
                    // Nothing readable below the end (e.g. only control records).
                    *next = hw;
                    break;
                }
                for message in messages.iter().filter(|m| m.offset < hw) {
                    write_record(&mut out, &args, message)?;
                    *next = message.offset + 1;
                    printed += 1;
                }
                if messages.iter().any(|m| m.offset >= hw - 1) {
                    *next = hw;
                }
                out.flush().map_err(Error::Output)?;
            }
        }
        if !args.follow || done(printed) || stop.is_cancelled() {
            break;
        }
        if let Some(group) = &args.group {
            commit_advanced(&client, group, &args.topic, &positions, &mut last_commit).await?;
        }
        tokio::select! {
            () = tokio::time::sleep(POLL_INTERVAL) => {}
            () = stop.cancelled() => break,
        }
        let topic = client
            .get::<TopicDetail>(&["topics", &args.topic], &[])
            .await?
            .body;
        for p in topic.partitions {
            if let Some(end) = ends.get_mut(&p.partition) {
                *end = (p.log_start_offset, p.high_watermark);
            }
        }
    }
    out.flush().map_err(Error::Output)?;
    let mut summary = format!(
        "consumed {printed} record{}",
        if printed == 1 { "" } else { "s" }
    );
    if let Some(group) = &args.group {
        commit_advanced(&client, group, &args.topic, &positions, &mut last_commit).await?;
        summary.push_str(&format!(
            "; group {group} is at {}",
            positions_text(&positions)
        ));
    }
    eprintln!("{summary}");
    Ok(())
}

/// The positions that moved past the group's last commit: a commit never moves a group
/// backwards (a committed offset past the log end, which Kafka allows, stays).
fn advanced(positions: &BTreeMap<i32, i64>, committed: &BTreeMap<i32, i64>) -> BTreeMap<i32, i64> {
    positions
        .iter()
        .filter(|(p, next)| committed.get(p).is_none_or(|c| *next > c))
        .map(|(p, next)| (*p, *next))
        .collect()
}

async fn commit_advanced(
    client: &Client,
    group: &str,
    topic: &str,
    positions: &BTreeMap<i32, i64>,
    last_commit: &mut BTreeMap<i32, i64>,
) -> Result<()> {
    let moved = advanced(positions, last_commit);
    if !moved.is_empty() {
        commit(client, group, topic, &moved).await?;
        last_commit.extend(moved);
    }
    Ok(())
}

fn positions_text(positions: &BTreeMap<i32, i64>) -> String {
    positions
        .iter()
        .map(|(p, o)| format!("{p}:{o}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The group's committed offsets in `topic`; none for a group that does not exist yet.
/// A group with active members is refused here, before anything is printed, since its
/// offsets could not be committed afterwards.
async fn committed_offsets(
    client: &Client,
    group: &str,
    topic: &str,
) -> Result<BTreeMap<i32, i64>> {
    let detail = match client
        .get::<GroupDetail>(&["consumer-groups", group], &[])
        .await
    {
        Ok(reply) => reply.body,
        Err(error) if is_not_found(&error, "unknown_group") => return Ok(BTreeMap::new()),
        Err(error) => return Err(error),
    };
    if !detail.members.is_empty() {
        return Err(Error::Refused(format!(
            "group {group:?} has {} active member{}; offsets can only be committed for a \
             group without active members (stop its consumers first)",
            detail.members.len(),
            if detail.members.len() == 1 { "" } else { "s" }
        )));
    }
    Ok(detail
        .partitions
        .into_iter()
        .filter(|p| p.topic == topic)
        .filter_map(|p| Some((p.partition, p.committed_offset?)))
        .collect())
}

async fn commit(
    client: &Client,
    group: &str,
    topic: &str,
    positions: &BTreeMap<i32, i64>,
) -> Result<()> {
    let offsets: Vec<Value> = positions
        .iter()
        .map(|(p, o)| json!({ "topic": topic, "partition": p, "offset": o }))
        .collect();
    client
        .post::<Value>(
            &["consumer-groups", group, "offsets"],
            &json!({ "offsets": offsets }),
        )
        .await?;
    Ok(())
}

async fn browse(
    client: &Client,
    topic: &str,
    partition: i32,
    offset: i64,
    limit: u64,
) -> Result<Vec<Message>> {
    Ok(client
        .get::<Vec<Message>>(
            &["topics", topic, "messages"],
            &[
                ("partition", partition.to_string()),
                ("offset", offset.to_string()),
                ("limit", limit.to_string()),
                ("format", "base64".to_owned()),
            ],
        )
        .await?
        .body)
}

/// The offset of the first record at or after `timestamp`; `None` if there is none yet.
async fn offset_for_timestamp(
    client: &Client,
    topic: &str,
    partition: i32,
    timestamp: i64,
) -> Result<Option<i64>> {
    let first = client
        .get::<Vec<Message>>(
            &["topics", topic, "messages"],
            &[
                ("partition", partition.to_string()),
                ("timestamp", timestamp.to_string()),
                ("limit", "1".to_owned()),
                ("format", "base64".to_owned()),
            ],
        )
        .await?
        .body;
    Ok(first.first().map(|m| m.offset))
}

/// The bytes a key, value or header value stands for.
fn bytes_of(shown: &Shown) -> Result<Vec<u8>> {
    match (&shown.data, shown.encoding.as_str()) {
        (Value::String(data), "base64") => {
            STANDARD
                .decode(data)
                .map_err(|e| Error::UnexpectedResponse {
                    url: "messages".to_owned(),
                    reason: format!("bad base64: {e}"),
                })
        }
        (Value::String(text), _) => Ok(text.clone().into_bytes()),
        (other, _) => Ok(other.to_string().into_bytes()),
    }
}

fn json_of(shown: Option<&Shown>) -> Result<Value> {
    let Some(shown) = shown else {
        return Ok(Value::Null);
    };
    let bytes = bytes_of(shown)?;
    Ok(match String::from_utf8(bytes) {
        Ok(text) => Value::String(text),
        Err(e) => json!({ "base64": STANDARD.encode(e.as_bytes()) }),
    })
}

fn write_record(out: &mut BufWriter<Stdout>, args: &ConsumeArgs, message: &Message) -> Result<()> {
    match args.format {
        RecordFormat::Text => {
            let mut line = Vec::new();
            if args.print_key {
                match &message.key {
                    Some(key) => line.extend(bytes_of(key)?),
                    None => line.extend_from_slice(b"null"),
                }
                line.extend_from_slice(args.key_separator.as_bytes());
            }
            match &message.value {
                Some(value) => line.extend(bytes_of(value)?),
                None => line.extend_from_slice(b"null"),
            }
            line.push(b'\n');
            out.write_all(&line).map_err(Error::Output)
        }
        RecordFormat::Json => {
            let record = JsonRecord {
                topic: &args.topic,
                partition: message.partition,
                offset: message.offset,
                timestamp: message.timestamp,
                key: json_of(message.key.as_ref())?,
                value: json_of(message.value.as_ref())?,
                headers: message
                    .headers
                    .iter()
                    .map(|h| {
                        Ok(JsonHeader {
                            key: h.key.clone(),
                            value: json_of(h.value.as_ref())?,
                        })
                    })
                    .collect::<Result<_>>()?,
            };
            let mut line =
                serde_json::to_vec(&record).map_err(|e| Error::Output(std::io::Error::other(e)))?;
            line.push(b'\n');
            out.write_all(&line).map_err(Error::Output)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commits_only_move_forward() {
        let committed = BTreeMap::from([(0, 10), (1, 500), (2, 7)]);
        // Partition 1's commit is past the log end (clamped read position 20): kept.
        let positions = BTreeMap::from([(0, 12), (1, 20), (2, 7), (3, 4)]);
        assert_eq!(
            super::advanced(&positions, &committed),
            BTreeMap::from([(0, 12), (3, 4)])
        );
    }

    #[test]
    fn starts_parse() {
        assert_eq!(parse_start("earliest"), Ok(Start::Earliest));
        assert_eq!(parse_start("latest"), Ok(Start::Latest));
        assert_eq!(parse_start("42"), Ok(Start::Offset(42)));
        assert!(parse_start("-1").is_err());
        assert!(parse_start("soon").is_err());
    }

    #[test]
    fn non_utf8_bytes_are_base64_in_json() -> Result<()> {
        let shown = Shown {
            encoding: "base64".to_owned(),
            data: Value::String(STANDARD.encode([0xff, 0x00])),
        };
        assert_eq!(json_of(Some(&shown))?, json!({"base64": "/wA="}));
        let text = Shown {
            encoding: "base64".to_owned(),
            data: Value::String(STANDARD.encode("héllo")),
        };
        assert_eq!(json_of(Some(&text))?, json!("héllo"));
        assert_eq!(json_of(None)?, Value::Null);
        Ok(())
    }
}
