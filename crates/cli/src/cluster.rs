//! `streamhouse cluster info`.

use clap::Subcommand;

use crate::api::Overview;
use crate::client::{Client, ServerArgs};
use crate::error::Result;
use crate::output::{self, Output, OutputArgs};

/// `streamhouse cluster ...`
#[derive(Debug, clap::Args)]
pub struct ClusterArgs {
    #[command(flatten)]
    server: ServerArgs,
    #[command(flatten)]
    output: OutputArgs,
    #[command(subcommand)]
    command: ClusterCommand,
}

#[derive(Debug, Subcommand)]
enum ClusterCommand {
    /// Topics, partitions, records, agents and groups, and the agent answering.
    Info,
}

pub(crate) async fn run(args: ClusterArgs) -> Result<()> {
    let client = Client::new(&args.server)?;
    match args.command {
        ClusterCommand::Info => {
            let reply = client.get::<Overview>(&["cluster"], &[]).await?;
            if args.output.output == Output::Json {
                return output::print_json(&reply.raw);
            }
            let o = reply.body;
            output::print(&output::fields(&[
                ("agents", format!("{} live of {}", o.live_agents, o.agents)),
                ("topics", o.topics.to_string()),
                ("partitions", o.partitions.to_string()),
                ("records", o.records.to_string()),
                ("consumer groups", o.consumer_groups.to_string()),
                (
                    "answered by",
                    format!("{} (version {})", o.agent_id, o.version),
                ),
            ]))
        }
    }
}
