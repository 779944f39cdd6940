//! The `streamhouse` command line for a running cluster: `topic`, `produce`, `consume`,
//! `group`, `agent`, `cluster` and `completions`.
//!
//! Layer: a client of the REST admin API only (`/api/v1`, served by `admin-api`); it
//! imports none of the broker's crates, so what it can do is exactly what the HTTP
//! surface offers. The binary (`agent`) adds [`Command`] to its subcommands and calls
//! [`run`]. One module per command group, a small typed HTTP client in `client`, and
//! tables or pretty JSON (`--output json`, the server's JSON for scripts) in `output`.
//!
//! ```no_run
//! use clap::Parser;
//!
//! #[derive(Debug, Parser)]
//! struct Cli {
//!     #[command(subcommand)]
//!     command: streamhouse_cli::Command,
//! }
//!
//! # async fn example() -> Result<(), streamhouse_cli::Error> {
//! // Against an agent started with `streamhouse serve` (HTTP on 127.0.0.1:8080).
//! let cli = Cli::parse_from(["streamhouse", "topic", "create", "orders", "--partitions", "3"]);
//! streamhouse_cli::run(cli.command).await?;
//! # Ok(())
//! # }
//! ```
#![warn(missing_docs)]

mod agent;
mod api;
mod client;
mod cluster;
mod consume;
mod error;
mod group;
mod output;
mod produce;
mod topic;

use std::io::Write;

use clap::Subcommand;

pub use agent::AgentArgs;
pub use client::ServerArgs;
pub use cluster::ClusterArgs;
pub use consume::ConsumeArgs;
pub use error::{Error, Result};
pub use group::GroupArgs;
pub use output::OutputArgs;
pub use produce::ProduceArgs;
pub use topic::TopicArgs;

/// The commands that talk to a running cluster.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create, list, describe, alter and delete topics.
    Topic(TopicArgs),
    /// Produce records from stdin or a file, one record per line.
    Produce(ProduceArgs),
    /// Print a topic's records, to the current end or (with --follow) as they arrive.
    Consume(ConsumeArgs),
    /// Consumer groups: list, describe, reset offsets, delete.
    Group(GroupArgs),
    /// The agents of the cluster.
    Agent(AgentArgs),
    /// The cluster at a glance.
    Cluster(ClusterArgs),
}

/// Runs one command against the cluster.
pub async fn run(command: Command) -> Result<()> {
    match command {
        Command::Topic(args) => topic::run(args).await,
        Command::Produce(args) => produce::run(args).await,
        Command::Consume(args) => consume::run(args).await,
        Command::Group(args) => group::run(args).await,
        Command::Agent(args) => agent::run(args).await,
        Command::Cluster(args) => cluster::run(args).await,
    }
}

/// `streamhouse completions <shell>`: a completion script for the whole binary.
#[derive(Debug, clap::Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    shell: clap_complete::Shell,
}

impl CompletionsArgs {
    /// Writes the completion script for `command` (the binary's whole command tree) to
    /// `out`.
    pub fn write(&self, command: &mut clap::Command, out: &mut dyn Write) -> Result<()> {
        let name = command.get_name().to_owned();
        let mut buffer = Vec::new();
        clap_complete::generate(self.shell, command, name, &mut buffer);
        out.write_all(&buffer)
            .and_then(|()| out.flush())
            .map_err(Error::Output)
    }
}

/// `KEY=VALUE` for `--config` and `--header`.
pub(crate) fn parse_key_value(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((key, value)) if !key.is_empty() => Ok((key.to_owned(), value.to_owned())),
        _ => Err(format!("expected KEY=VALUE, got {text:?}")),
    }
}
