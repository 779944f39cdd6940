//! Building a node from config: stores chosen by URL, the agent identity, the engine.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use object_store::ObjectStore;
use streamhouse_config::Config;
use streamhouse_engine::{Engine, EngineParts};
use streamhouse_metadata::AgentInfo;
use streamhouse_metrics::Metrics;
use streamhouse_storage::{InstrumentedStore, StorageCounters};
use streamhouse_types::SystemClock;

/// The agent id: configured, or generated once and kept in the data dir so a restarted
/// embedded node reclaims its own leases at once.
fn agent_id(config: &Config) -> anyhow::Result<String> {
    if let Some(id) = &config.node.agent_id {
        return Ok(id.clone());
    }
    let dir = config.data_dir_absolute();
    let path = dir.join("agent-id");
    match std::fs::read_to_string(&path) {
        Ok(id) if !id.trim().is_empty() => return Ok(id.trim().to_owned()),
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    }
    let id = format!("agent-{}", uuid::Uuid::new_v4().simple());
    write_atomically(&dir, &path, &id)?;
    Ok(id)
}

fn write_atomically(dir: &Path, path: &Path, contents: &str) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating data dir {}", dir.display()))?;
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, contents).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

/// Opens the stores the config names and starts the engine.
pub(crate) async fn start_engine(config: &Config, advertised_addr: &str) -> anyhow::Result<Engine> {
    std::fs::create_dir_all(config.data_dir_absolute())
        .with_context(|| format!("creating data dir {}", config.data_dir_absolute().display()))?;
    let object_url = config.object_store_url();
    let mut options: Vec<(String, String)> = config
        .object_store
        .options
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if config.is_remote_object_store() && !config.object_store.options.contains_key("timeout") {
        // object_store's per-request timeout; a timed-out request is retried by the writer.
        let timeout = config.object_store.request_timeout.as_millis();
        options.push(("timeout".to_owned(), format!("{timeout}ms")));
    }
    let local = streamhouse_storage::LocalWrites {
        direct_io: config.object_store.direct_io,
    };
    let opened = streamhouse_storage::open_object_store_with(&object_url, &options, local)
        .with_context(|| "opening the object store".to_string())?;
    let metadata =
        streamhouse_metadata::connect(&config.metadata_url(), config.metadata.max_connections)
            .await
            .with_context(|| "opening the metadata store".to_string())?;
    let mut agent = AgentInfo::new(agent_id(config)?, advertised_addr);
    agent.rack = config.node.rack.clone();
    // Every object-store request is counted (streamhouse_s3_*); the engine, the Kafka and
    // HTTP layers record into the same registry.
    let metrics = Metrics::new(env!("CARGO_PKG_VERSION"));
    let object_store: Arc<dyn ObjectStore> = Arc::new(
        InstrumentedStore::new(opened.store, Arc::new(StorageCounters::default()))
            .with_metrics(Arc::clone(&metrics)),
    );
    let engine = Engine::start(EngineParts {
        metadata,
        object_store,
        remote_store: opened.remote,
        config: config.engine.clone(),
        agent,
        clock: Arc::new(SystemClock),
        metrics,
    })
    .await
    .context("starting the engine")?;
    Ok(engine)
}
