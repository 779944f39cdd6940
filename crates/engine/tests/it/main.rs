//! Engine integration tests: the write path, the read path, fencing, faults, backpressure,
//! shutdown, retention, merge and GC — against real stores (SQLite files, the local
//! filesystem, PostgreSQL and a real S3-API server where noted).

mod cluster;
mod harness;
mod housekeeping;
mod read_write;
mod resilience;
