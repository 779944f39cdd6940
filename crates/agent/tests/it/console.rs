//! The web console: the binary serves the embedded single-page app at `/` with SPA
//! fallback (the API keeps its JSON 404s), and the console's end-to-end suite
//! (`npm run e2e` in `console/`: headless Chromium through playwright-core, kcat and
//! confluent-kafka against this binary) passes.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use reqwest::StatusCode;
use reqwest::blocking::Client;
use reqwest::header::CONTENT_TYPE;

use crate::kafka::{Agent, have};

fn console_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../console")
}

fn content_type(response: &reqwest::blocking::Response) -> String {
    response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

#[test]
fn console_root_is_html_and_unknown_api_paths_stay_json_404() {
    let agent = Agent::start();
    let client = Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client");
    for path in ["/", "/topics/orders", "/consumer-groups/g/detail"] {
        let response = client
            .get(format!("{}{path}", agent.http))
            .send()
            .expect("GET");
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        assert!(content_type(&response).starts_with("text/html"), "{path}");
        let body = response.text().expect("body");
        // Either the built console or the page that says how to build it: never a 404.
        assert!(
            body.contains("<div id=\"root\">") || body.contains("console was not built"),
            "{path}: {body}"
        );
    }
    for path in ["/api/v1/nope", "/api/v1/topics/x/nope", "/api"] {
        let response = client
            .get(format!("{}{path}", agent.http))
            .send()
            .expect("GET");
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
        assert_eq!(content_type(&response), "application/json", "{path}");
        let body: serde_json::Value = response.json().expect("JSON");
        assert_eq!(body["error_code"], "not_found", "{path}");
    }
    // A missing asset is a plain 404, not HTML the browser would try to run.
    let missing = client
        .get(format!("{}/assets/missing-0000.js", agent.http))
        .send()
        .expect("GET");
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    // The other surfaces keep working beside the fallback.
    for path in ["/health", "/metrics", "/api/v1/openapi.json"] {
        let response = client
            .get(format!("{}{path}", agent.http))
            .send()
            .expect("GET");
        assert_eq!(response.status(), StatusCode::OK, "{path}");
    }
}

/// Runs the console's browser suite against this test build of the binary. It needs the
/// console built before the binary (`npm ci && npm run build` in console/, as
/// scripts/test does), Node, Chromium and kcat; without them it skips loudly, and under
/// `CI=true` it fails.
#[test]
fn console_e2e_in_headless_chromium() {
    let dir = console_dir();
    if !have("node", Command::new("node").arg("--version"))
        || !have("npm", Command::new("npm").arg("--version"))
        || !have("kcat", Command::new("kcat").arg("-V"))
        || !have(
            "chromium",
            Command::new("/usr/bin/chromium").arg("--version"),
        )
    {
        return;
    }
    if !dir.join("node_modules/playwright-core").exists() {
        streamhouse_test_support::require_service(
            "console/node_modules",
            "run `npm ci && npm run build` in console/ before building the binary",
        );
        return;
    }
    let output = Command::new("npm")
        .args(["run", "e2e"])
        .current_dir(&dir)
        .env("STREAMHOUSE_BIN", env!("CARGO_BIN_EXE_streamhouse"))
        .output()
        .expect("npm run e2e");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "npm run e2e failed ({}); screenshots in console/e2e/artifacts/\n{stdout}\n{stderr}",
        output.status
    );
    assert!(stdout.contains("# fail 0"), "{stdout}");
}
