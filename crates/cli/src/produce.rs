//! `streamhouse produce <topic>`: one record per line of stdin or a file, sent in
//! batches over `POST /topics/{name}/messages`.
//!
//! Lines are bytes, not text: the requests use the API's base64 encoding, so any line
//! (and any key split off it) is stored exactly as read, less its line ending.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, IsTerminal, Read};
use std::path::PathBuf;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::Serialize;
use serde_json::json;
use tokio::sync::mpsc;

use crate::api::{Produced, TopicDetail};
use crate::client::{Client, ServerArgs};
use crate::error::{Error, Result};
use crate::output::{self, Output, OutputArgs, Table};

/// Bytes of keys and values per request at most, well under the default 8 MiB body
/// limit once base64 and JSON are added.
const MAX_BATCH_BYTES: usize = 2 << 20;

/// How long a partly filled batch waits for more lines (so interactive input is sent
/// line by line, and files in full batches).
const LINGER: Duration = Duration::from_millis(50);

/// `streamhouse produce <topic> ...`
#[derive(Debug, clap::Args)]
pub struct ProduceArgs {
    #[command(flatten)]
    server: ServerArgs,
    #[command(flatten)]
    output: OutputArgs,
    /// Topic to produce to.
    topic: String,
    /// Read records from this file instead of stdin.
    #[arg(long, value_name = "PATH")]
    file: Option<PathBuf>,
    /// The key of every record.
    #[arg(long, value_name = "KEY", conflicts_with = "key_separator")]
    key: Option<String>,
    /// Split each line at the first SEP into key and value.
    #[arg(long, value_name = "SEP", value_parser = clap::builder::NonEmptyStringValueParser::new())]
    key_separator: Option<String>,
    /// A header on every record (repeatable).
    #[arg(long = "header", value_name = "KEY=VALUE", value_parser = crate::parse_key_value)]
    headers: Vec<(String, String)>,
    /// Send every record to this partition (default: by key hash, round robin without
    /// keys).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(i32).range(0..))]
    partition: Option<i32>,
    /// Check that each value is JSON (the line is sent as written).
    #[arg(long)]
    json: bool,
    /// Records per request.
    #[arg(long, value_name = "N", default_value_t = 500,
        value_parser = clap::value_parser!(u32).range(1..=10_000))]
    batch_size: u32,
}

/// One line of input.
#[derive(Debug)]
struct Line {
    number: u64,
    bytes: Vec<u8>,
    /// Bytes read for it, line ending included (for the progress bar).
    read: u64,
}

#[derive(Debug, Serialize)]
struct NewMessage {
    #[serde(skip_serializing_if = "Option::is_none")]
    key: Option<String>,
    value: String,
    headers: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    partition: Option<i32>,
}

/// Where records of one partition landed.
#[derive(Debug, Default, Serialize)]
struct PartitionSummary {
    partition: i32,
    records: u64,
    first_offset: i64,
    last_offset: i64,
}

pub(crate) async fn run(args: ProduceArgs) -> Result<()> {
    let client = Client::new(&args.server)?;
    let mut headers = BTreeMap::new();
    for (key, value) in &args.headers {
        if headers
            .insert(key.clone(), STANDARD.encode(value))
            .is_some()
        {
            return Err(Error::Usage(format!("header {key:?} is given twice")));
        }
    }
    // Fail before reading any input if the topic or partition does not exist.
    let topic = client
        .get::<TopicDetail>(&["topics", &args.topic], &[])
        .await?
        .body;
    if let Some(p) = args.partition
        && p as usize >= topic.partitions.len()
    {
        return Err(Error::Refused(format!(
            "topic {:?} has no partition {p} (it has {})",
            args.topic,
            topic.partitions.len()
        )));
    }

    let (source_name, input, size): (String, Box<dyn Read + Send>, Option<u64>) = match &args.file {
        Some(path) => {
            let name = path.display().to_string();
            let file = std::fs::File::open(path).map_err(|source| Error::Read {
                source_name: name.clone(),
                source,
            })?;
            let size = file.metadata().ok().map(|m| m.len());
            (name, Box::new(file), size)
        }
        None => ("stdin".to_owned(), Box::new(std::io::stdin()), None),
    };
    let progress = size
        .filter(|_| std::io::stderr().is_terminal())
        .map(progress_bar);
    let mut lines = read_lines(input, source_name.clone(), args.batch_size as usize * 2);

    let mut summary: BTreeMap<i32, PartitionSummary> = BTreeMap::new();
    let mut total = 0u64;
    let key = args.key.as_deref().map(|k| STANDARD.encode(k));
    loop {
        let Some(batch) = next_batch(&mut lines, args.batch_size as usize).await? else {
            break;
        };
        let mut records = Vec::with_capacity(batch.len());
        let mut read = 0;
        for line in &batch {
            read += line.read;
            let (line_key, value) = match &args.key_separator {
                Some(sep) => match split(&line.bytes, sep.as_bytes()) {
                    Some((k, v)) => (Some(STANDARD.encode(k)), v),
                    None => {
                        return Err(input_error(
                            &source_name,
                            line.number,
                            total,
                            format!("no key separator {sep:?}"),
                        ));
                    }
                },
                None => (key.clone(), line.bytes.as_slice()),
            };
            if args.json
                && let Err(e) = serde_json::from_slice::<serde_json::Value>(value)
            {
                return Err(input_error(
                    &source_name,
                    line.number,
                    total,
                    format!("not JSON: {e}"),
                ));
            }
            records.push(NewMessage {
                key: line_key,
                value: STANDARD.encode(value),
                headers: headers.clone(),
                partition: args.partition,
            });
        }
        let body = json!({ "encoding": "base64", "records": records });
        let produced = client
            .post::<Vec<Produced>>(&["topics", &args.topic, "messages"], &body)
            .await?
            .body;
        for p in produced {
            let entry = summary.entry(p.partition).or_insert(PartitionSummary {
                partition: p.partition,
                records: 0,
                first_offset: p.offset,
                last_offset: p.offset,
            });
            entry.records += 1;
            entry.first_offset = entry.first_offset.min(p.offset);
            entry.last_offset = entry.last_offset.max(p.offset);
        }
        total += batch.len() as u64;
        if let Some(bar) = &progress {
            bar.inc(read);
        }
    }
    if let Some(bar) = &progress {
        bar.finish_and_clear();
    }

    if args.output.output == Output::Json {
        #[derive(Serialize)]
        struct Summary<'a> {
            topic: &'a str,
            records: u64,
            partitions: Vec<&'a PartitionSummary>,
        }
        return output::print_json(&Summary {
            topic: &args.topic,
            records: total,
            partitions: summary.values().collect(),
        });
    }
    let mut text = format!(
        "produced {total} record{} to {}\n",
        if total == 1 { "" } else { "s" },
        args.topic
    );
    if !summary.is_empty() {
        let mut table = Table::new(&["PARTITION", "RECORDS", "FIRST-OFFSET", "LAST-OFFSET"]);
        for p in summary.values() {
            table.row(vec![
                p.partition.to_string(),
                p.records.to_string(),
                p.first_offset.to_string(),
                p.last_offset.to_string(),
            ]);
        }
        text.push_str(&table.render());
    }
    output::print(&text)
}

fn input_error(source_name: &str, line: u64, produced: u64, reason: String) -> Error {
    Error::Input {
        source_name: source_name.to_owned(),
        line,
        reason: if produced == 0 {
            format!("{reason}; nothing was produced")
        } else {
            format!("{reason}; the {produced} records of earlier requests were produced")
        },
    }
}

fn progress_bar(len: u64) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(len);
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{bar:40} {binary_bytes}/{binary_total_bytes} ({binary_bytes_per_sec}, {eta} left)",
    ) {
        bar.set_style(style);
    }
    bar
}

/// `line` split at the first `sep`.
fn split<'a>(line: &'a [u8], sep: &[u8]) -> Option<(&'a [u8], &'a [u8])> {
    line.windows(sep.len())
        .position(|w| w == sep)
        .map(|at| (&line[..at], &line[at + sep.len()..]))
}

/// Reads lines on a thread (stdin blocks) and hands them over a bounded channel.
fn read_lines(
    input: Box<dyn Read + Send>,
    source_name: String,
    capacity: usize,
) -> mpsc::Receiver<Result<Line>> {
    let (tx, rx) = mpsc::channel(capacity);
    std::thread::spawn(move || {
        let mut reader = BufReader::new(input);
        let mut number = 0;
        loop {
            let mut bytes = Vec::new();
            match reader.read_until(b'\n', &mut bytes) {
                Ok(0) => return,
                Ok(read) => {
                    number += 1;
                    if bytes.last() == Some(&b'\n') {
                        bytes.pop();
                        if bytes.last() == Some(&b'\r') {
                            bytes.pop();
                        }
                    }
                    let line = Line {
                        number,
                        bytes,
                        read: read as u64,
                    };
                    if tx.blocking_send(Ok(line)).is_err() {
                        return;
                    }
                }
                Err(source) => {
                    let _ = tx.blocking_send(Err(Error::Read {
                        source_name: source_name.clone(),
                        source,
                    }));
                    return;
                }
            }
        }
    });
    rx
}

/// Up to `size` lines (and [`MAX_BATCH_BYTES`]): waits for the first, then takes what
/// arrives within [`LINGER`]. `None` at the end of the input.
async fn next_batch(
    lines: &mut mpsc::Receiver<Result<Line>>,
    size: usize,
) -> Result<Option<Vec<Line>>> {
    let Some(first) = lines.recv().await else {
        return Ok(None);
    };
    let first = first?;
    let mut bytes = first.bytes.len();
    let mut batch = vec![first];
    while batch.len() < size && bytes < MAX_BATCH_BYTES {
        match tokio::time::timeout(LINGER, lines.recv()).await {
            Ok(Some(line)) => {
                let line = line?;
                bytes += line.bytes.len();
                batch.push(line);
            }
            Ok(None) | Err(_) => break,
        }
    }
    Ok(Some(batch))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_split_at_the_first_separator() {
        assert_eq!(split(b"k::v::w", b"::"), Some((&b"k"[..], &b"v::w"[..])));
        assert_eq!(split(b"novalue", b":"), None);
        assert_eq!(split(b":v", b":"), Some((&b""[..], &b"v"[..])));
    }

    #[tokio::test]
    async fn batches_end_at_the_size_and_keep_line_numbers() {
        let input = b"a\r\nb\n\nc".to_vec();
        let mut lines = read_lines(Box::new(std::io::Cursor::new(input)), "t".into(), 8);
        let first = next_batch(&mut lines, 2).await.expect("ok").expect("batch");
        assert_eq!(
            first.iter().map(|l| l.bytes.clone()).collect::<Vec<_>>(),
            vec![b"a".to_vec(), b"b".to_vec()]
        );
        let second = next_batch(&mut lines, 2).await.expect("ok").expect("batch");
        assert_eq!(
            second
                .iter()
                .map(|l| (l.number, l.bytes.clone()))
                .collect::<Vec<_>>(),
            vec![(3, Vec::new()), (4, b"c".to_vec())]
        );
        assert!(next_batch(&mut lines, 2).await.expect("ok").is_none());
    }
}
