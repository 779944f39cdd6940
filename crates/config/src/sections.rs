//! The configuration sections. Field doc comments are the reference documentation: keep
//! them in sync with `config.example.toml` (a test checks that the example parses).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use bytesize::ByteSize;
use serde::{Deserialize, Serialize};

use crate::serde_helpers::{duration, lenient, opt_duration, opt_size, size};

/// Flush linger used when `engine.flush_interval` is unset and the object store is local
/// (`file://`, `memory://`): a local write is cheap, so latency wins. Each flush still
/// costs a file write, two fsyncs and a metadata commit: at 5 ms the agent spent about
/// 28 % more CPU on a 20,000 records/s stream (see docs/benchmarks.md), for a few ms of
/// latency the 50 ms end-to-end budget does not need.
pub const LOCAL_FLUSH_INTERVAL: Duration = Duration::from_millis(10);
/// Flush linger used when `engine.flush_interval` is unset and the object store is remote:
/// every PUT costs money and ~tens of milliseconds, so batch more.
pub const REMOTE_FLUSH_INTERVAL: Duration = Duration::from_millis(250);
/// Flush size used when `engine.flush_bytes` is unset and the object store is local.
pub const LOCAL_FLUSH_BYTES: ByteSize = ByteSize::mib(4);
/// Flush size used when `engine.flush_bytes` is unset and the object store is remote.
pub const REMOTE_FLUSH_BYTES: ByteSize = ByteSize::mib(8);
/// Read cache used when `engine.read_cache_bytes` is unset and the object store is local:
/// the OS page cache already holds recently read files, so this only has to keep a couple
/// of segments (two merged ones) from being read again by every fetch that spans them.
pub const LOCAL_READ_CACHE_BYTES: ByteSize = ByteSize::mib(16);
/// Read cache used when `engine.read_cache_bytes` is unset and the object store is remote,
/// where every miss is a billed GET of tens of milliseconds.
pub const REMOTE_READ_CACHE_BYTES: ByteSize = ByteSize::mib(64);

/// `[node]`: identity and local state of this agent process.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NodeConfig {
    /// Directory for local state: the generated agent id, and — unless `object_store.url`
    /// and `metadata.url` say otherwise — the objects and the SQLite metadata database.
    /// Relative paths are resolved against the current directory. Default `./streamhouse-data`.
    pub data_dir: PathBuf,
    /// Stable identity of this agent, used as the owner of partition leases. Unset: the
    /// agent generates one on first start and persists it in `data_dir`.
    #[serde(deserialize_with = "lenient::opt_string")]
    pub agent_id: Option<String>,
    /// Rack (or availability zone) of this agent, reported to Kafka clients in Metadata
    /// responses for rack-aware fetching. Unset: no rack.
    #[serde(deserialize_with = "lenient::opt_string")]
    pub rack: Option<String>,
    /// Threads that run the agent's async work: connections, request handling, flushes,
    /// HTTP. Unset: one fewer than the CPUs the process may use, at least 1 (see
    /// [`NodeConfig::worker_threads_or_default`]).
    pub worker_threads: Option<usize>,
}

impl Default for NodeConfig {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("./streamhouse-data"),
            agent_id: None,
            rack: None,
            worker_threads: None,
        }
    }
}

/// The most `node.worker_threads` may be: far more than any machine has cores, low enough
/// that a typo cannot start a thread per request.
pub const MAX_WORKER_THREADS: usize = 1024;

impl NodeConfig {
    /// `node.worker_threads`, or its default for `cpus` CPUs: one fewer, at least 1. The
    /// threads that block (object writes and their fsyncs in the blocking pool, and the
    /// SQLite writer) run beside the workers, and a worker per CPU made them share cores.
    /// On two vCPUs one worker used 14 % less agent CPU in the produce benchmark and up to
    /// 16 % less at 20,000 records/s, at the same latency (docs/benchmarks.md, eighth
    /// round): with two, every wake-up of the idle one was a cross-CPU interrupt.
    pub fn worker_threads_or_default(&self, cpus: usize) -> usize {
        self.worker_threads
            .unwrap_or_else(|| cpus.saturating_sub(1).max(1))
    }
}

/// `[object_store]`: where segment objects live.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ObjectStoreConfig {
    /// Object store URL: `file:///abs/dir`, `memory://`, `s3://bucket/prefix`,
    /// `gs://bucket/prefix` or `az://container/prefix`. Unset: `file://<data_dir>/objects`.
    pub url: Option<String>,
    /// Extra options for the store, passed to object_store's `parse_url_opts`, e.g.
    /// `aws_endpoint`, `aws_access_key_id`, `aws_secret_access_key`, `aws_region`,
    /// `aws_allow_http`. Values may be written as strings, numbers or booleans.
    #[serde(deserialize_with = "lenient::string_map")]
    pub options: BTreeMap<String, String>,
    /// Timeout of a single object store request (after which it is retried).
    #[serde(with = "duration")]
    pub request_timeout: Duration,
    /// Write `file://` objects with `O_DIRECT` (Linux), past the page cache. For VMs whose
    /// balloon takes free memory back from the guest, where every fresh page-cache page
    /// costs a host fault: there it halved the agent's produce CPU (docs/benchmarks.md,
    /// ninth round). Elsewhere the page cache is cheaper, and it serves consumers reading
    /// objects written seconds before, so it is off by default.
    pub direct_io: bool,
}

impl Default for ObjectStoreConfig {
    fn default() -> Self {
        Self {
            url: None,
            options: BTreeMap::new(),
            request_timeout: Duration::from_secs(30),
            direct_io: false,
        }
    }
}

/// `[metadata]`: the metadata database (topics, segment index, offsets, leases).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MetadataConfig {
    /// Metadata database URL: `sqlite:///abs/file.db`, `postgres://user:pass@host/db`
    /// (or `postgresql://`). Unset: `sqlite://<data_dir>/metadata.db`. Several agents
    /// can share one PostgreSQL database; SQLite is for a single agent.
    pub url: Option<String>,
    /// Maximum number of pooled database connections.
    pub max_connections: u32,
}

impl Default for MetadataConfig {
    fn default() -> Self {
        Self {
            url: None,
            max_connections: 8,
        }
    }
}

/// `[engine]`: batching, caching, leases and background maintenance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EngineConfig {
    /// How long the segment writer waits for more data before flushing a segment object
    /// (produce latency vs. PUT count), 1ms..=60s. Unset: 10ms for `file://`/`memory://`
    /// stores, 250ms for remote ones.
    #[serde(with = "opt_duration")]
    pub flush_interval: Option<Duration>,
    /// Size at which the segment writer flushes before `flush_interval` is up, 1KiB..=1GiB;
    /// flushes still begin at least `flush_interval` apart, so faster data makes bigger
    /// objects rather than more PUTs. Unset: 4MiB for `file://`/`memory://` stores, 8MiB
    /// for remote ones.
    #[serde(with = "opt_size")]
    pub flush_bytes: Option<ByteSize>,
    /// Backpressure bound on accepted-but-not-yet-durable data: producers wait when it is
    /// reached. Must be at least twice the effective `flush_bytes`.
    #[serde(with = "size")]
    pub max_buffered_bytes: ByteSize,
    /// Size of the cache of byte ranges read from segment objects (0 disables it). Unset:
    /// 16MiB for `file://`/`memory://` stores (the OS page cache holds local files
    /// anyway), 64MiB for remote ones.
    #[serde(with = "opt_size")]
    pub read_cache_bytes: Option<ByteSize>,
    /// Size of the in-memory tail of recently made durable batches, which serves
    /// consumers at the end of the log without touching the object store (0 disables it).
    #[serde(with = "size")]
    pub tail_bytes: ByteSize,
    /// How long a partition lease lasts without renewal before another agent may take
    /// the partition over. Must be at least 3 × `heartbeat_interval`.
    #[serde(with = "duration")]
    pub lease_ttl: Duration,
    /// How often the agent renews its leases and announces itself. Must be > 0.
    #[serde(with = "duration")]
    pub heartbeat_interval: Duration,
    /// How often topic retention (time and size) is enforced. Must be > 0.
    #[serde(with = "duration")]
    pub retention_check_interval: Duration,
    /// Whether small segments are merged into bigger ones in the background.
    pub merge_enabled: bool,
    /// Segments younger than this are never merged (they are likely still being read).
    #[serde(with = "duration")]
    pub merge_min_age: Duration,
    /// Segments smaller than this are merge candidates.
    #[serde(with = "size")]
    pub merge_small_bytes: ByteSize,
    /// Size the merger aims for; must be >= `merge_small_bytes`. A cold read fetches a
    /// whole segment into the read cache, so keep it well under `read_cache_bytes`.
    #[serde(with = "size")]
    pub merge_target_bytes: ByteSize,
    /// How often unreferenced objects (merged away, expired, orphaned uploads) are
    /// garbage-collected. Must be > 0.
    #[serde(with = "duration")]
    pub gc_interval: Duration,
    /// How long an unreferenced object is kept before deletion, so in-flight readers and
    /// uncommitted uploads are never cut off.
    #[serde(with = "duration")]
    pub gc_grace: Duration,
    /// Upper bound of the exponential backoff between retries of a failed segment
    /// upload. Must be > 0.
    #[serde(with = "duration")]
    pub upload_max_backoff: Duration,
    /// Partition count of topics created without an explicit count (e.g. auto-created
    /// topics, or CreateTopics with `num_partitions = -1`). Must be >= 1.
    pub default_partitions: i32,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            flush_interval: None,
            flush_bytes: None,
            max_buffered_bytes: ByteSize::mib(64),
            read_cache_bytes: None,
            tail_bytes: ByteSize::mib(32),
            lease_ttl: Duration::from_secs(10),
            heartbeat_interval: Duration::from_secs(2),
            retention_check_interval: Duration::from_secs(30),
            merge_enabled: true,
            merge_min_age: Duration::from_secs(60),
            merge_small_bytes: ByteSize::mib(1),
            merge_target_bytes: ByteSize::mib(8),
            gc_interval: Duration::from_secs(5 * 60),
            gc_grace: Duration::from_secs(60 * 60),
            upload_max_backoff: Duration::from_secs(5),
            default_partitions: 1,
        }
    }
}

impl EngineConfig {
    /// The effective flush linger: `flush_interval` if set, else the default for a local
    /// (`remote = false`) or remote object store.
    pub fn flush_interval_for(&self, remote: bool) -> Duration {
        self.flush_interval.unwrap_or(if remote {
            REMOTE_FLUSH_INTERVAL
        } else {
            LOCAL_FLUSH_INTERVAL
        })
    }

    /// The effective read cache size in bytes: `read_cache_bytes` if set, else the default
    /// for a local (`remote = false`) or remote object store.
    pub fn read_cache_bytes_for(&self, remote: bool) -> u64 {
        self.read_cache_bytes
            .unwrap_or(if remote {
                REMOTE_READ_CACHE_BYTES
            } else {
                LOCAL_READ_CACHE_BYTES
            })
            .as_u64()
    }

    /// The effective flush size in bytes: `flush_bytes` if set, else the default for a
    /// local (`remote = false`) or remote object store.
    pub fn flush_bytes_for(&self, remote: bool) -> u64 {
        self.flush_bytes
            .unwrap_or(if remote {
                REMOTE_FLUSH_BYTES
            } else {
                LOCAL_FLUSH_BYTES
            })
            .as_u64()
    }
}

/// `[kafka]`: the Kafka protocol listener.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KafkaConfig {
    /// Address the Kafka listener binds, `host:port`.
    pub listen: String,
    /// `host:port` clients are told to connect to (in Metadata responses). Unset: the
    /// bound listen address.
    #[serde(deserialize_with = "lenient::opt_string")]
    pub advertised_addr: Option<String>,
    /// Most client connections open at once; further connections wait to be accepted.
    pub max_connections: u32,
    /// Largest request accepted (Kafka's `socket.request.max.bytes`); a larger length
    /// prefix closes the connection before anything is allocated.
    #[serde(with = "size")]
    pub max_request_bytes: ByteSize,
    /// Connections idle this long are closed (Kafka's `connections.max.idle.ms`).
    #[serde(with = "duration")]
    pub idle_timeout: Duration,
    /// Create unknown topics on first use in Metadata and Produce requests, with
    /// `engine.default_partitions` partitions (Kafka's `auto.create.topics.enable`).
    pub auto_create_topics: bool,
}

impl Default for KafkaConfig {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:9092".to_owned(),
            advertised_addr: None,
            max_connections: 4096,
            max_request_bytes: ByteSize::mib(100),
            idle_timeout: Duration::from_secs(600),
            auto_create_topics: true,
        }
    }
}

/// `[http]`: the HTTP listener (REST API, health checks).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpConfig {
    /// Address the HTTP listener binds, `host:port`.
    pub listen: String,
    /// Most records one message-browser request may return.
    pub max_browse_records: u32,
    /// Largest request body accepted (a produce over HTTP, a topic definition).
    #[serde(with = "size")]
    pub max_body_bytes: ByteSize,
    /// How often the agent samples rates and lag for `/api/v1/metrics` and the WebSocket.
    #[serde(with = "duration")]
    pub metrics_interval: Duration,
    /// How much sampled history `/api/v1/metrics` keeps in memory.
    #[serde(with = "duration")]
    pub metrics_history: Duration,
    /// Total lag (records) above which a group raises a `lag_alert` on the WebSocket.
    pub lag_alert_threshold: i64,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".to_owned(),
            max_browse_records: 1000,
            max_body_bytes: ByteSize::mib(8),
            metrics_interval: Duration::from_secs(5),
            metrics_history: Duration::from_secs(3600),
            lag_alert_threshold: 1000,
        }
    }
}

/// `[groups]`: the consumer-group coordinator (Kafka's `group.*` and `offsets.*` broker
/// settings).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GroupsConfig {
    /// Shortest session timeout a member may ask for (Kafka's
    /// `group.min.session.timeout.ms`); shorter ones get INVALID_SESSION_TIMEOUT.
    #[serde(with = "duration")]
    pub min_session_timeout: Duration,
    /// Longest session timeout a member may ask for (`group.max.session.timeout.ms`).
    #[serde(with = "duration")]
    pub max_session_timeout: Duration,
    /// How long the first rebalance of an empty group waits for more members before it
    /// completes, extended by each new member up to the rebalance timeout
    /// (`group.initial.rebalance.delay.ms`). Zero completes as soon as all have joined.
    #[serde(with = "duration")]
    pub initial_rebalance_delay: Duration,
    /// Most members one group may have (`group.max.size`); more get GROUP_MAX_SIZE_REACHED.
    pub max_size: u32,
    /// Committed offsets of a consumer group are deleted this long after the group became
    /// empty; offsets of a group that only commits (no members ever), this long after
    /// each commit (`offsets.retention.minutes`).
    #[serde(with = "duration")]
    pub offset_retention: Duration,
    /// Longest metadata string an offset commit may carry
    /// (`offset.metadata.max.bytes`); longer ones get OFFSET_METADATA_TOO_LARGE.
    #[serde(with = "size")]
    pub offset_metadata_max_bytes: ByteSize,
}

impl Default for GroupsConfig {
    fn default() -> Self {
        Self {
            min_session_timeout: Duration::from_secs(6),
            max_session_timeout: Duration::from_secs(30 * 60),
            initial_rebalance_delay: Duration::from_secs(3),
            max_size: 1000,
            offset_retention: Duration::from_secs(7 * 24 * 60 * 60),
            offset_metadata_max_bytes: ByteSize::kib(4),
        }
    }
}

/// Output format of the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line, for log shippers.
    Json,
}

/// `[log]`: logging to stderr.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogConfig {
    /// `text` or `json`.
    pub format: LogFormat,
    /// Which events to log, in tracing's `EnvFilter` syntax, e.g. `info` or
    /// `info,streamhouse_engine=debug`.
    pub filter: String,
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            format: LogFormat::Text,
            filter: "info".to_owned(),
        }
    }
}
