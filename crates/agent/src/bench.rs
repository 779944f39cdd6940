//! `streamhouse bench`: append and read throughput of the log engine, in-process, on the
//! node the config describes (by default a fresh embedded node in a temp dir).
//!
//! Phases per record size: append (concurrent appenders, each append awaited until
//! durable), tail read (recent data from memory), cold read (a restarted engine reading
//! through the segment index and object store).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use bytes::Bytes;
use streamhouse_config::{Config, ConfigFlags};
use streamhouse_engine::Engine;
use streamhouse_metadata::TopicConfig;
use streamhouse_types::TopicPartition;

use crate::{logging, node, workload};

#[derive(Debug, clap::Args)]
pub(crate) struct BenchArgs {
    /// Record value sizes to measure, in bytes.
    #[arg(long, value_delimiter = ',', default_value = "100,1024")]
    record_sizes: Vec<usize>,
    /// Bytes of record values to append per record size.
    #[arg(long, default_value_t = 128 << 20)]
    total_bytes: usize,
    /// Bytes of record values per batch (as a producer's linger would build them).
    #[arg(long, default_value_t = 16 << 10)]
    batch_bytes: usize,
    /// Partitions of the benchmark topic.
    #[arg(long, default_value_t = 6)]
    partitions: i32,
    /// Appends in flight at once.
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
    /// Node configuration; without a data dir or URLs, a temp dir is used.
    #[command(flatten)]
    config: ConfigFlags,
}

struct Row {
    size: usize,
    records: u64,
    append: Duration,
    tail: Duration,
    cold: Duration,
    bytes: u64,
    puts: u64,
}

pub(crate) async fn run(args: BenchArgs) -> anyhow::Result<()> {
    let mut config = Config::load(args.config.config.as_deref(), &args.config)?;
    logging::init(&config.log);
    let scratch = tempfile::tempdir().context("creating a temp dir")?;
    if args.config.node_data_dir.is_none()
        && std::env::var_os("STREAMHOUSE_NODE__DATA_DIR").is_none()
    {
        config.node.data_dir = scratch.path().to_path_buf();
    }
    println!(
        "streamhouse bench: {} partitions, {} appends in flight, {} KiB batches, object store {}, metadata {}",
        args.partitions,
        args.concurrency,
        args.batch_bytes >> 10,
        config.redacted().object_store_url(),
        config.redacted().metadata_url(),
    );
    let mut rows = Vec::new();
    for &size in &args.record_sizes {
        rows.push(bench_size(&args, &config, size.max(1)).await?);
    }
    println!();
    println!(
        "| record size | records | append rec/s | append MB/s | tail read rec/s | tail read MB/s | cold read rec/s | cold read MB/s | objects PUT |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for row in rows {
        let rate = |d: Duration| row.records as f64 / d.as_secs_f64();
        let mbps = |d: Duration| row.bytes as f64 / d.as_secs_f64() / 1e6;
        println!(
            "| {} B | {} | {:.0} | {:.1} | {:.0} | {:.1} | {:.0} | {:.1} | {} |",
            row.size,
            row.records,
            rate(row.append),
            mbps(row.append),
            rate(row.tail),
            mbps(row.tail),
            rate(row.cold),
            mbps(row.cold),
            row.puts
        );
    }
    Ok(())
}

async fn bench_size(args: &BenchArgs, config: &Config, size: usize) -> anyhow::Result<Row> {
    let topic = format!("bench-{size}-{}", uuid::Uuid::new_v4().simple());
    let per_batch = (args.batch_bytes / size).max(1);
    let batches_total = (args.total_bytes / size).div_ceil(per_batch) as u64;
    // A pool of distinct batches, generated before timing starts.
    let pool: Arc<Vec<Bytes>> = Arc::new(
        (0..64)
            .map(|seed| workload::batch(seed, per_batch, size))
            .collect(),
    );
    let batch_len = pool[0].len() as u64;

    let engine = node::start_engine(config, "127.0.0.1:9092").await?;
    engine
        .create_topic(&topic, args.partitions, TopicConfig::default())
        .await?;
    let flushes_before = engine.stats().flushes.load(Ordering::Relaxed);
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let workers: Vec<_> = (0..args.concurrency)
        .map(|_| {
            let (engine, pool, next, topic) = (
                engine.clone(),
                Arc::clone(&pool),
                Arc::clone(&next),
                topic.clone(),
            );
            let partitions = args.partitions as u64;
            tokio::spawn(async move {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= batches_total {
                        return Ok::<_, streamhouse_engine::Error>(());
                    }
                    let tp = TopicPartition::new(topic.as_str(), (i % partitions) as i32);
                    engine.append(&tp, pool[(i % 64) as usize].clone()).await?;
                }
            })
        })
        .collect();
    for worker in workers {
        worker.await.context("appender panicked")??;
    }
    let append = started.elapsed();
    let puts = engine.stats().flushes.load(Ordering::Relaxed) - flushes_before;

    let tail = read_everything(&engine, &topic, args.partitions).await?;
    engine.shutdown(Duration::from_secs(30)).await;

    // A fresh engine has an empty tail and cache: every read goes to object storage.
    let engine = node::start_engine(config, "127.0.0.1:9092").await?;
    let cold = read_everything(&engine, &topic, args.partitions).await?;
    engine.delete_topic(&topic).await?;
    engine.shutdown(Duration::from_secs(30)).await;

    let records = batches_total * per_batch as u64;
    println!(
        "{size} B records: {records} appended in {:.2?}, tail read in {:.2?}, cold read in {:.2?}",
        append, tail.0, cold.0
    );
    anyhow::ensure!(
        tail.1 == records && cold.1 == records,
        "read back {} / {} of {records} records",
        tail.1,
        cold.1
    );
    Ok(Row {
        size,
        records,
        append,
        tail: tail.0,
        cold: cold.0,
        bytes: batches_total * batch_len,
        puts,
    })
}

/// Reads every partition from the start concurrently; returns the time and record count.
async fn read_everything(
    engine: &Engine,
    topic: &str,
    partitions: i32,
) -> anyhow::Result<(Duration, u64)> {
    let started = Instant::now();
    let readers: Vec<_> = (0..partitions)
        .map(|p| {
            let engine = engine.clone();
            let tp = TopicPartition::new(topic, p);
            tokio::spawn(async move {
                let mut offset = 0;
                loop {
                    let read = engine.read(&tp, offset, 1 << 20).await?;
                    if read.is_empty() {
                        return Ok::<_, streamhouse_engine::Error>(offset as u64);
                    }
                    for chunk in &read.chunks {
                        if let Some(Ok((header, _))) = streamhouse_records::batches(chunk).last() {
                            offset = header.last_offset() + 1;
                        }
                    }
                }
            })
        })
        .collect();
    let mut records = 0;
    for reader in readers {
        records += reader.await.context("reader panicked")??;
    }
    Ok((started.elapsed(), records))
}
