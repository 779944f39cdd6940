//! Semantic checks that serde cannot express, all collected rather than stopping at the
//! first.

use std::time::Duration;

use bytesize::ByteSize;

use crate::serde_helpers::format_size;
use crate::{Config, ConfigErrors, MAX_WORKER_THREADS, METADATA_SCHEMES, OBJECT_STORE_SCHEMES};

/// One failed check: the keys it is about (the first is the one to blame) and what's wrong.
#[derive(Debug)]
pub(crate) struct Problem {
    pub(crate) keys: Vec<&'static str>,
    pub(crate) message: String,
}

impl Problem {
    fn new(keys: &[&'static str], message: String) -> Self {
        Self {
            keys: keys.to_vec(),
            message,
        }
    }

    /// `key: message`, as shown to users.
    pub(crate) fn render(&self) -> String {
        format!(
            "{}: {}",
            self.keys.first().copied().unwrap_or("config"),
            self.message
        )
    }
}

const FLUSH_INTERVAL_RANGE: (Duration, Duration) =
    (Duration::from_millis(1), Duration::from_secs(60));
const FLUSH_BYTES_RANGE: (ByteSize, ByteSize) = (ByteSize::kib(1), ByteSize::gib(1));

fn dur(d: Duration) -> String {
    humantime::format_duration(d).to_string()
}

impl Config {
    /// Checks the cross-field and range rules that deserialization cannot, and returns
    /// every violation at once:
    ///
    /// - `object_store.url` and `metadata.url` parse and use a known scheme
    ///   ([`OBJECT_STORE_SCHEMES`], [`METADATA_SCHEMES`]);
    /// - `engine.flush_interval` is within 1ms..=60s and `engine.flush_bytes` within
    ///   1KiB..=1GiB;
    /// - `engine.max_buffered_bytes` >= 2 × the effective flush size;
    /// - `engine.heartbeat_interval` > 0 and `engine.lease_ttl` >= 3 × it;
    /// - the other intervals and timeouts are > 0;
    /// - `engine.merge_target_bytes` >= `engine.merge_small_bytes`;
    /// - `engine.default_partitions` >= 1 and `metadata.max_connections` >= 1;
    /// - `node.worker_threads`, when set, is within 1..=[`MAX_WORKER_THREADS`];
    /// - `log.filter` is valid `EnvFilter` syntax.
    pub fn validate(&self) -> Result<(), ConfigErrors> {
        let problems = self.problems();
        if problems.is_empty() {
            Ok(())
        } else {
            Err(ConfigErrors(problems.iter().map(Problem::render).collect()))
        }
    }

    pub(crate) fn problems(&self) -> Vec<Problem> {
        let mut out = Vec::new();
        let e = &self.engine;
        let k = &self.kafka;

        if k.listen.parse::<std::net::SocketAddr>().is_err() {
            out.push(Problem::new(
                &["kafka.listen"],
                format!(
                    "{:?} is not an IP address and port, e.g. 127.0.0.1:9092",
                    k.listen
                ),
            ));
        }
        if let Some(addr) = &k.advertised_addr
            && !addr
                .rsplit_once(':')
                .is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok())
        {
            out.push(Problem::new(
                &["kafka.advertised_addr"],
                format!("{addr:?} is not host:port, e.g. kafka.example.com:9092"),
            ));
        }
        if k.max_connections == 0 {
            out.push(Problem::new(
                &["kafka.max_connections"],
                "must be at least 1".to_owned(),
            ));
        }
        if !(1024..=i32::MAX as u64).contains(&k.max_request_bytes.as_u64()) {
            out.push(Problem::new(
                &["kafka.max_request_bytes"],
                format!("{} must be between 1KiB and 2GiB - 1", k.max_request_bytes),
            ));
        }
        if k.idle_timeout.is_zero() {
            out.push(Problem::new(
                &["kafka.idle_timeout"],
                "must be greater than 0".to_owned(),
            ));
        }

        if self.http.listen.parse::<std::net::SocketAddr>().is_err() {
            out.push(Problem::new(
                &["http.listen"],
                format!(
                    "{:?} is not an IP address and port, e.g. 127.0.0.1:8080",
                    self.http.listen
                ),
            ));
        }
        if self.http.max_browse_records == 0 {
            out.push(Problem::new(
                &["http.max_browse_records"],
                "must be at least 1".to_owned(),
            ));
        }
        if self.http.max_body_bytes.as_u64() < 1024 {
            out.push(Problem::new(
                &["http.max_body_bytes"],
                "must be at least 1KiB".to_owned(),
            ));
        }
        if self.http.metrics_interval < Duration::from_millis(100) {
            out.push(Problem::new(
                &["http.metrics_interval"],
                "must be at least 100ms".to_owned(),
            ));
        }
        if self.http.metrics_history < self.http.metrics_interval
            || self.http.metrics_history.as_secs_f64() / self.http.metrics_interval.as_secs_f64()
                > 100_000.0
        {
            out.push(Problem::new(
                &["http.metrics_history", "http.metrics_interval"],
                "metrics_history must be at least one metrics_interval and at most 100000 of them"
                    .to_owned(),
            ));
        }
        if self.http.lag_alert_threshold < 0 {
            out.push(Problem::new(
                &["http.lag_alert_threshold"],
                "must be at least 0".to_owned(),
            ));
        }
        let g = &self.groups;
        if g.min_session_timeout.is_zero() || g.min_session_timeout > g.max_session_timeout {
            out.push(Problem::new(
                &["groups.min_session_timeout", "groups.max_session_timeout"],
                "min_session_timeout must be greater than 0 and at most max_session_timeout"
                    .to_owned(),
            ));
        }
        if g.max_session_timeout.as_millis() > i32::MAX as u128 {
            out.push(Problem::new(
                &["groups.max_session_timeout"],
                "must be at most 24d (Kafka carries timeouts as 32-bit milliseconds)".to_owned(),
            ));
        }
        if g.max_size == 0 {
            out.push(Problem::new(
                &["groups.max_size"],
                "must be at least 1".to_owned(),
            ));
        }
        if g.offset_retention.is_zero() {
            out.push(Problem::new(
                &["groups.offset_retention"],
                "must be greater than 0".to_owned(),
            ));
        }

        if let Some(url) = &self.object_store.url
            && let Err(msg) = check_url(url, OBJECT_STORE_SCHEMES)
        {
            out.push(Problem::new(&["object_store.url"], msg));
        }
        if let Some(url) = &self.metadata.url
            && let Err(msg) = check_url(url, METADATA_SCHEMES)
        {
            out.push(Problem::new(&["metadata.url"], msg));
        }
        if self.object_store.direct_io && self.object_store_scheme() != "file" {
            out.push(Problem::new(
                &["object_store.direct_io"],
                "applies to file:// object stores only".into(),
            ));
        }
        if self.object_store.request_timeout.is_zero() {
            out.push(Problem::new(
                &["object_store.request_timeout"],
                "must be greater than 0".into(),
            ));
        }
        if let Some(threads) = self.node.worker_threads
            && !(1..=MAX_WORKER_THREADS).contains(&threads)
        {
            out.push(Problem::new(
                &["node.worker_threads"],
                format!("{threads} is outside 1..={MAX_WORKER_THREADS}"),
            ));
        }
        if self.metadata.max_connections < 1 {
            out.push(Problem::new(
                &["metadata.max_connections"],
                "must be at least 1".into(),
            ));
        }

        if let Some(interval) = e.flush_interval {
            let (lo, hi) = FLUSH_INTERVAL_RANGE;
            if !(lo..=hi).contains(&interval) {
                out.push(Problem::new(
                    &["engine.flush_interval"],
                    format!("{} is outside {}..={}", dur(interval), dur(lo), dur(hi)),
                ));
            }
        }
        let mut flush_bytes_ok = true;
        if let Some(bytes) = e.flush_bytes {
            let (lo, hi) = FLUSH_BYTES_RANGE;
            if !(lo..=hi).contains(&bytes) {
                flush_bytes_ok = false;
                out.push(Problem::new(
                    &["engine.flush_bytes"],
                    format!(
                        "{} is outside {}..={}",
                        format_size(bytes),
                        format_size(lo),
                        format_size(hi)
                    ),
                ));
            }
        }
        // Reporting this on top of an out-of-range flush_bytes would be noise.
        let flush_bytes = self.flush_bytes();
        if flush_bytes_ok && e.max_buffered_bytes.as_u64() < flush_bytes.saturating_mul(2) {
            out.push(Problem::new(
                &["engine.max_buffered_bytes", "engine.flush_bytes"],
                format!(
                    "{} must be at least 2 × the effective engine.flush_bytes ({}), so one \
                     segment can fill while another uploads",
                    format_size(e.max_buffered_bytes),
                    format_size(ByteSize(flush_bytes)),
                ),
            ));
        }

        if e.heartbeat_interval.is_zero() {
            out.push(Problem::new(
                &["engine.heartbeat_interval"],
                "must be greater than 0".into(),
            ));
        } else if e.lease_ttl < e.heartbeat_interval.saturating_mul(3) {
            out.push(Problem::new(
                &["engine.lease_ttl", "engine.heartbeat_interval"],
                format!(
                    "{} must be at least 3 × engine.heartbeat_interval ({}), so one late \
                     heartbeat does not lose the leases",
                    dur(e.lease_ttl),
                    dur(e.heartbeat_interval),
                ),
            ));
        }
        for (key, value) in [
            (
                "engine.retention_check_interval",
                e.retention_check_interval,
            ),
            ("engine.gc_interval", e.gc_interval),
            ("engine.upload_max_backoff", e.upload_max_backoff),
        ] {
            if value.is_zero() {
                out.push(Problem::new(&[key], "must be greater than 0".into()));
            }
        }
        if e.merge_target_bytes < e.merge_small_bytes {
            out.push(Problem::new(
                &["engine.merge_target_bytes", "engine.merge_small_bytes"],
                format!(
                    "{} must be at least engine.merge_small_bytes ({})",
                    format_size(e.merge_target_bytes),
                    format_size(e.merge_small_bytes),
                ),
            ));
        }
        if e.default_partitions < 1 {
            out.push(Problem::new(
                &["engine.default_partitions"],
                format!("{} must be at least 1", e.default_partitions),
            ));
        }

        if let Err(err) = tracing_subscriber::EnvFilter::try_new(&self.log.filter) {
            out.push(Problem::new(
                &["log.filter"],
                format!("{:?} is not a valid filter: {err}", self.log.filter),
            ));
        }
        out
    }
}

/// Checks that `raw` parses as a URL with one of `schemes`, and that bucket-style URLs
/// name a bucket. The error is shown after the key name.
fn check_url(raw: &str, schemes: &[&str]) -> Result<(), String> {
    let shown = crate::redact::redact_url(raw);
    let url = url::Url::parse(raw).map_err(|e| format!("{shown:?} is not a valid URL: {e}"))?;
    let scheme = url.scheme();
    if !schemes.contains(&scheme) {
        return Err(format!(
            "{shown:?} has unsupported scheme `{scheme}`; expected one of {}",
            schemes.join(", ")
        ));
    }
    match scheme {
        "s3" | "gs" | "az" if url.host_str().is_none_or(str::is_empty) => Err(format!(
            "{shown:?} names no bucket; expected {scheme}://<bucket>/<prefix>"
        )),
        "file"
            if url
                .host_str()
                .is_some_and(|h| !h.is_empty() && h != "localhost") =>
        {
            Err(format!(
                "{shown:?} has a host; file URLs need an absolute path: file:///abs/dir"
            ))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rendered(config: &Config) -> Vec<String> {
        config.problems().iter().map(Problem::render).collect()
    }

    #[test]
    fn defaults_are_valid() {
        assert_eq!(rendered(&Config::default()), Vec::<String>::new());
        assert!(Config::default().validate().is_ok());
    }

    #[test]
    fn urls() {
        let mut config = Config::default();
        for ok in [
            "memory://",
            "file:///tmp/x",
            "s3://bucket/prefix",
            "gs://b",
            "az://container/p",
        ] {
            config.object_store.url = Some(ok.into());
            assert_eq!(rendered(&config), Vec::<String>::new(), "{ok}");
        }
        for bad in ["ftp://x", "s3://", "no scheme", "file://relative/dir"] {
            config.object_store.url = Some(bad.into());
            let problems = rendered(&config);
            assert_eq!(problems.len(), 1, "{bad}: {problems:?}");
            assert!(
                problems[0].starts_with("object_store.url: "),
                "{problems:?}"
            );
        }
        config.object_store.url = None;
        for ok in [
            "sqlite:///tmp/m.db",
            "sqlite::memory:",
            "postgres://u:p@localhost/db",
            "postgresql://localhost/db",
        ] {
            config.metadata.url = Some(ok.into());
            assert_eq!(rendered(&config), Vec::<String>::new(), "{ok}");
        }
        config.metadata.url = Some("mysql://u:hunter2@h/db".into());
        let problems = rendered(&config);
        assert_eq!(problems.len(), 1);
        assert!(
            problems[0].contains("unsupported scheme `mysql`"),
            "{problems:?}"
        );
        assert!(
            !problems[0].contains("hunter2"),
            "password leaked: {problems:?}"
        );
    }

    #[test]
    fn worker_threads_default_to_one_fewer_than_the_cpus_and_are_bounded() {
        let mut config = Config::default();
        assert_eq!(config.node.worker_threads_or_default(1), 1);
        assert_eq!(config.node.worker_threads_or_default(2), 1);
        assert_eq!(config.node.worker_threads_or_default(8), 7);
        config.node.worker_threads = Some(3);
        assert_eq!(config.node.worker_threads_or_default(8), 3);
        assert_eq!(rendered(&config), Vec::<String>::new());
        for bad in [0, MAX_WORKER_THREADS + 1] {
            config.node.worker_threads = Some(bad);
            assert_eq!(
                rendered(&config),
                [format!("node.worker_threads: {bad} is outside 1..=1024")]
            );
        }
    }

    #[test]
    fn every_rule_is_reported_at_once() {
        let mut config = Config::default();
        let e = &mut config.engine;
        e.flush_interval = Some(Duration::from_secs(61));
        e.flush_bytes = Some(ByteSize::mib(48));
        e.heartbeat_interval = Duration::from_secs(4);
        e.merge_small_bytes = ByteSize::mib(128);
        e.default_partitions = 0;
        e.gc_interval = Duration::ZERO;
        config.metadata.max_connections = 0;
        config.log.filter = "streamhouse=loud".into();
        let errors = config.validate().expect_err("invalid").0;
        let keys: Vec<&str> = errors
            .iter()
            .map(|e| e.split(':').next().unwrap_or_default())
            .collect();
        assert_eq!(
            keys,
            [
                "metadata.max_connections",
                "engine.flush_interval",
                "engine.max_buffered_bytes",
                "engine.lease_ttl",
                "engine.gc_interval",
                "engine.merge_target_bytes",
                "engine.default_partitions",
                "log.filter",
            ],
            "{errors:#?}"
        );
    }

    #[test]
    fn flush_bounds_are_inclusive() {
        let mut config = Config::default();
        config.engine.flush_interval = Some(Duration::from_millis(1));
        config.engine.flush_bytes = Some(ByteSize::kib(1));
        assert!(config.validate().is_ok());
        config.engine.flush_interval = Some(Duration::from_secs(60));
        config.engine.flush_bytes = Some(ByteSize::mib(32));
        assert!(config.validate().is_ok());
        config.engine.flush_interval = Some(Duration::ZERO);
        config.engine.flush_bytes = Some(ByteSize::gib(2));
        // Out-of-range flush_bytes is not also blamed on max_buffered_bytes.
        assert_eq!(config.validate().expect_err("invalid").0.len(), 2);
    }

    #[test]
    fn buffer_bound_uses_the_remote_default() {
        let mut config = Config::default();
        config.engine.max_buffered_bytes = ByteSize::mib(12);
        assert!(config.validate().is_ok(), "local: 12MiB >= 2 × 4MiB");
        config.object_store.url = Some("s3://bucket".into());
        let errors = config.validate().expect_err("remote: 12MiB < 2 × 8MiB").0;
        assert!(errors[0].contains("(8MiB)"), "{errors:?}");
    }
}
