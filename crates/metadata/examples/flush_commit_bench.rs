//! How long one flush commit takes on a file-backed SQLite store, by partitions per flush.
//!
//! ```sh
//! cargo run --release -p streamhouse-metadata --example flush_commit_bench -- 1000 100
//! ```
//! Arguments: partitions per flush (default 1,000) and flushes (default 100). Prints the
//! median, p90 and maximum commit time. Every commit is durable (`synchronous=FULL`).

use std::time::Instant;

use streamhouse_metadata::{MetadataStore, PartitionCommit, SegmentRef, SqliteStore, TopicConfig};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let partitions: i32 = args.next().map_or(Ok(1_000), |a| a.parse())?;
    let flushes: i64 = args.next().map_or(Ok(100), |a| a.parse())?;
    let dir = tempfile::tempdir()?;
    let store =
        SqliteStore::connect(&format!("sqlite://{}/meta.db", dir.path().display()), 4).await?;
    let topic = store
        .create_topic("bench", partitions, &TopicConfig::default(), 0)
        .await?;
    let mut leases = Vec::new();
    for partition in 0..partitions {
        let (lease, _) = store
            .acquire_lease(topic.id, partition, "bench", 0, i64::MAX / 2)
            .await?
            .ok_or_else(|| anyhow::anyhow!("lease refused"))?;
        leases.push(lease);
    }
    let mut millis = Vec::new();
    for flush in 0..flushes {
        let key = format!("bench/{flush:08}.seg");
        let commits: Vec<PartitionCommit> = leases
            .iter()
            .map(|&lease| PartitionCommit {
                lease,
                segment: SegmentRef {
                    base_offset: flush,
                    last_offset: flush,
                    max_timestamp: flush,
                    object_key: key.clone(),
                    byte_offset: i64::from(lease.partition) * 100,
                    byte_length: 100,
                    record_count: 1,
                },
                producers: Vec::new(),
            })
            .collect();
        let started = Instant::now();
        store.commit_flush(&commits).await?;
        millis.push(started.elapsed().as_secs_f64() * 1e3);
    }
    millis.sort_by(f64::total_cmp);
    let at = |q: f64| millis[((millis.len() - 1) as f64 * q) as usize];
    println!(
        "{partitions} partitions per flush, {flushes} flushes: commit median {:.1} ms, p90 {:.1} ms, max {:.1} ms",
        at(0.5),
        at(0.9),
        at(1.0)
    );
    Ok(())
}
