//! The command line: zero-config start, graceful stop, config errors, help.

use crate::{spawn_until, streamhouse, terminate};

#[test]
fn serve_with_no_config_runs_an_embedded_node_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut command = streamhouse();
    command.arg("serve").current_dir(dir.path());
    let mut child = spawn_until(command, "streamhouse is running");
    let data = dir.path().join("streamhouse-data");
    assert!(
        data.join("metadata.db").is_file(),
        "SQLite metadata under ./streamhouse-data"
    );
    assert!(
        data.join("objects").is_dir(),
        "objects under ./streamhouse-data"
    );
    let agent_id = std::fs::read_to_string(data.join("agent-id")).expect("agent id persisted");
    assert!(terminate(&mut child).success());

    // A restart keeps its identity.
    let mut command = streamhouse();
    command.arg("serve").current_dir(dir.path());
    let mut child = spawn_until(command, &format!("agent {}", agent_id.trim()));
    assert!(terminate(&mut child).success());
}

#[test]
fn invalid_config_is_reported_all_at_once_with_exit_code_2() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("bad.toml");
    std::fs::write(
        &file,
        "[engine]\nflush_bytes = \"lots\"\n[log]\ncolour = true\n",
    )
    .expect("write");
    let output = streamhouse()
        .args([
            "serve",
            "--engine-lease-ttl",
            "soon",
            "--metadata",
            "mysql://x",
        ])
        .arg("--config")
        .arg(&file)
        .env("STREAMHOUSE_OBJECT_STORE__URL", "ftp://nowhere")
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    for expected in [
        "engine.flush_bytes",
        "colour",
        "engine.lease_ttl",
        "metadata.url",
        "object_store.url",
    ] {
        assert!(
            stderr.contains(expected),
            "{expected:?} missing from:\n{stderr}"
        );
    }
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn help_documents_every_option() {
    let output = streamhouse()
        .args(["serve", "--help"])
        .output()
        .expect("run");
    assert!(output.status.success());
    let help = String::from_utf8_lossy(&output.stdout);
    let example = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../config.example.toml"
    ))
    .expect("config.example.toml");
    // Every key in the example config ("#key = value" under "[section]") has a flag.
    let mut section = String::new();
    let mut checked = 0;
    for line in example.lines() {
        let line = line.trim();
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = name.replace('_', "-");
        } else if section.contains('.') {
            continue; // e.g. [object_store.options]: free-form keys for the store
        } else if let Some((key, _)) = line.strip_prefix('#').and_then(|l| l.split_once(" = ")) {
            if key.contains(' ') || key.is_empty() {
                continue;
            }
            let flag = format!("--{section}-{}", key.trim().replace('_', "-"));
            let flag = flag.trim_end_matches('s'); // `options` is the repeatable `--object-store-option`
            assert!(help.contains(flag), "{flag} missing from serve --help");
            checked += 1;
        }
    }
    assert!(
        checked >= 20,
        "only {checked} keys found in config.example.toml"
    );
    for alias in ["--data-dir", "--object-store", "--metadata", "--config"] {
        assert!(help.contains(alias), "{alias} missing");
    }
}

#[test]
fn bench_prints_a_table() {
    let output = streamhouse()
        .args(["bench", "--total-bytes", "200000", "--record-sizes", "100"])
        .output()
        .expect("run");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    let row = stdout
        .lines()
        .find(|l| l.starts_with("| 100 B |"))
        .expect("result row");
    let records: u64 = row
        .split('|')
        .nth(2)
        .expect("records")
        .trim()
        .parse()
        .expect("number");
    assert!(records >= 2_000, "{row}");
}
