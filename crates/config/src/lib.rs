//! The one StreamHouse [`Config`] struct: its sections, loading and validation.
//!
//! **Layer.** `config` sits just above `types`: every library crate (`metadata`,
//! `storage`, `engine`, the servers) receives its own section *by value* and never reads
//! the environment; only the `agent` binary calls [`Config::load`].
//!
//! **Sources**, lowest to highest precedence:
//!
//! 1. the defaults ([`Config::default`], documented field by field below and in
//!    `config.example.toml`);
//! 2. a TOML file given by `--config PATH` or `STREAMHOUSE_CONFIG` (it must exist);
//! 3. environment variables `STREAMHOUSE_<SECTION>__<KEY>`, e.g.
//!    `STREAMHOUSE_ENGINE__FLUSH_INTERVAL=5ms` or `STREAMHOUSE_OBJECT_STORE__URL=s3://b/p`
//!    (map entries go one level deeper: `STREAMHOUSE_OBJECT_STORE__OPTIONS__AWS_REGION`);
//! 4. command-line flags `--<section>-<key>` from [`ConfigFlags`], e.g.
//!    `--engine-flush-interval 5ms`, plus the aliases `--data-dir`, `--object-store` and
//!    `--metadata`.
//!
//! Durations are strings like `"250ms"` or `"10s"`, sizes like `"8MiB"`. Unknown keys are
//! errors, not silently ignored. [`Config::load`] reports *every* problem at once — bad
//! values in several sections, unknown keys and failed [`Config::validate`] checks — in
//! one [`ConfigErrors`], each line naming the key and where its value came from.
//!
//! # Example
//!
//! ```
//! use streamhouse_config::{Config, ConfigFlags};
//!
//! // What `streamhouse serve --object-store memory:// --engine-flush-interval 1ms` gives.
//! let flags = ConfigFlags {
//!     object_store_url: Some("memory://".into()),
//!     engine_flush_interval: Some("1ms".into()),
//!     ..ConfigFlags::default()
//! };
//! let config = Config::load(None, &flags)?;
//! assert!(!config.is_remote_object_store());
//! assert_eq!(config.engine.flush_interval_for(false).as_millis(), 1);
//! assert!(config.metadata_url().starts_with("sqlite://"));
//!
//! // Bad values are all reported together.
//! let flags = ConfigFlags {
//!     engine_lease_ttl: Some("soon".into()),
//!     log_format: Some("xml".into()),
//!     ..ConfigFlags::default()
//! };
//! let errors = Config::load(None, &flags).expect_err("two bad values");
//! assert_eq!(errors.0.len(), 2, "{errors}");
//! # Ok::<(), streamhouse_config::ConfigErrors>(())
//! ```
#![warn(missing_docs)]

use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

mod flags;
mod load;
mod redact;
mod sections;
mod serde_helpers;
mod validate;

pub use bytesize::ByteSize;
pub use flags::ConfigFlags;
pub use sections::{
    EngineConfig, GroupsConfig, HttpConfig, KafkaConfig, LOCAL_FLUSH_BYTES, LOCAL_FLUSH_INTERVAL,
    LOCAL_READ_CACHE_BYTES, LogConfig, LogFormat, MAX_WORKER_THREADS, MetadataConfig, NodeConfig,
    ObjectStoreConfig, REMOTE_FLUSH_BYTES, REMOTE_FLUSH_INTERVAL, REMOTE_READ_CACHE_BYTES,
};

/// Object store URL schemes the agent can build a store for.
pub const OBJECT_STORE_SCHEMES: &[&str] = &["file", "memory", "s3", "gs", "az"];
/// Metadata database URL schemes the agent can connect to.
pub const METADATA_SCHEMES: &[&str] = &["sqlite", "postgres", "postgresql"];

/// The whole StreamHouse configuration. See the [crate docs](crate) for how it is loaded.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// `[node]`: identity and local state of this agent.
    pub node: NodeConfig,
    /// `[object_store]`: where segment objects live.
    pub object_store: ObjectStoreConfig,
    /// `[metadata]`: the metadata database.
    pub metadata: MetadataConfig,
    /// `[engine]`: batching, caching, leases and background maintenance.
    pub engine: EngineConfig,
    /// `[kafka]`: the Kafka protocol listener.
    pub kafka: KafkaConfig,
    /// `[groups]`: the consumer-group coordinator.
    pub groups: GroupsConfig,
    /// `[http]`: the HTTP listener.
    pub http: HttpConfig,
    /// `[log]`: logging.
    pub log: LogConfig,
}

/// The section names, i.e. the top-level keys of the TOML file and the `<SECTION>` of
/// `STREAMHOUSE_<SECTION>__<KEY>`.
pub const SECTIONS: &[&str] = &[
    "node",
    "object_store",
    "metadata",
    "engine",
    "kafka",
    "groups",
    "http",
    "log",
];

impl Config {
    /// `node.data_dir` made absolute against the current directory. The directory need not
    /// exist (nothing is created or canonicalized).
    pub fn data_dir_absolute(&self) -> PathBuf {
        std::path::absolute(&self.node.data_dir).unwrap_or_else(|_| self.node.data_dir.clone())
    }

    /// The object store URL: `object_store.url`, or `file://<absolute data_dir>/objects`.
    pub fn object_store_url(&self) -> String {
        match &self.object_store.url {
            Some(url) => url.clone(),
            None => file_url(&self.data_dir_absolute().join("objects")),
        }
    }

    /// The metadata database URL: `metadata.url`, or `sqlite://<absolute data_dir>/metadata.db`.
    pub fn metadata_url(&self) -> String {
        match &self.metadata.url {
            Some(url) => url.clone(),
            // sqlx percent-decodes the path, so encode it the way file URLs are.
            None => file_url(&self.data_dir_absolute().join("metadata.db")).replacen(
                "file://",
                "sqlite://",
                1,
            ),
        }
    }

    /// Whether the object store is remote (anything but `file://` and `memory://`), which
    /// selects the remote defaults of [`EngineConfig::flush_interval_for`] and
    /// [`EngineConfig::flush_bytes_for`].
    pub fn is_remote_object_store(&self) -> bool {
        !matches!(self.object_store_scheme().as_str(), "file" | "memory")
    }

    /// The object store URL's scheme, lower-cased (`file`, `s3`, ...).
    pub fn object_store_scheme(&self) -> String {
        let url = self.object_store_url();
        let scheme = url.split_once(':').map_or("", |(scheme, _)| scheme);
        scheme.to_ascii_lowercase()
    }

    /// The effective flush linger for this config's object store.
    pub fn flush_interval(&self) -> std::time::Duration {
        self.engine
            .flush_interval_for(self.is_remote_object_store())
    }

    /// The effective flush size in bytes for this config's object store.
    pub fn flush_bytes(&self) -> u64 {
        self.engine.flush_bytes_for(self.is_remote_object_store())
    }
}

/// `file://` URL of an absolute path (percent-encoding what needs it).
fn file_url(path: &Path) -> String {
    match url::Url::from_file_path(path) {
        Ok(url) => url.to_string(),
        // Only for non-absolute paths, which `data_dir_absolute` avoids when it can.
        Err(()) => format!("file://{}", path.display()),
    }
}

/// Every problem found while loading or validating a [`Config`], one per entry. Displayed
/// one per line, each naming the key and, where known, where its value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigErrors(pub Vec<String>);

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.as_slice() {
            [] => f.write_str("invalid configuration"),
            [one] => write!(f, "invalid configuration: {one}"),
            many => {
                write!(f, "invalid configuration ({} problems):", many.len())?;
                for problem in many {
                    write!(f, "\n  - {problem}")?;
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for ConfigErrors {}

/// `Result` with [`ConfigErrors`] as the default error.
pub type Result<T, E = ConfigErrors> = std::result::Result<T, E>;

#[cfg(test)]
mod tests;
