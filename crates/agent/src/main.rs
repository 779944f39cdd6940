//! `streamhouse`: the one binary. `streamhouse serve` runs an agent; with no flags and no
//! config it is an embedded node keeping everything under `./streamhouse-data`.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod bench;
mod logging;
mod node;
mod selftest;
mod serve;
mod workload;

/// StreamHouse: an S3-native, Kafka-compatible streaming platform.
#[derive(Debug, Parser)]
#[command(name = "streamhouse", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run an agent (embedded by default: ./streamhouse-data, SQLite metadata, local objects).
    Serve(serve::ServeArgs),
    /// Measure append and read throughput of the log engine on this machine.
    Bench(bench::BenchArgs),
    /// Write or verify a deterministic workload (used by crash-safety tests).
    #[command(hide = true)]
    Selftest(selftest::SelftestArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Serve(args) => serve::run(args).await,
            Command::Bench(args) => bench::run(args).await,
            Command::Selftest(args) => selftest::run(args).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            if let Some(config_errors) = error.downcast_ref::<streamhouse_config::ConfigErrors>() {
                eprintln!("error: {config_errors}");
                return ExitCode::from(2);
            }
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
