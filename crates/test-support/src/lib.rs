//! Fixtures for StreamHouse tests (dev-dependency only).
//!
//! Real services, no mocks: [`postgres::TestDatabase`] creates and drops a database on the
//! local PostgreSQL server, [`s3::S3Server`] runs a real S3-API server process on a loopback
//! port, [`faults::FaultyStore`] wraps any object store to count, delay or fail requests, and
//! [`batches`] builds Kafka record batches.
//!
//! Services that are missing make [`require_service`] skip loudly — or fail when `CI=true`.

pub mod batches;
pub mod faults;
pub mod postgres;
pub mod s3;

/// Call when a service a test needs is unavailable: under `CI=true` this panics (a missing
/// service is a failure there); elsewhere it prints a loud notice and returns, and the
/// caller returns early.
pub fn require_service(what: &str, why: &str) {
    if std::env::var("CI").is_ok_and(|v| v == "true" || v == "1") {
        panic!("required test service {what} is unavailable under CI=true: {why}");
    }
    eprintln!(
        "\n*** SKIPPING: {what} is unavailable ({why}); set CI=true to make this a failure ***\n"
    );
}
