//! Observability of the real binary: `/metrics` counters move by exactly what real
//! librdkafka traffic did, the sampled history and the WebSocket report rates, lag and
//! agents, HTTP requests carry request ids, and every metric the Grafana dashboards and
//! alert rules use is exported.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::message::Message;
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use reqwest::StatusCode;
use reqwest::blocking::Client;
use serde_json::{Value, json};
use tungstenite::stream::MaybeTlsStream;

use crate::kafka::Agent;

/// A scrape: series (name with labels, as printed) → value, plus the declared families.
struct Scrape {
    series: BTreeMap<String, f64>,
    text: String,
}

impl Scrape {
    fn take(agent: &Agent) -> Self {
        let response = reqwest::blocking::get(format!("{}/metrics", agent.http)).expect("scrape");
        assert_eq!(response.status(), StatusCode::OK);
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        assert!(
            content_type.starts_with("text/plain; version=0.0.4"),
            "{content_type}"
        );
        let text = response.text().expect("body");
        let series = text
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
            .map(|line| {
                let (name, value) = line.rsplit_once(' ').expect("series value");
                (name.to_owned(), value.parse().expect("numeric value"))
            })
            .collect();
        Self { series, text }
    }

    /// The value of one series; absent counts as 0 (Prometheus's view of a counter
    /// that has not been touched).
    fn get(&self, series: &str) -> f64 {
        self.series.get(series).copied().unwrap_or(0.0)
    }

    /// Whether a series or family of this exact name is exported.
    fn exports(&self, name: &str) -> bool {
        self.series
            .keys()
            .any(|s| s == name || s.starts_with(&format!("{name}{{")))
            || self
                .text
                .lines()
                .any(|l| l.starts_with(&format!("# TYPE {name} ")))
    }
}

fn producer(agent: &Agent) -> BaseProducer {
    ClientConfig::new()
        .set("bootstrap.servers", &agent.addr)
        .set("linger.ms", "5")
        .set("acks", "all")
        .create()
        .expect("producer")
}

fn produce(producer: &BaseProducer, topic: &str, range: std::ops::Range<u32>) {
    for i in range {
        let key = format!("key-{i}");
        let value = format!("value-{i:044}");
        let mut record = BaseRecord::to(topic).key(&key).payload(&value);
        loop {
            match producer.send(record) {
                Ok(()) => break,
                Err((_, r)) => {
                    producer.poll(Duration::from_millis(10));
                    record = r;
                }
            }
        }
    }
    producer.flush(Duration::from_secs(30)).expect("flush");
}

fn wait_for(what: &str, timeout: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Collects every WebSocket event on a thread.
fn subscribe(agent: &Agent) -> Arc<Mutex<Vec<Value>>> {
    let url = format!("{}/ws", agent.http.replacen("http://", "ws://", 1));
    let (mut socket, response) = tungstenite::connect(url).expect("websocket");
    assert_eq!(response.status(), 101);
    if let MaybeTlsStream::Plain(stream) = socket.get_mut() {
        stream
            .set_read_timeout(Some(Duration::from_secs(60)))
            .expect("timeout");
    }
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&events);
    std::thread::spawn(move || {
        while let Ok(message) = socket.read() {
            if let tungstenite::Message::Text(text) = message {
                let event: Value = serde_json::from_str(&text).expect("events are JSON");
                sink.lock().expect("events").push(event);
            }
        }
    });
    events
}

fn events_of(events: &Mutex<Vec<Value>>, kind: &str) -> Vec<Value> {
    events
        .lock()
        .expect("events")
        .iter()
        .filter(|e| e["type"] == kind)
        .map(|e| e["data"].clone())
        .collect()
}

#[test]
fn metrics_history_and_live_events_follow_real_traffic() {
    let agent = Agent::start_with(&[
        "--http-metrics-interval",
        "200ms",
        "--http-lag-alert-threshold",
        "50",
    ]);
    let events = subscribe(&agent);
    let http = Client::new();
    for (name, partitions, configs) in [
        ("metered", 2, json!({})),
        ("tiny", 1, json!({"max.message.bytes": "200"})),
    ] {
        let created = http
            .post(format!("{}/api/v1/topics", agent.http))
            .json(&json!({"name": name, "partitions": partitions, "configs": configs}))
            .send()
            .expect("create topic");
        assert_eq!(created.status(), StatusCode::CREATED);
    }

    // 400 records in, one refused for its size.
    let producer = producer(&agent);
    produce(&producer, "metered", 0..400);
    let big = vec![b'x'; 1000];
    producer
        .send(BaseRecord::<(), _>::to("tiny").payload(&big))
        .expect("queued");
    producer.flush(Duration::from_secs(30)).expect("flush");

    // A group reads all 400 and commits.
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", &agent.addr)
        .set("group.id", "metered-group")
        .set("auto.offset.reset", "earliest")
        .set("enable.auto.commit", "false")
        .create()
        .expect("consumer");
    consumer.subscribe(&["metered"]).expect("subscribe");
    let mut consumed = 0;
    let deadline = Instant::now() + Duration::from_secs(60);
    while consumed < 400 {
        assert!(Instant::now() < deadline, "consumed only {consumed} of 400");
        if let Some(message) = consumer.poll(Duration::from_millis(200)) {
            let message = message.expect("message");
            assert!(message.payload().is_some());
            consumed += 1;
        }
    }
    consumer
        .commit_consumer_state(CommitMode::Sync)
        .expect("commit");
    drop(consumer);

    let scrape = Scrape::take(&agent);
    let topic = |family: &str, topic: &str| scrape.get(&format!("{family}{{topic=\"{topic}\"}}"));
    assert_eq!(
        topic("streamhouse_producer_records_total", "metered"),
        400.0
    );
    assert_eq!(
        topic("streamhouse_consumer_records_total", "metered"),
        400.0
    );
    let produced_bytes = topic("streamhouse_producer_bytes_total", "metered");
    assert!(produced_bytes > 400.0 * 44.0, "{produced_bytes}");
    // Batches are served as stored: consumers got exactly the bytes producers wrote.
    assert_eq!(
        topic("streamhouse_consumer_bytes_total", "metered"),
        produced_bytes
    );
    assert_eq!(
        scrape.get(r#"streamhouse_producer_errors_total{topic="tiny",error="MESSAGE_TOO_LARGE"}"#),
        1.0
    );
    assert_eq!(topic("streamhouse_producer_records_total", "tiny"), 0.0);
    let batches = scrape.get("streamhouse_producer_batch_records_count");
    assert_eq!(scrape.get("streamhouse_producer_batch_records_sum"), 400.0);
    assert!(batches >= 2.0, "{batches} batches for 2 partitions");
    assert!(scrape.get("streamhouse_producer_ack_latency_seconds_count") >= 2.0);
    for api in [
        "ApiVersions",
        "Metadata",
        "Produce",
        "Fetch",
        "FindCoordinator",
        "JoinGroup",
        "SyncGroup",
        "OffsetFetch",
        "OffsetCommit",
        "LeaveGroup",
    ] {
        let count = scrape.get(&format!(
            "streamhouse_kafka_requests_total{{api=\"{api}\"}}"
        ));
        assert!(count >= 1.0, "{api}: {count}");
        let timed = scrape.get(&format!(
            "streamhouse_kafka_request_duration_seconds_count{{api=\"{api}\"}}"
        ));
        assert_eq!(timed, count, "{api}: every request is timed");
    }
    assert!(scrape.get("streamhouse_kafka_connections_total") >= 2.0);
    assert!(scrape.get("streamhouse_consumer_fetch_latency_seconds_count") >= 1.0);
    // Each flush is one PUT (nothing is merged or collected this early).
    let flushes = scrape.get(r#"streamhouse_segment_flushes_total{outcome="ok"}"#);
    assert!(flushes >= 1.0);
    assert_eq!(
        scrape.get(r#"streamhouse_s3_requests_total{operation="put"}"#),
        flushes
    );
    assert!(scrape.get(r#"streamhouse_s3_bytes_total{operation="put"}"#) > produced_bytes);
    assert_eq!(
        scrape.get(r#"streamhouse_s3_errors_total{operation="put"}"#),
        0.0
    );
    assert!(scrape.get(r#"streamhouse_cache_hits_total{tier="tail"}"#) >= 1.0);
    // Everything produced is durable and still in the tail (far under its 32 MiB).
    assert_eq!(scrape.get("streamhouse_tail_size_bytes"), produced_bytes);
    assert_eq!(scrape.get("streamhouse_agent_partitions_led"), 3.0);
    assert!(scrape.get("streamhouse_agent_leases_acquired_total") >= 3.0);
    assert_eq!(
        scrape.get(r#"streamhouse_build_info{version="0.1.0"}"#),
        1.0
    );
    assert_eq!(
        scrape.get(
            r#"streamhouse_http_requests_total{method="POST",route="/api/v1/topics",status="201"}"#
        ),
        2.0
    );
    assert!(scrape.get("streamhouse_group_rebalances_total") >= 1.0);

    // 120 more records the group has not read: lag 120, above the alert threshold of 50.
    produce(&producer, "metered", 400..520);
    let lag_series = r#"streamhouse_consumer_lag{group="metered-group",topic="metered"}"#;
    wait_for("the lag gauge", Duration::from_secs(15), || {
        Scrape::take(&agent).get(lag_series) == 120.0
    });
    let scrape = Scrape::take(&agent);
    assert_eq!(
        scrape.get(r#"streamhouse_consumer_groups{state="Empty"}"#),
        1.0
    );
    assert_eq!(
        topic("streamhouse_producer_records_total", "metered"),
        400.0,
        "old scrape"
    );
    assert_eq!(
        scrape.get(r#"streamhouse_producer_records_total{topic="metered"}"#),
        520.0
    );

    // The history the dashboard charts.
    let history: Value = http
        .get(format!("{}/api/v1/metrics", agent.http))
        .send()
        .expect("history")
        .json()
        .expect("json");
    assert_eq!(history["interval_ms"], 200);
    assert_eq!(history["history_ms"], 3_600_000);
    let samples = history["samples"].as_array().expect("samples");
    assert!(samples.len() >= 2, "{history}");
    assert!(
        samples
            .iter()
            .any(|s| s["produce_records_per_sec"].as_f64() > Some(0.0))
    );
    assert!(
        samples
            .iter()
            .any(|s| s["consume_records_per_sec"].as_f64() > Some(0.0))
    );
    let last = samples.last().expect("a sample");
    assert_eq!(last["group_lag"]["metered-group"], 120, "{last}");
    assert_eq!(last["total_lag"], 120);
    assert_eq!(last["live_agents"], 1);
    assert_eq!(last["partitions_led"], 3);
    let since = last["at_ms"].as_i64().expect("at_ms");
    let recent: Value = http
        .get(format!("{}/api/v1/metrics?since_ms={since}", agent.http))
        .send()
        .expect("history")
        .json()
        .expect("json");
    assert!(
        recent["samples"]
            .as_array()
            .is_some_and(|s| !s.is_empty() && s.len() < samples.len() + 5)
    );

    // The same story, pushed.
    wait_for(
        "a lag alert on the WebSocket",
        Duration::from_secs(10),
        || !events_of(&events, "lag_alert").is_empty(),
    );
    let all = events.lock().expect("events").clone();
    assert_eq!(all[0]["type"], "hello", "{:?}", all.first());
    assert_eq!(all[0]["data"]["interval_ms"], 200);
    assert!(events_of(&events, "metric_update").len() >= 2);
    let alerts = events_of(&events, "lag_alert");
    assert_eq!(alerts.len(), 1, "one alert per crossing: {alerts:?}");
    assert_eq!(
        alerts[0],
        json!({"group": "metered-group", "lag": 120, "threshold": 50})
    );
    assert!(
        events_of(&events, "lag_update")
            .iter()
            .any(|u| u["group"] == "metered-group" && u["lag"] == 120),
    );
    let agents = events_of(&events, "agent_status");
    assert!(
        agents
            .iter()
            .any(|a| a["status"] == "live" && a["address"] == agent.addr.as_str()),
        "{agents:?}"
    );

    let overview: Value = http
        .get(format!("{}/api/v1/cluster", agent.http))
        .send()
        .expect("cluster")
        .json()
        .expect("json");
    assert_eq!(overview["total_lag"], 120, "{overview}");
    assert_eq!(overview["records"], 520);
    assert!(overview["bytes"].as_f64() > Some(produced_bytes));
    assert!(overview["produce_records_per_sec"].is_number());

    // Request ids: a sane one is echoed, otherwise one is made.
    let echoed = http
        .get(format!("{}/api/v1/cluster", agent.http))
        .header("x-request-id", "trace-abc-123")
        .send()
        .expect("cluster");
    assert_eq!(echoed.headers()["x-request-id"], "trace-abc-123");
    let made = http
        .get(format!("{}/api/v1/cluster", agent.http))
        .header("x-request-id", "bad id with spaces")
        .send()
        .expect("cluster");
    let id = made.headers()["x-request-id"].to_str().expect("ascii");
    assert!(
        id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()),
        "{id}"
    );

    // A request nobody can decode is counted, and the dashboards' every name is exported.
    send_garbage(&agent);
    let scrape = Scrape::take(&agent);
    assert_eq!(
        scrape.get(r#"streamhouse_kafka_request_errors_total{api="Other"}"#),
        1.0
    );
    assert_dashboards_use_only(&scrape);
}

#[test]
fn a_websocket_is_closed_when_the_agent_shuts_down() {
    let mut agent = Agent::start();
    let url = format!("{}/ws", agent.http.replacen("http://", "ws://", 1));
    let (mut socket, _) = tungstenite::connect(url).expect("websocket");
    let hello = socket.read().expect("hello");
    assert!(hello.to_text().expect("text").contains(r#""type":"hello""#));
    let status = agent.stop();
    assert!(
        status.success(),
        "the agent exits cleanly with a socket open: {status}"
    );
    let mut closed = false;
    while let Ok(message) = socket.read() {
        if let tungstenite::Message::Close(frame) = message {
            closed = frame.is_some_and(|f| f.reason.contains("shutting down"));
        }
    }
    assert!(closed, "the server said why it closed");
}

/// Every `streamhouse_*` name the Grafana dashboards and the alert rules use is in
/// `scrape`.
fn assert_dashboards_use_only(scrape: &Scrape) {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy");
    let mut files = vec![root.join("prometheus/alerts.yml")];
    for entry in std::fs::read_dir(root.join("grafana/dashboards")).expect("dashboards") {
        files.push(entry.expect("entry").path());
    }
    assert_eq!(files.len(), 6, "5 dashboards and the rules: {files:?}");
    let mut used = 0;
    for file in files {
        let text = std::fs::read_to_string(&file).expect("read");
        if file.extension().is_some_and(|e| e == "json") {
            let dashboard: Value = serde_json::from_str(&text).expect("dashboard JSON");
            assert!(
                dashboard["panels"]
                    .as_array()
                    .is_some_and(|p| !p.is_empty())
            );
        }
        for (at, _) in text.match_indices("streamhouse_") {
            let name: String = text[at..]
                .chars()
                .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_')
                .collect();
            used += 1;
            assert!(
                scrape.exports(&name),
                "{} uses {name}, which /metrics does not export",
                file.display()
            );
        }
    }
    assert!(used > 50, "only {used} metric references found");
}

/// Sends a frame no Kafka API can decode; the agent closes the connection.
fn send_garbage(agent: &Agent) {
    let mut socket = TcpStream::connect(&agent.addr).expect("connect");
    socket
        .write_all(&[0, 0, 0, 6, 0x7f, 0x7f, 0, 0, 0, 1])
        .expect("write");
    let mut rest = Vec::new();
    let _ = socket.read_to_end(&mut rest);
}
