//! `streamhouse`: the one binary. `streamhouse serve` runs an agent; with no flags and no
//! config it is an embedded node keeping everything under `./streamhouse-data`. The
//! client commands (`topic`, `produce`, `consume`, `group`, `agent`, `cluster`) live in
//! `streamhouse-cli` and talk to an agent over its REST API.

use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};

/// jemalloc keeps freed memory for reuse and hands it back to the OS gradually (its
/// dirty-page decay, about ten seconds, runs as the agent allocates).
/// Produce requests of 64 KiB and more live on as the blocks of the next object and then
/// of the in-memory tail, so each one takes a fresh buffer; glibc's allocator served those
/// from memory it had just returned to the OS, and every buffer paid page faults again.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

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
    #[command(flatten)]
    Client(streamhouse_cli::Command),
    /// Print a shell completion script (e.g. `streamhouse completions bash`).
    Completions(streamhouse_cli::CompletionsArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(args) => agent_exit(serve::main(args)),
        Command::Bench(args) => {
            agent_exit(runtime(None).and_then(|r| r.block_on(bench::run(args))))
        }
        Command::Selftest(args) => {
            agent_exit(runtime(None).and_then(|r| r.block_on(selftest::run(args))))
        }
        Command::Client(command) => match runtime(None) {
            Ok(runtime) => client_exit(runtime.block_on(streamhouse_cli::run(command))),
            Err(error) => agent_exit(Err(error)),
        },
        Command::Completions(args) => {
            client_exit(args.write(&mut Cli::command(), &mut std::io::stdout()))
        }
    }
}

/// The multi-threaded runtime, with `worker_threads` workers (tokio's default, one per
/// CPU, if `None`).
pub(crate) fn runtime(worker_threads: Option<usize>) -> anyhow::Result<tokio::runtime::Runtime> {
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    if let Some(threads) = worker_threads {
        builder.worker_threads(threads);
    }
    builder
        .enable_all()
        .build()
        .map_err(|error| anyhow::anyhow!("cannot start the async runtime: {error}"))
}

/// The exit of `serve`, `bench` and `selftest`: config errors are usage errors (2).
fn agent_exit(result: anyhow::Result<()>) -> ExitCode {
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

/// The exit of a client command: 1 (2 for usage errors) with the error on stderr; a
/// closed stdout (`streamhouse consume t | head`) is a normal end.
fn client_exit(result: streamhouse_cli::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) if error.is_broken_pipe() => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::from(error.exit_code())
        }
    }
}
