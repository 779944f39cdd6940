//! The REST API and health checks of the real binary, over HTTP: every endpoint, and the
//! error paths (unknown resources 404, invalid values 422, malformed JSON 400, a reset of
//! an active group 409).

use std::time::Duration;

use reqwest::StatusCode;
use reqwest::blocking::{Client, Response};
use serde_json::{Value, json};

use crate::kafka::Agent;

struct Api {
    client: Client,
    base: String,
}

impl Api {
    fn new(agent: &Agent) -> Self {
        Self {
            client: Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .expect("client"),
            base: agent.http.clone(),
        }
    }

    fn get(&self, path: &str) -> Response {
        self.client
            .get(format!("{}{path}", self.base))
            .send()
            .expect("GET")
    }

    fn send(&self, method: reqwest::Method, path: &str, body: Value) -> Response {
        self.client
            .request(method, format!("{}{path}", self.base))
            .json(&body)
            .send()
            .expect("request")
    }

    fn post(&self, path: &str, body: Value) -> Response {
        self.send(reqwest::Method::POST, path, body)
    }
}

/// The status and the JSON body; an error body must have the API's error shape.
fn parts(response: Response) -> (StatusCode, Value) {
    let status = response.status();
    let body: Value = response.json().unwrap_or(Value::Null);
    if !status.is_success() {
        assert!(
            body["error_code"].is_string() && body["message"].is_string(),
            "error responses carry error_code and message: {status} {body}"
        );
    }
    (status, body)
}

#[test]
fn health_topics_messages_and_agents() {
    let agent = Agent::start();
    let api = Api::new(&agent);

    for path in ["/health", "/live", "/ready"] {
        let (status, body) = parts(api.get(path));
        assert_eq!(
            (status, body["status"].as_str()),
            (StatusCode::OK, Some("ok")),
            "{path}"
        );
    }

    // Create, with validation.
    let (status, created) = parts(api.post(
        "/api/v1/topics",
        json!({"name": "orders", "partitions": 3, "configs": {"retention.ms": "3600000"}}),
    ));
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["partitions"].as_array().map(Vec::len), Some(3));
    assert_eq!(created["configs"]["retention.ms"], "3600000");
    let (status, body) = parts(api.post("/api/v1/topics", json!({"name": "orders"})));
    assert_eq!(
        (status, body["error_code"].as_str()),
        (StatusCode::CONFLICT, Some("topic_exists"))
    );
    let (status, body) = parts(api.post("/api/v1/topics", json!({"name": "bad name!"})));
    assert_eq!(
        (status, body["error_code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_topic"))
    );
    let (status, _) = parts(api.post("/api/v1/topics", json!({"name": "p0", "partitions": 0})));
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, body) = parts(api.post(
        "/api/v1/topics",
        json!({"name": "cfg", "configs": {"segment.bytes": "1"}}),
    ));
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let malformed = api
        .client
        .post(format!("{}/api/v1/topics", api.base))
        .header("content-type", "application/json")
        .body("{\"name\": ")
        .send()
        .expect("POST");
    let (status, _) = parts(malformed);
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = parts(api.post("/api/v1/topics", json!({"name": "x", "colour": "red"})));
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown fields are refused"
    );

    // List with pagination.
    for name in ["a1", "a2"] {
        assert_eq!(
            api.post("/api/v1/topics", json!({"name": name})).status(),
            StatusCode::CREATED
        );
    }
    let (status, page) = parts(api.get("/api/v1/topics?limit=2"));
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (page["total"].as_u64(), page["next_offset"].as_u64()),
        (Some(3), Some(2))
    );
    let (_, last) = parts(api.get("/api/v1/topics?offset=2&limit=2"));
    assert_eq!(last["items"].as_array().map(Vec::len), Some(1));
    assert!(last.get("next_offset").is_none());
    let (status, _) = parts(api.get("/api/v1/topics?limit=0"));
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = parts(api.get("/api/v1/topics?limit=many"));
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // Produce over HTTP, then browse.
    let (status, produced) = parts(api.post(
        "/api/v1/topics/orders/messages",
        json!({"records": [
            {"key": "k1", "value": {"amount": 10}, "headers": {"source": "web"}, "partition": 1},
            {"key": "k2", "value": "plain text", "partition": 1},
            {"value": null, "partition": 1},
        ]}),
    ));
    assert_eq!(status, StatusCode::OK, "{produced}");
    assert_eq!(
        produced,
        json!([{"partition": 1, "offset": 0}, {"partition": 1, "offset": 1}, {"partition": 1, "offset": 2}])
    );
    let (status, messages) =
        parts(api.get("/api/v1/topics/orders/messages?partition=1&format=json"));
    assert_eq!(status, StatusCode::OK);
    assert_eq!(messages.as_array().map(Vec::len), Some(3));
    assert_eq!(
        messages[0]["key"],
        json!({"encoding": "text", "data": "k1"})
    );
    assert_eq!(
        messages[0]["value"],
        json!({"encoding": "json", "data": {"amount": 10}})
    );
    assert_eq!(messages[0]["headers"][0]["key"], "source");
    assert_eq!(messages[1]["value"]["data"], "plain text");
    assert_eq!(messages[2]["value"], Value::Null, "a tombstone");
    let (_, b64) =
        parts(api.get("/api/v1/topics/orders/messages?partition=1&format=base64&offset=1&limit=1"));
    assert_eq!(b64.as_array().map(Vec::len), Some(1));
    assert_eq!(b64[0]["offset"], 1);
    assert_eq!(b64[0]["key"], json!({"encoding": "base64", "data": "azI="}));
    let (_, latest) =
        parts(api.get("/api/v1/topics/orders/messages?partition=1&from=latest&limit=1"));
    assert_eq!(latest[0]["offset"], 2);
    let ts = messages[0]["timestamp"].as_i64().expect("timestamp");
    let (_, by_time) = parts(api.get(&format!(
        "/api/v1/topics/orders/messages?partition=1&timestamp={ts}"
    )));
    assert_eq!(by_time[0]["offset"], 0);
    let (_, all) = parts(api.get("/api/v1/topics/orders/messages"));
    assert_eq!(all.as_array().map(Vec::len), Some(3), "all partitions");
    let (status, body) = parts(api.get("/api/v1/topics/orders/messages?partition=9"));
    assert_eq!(
        (status, body["error_code"].as_str()),
        (StatusCode::NOT_FOUND, Some("unknown_partition"))
    );
    let (status, _) = parts(api.get("/api/v1/topics/orders/messages?partition=1&offset=99"));
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = parts(api.get("/api/v1/topics/orders/messages?limit=100000"));
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = parts(api.post("/api/v1/topics/orders/messages", json!({"records": []})));
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = parts(api.post(
        "/api/v1/topics/none/messages",
        json!({"records": [{"value": "x"}]}),
    ));
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Detail, partitions, configs.
    let (status, detail) = parts(api.get("/api/v1/topics/orders"));
    assert_eq!(status, StatusCode::OK);
    assert_eq!(detail["records"], 3);
    assert_eq!(detail["partitions"][1]["high_watermark"], 3);
    assert!(detail["partitions"][1]["leader"].is_string(), "{detail}");
    let (_, partitions) = parts(api.get("/api/v1/topics/orders/partitions"));
    assert_eq!(partitions.as_array().map(Vec::len), Some(3));
    let (status, altered) = parts(api.send(
        reqwest::Method::PATCH,
        "/api/v1/topics/orders/configs",
        json!({"retention.ms": "60000", "cleanup.policy": null}),
    ));
    assert_eq!(status, StatusCode::OK, "{altered}");
    assert_eq!(altered["configs"]["retention.ms"], "60000");
    let (status, _) = parts(api.send(
        reqwest::Method::PATCH,
        "/api/v1/topics/orders/configs",
        json!({"retention.ms": "soon"}),
    ));
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, body) = parts(api.get("/api/v1/topics/nope"));
    assert_eq!(
        (status, body["error_code"].as_str()),
        (StatusCode::NOT_FOUND, Some("unknown_topic"))
    );

    // Cluster and agents.
    let (_, cluster) = parts(api.get("/api/v1/cluster"));
    assert_eq!(
        (cluster["topics"].as_u64(), cluster["partitions"].as_u64()),
        (Some(3), Some(5))
    );
    assert_eq!(
        (cluster["live_agents"].as_u64(), cluster["records"].as_i64()),
        (Some(1), Some(3))
    );
    let (_, agents) = parts(api.get("/api/v1/agents"));
    assert_eq!(agents.as_array().map(Vec::len), Some(1));
    assert_eq!(agents[0]["status"], "live");
    assert_eq!(agents[0]["partitions"], 5);
    assert_eq!(agents[0]["address"].as_str(), Some(agent.addr.as_str()));
    let id = agents[0]["agent_id"].as_str().expect("id").to_owned();
    assert_eq!(
        parts(api.get(&format!("/api/v1/agents/{id}"))).0,
        StatusCode::OK
    );
    assert_eq!(
        parts(api.get("/api/v1/agents/nobody")).0,
        StatusCode::NOT_FOUND
    );

    // The OpenAPI document lists what is served; unknown routes are JSON 404s.
    let (status, doc) = parts(api.get("/api/v1/openapi.json"));
    assert_eq!(status, StatusCode::OK);
    assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")));
    for path in [
        "/api/v1/topics",
        "/api/v1/topics/{name}/messages",
        "/api/v1/consumer-groups/{id}/reset",
        "/api/v1/consumer-groups/{id}/offsets",
        "/ready",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} documented");
    }
    assert_eq!(parts(api.get("/api/v1/nothing")).0, StatusCode::NOT_FOUND);

    // Delete.
    assert_eq!(
        api.client
            .delete(format!("{}/api/v1/topics/a1", api.base))
            .send()
            .expect("DELETE")
            .status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(parts(api.get("/api/v1/topics/a1")).0, StatusCode::NOT_FOUND);
    assert_eq!(
        parts(
            api.client
                .delete(format!("{}/api/v1/topics/a1", api.base))
                .send()
                .expect("DELETE")
        )
        .0,
        StatusCode::NOT_FOUND
    );
}

#[test]
fn consumer_groups_lag_reset_and_delete() {
    use rdkafka::config::ClientConfig;
    use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};

    let agent = Agent::start_with(&["--groups-initial-rebalance-delay", "200ms"]);
    let api = Api::new(&agent);
    assert_eq!(
        api.post("/api/v1/topics", json!({"name": "events", "partitions": 2}))
            .status(),
        StatusCode::CREATED
    );
    let records: Vec<Value> = (0..10)
        .map(|i| json!({"value": format!("v{i}"), "partition": i % 2}))
        .collect();
    assert_eq!(
        api.post(
            "/api/v1/topics/events/messages",
            json!({"records": records})
        )
        .status(),
        StatusCode::OK
    );

    // A real consumer reads everything, then commits offsets 3 and 5 (lag 2 and 0).
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", &agent.addr)
        .set("group.id", "readers")
        .set("enable.auto.commit", "false")
        .set("auto.offset.reset", "earliest")
        .set("session.timeout.ms", "6000")
        .create()
        .expect("consumer");
    consumer.subscribe(&["events"]).expect("subscribe");
    let mut read = 0;
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while read < 10 && std::time::Instant::now() < deadline {
        if let Some(Ok(_)) = consumer.poll(Duration::from_millis(100)) {
            read += 1;
        }
    }
    assert_eq!(read, 10);
    consumer
        .commit_consumer_state(CommitMode::Sync)
        .expect("commit");
    let mut list = rdkafka::TopicPartitionList::new();
    list.add_partition_offset("events", 0, rdkafka::Offset::Offset(3))
        .expect("offset");
    list.add_partition_offset("events", 1, rdkafka::Offset::Offset(5))
        .expect("offset");
    consumer.commit(&list, CommitMode::Sync).expect("commit");

    let (status, groups) = parts(api.get("/api/v1/consumer-groups"));
    assert_eq!(status, StatusCode::OK);
    assert_eq!(groups["items"][0]["group_id"], "readers");
    assert_eq!(groups["items"][0]["state"], "Stable");
    assert_eq!(groups["items"][0]["members"], 1);
    assert_eq!(groups["items"][0]["total_lag"], 2);
    let (_, detail) = parts(api.get("/api/v1/consumer-groups/readers"));
    assert_eq!(
        detail["members"][0]["assignment"].as_array().map(Vec::len),
        Some(2),
        "{detail}"
    );
    assert_eq!(
        detail["partitions"][0],
        json!({"topic": "events", "partition": 0, "committed_offset": 3, "log_end_offset": 5, "lag": 2, "member_id": detail["members"][0]["member_id"]})
    );
    let (_, lag) = parts(api.get("/api/v1/consumer-groups/readers/lag"));
    assert_eq!(lag["total_lag"], 2);

    // Kafka refuses resets while members are active; so does the API.
    let (status, body) = parts(api.post(
        "/api/v1/consumer-groups/readers/reset",
        json!({"to": "earliest"}),
    ));
    assert_eq!(
        (status, body["error_code"].as_str()),
        (StatusCode::CONFLICT, Some("group_has_active_members")),
        "{body}"
    );
    let (status, body) = parts(api.post(
        "/api/v1/consumer-groups/readers/offsets",
        json!({"offsets": [{"topic": "events", "partition": 0, "offset": 0}]}),
    ));
    assert_eq!(
        (status, body["error_code"].as_str()),
        (StatusCode::CONFLICT, Some("group_has_active_members")),
        "{body}"
    );
    let (status, _) = parts(
        api.client
            .delete(format!("{}/api/v1/consumer-groups/readers", api.base))
            .send()
            .expect("DELETE"),
    );
    assert_eq!(status, StatusCode::CONFLICT);
    drop(consumer);

    let (status, _) = parts(api.post(
        "/api/v1/consumer-groups/readers/reset",
        json!({"to": "offset"}),
    ));
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "offset needs an offset"
    );
    let (status, _) = parts(api.post(
        "/api/v1/consumer-groups/readers/reset",
        json!({"to": "sideways"}),
    ));
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, reset) = parts(api.post(
        "/api/v1/consumer-groups/readers/reset",
        json!({"to": "earliest"}),
    ));
    assert_eq!(status, StatusCode::OK, "{reset}");
    assert_eq!(
        reset,
        json!([{"topic": "events", "partition": 0, "offset": 0}, {"topic": "events", "partition": 1, "offset": 0}])
    );
    let (_, lag) = parts(api.get("/api/v1/consumer-groups/readers/lag"));
    assert_eq!(lag["total_lag"], 10, "the committed offsets moved: {lag}");
    let (_, reset) = parts(api.post(
        "/api/v1/consumer-groups/readers/reset",
        json!({"to": "latest", "topic": "events"}),
    ));
    assert_eq!(reset[1]["offset"], 5);
    let (_, lag) = parts(api.get("/api/v1/consumer-groups/readers/lag"));
    assert_eq!(lag["total_lag"], 0);

    assert_eq!(
        api.client
            .delete(format!("{}/api/v1/consumer-groups/readers", api.base))
            .send()
            .expect("DELETE")
            .status(),
        StatusCode::NO_CONTENT
    );
    let (status, body) = parts(api.get("/api/v1/consumer-groups/readers"));
    assert_eq!(
        (status, body["error_code"].as_str()),
        (StatusCode::NOT_FOUND, Some("unknown_group"))
    );
    assert_eq!(
        parts(api.get("/api/v1/consumer-groups/readers/lag")).0,
        StatusCode::NOT_FOUND
    );
}

#[test]
fn committing_offsets_for_a_group_without_members() {
    let agent = Agent::start();
    let api = Api::new(&agent);
    assert_eq!(
        api.post("/api/v1/topics", json!({"name": "ledger", "partitions": 2}))
            .status(),
        StatusCode::CREATED
    );
    let records: Vec<Value> = (0..6)
        .map(|i| json!({"value": format!("v{i}"), "partition": i % 2}))
        .collect();
    assert_eq!(
        api.post(
            "/api/v1/topics/ledger/messages",
            json!({"records": records})
        )
        .status(),
        StatusCode::OK
    );

    // A group nobody has heard of is created by its first commit.
    let (status, committed) = parts(api.post(
        "/api/v1/consumer-groups/auditors/offsets",
        json!({"offsets": [
            {"topic": "ledger", "partition": 0, "offset": 2},
            {"topic": "ledger", "partition": 1, "offset": 3},
        ]}),
    ));
    assert_eq!(status, StatusCode::OK, "{committed}");
    assert_eq!(
        committed,
        json!([{"topic": "ledger", "partition": 0, "offset": 2}, {"topic": "ledger", "partition": 1, "offset": 3}])
    );
    let (status, detail) = parts(api.get("/api/v1/consumer-groups/auditors"));
    assert_eq!(status, StatusCode::OK);
    assert_eq!(detail["state"], "Empty");
    assert_eq!(detail["partitions"][0]["committed_offset"], 2);
    assert_eq!(detail["partitions"][1]["committed_offset"], 3);
    assert_eq!(detail["total_lag"], 1, "3 - 2 and 3 - 3: {detail}");

    // Invalid requests change nothing, not even the valid offsets beside them.
    for (body, expected_status, code) in [
        (
            json!({"offsets": [{"topic": "ledger", "partition": 0, "offset": 0},
                {"topic": "ledger", "partition": 1, "offset": -1}]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_request",
        ),
        (
            json!({"offsets": [{"topic": "ledger", "partition": 0, "offset": 0},
                {"topic": "nowhere", "partition": 0, "offset": 1}]}),
            StatusCode::NOT_FOUND,
            "unknown_topic",
        ),
        (
            json!({"offsets": [{"topic": "ledger", "partition": 0, "offset": 0},
                {"topic": "ledger", "partition": 7, "offset": 1}]}),
            StatusCode::NOT_FOUND,
            "unknown_partition",
        ),
        (
            json!({"offsets": []}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_request",
        ),
    ] {
        let (status, answer) =
            parts(api.post("/api/v1/consumer-groups/auditors/offsets", body.clone()));
        assert_eq!(
            (status, answer["error_code"].as_str()),
            (expected_status, Some(code)),
            "{body} -> {answer}"
        );
    }
    let (status, _) = parts(api.post(
        "/api/v1/consumer-groups/auditors/offsets",
        json!({"offsets": [{"topic": "ledger", "partition": 0, "offset": 1, "epoch": 3}]}),
    ));
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown fields are refused"
    );
    let (_, detail) = parts(api.get("/api/v1/consumer-groups/auditors"));
    assert_eq!(
        detail["partitions"][0]["committed_offset"], 2,
        "unchanged: {detail}"
    );

    // As in Kafka, an offset past the log end is accepted.
    let (status, _) = parts(api.post(
        "/api/v1/consumer-groups/auditors/offsets",
        json!({"offsets": [{"topic": "ledger", "partition": 0, "offset": 100}]}),
    ));
    assert_eq!(status, StatusCode::OK);
    let (_, lag) = parts(api.get("/api/v1/consumer-groups/auditors/lag"));
    assert_eq!(lag["partitions"][0]["committed_offset"], 100);
    assert_eq!(lag["partitions"][0]["lag"], 0);
}
