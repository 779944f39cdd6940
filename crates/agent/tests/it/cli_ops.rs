//! The client commands (`topic`, `produce`, `consume`, `group`, `agent`, `cluster`,
//! `completions`) of the real binary against a real agent, end to end.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::process::{Output, Stdio};
use std::time::Duration;

use serde_json::Value;

use crate::kafka::Agent;
use crate::streamhouse;

/// Runs `streamhouse <args> --server <agent>` with `stdin` as input.
fn run_with(agent_http: &str, args: &[&str], stdin: &[u8]) -> Output {
    let mut child = streamhouse()
        .args(args)
        .args(["--server", agent_http])
        .env_remove("STREAMHOUSE_SERVER")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn streamhouse");
    let mut input = child.stdin.take().expect("stdin");
    input.write_all(stdin).expect("write stdin");
    drop(input);
    let output = child.wait_with_output().expect("wait");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "{args:?} panicked: {stderr}");
    output
}

fn run(agent: &Agent, args: &[&str]) -> Output {
    run_with(&agent.http, args, b"")
}

/// Stdout of a command that must succeed.
fn ok(agent: &Agent, args: &[&str]) -> String {
    ok_with(agent, args, b"")
}

fn ok_with(agent: &Agent, args: &[&str], stdin: &[u8]) -> String {
    let output = run_with(&agent.http, args, stdin);
    assert!(
        output.status.success(),
        "{args:?} failed with {}: {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("UTF-8 stdout")
}

fn json(agent: &Agent, args: &[&str]) -> Value {
    let stdout = ok(agent, args);
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{args:?}: {e}: {stdout}"))
}

/// The records `consume --format json` printed.
fn consumed(agent: &Agent, args: &[&str]) -> Vec<Value> {
    ok(agent, args)
        .lines()
        .map(|line| serde_json::from_str(line).expect("one JSON record per line"))
        .collect()
}

/// Fails with exit code 1 and a message containing every one of `expected`.
fn fails(agent_http: &str, args: &[&str], expected: &[&str]) {
    let output = run_with(agent_http, args, b"");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{args:?}: {stderr}");
    for text in expected {
        assert!(stderr.contains(text), "{args:?}: {text:?} not in {stderr}");
    }
}

#[test]
fn cli_ops_topics_produce_and_consume_round_trip() {
    let agent = Agent::start();
    let created = ok(
        &agent,
        &[
            "topic",
            "create",
            "orders",
            "--partitions",
            "3",
            "--config",
            "retention.ms=3600000",
        ],
    );
    assert_eq!(created.trim(), "created topic orders with 3 partitions");
    ok(&agent, &["topic", "create", "other"]);

    let list = json(&agent, &["topic", "list", "--output", "json"]);
    assert_eq!(list["total"], 2);
    let names: BTreeSet<&str> = list["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert_eq!(names, BTreeSet::from(["orders", "other"]));
    let table = ok(&agent, &["topic", "list"]);
    assert!(
        table
            .lines()
            .any(|l| l.split_whitespace().collect::<Vec<_>>() == ["orders", "3", "0"]),
        "{table}"
    );

    let altered = ok(
        &agent,
        &["topic", "alter", "orders", "--config", "retention.ms=60000"],
    );
    assert!(altered.contains("retention.ms=60000"), "{altered}");
    let described = json(&agent, &["topic", "describe", "orders", "--output", "json"]);
    assert_eq!(described["configs"]["retention.ms"], "60000");
    assert_eq!(described["partitions"].as_array().map(Vec::len), Some(3));

    // Produce a file: keys split off each line, one header on every record.
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("records.txt");
    let lines = 1_200;
    let text: String = (0..lines)
        .map(|i| format!("key-{i}:value {i}: with a colon\n"))
        .collect();
    std::fs::write(&file, text).expect("write");
    let summary = json(
        &agent,
        &[
            "produce",
            "orders",
            "--file",
            file.to_str().expect("path"),
            "--key-separator",
            ":",
            "--header",
            "source=cli",
            "--output",
            "json",
        ],
    );
    assert_eq!(summary["records"], lines);
    let per_partition: Vec<&Value> = summary["partitions"]
        .as_array()
        .expect("partitions")
        .iter()
        .collect();
    assert_eq!(
        per_partition
            .iter()
            .filter_map(|p| p["records"].as_u64())
            .sum::<u64>(),
        lines
    );
    assert!(
        per_partition.len() > 1,
        "keys spread over partitions: {summary}"
    );

    // Read everything back and check every key, value, header and offset.
    let records = consumed(&agent, &["consume", "orders", "--format", "json"]);
    assert_eq!(records.len() as u64, lines);
    let mut offsets: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
    let mut seen = BTreeSet::new();
    for record in &records {
        assert_eq!(record["topic"], "orders");
        let key = record["key"].as_str().expect("key");
        let i: u64 = key.strip_prefix("key-").expect("key-N").parse().expect("N");
        assert_eq!(record["value"], format!("value {i}: with a colon"));
        assert_eq!(
            record["headers"],
            serde_json::json!([{"key": "source", "value": "cli"}])
        );
        assert!(record["timestamp"].as_i64().is_some_and(|t| t > 0));
        assert!(seen.insert(i), "record {i} twice");
        offsets
            .entry(record["partition"].as_i64().expect("partition"))
            .or_default()
            .push(record["offset"].as_i64().expect("offset"));
    }
    for (partition, offsets) in &offsets {
        let expected: Vec<i64> = (0..offsets.len() as i64).collect();
        assert_eq!(
            offsets, &expected,
            "partition {partition} in order, no gaps"
        );
        let reported = per_partition
            .iter()
            .find(|p| p["partition"].as_i64() == Some(*partition))
            .expect("partition in the summary");
        assert_eq!(reported["first_offset"], 0);
        assert_eq!(reported["last_offset"], offsets.len() as i64 - 1);
    }

    // stdin, a fixed key and partition, JSON values checked.
    let produced = ok_with(
        &agent,
        &[
            "produce",
            "orders",
            "--key",
            "k",
            "--partition",
            "2",
            "--json",
        ],
        b"{\"amount\": 10}\n[1, 2]\n",
    );
    assert!(
        produced.starts_with("produced 2 records to orders"),
        "{produced}"
    );
    let before = described_records(&agent, "orders");
    let output = run_with(
        &agent.http,
        &["produce", "orders", "--json"],
        b"{\"ok\": 1}\nnot json\n",
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("stdin, line 2: not JSON"), "{stderr}");
    assert_eq!(
        described_records(&agent, "orders"),
        before,
        "nothing of the bad batch was sent"
    );
    let output = run_with(
        &agent.http,
        &["produce", "orders", "--key-separator", "="],
        b"a=1\nb\n",
    );
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("line 2: no key separator"));

    // Text format, one partition, a limit.
    let text = ok(
        &agent,
        &["consume", "orders", "--partition", "2", "--from", "latest"],
    );
    assert_eq!(text, "", "nothing after the end");
    let partition2 = offsets.get(&2).map_or(0, Vec::len) as i64;
    let text = ok(
        &agent,
        &[
            "consume",
            "orders",
            "--partition",
            "2",
            "--from",
            &partition2.to_string(),
            "--print-key",
        ],
    );
    assert_eq!(text, "k\t{\"amount\": 10}\nk\t[1, 2]\n");
    let limited = consumed(
        &agent,
        &[
            "consume",
            "orders",
            "--max-messages",
            "5",
            "--format",
            "json",
        ],
    );
    assert_eq!(limited.len(), 5);
    let future = ok(
        &agent,
        &[
            "consume",
            "orders",
            "--from-timestamp",
            "2999-01-01T00:00:00Z",
        ],
    );
    assert_eq!(future, "");
    let all = ok(&agent, &["consume", "orders", "--from-timestamp", "0"]);
    assert_eq!(all.lines().count() as u64, lines + 2);

    // Delete says what it deleted.
    let deleted = ok(&agent, &["topic", "delete", "other"]);
    assert_eq!(
        deleted.trim(),
        "deleted topic other (1 partition, 0 records)"
    );
    fails(
        &agent.http,
        &["topic", "describe", "other"],
        &["other", "unknown_topic"],
    );
}

fn described_records(agent: &Agent, topic: &str) -> i64 {
    json(agent, &["topic", "describe", topic, "--output", "json"])["records"]
        .as_i64()
        .expect("records")
}

#[test]
fn cli_ops_consume_with_a_group_commits_and_resumes() {
    let agent = Agent::start();
    ok(&agent, &["topic", "create", "events", "--partitions", "2"]);
    let first: String = (0..10).map(|i| format!("e{i}\n")).collect();
    ok_with(&agent, &["produce", "events"], first.as_bytes());

    let read = consumed(
        &agent,
        &["consume", "events", "--group", "g", "--format", "json"],
    );
    assert_eq!(read.len(), 10);
    let again = consumed(
        &agent,
        &["consume", "events", "--group", "g", "--format", "json"],
    );
    assert!(again.is_empty(), "nothing new: {again:?}");

    ok_with(&agent, &["produce", "events"], b"n0\nn1\nn2\nn3\n");
    let new = consumed(
        &agent,
        &["consume", "events", "--group", "g", "--format", "json"],
    );
    let values: BTreeSet<&str> = new.iter().filter_map(|r| r["value"].as_str()).collect();
    assert_eq!(values, BTreeSet::from(["n0", "n1", "n2", "n3"]));
    assert!(
        new.iter().all(|r| r["offset"].as_i64() >= Some(5)),
        "{new:?}"
    );

    // The group's committed offsets are the ends of both partitions.
    let group = json(&agent, &["group", "describe", "g", "--output", "json"]);
    assert_eq!(group["total_lag"], 0, "{group}");
    let partitions = group["partitions"].as_array().expect("partitions");
    assert_eq!(partitions.len(), 2);
    let committed: i64 = partitions
        .iter()
        .map(|p| {
            assert_eq!(p["committed_offset"], p["log_end_offset"], "{p}");
            p["committed_offset"].as_i64().expect("committed")
        })
        .sum();
    assert_eq!(committed, 14);
    let table = ok(&agent, &["group", "describe", "g"]);
    assert!(table.contains("CURRENT-OFFSET"), "{table}");
    let list = json(&agent, &["group", "list", "--output", "json"]);
    assert_eq!(list["items"][0]["group_id"], "g");

    // Reset to the earliest: committed 0 everywhere, and the group reads it all again.
    let reset = ok(
        &agent,
        &[
            "group",
            "reset-offsets",
            "g",
            "--topic",
            "events",
            "--to-earliest",
        ],
    );
    assert!(reset.contains("NEW-OFFSET"), "{reset}");
    let group = json(&agent, &["group", "describe", "g", "--output", "json"]);
    for p in group["partitions"].as_array().expect("partitions") {
        assert_eq!(p["committed_offset"], 0, "{group}");
    }
    let three = consumed(
        &agent,
        &[
            "consume",
            "events",
            "--group",
            "g",
            "--max-messages",
            "3",
            "--format",
            "json",
        ],
    );
    assert_eq!(three.len(), 3);
    let group = json(&agent, &["group", "describe", "g", "--output", "json"]);
    assert_eq!(
        group["total_lag"], 11,
        "only what was printed is committed: {group}"
    );
    let reset = json(
        &agent,
        &[
            "group",
            "reset-offsets",
            "g",
            "--topic",
            "events",
            "--to-offset",
            "1",
            "--output",
            "json",
        ],
    );
    assert_eq!(
        reset,
        serde_json::json!([{"topic": "events", "partition": 0, "offset": 1}, {"topic": "events", "partition": 1, "offset": 1}])
    );

    // A new group with no commits starts at --from.
    let latest = consumed(
        &agent,
        &["consume", "events", "--group", "fresh", "--from", "latest"],
    );
    assert!(latest.is_empty());
    let fresh = json(&agent, &["group", "describe", "fresh", "--output", "json"]);
    assert_eq!(fresh["total_lag"], 0, "{fresh}");

    let deleted = ok(&agent, &["group", "delete", "g"]);
    assert_eq!(deleted.trim(), "deleted group g");
    fails(&agent.http, &["group", "describe", "g"], &["unknown_group"]);
}

#[test]
fn cli_ops_group_with_active_members_is_refused() {
    use rdkafka::config::ClientConfig;
    use rdkafka::consumer::{BaseConsumer, Consumer};

    let agent = Agent::start_with(&["--groups-initial-rebalance-delay", "100ms"]);
    ok(&agent, &["topic", "create", "live"]);
    ok_with(&agent, &["produce", "live"], b"a\nb\n");
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", &agent.addr)
        .set("group.id", "busy")
        .set("auto.offset.reset", "earliest")
        .set("session.timeout.ms", "6000")
        .create()
        .expect("consumer");
    consumer.subscribe(&["live"]).expect("subscribe");
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let mut read = 0;
    while read < 2 && std::time::Instant::now() < deadline {
        if let Some(Ok(_)) = consumer.poll(Duration::from_millis(100)) {
            read += 1;
        }
    }
    assert_eq!(read, 2, "the member joined and read");

    fails(
        &agent.http,
        &[
            "group",
            "reset-offsets",
            "busy",
            "--topic",
            "live",
            "--to-earliest",
        ],
        &["group_has_active_members"],
    );
    fails(
        &agent.http,
        &["consume", "live", "--group", "busy"],
        &["busy", "active member"],
    );
    fails(
        &agent.http,
        &["group", "delete", "busy"],
        &["group_has_active_members"],
    );
    let group = json(&agent, &["group", "describe", "busy", "--output", "json"]);
    assert_eq!(group["members"].as_array().map(Vec::len), Some(1));
}

#[test]
fn cli_ops_errors_name_the_problem() {
    let agent = Agent::start();
    fails(
        &agent.http,
        &["topic", "describe", "nope"],
        &["nope", "unknown_topic"],
    );
    fails(
        &agent.http,
        &["consume", "nope"],
        &["nope", "unknown_topic"],
    );
    fails(
        &agent.http,
        &["produce", "nope"],
        &["nope", "unknown_topic"],
    );
    fails(
        &agent.http,
        &["topic", "create", "bad name!"],
        &["bad name!", "invalid_topic"],
    );
    fails(
        &agent.http,
        &["topic", "create", "x", "--config", "retention.ms=soon"],
        &["retention.ms"],
    );
    ok(&agent, &["topic", "create", "one"]);
    fails(&agent.http, &["topic", "create", "one"], &["topic_exists"]);
    fails(
        &agent.http,
        &["consume", "one", "--partition", "4"],
        &["no partition 4"],
    );

    // Usage errors are clap's: exit code 2.
    for args in [
        &["topic", "create"][..],
        &["consume", "one", "--from", "soon"],
        &[
            "consume",
            "one",
            "--from",
            "latest",
            "--from-timestamp",
            "0",
        ],
        &["group", "reset-offsets", "g"],
        &["topic", "alter", "one"],
        &["produce", "one", "--key", "k", "--key-separator", ":"],
    ] {
        let output = run(&agent, args);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
    }

    // The server from the environment.
    let output = streamhouse()
        .args(["cluster", "info", "--output", "json"])
        .env("STREAMHOUSE_SERVER", &agent.http)
        .output()
        .expect("run");
    assert!(output.status.success());
    let cluster: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(cluster["topics"], 1);
    assert_eq!(cluster["live_agents"], 1);
    let info = ok(&agent, &["cluster", "info"]);
    assert!(info.contains("1 live of 1"), "{info}");
    let agents = json(&agent, &["agent", "list", "--output", "json"]);
    assert_eq!(agents[0]["status"], "live");
    assert_eq!(agents[0]["address"].as_str(), Some(agent.addr.as_str()));
    let table = ok(&agent, &["agent", "list"]);
    assert!(
        table.starts_with("AGENT") && table.contains("live"),
        "{table}"
    );
}

#[test]
fn cli_ops_unreachable_server_and_completions() {
    // Nothing listens on port 1.
    for args in [&["topic", "list"][..], &["consume", "t"], &["produce", "t"]] {
        fails(
            "http://127.0.0.1:1",
            args,
            &["cannot reach StreamHouse at http://127.0.0.1:1"],
        );
    }
    let output = streamhouse()
        .args(["completions", "bash"])
        .output()
        .expect("run");
    assert!(output.status.success());
    let script = String::from_utf8_lossy(&output.stdout);
    assert!(script.contains("_streamhouse()"), "a bash function");
    for word in ["consume", "reset-offsets", "--key-separator", "serve"] {
        assert!(script.contains(word), "{word} completed");
    }
    let output = streamhouse()
        .args(["completions", "tcsh"])
        .output()
        .expect("run");
    assert_eq!(
        output.status.code(),
        Some(2),
        "unknown shells are usage errors"
    );
}

#[test]
fn cli_ops_follow_prints_new_records_until_ctrl_c_and_commits() {
    use std::io::{BufRead, BufReader};

    let agent = Agent::start();
    ok(&agent, &["topic", "create", "feed"]);
    ok_with(&agent, &["produce", "feed"], b"old\n");
    let mut child = streamhouse()
        .args([
            "consume", "feed", "--follow", "--from", "1", "--group", "tail",
        ])
        .args(["--server", &agent.http])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn consume");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    // Started after "old" (offset 0); what arrives later is printed. (An offset, not
    // `latest`, so the test does not race the command's start.)
    std::thread::sleep(Duration::from_millis(300));
    ok_with(&agent, &["produce", "feed"], b"new1\nnew2\n");
    let lines: Vec<String> = (0..2)
        .map(|_| {
            rx.recv_timeout(Duration::from_secs(20))
                .expect("a followed record")
        })
        .collect();
    assert_eq!(lines, ["new1", "new2"]);

    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT).expect("SIGINT");
    let output = child.wait_with_output().expect("wait");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "Ctrl-C is a normal end: {stderr}");
    assert!(stderr.contains("consumed 2 records"), "{stderr}");
    let group = json(&agent, &["group", "describe", "tail", "--output", "json"]);
    assert_eq!(group["partitions"][0]["committed_offset"], 3, "{group}");
}
