//! `streamhouse serve`: run until SIGINT/SIGTERM, then flush everything accepted and stop.

use std::time::Duration;

use anyhow::Context;
use streamhouse_config::{Config, ConfigFlags};

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

pub(crate) async fn run(args: ServeArgs) -> anyhow::Result<()> {
    let config = Config::load(args.config.config.as_deref(), &args.config)?;
    logging::init(&config.log);
    tracing::info!(
        config = %serde_json::to_string(&config.redacted()).unwrap_or_default(),
        "starting streamhouse {}",
        env!("CARGO_PKG_VERSION")
    );
    // The Kafka listener arrives with the protocol layer; until then the advertised
    // address is the default one clients will use.
    let engine = node::start_engine(&config, "127.0.0.1:9092").await?;
    tracing::info!(
        agent = engine.agent_id(),
        data_dir = %config.data_dir_absolute().display(),
        object_store = %streamhouse_config::Config::redacted(&config).object_store_url(),
        metadata = engine.metadata().backend(),
        "streamhouse is ready"
    );
    // Handlers are installed before announcing readiness, so no signal is missed.
    let shutdown = shutdown_signal().context("installing signal handlers")?;
    println!(
        "streamhouse is running (agent {}); press Ctrl-C to stop",
        engine.agent_id()
    );
    shutdown.await;
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
