//! `streamhouse-kafka-bench`: drives a running StreamHouse agent (or any Kafka-compatible
//! broker) with librdkafka and prints throughput and latency figures.
//!
//! ```text
//! streamhouse-kafka-bench --bootstrap 127.0.0.1:9092 produce --records 2000000 --record-size 100
//! streamhouse-kafka-bench --bootstrap 127.0.0.1:9092 consume --records 2000000
//! streamhouse-kafka-bench --bootstrap 127.0.0.1:9092 e2e --rate 20000 --seconds 20
//! ```

use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use hdrhistogram::Histogram;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::Message;
use rdkafka::producer::{BaseProducer, BaseRecord, DeliveryResult, Producer, ProducerContext};
use rdkafka::{ClientContext, Offset, TopicPartitionList};

/// Benchmarks a Kafka-compatible broker with librdkafka.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    /// Bootstrap servers.
    #[arg(long, default_value = "127.0.0.1:9092")]
    bootstrap: String,
    /// Extra librdkafka settings as KEY=VALUE (repeatable), e.g. compression.type=lz4.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    settings: Vec<String>,
    #[command(subcommand)]
    scenario: Scenario,
}

#[derive(Debug, Subcommand)]
enum Scenario {
    /// Produce records as fast as possible (acks=all) and report throughput and ack latency.
    Produce {
        #[arg(long, default_value = "bench")]
        topic: String,
        #[arg(long, default_value_t = 6)]
        partitions: i32,
        #[arg(long, default_value_t = 2_000_000)]
        records: u64,
        #[arg(long, default_value_t = 100)]
        record_size: usize,
        #[arg(long, default_value_t = 5)]
        linger_ms: u64,
    },
    /// Consume records from the start of every partition and report throughput.
    Consume {
        #[arg(long, default_value = "bench")]
        topic: String,
        #[arg(long, default_value_t = 2_000_000)]
        records: u64,
    },
    /// Produce at a fixed rate while consuming with default fetch settings; report the
    /// end-to-end latency (send to receive) percentiles.
    E2e {
        #[arg(long, default_value = "bench-e2e")]
        topic: String,
        #[arg(long, default_value_t = 6)]
        partitions: i32,
        #[arg(long, default_value_t = 20_000)]
        rate: u64,
        #[arg(long, default_value_t = 20)]
        seconds: u64,
        #[arg(long, default_value_t = 100)]
        record_size: usize,
    },
}

/// Records each delivery's ack latency.
struct LatencyContext {
    acks: Mutex<Histogram<u64>>,
    failed: std::sync::atomic::AtomicU64,
}

impl ClientContext for LatencyContext {}

impl ProducerContext for LatencyContext {
    type DeliveryOpaque = Box<Instant>;

    fn delivery(&self, result: &DeliveryResult<'_>, sent: Self::DeliveryOpaque) {
        if result.is_err() {
            self.failed
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            return;
        }
        let micros = sent.elapsed().as_micros() as u64;
        if let Ok(mut h) = self.acks.lock() {
            let _ = h.record(micros.max(1));
        }
    }
}

fn config(cli: &Cli) -> anyhow::Result<ClientConfig> {
    let mut config = ClientConfig::new();
    config.set("bootstrap.servers", &cli.bootstrap);
    for setting in &cli.settings {
        let (k, v) = setting
            .split_once('=')
            .with_context(|| format!("{setting:?} is not KEY=VALUE"))?;
        config.set(k, v);
    }
    Ok(config)
}

fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 600_000_000, 3).expect("invariant: valid histogram bounds")
}

fn ms(micros: u64) -> f64 {
    micros as f64 / 1000.0
}

async fn ensure_topic(cli: &Cli, topic: &str, partitions: i32) -> anyhow::Result<()> {
    let admin: AdminClient<DefaultClientContext> = config(cli)?.create()?;
    let results = admin
        .create_topics(
            &[NewTopic::new(topic, partitions, TopicReplication::Fixed(1))],
            &AdminOptions::new(),
        )
        .await?;
    for result in results {
        match result {
            Ok(_) | Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((name, code)) => bail!("creating {name}: {code}"),
        }
    }
    Ok(())
}

fn produce(
    cli: &Cli,
    topic: &str,
    records: u64,
    record_size: usize,
    linger_ms: u64,
) -> anyhow::Result<()> {
    let producer: BaseProducer<LatencyContext> = config(cli)?
        .set("acks", "all")
        .set("linger.ms", linger_ms.to_string())
        .set("queue.buffering.max.messages", "1000000")
        .create_with_context(LatencyContext {
            acks: Mutex::new(histogram()),
            failed: Default::default(),
        })?;
    let payload = vec![b'x'; record_size];
    let started = Instant::now();
    for i in 0..records {
        let key = i.to_be_bytes();
        let mut record = BaseRecord::with_opaque_to(topic, Box::new(Instant::now()))
            .payload(&payload[..])
            .key(&key[..]);
        loop {
            match producer.send(record) {
                Ok(()) => break,
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                    record = back;
                    producer.poll(Duration::from_millis(1));
                }
                Err((error, _)) => bail!("produce failed: {error}"),
            }
        }
        if i % 1024 == 0 {
            producer.poll(Duration::ZERO);
        }
    }
    producer.flush(Duration::from_secs(120))?;
    let elapsed = started.elapsed().as_secs_f64();
    let context = producer.context();
    let acks = context
        .acks
        .lock()
        .map_err(|_| anyhow::anyhow!("poisoned"))?;
    let failed = context.failed.load(std::sync::atomic::Ordering::Relaxed);
    println!(
        "produce: {records} records of {record_size} B in {elapsed:.2} s: {:.0} records/s, {:.1} MB/s; ack latency p50 {:.1} ms, p99 {:.1} ms, p999 {:.1} ms; {failed} failed",
        records as f64 / elapsed,
        (records as f64 * record_size as f64) / elapsed / 1e6,
        ms(acks.value_at_quantile(0.5)),
        ms(acks.value_at_quantile(0.99)),
        ms(acks.value_at_quantile(0.999)),
    );
    if failed > 0 {
        bail!("{failed} records were not acknowledged");
    }
    Ok(())
}

fn assign_all(consumer: &BaseConsumer, topic: &str, offset: Offset) -> anyhow::Result<()> {
    let metadata = consumer.fetch_metadata(Some(topic), Duration::from_secs(10))?;
    let mut assignment = TopicPartitionList::new();
    for t in metadata.topics() {
        for p in t.partitions() {
            assignment.add_partition_offset(topic, p.id(), offset)?;
        }
    }
    consumer.assign(&assignment)?;
    Ok(())
}

fn consume(cli: &Cli, topic: &str, records: u64) -> anyhow::Result<()> {
    let consumer: BaseConsumer = config(cli)?
        .set("group.id", "streamhouse-kafka-bench")
        .set("enable.auto.commit", "false")
        .create()?;
    assign_all(&consumer, topic, Offset::Beginning)?;
    let mut count = 0u64;
    let mut bytes = 0u64;
    let started = Instant::now();
    while count < records {
        match consumer.poll(Duration::from_secs(10)) {
            Some(Ok(message)) => {
                count += 1;
                bytes += message.payload_len() as u64;
            }
            Some(Err(error)) => bail!("consume failed: {error}"),
            None => bail!("no record for 10 s after {count} of {records}"),
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    println!(
        "consume: {count} records in {elapsed:.2} s: {:.0} records/s, {:.1} MB/s",
        count as f64 / elapsed,
        bytes as f64 / elapsed / 1e6
    );
    Ok(())
}

fn now_micros() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64)
}

fn e2e(cli: &Cli, topic: &str, rate: u64, seconds: u64, record_size: usize) -> anyhow::Result<()> {
    let consumer: BaseConsumer = config(cli)?
        .set("group.id", "streamhouse-kafka-bench")
        .set("enable.auto.commit", "false")
        .create()?;
    assign_all(&consumer, topic, Offset::End)?;
    let total = rate * seconds;
    let mut producer_config = config(cli)?;
    let record_size = record_size.max(8);
    let topic_name = topic.to_owned();
    let producer_thread = std::thread::spawn(move || -> anyhow::Result<()> {
        // librdkafka's defaults, as the latency target is stated for default client settings.
        let producer: BaseProducer = producer_config.set("acks", "all").create()?;
        let started = Instant::now();
        let mut payload = vec![b'x'; record_size];
        for i in 0..total {
            let due = started + Duration::from_secs_f64(i as f64 / rate as f64);
            if let Some(wait) = due.checked_duration_since(Instant::now()) {
                producer.poll(wait);
            }
            payload[..8].copy_from_slice(&now_micros().to_be_bytes());
            let key = i.to_be_bytes();
            producer
                .send(
                    BaseRecord::to(&topic_name)
                        .payload(&payload[..])
                        .key(&key[..]),
                )
                .map_err(|(e, _)| e)?;
        }
        producer.flush(Duration::from_secs(60))?;
        Ok(())
    });
    let mut latencies = histogram();
    let mut received = 0u64;
    while received < total {
        match consumer.poll(Duration::from_secs(10)) {
            Some(Ok(message)) => {
                if let Some(payload) = message.payload().filter(|p| p.len() >= 8) {
                    let sent = u64::from_be_bytes(payload[..8].try_into().expect("8 bytes"));
                    let _ = latencies.record(now_micros().saturating_sub(sent).max(1));
                }
                received += 1;
            }
            Some(Err(error)) => bail!("consume failed: {error}"),
            None => bail!("no record for 10 s after {received} of {total}"),
        }
    }
    producer_thread
        .join()
        .map_err(|_| anyhow::anyhow!("producer panicked"))??;
    println!(
        "e2e: {total} records at {rate}/s for {seconds} s: latency p50 {:.1} ms, p99 {:.1} ms, p999 {:.1} ms, max {:.1} ms",
        ms(latencies.value_at_quantile(0.5)),
        ms(latencies.value_at_quantile(0.99)),
        ms(latencies.value_at_quantile(0.999)),
        ms(latencies.max()),
    );
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match &cli.scenario {
        Scenario::Produce {
            topic,
            partitions,
            records,
            record_size,
            linger_ms,
        } => {
            ensure_topic(&cli, topic, *partitions).await?;
            produce(&cli, topic, *records, *record_size, *linger_ms)
        }
        Scenario::Consume { topic, records } => consume(&cli, topic, *records),
        Scenario::E2e {
            topic,
            partitions,
            rate,
            seconds,
            record_size,
        } => {
            ensure_topic(&cli, topic, *partitions).await?;
            e2e(&cli, topic, *rate, *seconds, *record_size)
        }
    }
}
