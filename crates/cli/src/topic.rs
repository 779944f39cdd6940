//! `streamhouse topic list|create|describe|alter|delete`.

use std::collections::BTreeMap;

use clap::Subcommand;
use serde_json::json;

use crate::api::{TopicDetail, TopicSummary};
use crate::client::{Client, ServerArgs};
use crate::error::Result;
use crate::output::{self, Output, OutputArgs, Table};

/// `streamhouse topic ...`
#[derive(Debug, clap::Args)]
pub struct TopicArgs {
    #[command(flatten)]
    server: ServerArgs,
    #[command(flatten)]
    output: OutputArgs,
    #[command(subcommand)]
    command: TopicCommand,
}

#[derive(Debug, Subcommand)]
enum TopicCommand {
    /// List topics with their partition and record counts.
    List,
    /// Create a topic.
    Create {
        /// Topic name: 1 to 249 characters of [a-zA-Z0-9._-].
        name: String,
        /// Number of partitions.
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(i32).range(1..))]
        partitions: i32,
        /// A topic config, e.g. `retention.ms=86400000` (repeatable).
        #[arg(long = "config", value_name = "KEY=VALUE", value_parser = crate::parse_key_value)]
        configs: Vec<(String, String)>,
    },
    /// Show a topic's configs and partitions.
    Describe {
        /// Topic name.
        name: String,
    },
    /// Change a topic's configs.
    #[command(group(clap::ArgGroup::new("changes").required(true).multiple(true)
        .args(["configs", "reset_configs"])))]
    Alter {
        /// Topic name.
        name: String,
        /// Set a config, e.g. `retention.ms=3600000` (repeatable).
        #[arg(long = "config", value_name = "KEY=VALUE", value_parser = crate::parse_key_value)]
        configs: Vec<(String, String)>,
        /// Reset a config to its default (repeatable).
        #[arg(long = "reset-config", value_name = "KEY")]
        reset_configs: Vec<String>,
    },
    /// Delete a topic and all its records.
    Delete {
        /// Topic name.
        name: String,
    },
}

pub(crate) async fn run(args: TopicArgs) -> Result<()> {
    let client = Client::new(&args.server)?;
    let out = args.output.output;
    match args.command {
        TopicCommand::List => {
            let reply = client.get_all::<TopicSummary>(&["topics"]).await?;
            if out == Output::Json {
                return output::print_json(&reply.raw);
            }
            let mut table = Table::new(&["NAME", "PARTITIONS", "RECORDS"]);
            for t in reply.body {
                table.row(vec![
                    t.name,
                    t.partitions.to_string(),
                    t.records.to_string(),
                ]);
            }
            output::print(&table.render())
        }
        TopicCommand::Create {
            name,
            partitions,
            configs,
        } => {
            let configs: BTreeMap<String, String> = configs.into_iter().collect();
            let body = json!({ "name": name, "partitions": partitions, "configs": configs });
            let reply = client.post::<TopicDetail>(&["topics"], &body).await?;
            if out == Output::Json {
                return output::print_json(&reply.raw);
            }
            output::print(&format!(
                "created topic {} with {} partition{}\n",
                reply.body.name,
                reply.body.partitions.len(),
                plural(reply.body.partitions.len())
            ))
        }
        TopicCommand::Describe { name } => {
            let reply = client.get::<TopicDetail>(&["topics", &name], &[]).await?;
            if out == Output::Json {
                return output::print_json(&reply.raw);
            }
            output::print(&describe(&reply.body))
        }
        TopicCommand::Alter {
            name,
            configs,
            reset_configs,
        } => {
            let mut changes: BTreeMap<String, Option<String>> = BTreeMap::new();
            for key in reset_configs {
                changes.insert(key, None);
            }
            for (key, value) in configs {
                changes.insert(key, Some(value));
            }
            let reply = client
                .patch::<TopicDetail>(&["topics", &name, "configs"], &changes)
                .await?;
            if out == Output::Json {
                return output::print_json(&reply.raw);
            }
            let mut text = format!("altered topic {}\n", reply.body.name);
            text.push_str(&configs_text(&reply.body.configs));
            output::print(&text)
        }
        TopicCommand::Delete { name } => {
            // Read it first, to say what was deleted.
            let reply = client.get::<TopicDetail>(&["topics", &name], &[]).await?;
            client.delete(&["topics", &name]).await?;
            if out == Output::Json {
                return output::print_json(&json!({ "deleted": reply.raw }));
            }
            let partitions = reply.body.partitions.len();
            output::print(&format!(
                "deleted topic {} ({partitions} partition{}, {} record{})\n",
                reply.body.name,
                plural(partitions),
                reply.body.records,
                plural(reply.body.records as usize)
            ))
        }
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn configs_text(configs: &BTreeMap<String, String>) -> String {
    if configs.is_empty() {
        return "configs: (defaults)\n".to_owned();
    }
    let mut text = "configs:\n".to_owned();
    for (key, value) in configs {
        text.push_str(&format!("  {key}={value}\n"));
    }
    text
}

fn describe(topic: &TopicDetail) -> String {
    let mut text = output::fields(&[
        ("topic", topic.name.clone()),
        ("id", topic.id.clone()),
        ("created", timestamp(topic.created_at_ms)),
        ("partitions", topic.partitions.len().to_string()),
        ("records", topic.records.to_string()),
    ]);
    text.push_str(&configs_text(&topic.configs));
    text.push('\n');
    let mut table = Table::new(&[
        "PARTITION",
        "LOG-START",
        "HIGH-WATERMARK",
        "RECORDS",
        "LEADER",
        "EPOCH",
    ]);
    for p in &topic.partitions {
        table.row(vec![
            p.partition.to_string(),
            p.log_start_offset.to_string(),
            p.high_watermark.to_string(),
            p.records.to_string(),
            output::or_dash(p.leader.as_ref()),
            p.leader_epoch.to_string(),
        ]);
    }
    text.push_str(&table.render());
    text
}

/// Milliseconds since the epoch as RFC 3339 UTC.
pub(crate) fn timestamp(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms).map_or_else(
        || ms.to_string(),
        |t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
    )
}
