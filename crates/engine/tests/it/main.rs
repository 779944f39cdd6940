//! Engine integration tests: the write path, the read path, fencing, faults, backpressure,
//! shutdown, retention, merge and GC — on the embedded stores (SQLite files and the local
//! filesystem), and in `cluster` on PostgreSQL and a real S3-API server process.

mod cluster;
mod harness;
mod housekeeping;
mod read_write;
mod resilience;
