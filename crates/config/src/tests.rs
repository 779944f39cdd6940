//! Tests of the `Config` struct itself: defaults, URL resolution, redaction and the
//! shipped example file. Loading is tested in `load/tests.rs`.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::Duration;

use figment::Figment;
use figment::providers::{Format, Toml};

use super::*;

const EXAMPLE: &str = include_str!("../../../config.example.toml");

#[test]
fn defaults() {
    let c = Config::default();
    assert_eq!(c.node.data_dir, PathBuf::from("./streamhouse-data"));
    assert_eq!(
        (c.node.agent_id.as_deref(), c.node.rack.as_deref()),
        (None, None)
    );
    assert_eq!(c.object_store.url, None);
    assert!(c.object_store.options.is_empty());
    assert_eq!(c.object_store.request_timeout, Duration::from_secs(30));
    assert_eq!(
        (c.metadata.url.as_deref(), c.metadata.max_connections),
        (None, 8)
    );
    let e = &c.engine;
    assert_eq!(e.flush_interval_for(false), Duration::from_millis(10));
    assert_eq!(e.flush_interval_for(true), Duration::from_millis(250));
    assert_eq!(e.flush_bytes_for(false), 4 << 20);
    assert_eq!(e.flush_bytes_for(true), 8 << 20);
    assert_eq!(e.max_buffered_bytes, ByteSize::mib(64));
    assert_eq!(e.read_cache_bytes, None);
    assert_eq!(e.read_cache_bytes_for(false), 16 << 20);
    assert_eq!(e.read_cache_bytes_for(true), 64 << 20);
    assert_eq!(e.tail_bytes, ByteSize::mib(32));
    assert_eq!(e.lease_ttl, Duration::from_secs(10));
    assert_eq!(e.heartbeat_interval, Duration::from_secs(2));
    assert_eq!(e.retention_check_interval, Duration::from_secs(30));
    assert!(e.merge_enabled);
    assert_eq!(e.merge_min_age, Duration::from_secs(60));
    assert_eq!(e.merge_small_bytes, ByteSize::mib(1));
    assert_eq!(e.merge_target_bytes, ByteSize::mib(8));
    assert_eq!(e.gc_interval, Duration::from_secs(300));
    assert_eq!(e.gc_grace, Duration::from_secs(3600));
    assert_eq!(e.upload_max_backoff, Duration::from_secs(5));
    assert_eq!(e.default_partitions, 1);
    assert_eq!(c.log.format, LogFormat::Text);
    assert_eq!(c.log.filter, "info");
    assert!(!c.is_remote_object_store());
    assert_eq!(c.flush_interval(), Duration::from_millis(10));
    c.validate().expect("defaults are valid");
}

#[test]
fn serialized_defaults_are_human_readable_and_round_trip() {
    let json = serde_json::to_value(Config::default()).expect("serializes");
    assert_eq!(json["engine"]["flush_interval"], serde_json::Value::Null);
    assert_eq!(json["engine"]["max_buffered_bytes"], "64MiB");
    assert_eq!(json["engine"]["gc_interval"], "5m");
    assert_eq!(json["engine"]["heartbeat_interval"], "2s");
    assert_eq!(json["log"]["format"], "text");
    let back: Config = serde_json::from_value(json).expect("deserializes");
    assert_eq!(back, Config::default());
}

#[test]
#[allow(clippy::result_large_err)] // figment's Jail API
fn default_urls_are_absolute_under_data_dir() {
    // In a jail: other tests change the (process-wide) current directory.
    figment::Jail::expect_with(|_| {
        let mut c = Config::default();
        let cwd = std::env::current_dir().expect("cwd");
        assert_eq!(c.data_dir_absolute(), cwd.join("streamhouse-data"));
        let objects = c.object_store_url();
        assert!(objects.starts_with("file:///"), "{objects}");
        assert!(objects.ends_with("/streamhouse-data/objects"), "{objects}");
        assert_eq!(
            c.metadata_url(),
            format!(
                "sqlite://{}",
                cwd.join("streamhouse-data/metadata.db").display()
            )
        );
        assert!(std::path::Path::new(&c.metadata_url()["sqlite://".len()..]).is_absolute());

        c.node.data_dir = PathBuf::from("/var/lib/sh with space");
        assert_eq!(
            c.object_store_url(),
            "file:///var/lib/sh%20with%20space/objects"
        );
        assert_eq!(
            c.metadata_url(),
            "sqlite:///var/lib/sh%20with%20space/metadata.db"
        );

        c.object_store.url = Some("S3://bucket/p".into());
        c.metadata.url = Some("postgres://db/x".into());
        assert_eq!(c.object_store_url(), "S3://bucket/p");
        assert_eq!(c.metadata_url(), "postgres://db/x");
        assert!(c.is_remote_object_store());
        assert_eq!(c.flush_bytes(), 8 << 20);
        c.object_store.url = Some("memory://".into());
        assert!(!c.is_remote_object_store());
        Ok(())
    });
}

#[test]
fn redaction() {
    let mut c = Config::default();
    c.metadata.url = Some("postgres://sh:hunter2@db/streamhouse".into());
    c.object_store.url = Some("s3://bucket/prefix".into());
    for (k, v) in [
        ("aws_access_key_id", "AKIAEXAMPLE"),
        ("aws_secret_access_key", "s3cr3t"),
        ("aws_session_token", "t0ken"),
        ("aws_region", "us-east-1"),
    ] {
        c.object_store.options.insert(k.into(), v.into());
    }
    let r = c.redacted();
    let shown = serde_json::to_string(&r).expect("serializes");
    for secret in ["hunter2", "s3cr3t", "t0ken"] {
        assert!(!shown.contains(secret), "{secret} leaked: {shown}");
    }
    for kept in [
        "AKIAEXAMPLE",
        "us-east-1",
        "s3://bucket/prefix",
        "postgres://sh:****@db",
    ] {
        assert!(shown.contains(kept), "{kept} missing: {shown}");
    }
    // The original is untouched.
    assert_eq!(c.object_store.options["aws_secret_access_key"], "s3cr3t");
}

#[test]
fn errors_display_one_per_line() {
    let one = ConfigErrors(vec!["a: bad".into()]);
    assert_eq!(one.to_string(), "invalid configuration: a: bad");
    let two = ConfigErrors(vec!["a: bad".into(), "b: worse".into()]);
    assert_eq!(
        two.to_string(),
        "invalid configuration (2 problems):\n  - a: bad\n  - b: worse"
    );
}

/// `#key = value` lines of the example, uncommented.
fn uncommented_example() -> String {
    EXAMPLE
        .lines()
        .map(|line| match line.strip_prefix('#') {
            Some(rest) if rest.starts_with(|c: char| c.is_ascii_lowercase()) => rest,
            _ => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn toml_leaves(toml: &str) -> BTreeSet<String> {
    let dict: figment::value::Dict = Figment::from(Toml::string(toml))
        .extract()
        .expect("example parses");
    let json = serde_json::to_value(dict).expect("serializes");
    let mut out = BTreeSet::new();
    leaves("", &json, &mut out);
    out
}

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

#[test]
fn example_file_as_shipped_is_the_defaults() {
    let config: Config = Figment::from(Toml::string(EXAMPLE))
        .extract()
        .expect("example parses");
    assert_eq!(config, Config::default());
}

#[test]
fn example_file_lists_every_key_with_its_default() {
    let text = uncommented_example();
    let mut config: Config = Figment::from(Toml::string(&text))
        .extract()
        .expect("uncommented example parses");
    config.validate().expect("uncommented example is valid");

    let default_leaves = {
        let mut out = BTreeSet::new();
        leaves(
            "",
            &serde_json::to_value(Config::default()).expect("ser"),
            &mut out,
        );
        out
    };
    assert_eq!(
        toml_leaves(&text),
        default_leaves,
        "example keys != config keys"
    );

    // Keys without a default show examples; everything else shows its default.
    assert!(config.object_store.options.contains_key("aws_endpoint"));
    config.node.agent_id = None;
    config.node.rack = None;
    config.node.worker_threads = None;
    config.object_store.url = None;
    config.object_store.options.clear();
    config.metadata.url = None;
    config.engine.flush_interval = None;
    config.engine.flush_bytes = None;
    config.engine.read_cache_bytes = None;
    config.kafka.advertised_addr = None;
    assert_eq!(config, Config::default());
}
