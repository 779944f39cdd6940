//! `streamhouse-kafka-bench`: drives a running StreamHouse agent (or any Kafka-compatible
//! broker) with librdkafka and prints throughput and latency figures; `suite` starts
//! fresh agents itself and runs every scenario of the performance targets.
//!
//! ```text
//! streamhouse-kafka-bench --bootstrap 127.0.0.1:9092 produce --records 2000000 --record-size 100
//! streamhouse-kafka-bench --bootstrap 127.0.0.1:9092 consume --records 2000000
//! streamhouse-kafka-bench --bootstrap 127.0.0.1:9092 e2e --rate 20000 --seconds 20
//! streamhouse-kafka-bench suite --agent target/release/streamhouse --runs 3 [--s3]
//! ```

mod scenarios;
mod suite;

use anyhow::Context;
use clap::{Parser, Subcommand};
use rdkafka::config::ClientConfig;

/// Benchmarks a Kafka-compatible broker with librdkafka.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    /// Bootstrap servers (not used by `suite`, which starts its own agents).
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
        /// Producer clients (connections) sharing the records.
        #[arg(long, default_value_t = 1)]
        producers: u64,
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
    /// Start fresh agents and run scenarios (a)-(f), printing one table with the agent's
    /// CPU seconds, peak RSS and PUT rate.
    Suite(suite::SuiteArgs),
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

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let config = config(&cli)?;
    match &cli.scenario {
        Scenario::Produce {
            topic,
            partitions,
            records,
            record_size,
            linger_ms,
            producers,
        } => {
            scenarios::ensure_topics(&config, std::slice::from_ref(topic), *partitions).await?;
            let produced = scenarios::produce(
                &config,
                topic,
                *records,
                *record_size,
                *linger_ms,
                *producers,
            )?;
            println!("{produced}");
        }
        Scenario::Consume { topic, records } => {
            println!("{}", scenarios::consume(&config, topic, *records)?);
        }
        Scenario::E2e {
            topic,
            partitions,
            rate,
            seconds,
            record_size,
        } => {
            let topics = [topic.clone()];
            scenarios::ensure_topics(&config, &topics, *partitions).await?;
            println!(
                "{}",
                scenarios::e2e(&config, &topics, *rate, *seconds, *record_size)?
            );
        }
        Scenario::Suite(args) => {
            // The suite runs blocking clients and its own runtime for admin calls.
            let args = args.clone();
            tokio::task::spawn_blocking(move || suite::run(&args, &config)).await??;
        }
    }
    Ok(())
}
