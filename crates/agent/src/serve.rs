//! `streamhouse serve`: run until SIGINT/SIGTERM, then flush everything accepted and stop.

use std::time::Duration;

use anyhow::Context;
use streamhouse_admin_api::{AppState, HttpServer};
use streamhouse_config::{Config, ConfigFlags};
use streamhouse_groups::GroupCoordinator;
use streamhouse_kafka_server::KafkaServer;
use streamhouse_types::SystemClock;
use tokio_util::sync::CancellationToken;

use crate::{logging, node};

/// How long a graceful shutdown may take before in-flight uploads are abandoned.
const SHUTDOWN_DEADLINE: Duration = Duration::from_secs(30);

#[derive(Debug, clap::Args)]
pub(crate) struct ServeArgs {
    #[command(
        flatten,
        next_help_heading = "Configuration (defaults < file < STREAMHOUSE_SECTION__KEY env < flags)"
    )]
    config: ConfigFlags,
}

/// Loads the config, then starts the runtime with `node.worker_threads` workers (one fewer
/// than the CPUs this process may use, by default) and serves on it.
pub(crate) fn main(args: ServeArgs) -> anyhow::Result<()> {
    let config = Config::load(args.config.config.as_deref(), &args.config)?;
    let cpus = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let workers = config.node.worker_threads_or_default(cpus);
    crate::runtime(Some(workers))?.block_on(run(config, workers))
}

async fn run(config: Config, worker_threads: usize) -> anyhow::Result<()> {
    logging::init(&config.log);
    tracing::info!(
        config = %serde_json::to_string(&config.redacted()).unwrap_or_default(),
        worker_threads,
        "starting streamhouse {}",
        env!("CARGO_PKG_VERSION")
    );
    // Bind first, so the agent registers the address it really got.
    let kafka = KafkaServer::bind(config.kafka.clone())
        .await
        .with_context(|| format!("binding the Kafka listener on {}", config.kafka.listen))?;
    let kafka_addr = kafka
        .local_addr()
        .context("reading the Kafka listener address")?;
    let http = HttpServer::bind(&config.http.listen)
        .await
        .with_context(|| format!("binding the HTTP listener on {}", config.http.listen))?;
    let http_addr = http
        .local_addr()
        .context("reading the HTTP listener address")?;
    let engine = node::start_engine(&config, &kafka.advertised_addr()).await?;
    let groups = GroupCoordinator::new(
        engine.clone(),
        config.groups.clone(),
        config.engine.lease_ttl,
        std::sync::Arc::new(SystemClock),
    );
    let group_timers = groups.start();
    let stop_listener = CancellationToken::new();
    let listener = {
        let (engine, groups, engine_config, token) = (
            engine.clone(),
            groups.clone(),
            config.engine.clone(),
            stop_listener.clone(),
        );
        tokio::spawn(async move { kafka.run(engine, groups, &engine_config, token).await })
    };
    let http_state = AppState::new(
        engine.clone(),
        groups.clone(),
        config.http.clone(),
        config.engine.lease_ttl.as_millis() as i64,
        config.engine.default_partitions,
    );
    let stop_http = CancellationToken::new();
    let http_server = {
        let (state, token) = (http_state.clone(), stop_http.clone());
        tokio::spawn(async move {
            if let Err(error) = http.run(state, token).await {
                tracing::error!(%error, "HTTP listener failed");
            }
        })
    };
    tracing::info!(
        agent = engine.agent_id(),
        kafka = %kafka_addr,
        http = %http_addr,
        data_dir = %config.data_dir_absolute().display(),
        object_store = %config.redacted().object_store_url(),
        metadata = engine.metadata().backend(),
        "streamhouse is ready"
    );
    // Handlers are installed before announcing readiness, so no signal is missed.
    let shutdown = shutdown_signal().context("installing signal handlers")?;
    println!(
        "streamhouse is running (agent {}); Kafka on {kafka_addr}; HTTP on {http_addr}; press Ctrl-C to stop",
        engine.agent_id()
    );
    shutdown.await;
    // Report not-ready first, so load balancers move away; then stop taking requests, let
    // in-flight ones finish, then flush and release leases.
    http_state.start_draining();
    stop_listener.cancel();
    // Parked JoinGroup/SyncGroup requests are answered NOT_COORDINATOR, so their
    // connections can close and the members move to the agent that takes over.
    groups.shutdown().await;
    let _ = group_timers.await;
    if tokio::time::timeout(SHUTDOWN_DEADLINE, listener)
        .await
        .is_err()
    {
        tracing::warn!("Kafka connections did not finish in time");
    }
    stop_http.cancel();
    if tokio::time::timeout(SHUTDOWN_DEADLINE, http_server)
        .await
        .is_err()
    {
        tracing::warn!("HTTP requests did not finish in time");
    }
    tracing::info!("shutdown requested: flushing accepted data");
    engine.shutdown(SHUTDOWN_DEADLINE).await;
    Ok(())
}

/// Resolves on the first SIGINT or SIGTERM. The handlers are registered when this is
/// called, not when the future is first polled.
pub(crate) fn shutdown_signal() -> std::io::Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    Ok(async move {
        tokio::select! {
            _ = int.recv() => {}
            _ = term.recv() => {}
        }
    })
}
