//! Loading: precedence, error collection, environment handling. Every test runs in a
//! `figment::Jail` (a temp cwd, a restored environment, and a global lock so tests that
//! touch the environment don't race).

use std::path::Path;
use std::time::Duration;

use clap::Parser;
use figment::Jail;

use crate::{ByteSize, Config, ConfigErrors, ConfigFlags, LogFormat};

#[derive(Parser, Debug)]
struct Cli {
    #[command(flatten)]
    flags: ConfigFlags,
}

fn flags(args: &[&str]) -> ConfigFlags {
    let args = std::iter::once("streamhouse").chain(args.iter().copied());
    Cli::try_parse_from(args).expect("flags parse").flags
}

/// Runs `f` in a jail with an empty environment.
#[allow(clippy::result_large_err)] // figment's Jail API
fn jailed(f: impl FnOnce(&mut Jail)) {
    Jail::expect_with(|jail| {
        jail.clear_env();
        f(jail);
        Ok(())
    });
}

fn create(jail: &Jail, name: &str, contents: &str) {
    jail.create_file(name, contents).expect("create file");
}

fn load_err(file: Option<&Path>, flags: &ConfigFlags) -> Vec<String> {
    match Config::load(file, flags) {
        Ok(config) => panic!("expected errors, loaded {config:?}"),
        Err(ConfigErrors(errors)) => errors,
    }
}

/// Asserts that exactly one error starts with `key: ` and contains every `part`.
fn assert_error(errors: &[String], key: &str, parts: &[&str]) {
    let found: Vec<&String> = errors
        .iter()
        .filter(|e| e.starts_with(&format!("{key}: ")))
        .collect();
    assert_eq!(
        found.len(),
        1,
        "one error for {key} expected in {errors:#?}"
    );
    for part in parts {
        assert!(found[0].contains(part), "{part:?} not in {:?}", found[0]);
    }
}

#[test]
fn no_sources_gives_the_defaults() {
    jailed(|_| {
        let config = Config::load(None, &ConfigFlags::default()).expect("loads");
        assert_eq!(config, Config::default());
    });
}

#[test]
fn file_then_env_then_flags() {
    jailed(|jail| {
        create(
            jail,
            "sh.toml",
            r#"
            [node]
            data_dir = "/from/file"
            rack = "file-rack"
            [engine]
            flush_interval = "100ms"
            lease_ttl = "30s"
            heartbeat_interval = "5s"
            merge_enabled = false
            [log]
            filter = "debug"
            format = "json"
            "#,
        );
        let path = jail.directory().join("sh.toml");
        let from_file = Config::load(Some(&path), &ConfigFlags::default()).expect("file");
        assert_eq!(from_file.node.data_dir, Path::new("/from/file"));
        assert_eq!(
            from_file.engine.flush_interval,
            Some(Duration::from_millis(100))
        );
        assert_eq!(from_file.log.format, LogFormat::Json);
        assert!(!from_file.engine.merge_enabled);

        jail.set_env("STREAMHOUSE_ENGINE__FLUSH_INTERVAL", "50ms");
        jail.set_env("STREAMHOUSE_LOG__FILTER", "warn");
        jail.set_env("STREAMHOUSE_NODE__RACK", "env-rack");
        jail.set_env("STREAMHOUSE_ENGINE__MERGE_ENABLED", "true");
        jail.set_env("STREAMHOUSE_METADATA__MAX_CONNECTIONS", "16");
        jail.set_env("STREAMHOUSE_OBJECT_STORE__URL", "s3://env-bucket/p");
        let with_env = Config::load(Some(&path), &ConfigFlags::default()).expect("env");
        assert_eq!(
            with_env.engine.flush_interval,
            Some(Duration::from_millis(50))
        );
        assert_eq!(with_env.log.filter, "warn");
        assert_eq!(with_env.node.rack.as_deref(), Some("env-rack"));
        assert!(with_env.engine.merge_enabled);
        assert_eq!(with_env.metadata.max_connections, 16);
        assert_eq!(
            with_env.object_store.url.as_deref(),
            Some("s3://env-bucket/p")
        );
        assert_eq!(
            with_env.engine.lease_ttl,
            Duration::from_secs(30),
            "file still applies"
        );

        // STREAMHOUSE_CONFIG names the file via the flags' clap `env`.
        jail.set_env("STREAMHOUSE_CONFIG", path.display());
        let flags = flags(&[
            "--engine-flush-interval",
            "7ms",
            "--log-filter",
            "error",
            "--data-dir",
            "/from/flag",
            "--object-store",
            "memory://",
            "--metadata-max-connections",
            "2",
            "--engine-merge-enabled",
            "false",
            "--engine-flush-bytes",
            "2MiB",
        ]);
        assert_eq!(flags.config.as_deref(), Some(path.as_path()));
        let with_flags = Config::load(None, &flags).expect("flags");
        assert_eq!(
            with_flags.engine.flush_interval,
            Some(Duration::from_millis(7))
        );
        assert_eq!(with_flags.log.filter, "error");
        assert_eq!(with_flags.node.data_dir, Path::new("/from/flag"));
        assert_eq!(with_flags.object_store.url.as_deref(), Some("memory://"));
        assert_eq!(with_flags.metadata.max_connections, 2);
        assert!(!with_flags.engine.merge_enabled);
        assert_eq!(with_flags.engine.flush_bytes, Some(ByteSize::mib(2)));
        assert_eq!(
            with_flags.node.rack.as_deref(),
            Some("env-rack"),
            "env still applies"
        );
        assert_eq!(with_flags.log.format, LogFormat::Json, "file still applies");
    });
}

#[test]
fn every_problem_is_reported_at_once_with_its_origin() {
    jailed(|jail| {
        create(
            jail,
            "bad.toml",
            r#"
            [object_store]
            url = "ftp://example.com/x"
            [engine]
            flush_interval = "fast"
            tail_bytes = "lots"
            [log]
            colour = true
            "#,
        );
        jail.set_env("STREAMHOUSE_METADATA__MAX_CONNECTIONS", "many");
        let path = jail.directory().join("bad.toml");
        let flags = flags(&["--log-format", "xml", "--engine-default-partitions", "0"]);
        let errors = load_err(Some(&path), &flags);
        let file = path.display().to_string();
        assert_error(
            &errors,
            "engine.flush_interval",
            &["\"fast\"", "TOML file", &file],
        );
        assert_error(&errors, "engine.tail_bytes", &["\"lots\"", &file]);
        assert_error(&errors, "log.colour", &["unknown key", "filter", &file]);
        assert_error(
            &errors,
            "object_store.url",
            &["unsupported scheme `ftp`", &file],
        );
        assert_error(
            &errors,
            "metadata.max_connections",
            &["environment variable STREAMHOUSE_METADATA__MAX_CONNECTIONS"],
        );
        assert_error(
            &errors,
            "log.format",
            &["\"xml\"", "text, json", "command-line flag --log-format"],
        );
        assert_error(
            &errors,
            "engine.default_partitions",
            &[
                "at least 1",
                "command-line flag --engine-default-partitions",
            ],
        );
        assert_eq!(errors.len(), 7, "{errors:#?}");

        // And the Display has them one per line.
        let shown = Config::load(Some(&path), &flags)
            .expect_err("invalid")
            .to_string();
        assert_eq!(shown.lines().count(), 8, "{shown}");
    });
}

#[test]
fn unknown_keys_and_sections_are_rejected() {
    jailed(|jail| {
        create(
            jail,
            "a.toml",
            "[kafak]\nport = 9092\n[engine]\nflush_intervall = \"5ms\"\n",
        );
        jail.set_env("STREAMHOUSE_NODE__DATADIR", "/x");
        let errors = load_err(Some(Path::new("a.toml")), &ConfigFlags::default());
        assert_error(&errors, "kafak", &["unknown section", "a.toml"]);
        assert_error(
            &errors,
            "engine.flush_intervall",
            &["unknown key", "flush_interval"],
        );
        assert_error(
            &errors,
            "node.datadir",
            &[
                "unknown key",
                "environment variable STREAMHOUSE_NODE__DATADIR",
            ],
        );
        assert_eq!(errors.len(), 3, "{errors:#?}");
    });
}

#[test]
fn missing_or_malformed_file() {
    jailed(|jail| {
        let errors = load_err(Some(Path::new("nope.toml")), &ConfigFlags::default());
        assert_eq!(errors.len(), 1, "{errors:#?}");
        assert!(errors[0].contains("nope.toml") && errors[0].contains("not found"));

        // A syntax error is reported together with problems in the other layers.
        create(jail, "broken.toml", "[engine\nflush_interval = 5ms\n");
        let flags = flags(&["--engine-lease-ttl", "forever"]);
        let errors = load_err(Some(Path::new("broken.toml")), &flags);
        assert_eq!(errors.len(), 2, "{errors:#?}");
        assert!(errors[0].contains("broken.toml"), "{errors:#?}");

        assert_error(&errors, "engine.lease_ttl", &["\"forever\""]);
    });
}

#[test]
fn environment_filtering() {
    jailed(|jail| {
        jail.set_env("STREAMHOUSE_TEST_PG_URL", "postgres://x");
        jail.set_env("STREAMHOUSE_S3S_FS", "/bin/s3s-fs");
        jail.set_env("STREAMHOUSE_OTHER__THING", "1");
        jail.set_env("STREAMHOUSE_NODE__AGENT_ID", "42");
        jail.set_env("STREAMHOUSE_OBJECT_STORE__OPTIONS__AWS_ALLOW_HTTP", "true");
        jail.set_env("STREAMHOUSE_OBJECT_STORE__OPTIONS__AWS_REGION", "eu-west-1");
        // Values that look structured stay strings.
        let filter = "info,streamhouse_engine=debug,[span{id=1}]=trace";
        let pg = "postgres://sh:p%40ss@db:5432/x?sslmode=require&options=-c%20a=b";
        jail.set_env("STREAMHOUSE_LOG__FILTER", filter);
        jail.set_env("STREAMHOUSE_METADATA__URL", pg);
        let config = Config::load(None, &ConfigFlags::default()).expect("loads");
        assert_eq!(config.log.filter, filter);
        assert_eq!(config.metadata.url.as_deref(), Some(pg));
        assert_eq!(config.node.agent_id.as_deref(), Some("42"));
        assert_eq!(config.object_store.options["aws_allow_http"], "true");
        assert_eq!(config.object_store.options["aws_region"], "eu-west-1");

        // A single underscore would be silently ignored; it is reported instead.
        jail.set_env("STREAMHOUSE_ENGINE_FLUSH_INTERVAL", "5ms");
        let errors = load_err(None, &ConfigFlags::default());
        assert_eq!(errors.len(), 1, "{errors:#?}");
        assert!(
            errors[0].contains("STREAMHOUSE_ENGINE__FLUSH_INTERVAL"),
            "{errors:#?}"
        );
    });
}

#[test]
fn typed_values_from_toml_and_options_from_flags() {
    jailed(|jail| {
        create(
            jail,
            "t.toml",
            r#"
            [node]
            agent_id = 7
            [engine]
            flush_bytes = 65536
            [object_store.options]
            aws_allow_http = true
            "#,
        );
        let flags = flags(&[
            "--object-store-option",
            "aws_region=us-east-1",
            "--object-store-option",
            "aws_endpoint=http://127.0.0.1:9000/?a=b",
        ]);
        let config = Config::load(Some(Path::new("t.toml")), &flags).expect("loads");
        assert_eq!(config.node.agent_id.as_deref(), Some("7"));
        assert_eq!(config.engine.flush_bytes, Some(ByteSize::kib(64)));
        let options = &config.object_store.options;
        assert_eq!(options.len(), 3, "{options:?}");
        assert_eq!(options["aws_endpoint"], "http://127.0.0.1:9000/?a=b");
    });
}

#[test]
fn worker_threads_from_a_flag_within_bounds() {
    jailed(|_| {
        let config = Config::load(None, &flags(&["--node-worker-threads", "3"])).expect("loads");
        assert_eq!(config.node.worker_threads, Some(3));
        let errors = load_err(None, &flags(&["--node-worker-threads", "0"]));
        assert_error(
            &errors,
            "node.worker_threads",
            &["0 is outside 1..=1024", "--node-worker-threads"],
        );
        let errors = load_err(None, &flags(&["--node-worker-threads", "many"]));
        assert_error(&errors, "node.worker_threads", &["\"many\""]);
    });
}

#[test]
fn direct_io_from_a_flag_for_local_stores_only() {
    jailed(|_| {
        let config = Config::load(None, &flags(&[])).expect("loads");
        assert!(!config.object_store.direct_io, "off by default");
        let config =
            Config::load(None, &flags(&["--object-store-direct-io", "true"])).expect("loads");
        assert!(config.object_store.direct_io);
        let errors = load_err(
            None,
            &flags(&[
                "--object-store-direct-io",
                "true",
                "--object-store-url",
                "s3://bucket/prefix",
            ]),
        );
        assert_error(
            &errors,
            "object_store.direct_io",
            &["file:// object stores only", "--object-store-direct-io"],
        );
        let errors = load_err(None, &flags(&["--object-store-direct-io", "sometimes"]));
        assert_error(&errors, "object_store.direct_io", &["\"sometimes\""]);
    });
}

#[test]
fn validation_problems_name_the_origin_of_each_key() {
    jailed(|_| {
        let flags = flags(&["--engine-heartbeat-interval", "5s"]);
        let errors = load_err(None, &flags);
        assert_eq!(errors.len(), 1, "{errors:#?}");
        assert_error(
            &errors,
            "engine.lease_ttl",
            &["engine.heartbeat_interval from command-line flag --engine-heartbeat-interval"],
        );

        // A key that failed to parse is not blamed again by the rules that use it.
        let flags = ConfigFlags {
            engine_lease_ttl: Some("eventually".into()),
            engine_heartbeat_interval: Some("5s".into()),
            ..ConfigFlags::default()
        };
        let errors = load_err(None, &flags);
        assert_eq!(errors.len(), 1, "{errors:#?}");
        assert_error(&errors, "engine.lease_ttl", &["\"eventually\""]);
    });
}

#[test]
fn relative_data_dir_resolves_against_cwd() {
    jailed(|jail| {
        let config = Config::load(None, &flags(&["--data-dir", "state"])).expect("loads");
        let dir = jail.directory().join("state");
        assert_eq!(
            config.metadata_url(),
            format!("sqlite://{}", dir.join("metadata.db").display())
        );
        assert!(!dir.exists(), "resolving must not create the directory");
    });
}
