//! Command-line flags: one `--<section>-<key>` per config leaf, merged last.

use std::path::PathBuf;

use figment::value::{Dict, Map, Value};
use figment::{Metadata, Profile, Provider};
use serde::Serialize;

/// Flags for every config key, to `#[command(flatten)]` into the agent's `serve`
/// subcommand. Every flag is optional with no clap default, so a flag only overrides the
/// lower layers (defaults, file, environment) when given. Values are taken as strings and
/// parsed by the same code as the file and environment, so errors look the same.
///
/// Each help text starts with the `[section.key]` it sets (a test checks that every key
/// has its flag). To group them under a heading, flatten them *last* with
/// `#[command(flatten, next_help_heading = "Configuration")]`: clap keeps that heading for
/// every argument declared after it.
#[derive(clap::Args, Debug, Default, Clone, PartialEq, Serialize)]
pub struct ConfigFlags {
    /// TOML config file (must exist). Lower precedence than environment and flags.
    #[arg(long, env = "STREAMHOUSE_CONFIG", value_name = "PATH")]
    pub config: Option<PathBuf>,

    /// [node.data_dir] Directory for local state (agent id, default objects and SQLite
    /// metadata) [default: ./streamhouse-data]
    #[arg(long = "node-data-dir", visible_alias = "data-dir", value_name = "DIR")]
    pub node_data_dir: Option<String>,
    /// [node.agent_id] Stable agent identity [default: generated and persisted in data_dir]
    #[arg(long = "node-agent-id", value_name = "ID")]
    pub node_agent_id: Option<String>,
    /// [node.rack] Rack or availability zone reported to clients [default: none]
    #[arg(long = "node-rack", value_name = "RACK")]
    pub node_rack: Option<String>,
    /// [node.worker_threads] Threads for connections, requests and flushes, 1..=1024
    /// [default: one fewer than the CPUs, at least 1]
    #[arg(long = "node-worker-threads", value_name = "N")]
    pub node_worker_threads: Option<String>,

    /// [object_store.url] Object store URL: file:///dir, memory://, s3://bucket/prefix,
    /// gs://…, az://… [default: file://<data_dir>/objects]
    #[arg(
        long = "object-store-url",
        visible_alias = "object-store",
        value_name = "URL"
    )]
    pub object_store_url: Option<String>,
    /// [object_store.options] An object store option as KEY=VALUE, e.g.
    /// aws_endpoint=http://127.0.0.1:9000 (repeatable)
    #[arg(
        long = "object-store-option",
        visible_alias = "object-store-options",
        value_name = "KEY=VALUE"
    )]
    pub object_store_option: Vec<String>,
    /// [object_store.request_timeout] Timeout of one object store request [default: 30s]
    #[arg(long = "object-store-request-timeout", value_name = "DURATION")]
    pub object_store_request_timeout: Option<String>,
    /// [object_store.direct_io] Write file:// objects with O_DIRECT, past the page cache
    /// [default: false]
    #[arg(long = "object-store-direct-io", value_name = "BOOL")]
    pub object_store_direct_io: Option<String>,

    /// [metadata.url] Metadata database URL: sqlite:///file.db, postgres://…
    /// [default: sqlite://<data_dir>/metadata.db]
    #[arg(long = "metadata-url", visible_alias = "metadata", value_name = "URL")]
    pub metadata_url: Option<String>,
    /// [metadata.max_connections] Database connection pool size [default: 8]
    #[arg(long = "metadata-max-connections", value_name = "N")]
    pub metadata_max_connections: Option<String>,

    /// [engine.flush_interval] Segment flush linger, 1ms..=60s [default: 10ms local, 250ms
    /// remote]
    #[arg(long = "engine-flush-interval", value_name = "DURATION")]
    pub engine_flush_interval: Option<String>,
    /// [engine.flush_bytes] Size that flushes before the interval is up (flushes stay at
    /// least an interval apart), 1KiB..=1GiB [default: 4MiB local, 8MiB remote]
    #[arg(long = "engine-flush-bytes", value_name = "SIZE")]
    pub engine_flush_bytes: Option<String>,
    /// [engine.max_buffered_bytes] Bound on accepted-but-not-durable data (>= 2 × flush
    /// bytes) [default: 64MiB]
    #[arg(long = "engine-max-buffered-bytes", value_name = "SIZE")]
    pub engine_max_buffered_bytes: Option<String>,
    /// [engine.read_cache_bytes] Cache of ranges read from segment objects [default: 16MiB
    /// for file:// and memory://, 64MiB for remote stores]
    #[arg(long = "engine-read-cache-bytes", value_name = "SIZE")]
    pub engine_read_cache_bytes: Option<String>,
    /// [engine.tail_bytes] In-memory tail of recent durable batches [default: 32MiB]
    #[arg(long = "engine-tail-bytes", value_name = "SIZE")]
    pub engine_tail_bytes: Option<String>,
    /// [engine.lease_ttl] Partition lease lifetime (>= 3 × heartbeat interval)
    /// [default: 10s]
    #[arg(long = "engine-lease-ttl", value_name = "DURATION")]
    pub engine_lease_ttl: Option<String>,
    /// [engine.heartbeat_interval] Lease renewal interval [default: 2s]
    #[arg(long = "engine-heartbeat-interval", value_name = "DURATION")]
    pub engine_heartbeat_interval: Option<String>,
    /// [engine.retention_check_interval] How often retention is enforced [default: 30s]
    #[arg(long = "engine-retention-check-interval", value_name = "DURATION")]
    pub engine_retention_check_interval: Option<String>,
    /// [engine.merge_enabled] Merge small segments in the background [default: true]
    #[arg(long = "engine-merge-enabled", value_name = "BOOL")]
    pub engine_merge_enabled: Option<String>,
    /// [engine.merge_min_age] Minimum age of a segment before it is merged [default: 1m]
    #[arg(long = "engine-merge-min-age", value_name = "DURATION")]
    pub engine_merge_min_age: Option<String>,
    /// [engine.merge_small_bytes] Segments smaller than this are merged [default: 1MiB]
    #[arg(long = "engine-merge-small-bytes", value_name = "SIZE")]
    pub engine_merge_small_bytes: Option<String>,
    /// [engine.merge_target_bytes] Size merged segments aim for [default: 8MiB]
    #[arg(long = "engine-merge-target-bytes", value_name = "SIZE")]
    pub engine_merge_target_bytes: Option<String>,
    /// [engine.gc_interval] How often unreferenced objects are collected [default: 5m]
    #[arg(long = "engine-gc-interval", value_name = "DURATION")]
    pub engine_gc_interval: Option<String>,
    /// [engine.gc_grace] How long unreferenced objects are kept [default: 1h]
    #[arg(long = "engine-gc-grace", value_name = "DURATION")]
    pub engine_gc_grace: Option<String>,
    /// [engine.upload_max_backoff] Maximum backoff between upload retries [default: 5s]
    #[arg(long = "engine-upload-max-backoff", value_name = "DURATION")]
    pub engine_upload_max_backoff: Option<String>,
    /// [engine.default_partitions] Partitions of topics created without a count
    /// [default: 1]
    #[arg(long = "engine-default-partitions", value_name = "N")]
    pub engine_default_partitions: Option<String>,

    /// [kafka.listen] Address the Kafka listener binds [default: 127.0.0.1:9092]
    #[arg(long = "kafka-listen", value_name = "HOST:PORT")]
    pub kafka_listen: Option<String>,
    /// [kafka.advertised_addr] Address clients are told to connect to [default: the bound
    /// listen address]
    #[arg(long = "kafka-advertised-addr", value_name = "HOST:PORT")]
    pub kafka_advertised_addr: Option<String>,
    /// [kafka.max_connections] Most client connections open at once [default: 4096]
    #[arg(long = "kafka-max-connections", value_name = "N")]
    pub kafka_max_connections: Option<String>,
    /// [kafka.max_request_bytes] Largest request accepted (socket.request.max.bytes)
    /// [default: 100MiB]
    #[arg(long = "kafka-max-request-bytes", value_name = "SIZE")]
    pub kafka_max_request_bytes: Option<String>,
    /// [kafka.idle_timeout] Close connections idle this long [default: 10m]
    #[arg(long = "kafka-idle-timeout", value_name = "DURATION")]
    pub kafka_idle_timeout: Option<String>,
    /// [kafka.auto_create_topics] Create unknown topics on first use
    /// (auto.create.topics.enable) [default: true]
    #[arg(long = "kafka-auto-create-topics", value_name = "BOOL")]
    pub kafka_auto_create_topics: Option<String>,

    /// [groups.min_session_timeout] Shortest member session timeout allowed [default: 6s]
    #[arg(long = "groups-min-session-timeout", value_name = "DURATION")]
    pub groups_min_session_timeout: Option<String>,
    /// [groups.max_session_timeout] Longest member session timeout allowed [default: 30m]
    #[arg(long = "groups-max-session-timeout", value_name = "DURATION")]
    pub groups_max_session_timeout: Option<String>,
    /// [groups.initial_rebalance_delay] How long an empty group's first rebalance waits for
    /// more members [default: 3s]
    #[arg(long = "groups-initial-rebalance-delay", value_name = "DURATION")]
    pub groups_initial_rebalance_delay: Option<String>,
    /// [groups.max_size] Most members per group [default: 1000]
    #[arg(long = "groups-max-size", value_name = "N")]
    pub groups_max_size: Option<String>,
    /// [groups.offset_retention] How long offsets of an empty group are kept [default: 7d]
    #[arg(long = "groups-offset-retention", value_name = "DURATION")]
    pub groups_offset_retention: Option<String>,
    /// [groups.offset_metadata_max_bytes] Longest offset commit metadata [default: 4KiB]
    #[arg(long = "groups-offset-metadata-max-bytes", value_name = "SIZE")]
    pub groups_offset_metadata_max_bytes: Option<String>,

    /// [http.listen] Address the HTTP listener (REST API, health) binds
    /// [default: 127.0.0.1:8080]
    #[arg(long = "http-listen", value_name = "HOST:PORT")]
    pub http_listen: Option<String>,
    /// [http.max_browse_records] Most records one message-browser request returns
    /// [default: 1000]
    #[arg(long = "http-max-browse-records", value_name = "N")]
    pub http_max_browse_records: Option<String>,
    /// [http.max_body_bytes] Largest HTTP request body accepted [default: 8MiB]
    #[arg(long = "http-max-body-bytes", value_name = "SIZE")]
    pub http_max_body_bytes: Option<String>,
    /// [http.metrics_interval] How often rates and lag are sampled for /api/v1/metrics
    /// and the WebSocket [default: 5s]
    #[arg(long = "http-metrics-interval", value_name = "DURATION")]
    pub http_metrics_interval: Option<String>,
    /// [http.metrics_history] Sampled history kept in memory [default: 1h]
    #[arg(long = "http-metrics-history", value_name = "DURATION")]
    pub http_metrics_history: Option<String>,
    /// [http.lag_alert_threshold] Group lag (records) that raises a lag_alert [default: 1000]
    #[arg(long = "http-lag-alert-threshold", value_name = "N")]
    pub http_lag_alert_threshold: Option<String>,

    /// [log.format] Log format: text or json [default: text]
    #[arg(long = "log-format", value_name = "FORMAT")]
    pub log_format: Option<String>,
    /// [log.filter] Log filter in tracing EnvFilter syntax [default: info]
    #[arg(long = "log-filter", value_name = "FILTER")]
    pub log_filter: Option<String>,
}

impl ConfigFlags {
    /// `(section, key, value)` for every scalar flag. Adding a config key means adding a
    /// field above and a line here; the `every_config_leaf_has_a_flag` test catches a miss.
    fn scalars(&self) -> Vec<(&'static str, &'static str, &Option<String>)> {
        vec![
            ("node", "data_dir", &self.node_data_dir),
            ("node", "agent_id", &self.node_agent_id),
            ("node", "rack", &self.node_rack),
            ("node", "worker_threads", &self.node_worker_threads),
            ("object_store", "url", &self.object_store_url),
            (
                "object_store",
                "request_timeout",
                &self.object_store_request_timeout,
            ),
            ("object_store", "direct_io", &self.object_store_direct_io),
            ("metadata", "url", &self.metadata_url),
            (
                "metadata",
                "max_connections",
                &self.metadata_max_connections,
            ),
            ("engine", "flush_interval", &self.engine_flush_interval),
            ("engine", "flush_bytes", &self.engine_flush_bytes),
            (
                "engine",
                "max_buffered_bytes",
                &self.engine_max_buffered_bytes,
            ),
            ("engine", "read_cache_bytes", &self.engine_read_cache_bytes),
            ("engine", "tail_bytes", &self.engine_tail_bytes),
            ("engine", "lease_ttl", &self.engine_lease_ttl),
            (
                "engine",
                "heartbeat_interval",
                &self.engine_heartbeat_interval,
            ),
            (
                "engine",
                "retention_check_interval",
                &self.engine_retention_check_interval,
            ),
            ("engine", "merge_enabled", &self.engine_merge_enabled),
            ("engine", "merge_min_age", &self.engine_merge_min_age),
            (
                "engine",
                "merge_small_bytes",
                &self.engine_merge_small_bytes,
            ),
            (
                "engine",
                "merge_target_bytes",
                &self.engine_merge_target_bytes,
            ),
            ("engine", "gc_interval", &self.engine_gc_interval),
            ("engine", "gc_grace", &self.engine_gc_grace),
            (
                "engine",
                "upload_max_backoff",
                &self.engine_upload_max_backoff,
            ),
            (
                "engine",
                "default_partitions",
                &self.engine_default_partitions,
            ),
            ("kafka", "listen", &self.kafka_listen),
            ("kafka", "advertised_addr", &self.kafka_advertised_addr),
            ("kafka", "max_connections", &self.kafka_max_connections),
            ("kafka", "max_request_bytes", &self.kafka_max_request_bytes),
            ("kafka", "idle_timeout", &self.kafka_idle_timeout),
            (
                "kafka",
                "auto_create_topics",
                &self.kafka_auto_create_topics,
            ),
            (
                "groups",
                "min_session_timeout",
                &self.groups_min_session_timeout,
            ),
            (
                "groups",
                "max_session_timeout",
                &self.groups_max_session_timeout,
            ),
            (
                "groups",
                "initial_rebalance_delay",
                &self.groups_initial_rebalance_delay,
            ),
            ("groups", "max_size", &self.groups_max_size),
            ("groups", "offset_retention", &self.groups_offset_retention),
            (
                "groups",
                "offset_metadata_max_bytes",
                &self.groups_offset_metadata_max_bytes,
            ),
            ("http", "listen", &self.http_listen),
            ("http", "max_browse_records", &self.http_max_browse_records),
            ("http", "max_body_bytes", &self.http_max_body_bytes),
            ("http", "metrics_interval", &self.http_metrics_interval),
            ("http", "metrics_history", &self.http_metrics_history),
            (
                "http",
                "lag_alert_threshold",
                &self.http_lag_alert_threshold,
            ),
            ("log", "format", &self.log_format),
            ("log", "filter", &self.log_filter),
        ]
    }

    /// The given flags as a nested `section -> key -> string` dict, plus the problems with
    /// malformed `--object-store-option` values.
    pub(crate) fn to_dict(&self) -> (Dict, Vec<String>) {
        let mut dict = Dict::new();
        let mut problems = Vec::new();
        for (section, key, value) in self.scalars() {
            if let Some(value) = value {
                section_mut(&mut dict, section).insert(key.to_owned(), Value::from(value.clone()));
            }
        }
        for option in &self.object_store_option {
            match option.split_once('=') {
                Some((key, value)) if !key.trim().is_empty() => {
                    let options = section_mut(section_mut(&mut dict, "object_store"), "options");
                    options.insert(key.trim().to_owned(), Value::from(value.to_owned()));
                }
                _ => problems.push(format!(
                    "object_store.options: {:?} is not KEY=VALUE (from command-line flag \
                     --object-store-option)",
                    crate::redact::redact_url(option),
                )),
            }
        }
        (dict, problems)
    }
}

/// The dict at `dict[key]`, created (or replaced, if it held a non-dict) as needed.
fn section_mut<'a>(dict: &'a mut Dict, key: &str) -> &'a mut Dict {
    let entry = dict
        .entry(key.to_owned())
        .or_insert_with(|| Value::from(Dict::new()));
    if entry.as_dict().is_none() {
        *entry = Value::from(Dict::new());
    }
    match entry {
        Value::Dict(_, dict) => dict,
        _ => unreachable!("invariant: replaced by a dict above"),
    }
}

/// The flag name for a config path, as shown in error messages.
pub(crate) fn flag_name(path: &[&str]) -> String {
    match path {
        ["object_store", "options", key, ..] => format!("--object-store-option {key}=…"),
        _ => format!("--{}", path.join("-").replace('_', "-")),
    }
}

/// Figment provider for the flags, named so errors say "command-line flag --x-y".
pub(crate) struct FlagsProvider(pub(crate) Dict);

impl Provider for FlagsProvider {
    fn metadata(&self) -> Metadata {
        Metadata::named("command-line flag")
            .interpolater(|_: &Profile, keys: &[&str]| flag_name(keys))
    }

    fn data(&self) -> figment::Result<Map<Profile, Dict>> {
        Ok(Profile::Default.collect(self.0.clone()))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use clap::{CommandFactory, Parser};

    use super::*;
    use crate::Config;

    #[derive(Parser, Debug)]
    struct Cli {
        #[command(flatten)]
        flags: ConfigFlags,
    }

    /// Dotted paths of every leaf of a serialized value (maps and `null`s are leaves).
    fn leaves(prefix: &str, value: &serde_json::Value, out: &mut BTreeSet<String>) {
        match value {
            serde_json::Value::Object(map) if !prefix.ends_with(".options") => {
                for (key, value) in map {
                    let path = if prefix.is_empty() {
                        key.clone()
                    } else {
                        format!("{prefix}.{key}")
                    };
                    leaves(&path, value, out);
                }
            }
            _ => {
                out.insert(prefix.to_owned());
            }
        }
    }

    fn config_leaves() -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        let value = serde_json::to_value(Config::default()).expect("config serializes");
        leaves("", &value, &mut out);
        out
    }

    /// This is what guarantees `--help` documents every option.
    #[test]
    fn every_config_leaf_has_a_documented_flag() {
        let command = Cli::command();
        let mut flags = BTreeSet::new();
        for arg in command.get_arguments() {
            let help = arg.get_help().map(ToString::to_string).unwrap_or_default();
            assert!(!help.is_empty(), "flag {:?} has no help", arg.get_id());
            if let Some(long) = arg.get_long() {
                flags.insert(long.to_owned());
            }
            for alias in arg.get_all_aliases().unwrap_or_default() {
                flags.insert(alias.to_owned());
            }
        }
        let leaves = config_leaves();
        assert!(leaves.len() >= 25, "{leaves:?}");
        for leaf in &leaves {
            let flag = leaf.replace(['.', '_'], "-");
            assert!(flags.contains(&flag), "no --{flag} for config key {leaf}");
            let help = command
                .get_arguments()
                .find(|a| {
                    a.get_long() == Some(flag.as_str())
                        || a.get_all_aliases()
                            .unwrap_or_default()
                            .contains(&flag.as_str())
                })
                .and_then(|a| a.get_help())
                .map(ToString::to_string)
                .unwrap_or_default();
            assert!(
                help.starts_with(&format!("[{leaf}]")),
                "--{flag} help doesn't name {leaf}: {help}"
            );
        }
        for alias in [
            "data-dir",
            "object-store",
            "metadata",
            "config",
            "object-store-option",
        ] {
            assert!(flags.contains(alias), "missing --{alias}");
        }
    }

    /// And every flag lands on the key it is named after.
    #[test]
    fn every_flag_maps_to_its_key() {
        let mut args = vec!["test".to_owned()];
        for leaf in config_leaves() {
            let flag = leaf.replace(['.', '_'], "-");
            if flag == "object-store-options" {
                args.extend(["--object-store-option".into(), "aws_region=x".into()]);
            } else {
                args.extend([format!("--{flag}"), format!("value-of-{leaf}")]);
            }
        }
        let cli = Cli::try_parse_from(&args).expect("all flags parse");
        let (dict, problems) = cli.flags.to_dict();
        assert!(problems.is_empty());
        let mut got = BTreeSet::new();
        let json = serde_json::to_value(&dict).expect("dict serializes");
        leaves("", &json, &mut got);
        assert_eq!(got, config_leaves());
        for (section, key, value) in cli.flags.scalars() {
            assert_eq!(
                value.as_deref(),
                Some(format!("value-of-{section}.{key}").as_str())
            );
        }
    }

    #[test]
    fn aliases_and_options() {
        let cli = Cli::try_parse_from([
            "test",
            "--data-dir",
            "/d",
            "--object-store",
            "s3://b/p",
            "--metadata",
            "sqlite:///m.db",
            "--object-store-option",
            "aws_region=eu-west-1",
            "--object-store-option",
            "aws_allow_http=true",
            "--object-store-option",
            "bogus",
        ])
        .expect("parses");
        assert_eq!(cli.flags.node_data_dir.as_deref(), Some("/d"));
        assert_eq!(cli.flags.object_store_url.as_deref(), Some("s3://b/p"));
        assert_eq!(cli.flags.metadata_url.as_deref(), Some("sqlite:///m.db"));
        let (dict, problems) = cli.flags.to_dict();
        let options = dict["object_store"]
            .find_ref("options")
            .and_then(Value::as_dict)
            .expect("options dict");
        assert_eq!(options.len(), 2);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0].contains("--object-store-option"),
            "{problems:?}"
        );
    }

    #[test]
    fn flag_names() {
        assert_eq!(
            flag_name(&["engine", "flush_interval"]),
            "--engine-flush-interval"
        );
        assert_eq!(flag_name(&["object_store", "url"]), "--object-store-url");
        assert_eq!(
            flag_name(&["object_store", "options", "aws_region"]),
            "--object-store-option aws_region=…"
        );
    }
}
