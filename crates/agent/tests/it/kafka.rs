//! The Kafka protocol with real third-party clients against the real binary: kcat
//! (librdkafka), confluent-kafka (librdkafka) and kafka-python (its own protocol code).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command};
use std::time::Duration;

use crate::{spawn_until_line, streamhouse, terminate};

/// A running agent on a free port, stopped (SIGTERM) on drop.
pub(crate) struct Agent {
    child: Child,
    pub(crate) addr: String,
    /// `http://host:port` of the HTTP listener.
    pub(crate) http: String,
    flags: Vec<String>,
    dir: tempfile::TempDir,
    stopped: bool,
}

impl Agent {
    pub(crate) fn start() -> Self {
        Self::start_with(&[])
    }

    pub(crate) fn start_with(flags: &[&str]) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let flags: Vec<String> = flags.iter().map(|f| (*f).to_owned()).collect();
        let (child, addr, http) = Self::spawn(&flags, dir.path());
        Self {
            child,
            addr,
            http,
            flags,
            dir,
            stopped: false,
        }
    }

    /// Stops the agent (SIGTERM) and returns how it exited.
    pub(crate) fn stop(&mut self) -> std::process::ExitStatus {
        self.stopped = true;
        terminate(&mut self.child)
    }

    /// Stops the agent (SIGTERM) and starts it again on the same data directory; it
    /// listens on a new port.
    pub(crate) fn restart(&mut self) {
        let status = terminate(&mut self.child);
        assert!(status.success(), "agent exited with {status}");
        let (child, addr, http) = Self::spawn(&self.flags, self.dir.path());
        self.child = child;
        self.addr = addr;
        self.http = http;
    }

    fn spawn(flags: &[String], dir: &std::path::Path) -> (Child, String, String) {
        let mut command = streamhouse();
        command
            .args([
                "serve",
                "--kafka-listen",
                "127.0.0.1:0",
                "--http-listen",
                "127.0.0.1:0",
                "--engine-default-partitions",
                "1",
            ])
            .args(flags)
            .arg("--data-dir")
            .arg(dir);
        let (child, line) = spawn_until_line(command, "Kafka on ");
        let addr = line
            .split("Kafka on ")
            .nth(1)
            .and_then(|rest| rest.split(';').next())
            .expect("address in the ready line")
            .to_owned();
        let http = line
            .split("HTTP on ")
            .nth(1)
            .and_then(|rest| rest.split(';').next())
            .expect("HTTP address in the ready line");
        (child, addr, format!("http://{http}"))
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        if self.stopped {
            return;
        }
        let status = terminate(&mut self.child);
        if !std::thread::panicking() {
            assert!(status.success(), "agent exited with {status}");
        }
    }
}

/// Whether a client tool is installed; under CI=true a missing one fails the test.
pub(crate) fn have(tool: &str, probe: &mut Command) -> bool {
    let ok = probe.output().is_ok_and(|o| o.status.success());
    if !ok {
        streamhouse_test_support::require_service(tool, "install it with ./scripts/test");
    }
    ok
}

pub(crate) fn python_script(name: &str) -> String {
    format!("{}/tests/it/python/{name}", env!("CARGO_MANIFEST_DIR"))
}

pub(crate) fn run_python(args: &[&str]) -> serde_json::Value {
    let output = Command::new("python3")
        .args(args)
        .output()
        .expect("python3");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{args:?} failed: {}\n{stdout}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_str(stdout.lines().last().expect("output")).expect("JSON")
}

pub(crate) fn python_clients_installed() -> bool {
    have(
        "Python Kafka clients (confluent-kafka, kafka-python)",
        Command::new("python3").args([
            "-c",
            "import confluent_kafka, kafka, snappy, zstandard, lz4",
        ]),
    )
}

#[test]
fn kcat_round_trips_keys_values_and_order() {
    if !have("kcat", Command::new("kcat").arg("-V")) {
        return;
    }
    let agent = Agent::start();
    let input: String = (0..2_000)
        .map(|i| format!("key-{i}\tvalue-{i}-{}\n", "x".repeat(i % 50)))
        .collect();
    let mut produce = Command::new("kcat")
        .args([
            "-b",
            &agent.addr,
            "-t",
            "kcat-orders",
            "-P",
            "-K",
            "\t",
            "-X",
            "acks=all",
        ])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .expect("kcat -P");
    produce
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("write");
    assert!(produce.wait().expect("wait").success());

    let output = Command::new("kcat")
        .args([
            "-b",
            &agent.addr,
            "-t",
            "kcat-orders",
            "-C",
            "-e",
            "-f",
            "%k\t%s\t%o\n",
        ])
        .output()
        .expect("kcat -C");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let consumed = String::from_utf8(output.stdout).expect("utf8");
    let expected: String = (0..2_000)
        .map(|i| format!("key-{i}\tvalue-{i}-{}\t{i}\n", "x".repeat(i % 50)))
        .collect();
    assert_eq!(
        consumed, expected,
        "every record, in order, at offsets 0..2000"
    );

    // Metadata names this agent as the leader of the auto-created topic.
    let listing = Command::new("kcat")
        .args(["-b", &agent.addr, "-L", "-t", "kcat-orders"])
        .output()
        .expect("kcat -L");
    let listing = String::from_utf8_lossy(&listing.stdout);
    assert!(
        listing.contains("topic \"kcat-orders\" with 1 partitions"),
        "{listing}"
    );
    assert!(listing.contains(&format!("at {}", agent.addr)), "{listing}");
}

#[test]
fn every_codec_produced_by_librdkafka_is_read_by_kafka_python() {
    if !python_clients_installed() {
        return;
    }
    let agent = Agent::start();
    for codec in ["none", "gzip", "snappy", "lz4", "zstd"] {
        let topic = format!("codec-{codec}");
        let result = run_python(&[
            &python_script("roundtrip.py"),
            &agent.addr,
            &topic,
            codec,
            "3000",
        ]);
        let records = result["records"]
            .as_array()
            .unwrap_or_else(|| panic!("{codec}: {result}"));
        assert_eq!(records.len(), 3000, "{codec}");
        let mut next_offset = [0i64; 3];
        for r in records {
            let i: i64 = r["h"][0][1]
                .as_str()
                .expect("h header")
                .parse()
                .expect("index");
            let p = r["p"].as_i64().expect("partition") as usize;
            assert_eq!(p as i64, i % 3, "{codec}: record {i} in its partition");
            assert_eq!(
                r["o"].as_i64(),
                Some(next_offset[p]),
                "{codec}: per-partition order"
            );
            next_offset[p] += 1;
            let key = (i % 10 != 0).then(|| format!("key-{i}"));
            assert_eq!(
                r["k"].as_str(),
                key.as_deref(),
                "{codec}: key of {i} (null keys stay null)"
            );
            let value = (i % 17 != 0).then(|| format!("value-{i}").repeat(1 + (i % 3) as usize));
            assert_eq!(
                r["v"].as_str(),
                value.as_deref(),
                "{codec}: value of {i} (null values stay null)"
            );
            assert_eq!(
                r["h"][1],
                serde_json::json!(["empty", null]),
                "{codec}: null header value"
            );
            assert_eq!(
                r["ts"].as_i64(),
                Some(1_700_000_000_000 + i),
                "{codec}: timestamp"
            );
        }
    }
}

#[test]
fn admin_operations_and_errors_arrive_as_kafka_error_codes() {
    if !python_clients_installed() {
        return;
    }
    let agent = Agent::start();
    let out = run_python(&[&python_script("admin_errors.py"), &agent.addr]);
    assert_eq!(out["create"], "ok", "{out}");
    assert_eq!(out["create_again"], "TOPIC_ALREADY_EXISTS");
    assert_eq!(out["invalid_name"], "TOPIC_EXCEPTION");
    assert_eq!(out["zero_partitions"], "INVALID_PARTITIONS");
    assert_eq!(out["bad_config"], "INVALID_CONFIG");
    assert_eq!(out["validate_only"], "ok");
    assert_eq!(
        out["listed"],
        serde_json::json!(["admin-t"]),
        "validate_only created nothing"
    );
    assert_eq!(out["admin_t_partitions"], 3);
    assert_eq!(
        out["too_large"], "MSG_SIZE_TOO_LARGE",
        "max.message.bytes=2000 refuses 5000 bytes"
    );
    assert_eq!(out["out_of_range"], "OFFSET_OUT_OF_RANGE");
    assert_eq!(out["delete"]["admin-t"], "ok");
    assert_eq!(out["delete"]["never-existed"], "UNKNOWN_TOPIC_OR_PART");
    assert_eq!(out["listed_after"], serde_json::json!([]));
}

/// ApiVersions v3 request bytes (header v2, empty client software fields).
fn api_versions_request(correlation_id: i32) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(&18i16.to_be_bytes()); // ApiVersions
    body.extend_from_slice(&3i16.to_be_bytes());
    body.extend_from_slice(&correlation_id.to_be_bytes());
    body.extend_from_slice(&(-1i16).to_be_bytes()); // null client id
    body.push(0); // header tagged fields
    body.extend_from_slice(&[1, 1, 0]); // software name "", version "", tagged fields
    let mut frame = (body.len() as i32).to_be_bytes().to_vec();
    frame.extend(body);
    frame
}

fn answers_api_versions(addr: &str) -> bool {
    let Ok(mut socket) = TcpStream::connect(addr) else {
        return false;
    };
    socket
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    socket.write_all(&api_versions_request(77)).expect("write");
    let mut header = [0u8; 8];
    socket.read_exact(&mut header).is_ok()
        && i32::from_be_bytes([header[4], header[5], header[6], header[7]]) == 77
}

#[test]
fn malformed_truncated_and_oversize_frames_never_take_the_agent_down() {
    let agent = Agent::start();
    // Keep one healthy connection open throughout.
    let mut healthy = TcpStream::connect(&agent.addr).expect("connect");
    healthy
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");

    let attacks: Vec<Vec<u8>> = vec![
        vec![0x7f, 0xff, 0xff, 0xff], // 2 GiB length prefix
        vec![0xff, 0xff, 0xff, 0xf0], // negative length
        vec![0, 0, 0, 4, 1, 2, 3, 4], // too short for a header
        vec![0, 0, 0, 10, 0x7f, 0x7f, 0, 0, 0, 0, 0, 1, 0, 0], // unknown API key
        vec![0, 0, 0, 12, 0, 3, 0, 99, 0, 0, 0, 1, 0, 0, 0, 0], // Metadata v99
        vec![0, 0, 0, 9, 0, 0, 0, 9, 0, 0, 0, 1, 0], // Produce v9 with a truncated body
        vec![0, 0, 1, 0, 0, 18],      // a frame that never completes
    ];
    for attack in attacks {
        let mut socket = TcpStream::connect(&agent.addr).expect("connect");
        socket.write_all(&attack).expect("write");
        socket
            .set_read_timeout(Some(Duration::from_millis(500)))
            .expect("timeout");
        let mut buf = [0u8; 64];
        let _ = socket.read(&mut buf); // closed or silent; either way no crash
        assert!(
            answers_api_versions(&agent.addr),
            "agent stopped serving after {attack:?}"
        );
    }
    // An unsupported ApiVersions version is answered at v0 with UNSUPPORTED_VERSION.
    let mut socket = TcpStream::connect(&agent.addr).expect("connect");
    socket
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let mut frame = api_versions_request(5);
    frame[6..8].copy_from_slice(&99i16.to_be_bytes());
    socket.write_all(&frame).expect("write");
    let mut reply = [0u8; 10];
    socket.read_exact(&mut reply).expect("v0 answer");
    assert_eq!(
        i32::from_be_bytes([reply[4], reply[5], reply[6], reply[7]]),
        5
    );
    assert_eq!(
        i16::from_be_bytes([reply[8], reply[9]]),
        35,
        "UNSUPPORTED_VERSION"
    );

    healthy.write_all(&api_versions_request(1)).expect("write");
    let mut header = [0u8; 8];
    healthy
        .read_exact(&mut header)
        .expect("the healthy connection still works");
}

#[test]
fn produce_semantics_offsets_by_time_and_admin_through_librdkafka() {
    if !python_clients_installed() {
        return;
    }
    let agent = Agent::start();
    let out = run_python(&[&python_script("semantics.py"), &agent.addr]);
    for acks in ["0", "1", "all"] {
        let a = &out["acks"][acks];
        assert_eq!(a["undelivered"], 0, "acks={acks}: {out}");
        assert_eq!(a["errors"], serde_json::json!([]), "acks={acks}");
        assert_eq!(a["consumed"], 1000, "acks={acks}");
        assert_eq!(a["in_order"], true, "acks={acks}");
    }
    assert_eq!(
        out["big"]["sizes"],
        serde_json::json!([1048576, 1048576, 1048576, 1048576, 1048576])
    );
    assert_eq!(
        out["big"]["intact"], true,
        "1 MiB records arrive byte for byte"
    );
    let idem = &out["idempotent"];
    assert_eq!(idem["undelivered"], 0, "{idem}");
    assert_eq!(
        idem["consumed"], 100_000,
        "exactly once: no loss, no duplicates"
    );
    assert_eq!(idem["distinct"], 100_000);
    assert_eq!(
        (idem["min"].as_i64(), idem["max"].as_i64()),
        (Some(0), Some(99_999))
    );
    let times = &out["times"];
    assert_eq!(times["exact"], serde_json::json!([7, 1_007_000]), "{times}");
    assert_eq!(times["between"], serde_json::json!([8, 1_008_000]));
    assert_eq!(
        times["after_all"],
        serde_json::Value::Null,
        "no record that late: offset -1"
    );
    assert_eq!(
        (times["earliest"].as_i64(), times["latest"].as_i64()),
        (Some(0), Some(20))
    );
    assert_eq!(
        out["times_batched"],
        serde_json::json!([2, 9_000]),
        "the first record at or after the time, inside a 10-record batch"
    );
    assert_eq!(
        out["max_timestamp"],
        serde_json::json!([9, 10_000]),
        "ListOffsets MAX_TIMESTAMP"
    );
    assert_eq!(out["described"]["retention.ms"], "604800000");
    assert_eq!(out["described"]["cleanup.policy"], "delete");
    assert_eq!(out["altered_retention"], "60000");
    assert_eq!(out["partitions_after_grow"], 4);
    assert_eq!(out["low_watermark"], 5);
    assert_eq!(out["earliest_after_delete"], 5);
    assert_eq!(out["cluster"]["id"], "streamhouse");
    assert_eq!(out["cluster"]["nodes"], 1);
}

/// A Produce v9 request frame for one partition.
fn produce_request(
    topic: &str,
    partition: i32,
    records: bytes::Bytes,
    correlation_id: i32,
) -> Vec<u8> {
    use kafka_protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
    use kafka_protocol::messages::{ApiKey, ProduceRequest, RequestHeader, TopicName};
    use kafka_protocol::protocol::{Encodable, StrBytes};
    let request = ProduceRequest::default()
        .with_acks(-1)
        .with_timeout_ms(10_000)
        .with_topic_data(vec![
            TopicProduceData::default()
                .with_name(TopicName(StrBytes::from_string(topic.to_owned())))
                .with_partition_data(vec![
                    PartitionProduceData::default()
                        .with_index(partition)
                        .with_records(Some(records)),
                ]),
        ]);
    let mut body = bytes::BytesMut::new();
    RequestHeader::default()
        .with_request_api_key(ApiKey::Produce as i16)
        .with_request_api_version(9)
        .with_correlation_id(correlation_id)
        .encode(&mut body, ApiKey::Produce.request_header_version(9))
        .expect("header");
    request.encode(&mut body, 9).expect("body");
    let mut frame = (body.len() as i32).to_be_bytes().to_vec();
    frame.extend_from_slice(&body);
    frame
}

/// Sends one Produce over a raw socket and returns the partition's error code.
fn produce_error_code(addr: &str, topic: &str, partition: i32, records: bytes::Bytes) -> i16 {
    use kafka_protocol::messages::{ApiKey, ProduceResponse, ResponseHeader};
    use kafka_protocol::protocol::Decodable;
    let mut socket = TcpStream::connect(addr).expect("connect");
    socket
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    socket
        .write_all(&produce_request(topic, partition, records, 9))
        .expect("write");
    let mut len = [0u8; 4];
    socket.read_exact(&mut len).expect("response length");
    let mut body = vec![0u8; i32::from_be_bytes(len) as usize];
    socket.read_exact(&mut body).expect("response");
    let mut body = bytes::Bytes::from(body);
    let header = ResponseHeader::decode(&mut body, ApiKey::Produce.response_header_version(9))
        .expect("header");
    assert_eq!(header.correlation_id, 9);
    let response = ProduceResponse::decode(&mut body, 9).expect("body");
    response.responses[0].partition_responses[0].error_code
}

#[test]
fn produce_errors_arrive_as_kafka_error_codes() {
    let agent = Agent::start();
    let valid = streamhouse_test_support::batches::sample_batch(1, 3, 10, 1_000);
    assert_eq!(
        produce_error_code(&agent.addr, "raw", 0, valid.clone()),
        3,
        "UNKNOWN_TOPIC_OR_PARTITION before it exists"
    );
    // kcat's Metadata request for the topic auto-creates it.
    if !have("kcat", Command::new("kcat").arg("-V")) {
        return;
    }
    let listed = Command::new("kcat")
        .args(["-b", &agent.addr, "-L", "-t", "raw"])
        .output()
        .expect("kcat -L");
    assert!(listed.status.success());
    assert_eq!(
        produce_error_code(&agent.addr, "raw", 0, valid.clone()),
        0,
        "accepted once the topic exists"
    );
    let mut corrupt = valid.to_vec();
    let last = corrupt.len() - 1;
    corrupt[last] ^= 0xff;
    assert_eq!(
        produce_error_code(&agent.addr, "raw", 0, corrupt.into()),
        2,
        "CORRUPT_MESSAGE for a bad CRC"
    );
    assert_eq!(
        produce_error_code(&agent.addr, "raw", 7, valid),
        3,
        "UNKNOWN_TOPIC_OR_PARTITION for a missing partition"
    );
    assert_eq!(
        produce_error_code(
            &agent.addr,
            "raw",
            0,
            bytes::Bytes::from_static(b"not a batch")
        ),
        2,
        "CORRUPT_MESSAGE for garbage"
    );
}

#[test]
fn kafka_python_admin_client_creates_describes_alters_grows_and_deletes() {
    if !python_clients_installed() {
        return;
    }
    let agent = Agent::start();
    let out = run_python(&[&python_script("admin_kafka_python.py"), &agent.addr]);
    assert_eq!(out["duplicate"], "TopicAlreadyExistsError", "{out}");
    assert_eq!(out["topics"], serde_json::json!(["kp-admin"]));
    assert_eq!(
        out["before"]["cleanup.policy"], "compact",
        "configs given at creation are kept"
    );
    assert_eq!(out["after"]["retention.ms"], "120000");
    assert_eq!(out["partitions"], 5);
    assert_eq!(out["cluster_brokers"], 1);
    assert_eq!(out["topics_after"], serde_json::json!([]));
}

#[test]
fn connections_are_limited_and_idle_ones_closed() {
    let agent = Agent::start_with(&["--kafka-max-connections", "2", "--kafka-idle-timeout", "1s"]);
    // Both are being served (answered), so they hold the two connection slots.
    let serve = |id: i32| {
        let mut socket = TcpStream::connect(&agent.addr).expect("connect");
        socket
            .set_read_timeout(Some(Duration::from_secs(5)))
            .expect("timeout");
        socket.write_all(&api_versions_request(id)).expect("write");
        let mut header = [0u8; 8];
        socket.read_exact(&mut header).expect("answered");
        let mut rest =
            vec![
                0u8;
                i32::from_be_bytes([header[0], header[1], header[2], header[3]]) as usize - 4
            ];
        socket.read_exact(&mut rest).expect("whole answer");
        socket
    };
    let first = serve(1);
    let second = serve(2);
    let mut third = TcpStream::connect(&agent.addr).expect("the kernel still accepts");
    third
        .set_read_timeout(Some(Duration::from_millis(300)))
        .expect("timeout");
    third.write_all(&api_versions_request(3)).expect("write");
    let mut header = [0u8; 8];
    assert!(
        third.read_exact(&mut header).is_err(),
        "a third connection is not served while two are open"
    );
    drop(first);
    third
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    third
        .read_exact(&mut header)
        .expect("served once a slot frees");
    assert_eq!(
        i32::from_be_bytes([header[4], header[5], header[6], header[7]]),
        3
    );

    // `second` has had nothing to do since its request: the agent closes it after 1 s idle.
    let mut second = second;
    second
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let mut buf = [0u8; 1];
    assert_eq!(
        second.read(&mut buf).expect("orderly close"),
        0,
        "idle connection closed by the agent"
    );
}
