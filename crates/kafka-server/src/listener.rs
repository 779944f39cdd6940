//! Accepting connections: a bounded number at once, until shutdown.

use std::net::SocketAddr;
use std::sync::Arc;

use streamhouse_config::{EngineConfig, KafkaConfig};
use streamhouse_engine::Engine;
use streamhouse_groups::GroupCoordinator;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::Instrument;

use crate::cluster::split_host_port;
use crate::connection;

/// What every handler can reach.
#[derive(Debug)]
pub struct ServerContext {
    /// The log engine.
    pub engine: Engine,
    /// The consumer-group coordinator.
    pub groups: GroupCoordinator,
    /// Listener settings.
    pub config: KafkaConfig,
    /// The address advertised to clients.
    pub advertised: (String, i32),
    /// Partitions of auto-created topics (`engine.default_partitions`).
    pub default_partitions: i32,
    /// How long an agent stays live without heartbeats (`engine.lease_ttl`).
    pub lease_ttl_ms: i64,
    /// Cancelled when the server shuts down.
    pub shutdown: CancellationToken,
}

/// A bound Kafka listener. Bind first, so the agent can register the address it really
/// got (port 0 in tests), then start the engine and [`KafkaServer::run`].
#[derive(Debug)]
pub struct KafkaServer {
    listener: TcpListener,
    config: KafkaConfig,
    advertised: (String, i32),
}

impl KafkaServer {
    /// Binds `config.listen`. The advertised address defaults to the bound one.
    pub async fn bind(config: KafkaConfig) -> std::io::Result<Self> {
        let listener = TcpListener::bind(&config.listen).await?;
        let advertised = advertised(config.advertised_addr.as_deref(), listener.local_addr()?);
        Ok(Self {
            listener,
            config,
            advertised,
        })
    }

    /// The bound address (useful with port 0).
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// `host:port` clients are told to use.
    pub fn advertised_addr(&self) -> String {
        format!("{}:{}", self.advertised.0, self.advertised.1)
    }

    /// Serves until `shutdown` is cancelled, then waits for open connections to finish
    /// their current request and close.
    pub async fn run(
        self,
        engine: Engine,
        groups: GroupCoordinator,
        engine_config: &EngineConfig,
        shutdown: CancellationToken,
    ) {
        let context = Arc::new(ServerContext {
            engine,
            groups,
            advertised: self.advertised,
            default_partitions: engine_config.default_partitions,
            lease_ttl_ms: engine_config.lease_ttl.as_millis() as i64,
            shutdown,
            config: self.config,
        });
        let limit = Arc::new(Semaphore::new(context.config.max_connections as usize));
        let tracker = TaskTracker::new();
        let mut was_at_limit = false;
        loop {
            // Counted and logged once each time the limit is reached, not per connection.
            let at_limit = limit.available_permits() == 0;
            if at_limit && !was_at_limit {
                tracing::warn!(
                    max = context.config.max_connections,
                    "connection limit reached; not accepting until a connection closes"
                );
                context.engine.metrics().kafka.connection_limit_reached();
            }
            was_at_limit = at_limit;
            let permit = tokio::select! {
                permit = Arc::clone(&limit).acquire_owned() => match permit {
                    Ok(permit) => permit,
                    Err(_) => break,
                },
                () = context.shutdown.cancelled() => break,
            };
            let accepted = tokio::select! {
                accepted = self.listener.accept() => accepted,
                () = context.shutdown.cancelled() => break,
            };
            match accepted {
                Ok((socket, peer)) => {
                    let context = Arc::clone(&context);
                    let span = tracing::info_span!("kafka_connection", %peer);
                    tracker.spawn(
                        async move {
                            connection::serve(socket, peer, context).await;
                            drop(permit);
                        }
                        .instrument(span),
                    );
                }
                Err(error) => {
                    // Usually EMFILE; back off instead of spinning.
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
            }
        }
        drop(self.listener);
        tracker.close();
        tracker.wait().await;
        tracing::info!("kafka listener stopped");
    }
}

fn advertised(configured: Option<&str>, local: SocketAddr) -> (String, i32) {
    configured
        .and_then(split_host_port)
        .unwrap_or_else(|| (local.ip().to_string(), i32::from(local.port())))
}
