//! `streamhouse selftest write|verify`: a deterministic workload for crash-safety tests.
//!
//! `write` appends batches forever from several concurrent tasks and records each
//! acknowledged one in an ack log (one `partition base_offset seed` line per ack, written
//! with a single `write` call after the append resolved). `verify` reopens the node and
//! checks that every acknowledged batch is stored at its offset byte for byte, and that
//! every stored batch — acknowledged or not — is whole, valid and one the writer sent.

use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail, ensure};
use bytes::Bytes;
use streamhouse_config::{Config, ConfigFlags};
use streamhouse_metadata::TopicConfig;
use streamhouse_records::{BatchHeader, batches};
use streamhouse_types::TopicPartition;

use crate::{logging, node, workload};

#[derive(Debug, clap::Args)]
pub(crate) struct SelftestArgs {
    #[command(subcommand)]
    mode: Mode,
}

#[derive(Debug, clap::Subcommand)]
enum Mode {
    /// Append until killed or signalled, logging acknowledged batches.
    Write(WorkloadArgs),
    /// Check the stored log against the ack log.
    Verify(WorkloadArgs),
}

#[derive(Debug, clap::Args)]
struct WorkloadArgs {
    /// File of acknowledged batches.
    #[arg(long)]
    ack_log: PathBuf,
    /// Topic to use (created if missing).
    #[arg(long, default_value = "selftest")]
    topic: String,
    /// Partitions of the topic.
    #[arg(long, default_value_t = 3)]
    partitions: i32,
    /// Concurrent appenders.
    #[arg(long, default_value_t = 8)]
    concurrency: u64,
    #[command(flatten)]
    config: ConfigFlags,
}

pub(crate) async fn run(args: SelftestArgs) -> anyhow::Result<()> {
    match args.mode {
        Mode::Write(args) => write(args).await,
        Mode::Verify(args) => verify(args).await,
    }
}

async fn open(args: &WorkloadArgs) -> anyhow::Result<streamhouse_engine::Engine> {
    let config = Config::load(args.config.config.as_deref(), &args.config)?;
    logging::init(&config.log);
    node::start_engine(&config, "127.0.0.1:9092").await
}

async fn write(args: WorkloadArgs) -> anyhow::Result<()> {
    let engine = open(&args).await?;
    match engine
        .create_topic(&args.topic, args.partitions, TopicConfig::default())
        .await
    {
        Ok(_) | Err(streamhouse_engine::Error::TopicExists(_)) => {}
        Err(e) => return Err(e).context("creating the selftest topic"),
    }
    // Each run uses fresh seeds, so batches from different runs are distinguishable.
    let run_base = u64::try_from(streamhouse_types::Clock::now_ms(
        &streamhouse_types::SystemClock,
    ))
    .unwrap_or_default()
        * 1_000_000;
    let acks = Arc::new(std::sync::Mutex::new(
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&args.ack_log)
            .with_context(|| format!("opening {}", args.ack_log.display()))?,
    ));
    let shutdown = crate::serve::shutdown_signal().context("installing signal handlers")?;
    println!("selftest writer ready");
    let tasks: Vec<_> = (0..args.concurrency)
        .map(|task| {
            let engine = engine.clone();
            let acks = Arc::clone(&acks);
            let topic = args.topic.clone();
            let (partitions, concurrency) = (args.partitions, args.concurrency);
            tokio::spawn(async move {
                let mut seed = run_base + task;
                loop {
                    let tp = TopicPartition::new(topic.as_str(), (seed % partitions as u64) as i32);
                    match engine.append(&tp, workload::selftest_batch(seed)).await {
                        Ok(outcome) => {
                            let line = format!("{} {} {seed}\n", tp.partition, outcome.base_offset);
                            let mut file = acks
                                .lock()
                                .unwrap_or_else(std::sync::PoisonError::into_inner);
                            if let Err(e) = file.write_all(line.as_bytes()) {
                                eprintln!("ack log write failed: {e}");
                                return;
                            }
                        }
                        Err(streamhouse_engine::Error::ShuttingDown) => return,
                        Err(e) => {
                            eprintln!("append failed: {e}");
                            tokio::time::sleep(Duration::from_millis(50)).await;
                        }
                    }
                    seed += concurrency;
                }
            })
        })
        .collect();
    shutdown.await;
    engine.shutdown(Duration::from_secs(30)).await;
    for task in tasks {
        let _ = task.await;
    }
    println!("selftest writer stopped cleanly");
    Ok(())
}

async fn verify(args: WorkloadArgs) -> anyhow::Result<()> {
    let engine = open(&args).await?;
    let text = std::fs::read_to_string(&args.ack_log)
        .with_context(|| format!("reading {}", args.ack_log.display()))?;
    let mut acked: HashMap<(i32, i64), u64> = HashMap::new();
    // A line cut short by kill -9 has no newline: it was never complete, so skip it.
    for line in text.split_inclusive('\n').filter(|l| l.ends_with('\n')) {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let [partition, offset, seed] = fields.as_slice() else {
            bail!("malformed ack line {line:?}");
        };
        acked.insert((partition.parse()?, offset.parse()?), seed.parse()?);
    }

    let mut stored_batches = 0usize;
    let mut verified = 0usize;
    for partition in 0..args.partitions {
        let tp = TopicPartition::new(args.topic.as_str(), partition);
        let mut offset = 0;
        loop {
            let read = engine
                .read(&tp, offset, 1 << 20)
                .await
                .with_context(|| format!("reading {tp} at {offset}"))?;
            if read.is_empty() {
                ensure!(
                    offset == read.high_watermark,
                    "{tp}: reads stopped at {offset} below hw {}",
                    read.high_watermark
                );
                break;
            }
            let bytes: Bytes = read.concat();
            for item in batches(&bytes) {
                let (header, batch) =
                    item.with_context(|| format!("{tp}: malformed stored batch near {offset}"))?;
                header
                    .validate(&batch)
                    .with_context(|| format!("{tp}: invalid batch at {}", header.base_offset))?;
                ensure!(
                    header.base_offset == offset,
                    "{tp}: gap or overlap: batch at {} where {offset} expected",
                    header.base_offset
                );
                let seed = header.base_timestamp as u64;
                let expected = workload::selftest_batch(seed);
                ensure!(
                    batch[8..] == expected[8..],
                    "{tp}: batch at {offset} is not the batch with seed {seed} the writer sent"
                );
                if let Some(acked_seed) = acked.remove(&(partition, offset)) {
                    ensure!(
                        acked_seed == seed,
                        "{tp}: offset {offset} holds seed {seed}, but seed {acked_seed} was acknowledged there"
                    );
                    verified += 1;
                }
                stored_batches += 1;
                offset = BatchHeader::last_offset(&header) + 1;
            }
        }
    }
    let verified_acks = verified;
    if !acked.is_empty() {
        let mut missing: Vec<_> = acked.into_iter().collect();
        missing.sort();
        bail!(
            "{} acknowledged batches are missing, e.g. {:?}",
            missing.len(),
            &missing[..missing.len().min(5)]
        );
    }
    engine.shutdown(Duration::from_secs(10)).await;
    println!(
        "{}",
        serde_json::json!({"acknowledged": verified_acks, "stored_batches": stored_batches, "ok": true})
    );
    Ok(())
}
