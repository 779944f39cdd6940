//! The scenarios, each against a running broker: produce as fast as possible, consume
//! from the start, and end-to-end latency at a fixed rate. Each returns its figures.

use std::fmt;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::bail;
use hdrhistogram::Histogram;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::Message;
use rdkafka::producer::{
    BaseProducer, BaseRecord, DeliveryResult, Producer, ProducerContext, ThreadedProducer,
};
use rdkafka::{ClientContext, Offset, TopicPartitionList};

/// Records each delivery's ack latency. A record carries its send time as its delivery
/// opaque, in microseconds since `started` (a plain integer: a boxed `Instant` per record
/// cost the client a heap allocation and free per record, about a tenth of its CPU, and
/// the client shares the machine with the broker it measures).
struct LatencyContext {
    started: Instant,
    acks: Mutex<Histogram<u64>>,
    failed: std::sync::atomic::AtomicU64,
}

impl LatencyContext {
    fn new() -> Self {
        Self {
            started: Instant::now(),
            acks: Mutex::new(histogram()),
            failed: Default::default(),
        }
    }

    /// Now, as a delivery opaque.
    fn now_micros(&self) -> usize {
        self.started.elapsed().as_micros() as usize
    }
}

impl ClientContext for LatencyContext {}

impl ProducerContext for LatencyContext {
    type DeliveryOpaque = usize;

    fn delivery(&self, result: &DeliveryResult<'_>, sent_micros: Self::DeliveryOpaque) {
        if result.is_err() {
            self.failed
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            return;
        }
        let micros = self.now_micros().saturating_sub(sent_micros) as u64;
        if let Ok(mut h) = self.acks.lock() {
            let _ = h.record(micros.max(1));
        }
    }
}

fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 600_000_000, 3).expect("invariant: valid histogram bounds")
}

fn ms(micros: u64) -> f64 {
    micros as f64 / 1000.0
}

/// Creates `topic` with `partitions` unless it exists.
pub(crate) async fn ensure_topics(
    config: &ClientConfig,
    topics: &[String],
    partitions: i32,
) -> anyhow::Result<()> {
    let admin: AdminClient<DefaultClientContext> = config.create()?;
    let new: Vec<NewTopic<'_>> = topics
        .iter()
        .map(|t| NewTopic::new(t, partitions, TopicReplication::Fixed(1)))
        .collect();
    for chunk in new.chunks(50) {
        for result in admin.create_topics(chunk, &AdminOptions::new()).await? {
            match result {
                Ok(_) | Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
                Err((name, code)) => bail!("creating {name}: {code}"),
            }
        }
    }
    wait_for_leaders(config, topics)
}

/// Waits until every partition of `topics` has a leader, so a run measures the broker
/// at work rather than partitions being taken.
fn wait_for_leaders(config: &ClientConfig, topics: &[String]) -> anyhow::Result<()> {
    let consumer = consumer(config)?;
    let deadline = Instant::now() + Duration::from_secs(60);
    for topic in topics {
        loop {
            let metadata = consumer.fetch_metadata(Some(topic), Duration::from_secs(10))?;
            let led = metadata.topics().iter().all(|t| {
                !t.partitions().is_empty() && t.partitions().iter().all(|p| p.leader() >= 0)
            });
            if led {
                break;
            }
            if Instant::now() > deadline {
                bail!("partitions of {topic} have no leader after 60 s");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    Ok(())
}

/// What a produce run measured.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Produced {
    pub(crate) records: u64,
    pub(crate) record_size: usize,
    pub(crate) seconds: f64,
    pub(crate) ack_p50_ms: f64,
    pub(crate) ack_p99_ms: f64,
    pub(crate) ack_p999_ms: f64,
}

impl Produced {
    pub(crate) fn records_per_sec(&self) -> f64 {
        self.records as f64 / self.seconds
    }

    pub(crate) fn mb_per_sec(&self) -> f64 {
        self.records as f64 * self.record_size as f64 / self.seconds / 1e6
    }
}

impl fmt::Display for Produced {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "produce: {} records of {} B in {:.2} s: {:.0} records/s, {:.1} MB/s; ack latency p50 {:.1} ms, p99 {:.1} ms, p999 {:.1} ms; 0 failed",
            self.records,
            self.record_size,
            self.seconds,
            self.records_per_sec(),
            self.mb_per_sec(),
            self.ack_p50_ms,
            self.ack_p99_ms,
            self.ack_p999_ms
        )
    }
}

/// Produces `records` records of `record_size` bytes to `topic` as fast as the client
/// can (acks=all), from `producers` clients at once (one connection each). Fails if any
/// record is not acknowledged.
pub(crate) fn produce(
    config: &ClientConfig,
    topic: &str,
    records: u64,
    record_size: usize,
    linger_ms: u64,
    producers: u64,
) -> anyhow::Result<Produced> {
    let producers = producers.max(1);
    let started = Instant::now();
    let workers: Vec<_> = (0..producers)
        .map(|n| {
            let mut config = config.clone();
            let topic = topic.to_owned();
            let share = records / producers + u64::from(n < records % producers);
            std::thread::spawn(move || {
                produce_share(&mut config, &topic, share, record_size, linger_ms)
            })
        })
        .collect();
    let mut acks = histogram();
    for worker in workers {
        let share = worker
            .join()
            .map_err(|_| anyhow::anyhow!("a producer thread panicked"))??;
        acks.add(&share)?;
    }
    let seconds = started.elapsed().as_secs_f64();
    Ok(Produced {
        records,
        record_size,
        seconds,
        ack_p50_ms: ms(acks.value_at_quantile(0.5)),
        ack_p99_ms: ms(acks.value_at_quantile(0.99)),
        ack_p999_ms: ms(acks.value_at_quantile(0.999)),
    })
}

fn produce_share(
    config: &mut ClientConfig,
    topic: &str,
    records: u64,
    record_size: usize,
    linger_ms: u64,
) -> anyhow::Result<Histogram<u64>> {
    let producer: BaseProducer<LatencyContext> = config
        .set("acks", "all")
        .set("linger.ms", linger_ms.to_string())
        .set("queue.buffering.max.messages", "1000000")
        .create_with_context(LatencyContext::new())?;
    let payload = vec![b'x'; record_size];
    for i in 0..records {
        let key = i.to_be_bytes();
        let sent = producer.context().now_micros();
        let mut record = BaseRecord::with_opaque_to(topic, sent)
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
    let context = producer.context();
    let failed = context.failed.load(std::sync::atomic::Ordering::Relaxed);
    if failed > 0 {
        bail!("{failed} records were not acknowledged");
    }
    let acks = context
        .acks
        .lock()
        .map_err(|_| anyhow::anyhow!("poisoned"))?
        .clone();
    Ok(acks)
}

/// Assigns every partition of `topics`. `Offset::End` is resolved here to each
/// partition's high watermark: librdkafka resolves it only at the first fetch, and
/// records produced before that would be skipped.
fn assign_all(consumer: &BaseConsumer, topics: &[String], offset: Offset) -> anyhow::Result<()> {
    let mut assignment = TopicPartitionList::new();
    for topic in topics {
        let metadata = consumer.fetch_metadata(Some(topic), Duration::from_secs(10))?;
        for t in metadata.topics() {
            for p in t.partitions() {
                let at = match offset {
                    Offset::End => {
                        let (_, high) =
                            consumer.fetch_watermarks(topic, p.id(), Duration::from_secs(10))?;
                        Offset::Offset(high)
                    }
                    other => other,
                };
                assignment.add_partition_offset(topic, p.id(), at)?;
            }
        }
    }
    consumer.assign(&assignment)?;
    Ok(())
}

fn consumer(config: &ClientConfig) -> anyhow::Result<BaseConsumer> {
    Ok(config
        .clone()
        .set("group.id", "streamhouse-kafka-bench")
        .set("enable.auto.commit", "false")
        .create()?)
}

/// What a consume run measured.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Consumed {
    pub(crate) records: u64,
    pub(crate) bytes: u64,
    pub(crate) seconds: f64,
}

impl Consumed {
    pub(crate) fn records_per_sec(&self) -> f64 {
        self.records as f64 / self.seconds
    }
}

impl fmt::Display for Consumed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "consume: {} records in {:.2} s: {:.0} records/s, {:.1} MB/s",
            self.records,
            self.seconds,
            self.records_per_sec(),
            self.bytes as f64 / self.seconds / 1e6
        )
    }
}

/// librdkafka stops fetching a partition whose local queue holds `queued.min.messages`
/// (100,000) and retries only after `fetch.queue.backoff.ms`, 1,000 ms by default. Reading
/// a backlog from a broker that answers faster than the application drains, that pause
/// fires in about one run in three and leaves the client idle for most of a second: 2 M
/// records took 1.0 s or 2.0 s against the same agent. Consuming, not waiting out that
/// timer, is what the scenario measures, so it retries after 10 ms unless `--set` says
/// otherwise (`--set fetch.queue.backoff.ms=1000` restores the default).
const QUEUE_BACKOFF: &str = "fetch.queue.backoff.ms";
const QUEUE_BACKOFF_MS: u32 = 10;

/// Reads `records` records from the start of every partition of `topic`.
pub(crate) fn consume(
    config: &ClientConfig,
    topic: &str,
    records: u64,
) -> anyhow::Result<Consumed> {
    let mut config = config.clone();
    if config.get(QUEUE_BACKOFF).is_none() {
        config.set(QUEUE_BACKOFF, QUEUE_BACKOFF_MS.to_string());
    }
    let consumer = consumer(&config)?;
    assign_all(&consumer, &[topic.to_owned()], Offset::Beginning)?;
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
    Ok(Consumed {
        records: count,
        bytes,
        seconds: started.elapsed().as_secs_f64(),
    })
}

fn now_micros() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64)
}

/// What an end-to-end run measured (send to receive).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Latency {
    pub(crate) records: u64,
    pub(crate) rate: u64,
    pub(crate) seconds: u64,
    pub(crate) p50_ms: f64,
    pub(crate) p99_ms: f64,
    pub(crate) p999_ms: f64,
    pub(crate) max_ms: f64,
}

impl fmt::Display for Latency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "e2e: {} records at {}/s for {} s: latency p50 {:.1} ms, p99 {:.1} ms, p999 {:.1} ms, max {:.1} ms",
            self.records,
            self.rate,
            self.seconds,
            self.p50_ms,
            self.p99_ms,
            self.p999_ms,
            self.max_ms
        )
    }
}

/// Produces `rate` records/s for `seconds`, round robin over `topics`, with librdkafka's
/// default settings (the latency target is stated for them), while one consumer reads
/// every partition from the end.
pub(crate) fn e2e(
    config: &ClientConfig,
    topics: &[String],
    rate: u64,
    seconds: u64,
    record_size: usize,
) -> anyhow::Result<Latency> {
    let consumer = consumer(config)?;
    assign_all(&consumer, topics, Offset::End)?;
    let total = rate * seconds;
    let mut producer_config = config.clone();
    let record_size = record_size.max(8);
    let topic_names = topics.to_vec();
    let producer_thread = std::thread::spawn(move || -> anyhow::Result<()> {
        // Delivery reports are served by the producer's own polling thread, which blocks
        // between them. The pacing below sleeps. It does not call `producer.poll(wait)`:
        // librdkafka waits in whole milliseconds, and the rdkafka crate polls again until
        // the deadline. Every wait at 20,000 records/s is under a millisecond, so that loop
        // spun a core reading the clock. On two cores it took CPU the agent needed.
        let producer: ThreadedProducer<_> = producer_config.set("acks", "all").create()?;
        let started = Instant::now();
        let mut payload = vec![b'x'; record_size];
        for i in 0..total {
            let due = started + Duration::from_secs_f64(i as f64 / rate as f64);
            if let Some(wait) = due.checked_duration_since(Instant::now()) {
                std::thread::sleep(wait);
            }
            payload[..8].copy_from_slice(&now_micros().to_be_bytes());
            let key = i.to_be_bytes();
            let topic = &topic_names[(i % topic_names.len() as u64) as usize];
            producer
                .send(BaseRecord::to(topic).payload(&payload[..]).key(&key[..]))
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
                if let Some(sent) = message
                    .payload()
                    .and_then(|p| p.get(..8))
                    .and_then(|p| <[u8; 8]>::try_from(p).ok())
                {
                    let sent = u64::from_be_bytes(sent);
                    let _ = latencies.record(now_micros().saturating_sub(sent).max(1));
                }
                received += 1;
            }
            Some(Err(error)) => bail!("consume failed: {error}"),
            // The producer's own failure, if it stopped, says more than the silence.
            None if producer_thread.is_finished() => {
                producer_thread
                    .join()
                    .map_err(|_| anyhow::anyhow!("producer panicked"))??;
                bail!("no record for 10 s after {received} of {total}, all of them produced");
            }
            None => bail!("no record for 10 s after {received} of {total}"),
        }
    }
    producer_thread
        .join()
        .map_err(|_| anyhow::anyhow!("producer panicked"))??;
    Ok(Latency {
        records: total,
        rate,
        seconds,
        p50_ms: ms(latencies.value_at_quantile(0.5)),
        p99_ms: ms(latencies.value_at_quantile(0.99)),
        p999_ms: ms(latencies.value_at_quantile(0.999)),
        max_ms: ms(latencies.max()),
    })
}
