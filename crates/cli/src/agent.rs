//! `streamhouse agent list`.

use clap::Subcommand;

use crate::api::AgentView;
use crate::client::{Client, ServerArgs};
use crate::error::Result;
use crate::output::{self, Output, OutputArgs, Table};

/// `streamhouse agent ...`
#[derive(Debug, clap::Args)]
pub struct AgentArgs {
    #[command(flatten)]
    server: ServerArgs,
    #[command(flatten)]
    output: OutputArgs,
    #[command(subcommand)]
    command: AgentCommand,
}

#[derive(Debug, Subcommand)]
enum AgentCommand {
    /// List agents: address, liveness, uptime and the partitions each leads.
    List,
}

pub(crate) async fn run(args: AgentArgs) -> Result<()> {
    let client = Client::new(&args.server)?;
    match args.command {
        AgentCommand::List => {
            let reply = client.get::<Vec<AgentView>>(&["agents"], &[]).await?;
            if args.output.output == Output::Json {
                return output::print_json(&reply.raw);
            }
            let mut table =
                Table::new(&["AGENT", "ADDRESS", "RACK", "STATUS", "UPTIME", "PARTITIONS"]);
            for a in reply.body {
                table.row(vec![
                    a.agent_id,
                    a.address,
                    output::or_dash(a.rack),
                    a.status,
                    output::duration_ms(a.uptime_ms),
                    a.partitions.to_string(),
                ]);
            }
            output::print(&table.render())
        }
    }
}
