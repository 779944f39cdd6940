//! Property-based testing of the REST API from its own OpenAPI document with
//! schemathesis: generated requests (valid and invalid; a few thousand in the 60 s the
//! run is given on our machine), stateful sequences included, against the real binary. Every answer must be a documented status
//! with the documented content type and a body matching the documented schema, and no
//! request may cause a server error.
//!
//! One check is left out: `positive_data_acceptance` (schema-valid requests must be
//! accepted). The schema cannot say everything the API checks (that a topic config name
//! is one StreamHouse knows, that `to: timestamp` comes with a timestamp), so those
//! requests are rightly refused with 422.

use std::process::Command;

use serde_json::json;

use crate::kafka::{Agent, have};

#[test]
fn the_rest_api_survives_schemathesis_without_a_server_error() {
    if !have(
        "schemathesis (PyPI)",
        Command::new("schemathesis").arg("--version"),
    ) {
        return;
    }
    let agent = Agent::start();
    // Something to find: a topic with records, and a group with committed offsets.
    let http = reqwest::blocking::Client::new();
    let created = http
        .post(format!("{}/api/v1/topics", agent.http))
        .json(&json!({"name": "orders", "partitions": 2}))
        .send()
        .expect("create");
    assert_eq!(created.status(), 201);
    let produced = http
        .post(format!("{}/api/v1/topics/orders/messages", agent.http))
        .json(&json!({"records": [{"key": "a", "value": "one"}, {"key": "b", "value": {"n": 2}}]}))
        .send()
        .expect("produce");
    assert_eq!(produced.status(), 200);
    let committed = http
        .post(format!(
            "{}/api/v1/consumer-groups/billing/offsets",
            agent.http
        ))
        .json(&json!({"offsets": [{"topic": "orders", "partition": 0, "offset": 1}]}))
        .send()
        .expect("commit");
    assert!(committed.status().is_success(), "{}", committed.status());

    // schemathesis keeps a cache in its working directory; keep it out of the source tree.
    let scratch = tempfile::tempdir().expect("tempdir");
    let output = Command::new("schemathesis")
        .current_dir(scratch.path())
        .args(["run", &format!("{}/api/v1/openapi.json", agent.http)])
        .args(["--url", &agent.http])
        .args(["--max-examples", "25", "--seed", "7"])
        .args(["--exclude-checks", "positive_data_acceptance"])
        // A WebSocket upgrade is not a request/response operation.
        .args(["--exclude-path", "/ws"])
        .args(["--request-timeout", "20", "--max-time", "60", "--no-color"])
        .output()
        .expect("run schemathesis");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let summary: Vec<&str> = stdout.lines().filter(|l| l.contains("generated")).collect();
    assert!(
        output.status.success(),
        "schemathesis found failures:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let generated: u64 = summary
        .iter()
        .find_map(|l| l.split_whitespace().next()?.parse().ok())
        .expect("a count of generated cases");
    // A sanity floor only: the count depends on how busy the machine is.
    assert!(generated >= 100, "only {generated} cases: {summary:?}");
    assert!(
        summary
            .iter()
            .any(|l| l.contains(&format!("{generated} passed"))),
        "{summary:?}"
    );
}
