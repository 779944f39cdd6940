//! The Kafka listener.
//!
//! Layer: above `engine` and `kafka-proto`; nothing imports it but the binary. It accepts
//! connections under a limit, runs one task per connection that answers requests in order,
//! decodes each request with `kafka-proto`, calls one handler per Kafka API (in
//! [`handlers`]), and maps engine errors to Kafka error codes in one place
//! ([`error`]). Shutdown stops accepting, lets in-flight requests finish, and closes.
#![warn(missing_docs)]

mod cluster;
mod connection;
pub mod error;
pub mod handlers;
mod listener;
mod topic_config;

pub use listener::{KafkaServer, ServerContext};
