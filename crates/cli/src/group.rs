//! `streamhouse group list|describe|reset-offsets|delete`.

use clap::Subcommand;
use serde_json::json;

use crate::api::{CommittedOffset, GroupDetail, GroupSummary};
use crate::client::{Client, ServerArgs};
use crate::error::Result;
use crate::output::{self, Output, OutputArgs, Table};

/// `streamhouse group ...`
#[derive(Debug, clap::Args)]
pub struct GroupArgs {
    #[command(flatten)]
    server: ServerArgs,
    #[command(flatten)]
    output: OutputArgs,
    #[command(subcommand)]
    command: GroupCommand,
}

#[derive(Debug, Subcommand)]
enum GroupCommand {
    /// List consumer groups with their state, members and lag.
    List,
    /// Show a group's members and, per partition, its committed offset and lag.
    Describe {
        /// Group id.
        group: String,
    },
    /// Move a group's committed offsets (only while it has no active members).
    #[command(group(clap::ArgGroup::new("to").required(true)
        .args(["to_earliest", "to_latest", "to_offset", "to_timestamp"])))]
    ResetOffsets {
        /// Group id.
        group: String,
        /// Reset every partition of this topic; without it, the partitions the group has
        /// committed offsets for.
        #[arg(long)]
        topic: Option<String>,
        /// To the oldest stored record.
        #[arg(long)]
        to_earliest: bool,
        /// To the end of the log (skip everything).
        #[arg(long)]
        to_latest: bool,
        /// To this offset (clamped to the stored range).
        #[arg(long, value_name = "OFFSET", value_parser = clap::value_parser!(i64).range(0..))]
        to_offset: Option<i64>,
        /// To the first record at or after this time: ms since the epoch or RFC 3339.
        #[arg(long, value_name = "TIME", value_parser = parse_timestamp)]
        to_timestamp: Option<i64>,
    },
    /// Delete a group without active members, with its committed offsets.
    Delete {
        /// Group id.
        group: String,
    },
}

pub(crate) async fn run(args: GroupArgs) -> Result<()> {
    let client = Client::new(&args.server)?;
    let out = args.output.output;
    match args.command {
        GroupCommand::List => {
            let reply = client.get_all::<GroupSummary>(&["consumer-groups"]).await?;
            if out == Output::Json {
                return output::print_json(&reply.raw);
            }
            let mut table = Table::new(&["GROUP", "STATE", "PROTOCOL", "MEMBERS", "LAG"]);
            for g in reply.body {
                table.row(vec![
                    g.group_id,
                    g.state,
                    if g.protocol_type.is_empty() {
                        "-".to_owned()
                    } else {
                        g.protocol_type
                    },
                    g.members.to_string(),
                    g.total_lag.to_string(),
                ]);
            }
            output::print(&table.render())
        }
        GroupCommand::Describe { group } => {
            let reply = client
                .get::<GroupDetail>(&["consumer-groups", &group], &[])
                .await?;
            if out == Output::Json {
                return output::print_json(&reply.raw);
            }
            output::print(&describe(&reply.body))
        }
        GroupCommand::ResetOffsets {
            group,
            topic,
            to_earliest: _,
            to_latest,
            to_offset,
            to_timestamp,
        } => {
            let body = match (to_offset, to_timestamp) {
                (Some(offset), _) => json!({ "to": "offset", "offset": offset, "topic": topic }),
                (_, Some(ts)) => json!({ "to": "timestamp", "timestamp": ts, "topic": topic }),
                _ if to_latest => json!({ "to": "latest", "topic": topic }),
                _ => json!({ "to": "earliest", "topic": topic }),
            };
            let reply = client
                .post::<Vec<CommittedOffset>>(&["consumer-groups", &group, "reset"], &body)
                .await?;
            if out == Output::Json {
                return output::print_json(&reply.raw);
            }
            let mut text = format!("reset the offsets of group {group}\n");
            text.push_str(&offsets_table(&reply.body));
            output::print(&text)
        }
        GroupCommand::Delete { group } => {
            client.delete(&["consumer-groups", &group]).await?;
            if out == Output::Json {
                return output::print_json(&json!({ "deleted": group }));
            }
            output::print(&format!("deleted group {group}\n"))
        }
    }
}

pub(crate) fn offsets_table(offsets: &[CommittedOffset]) -> String {
    let mut table = Table::new(&["TOPIC", "PARTITION", "NEW-OFFSET"]);
    for o in offsets {
        table.row(vec![
            o.topic.clone(),
            o.partition.to_string(),
            o.offset.to_string(),
        ]);
    }
    table.render()
}

fn describe(group: &GroupDetail) -> String {
    let mut text = output::fields(&[
        ("group", group.group_id.clone()),
        ("state", group.state.clone()),
        (
            "protocol",
            match (group.protocol_type.as_str(), group.protocol.as_str()) {
                ("", _) => "-".to_owned(),
                (kind, "") => kind.to_owned(),
                (kind, assignor) => format!("{kind} ({assignor})"),
            },
        ),
        ("generation", group.generation.to_string()),
        ("members", group.members.len().to_string()),
        ("total lag", group.total_lag.to_string()),
    ]);
    if !group.members.is_empty() {
        text.push('\n');
        let mut members = Table::new(&["MEMBER-ID", "CLIENT-ID", "HOST"]);
        for m in &group.members {
            members.row(vec![
                m.member_id.clone(),
                m.client_id.clone(),
                m.client_host.clone(),
            ]);
        }
        text.push_str(&members.render());
    }
    text.push('\n');
    let mut table = Table::new(&[
        "TOPIC",
        "PARTITION",
        "CURRENT-OFFSET",
        "LOG-END-OFFSET",
        "LAG",
        "MEMBER-ID",
    ]);
    for p in &group.partitions {
        table.row(vec![
            p.topic.clone(),
            p.partition.to_string(),
            output::or_dash(p.committed_offset),
            p.log_end_offset.to_string(),
            output::or_dash(p.lag),
            output::or_dash(p.member_id.as_ref()),
        ]);
    }
    text.push_str(&table.render());
    text
}

/// Milliseconds since the epoch, or an RFC 3339 time (`2024-05-01T12:00:00Z`,
/// `2024-05-01T14:00:00+02:00`).
pub(crate) fn parse_timestamp(text: &str) -> Result<i64, String> {
    if let Ok(ms) = text.parse::<i64>() {
        return Ok(ms);
    }
    chrono::DateTime::parse_from_rfc3339(text)
        .map(|t| t.timestamp_millis())
        .map_err(|e| format!("expected ms since the epoch or an RFC 3339 time: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_ms_or_rfc3339() {
        assert_eq!(parse_timestamp("1700000000000"), Ok(1_700_000_000_000));
        assert_eq!(
            parse_timestamp("2023-11-14T22:13:20Z"),
            Ok(1_700_000_000_000)
        );
        assert_eq!(
            parse_timestamp("2023-11-15T00:13:20.5+02:00"),
            Ok(1_700_000_000_500)
        );
        assert!(parse_timestamp("yesterday").is_err());
    }
}
