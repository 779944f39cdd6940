//! Crash safety: `kill -9` the real binary at random points while it appends, restart, and
//! prove every acknowledged batch is stored at its offset byte for byte, and no partial or
//! foreign batch appears.

use std::time::Duration;

use rand::Rng;

use crate::{spawn_until, streamhouse, terminate};

fn writer(dir: &std::path::Path) -> std::process::Command {
    let mut command = streamhouse();
    command
        .args([
            "selftest",
            "write",
            "--partitions",
            "3",
            "--concurrency",
            "16",
        ])
        .arg("--ack-log")
        .arg(dir.join("acks.log"))
        .arg("--data-dir")
        .arg(dir.join("data"));
    command
}

fn verify(dir: &std::path::Path) -> serde_json::Value {
    let output = streamhouse()
        .args(["selftest", "verify", "--partitions", "3"])
        .arg("--ack-log")
        .arg(dir.join("acks.log"))
        .arg("--data-dir")
        .arg(dir.join("data"))
        .output()
        .expect("run verify");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "verification failed: {}\n{stdout}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_str(stdout.lines().last().expect("summary line")).expect("summary JSON")
}

#[test]
fn acknowledged_data_survives_repeated_kill_9() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut rng = rand::rng();
    for round in 0..12 {
        let mut child = if round % 3 == 2 {
            // Sometimes kill during start-up: migrations, lease takeover, first flush.
            let child = writer(dir.path())
                .stdout(std::process::Stdio::null())
                .spawn()
                .expect("spawn");
            std::thread::sleep(Duration::from_millis(rng.random_range(0..150)));
            child
        } else {
            let child = spawn_until(writer(dir.path()), "selftest writer ready");
            std::thread::sleep(Duration::from_millis(rng.random_range(50..700)));
            child
        };
        child.kill().expect("kill -9");
        child.wait().expect("reap");
    }
    let summary = verify(dir.path());
    eprintln!("after 12 kill -9 rounds: {summary}");
    let acknowledged = summary["acknowledged"].as_u64().expect("count");
    assert!(
        acknowledged >= 100,
        "the workload acknowledged too little to prove anything: {summary}"
    );
    assert!(summary["stored_batches"].as_u64().expect("count") >= acknowledged);
}

#[test]
fn sigterm_flushes_everything_accepted_and_exits_cleanly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut command = writer(dir.path());
    // A long linger: on SIGTERM, lots of accepted data is still only in memory.
    command.args([
        "--engine-flush-interval",
        "2s",
        "--engine-flush-bytes",
        "16MiB",
    ]);
    let mut child = spawn_until(command, "selftest writer ready");
    std::thread::sleep(Duration::from_millis(700));
    let status = terminate(&mut child);
    assert!(status.success(), "clean exit after SIGTERM, got {status}");
    let summary = verify(dir.path());
    assert!(
        summary["acknowledged"].as_u64().expect("count") > 0,
        "{summary}"
    );
}
